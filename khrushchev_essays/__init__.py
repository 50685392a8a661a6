"""Practise and mark A-level History essays on Khrushchev's USSR (1953-64).

This module holds the Flask application factory and nothing else. Flask is imported inside the
function so that `import khrushchev_essays.scoring` (the engine, used alone by scripts and the
CLI) never loads the web stack.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def create_app(test_config: Mapping[str, Any] | None = None):  # -> flask.Flask
    """Build the web app: config, database, migrations, CSRF, blueprints and error pages.

    Settings come from `khrushchev_essays.config`, then `instance/config.py`, then the environment
    (`SECRET_KEY`, `DATABASE_URL`, `KHRUSHCHEV_*`), then `test_config`. The instance folder is
    `KHRUSHCHEV_INSTANCE_PATH` when set, else Flask's default (`instance/` beside the package).
    """
    import os

    from flask import Flask

    from . import config
    from .web import init_app

    app = Flask(__name__, instance_path=config.instance_path_override(), instance_relative_config=True,
                template_folder="web/templates", static_folder="web/static")
    config.private_folder(app.instance_path)
    app.config.from_object(config)
    app.config.from_pyfile("config.py", silent=True)
    app.config.from_prefixed_env("KHRUSHCHEV")
    if os.environ.get("DATABASE_URL", "").strip():
        app.config["SQLALCHEMY_DATABASE_URI"] = config.database_url(app.instance_path)
    if test_config is not None:
        app.config.from_mapping(test_config)
    app.config.setdefault("SQLALCHEMY_DATABASE_URI", config.database_url(app.instance_path))
    app.config["TRUSTED_HOSTS"] = config.trusted_hosts(app.config.get("TRUSTED_HOSTS"))
    app.config["PUBLIC_URL"] = config.public_url(app.config.get("PUBLIC_URL"))
    app.config["TIMEZONE_INFO"] = config.timezone_setting(app.config.get("TIMEZONE"))
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = config.secret_key(app.instance_path)

    init_app(app)
    return app
