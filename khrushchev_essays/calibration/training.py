"""Train the per-question calibrators from marked essays, and measure whether they help.

`train_from_labels(labels_file, paths, out_dir)` scores every labelled essay with the rules (the
same reading of labels as `evaluate`), then per question cross-validates the calibrator by
leave-one-out, fits it on all essays and saves it with its sidecar. The figures for the rules
alone are taken on the same essays, so the gain (or the loss) is visible side by side.

Leave-one-out: with two dozen essays a question, every other split wastes data or depends on a
seed; pooled out-of-fold predictions give one QWK per question, identical on every run.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from ..batch import score_items
from ..scoring.report import ScoreReport
from ..scoring.rubric import Rubric, load_rubric
from .apply import NEEDS_REVIEW_BELOW, capped, confidence
from .errors import TrainingError
from .evaluation import agreement, evaluate, labelled_items
from .features import feature_matrix, features, rule_mark_level
from .store import ENV_SWITCH, calibrators_lock, instance_calibrators_dir, save_calibrator

MIN_ESSAYS = 10  # fewer than this per question and leave-one-out figures mean nothing


def labelled_reports(labels_file: str | Path, paths: Sequence[str | Path], jobs: int | None = None) -> dict[str, list[tuple[ScoreReport, int, int]]]:
    """{question: [(rule report, consensus level, consensus mark), ...]} for a labels TSV.

    Essays are found and read exactly as `evaluate` does (evaluation.labelled_items); any that
    cannot be read or scored stop the training with every reason listed.
    """
    labels, items = labelled_items(paths, labels_file)
    with calibration_off():  # train on what the rules say, whatever calibrator is installed
        reports = list(score_items(items, jobs=jobs))
    out: dict[str, list[tuple[ScoreReport, int, int]]] = {}
    problems = []
    for row, report in zip(labels, reports):
        if report.status != "scored":
            problems.append(f"{row['question']}/{row['file']}: {report.error}")
            continue
        out.setdefault(row["question"], []).append((report, row["level"], row["mark"]))
    if problems:
        raise TrainingError(problems)
    return out


@contextmanager
def calibration_off() -> Iterator[None]:
    """Score with the rules alone for a while; the environment reaches spawned batch workers too."""
    old = os.environ.get(ENV_SWITCH)
    os.environ[ENV_SWITCH] = "off"
    try:
        yield
    finally:
        if old is None:
            os.environ.pop(ENV_SWITCH, None)
        else:
            os.environ[ENV_SWITCH] = old


def feature_names_of(reports: list[ScoreReport]) -> list[str]:
    return sorted(set().union(*(features(r) for r in reports)))


def cross_validate(rubric: Rubric, reports: list[ScoreReport], levels: list[int], marks: list[int]) -> dict[str, Any]:
    """Leave-one-out figures for the calibrator and, on the same essays, for the rules alone.

    Each held-out prediction goes through the caps exactly as in the engine. Returns {"model",
    "rules"} agreement groups (n, qwk, exact, adjacent, mark_mae), the model's out-of-fold mark
    error (residual_sd), and for both how needs_review would route the essays.
    """
    from .model import new_estimator  # scikit-learn: imported to train, never to score

    names = feature_names_of(reports)
    X, y = feature_matrix(reports, names), np.asarray(marks, dtype=float)
    predicted = np.empty(len(y))
    for i in range(len(y)):
        train = np.arange(len(y)) != i
        predicted[i] = new_estimator(names).fit(X[train], y[train]).predict(X[i : i + 1])[0]
    residual_sd = float(np.sqrt(np.mean((predicted - y) ** 2)))
    model_marks, model_levels, model_conf = [], [], []
    for r, p in zip(reports, predicted):
        m, lv, caps = capped(rubric, float(p), r)
        model_marks.append(m)
        model_levels.append(lv)
        model_conf.append(confidence(rubric, float(p), m, caps, r.flags))
    rules = [rule_mark_level(r) for r in reports]
    rule_levels = [lv for _m, lv in rules]
    model = {**without_confusion(agreement(levels, model_levels, marks, model_marks)), **_routing(levels, model_levels, model_conf)}
    rules_g = {**without_confusion(agreement(levels, rule_levels, marks, [m for m, _lv in rules])),
               **_routing(levels, rule_levels, [r.confidence or 0.0 for r in reports])}
    return {
        "model": model,
        "rules": rules_g,
        "residual_sd": round(residual_sd, 3),
        "method": "leave-one-out",
        "predictions": [round(float(p), 4) for p in predicted],
    }


def _routing(levels: list[int], predicted: list[int], conf: list[float]) -> dict[str, Any]:
    """How needs_review would route these essays, and how often the flagged and unflagged are right."""
    review = [c < NEEDS_REVIEW_BELOW for c in conf]
    right = [a == b for a, b in zip(levels, predicted)]
    return {"needs_review": sum(review),
            "exact_when_flagged": _share([ok for ok, f in zip(right, review) if f]),
            "exact_when_not_flagged": _share([ok for ok, f in zip(right, review) if not f])}


def _share(xs: list[bool]) -> float | None:
    return round(sum(xs) / len(xs), 4) if xs else None


def without_confusion(g: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in g.items() if k != "confusion"}


# With a few dozen marked essays a question, a cross-validated gain smaller than this is noise;
# a model that is not clearly better should not replace rules that explain every mark.
APPLY_MARGIN = 0.02


def train_question(rubric: Rubric, data: list[tuple[ScoreReport, int, int]], out_dir: str | Path, source: str,
                   always_apply: bool = False) -> dict[str, Any]:
    """Cross-validate, fit on every essay and save one question's calibrator; return its sidecar.

    The sidecar's `apply` is true only when the model's cross-validated QWK beats the rules' by
    APPLY_MARGIN (or `always_apply`), so the engine never swaps a better explanation for a model
    that is no better, or better only by the noise of a few dozen essays.
    """
    if len(data) < MIN_ESSAYS:
        raise TrainingError([f"{rubric.id}: {len(data)} marked essays, at least {MIN_ESSAYS} are needed"])
    reports, levels, marks = [d[0] for d in data], [d[1] for d in data], [d[2] for d in data]
    cv = cross_validate(rubric, reports, levels, marks)
    better = comparable_qwk(cv["model"]) >= comparable_qwk(cv["rules"]) + APPLY_MARGIN
    reason = f"QWK {figure(cv['model']['qwk'])} against the rules' {figure(cv['rules']['qwk'])}"
    return fit_and_save(rubric, reports, marks, cv, out_dir, {
        "source": source, "apply": bool(better or always_apply),
        "apply_reason": reason + ("" if better else "; applied anyway (always_apply)" if always_apply else ""),
    })


def fit_and_save(rubric: Rubric, reports: list[ScoreReport], marks: list[int], cv: dict[str, Any],
                  out_dir: str | Path, meta: dict[str, Any]) -> dict[str, Any]:
    """Fit the calibrator on every essay and save it; the sidecar gets the training size, the
    cross-validated figures (`cv` from cross_validate) and `meta`. Returns the sidecar."""
    from .model import new_estimator

    names = feature_names_of(reports)
    est = new_estimator(names).fit(feature_matrix(reports, names), np.asarray(marks, dtype=float))
    return save_calibrator(est, rubric, out_dir, {
        "training_size": len(reports), "residual_sd": cv["residual_sd"],
        "cv": {k: cv[k] for k in ("method", "model", "rules")}, "needs_review_below": NEEDS_REVIEW_BELOW, **meta,
    })


def comparable_qwk(group: dict[str, Any]) -> float:
    """A group's QWK for comparing, with n/a (every essay at one level) below any real figure."""
    q = group.get("qwk")
    return -1.0 if q is None else float(q)


