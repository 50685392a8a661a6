"""The database handle and its per-connection set-up.

Every backend: no NUL character reaches the database (PostgreSQL cannot store one; see
NUL_REPLACEMENT), and ids beyond what an INTEGER column holds name no row (MAX_INTEGER).

SQLite is the embedded default, so every connection gets the pragmas that make it safe for a
multi-threaded server: WAL (readers do not block the writer), a busy timeout (writers queue up
instead of failing with "database is locked"), enforced foreign keys (SQLite ignores them
unless told) and a lower() that folds every script's case, as PostgreSQL's does. PostgreSQL
needs none of this.
"""

from __future__ import annotations

import json
import os
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import DateTime, MetaData, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

# Stable constraint names, so Alembic migrations can alter constraints on SQLite and PostgreSQL alike.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base for every model: shared metadata with the naming convention."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)

# The largest id an INTEGER column holds on every backend: 32 bits on PostgreSQL (SQLite's hold 64).
# A larger number from a URL or a form names no row; PostgreSQL refuses even to compare with one
# ("integer out of range": a 500), and SQLite cannot bind 2**63 or more (OverflowError).
MAX_INTEGER = 2**31 - 1


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every backend.

    SQLite has no time zones and hands back naive datetimes; this stores UTC and re-attaches the
    zone on the way out, so comparisons and ISO output never mix naive and aware values.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: pass an aware UTC datetime")
        return value.astimezone(timezone.utc)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


def utcnow() -> datetime:
    """The current time, aware, in UTC."""
    return datetime.now(timezone.utc)


# PostgreSQL cannot hold U+0000 in a text column, nor as \u0000 in JSONB, and refuses even to
# compare with it: a NUL in a search box, an email or a comment was a 500 there and stored as it
# was on SQLite. Every backend stores (and looks up) U+FFFD instead, one character for one, so
# offsets into a stored text stay right.
NUL, NUL_REPLACEMENT = "\x00", "\ufffd"


def without_nul(value: Any) -> Any:
    """`value` with NUL replaced in every string it holds (dict keys, lists, tuples too)."""
    if isinstance(value, str):
        return value.replace(NUL, NUL_REPLACEMENT) if NUL in value else value
    if isinstance(value, dict):
        return {without_nul(k): without_nul(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(without_nul(v) for v in value)
    return value


def json_dumps(value: Any) -> str:
    """The JSON columns' serialiser: json.dumps, without NUL (see NUL_REPLACEMENT)."""
    return json.dumps(without_nul(value))


def configure_engine(engine: Engine, busy_timeout_ms: int) -> None:
    """Keep NUL out of every statement's parameters; install the SQLite pragmas on every new connection."""

    @event.listens_for(engine, "before_cursor_execute", retval=True)
    def _replace_nul(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool):
        return statement, [without_nul(p) for p in parameters] if executemany else without_nul(parameters)

    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _sqlite_pragmas(dbapi_connection: Any, connection_record: Any) -> None:
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA foreign_keys = ON")
            # NORMAL is durable in WAL mode except for the last commits on power loss; FULL costs a
            # sync per submission for no benefit a student would notice.
            cursor.execute("PRAGMA synchronous = NORMAL")
        finally:
            cursor.close()
        # SQLite's lower() (and so ILIKE, which SQLAlchemy writes as lower() LIKE lower()) folds
        # ASCII only: a search for "ольга" missed "Ольга" here but not on PostgreSQL. Python's
        # str.lower folds every script, as PostgreSQL does.
        dbapi_connection.create_function("lower", 1, _lower, deterministic=True)


def _lower(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


def restrict_sqlite_files(engine: Engine) -> None:
    """Make the SQLite database and its WAL files readable by their owner only (0600).

    They hold students' names, essays and password hashes. A missing database file is created
    empty with mode 0600 before SQLite opens it, whatever the umask: SQLite then creates the WAL
    and shared-memory files with the database file's mode. A database created by an earlier run
    under a looser umask is tightened too. No-op for other databases and for in-memory SQLite.
    """
    if engine.dialect.name != "sqlite" or not engine.url.database or engine.url.database == ":memory:":
        return
    try:  # an empty file is a valid, empty SQLite database
        os.close(os.open(engine.url.database, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        pass
    except OSError:
        return  # a folder that does not exist: SQLite's own error, when it opens, says so
    for suffix in ("", "-wal", "-shm"):
        path = Path(engine.url.database + suffix)
        if path.exists():
            os.chmod(path, 0o600)
