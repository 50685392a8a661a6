"""The tables: one row per scored essay, and its flags in a table of their own.

Built for the teacher side as well as the student's: everything a teacher filters on (class code,
question, level, flag, date, source) is a real, indexed column rather than something buried in
the report JSON, and the report itself is kept whole so a page can be rebuilt exactly as the
student saw it. Attempts at the same essay are linked: `parent` is the attempt revised, `root`
the first attempt of the chain (itself for a first attempt), `attempt` counts from 1.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, Integer, String, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..scoring.report import ScoreReport
from .db import UTCDateTime, db, utcnow

if TYPE_CHECKING:
    from .classes import SchoolClass

SOURCES = ("web", "cli", "upload")
TOKEN_LENGTH = 64  # room above secrets.token_urlsafe(24)'s 32 characters

# JSONB on PostgreSQL (indexable, compact); plain JSON text elsewhere.
JSONType = JSON().with_variant(JSONB(), "postgresql")


class Submission(db.Model):  # type: ignore[name-defined,misc]
    """One essay as submitted, with the engine's report and the figures teachers filter on."""

    __tablename__ = "submissions"
    __table_args__ = (
        CheckConstraint("source IN ('web', 'cli', 'upload')", name="source_known"),
        CheckConstraint("attempt >= 1", name="attempt_positive"),
        Index("ix_submissions_class_question_created", "class_code", "question", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # The capability a student holds for the feedback page; never derived from the id.
    token: Mapped[str] = mapped_column(String(TOKEN_LENGTH), unique=True, index=True)
    question: Mapped[str] = mapped_column(String(32), index=True)
    student_name: Mapped[str | None] = mapped_column(String(80))
    # The code as stored: the class's join code at the time, or (for essays from before classes
    # existed) the free text a student typed. Which class an essay belongs to is `class_id`.
    class_code: Mapped[str | None] = mapped_column(String(32), index=True)
    class_id: Mapped[int | None] = mapped_column(ForeignKey("classes.id", ondelete="SET NULL"), index=True)
    text: Mapped[str] = mapped_column(Text)
    report: Mapped[dict[str, Any]] = mapped_column(JSONType)
    # Copied from the report at scoring time; a teacher's override (issue 4) lives beside it
    # rather than replacing it, so the engine's original verdict is never lost.
    mark: Mapped[int | None] = mapped_column(Integer, index=True)
    max_mark: Mapped[int] = mapped_column(Integer, default=25)
    level: Mapped[int | None] = mapped_column(Integer, index=True)
    word_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    source: Mapped[str] = mapped_column(String(16), default="web", index=True)
    # Where the essay came from outside the web form: a file name for CLI and batch uploads.
    source_ref: Mapped[str | None] = mapped_column(String(255))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("submissions.id", ondelete="SET NULL"), index=True)
    root_id: Mapped[int | None] = mapped_column(ForeignKey("submissions.id", ondelete="SET NULL"), index=True)
    attempt: Mapped[int] = mapped_column(Integer, default=1)
    # When a teacher released this essay's feedback to the student; only read for a class that
    # holds feedback until it is reviewed (storage.release). Null: not released (or never held).
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    flag_rows: Mapped[list[SubmissionFlag]] = relationship(
        back_populates="submission", cascade="all, delete-orphan", lazy="selectin", order_by="SubmissionFlag.position"
    )
    parent: Mapped[Submission | None] = relationship(remote_side=[id], foreign_keys=[parent_id])
    klass: Mapped[SchoolClass | None] = relationship(lazy="joined")

    @property
    def class_label(self) -> str | None:
        """The class's name, else the free-text code of an essay from before classes, else None."""
        return self.klass.name if self.klass is not None else self.class_code

    @property
    def flags(self) -> list[str]:
        """The report's flags, in the engine's order."""
        return [row.flag for row in self.flag_rows]

    def score_report(self) -> ScoreReport:
        """The stored report as the engine's dataclass."""
        return ScoreReport.from_dict(self.report)

    def __repr__(self) -> str:
        return f"<Submission {self.id} {self.question} attempt {self.attempt} mark {self.mark}>"


class SubmissionFlag(db.Model):  # type: ignore[name-defined,misc]
    """One flag of a submission, as a row so "every essay flagged keyword_list" is an indexed query."""

    __tablename__ = "submission_flags"

    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id", ondelete="CASCADE"), primary_key=True)
    flag: Mapped[str] = mapped_column(String(64), primary_key=True, index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)

    submission: Mapped[Submission] = relationship(back_populates="flag_rows")
