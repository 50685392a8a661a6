"""Teachers, their failed sign-ins, and their reviews of submissions.

A review never touches the submission's own columns or report: the engine's verdict stays as it
was scored, and the teacher's marks live beside it in `reviews` (the current state, one row per
reviewed submission, so the dashboard can filter and sort on it) and `review_changes` (every
change ever made, append-only: who, when, the state before and after). A revert is itself a
change, so history is never rewritten.

Failed sign-ins are rows of `login_attempts` (email, IP, time) in the database rather than in
process memory, so the limit holds across waitress threads, several server processes and
restarts; old rows are pruned whenever a new one is written.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, backref, mapped_column, relationship

from .db import UTCDateTime, db, utcnow
from .models import JSONType, Submission

EMAIL_MAX = 254
ACTIONS = ("override", "revert")
ROLES = ("admin", "teacher")


def new_session_token() -> str:
    """A random value tied to a teacher's sessions: changing it signs every session out."""
    return secrets.token_urlsafe(24)


class Teacher(db.Model):  # type: ignore[name-defined,misc]
    """A teacher account. Implements the four attributes Flask-Login asks for, so storage needs no Flask-Login.

    `role` is "admin" (manages teachers and classes, sees every submission) or "teacher" (sees
    the submissions of the classes they teach, through storage.scope). A deactivated account
    (`active` false) cannot sign in, but its row stays so its reviews keep their author.
    """

    __tablename__ = "teachers"
    __table_args__ = (CheckConstraint("role IN ('admin', 'teacher')", name="role_known"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(EMAIL_MAX), unique=True, index=True)  # stored lower-cased
    name: Mapped[str | None] = mapped_column(String(80))
    password_hash: Mapped[str] = mapped_column(String(255))
    # Part of the session's user id: a password reset rotates it, which signs out every session.
    session_token: Mapped[str] = mapped_column(String(64), default=new_session_token)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    role: Mapped[str] = mapped_column(String(16), default="teacher", server_default="teacher")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_sign_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    # --- what Flask-Login reads ----------------------------------------------------------------
    is_authenticated = True
    is_anonymous = False

    @property
    def is_active(self) -> bool:
        return bool(self.active)

    def get_id(self) -> str:
        return f"{self.id}:{self.session_token}"

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def display_name(self) -> str:
        return self.name or self.email

    def __repr__(self) -> str:
        return f"<Teacher {self.id} {self.email}>"


class LoginAttempt(db.Model):  # type: ignore[name-defined,misc]
    """One failed sign-in: the email tried (lower-cased), the client's IP, when."""

    __tablename__ = "login_attempts"
    __table_args__ = (
        Index("ix_login_attempts_email_ip_at", "email", "ip", "created_at"),
        Index("ix_login_attempts_ip_at", "ip", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(EMAIL_MAX))
    ip: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)


class Review(db.Model):  # type: ignore[name-defined,misc]
    """A teacher's current marks for one submission: final mark and level, each criterion, a comment."""

    __tablename__ = "reviews"

    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id", ondelete="CASCADE"), primary_key=True)
    teacher_id: Mapped[int | None] = mapped_column(ForeignKey("teachers.id", ondelete="SET NULL"), index=True)
    mark: Mapped[int] = mapped_column(Integer, index=True)
    level: Mapped[int] = mapped_column(Integer, index=True)
    criteria: Mapped[dict[str, float]] = mapped_column(JSONType)  # criterion id -> the teacher's mark
    comment: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)

    # The backref gives every Submission a `review` without editing the submissions model.
    submission: Mapped[Submission] = relationship(
        backref=backref("review", uselist=False, lazy="select", passive_deletes=True)
    )
    teacher: Mapped[Teacher | None] = relationship(lazy="joined")

    def state(self) -> dict[str, Any]:
        """The review as the plain dict that `review_changes` records."""
        return {"mark": self.mark, "level": self.level, "criteria": dict(self.criteria), "comment": self.comment}


class ReviewChange(db.Model):  # type: ignore[name-defined,misc]
    """One change to a submission's review, kept for good: who, when, the state before and after.

    `before`/`after` are review states (`Review.state()`), or null for "not reviewed".
    """

    __tablename__ = "review_changes"
    __table_args__ = (CheckConstraint("action IN ('override', 'revert')", name="action_known"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id", ondelete="CASCADE"), index=True)
    teacher_id: Mapped[int | None] = mapped_column(ForeignKey("teachers.id", ondelete="SET NULL"))
    # Copied at the time, so the history still says who even if the account is later removed.
    teacher_email: Mapped[str] = mapped_column(String(EMAIL_MAX))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    action: Mapped[str] = mapped_column(String(16))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    reverts_id: Mapped[int | None] = mapped_column(ForeignKey("review_changes.id", ondelete="SET NULL"))

    reverts: Mapped[ReviewChange | None] = relationship(remote_side=[id], lazy="joined")
    # Still there after the account is deactivated, so the history keeps the teacher's name.
    teacher: Mapped[Teacher | None] = relationship(lazy="joined", foreign_keys=[teacher_id])
