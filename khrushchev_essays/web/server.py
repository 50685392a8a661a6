"""Serve the app in production: apply the database migrations, then hand over to a WSGI server.

One process (the default, and the only choice off Linux and macOS): waitress, with worker threads.
Several (`serve --workers N`): gunicorn's master forks N worker processes from one app built by
`create_app()`, each with its own threads, so marking uses every core instead of sharing one GIL.

Either way the server is sized so that idle connections cannot shut anyone out (issue 11). With
waitress's defaults (100 connections, idle ones closed after 120 s) a hundred idle keep-alive
connections, one script or a room of open tabs, stopped it accepting anyone for two minutes. An
idle connection costs a file descriptor and a few kilobytes, not a thread (waitress hands a
connection to a thread only once a whole request has arrived; the gunicorn worker here waits for
a new connection's first bytes in its poller, see `IdleSafeThreadWorker`), so the limits are high
and idle connections are closed soon.

Two workers share nothing in memory, so nothing that must agree between them lives there:
sessions are signed cookies under one SECRET_KEY (generated once into the instance folder by the
master, before the fork) and a teacher's is checked against a token in the database, the sign-in
throttle is database rows, the retraining lock is a file lock, and a retrained calibrator or a
newly registered source is noticed by its file's mtime. Only the
rate-limit counts would live in each worker's memory, so several workers refuse to start unless
`RATELIMIT_STORAGE_URI` names a shared store (Redis) or rate limiting is turned off.
"""

from __future__ import annotations

import gc
import logging
import os
import sys
from typing import Any

try:
    import resource  # POSIX only: the descriptor limit is raised where there is one to raise
except ImportError:  # pragma: no cover - Windows
    resource = None  # type: ignore[assignment]

# --- waitress (one process) ---------------------------------------------------------------------
CONNECTION_LIMIT = 1000  # open connections at once, idle ones included (waitress's default: 100)
CHANNEL_TIMEOUT = 30  # seconds before an idle connection is closed (default 120)
CLEANUP_INTERVAL = 10  # how often idle connections are looked for (default 30)
BACKLOG = 1024  # connections the kernel queues before the server accepts them
# Nothing the app takes is larger than a teacher's upload (25 MB); waitress would otherwise spool
# up to 1 GB of a body to disk before the app could refuse it.
MAX_REQUEST_BODY_BYTES = 26 * 1024 * 1024

# --- gunicorn (several processes) ---------------------------------------------------------------
WORKER_CONNECTIONS = 1000  # per worker, idle ones included
KEEPALIVE = 5  # seconds an idle connection (kept alive, or new and silent) is held open
WORKER_TIMEOUT = 120  # a worker silent this long is restarted (an upload of 200 essays takes ~20 s)
GRACEFUL_TIMEOUT = 30  # on stop or restart, requests in progress get this long to finish

ACCESS_LOG_FORMAT = '%(h)s "%(r)s" %(s)s %(B)s %(M)sms pid=%(p)s'


class ServeError(RuntimeError):
    """The server cannot start as asked; the message says why and what to change."""


def prepare_app(workers: int = 1):
    """Build the app, bring the database schema up to date and load what the first request needs."""
    from flask_migrate import upgrade

    from .. import create_app
    from ..scoring import get_nlp, score
    from ..scoring.engine import warm_up_text
    from ..storage import db, restrict_sqlite_files
    from .views import rubrics

    app = create_app()
    if workers > 1 and app.config.get("RATELIMIT_ENABLED", True) \
            and str(app.config.get("RATELIMIT_STORAGE_URI", "memory://")).startswith("memory://"):
        raise ServeError(
            f"{workers} workers would each count rate limits in their own memory, letting {workers} times as many "
            "essays through: set KHRUSHCHEV_RATELIMIT_STORAGE_URI to a shared store (e.g. redis://127.0.0.1:6379/0), "
            "or KHRUSHCHEV_RATELIMIT_ENABLED=false to serve without rate limits")
    with app.app_context():
        upgrade()
        restrict_sqlite_files(db.engine)
        # Read the rubrics, load spaCy and mark one essay a question now (building what the engine
        # builds at its first score), so the first student does not wait, and forked workers share it.
        get_nlp()
        for qid, rubric in rubrics().items():
            score(warm_up_text(rubric), qid)
        warm_up(app)
        # Forked workers must not share the migration's connections: each opens its own.
        db.engine.dispose()
    # Everything built so far lives as long as the process: keep it out of the garbage collector's
    # sight. Otherwise the first requests pay for full collections over the whole engine (100 ms and
    # more), and forked workers copy the pages the collector touches.
    gc.collect()
    gc.freeze()
    return app