def figure(x: float | None) -> str:
    return "n/a" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.3f}"


def train_from_labels(labels_file: str | Path | Sequence[str | Path], paths: Sequence[str | Path] = (),
                      out_dir: str | Path | None = None, jobs: int | None = None,
                      always_apply: bool = False) -> dict[str, dict[str, Any]]:
    """Train every question in one or more labels TSVs (essays under PATH/<question>/<file>;
    default: each labels file's folder); return {question: sidecar}. Several sets are pooled, so
    the model learns from formulaic and realistic scripts alike. Raises TrainingError or
    EvaluationError. `out_dir` defaults to the instance folder's calibrators/ (used before the
    shipped ones); `make calibrate` names the package's models/calibrators to renew the shipped ones."""
    out_dir = instance_calibrators_dir() if out_dir is None else out_dir
    files = [labels_file] if isinstance(labels_file, (str, Path)) else list(labels_file)
    if len(files) > 1 and paths:
        raise TrainingError(["give essay folders only with a single labels file"])
    data: dict[str, list[tuple[ScoreReport, int, int]]] = {}
    for f in files:
        for q, rows in labelled_reports(f, list(paths) or [Path(f).parent], jobs).items():
            data.setdefault(q, []).extend(rows)
    source = "labels:" + "+".join(Path(f).as_posix() for f in files)
    with calibrators_lock(out_dir):
        return {q: train_question(load_rubric(q), rows, out_dir, source, always_apply) for q, rows in sorted(data.items())}

def evaluate_both(paths: Sequence[str | Path], labels_file: str | Path, jobs: int | None = None) -> dict[str, Any]:
    """`evaluate` twice: {"rules": ..., "calibrated": ...}, the second with installed calibrators.

    On the essays the calibrators were trained on the calibrated figures are in-sample, so read
    the cross-validated figures from `train` for the honest gain.
    """
    with calibration_off():
        rules = evaluate(paths, labels_file, jobs=jobs)
    return {"rules": rules, "calibrated": evaluate(paths, labels_file, jobs=jobs)}


def format_training(results: dict[str, dict[str, Any]], out_dir: str | Path) -> str:
    """Cross-validated figures, model against rules, per question, for a terminal."""
    lines = [f"{'':4}{'':7}{'n':>4}{'QWK':>8}{'exact':>8}{'adjacent':>10}{'mark MAE':>10}"]
    for q, side in results.items():
        cv = side["cv"]
        for who in ("rules", "model"):
            g = cv[who]
            lines.append(f"{q:4}{who:7}{g['n']:>4}{figure(g['qwk']):>8}{figure(g['exact']):>8}{figure(g['adjacent']):>10}"
                         f"{g['mark_mae']:>10.2f}")
        for who in ("rules", "model"):
            g = cv[who]
            lines.append(f"    {who}: needs_review (confidence < {side['needs_review_below']}) on {g['needs_review']} of "
                         f"{g['n']}; exact when flagged {figure(g['exact_when_flagged'])}, otherwise {figure(g['exact_when_not_flagged'])}")
        state = "used by the engine" if side["apply"] else "saved but NOT used (the rules decide)"
        lines.append(f"    {side['model_id']}: {state}: {side['apply_reason']}; alpha {side['alpha']:.3g}, "
                     f"mark error sd {side['residual_sd']:.2f}")
    lines.append(f"({cv['method']} cross-validation; wrote {out_dir})")
    return "\n".join(lines)


__all__ = ["APPLY_MARGIN", "MIN_ESSAYS", "calibration_off", "comparable_qwk", "cross_validate", "evaluate_both",
           "feature_names_of", "figure", "fit_and_save", "format_training", "labelled_reports", "train_from_labels",
           "train_question", "without_confusion"]
