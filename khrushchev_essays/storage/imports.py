"""Storing a graded batch (the CLI's `grade --store`, a teacher's upload) as submissions.

The batch's readers and scorer stay in batch.py; this takes their Items and reports, in the same
order, and stores every scored essay with `save_submission`, exactly as the web form does.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from .db import db
from .models import Submission
from .submissions import save_submission

if TYPE_CHECKING:
    from ..batch import Item
    from ..scoring.report import ScoreReport

NAME_MAX, CLASS_MAX, REF_MAX = 80, 32, 255


def store_reports(
    items: Iterable[Item], reports: Iterable[ScoreReport], *, source: str, class_code: str | None = None,
) -> Iterator[tuple[Item, ScoreReport, Submission | None]]:
    """Yield (item, report, stored submission or None) for each pair, storing every scored essay.

    A row's own class code wins over `class_code`. Everything is committed once the batch is
    through (a batch stored by halves would be hard to re-run); the caller consumes the whole
    iterator.
    """
    for item, report in zip(items, reports, strict=True):
        sub = None
        if report.status == "scored" and item.text is not None:
            sub = save_submission(
                item.text, report,
                student_name=(item.student or "")[:NAME_MAX] or None,
                class_code=(item.class_code or class_code or "").strip().upper()[:CLASS_MAX] or None,
                source=source, source_ref=item.source[:REF_MAX], commit=False,
            )
        yield item, report, sub
    db.session.commit()
