"""Learning from marks: a per-question calibrator that nudges the rule-based mark towards markers'.

The rules explain every mark; the calibrator only moves the level and mark, and only when a model
the project itself trained is present, intact and made for the rubric and features in use. Its
input is the engine's own report (criterion marks, the figures behind them, factor statuses,
length, flags), so the explanation stays exactly what the rules found.

The model (`calibration_model.RuleResidualRegressor`) predicts how far the markers' mark lies from
the rule mark, with a ridge regression on standardised features whose penalty is chosen by
leave-one-out inside the training data. With two dozen essays a question the honest answer is usually "the rules, give
or take a constant", and a heavy penalty says exactly that: the model falls back towards the rules
instead of chasing noise. More labelled essays (teachers' reviews) let it learn more.

Where. A calibrator retrained on this installation (the teachers' Retrain button, `train
--from-db`) lives in the instance folder, `instance/calibrators/` (0700, files 0600), and is tried
first; the ones shipped in the package (`khrushchev_essays/models/calibrators`, package data) come
next. A retrained model that fails any check below is passed over for the shipped one, and the
status says why (`CalibratorStatus.passed_over`).

Trust. Unpickling runs code, so a calibrator is loaded only from those two folders (or a folder a
caller names in code), only with a JSON sidecar that records the sha256 of
the .joblib file, and only when the scikit-learn major version, FEATURES_VERSION, the feature names
and the rubric fingerprint all match. A model whose cross-validated agreement did not beat the
rules' is saved (so the figures can be read) but marked not to be used unless trained with
`always_apply`.

The JSON contract. `report.calibration` stays `null` or `{"model", "rule_level", "rule_mark", ...}`.
When the rules decide, it is null, and *why* is logged and answered by `calibrator_status(rubric)`
(the CLI and web app can show it); no "model: null" dict is ever written, so consumers that expect
null-or-a-model keep working.

Turning it off: the environment variable KHRUSHCHEV_CALIBRATION=off (read on every call, so it also
reaches spawned batch workers), or `apply_calibration(..., enabled=False)`.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import re
import threading
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from . import mark_scheme
from ..resources import data_path
from .report import ScoreReport
from .rubric import Rubric

log = logging.getLogger(__name__)

# The shipped calibrators, package data written only by `make calibrate` (developers, from the
# marked sets). Retrained ones (the Retrain button, `train --from-db`) go to instance/calibrators
# and are tried first; the shipped folder is never written at run time.
CALIBRATORS_DIR = data_path("models", "calibrators")
INSTANCE_CALIBRATORS = "calibrators"
ENV_SWITCH = "KHRUSHCHEV_CALIBRATION"
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
FEATURES_VERSION = 2
FEATURES_SCHEMA_HASH = "ef68e4ad05f3b41d"  # feature_schema_hash() of version 2


def feature_schema() -> dict:
    """The declared feature schema (what FEATURES_VERSION versions)."""
    from .report import FLAG_EXPLANATIONS

    return {"details": {k: list(v) for k, v in FEATURE_DETAILS.items()}, "extra": list(EXTRA_FEATURES),
            "flags": sorted(set(FLAG_EXPLANATIONS) - {"needs_review"})}


def feature_schema_hash() -> str:
    return hashlib.sha256(json.dumps(feature_schema(), sort_keys=True).encode()).hexdigest()[:16]
SIDECAR_FORMAT = 1
RANDOM_STATE = 0
# Below this confidence an essay is flagged needs_review and goes to a teacher first. Confidence is
# 0.5 when the (rule or calibrated) mark sits on a band edge and 1 in the middle of the band, so 0.6
# catches marks within a fifth of a half-band of an edge: the essays where half a mark either way
# changes the level. About one essay in ten of the marked set falls below it.
NEEDS_REVIEW_BELOW = 0.6
FLAG_PREFIX = "flag_"
_QID = re.compile(r"^[a-z][a-z0-9_]*$")


# --- features ----------------------------------------------------------------------------------
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
    from .report import FLAG_EXPLANATIONS

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


# --- the estimator -----------------------------------------------------------------------------
def new_estimator(names: list[str]):
    """The estimator `train` fits (see calibration_model.py), so training and CV use the same one."""
    from .calibration_model import RuleResidualRegressor

    return RuleResidualRegressor(feature_names=tuple(names))


# --- confidence --------------------------------------------------------------------------------
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


# --- saving and loading ------------------------------------------------------------------------
def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 16), b""):
            h.update(block)
    return h.hexdigest()


def _installed_sklearn() -> str:
    """The installed scikit-learn version, read without importing it (that takes seconds)."""
    from importlib.metadata import version

    return version("scikit-learn")


def _sklearn_major(version: str) -> int:
    return int(str(version).split(".")[0])


def save_calibrator(estimator, rubric: Rubric, out_dir: str | Path, meta: dict[str, Any]) -> dict[str, Any]:
    """Write <qid>.joblib and its sidecar <qid>.json into out_dir; return the sidecar.

    `meta` adds the training facts (training_size, source, cv, residual_sd, apply...). The
    joblib file is written first and hashed, so the sidecar vouches for exactly those bytes.
    """
    import joblib
    import sklearn

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    model_path = out / f"{rubric.id}.joblib"
    tmp = model_path.with_suffix(".joblib.tmp")
    joblib.dump(estimator, tmp)
    tmp.replace(model_path)
    sha = _sha256(model_path)
    date = meta.get("date") or datetime.now(timezone.utc).strftime("%Y-%m-%d")
    sidecar = {
        "format": SIDECAR_FORMAT,
        "question": rubric.id,
        "model_id": f"{rubric.id}-{date.replace('-', '')}-{sha[:8]}",
        "sklearn_version": sklearn.__version__,
        "features_version": FEATURES_VERSION,
        "feature_names": list(estimator.feature_names),
        "rubric_fingerprint": rubric.fingerprint(),
        "random_state": RANDOM_STATE,
        "date": date,
        "sha256": sha,
        "estimator": type(estimator).__name__,
        "alpha": getattr(estimator, "alpha_", None),
        **{k: v for k, v in meta.items() if k != "date"},
    }
    side_path = out / f"{rubric.id}.json"
    side_tmp = side_path.with_suffix(".json.tmp")
    side_tmp.write_text(json.dumps(sidecar, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    side_tmp.replace(side_path)
    return sidecar


@dataclass(frozen=True, slots=True)
class Calibrator:
    """A loaded, checked calibrator and the facts from its sidecar."""

    model_id: str
    estimator: Any  # a calibration_model.RuleResidualRegressor
    feature_names: list[str]
    sidecar: dict[str, Any]


@dataclass(frozen=True, slots=True)
class CalibratorStatus:
    """Whether a question's level comes from a calibrator, and if not, why not."""

    question: str
    calibrator: Calibrator | None
    reason: str  # "using <model id>" or why the rules decide
    serious: bool = False  # a damaged or mismatched file (logged as a warning), not just "none yet"
    origin: str = ""  # where the answer came from: "instance" (retrained here), "shipped", or "" (a folder given)
    folder: str = ""
    passed_over: str | None = None  # why a retrained calibrator in the instance folder is not the one used

    @property
    def active(self) -> bool:
        return self.calibrator is not None


