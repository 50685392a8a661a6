"""The teacher side: sign-in, the dashboard, reviews, export, upload and class analytics.

Every route of this blueprint requires a signed-in teacher, enforced once in `before_request`
rather than by a decorator on each view, so a new route cannot be left open by mistake; only the
sign-in page is public. Teacher pages hold students' names and essays: they are never cached.
"""

from __future__ import annotations

from flask import Blueprint, Flask, Response, redirect, request, url_for
from flask_login import LoginManager, current_user

from ...storage.accounts import load_teacher

bp = Blueprint("teacher", __name__, url_prefix="/teacher")
login_manager = LoginManager()
PUBLIC_ENDPOINTS = {"teacher.login"}


@bp.before_request
def require_teacher():
    """Send a signed-out visitor to the sign-in page (with where they were going, for GETs)."""
    if request.endpoint in PUBLIC_ENDPOINTS or current_user.is_authenticated:
        return None
    target = request.full_path.rstrip("?") if request.method == "GET" else None
    return redirect(url_for("teacher.login", next=target), code=303)


@bp.after_request
def private(response: Response) -> Response:
    """Names, essays and marks: no browser or proxy keeps a copy, no search engine lists them."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Robots-Tag"] = "noindex"
    return response


@login_manager.user_loader
def _load_user(user_id: str):
    return load_teacher(user_id)


def init_app(app: Flask) -> None:
    """Register the blueprint and Flask-Login."""
    from . import analytics, auth, dashboard, export, review, upload  # noqa: F401 - the modules add their routes to `bp`

    # Uploaded files stay in memory (bounded by each request's size limit), never in temporary files.
    app.request_class = upload.InMemoryRequest
    login_manager.init_app(app)
    login_manager.login_view = "teacher.login"
    login_manager.session_protection = "basic"
    app.register_blueprint(bp)
