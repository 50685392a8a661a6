"""Teachers' reviews: saving an override, reverting a change, reading the history.

The submission's automatic score is never written here. Each save or revert updates the one
`reviews` row (the current state) and appends a `review_changes` row with the state before and
after, in one transaction. Saves name the change they were based on, so when two teachers edit
the same essay at once the second is told instead of silently undoing the first.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from .db import db, utcnow
from .models import Submission
from .teachers import Review, ReviewChange, Teacher

COMMENT_MAX = 3000


class StaleReview(ValueError):
    """The review changed since the form was opened (another teacher, another tab)."""


@dataclass(frozen=True, slots=True)
class Difference:
    """One field a change altered, for the history: what it was and what it became."""

    field: str  # "mark", "level", "comment" or "criterion:<id>"
    before: Any
    after: Any


def automatic_state(sub: Submission) -> dict[str, Any]:
    """The engine's marks in the shape of a review state (no comment)."""
    report = sub.report or {}
    return {
        "mark": sub.mark,
        "level": sub.level,
        "criteria": {c["id"]: float(c["mark"]) for c in report.get("criteria", [])},
        "comment": "",
    }


def differences(before: dict[str, Any] | None, after: dict[str, Any] | None, auto: dict[str, Any]) -> list[Difference]:
    """What changed between two review states; a missing state (not reviewed) reads as the automatic marks."""
    a, b = before or auto, after or auto
    out = [Difference(k, a.get(k), b.get(k)) for k in ("mark", "level") if a.get(k) != b.get(k)]
    ids = dict.fromkeys([*auto["criteria"], *a.get("criteria", {}), *b.get("criteria", {})])
    for cid in ids:
        x, y = a.get("criteria", {}).get(cid), b.get("criteria", {}).get(cid)
        if x != y:
            out.append(Difference(f"criterion:{cid}", x, y))
    if (a.get("comment") or "") != (b.get("comment") or ""):
        out.append(Difference("comment", a.get("comment") or "", b.get("comment") or ""))
    return out


def curved_mark(rubric: Any, criteria: dict[str, float]) -> int:
    """The final mark criterion marks come to, as the engine turns its criteria into a mark: their
    sum over the rubric's maximum, raised to the rubric's `mark_curve`, rounded to a whole mark.
    (The engine's caps and deductions are its own judgement; a teacher's criterion marks replace it.)"""
    top = rubric.max_mark
    total = max(0.0, min(float(sum(criteria.values())), float(top)))
    return int(round(top * (total / top) ** rubric.mark_curve)) if top else 0


def agree_with_automatic(sub: Submission, teacher: Teacher, comment: str | None = None) -> ReviewChange | None:
    """Record that `teacher` agrees with the automatic marks, with `comment` (None: keep any comment
    already written): the same change a review form saved unchanged records; None when the review
    already says so."""
    if comment is None:
        current = db.session.get(Review, sub.id)
        comment = current.comment if current is not None else ""
    auto = automatic_state(sub)
    return save_review(sub, teacher, mark=auto["mark"], level=auto["level"], criteria=auto["criteria"], comment=comment)


def latest_change_id(sub: Submission) -> int:
    """The id of the newest change to `sub`'s review, 0 when it has none."""
    return db.session.scalar(select(func.max(ReviewChange.id)).where(ReviewChange.submission_id == sub.id)) or 0


def history(sub: Submission) -> list[ReviewChange]:
    """Every change to `sub`'s review, newest first."""
    return list(db.session.scalars(
        select(ReviewChange).where(ReviewChange.submission_id == sub.id).order_by(ReviewChange.id.desc())
    ).all())


def _apply(sub: Submission, teacher: Teacher, state: dict[str, Any] | None, action: str,
           reverts: ReviewChange | None = None) -> ReviewChange:
    review = db.session.get(Review, sub.id)
    before = review.state() if review is not None else None
    now = utcnow()
    if state is None:
        if review is not None:
            db.session.delete(review)
    else:
        if review is None:
            review = Review(submission_id=sub.id)
            db.session.add(review)
        review.mark, review.level = int(state["mark"]), int(state["level"])
        review.criteria = {k: float(v) for k, v in state["criteria"].items()}
        review.comment = state.get("comment") or ""
        review.teacher_id, review.updated_at = teacher.id, now
    change = ReviewChange(
        submission_id=sub.id, teacher_id=teacher.id, teacher_email=teacher.email, created_at=now,
        action=action, before=before, after=None if state is None else {**state, "comment": state.get("comment") or ""},
        reverts_id=reverts.id if reverts is not None else None,
    )
    db.session.add(change)
    db.session.commit()
    db.session.expire(sub, ["review"])
    return change


def save_review(sub: Submission, teacher: Teacher, *, mark: int, level: int, criteria: dict[str, float],
                comment: str, based_on: int | None = None) -> ReviewChange | None:
    """Record the teacher's marks and comment; None when nothing differs from the current review.

    Saving the automatic marks unchanged still records a review: the teacher has checked them.
    `based_on` is the latest change id the form was opened with; raise StaleReview if another
    change has been made since.
    """
    if based_on is not None and based_on != latest_change_id(sub):
        raise StaleReview("this review was changed by someone else while you were editing it")
    state = {"mark": int(mark), "level": int(level), "criteria": {k: float(v) for k, v in criteria.items()},
             "comment": (comment or "").strip()[:COMMENT_MAX]}
    current = db.session.get(Review, sub.id)
    if current is not None and current.state() == state:
        return None
    return _apply(sub, teacher, state, "override")


def revert_change(sub: Submission, change_id: int, teacher: Teacher) -> ReviewChange:
    """Put the review back as it was before change `change_id` (back to unreviewed if it was the first).

    The revert is itself a change in the history; nothing is deleted. Raise LookupError for a
    change that is not one of this submission's.
    """
    change = db.session.get(ReviewChange, change_id)
    if change is None or change.submission_id != sub.id:
        raise LookupError(f"no change {change_id} on this submission")
    return _apply(sub, teacher, change.before, "revert", reverts=change)


def current_review(sub: Submission) -> Review | None:
    """The teacher's current review of `sub`, or None."""
    return db.session.get(Review, sub.id)
