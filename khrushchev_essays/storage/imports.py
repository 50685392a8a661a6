"""Storing a graded batch (the CLI's `grade --store`, a teacher's upload) as submissions.

The readers (inputs/) and the scorer (batch/) stay there; this takes their Items and reports, in the same
order, and stores every scored essay with `save_submission`, exactly as the web form does.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from .classes import SchoolClass
from .db import db
from .models import Submission
from .submissions import save_submission

if TYPE_CHECKING:
    from ..inputs import Item
    from ..scoring.report import ScoreReport

NAME_MAX, REF_MAX = 80, 255


def resolve_classes(
    items: Iterable[Item], lookup: Callable[[str], SchoolClass | None], default: SchoolClass | None = None,
    unknown: str = "no class has the code {code}",
) -> tuple[list[Item], list[SchoolClass | None]]:
    """Each item's class: its row's own class code (looked up with `lookup`), else `default`.

    A row whose code names no class becomes an error item (`unknown` says why, with {code}), so
    it is reported and never scored or stored in the wrong place. Call before scoring.
    """
    out, classes = [], []
    for item in items:
        klass = default
        if item.error is None and item.class_code:
            klass = lookup(item.class_code)
            if klass is None:
                item = replace(item, text=None, error=f"{item.source}: " + unknown.format(code=item.class_code))
        out.append(item)
        classes.append(klass)
    return out, classes


def store_reports(
    items: Iterable[Item], reports: Iterable[ScoreReport], classes: Sequence[SchoolClass | None], *, source: str,
) -> Iterator[tuple[Item, ScoreReport, Submission | None]]:
    """Yield (item, report, stored submission or None) for each pair, storing every scored essay in
    its class (`classes`, from resolve_classes; None: no class).

    Everything is committed once the batch is through (a batch stored by halves would be hard to
    re-run); the caller consumes the whole iterator.
    """
    for item, report, klass in zip(items, reports, classes, strict=True):
        sub = None
        if report.status == "scored" and item.text is not None:
            sub = save_submission(
                item.text, report,
                student_name=(item.student or "")[:NAME_MAX] or None,
                klass=klass, source=source, source_ref=item.source[:REF_MAX], commit=False,
            )
        yield item, report, sub
    db.session.commit()
