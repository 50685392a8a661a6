"""Serve the app in production: apply the database migrations, then hand over to waitress."""

from __future__ import annotations

import logging
import os
import sys


def serve(host: str = "127.0.0.1", port: int = 5000, threads: int = 8) -> None:
    """Bring the database schema up to date and serve the app on host:port with waitress."""
    from flask_migrate import upgrade
    from waitress import serve as waitress_serve

    from .. import create_app
    from ..scoring import get_nlp
    from ..storage import db, restrict_sqlite_files
    from .views import rubrics

    # Files this process creates (the database, its WAL, a generated secret key) hold students'
    # data or protect it: nobody but the server's own user needs to read them.
    os.umask(0o077)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    app = create_app()
    with app.app_context():
        upgrade()
        restrict_sqlite_files(db.engine)
        # Read the rubrics and load spaCy now, so the first student does not wait for them.
        questions = rubrics()
        get_nlp()
    # Printed rather than logged: the migrations' logging set-up raises the root level to WARNING.
    print(f"Serving {len(questions)} questions ({', '.join(questions)}) on http://{host}:{port}/ "
          f"with {threads} threads; press Ctrl+C to stop.", file=sys.stderr, flush=True)
    waitress_serve(app, host=host, port=port, threads=threads, ident="khrushchev_essays")
