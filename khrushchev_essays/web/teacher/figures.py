"""The figures on the class analytics page, computed from stored submissions (no Flask, no SQL).

Per question: how many essays, the level distribution (automatic, and the teacher's over reviewed
essays), each factor's coverage per class, the factors most often missing, the flags raised, and
the agreement between automatic and teacher levels over reviewed essays, measured exactly as
`khrushchev-essays evaluate` measures agreement with examiners (evaluation.agreement: quadratic
weighted kappa via scikit-learn, exact and adjacent level agreement, mark MAE).

Agreement is measured three ways over the same reviewed essays: the levels as marked at the time
(what students were shown), the rules' own level (kept in every report), and the level the engine
would give now, re-worked from each stored report with the calibrator installed now; after a
retraining from the reviews, the last of these moves while the first stays as it was.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ...calibration import LEVELS, agreement, relevel, rule_mark_level
from ...scoring.rubric import Rubric
from ...storage import Submission

NO_CLASS = "No class"
COVERED = ("mentioned", "developed")


@dataclass
class FactorRow:
    """One factor: its share of essays covering it, per class and overall, and how often it is missing."""

    id: str
    name: str
    by_class: dict[str, float | None]  # class -> share (0-1) of that class's essays that mention or develop it
    developed: int = 0
    mentioned: int = 0
    missing: int = 0

    @property
    def missing_share(self) -> float:
        total = self.developed + self.mentioned + self.missing
        return self.missing / total if total else 0.0


@dataclass
class QuestionFigures:
    """Everything the analytics page shows for one question."""

    rubric: Rubric
    n: int = 0
    classes: list[str] = field(default_factory=list)
    class_sizes: dict[str, int] = field(default_factory=dict)
    class_codes: dict[str, str] = field(default_factory=dict)  # class label -> the dashboard's class filter
    auto_levels: list[int] = field(default_factory=lambda: [0] * len(LEVELS))
    teacher_levels: list[int] = field(default_factory=lambda: [0] * len(LEVELS))
    factors: list[FactorRow] = field(default_factory=list)
    flags: list[tuple[str, int]] = field(default_factory=list)  # (flag, essays), most frequent first
    needs_review: int = 0
    needs_review_open: int = 0  # flagged needs_review and not yet reviewed
    reviewed: int = 0
    agreement: dict[str, Any] = field(default_factory=dict)  # the levels as marked at the time
    agreement_rules: dict[str, Any] = field(default_factory=dict)  # the rules' level alone
    agreement_now: dict[str, Any] = field(default_factory=dict)  # re-levelled with the calibrator installed now
    now_by: str = "rules"  # the model id that agreement_now used, or "rules"

    @property
    def same_level(self) -> int:
        """Reviewed essays where the automatic level (as marked at the time) is the teacher's."""
        return round((self.agreement.get("exact") or 0) * self.reviewed)

    @property
    def within_one(self) -> int:
        """Reviewed essays where the automatic level is at most one from the teacher's."""
        return round((self.agreement.get("adjacent") or 0) * self.reviewed)

    def covering(self, row: FactorRow, cls: str) -> int:
        """How many of class `cls`'s essays mention or develop `row`'s factor."""
        return round((row.by_class.get(cls) or 0) * self.class_sizes.get(cls, 0))

    @property
    def most_missing(self) -> list[FactorRow]:
        """Factors missing from at least one essay, most often missing first (at most five)."""
        rows = [f for f in self.factors if f.missing]
        return sorted(rows, key=lambda f: (-f.missing_share, f.name))[:5]


def question_figures(rubric: Rubric, subs: Sequence[Submission]) -> QuestionFigures:
    """The figures for `rubric`'s question over `subs` (already filtered to that question)."""
    fig = QuestionFigures(rubric=rubric, n=len(subs))
    class_of = [s.class_label or NO_CLASS for s in subs]
    sizes = Counter(class_of)
    fig.classes = sorted(sizes, key=lambda c: (c == NO_CLASS, c))
    fig.class_sizes = dict(sizes)
    for sub, cls in zip(subs, class_of):
        code = sub.klass.join_code if sub.klass is not None else sub.class_code
        if cls != NO_CLASS and code:
            fig.class_codes.setdefault(cls, code)
    flags: Counter[str] = Counter()
    covered = {f.id: Counter() for f in rubric.factors}  # factor -> class -> essays covering it
    rows = {f.id: FactorRow(f.id, f.name, {}) for f in rubric.factors}
    pairs = []  # (teacher level, auto level, teacher mark, auto mark) over reviewed essays
    for sub, cls in zip(subs, class_of):
        if sub.level is not None and 0 <= sub.level < len(LEVELS):
            fig.auto_levels[sub.level] += 1
        flags.update(set(sub.flags))
        review = sub.review
        if "needs_review" in sub.flags:
            fig.needs_review += 1
            fig.needs_review_open += review is None
        if review is not None:
            fig.reviewed += 1
            fig.teacher_levels[review.level] += 1
            pairs.append((review.level, sub.level or 0, review.mark, sub.mark or 0))
        for factor in (sub.report or {}).get("factors", []):
            row = rows.get(factor["id"])
            if row is None:  # a factor the rubric no longer has
                continue
            status = factor["status"]
            if status in ("developed", "mentioned", "missing"):
                setattr(row, status, getattr(row, status) + 1)
            if status in COVERED:
                covered[factor["id"]][cls] += 1
    for fid, row in rows.items():
        row.by_class = {c: covered[fid][c] / sizes[c] for c in fig.classes}
    fig.factors = list(rows.values())
    fig.flags = sorted(flags.items(), key=lambda kv: (-kv[1], kv[0]))
    t_lv, a_lv, t_mk, a_mk = (list(x) for x in zip(*pairs)) if pairs else ([], [], [], [])
    fig.agreement = agreement(t_lv, a_lv, t_mk, a_mk)
    reports = [sub.score_report() for sub in subs if sub.review is not None]
    rules = [rule_mark_level(r) for r in reports]
    fig.agreement_rules = agreement(t_lv, [lv for _m, lv in rules], t_mk, [m for m, _lv in rules])
    now, status = relevel(rubric, reports)
    if status.active:
        fig.agreement_now = agreement(t_lv, [lv for _m, lv in now], t_mk, [m for m, _lv in now])
        fig.now_by = status.calibrator.model_id
    else:  # without a calibrator, relevel gives the rules' own levels
        fig.agreement_now = fig.agreement_rules
    return fig