def warm_up(app) -> None:
    """Do now what the first request of each kind would otherwise do, writing nothing.

    Measured before this: a first essay-form POST took 270 ms against 40 ms for the second, a
    first feedback page 280 ms against 20 ms, a first API call 110 ms against 15 ms. The time went
    on compiling Jinja templates (each is compiled at its first render), on SQLAlchemy's first
    INSERT, which adapts every column type to the database's dialect, and on the sources' index
    (built at the first essay). Both are kept per process, and done here they are inherited by
    every forked worker. Needs an app context.
    """
    from sqlalchemy.orm import configure_mappers

    from ..sources import marking_index
    from ..storage import db

    marking_index(app.instance_path)  # the registered sources' index, and the rubrics it reads
    env = app.jinja_env
    for name in env.list_templates(filter_func=lambda n: n.endswith((".html", ".txt", ".svg", ".xml"))):
        env.get_template(name)
    configure_mappers()
    dialect = db.engine.dialect
    for table in db.metadata.sorted_tables:  # compiled, never executed
        for statement in (table.insert(), table.select(), table.update(), table.delete()):
            statement.compile(dialect=dialect)


def warm_worker(app, log=None) -> None:
    """gunicorn's post_fork hook: mark the warm-up essays again and open a database connection in
    the new worker, before it takes a request.

    A forked worker shares the master's warmed engine, but the first time it writes to those pages
    (spaCy's caches, the word-form table) the kernel copies them, and it has no database connection
    yet: its first request took about three times as long as its second. Done here, a worker's
    start pays for it instead of a student.
    """
    import time

    from sqlalchemy import text

    from ..scoring import score
    from ..scoring.engine import warm_up_text
    from ..storage import db
    from .views import rubrics

    start = time.perf_counter()
    with app.app_context():
        for qid, rubric in rubrics().items():
            score(warm_up_text(rubric), qid)
        db.session.execute(text("SELECT 1"))
        db.session.remove()
    if log is not None:
        log.info("worker %d warmed up in %.0f ms", os.getpid(), (time.perf_counter() - start) * 1000)


# Threads per process when none are asked for. Marking is CPU-bound Python, so threads of one
# process take turns on its GIL: with several workers, two threads each keep a worker busy while
# one request waits on the database, and queue the rest fairly in the socket instead of switching
# between them every few milliseconds. Measured with `make bench-web` (2 workers, 8 clients, the
# API, on 2 cores): 8 threads a worker, 317 requests/s and p95 79 ms; 2 threads, 437 and 33 ms;
# 1 thread, 451 and 23 ms. One waitress process keeps 8, so slow clients cannot hold it up.
WAITRESS_THREADS = 8
GUNICORN_THREADS = 2


def default_threads(workers: int) -> int:
    return GUNICORN_THREADS if workers > 1 else WAITRESS_THREADS


def serve(host: str = "127.0.0.1", port: int = 5000, threads: int | None = None, workers: int = 1,
          access_log: str | None = None) -> None:
    """Bring the database schema up to date and serve the app on host:port (`threads` per
    process: by default 8 for one waitress process, 2 for each of several gunicorn workers)."""
    threads = threads or default_threads(workers)
    # Files this process creates (the database, its WAL, a generated secret key) hold students'
    # data or protect it: nobody but the server's own user needs to read them.
    os.umask(0o077)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if workers > 1 and sys.platform == "win32":
        raise ServeError("--workers needs gunicorn, which does not run on Windows: serve one process with more --threads")
    if workers < 2 and access_log:
        raise ServeError("--access-log is written by gunicorn's workers: use it with --workers 2 or more")
    app = prepare_app(workers)
    questions = ", ".join(app.extensions["khrushchev_rubrics"])
    how = f"{workers} gunicorn workers of {threads} threads" if workers > 1 else f"waitress with {threads} threads"
    # Printed rather than logged: the migrations' logging set-up raises the root level to WARNING.
    print(f"Serving questions {questions} on http://{host}:{port}/ with {how}; press Ctrl+C to stop.",
          file=sys.stderr, flush=True)
    if workers > 1:
        _gunicorn(app, host, port, workers, threads, access_log)
    else:
        _waitress(app, host, port, threads)


