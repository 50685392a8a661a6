"""When students see their feedback: at once, or once a teacher has reviewed it and released it.

A class's `release_mode` is "immediate" (the default, and how every class worked before) or
"after_review". In a class that holds feedback, a student's page shows no mark, level or report
until the essay has been released: a teacher of the class releases every reviewed essay of the
class in one action, which stamps `released_at` on each. Essays not reviewed yet stay held; a
later release takes those reviewed since.

Switching a class to holding feedback releases what it already has (its students have seen it),
so only essays sent from then on wait. Both actions are in the audit log.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import exists, func, select, update

from .audit import record_event
from .classes import RELEASE_MODES, SchoolClass
from .db import db, utcnow
from .models import Submission
from .teachers import Review

REVIEWED = exists().where(Review.submission_id == Submission.id)


def feedback_visible(sub: Submission) -> bool:
    """Whether the student may see `sub`'s mark and feedback now."""
    klass = sub.klass
    return klass is None or not klass.holds_feedback or sub.released_at is not None


@dataclass(frozen=True, slots=True)
class Waiting:
    """A held class's essays not released yet: reviewed (ready to release) and not reviewed."""

    reviewed: int
    unreviewed: int


def waiting(klass: SchoolClass) -> Waiting:
    """How many of `klass`'s essays wait for release, reviewed and not."""
    base = select(func.count()).select_from(Submission).where(Submission.class_id == klass.id,
                                                              Submission.released_at.is_(None))
    reviewed = db.session.scalar(base.where(REVIEWED)) or 0
    unreviewed = db.session.scalar(base.where(~REVIEWED)) or 0
    return Waiting(int(reviewed), int(unreviewed))


def release_reviewed(klass: SchoolClass, teacher: Any) -> int:
    """Release every reviewed, unreleased essay of `klass` to its student; how many. Logged."""
    result = db.session.execute(
        update(Submission).where(Submission.class_id == klass.id, Submission.released_at.is_(None), REVIEWED)
        .values(released_at=utcnow()).execution_options(synchronize_session=False)
    )
    count = int(result.rowcount or 0)
    record_event("release_feedback", teacher, count=count, class_id=klass.id, commit=False)
    db.session.commit()
    return count


def set_release_mode(klass: SchoolClass, mode: str, teacher: Any) -> bool:
    """Set when `klass`'s students see feedback; False when it was already so. Logged.

    Turning holding on releases the essays the class already has: their students have seen them.
    """
    if mode not in RELEASE_MODES:
        raise ValueError(f"unknown release mode {mode!r}")
    if klass.release_mode == mode:
        return False
    already = 0
    if mode == "after_review":
        result = db.session.execute(
            update(Submission).where(Submission.class_id == klass.id, Submission.released_at.is_(None))
            .values(released_at=utcnow()).execution_options(synchronize_session=False)
        )
        already = int(result.rowcount or 0)
    klass.release_mode = mode
    record_event("release_mode", teacher, count=already, class_id=klass.id, detail={"mode": mode}, commit=False)
    db.session.commit()
    return True
