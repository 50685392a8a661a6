"""Retraining the calibrator from teachers' reviews, kept as a record: before and after.

Each time a question's calibrator is retrained from the reviews (from the analytics page or
`khrushchev-essays train --from-db`), one `calibration_runs` row says who did it, when, over how
many reviews, how far the engine agreed with those reviews before (the calibrator installed then,
or the rules), how far the new model agreed in leave-one-out cross-validation after, the rules'
figures on the same reviews, and what happened: the new model was installed, or the one in use
was kept because the new one did not agree better. The analytics page shows these side by side.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Integer, Select, String, Text, func, select
from sqlalchemy.orm import Mapped, mapped_column

from .db import UTCDateTime, db, utcnow
from .models import JSONType, Submission
from .scope import Scope
from .teachers import EMAIL_MAX, Review

OUTCOMES = ("installed", "kept", "not_used")


class CalibrationRun(db.Model):  # type: ignore[name-defined,misc]
    """One retraining of one question's calibrator from teachers' reviews.

    `before`, `after` and `rules` are agreement groups (n, qwk, exact, adjacent, mark_mae) over
    the same reviews; `before_by` names what the engine used then (a model id, or "rules").
    """

    __tablename__ = "calibration_runs"
    __table_args__ = (CheckConstraint(f"outcome IN ({', '.join(repr(o) for o in OUTCOMES)})", name="outcome_known"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    question: Mapped[str] = mapped_column(String(32), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    teacher_id: Mapped[int | None] = mapped_column(ForeignKey("teachers.id", ondelete="SET NULL"))
    # Who asked for it, copied at the time: a teacher's email, or "command line".
    trained_by: Mapped[str] = mapped_column(String(EMAIL_MAX))
    reviews: Mapped[int] = mapped_column(Integer)
    before_by: Mapped[str] = mapped_column(String(64))
    before: Mapped[dict[str, Any]] = mapped_column(JSONType)
    after: Mapped[dict[str, Any]] = mapped_column(JSONType)
    rules: Mapped[dict[str, Any]] = mapped_column(JSONType)
    outcome: Mapped[str] = mapped_column(String(16))
    model_id: Mapped[str | None] = mapped_column(String(64))  # the new model's id (installed or not)
    message: Mapped[str] = mapped_column(Text, default="")

    @property
    def gain(self) -> float | None:
        """The new model's cross-validated QWK minus the engine's QWK before, on the same reviews."""
        a, b = self.after.get("qwk"), self.before.get("qwk")
        return None if a is None or b is None else round(a - b, 4)


@dataclass(frozen=True, slots=True)
class ReviewedEssay:
    """A reviewed submission as training needs it: the text (scored afresh) and the teacher's marks."""

    submission_id: int
    text: str
    level: int
    mark: int


def _reviewed(scope: Scope, *columns) -> Select:
    """SELECT `columns` over `scope`'s reviewed submissions whose engine report was scored: what retraining learns from."""
    return (select(*columns).join(Review, Review.submission_id == Submission.id)
            .where(Submission.mark.is_not(None), scope.condition()))


def reviewed_essays(question: str, scope: Scope) -> Iterator[ReviewedEssay]:
    """Every reviewed, scored submission of `question` that `scope` sees, oldest first."""
    rows = db.session.execute(
        _reviewed(scope, Submission.id, Submission.text, Review.level, Review.mark)
        .where(Submission.question == question).order_by(Submission.id)
    )
    for sid, text, level, mark in rows:
        yield ReviewedEssay(int(sid), text, int(level), int(mark))


def reviewed_counts(scope: Scope) -> dict[str, int]:
    """How many reviewed, scored submissions of `scope` each question has (as reviewed_essays would list them)."""
    rows = db.session.execute(_reviewed(scope, Submission.question, func.count()).group_by(Submission.question))
    return {q: int(n) for q, n in rows}


def record_run(**fields: Any) -> CalibrationRun:
    """Store one retraining (see CalibrationRun for the fields) and return it."""
    run = CalibrationRun(**fields)
    db.session.add(run)
    db.session.commit()
    return run


def recent_runs(question: str, scope: Scope, limit: int = 5) -> list[CalibrationRun]:
    """The latest retrainings of `question` that `scope` may see, newest first.

    A run's figures are over the reviews its trainer could see, so a teacher sees only their own
    runs (an admin, and the command line, every run).
    """
    stmt = select(CalibrationRun).where(CalibrationRun.question == question)
    if not scope.admin:
        stmt = stmt.where(CalibrationRun.teacher_id == scope.teacher_id)
    return list(db.session.scalars(stmt.order_by(CalibrationRun.id.desc()).limit(limit)).all())
