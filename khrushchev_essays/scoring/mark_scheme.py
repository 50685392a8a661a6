"""The mark scheme's arithmetic, in one place: from a raw mark to the final mark and level.

Used alike by the engine (the rules' mark), the calibrator (a predicted mark) and training
(cross-validated predictions), so that every mark an essay can get goes through the same steps:

1. place the raw mark in its band, rounded to a whole mark;
2. hold it under the lowest cap that applies (caps are the rubric's levels: no judgement,
   incoherent, answers another question...);
3. take off the deductions (a mark per wrong date, up to the rubric's limit), within the level
   (below it for a mark held up by the floor of a relevant answer);
4. the Level-1 floor: an essay that any criterion gave credit to never gets 0;
5. not in English: 0, whatever came before.

`confidence` measures how sure the level is on one scale for rules and calibrators.
"""

from __future__ import annotations

from typing import Any

from .rubric import Rubric

__all__ = ["apply_mark_scheme", "confidence", "credited", "deductions", "order_credit"]

def credited(rubric: Rubric, criteria) -> bool:
    """Whether any criterion gave the essay credit: then its mark is never 0 ("nothing relevant")."""
    return any(c.mark > 0 for c in criteria)


def deductions(rubric: Rubric, n_inaccuracies: int) -> list[dict[str, Any]]:
    """Marks taken off after the caps: the rubric's marks per wrong date, up to its limit."""
    marks = min(rubric.caps.inaccuracy_max, n_inaccuracies * rubric.caps.inaccuracy_marks)
    if not n_inaccuracies or marks <= 0:
        return []
    return [{"rule": "inaccuracies", "marks": marks,
             "reason": f"{n_inaccuracies} wrong date{'s' if n_inaccuracies != 1 else ''} (marked in the essay)"}]


def apply_mark_scheme(rubric: Rubric, raw: float, caps: list[dict], *, credited: bool,
                      deducted: list[dict] = (), flags: list[str] = (), floored: bool = False) -> tuple[int, int, list[dict]]:
    """(mark, level, caps with "applied" set) for a raw mark, by the steps in the module docstring.

    `floored`: the raw mark is the floor of a relevant answer (engine._relevant_floor), held up
    for what the essay knows: wrong facts undercut that, so the deductions may take it below the
    level's lowest mark (a floored answer with a wrong date is Level 1 again)."""
    mark = int(round(max(0.0, min(raw, rubric.max_mark))))
    applied = []
    if caps:
        lowest = min(c["max_level"] for c in caps)
        ceiling = rubric.band(lowest).max_mark if lowest > 0 else 0
        for c in caps:
            applied.append(dict(c, applied=c["max_level"] == lowest and mark > ceiling))
        mark = min(mark, ceiling)
    taken = int(sum(d["marks"] for d in deducted))  # whole marks: the total rounded down
    if taken and mark > 1:
        # As an examiner marks: the level first, then the place in it. Errors lower the place,
        # down to the level's lowest mark, not the level itself.
        lowest = 1 if floored else rubric.band(rubric.level_for_mark(mark)).min_mark
        mark = max(1, lowest, mark - taken)
    # The Level-1 floor: any credit earns a mark; a raw mark of 1 or more does too, unless a cap
    # holds the essay at 0 (gaming.py sets such a cap only when no criterion gave credit).
    zero_cap = any(c["max_level"] == 0 for c in caps)
    if mark == 0 and not any(c["rule"] == "not_english" for c in caps) and (credited or (raw >= 1.0 and not zero_cap)):
        mark = 1
    if "not_english" in flags:
        return 0, 0, applied
    return mark, rubric.level_for_mark(mark), applied


def confidence(rubric: Rubric, raw: float, mark: int, caps: list[dict], flags: list[str]) -> float:
    """How sure the level is: near 1 in the middle of a band, about 0.5 at a band edge. A cap that
    holds the mark down is a firm rule, so a capped level is sure."""
    if any(c.get("applied") for c in caps) or "not_english" in flags:
        return 0.95
    band = rubric.band(rubric.level_for_mark(mark))
    dist = min(raw - (band.min_mark - 0.5), (band.max_mark + 0.5) - raw)
    width = (band.max_mark - band.min_mark + 1) / 2
    return round(max(0.5, min(1.0, 0.5 + 0.5 * dist / max(0.5, width))), 3)


def order_credit(rubric: Rubric, disorder: float) -> float:
    """Share of the argument criteria's credit an essay keeps: all of it up to the rubric's
    disorder threshold, none once the order model is `disorder_window` surer than that that the
    sentences are not in the writer's order."""
    t, w = rubric.argument.disorder_threshold, rubric.argument.disorder_window
    return max(0.0, min(1.0, 1.0 - (disorder - t) / w))
