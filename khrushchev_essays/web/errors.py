"""Error pages: friendly HTML for people, JSON for the API. Nothing is stored on any error path."""

from __future__ import annotations

from flask import Flask, current_app, render_template, request
from werkzeug.exceptions import HTTPException, InternalServerError

from ..config import MAX_BODY_BYTES
from ..scoring import MAX_WORDS
from ..storage import db

MESSAGES = {
    400: ("Something was wrong with that request", "The page could not understand what was sent. Go back and try again."),
    404: ("Page not found", "There is nothing at this address. If you followed a feedback link, check that you copied all of it."),
    405: ("Not allowed", "This page cannot be used that way."),
    413: ("Too much text", f"That was more than the {MAX_BODY_BYTES // 1024} KB this site accepts at once. "
          f"An essay is limited to {MAX_WORDS:,} words: shorten it and submit again."),
    429: ("Too many requests", "Too many requests came from your address just now. Wait a minute and try again."),
    500: ("Something went wrong", "The site hit a problem and your essay was not saved. Please try again in a moment."),
}


def _wants_json() -> bool:
    return request.blueprint == "api" or request.path.startswith("/api/")


def handle_http_error(error: HTTPException):
    """Render an HTTP error as a page (or JSON under /api/), keeping the error's own status."""
    code = error.code or 500
    title, message = MESSAGES.get(code, (error.name, error.description or ""))
    # A route's own explanation (abort(404, description=...)) is more useful than the generic one.
    if code in (400, 404) and error.description and error.description != type(error).description:
        message = error.description
    if _wants_json():
        return {"status": "error", "error": f"{title}: {message}"}, code
    return render_template("errors/error.html", code=code, title=title, message=message), code


def handle_unexpected(error: Exception):
    """Any uncaught exception: roll back whatever was half-written, then the 500 page."""
    current_app.logger.exception("unhandled error on %s %s", request.method, request.path)
    db.session.rollback()
    return handle_http_error(InternalServerError())


def init_app(app: Flask) -> None:
    """Register the handlers for every HTTP error and for uncaught exceptions."""
    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(Exception, handle_unexpected)
