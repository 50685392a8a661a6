"""Data protection: retention (purge), deletion on request, and a student's subject-access export.

Deleting a submission deletes what hangs off it: its flags, its review and every change to that
review. The children are deleted explicitly (not left to ON DELETE CASCADE) so the counts reported
are exactly what went, on SQLite and PostgreSQL alike. A later attempt whose earlier attempt is
deleted stays, re-rooted on the earliest attempt that is left. Every deletion is logged in the
audit log with who, when and how many, never with the text or the student's name.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select, update

from .audit import record_event
from .classes import SchoolClass
from .db import db, utcnow
from .look_again import LookAgainRequest
from .models import Submission, SubmissionFlag
from .scope import Scope
from .teachers import Review, ReviewChange

DEFAULT_RETENTION_DAYS = 400  # a school year and a bit: last year's mocks survive into this year's revision


@dataclass(frozen=True, slots=True)
class Deleted:
    """How many rows a deletion removed (or, for a dry run, would remove), per table."""

    submissions: int = 0
    reviews: int = 0
    review_changes: int = 0
    flags: int = 0

    def __add__(self, other: Deleted) -> Deleted:
        return Deleted(self.submissions + other.submissions, self.reviews + other.reviews,
                       self.review_changes + other.review_changes, self.flags + other.flags)

    def line(self) -> str:
        return (f"{self.submissions} submission(s), {self.reviews} review(s), "
                f"{self.review_changes} review change(s), {self.flags} flag(s)")


def _count(model, ids: Sequence[int]) -> int:
    column = model.id if model is Submission else model.submission_id
    return db.session.scalar(select(func.count()).select_from(model).where(column.in_(ids))) or 0


def _counts(ids: Sequence[int]) -> Deleted:
    if not ids:
        return Deleted()
    return Deleted(len(ids), _count(Review, ids), _count(ReviewChange, ids), _count(SubmissionFlag, ids))


def _delete_ids(ids: Sequence[int]) -> Deleted:
    """Delete these submissions and everything hanging off them; no commit."""
    ids = sorted(set(ids))
    counted = _counts(ids)
    if not ids:
        return counted
    # Later attempts that survive get a new root (their earliest surviving attempt) and lose the
    # link to a deleted parent, before the rows they point at go.
    survivors = db.session.execute(
        select(Submission.id, Submission.root_id).where(Submission.root_id.in_(ids), Submission.id.not_in(ids))
    ).all()
    new_roots: dict[int, int] = {}
    for sid, root in survivors:
        new_roots[root] = min(new_roots.get(root, sid), sid)
    for old, new in new_roots.items():
        db.session.execute(update(Submission).where(Submission.root_id == old, Submission.id.not_in(ids))
                           .values(root_id=new).execution_options(synchronize_session=False))
    db.session.execute(update(Submission).where(Submission.parent_id.in_(ids), Submission.id.not_in(ids))
                       .values(parent_id=None).execution_options(synchronize_session=False))
    db.session.execute(update(ReviewChange).where(ReviewChange.submission_id.in_(ids))
                       .values(reverts_id=None).execution_options(synchronize_session=False))
    for model in (ReviewChange, Review, SubmissionFlag, LookAgainRequest):
        db.session.execute(delete(model).where(model.submission_id.in_(ids)).execution_options(synchronize_session=False))
    db.session.execute(delete(Submission).where(Submission.id.in_(ids)).execution_options(synchronize_session=False))
    db.session.expire_all()
    return counted


def _chunks(ids: list[int], size: int = 500):
    # Bounded IN lists: SQLite's variable limit, and PostgreSQL's planner, both like them short.
    for i in range(0, len(ids), size):
        yield ids[i:i + size]


# --- retention ------------------------------------------------------------------------------------

def purge(older_than_days: int, *, dry_run: bool = False, now: datetime | None = None) -> Deleted:
    """Delete every submission stored more than `older_than_days` days ago (with reviews and flags).

    With `dry_run`, count what would go and delete nothing. A real purge that deletes anything is
    logged (actor "command line"). Safe to run again and again: a second run finds nothing.
    """
    if older_than_days < 0:
        raise ValueError("the age must be 0 days or more")
    cutoff = (now or utcnow()) - timedelta(days=older_than_days)
    ids = list(db.session.scalars(select(Submission.id).where(Submission.created_at < cutoff).order_by(Submission.id)))
    total = Deleted()
    for chunk in _chunks(ids):
        total += _counts(chunk) if dry_run else _delete_ids(chunk)
    if dry_run:
        return total
    if total.submissions:
        record_event("purge", None, count=total.submissions, detail={"older_than_days": older_than_days}, commit=False)
    db.session.commit()
    return total


# --- deletion on request --------------------------------------------------------------------------

def delete_submission(scope: Scope, sub_id: int, teacher: Any) -> Deleted | None:
    """Delete one submission `scope` may see (None if it may not, or there is none); logged."""
    sub = scope.get(sub_id)
    if sub is None:
        return None
    class_id = sub.class_id
    counted = _delete_ids([sub.id])
    record_event("delete_submission", teacher, count=counted.submissions, class_id=class_id, commit=False)
    db.session.commit()
    return counted


def _student_match(name: str):
    return func.lower(func.trim(Submission.student_name)) == " ".join((name or "").split()).lower()


def student_submissions(scope: Scope, klass: SchoolClass, name: str) -> list[Submission]:
    """Every submission in `klass` by the student called `name` (any case), oldest first; [] outside the scope."""
    if not (name or "").strip() or scope.get_class(klass.id) is None:
        return []
    return list(db.session.scalars(
        scope.submissions().where(Submission.class_id == klass.id, _student_match(name)).order_by(Submission.id)
    ).all())


def class_students(scope: Scope, klass: SchoolClass) -> list[tuple[str, int]]:
    """The students named in `klass`'s essays, with how many essays each (for the class page)."""
    if scope.get_class(klass.id) is None:
        return []
    rows = db.session.execute(
        select(func.min(Submission.student_name), func.count())
        .where(scope.condition(), Submission.class_id == klass.id, Submission.student_name.is_not(None))
        .group_by(func.lower(func.trim(Submission.student_name))).order_by(func.lower(func.trim(Submission.student_name)))
    )
    return [(str(n), int(c)) for n, c in rows]


