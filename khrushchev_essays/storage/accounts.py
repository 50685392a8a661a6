"""Teacher accounts: creating them, checking passwords, and limiting failed sign-ins.

Passwords are hashed with werkzeug.security (scrypt by default), never stored or logged. A
sign-in with an unknown email still checks a password against a dummy hash, so the time taken
does not tell anyone which emails have accounts.

Throttling: failed sign-ins are rows of `login_attempts`. Within `WINDOW`, more than
`MAX_FAILURES_PER_ACCOUNT` failures for one email from one IP, or `MAX_FAILURES_PER_IP` for any
emails from one IP, refuse further attempts from there until the oldest counted failure ages
out. Keyed on email+IP, a stranger cannot lock a teacher out from elsewhere; the per-IP limit
stops one machine from trying a password against every account.

The check and the record are one step (`begin_sign_in`): every attempt is recorded as a failure,
under a lock, before its password is checked, and a correct password clears it again. Checked and
recorded apart, 40 concurrent wrong passwords all passed the check before any was recorded and
got 11 tries instead of 5.

Signing out (`end_sessions`) rotates the teacher's session token, as a password reset does, so a
copy of the session cookie stops working too.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, text
from werkzeug.security import check_password_hash, generate_password_hash

from .db import db, utcnow
from .queries import parse_int
from .teachers import EMAIL_MAX, LoginAttempt, Teacher, new_session_token

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 1024  # scrypt of a megabyte "password" is a cheap way to burn CPU
WINDOW = timedelta(minutes=15)
MAX_FAILURES_PER_ACCOUNT = 5
MAX_FAILURES_PER_IP = 30
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_DUMMY_HASH = generate_password_hash("not a real password: timing only")


class AccountError(ValueError):
    """An account cannot be created or changed; the message says why, for a person."""


def normalise_email(email: str) -> str:
    """Emails compare case-insensitively and without surrounding spaces."""
    return (email or "").strip().lower()


def check_new_password(password: str) -> None:
    """Raise AccountError for a password too short or too long to accept."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"the password must be at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise AccountError(f"the password must be at most {MAX_PASSWORD_LENGTH} characters")


def create_teacher(email: str, password: str, name: str | None = None, reset: bool = False,
                   admin: bool = False) -> Teacher:
    """Create a teacher account, or with `reset` set a new password on an existing one.

    The first account made is an admin (someone must be able to manage the others); later ones
    are teachers unless `admin`. A reset rotates the session token, which signs the teacher out
    everywhere and leaves the role as it was, unless `admin` promotes the account.
    """
    email = normalise_email(email)
    if not _EMAIL.match(email) or len(email) > EMAIL_MAX:
        raise AccountError(f"{email!r} is not an email address")
    check_new_password(password)
    teacher = find_teacher(email)
    if teacher is not None and not reset:
        raise AccountError(f"there is already a teacher with the email {email} (use --reset-password to change it)")
    if teacher is None:
        if reset:
            raise AccountError(f"there is no teacher with the email {email}")
        first = db.session.scalar(select(func.count()).select_from(Teacher)) == 0
        teacher = Teacher(email=email, role="admin" if admin or first else "teacher")
        db.session.add(teacher)
    if admin:
        teacher.role = "admin"  # with a reset too: promotes an existing teacher
    teacher.password_hash = generate_password_hash(password)
    teacher.session_token = new_session_token()
    teacher.active = True
    if name:
        teacher.name = name.strip()[:80]
    db.session.commit()
    return teacher


def list_teachers() -> list[Teacher]:
    """Every account, admins first, then by email."""
    return list(db.session.scalars(select(Teacher).order_by(Teacher.role, Teacher.email)).all())


def set_active(email: str, active: bool) -> Teacher:
    """Deactivate (or reactivate) an account. Deactivating rotates the session token, which signs the
    teacher out of every browser at their next request; the row stays, so their reviews keep their name."""
    teacher = find_teacher(email)
    if teacher is None:
        raise AccountError(f"there is no teacher with the email {normalise_email(email)}")
    if not active and teacher.is_admin and teacher.active:
        others = db.session.scalar(select(func.count()).select_from(Teacher).where(
            Teacher.role == "admin", Teacher.active.is_(True), Teacher.id != teacher.id))
        if not others:
            raise AccountError(f"{teacher.email} is the only active admin; make another admin first")
    teacher.active = active
    teacher.session_token = new_session_token()
    db.session.commit()
    return teacher


def find_teacher(email: str) -> Teacher | None:
    """The teacher with this email (any case), or None."""
    return db.session.scalar(select(Teacher).where(Teacher.email == normalise_email(email)))


