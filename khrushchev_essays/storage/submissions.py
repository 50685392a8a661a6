"""Saving and finding submissions: the only code that writes the submissions tables.

The web form, the CLI's `grade --store` and a teacher's batch upload all call `save_submission`,
so every stored essay gets the same token, attempt numbering and flag rows.
"""

from __future__ import annotations

import re
import secrets

from sqlalchemy import func, select

from ..scoring.report import ScoreReport
from .classes import SchoolClass
from .db import db
from .models import SOURCES, TOKEN_LENGTH, Submission, SubmissionFlag

TOKEN_BYTES = 24  # 192 bits: unguessable, and short enough for a URL a student can keep
_TOKEN_SHAPE = re.compile(r"^[A-Za-z0-9_-]{16,%d}$" % TOKEN_LENGTH)


def new_token() -> str:
    """A fresh random token for a feedback URL."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def save_submission(
    text: str,
    report: ScoreReport,
    *,
    student_name: str | None = None,
    class_code: str | None = None,
    klass: SchoolClass | None = None,
    source: str = "web",
    source_ref: str | None = None,
    parent: Submission | None = None,
    commit: bool = True,
) -> Submission:
    """Store a scored essay with its report; link it to `parent` when it revises an earlier attempt.

    Only reports with status "scored" are stored: an essay that could not be marked has no
    feedback page to show. `commit=False` leaves the transaction open for batch callers.
    `klass` puts the essay in a class (its join code is kept in `class_code`); a bare `class_code`
    without a class is what essays from before classes look like, visible to admins only.
    """
    if report.status != "scored" or report.question is None:
        raise ValueError(f"only scored reports are stored (status {report.status!r}: {report.error})")
    if source not in SOURCES:
        raise ValueError(f"unknown source {source!r}; expected one of {', '.join(SOURCES)}")
    if parent is not None and parent.question != report.question:
        raise ValueError("a revision must answer the same question as the attempt it revises")

    sub = Submission(
        token=new_token(),
        question=report.question,
        student_name=student_name or None,
        class_code=klass.join_code if klass is not None else (class_code or None),
        class_id=klass.id if klass is not None else None,
        text=text,
        report=report.to_dict(),
        mark=report.mark,
        max_mark=report.max_mark,
        level=report.level,
        word_count=report.word_count,
        source=source,
        source_ref=source_ref,
        attempt=1,
    )
    sub.flag_rows = [SubmissionFlag(flag=f, position=i) for i, f in enumerate(dict.fromkeys(report.flags))]
    if parent is not None:
        root_id = parent.root_id or parent.id
        latest = db.session.scalar(select(func.max(Submission.attempt)).where(Submission.root_id == root_id))
        sub.parent_id, sub.root_id, sub.attempt = parent.id, root_id, (latest or parent.attempt) + 1
    db.session.add(sub)
    db.session.flush()
    if sub.root_id is None:
        sub.root_id = sub.id  # a first attempt is the root of its own chain
    if commit:
        db.session.commit()
    return sub


def get_by_token(token: str) -> Submission | None:
    """The submission a feedback token belongs to, or None (malformed tokens never reach the database)."""
    if not _TOKEN_SHAPE.match(token or ""):
        return None
    return db.session.scalar(select(Submission).where(Submission.token == token))


def attempt_history(sub: Submission) -> list[Submission]:
    """Every attempt in `sub`'s chain, oldest first (just `sub` when it has never been revised)."""
    root_id = sub.root_id or sub.id
    rows = db.session.scalars(
        select(Submission).where(Submission.root_id == root_id).order_by(Submission.attempt, Submission.id)
    ).all()
    return list(rows) or [sub]
