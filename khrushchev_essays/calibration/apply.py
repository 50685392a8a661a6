"""Applying a calibrator: the predicted mark put through the mark scheme (bands, caps), the rules'
mark kept beside it, and needs_review set from the confidence.

The JSON contract. `report.calibration` stays `null` or `{"model", "rule_level", "rule_mark", ...}`.
When the rules decide, it is null, and *why* is logged and answered by `calibrator_status(rubric)`
(the CLI and web app can show it); no "model: null" dict is ever written, so consumers that expect
null-or-a-model keep working.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from ..scoring import mark_scheme
from .features import feature_matrix, feature_problems, rule_mark_level
from .store import CalibratorStatus, calibrator_status

if TYPE_CHECKING:
    from ..scoring.report import ScoreReport
    from ..scoring.rubric import Rubric

log = logging.getLogger(__name__)

# Below this confidence an essay is flagged needs_review and goes to a teacher first. Confidence is
# 0.5 when the (rule or calibrated) mark sits on a band edge and 1 in the middle of the band, so 0.6
# catches marks within a fifth of a half-band of an edge: the essays where half a mark either way
# changes the level. About one essay in ten of the marked set falls below it.
NEEDS_REVIEW_BELOW = 0.6
_logged: set[tuple[str, str]] = set()


def confidence(rubric: Rubric, predicted: float, mark: int, caps: list[dict], flags: list[str]) -> float:
    """How sure a calibrated level is, measured as the engine measures the rules' level.

    The distance of the unrounded predicted mark from its band's edges (0.5 at an edge, 1 in the
    middle; 0.95 when a cap holds the mark), so the rules and a calibrator share one scale and
    one needs_review threshold.
    """
    return mark_scheme.confidence(rubric, predicted, mark, caps, flags)


def flag_review(report: ScoreReport) -> None:
    """Add or remove needs_review to match the report's confidence (idempotent)."""
    report.flags = [f for f in report.flags if f != "needs_review"]
    if report.confidence is not None and report.confidence < NEEDS_REVIEW_BELOW:
        report.flags.append("needs_review")


def capped(rubric: Rubric, predicted: float, report: ScoreReport) -> tuple[int, int, list[dict]]:
    """A predicted mark put through the mark scheme: banded, held under the essay's caps.

    The caps are the ones the rules found (keyword list, off topic, copied question, too short,
    no judgement...), so no model can lift an essay past them; not English stays at 0.
    """
    return mark_scheme.apply_mark_scheme(rubric, predicted, report.caps,
                                         credited=mark_scheme.credited(rubric, report.criteria),
                                         deducted=report.deductions, flags=report.flags)


def apply_calibration(report: ScoreReport, rubric: Rubric, *, enabled: bool | None = None,
                      directory: str | Path | None = None) -> None:
    """Set the level and mark from a matching calibrator, then let the mark scheme's caps rule.

    Keeps the rules' level and mark in report.calibration and leaves every criterion, factor
    and its evidence untouched. Without a usable calibrator the rules' level stands (calibration
    null). Either way the confidence decides needs_review. Safe to call again on the same report.
    """
    if report.status != "scored" or report.mark is None:
        return
    rule_mark, rule_level = rule_mark_level(report)
    status = calibrator_status(rubric, directory=directory, enabled=enabled)
    cal = status.calibrator
    problem = feature_problems(report, cal.feature_names) if cal else None
    if problem:
        key = (rubric.id, problem)
        if key not in _logged:
            _logged.add(key)
            log.warning("calibration for %s: %s; the rules decide the level", rubric.id, problem)
        cal = None
    raw = float(report.raw_mark or 0.0)
    if cal is None:
        # The rules' level, restored if a calibrator had set another one before.
        if report.calibration:
            report.mark, report.level, report.caps = capped(rubric, raw, report)
            report.calibration = None
            report.confidence = confidence(rubric, raw, report.mark, report.caps, report.flags)
        flag_review(report)
        return

    predicted = float(cal.estimator.predict(feature_matrix([report], cal.feature_names))[0])
    mark, level, caps = capped(rubric, predicted, report)
    report.mark, report.level, report.caps = mark, level, caps
    report.calibration = {"model": cal.model_id, "rule_level": rule_level, "rule_mark": rule_mark,
                          "predicted_mark": round(predicted, 2)}
    report.confidence = confidence(rubric, predicted, mark, caps, report.flags)
    flag_review(report)


def relevel(rubric: Rubric, reports: list[ScoreReport], *, directory: str | Path | None = None,
            enabled: bool | None = None) -> tuple[list[tuple[int, int]], CalibratorStatus]:
    """The (mark, level) the engine would give each already-scored report now, and the status used.

    For stored reports: the rules' findings in each report are kept, and only the level is worked
    out again with the calibrator installed now (or the rules' own mark when none is usable), caps
    included, exactly as `apply_calibration` would. Nothing is changed; one prediction for all rows.
    """
    status = calibrator_status(rubric, directory=directory, enabled=enabled)
    cal = status.calibrator
    out: list[tuple[int, int]] = [rule_mark_level(r) for r in reports]
    if cal is None:
        return out, status
    usable = [i for i, r in enumerate(reports)
              if r.status == "scored" and r.mark is not None and feature_problems(r, cal.feature_names) is None]
    if usable:
        predicted = cal.estimator.predict(feature_matrix([reports[i] for i in usable], cal.feature_names))
        for i, p in zip(usable, predicted):
            mark, level, _caps = capped(rubric, float(p), reports[i])
            out[i] = (mark, level)
    return out, status



__all__ = ["NEEDS_REVIEW_BELOW", "apply_calibration", "capped", "confidence", "flag_review", "relevel"]