def delete_student(scope: Scope, klass: SchoolClass, name: str, teacher: Any) -> Deleted:
    """Delete every submission of the student `name` in `klass`; logged with the count only."""
    subs = student_submissions(scope, klass, name)
    counted = _delete_ids([s.id for s in subs])
    record_event("delete_student", teacher, count=counted.submissions, class_id=klass.id, commit=False)
    db.session.commit()
    return counted


# --- subject access -------------------------------------------------------------------------------

def _iso(value: datetime | None) -> str | None:
    return value.isoformat(timespec="seconds").replace("+00:00", "Z") if value else None


def subject_access(scope: Scope, klass: SchoolClass, name: str, teacher: Any) -> dict[str, Any]:
    """Everything held about the student `name` in `klass`: each essay with its report, the teacher's
    marks and comment and every change to them. Logged (count only). Feedback links are left out."""
    subs = student_submissions(scope, klass, name)
    essays = []
    for sub in subs:
        rv = sub.review
        changes = db.session.scalars(
            select(ReviewChange).where(ReviewChange.submission_id == sub.id).order_by(ReviewChange.id)
        ).all()
        essays.append({
            "id": sub.id, "submitted_at": _iso(sub.created_at), "student": sub.student_name,
            "class": klass.name, "class_code": sub.class_code, "question": sub.question, "attempt": sub.attempt,
            "source": sub.source, "source_ref": sub.source_ref, "text": sub.text, "report": sub.report,
            "teacher_review": None if rv is None else {
                "mark": rv.mark, "level": rv.level, "criteria": rv.criteria, "comment": rv.comment,
                "reviewed_by": rv.teacher.display_name if rv.teacher else None, "reviewed_at": _iso(rv.updated_at),
            },
            "review_history": [{"at": _iso(ch.created_at), "by": ch.teacher_email, "action": ch.action,
                                "before": ch.before, "after": ch.after} for ch in changes],
            "released_at": _iso(sub.released_at),
            "look_again_requests": [{"asked_at": _iso(r.created_at), "reason": r.reason, "answer": r.answer,
                                     "answered_at": _iso(r.answered_at), "answered_by": r.teacher_email}
                                    for r in db.session.scalars(select(LookAgainRequest).where(
                                        LookAgainRequest.submission_id == sub.id).order_by(LookAgainRequest.id))],
        })
    record_event("subject_access", teacher, count=len(essays), class_id=klass.id)
    return {"exported_at": _iso(utcnow()), "student": " ".join(name.split()), "class": klass.name,
            "count": len(essays), "submissions": essays,
            "note": "Everything this site holds about this student in this class. Feedback links are not included."}
