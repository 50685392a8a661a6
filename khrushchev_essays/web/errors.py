"""Error pages: friendly HTML for people, JSON for the API. Nothing is stored on any error path."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask, Response, current_app, render_template, request
from flask_login import current_user
from werkzeug.exceptions import HTTPException, InternalServerError, RequestEntityTooLarge, SecurityError

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


# The pages that take files answer a body over their own limit with their form and a message
# (endpoint -> view of no arguments); each module adds its page (teacher/upload.py, copying.py).
TOO_LARGE_VIEWS: dict[str, Callable[[], Any]] = {}


def refuse_oversized_body() -> None:
    """A declared Content-Length over the limit is refused on every route, before any view or
    form reads (or ignores) the body; a body without a length is refused when it is read."""
    limit = request.max_content_length
    if limit is not None and request.content_length is not None and request.content_length > limit:
        raise RequestEntityTooLarge()


def handle_too_large(error: RequestEntityTooLarge):
    """The one answer to a body over the limit, on every route: a 413 page or JSON, never a 500.

    The limit can be hit anywhere the body is read (the CSRF check reads every POST's form before
    any view runs, signed in or not), so this is registered once for the app, not per blueprint,
    and never re-raises (an exception raised in an error handler would become a 500).
    """
    view = TOO_LARGE_VIEWS.get(request.endpoint or "")
    # The pages that take files are teachers' pages: a signed-out visitor gets the site's page.
    if view is not None and current_user.is_authenticated:
        return view()
    return handle_http_error(error)


def handle_untrusted_host(error: SecurityError):
    """A Host header outside TRUSTED_HOSTS: a plain 400 (no page can link its own stylesheet,
    since no URL can be built for a host this site does not serve)."""
    message = "This site does not answer to that host name."
    if _wants_json():
        return {"status": "error", "error": message}, 400
    return Response(f"400 Bad Request: {message}\n", 400, mimetype="text/plain")


def handle_unexpected(error: Exception):
    """Any uncaught exception: roll back whatever was half-written, then the 500 page."""
    current_app.logger.exception("unhandled error on %s %s", request.method, request.path)
    db.session.rollback()
    return handle_http_error(InternalServerError())


def init_app(app: Flask) -> None:
    """Register the handlers for every HTTP error and for uncaught exceptions."""
    app.before_request_funcs.setdefault(None, []).insert(0, refuse_oversized_body)  # first of all
    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(RequestEntityTooLarge, handle_too_large)
    app.register_error_handler(SecurityError, handle_untrusted_host)
    app.register_error_handler(Exception, handle_unexpected)