def load_teacher(user_id: str) -> Teacher | None:
    """The teacher a session's user id ("<id>:<session token>") names, if still valid and active."""
    teacher_id, _, token = (user_id or "").partition(":")
    number = parse_int(teacher_id)
    if number is None or not token:
        return None
    teacher = db.session.get(Teacher, number)
    if teacher is None or not teacher.active or teacher.session_token != token:
        return None
    return teacher


def authenticate(email: str, password: str) -> Teacher | None:
    """The active teacher whose email and password these are, or None (in about the same time either way)."""
    teacher = find_teacher(email) if len(password) <= MAX_PASSWORD_LENGTH else None
    if teacher is None or not teacher.active:
        check_password_hash(_DUMMY_HASH, password[:MAX_PASSWORD_LENGTH])
        return None
    if not check_password_hash(teacher.password_hash, password):
        return None
    teacher.last_sign_in_at = utcnow()
    db.session.commit()
    return teacher


@dataclass(frozen=True, slots=True)
class Throttle:
    """Whether sign-in is refused from here for this email, and for how long."""

    refused: bool
    retry_after: timedelta = timedelta(0)

    @property
    def minutes(self) -> int:
        return max(1, math.ceil(self.retry_after.total_seconds() / 60))


def sign_in_throttle(email: str, ip: str, now: datetime | None = None) -> Throttle:
    """Refuse when this email+IP, or this IP alone, has too many recent failures."""
    now = now or utcnow()
    since = now - WINDOW
    email = normalise_email(email)[:EMAIL_MAX]
    for where, limit in (
        ((LoginAttempt.email == email, LoginAttempt.ip == ip), MAX_FAILURES_PER_ACCOUNT),
        ((LoginAttempt.ip == ip,), MAX_FAILURES_PER_IP),
    ):
        times = db.session.scalars(
            select(LoginAttempt.created_at).where(*where, LoginAttempt.created_at > since)
            .order_by(LoginAttempt.created_at.desc()).limit(limit)
        ).all()
        if len(times) >= limit:
            # Allowed again once the oldest of the last `limit` failures leaves the window.
            return Throttle(True, times[-1] + WINDOW - now)
    return Throttle(False)


def _lock_attempts() -> None:
    """Serialise sign-in attempts until the current transaction ends, on SQLite and PostgreSQL.

    SQLite: BEGIN IMMEDIATE takes the database's write lock before the count, so a second
    attempt's count waits for the first one's insert (the busy timeout queues it). PostgreSQL: a
    table lock that conflicts with itself does the same. Sign-ins are rare: nothing else waits.
    """
    dialect = db.session.get_bind().dialect.name
    if dialect == "sqlite":
        db.session.commit()  # the driver must not be inside a transaction of its own already
        db.session.execute(text("BEGIN IMMEDIATE"))
    elif dialect == "postgresql":
        db.session.execute(text("LOCK TABLE login_attempts IN SHARE ROW EXCLUSIVE MODE"))


def begin_sign_in(email: str, ip: str, now: datetime | None = None) -> Throttle:
    """Atomically: refuse when over the limit, else record this attempt as a failure.

    Call `clear_failures` when the password turns out to be right. Counting an attempt before
    its password is checked is what makes the limit hold for concurrent attempts.
    """
    now = now or utcnow()
    try:
        _lock_attempts()
        throttle = sign_in_throttle(email, ip, now)
        if not throttle.refused:
            _add_failure(email, ip, now)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return throttle


def _add_failure(email: str, ip: str, now: datetime) -> None:
    db.session.execute(delete(LoginAttempt).where(LoginAttempt.created_at <= now - WINDOW))
    db.session.add(LoginAttempt(email=normalise_email(email)[:EMAIL_MAX], ip=ip[:64], created_at=now))


def end_sessions(teacher: Teacher) -> None:
    """Sign the teacher out everywhere: every session cookie issued so far stops working."""
    teacher.session_token = new_session_token()
    db.session.commit()


def record_failure(email: str, ip: str, now: datetime | None = None) -> None:
    """Note a failed sign-in, and forget failures older than the window."""
    _add_failure(email, ip, now or utcnow())
    db.session.commit()


def clear_failures(email: str, ip: str) -> None:
    """After a successful sign-in, this email's failures from this IP no longer count."""
    db.session.execute(
        delete(LoginAttempt).where(LoginAttempt.email == normalise_email(email), LoginAttempt.ip == ip)
    )
    db.session.commit()


def count_failures() -> int:
    """How many failed sign-ins are on record (for tests and the admin's curiosity)."""
    return db.session.scalar(select(func.count()).select_from(LoginAttempt)) or 0
