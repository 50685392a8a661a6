"""The teacher side: sign-in, the dashboard, reviews, export, upload, classes, class analytics, sources and
similar essays.

Every route of this blueprint requires a signed-in teacher, enforced once in `before_request`
rather than by a decorator on each view, so a new route cannot be left open by mistake; only the
sign-in page is public. What a teacher sees is scoped by `current_scope()` (storage.scope): the
submissions of the classes they teach, everything for an admin; every query the views make takes
it. Teacher pages hold students' names and essays: they are never cached.
"""

from __future__ import annotations

import time

from flask import Blueprint, Flask, Response, current_app, flash, redirect, request, session, url_for
from flask_login import LoginManager, current_user, logout_user

from ...storage.accounts import load_teacher
from ...storage.scope import Scope

bp = Blueprint("teacher", __name__, url_prefix="/teacher")
login_manager = LoginManager()
PUBLIC_ENDPOINTS = {"teacher.login"}


SEEN_KEY = "teacher_seen"  # when the signed-in teacher last made a request (epoch seconds), in the signed session


@bp.before_request
def require_teacher():
    """Send a signed-out visitor to the sign-in page (with where they were going, for GETs).

    A teacher idle for longer than TEACHER_IDLE_MINUTES is signed out first: teacher pages hold
    students' names and essays, and school computers are shared.
    """
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    if current_user.is_authenticated:
        now = int(time.time())
        idle = current_app.config.get("TEACHER_IDLE_MINUTES") or 0
        seen = session.get(SEEN_KEY)
        if not idle or (isinstance(seen, int) and now - seen <= idle * 60):
            session[SEEN_KEY] = now
            return None
        logout_user()
        session.clear()
        flash(f"You were signed out after {idle} minutes without activity. Sign in again to carry on.", "info")
    target = request.full_path.rstrip("?") if request.method == "GET" else None
    return redirect(url_for("teacher.login", next=target), code=303)


@bp.after_request
def private(response: Response) -> Response:
    """Names, essays and marks: no browser or proxy keeps a copy, no search engine lists them."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Robots-Tag"] = "noindex"
    return response


def current_scope() -> Scope:
    """What the signed-in account may see; nothing at all for a visitor who is not signed in (an
    error page rendered before the sign-in check, such as an over-large upload's)."""
    if not current_user.is_authenticated:
        return Scope.nothing()
    return Scope.of(current_user._get_current_object())


@login_manager.user_loader
def _load_user(user_id: str):
    return load_teacher(user_id)


def init_app(app: Flask) -> None:
    """Register the blueprint and Flask-Login."""
    from . import analytics, auth, classes, copying, dashboard, export, pack, review, upload  # noqa: F401 - the modules add their routes to `bp`

    # Uploaded files stay in memory (bounded by each request's size limit), never in temporary files.
    app.request_class = upload.InMemoryRequest
    login_manager.init_app(app)
    login_manager.login_view = "teacher.login"
    login_manager.session_protection = "basic"
    app.register_blueprint(bp)
