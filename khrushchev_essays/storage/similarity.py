"""Pairs of submissions in one class that share long passages, for a teacher to judge.

The essays are those the dashboard lists for the class (the same `filtered` query, scoped to
what the viewer may see), each as its latest attempt, so a revision is never paired with the attempt it revised. The comparison itself
is the engine's `similar_pairs` (an inverted index of word shingles), run on demand: nothing is
stored, and a pair disappears as soon as one of the essays is revised.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from ..scoring.copying import DEFAULT_PAIR_MIN_WORDS, similar_pairs
from .db import db
from .models import Submission
from .queries import Filters, filtered
from .scope import Scope

# The most recent essays compared in one class; a class is a few dozen, so this bounds only a
# mistaken class code shared by a whole school.
MAX_ESSAYS = 500


@dataclass(frozen=True, slots=True)
class SimilarPair:
    """Two submissions and the passages they share: (start, end) offsets into each one's text."""

    a: Submission
    b: Submission
    words: int
    spans_a: tuple[tuple[int, int], ...]
    spans_b: tuple[tuple[int, int], ...]

    @property
    def passages_a(self) -> list[str]:
        """The shared passages as they stand in `a`'s essay."""
        return [self.a.text[s:e] for s, e in self.spans_a]

    @property
    def passages_b(self) -> list[str]:
        """The shared passages as they stand in `b`'s essay."""
        return [self.b.text[s:e] for s, e in self.spans_b]


@dataclass(frozen=True, slots=True)
class ClassSimilarity:
    """The pairs found in a class, and how many essays were compared."""

    class_code: str
    compared: int
    truncated: bool
    pairs: list[SimilarPair]


def similar_in_class(class_code: str, scope: Scope, *, min_words: int = DEFAULT_PAIR_MIN_WORDS, common: Iterable[str] = (),
                     filters: Filters | None = None) -> ClassSimilarity:
    """The pairs of the class's latest attempts sharing passages of `min_words` words or more, most first.

    Only essays `scope` may see are compared (a class the viewer does not teach gives no essays).
    `common` is text every student may repeat (the questions); `filters` narrows the essays
    further (question, dates), as on the dashboard; its class and attempts are set here.
    """
    f = replace(filters or Filters(), class_code=class_code.strip().upper(), attempts="latest")
    stmt = filtered(f, scope).order_by(Submission.created_at.desc(), Submission.id.desc()).limit(MAX_ESSAYS + 1)
    subs = list(db.session.scalars(stmt).all())
    truncated = len(subs) > MAX_ESSAYS
    subs = subs[:MAX_ESSAYS]
    subs.reverse()  # oldest first: in each pair, `a` is the essay written first
    by_id = {s.id: s for s in subs}
    pairs = [
        SimilarPair(by_id[p.id_a], by_id[p.id_b], p.words, p.spans_a, p.spans_b)
        for p in similar_pairs([(s.id, s.text) for s in subs], min_words, common=common)
        if by_id[p.id_a].root_id is None or by_id[p.id_a].root_id != by_id[p.id_b].root_id
    ]
    return ClassSimilarity(f.class_code, len(subs), truncated, pairs)