def waitress_settings(threads: int, behind_proxy: bool = False) -> dict[str, Any]:
    """waitress's keyword arguments: the sizes above, within what this process may open.

    waitress deletes X-Forwarded-* headers it was not told to trust; with `behind_proxy` (any
    PROXY_FIX_* setting) they are left for the app's ProxyFix, which trusts only as many as set.
    """
    limit = CONNECTION_LIMIT
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE) if resource else (-1, -1)
    wanted = limit + threads + 64  # the listener, the database, log files, spaCy's data
    if resource and soft != resource.RLIM_INFINITY and soft < wanted:
        raised = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (raised, hard))
        limit = min(limit, raised - threads - 64)
    return {
        "threads": threads,
        "connection_limit": max(limit, 100),
        "channel_timeout": CHANNEL_TIMEOUT,
        "cleanup_interval": CLEANUP_INTERVAL,
        "backlog": BACKLOG,
        "max_request_body_size": MAX_REQUEST_BODY_BYTES,
        # poll() has no limit on descriptor numbers; select() stops at 1024.
        "asyncore_use_poll": True,
        "clear_untrusted_proxy_headers": not behind_proxy,
        "ident": "khrushchev_essays",
    }


def _waitress(app, host: str, port: int, threads: int) -> None:
    from waitress import serve as waitress_serve

    from . import PROXY_HEADERS

    behind_proxy = any(app.config.get(f"PROXY_FIX_X_{name.upper()}") for name in PROXY_HEADERS)
    waitress_serve(app, host=host, port=port, **waitress_settings(threads, behind_proxy))


def gunicorn_settings(host: str, port: int, workers: int, threads: int, access_log: str | None) -> dict[str, Any]:
    """gunicorn's settings for `serve --workers N`."""
    settings: dict[str, Any] = {
        "bind": [f"[{host}]:{port}" if ":" in host else f"{host}:{port}"],
        "workers": workers,
        "threads": threads,
        "worker_class": "khrushchev_essays.web.server.IdleSafeThreadWorker",
        "worker_connections": WORKER_CONNECTIONS,
        "keepalive": KEEPALIVE,
        "timeout": WORKER_TIMEOUT,
        "graceful_timeout": GRACEFUL_TIMEOUT,
        "backlog": BACKLOG,
        # The app is built (migrations, spaCy) once in the master and shared by the forked workers.
        "preload_app": True,
        # X-Forwarded-* are the app's business (PROXY_FIX_* settings), not the server's.
        "forwarded_allow_ips": "",
        "proc_name": "khrushchev_essays",
        # No runtime control socket in $HOME (gunicorn 25+): two servers would fight over it.
        "control_socket_disable": True,
        "errorlog": "-",
        "loglevel": "info",
    }
    if access_log:
        settings.update(accesslog=access_log, access_log_format=ACCESS_LOG_FORMAT)
    return settings


def _gunicorn(app, host: str, port: int, workers: int, threads: int, access_log: str | None) -> None:
    from gunicorn.app.base import BaseApplication

    class Application(BaseApplication):
        def load_config(self) -> None:
            for key, value in gunicorn_settings(host, port, workers, threads, access_log).items():
                self.cfg.set(key, value)
            self.cfg.set("post_fork", lambda server, worker: warm_worker(app, server.log))

        def load(self):
            return app

    Application().run()


def _idle_safe_worker():
    """gunicorn's threaded worker, but a new connection waits for its first bytes in the poller.

    The stock gthread worker gives each new connection a thread for up to five seconds while it
    waits for the request, so a few dozen connections that send nothing hold every thread and a
    real student queues behind them. Here a new connection joins the connections gunicorn already
    parks in its poller (a kept-alive or deferred connection), and takes a thread only once it has
    something to read; a silent one is closed after KEEPALIVE seconds.
    """
    import errno
    import selectors
    import time
    from functools import partial

    from gunicorn.workers.gthread import TConn, ThreadWorker

    class IdleSafeThreadWorker(ThreadWorker):
        def accept(self, listener) -> None:
            try:
                client_sock, client_addr = listener.accept()
            except OSError as e:
                if e.errno not in (errno.EAGAIN, errno.ECONNABORTED, errno.EWOULDBLOCK):
                    raise
                return
            self.nr_conns += 1
            conn = TConn(self.cfg, client_sock, client_addr, listener.getsockname())  # non-blocking
            conn.timeout = time.monotonic() + self.cfg.keepalive
            self.pending_conns.append(conn)
            self.poller.register(conn.sock, selectors.EVENT_READ, partial(self.on_pending_socket_readable, conn))

    return IdleSafeThreadWorker


def __getattr__(name: str):
    # gunicorn imports the worker class by name in each worker; build it only then, so importing
    # this module (waitress, Windows) never needs gunicorn.
    if name == "IdleSafeThreadWorker":
        return _idle_safe_worker()
    raise AttributeError(name)