_cache: dict[tuple, CalibratorStatus] = {}
_cache_lock = threading.Lock()
_logged: set[tuple[str, str]] = set()


def calibration_enabled(enabled: bool | None = None) -> bool:
    """An explicit argument wins; otherwise on unless KHRUSHCHEV_CALIBRATION is off/0/false/no."""
    if enabled is not None:
        return enabled
    return os.environ.get(ENV_SWITCH, "on").strip().lower() not in {"off", "0", "false", "no"}


def calibrator_status(rubric: Rubric, *, directory: str | Path | None = None, enabled: bool | None = None) -> CalibratorStatus:
    """The calibrator the engine would use for this rubric, or why it uses the rules alone.

    Cached per file state, so a retrained model is picked up without a restart.
    """
    if not calibration_enabled(enabled):
        return CalibratorStatus(rubric.id, None, f"calibration is turned off ({ENV_SWITCH}=off or enabled=False)")
    if directory is not None:
        status = _status_in(rubric, Path(directory), "")
    else:
        local = _status_in(rubric, instance_calibrators_dir(), "instance")
        if local.active:
            status = local
        else:
            found = _stat(instance_calibrators_dir(), rubric.id)[0] is not None
            status = _status_in(rubric, CALIBRATORS_DIR, "shipped")
            if found:  # a retrained model is there but refused: the shipped one (or the rules) decide
                status = replace(status, passed_over=local.reason)
                if (rubric.id, local.reason) not in _logged:
                    _logged.add((rubric.id, local.reason))
                    log.warning("calibration for %s: the retrained calibrator in %s is not used: %s; falling back to "
                                "the shipped one", rubric.id, local.folder, local.reason)
    if not status.active and (rubric.id, status.reason) not in _logged:
        _logged.add((rubric.id, status.reason))
        log.log(logging.WARNING if status.serious else logging.INFO,
                "calibration for %s: %s; the rules decide the level", rubric.id, status.reason)
    return status


