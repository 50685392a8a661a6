"""Students asking their teacher to look again at a mark, and the teacher's answer.

A student holding the feedback link can ask for a second look with a short reason; a request is
open until a teacher of the class answers it (the answer closes it, and the student's page shows
it). At most one request per essay is open at a time: a partial unique index on the submission
(answered_at IS NULL) holds that even when two posts race, on SQLite and PostgreSQL alike.

Only essays in a class can be asked about (independent practice has no teacher), and only once
the student can see their feedback (a class that holds feedback until review has nothing to
dispute yet). A request belongs to its submission and goes when it is deleted.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, func, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .db import UTCDateTime, db, utcnow
from .models import Submission
from .release import feedback_visible
from .scope import Scope
from .teachers import EMAIL_MAX, Teacher

REASON_MIN, REASON_MAX = 5, 500
ANSWER_MAX = 2000


class LookAgainError(ValueError):
    """A request cannot be made or answered; the message says why, for the student or teacher."""


class LookAgainRequest(db.Model):  # type: ignore[name-defined,misc]
    """One request for a second look: the student's reason, and once answered the teacher's answer."""

    __tablename__ = "look_again_requests"
    __table_args__ = (
        Index("uq_look_again_requests_open", "submission_id", unique=True,
              sqlite_where=text("answered_at IS NULL"), postgresql_where=text("answered_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id", ondelete="CASCADE"), index=True)
    reason: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    answer: Mapped[str | None] = mapped_column(Text)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    teacher_id: Mapped[int | None] = mapped_column(ForeignKey("teachers.id", ondelete="SET NULL"))
    # Copied at the time, as review_changes does: the answer keeps its author if the account goes.
    teacher_email: Mapped[str | None] = mapped_column(String(EMAIL_MAX))

    teacher: Mapped[Teacher | None] = relationship(lazy="joined")

    @property
    def is_open(self) -> bool:
        return self.answered_at is None


def _clean(value: str, limit: int) -> str:
    # One form of line break; no NUL (PostgreSQL refuses it) or other control characters but newlines.
    value = (value or "").replace("\r\n", "\n").replace("\r", "\n")
    value = "".join(c for c in value if c == "\n" or (c >= " " and c != "\x7f"))
    return value.strip()[:limit]


def requests_for(sub: Submission) -> list[LookAgainRequest]:
    """Every request about `sub`, newest first."""
    return list(db.session.scalars(
        select(LookAgainRequest).where(LookAgainRequest.submission_id == sub.id)
        .order_by(LookAgainRequest.id.desc())
    ).all())


def open_request(sub: Submission) -> LookAgainRequest | None:
    """The request about `sub` still waiting for an answer, or None."""
    return db.session.scalar(select(LookAgainRequest).where(
        LookAgainRequest.submission_id == sub.id, LookAgainRequest.answered_at.is_(None)))


def can_ask(sub: Submission) -> bool:
    """Whether the student may ask about `sub` at all: it has a class, and its feedback is shown."""
    return sub.class_id is not None and feedback_visible(sub)


def ask(sub: Submission, reason: str) -> LookAgainRequest:
    """Record the student's request; LookAgainError when one is open already or it cannot be asked."""
    if not can_ask(sub):
        raise LookAgainError("This essay is not in a class, or its feedback is not released yet, so there is no "
                             "teacher to ask.")
    reason = _clean(reason, REASON_MAX)
    if len(reason) < REASON_MIN:
        raise LookAgainError("Say in a few words what you would like your teacher to look at.")
    if open_request(sub) is not None:
        raise LookAgainError("You have already asked your teacher to look again at this essay; they have not "
                             "answered yet.")
    request = LookAgainRequest(submission_id=sub.id, reason=reason, created_at=utcnow())
    db.session.add(request)
    try:
        db.session.commit()
    except IntegrityError:  # another post for the same essay won the race
        db.session.rollback()
        raise LookAgainError("You have already asked your teacher to look again at this essay; they have not "
                             "answered yet.") from None
    return request


def answer(sub: Submission, teacher: Teacher, text_: str) -> LookAgainRequest:
    """Answer (and so close) the open request about `sub`; LookAgainError when there is none or no text."""
    request = open_request(sub)
    if request is None:
        raise LookAgainError("There is no open request on this essay: it may have been answered already.")
    reply = _clean(text_, ANSWER_MAX)
    if not reply:
        raise LookAgainError("Write a short answer for the student.")
    request.answer, request.answered_at = reply, utcnow()
    request.teacher_id, request.teacher_email = teacher.id, teacher.email
    db.session.commit()
    return request


OPEN = select(LookAgainRequest.submission_id).where(LookAgainRequest.answered_at.is_(None))


def open_count(scope: Scope) -> int:
    """How many of `scope`'s essays have a request waiting for an answer (for the dashboard)."""
    return db.session.scalar(select(func.count()).select_from(
        scope.submissions().where(Submission.id.in_(OPEN)).subquery())) or 0
