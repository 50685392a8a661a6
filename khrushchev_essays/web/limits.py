"""Rate limits on the requests that make the server mark an essay (Flask-Limiter).

Marking costs real CPU (10-80 ms an essay), and the essay form and the JSON API are open to
anyone: without a limit one script could keep the server busy for a whole school. Limits are per
client address and generous, because a class behind one school network address submits together
(`ESSAY_RATE_LIMIT`, default 120 a minute, shared by new essays and revisions; `API_RATE_LIMIT`,
default 60 a minute; `LOOK_AGAIN_RATE_LIMIT` for students' requests to look again at a mark,
default 30 a minute). Only POSTs count: reading questions and feedback is never limited.

Counts live in memory by default, which is right for one server process (`make run`); with several
processes, point `RATELIMIT_STORAGE_URI` at a shared store such as Redis. Behind a reverse proxy,
wrap the app in werkzeug's ProxyFix so the limit sees the student's address, not the proxy's.
A student who hits the limit keeps their essay: the practice blueprint shows the form again.
"""

from __future__ import annotations

from flask import Flask, current_app
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

limiter = Limiter(get_remote_address)


def _config(name: str):
    return lambda: current_app.config[name]


# Decorators for the views: one shared bucket for essays (new and revised), one for the API.
essay_limit = limiter.shared_limit(_config("ESSAY_RATE_LIMIT"), scope="essays", methods=["POST"])
api_limit = limiter.shared_limit(_config("API_RATE_LIMIT"), scope="api", methods=["POST"])
# Students' requests for a second look: a bucket of their own, so they never use up the essays'.
look_again_limit = limiter.shared_limit(_config("LOOK_AGAIN_RATE_LIMIT"), scope="look_again", methods=["POST"])


def init_app(app: Flask) -> None:
    """Attach the limiter (its storage comes from the app's RATELIMIT_* settings)."""
    limiter.init_app(app)