def instance_calibrators_dir(instance: str | Path | None = None) -> Path:
    """The folder of calibrators retrained on this installation: `calibrators/` in the instance folder."""
    from ..config import instance_path

    return Path(instance if instance is not None else instance_path()) / INSTANCE_CALIBRATORS


def _status_in(rubric: Rubric, folder: Path, origin: str) -> CalibratorStatus:
    key = (str(folder), origin, rubric.id, rubric.fingerprint(), *_stat(folder, rubric.id))
    status = _cache.get(key)
    if status is None:
        with _cache_lock:
            status = _cache.get(key) or _cache.setdefault(key, replace(_load(rubric, folder), origin=origin,
                                                                      folder=str(folder)))
    return status


def _stat(folder: Path, qid: str) -> tuple:
    out = []
    for suffix in (".json", ".joblib"):
        try:
            st = (folder / f"{qid}{suffix}").stat()
            out.append((st.st_mtime_ns, st.st_size))
        except OSError:
            out.append(None)
    return tuple(out)


def _load(rubric: Rubric, folder: Path) -> CalibratorStatus:
    """Check the sidecar and the file's hash before anything is unpickled; refuse with a reason."""
    qid = rubric.id
    running = _installed_sklearn()

    def refuse(reason: str, serious: bool = True) -> CalibratorStatus:
        return CalibratorStatus(qid, None, reason, serious)

    if not _QID.match(qid):
        return refuse(f"question id {qid!r} cannot name a calibrator file")
    side_path, model_path = folder / f"{qid}.json", folder / f"{qid}.joblib"
    if not side_path.is_file():
        return refuse(f"no calibrator for {qid} in {folder} (train one with `make calibrate`)", serious=False)
    try:
        side = json.loads(side_path.read_text(encoding="utf-8"))
        if not isinstance(side, dict):
            raise ValueError("not an object")
    except (OSError, ValueError) as exc:
        return refuse(f"the sidecar {side_path.name} is not valid JSON ({exc})")
    required = ("format", "question", "model_id", "sha256", "sklearn_version", "features_version",
                "feature_names", "rubric_fingerprint", "apply")
    missing = [k for k in required if k not in side]
    if missing:
        return refuse(f"the sidecar {side_path.name} lacks {', '.join(missing)}")
    if side["format"] != SIDECAR_FORMAT or side["question"] != qid:
        return refuse(f"the sidecar {side_path.name} is for {side['question']!r}, format {side['format']}")
    if not model_path.is_file() or model_path.is_symlink():
        return refuse(f"{model_path.name} is missing (or a link) next to its sidecar")
    if _sha256(model_path) != side["sha256"]:
        return refuse(f"{model_path.name} does not match the sha256 in its sidecar: refusing to unpickle it")
    try:
        if _sklearn_major(side["sklearn_version"]) != _sklearn_major(running):
            return refuse(f"trained with scikit-learn {side['sklearn_version']}, running {running} "
                          "(another major version)")
    except ValueError:
        return refuse(f"unreadable scikit-learn version {side['sklearn_version']!r} in the sidecar")
    if side["features_version"] != FEATURES_VERSION:
        return refuse(f"trained on features version {side['features_version']}, the engine computes {FEATURES_VERSION}")
    if side["rubric_fingerprint"] != rubric.fingerprint():
        return refuse(f"trained for rubric {side['rubric_fingerprint']}, the rubric is now {rubric.fingerprint()} "
                      "(retrain with `make calibrate`)")
    names = side["feature_names"]
    if not isinstance(names, list) or "rule_mark" not in names:
        return refuse("the sidecar's feature names are unusable")
    if not side["apply"]:
        return refuse(f"{side['model_id']} did not beat the rules in cross-validation "
                      f"({side.get('apply_reason', 'see its sidecar')})", serious=False)
    import joblib

    from .calibration_model import RuleResidualRegressor

    try:
        est = joblib.load(model_path)
    except Exception as exc:  # a file that hashes right but will not load is still refused
        return refuse(f"{model_path.name} could not be loaded ({type(exc).__name__}: {exc})")
    if not isinstance(est, RuleResidualRegressor) or list(est.feature_names) != names:
        return refuse(f"{model_path.name} is not the calibrator its sidecar describes")
    cal = Calibrator(side["model_id"], est, names, side)
    return CalibratorStatus(qid, cal, f"using {cal.model_id}")


# --- applying ----------------------------------------------------------------------------------
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

