"""The calibrator's inputs: the engine's own findings about an essay as named numbers, declared in
one place (FEATURE_DETAILS, EXTRA_FEATURES, every flag) and versioned (FEATURES_VERSION)."""

from __future__ import annotations

import hashlib
import json
import math
from typing import TYPE_CHECKING

from ..scoring.report import FLAG_EXPLANATIONS

if TYPE_CHECKING:
    from ..scoring.report import ScoreReport

# The model's inputs, declared in one place. Per criterion, the `details` keys that become
# features (a details key not listed here is a diagnostic for people, never a model input); every
# flag the engine can raise (FLAG_EXPLANATIONS) is a 0/1 column; EXTRA_FEATURES come from the
# report as a whole. Change any of these and FEATURES_VERSION must go up (a test compares the
# schema with FEATURES_SCHEMA_HASH): a model trained on the old features is then refused rather
# than fed numbers it never saw.
FEATURE_DETAILS: dict[str, tuple[str, ...]] = {
    "factors": ("developed", "mentioned", "missing"),
    "evidence": ("dates", "people", "figures", "inaccuracies", "historians"),
    "analysis": ("sentences", "analytic", "links", "claims", "narrative", "narrative_share", "variety",
                 "relevance", "argued_paragraphs"),
    "balance": ("counter_paragraphs", "rivals", "weighing_sentences"),
    "judgement": ("intro_position", "conclusion", "conclusion_judgement", "consistent"),
    "organisation": ("paragraphs", "words"),
}
EXTRA_FEATURES = ("factors_developed", "factors_mentioned", "factors_missing", "log_words", "raw_mark", "rule_mark",
                  "cap_min_level")
FEATURES_VERSION = 5
FEATURES_SCHEMA_HASH = "62427933fa756bf1"  # feature_schema_hash() of version 5 (the inaccurate flag)


def feature_schema() -> dict:
    """The declared feature schema (what FEATURES_VERSION versions)."""
    return {"details": {k: list(v) for k, v in FEATURE_DETAILS.items()}, "extra": list(EXTRA_FEATURES),
            "flags": sorted(set(FLAG_EXPLANATIONS) - {"needs_review"})}


def feature_schema_hash() -> str:
    return hashlib.sha256(json.dumps(feature_schema(), sort_keys=True).encode()).hexdigest()[:16]


FLAG_PREFIX = "flag_"


def rule_mark_level(report: ScoreReport) -> tuple[int, int]:
    """The rules' mark and level, even after a calibrator has replaced report.mark/level."""
    cal = report.calibration
    if cal and "rule_mark" in cal:
        return int(cal["rule_mark"]), int(cal["rule_level"])
    return int(report.mark or 0), int(report.level or 0)


def features(report: ScoreReport) -> dict[str, float]:
    """The engine's own findings about one essay, as named numbers for a model.

    Each criterion's mark/max ratio and every number (or yes/no) in its `details`; how many
    factors are developed, mentioned and missing; log word count; the lowest cap level; each
    flag as 0/1 (needs_review excluded: it is this module's output); the raw and rule marks.
    """
    declared = {k for keys in FEATURE_DETAILS.values() for k in keys}
    f: dict[str, float] = {}
    for c in report.criteria:
        f[f"crit_{c.id}_ratio"] = c.mark / c.max_mark if c.max_mark else 0.0
        for key, value in c.details.items():
            if key in declared and isinstance(value, (bool, int, float)) \
                    and not (isinstance(value, float) and math.isnan(value)):
                f[f"crit_{c.id}_{key}"] = float(value)
    for status in ("developed", "mentioned", "missing"):
        f[f"factors_{status}"] = float(sum(x.status == status for x in report.factors))
    f["log_words"] = math.log1p(report.word_count)
    f["raw_mark"] = float(report.raw_mark or 0.0)
    f["rule_mark"] = float(rule_mark_level(report)[0])
    f["cap_min_level"] = float(min((c["max_level"] for c in report.caps), default=6))
    # Every known flag gets a column, so essays without it still share the feature set.
    for name in set(FLAG_EXPLANATIONS) - {"needs_review"}:
        f[FLAG_PREFIX + name] = float(name in report.flags)
    return f


def feature_matrix(reports: list[ScoreReport], names: list[str]):
    """Rows of `features` in the order of `names` (a flag the essay lacks counts as 0)."""
    import numpy as np

    rows = []
    for r in reports:
        f = features(r)
        rows.append([f.get(n, 0.0) for n in names])
    return np.asarray(rows, dtype=float)


def feature_problems(report: ScoreReport, names: list[str]) -> str | None:
    """Why a model trained on `names` cannot read this report's features, or None if it can.

    A flag the model never saw is harmless (it is 0 in training, and caps still hold), but a
    criterion figure that appeared or vanished means the engine changed under the model.
    """
    have = {n for n in features(report) if not n.startswith(FLAG_PREFIX)}
    want = {n for n in names if not n.startswith(FLAG_PREFIX)}
    missing, extra = sorted(want - have), sorted(have - want)
    if not missing and not extra:
        return None
    parts = []
    if missing:
        parts.append(f"missing features {', '.join(missing)}")
    if extra:
        parts.append(f"features it was not trained on: {', '.join(extra)}")
    return "the engine's features changed (" + "; ".join(parts) + "): retrain with `make calibrate`"



__all__ = ["EXTRA_FEATURES", "FEATURES_SCHEMA_HASH", "FEATURES_VERSION", "FEATURE_DETAILS", "FLAG_PREFIX", "feature_matrix",
           "feature_problems", "feature_schema", "feature_schema_hash", "features", "rule_mark_level"]
