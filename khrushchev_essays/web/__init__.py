"""The web app: blueprints (practice, api, teacher, admin), forms, templates and static files."""

from __future__ import annotations

from pathlib import Path

from flask import Flask
from flask_migrate import Migrate
from flask_wtf.csrf import CSRFProtect

from ..storage import configure_engine, db, json_dumps, restrict_sqlite_files

MIGRATIONS_DIR = Path(__file__).resolve().parents[1] / "migrations"

csrf = CSRFProtect()
migrate = Migrate()


def init_app(app: Flask) -> None:
    """Attach the database, migrations, CSRF protection, blueprints, headers and error pages."""
    from . import admin, api, errors, limits, practice, request, security, teacher, views

    request.init_app(app)  # before any route is added: it bounds the `int` converter
    _proxy_fix(app)
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {"json_serializer": json_dumps, **app.config.get("SQLALCHEMY_ENGINE_OPTIONS", {})}
    db.init_app(app)
    with app.app_context():
        configure_engine(db.engine, app.config["SQLITE_BUSY_TIMEOUT_MS"])
        restrict_sqlite_files(db.engine)  # created 0600 before anything opens it
    migrate.init_app(app, db, directory=str(MIGRATIONS_DIR))
    csrf.init_app(app)
    limits.init_app(app)

    app.register_blueprint(practice.bp)
    app.register_blueprint(api.bp)
    # The JSON API takes no cookies and stores nothing, so there is no session to forge requests in.
    csrf.exempt(api.bp)
    teacher.init_app(app)
    app.register_blueprint(admin.bp)
    app.add_url_rule("/healthz", "healthz", healthz)

    views.init_app(app)
    security.init_app(app)
    errors.init_app(app)


def healthz():
    """200 "ok" while the process serves requests, for a proxy's health check (no database, no marking)."""
    return "ok\n", 200, {"Content-Type": "text/plain; charset=utf-8"}


PROXY_HEADERS = ("for", "proto", "host", "port", "prefix")


def _proxy_fix(app: Flask) -> None:
    """Trust X-Forwarded-* from the number of proxies the PROXY_FIX_X_* settings name (none by default)."""
    counts = {f"x_{name}": int(app.config.get(f"PROXY_FIX_X_{name.upper()}") or 0) for name in PROXY_HEADERS}
    if any(counts.values()):
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, **counts)  # type: ignore[method-assign]
