"""Signing in and out. Failed attempts are limited per email+IP and per IP (storage.accounts)."""

from __future__ import annotations

import time
from urllib.parse import urlsplit

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user

from ...storage.accounts import authenticate, begin_sign_in, clear_failures, end_sessions
from . import SEEN_KEY, bp
from .forms import ActionForm, LoginForm


def safe_next(target: str | None) -> str | None:
    """`target` if it is a path on this site's teacher or admin side, else None (no open redirects).

    Refused: absolute URLs, scheme-relative `//host`, backslashes (browsers read `/\\host` as a
    host), control characters, and anything outside /teacher/ and /admin/.
    """
    if not target or "\\" in target or any(ord(c) < 32 or ord(c) == 127 for c in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not parts.path.startswith(("/teacher/", "/admin/")) or target.startswith("//"):
        return None
    return target


def client_ip() -> str:
    """The address the request came from. Behind a reverse proxy, configure ProxyFix so this is the client's."""
    return request.remote_addr or "unknown"


@bp.context_processor
def teacher_globals():
    """The sign-out button's form (with its CSRF token) on every teacher page, and which pages exist."""
    return {"signout_form": ActionForm(formdata=None) if current_user.is_authenticated else None,
            "has_page": lambda endpoint: endpoint in current_app.view_functions}


@bp.route("/login", methods=["GET", "POST"])
def login():
    """The sign-in form; a correct email and password start a session and go to `next` or the dashboard."""
    form = LoginForm()
    if request.method == "GET":
        if current_user.is_authenticated:
            return redirect(safe_next(request.args.get("next")) or url_for("teacher.dashboard"))
        form.next.data = safe_next(request.args.get("next")) or ""
        return render_template("teacher/login.html", form=form)
    status = 200
    if form.validate_on_submit():
        email, ip = form.email.data, client_ip()
        throttle = begin_sign_in(email, ip)  # counted as a failure until the password proves right
        if throttle.refused:
            form.form_errors.append(
                f"Too many failed sign-ins. For your account's safety, try again in {throttle.minutes} "
                f"minute{'s' if throttle.minutes != 1 else ''}."
            )
            status = 429
        else:
            teacher = authenticate(email, form.password.data)
            if teacher is None:
                form.form_errors.append("That email and password do not match an account.")
                status = 401
            else:
                clear_failures(email, ip)
                # A fresh session at sign-in: nothing from before (a planted value) carries over.
                session.clear()
                login_user(teacher, remember=False)
                session[SEEN_KEY] = int(time.time())
                return redirect(safe_next(form.next.data) or url_for("teacher.dashboard"), code=303)
    else:
        status = 422 if request.method == "POST" else 200
    form.password.data = ""
    return render_template("teacher/login.html", form=form), status


@bp.post("/logout")
def logout():
    """Sign out (a POST with a CSRF token, so another site cannot sign a teacher out).

    The teacher's session token is rotated, so this ends the session everywhere: a copy of the
    cookie taken before (from a shared computer, a proxy log) no longer opens any page.
    """
    if current_user.is_authenticated:
        end_sessions(current_user._get_current_object())
    logout_user()
    session.clear()
    flash("You have signed out.", "info")
    return redirect(url_for("teacher.login"), code=303)
