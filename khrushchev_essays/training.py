"""Train the per-question calibrators from marked essays, and measure whether they help.

`train_from_labels(labels_file, paths, out_dir)` scores every labelled essay with the rules (the
same reading of labels as `evaluate`), then per question cross-validates the calibrator by
leave-one-out, fits it on all essays and saves it with its sidecar. The figures for the rules
alone are taken on the same essays, so the gain (or the loss) is visible side by side.

Leave-one-out: with two dozen essays a question, every other split wastes data or depends on a
seed; pooled out-of-fold predictions give one QWK per question, identical on every run.

Lives outside `scoring` because it reads label files (evaluation.py) and, later, the database.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .batch import score_items
from .config import private_folder
from .evaluation import EvaluationError, agreement, evaluate, labelled_items
from .scoring.calibrator import (
    CALIBRATORS_DIR,
    ENV_SWITCH,
    NEEDS_REVIEW_BELOW,
    capped,
    confidence,
    feature_matrix,
    features,
    instance_calibrators_dir,
    new_estimator,
    rule_mark_level,
    save_calibrator,
)
from .scoring.report import ScoreReport
from .scoring.rubric import Rubric, load_rubric

MIN_ESSAYS = 10  # fewer than this per question and leave-one-out figures mean nothing


class TrainingError(ValueError):
    """The training data cannot be used; `problems` lists each reason."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


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


def _names(reports: list[ScoreReport]) -> list[str]:
    return sorted(set().union(*(features(r) for r in reports)))


def cross_validate(rubric: Rubric, reports: list[ScoreReport], levels: list[int], marks: list[int]) -> dict[str, Any]:
    """Leave-one-out figures for the calibrator and, on the same essays, for the rules alone.

    Each held-out prediction goes through the caps exactly as in the engine. Returns {"model",
    "rules"} agreement groups (n, qwk, exact, adjacent, mark_mae), the model's out-of-fold mark
    error (residual_sd), and for both how needs_review would route the essays.
    """
    names = _names(reports)
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
    model = {**_group(agreement(levels, model_levels, marks, model_marks)), **_routing(levels, model_levels, model_conf)}
    rules_g = {**_group(agreement(levels, rule_levels, marks, [m for m, _lv in rules])),
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


def _group(g: dict[str, Any]) -> dict[str, Any]:
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
    better = _qwk(cv["model"]) >= _qwk(cv["rules"]) + APPLY_MARGIN
    reason = f"QWK {_f(cv['model']['qwk'])} against the rules' {_f(cv['rules']['qwk'])}"
    return _fit_and_save(rubric, reports, marks, cv, out_dir, {
        "source": source, "apply": bool(better or always_apply),
        "apply_reason": reason + ("" if better else "; applied anyway (always_apply)" if always_apply else ""),
    })


def _fit_and_save(rubric: Rubric, reports: list[ScoreReport], marks: list[int], cv: dict[str, Any],
                  out_dir: str | Path, meta: dict[str, Any]) -> dict[str, Any]:
    """Fit the calibrator on every essay and save it; the sidecar gets the training size, the
    cross-validated figures (`cv` from cross_validate) and `meta`. Returns the sidecar."""
    names = _names(reports)
    est = new_estimator(names).fit(feature_matrix(reports, names), np.asarray(marks, dtype=float))
    return save_calibrator(est, rubric, out_dir, {
        "training_size": len(reports), "residual_sd": cv["residual_sd"],
        "cv": {k: cv[k] for k in ("method", "model", "rules")}, "needs_review_below": NEEDS_REVIEW_BELOW, **meta,
    })


def _qwk(group: dict[str, Any]) -> float:
    """A group's QWK for comparing, with n/a (every essay at one level) below any real figure."""
    q = group.get("qwk")
    return -1.0 if q is None else float(q)


def _f(x: float | None) -> str:
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


@dataclass
class Retraining:
    """One question retrained from teachers' reviews: agreement with them before and after.

    `before`: the engine as it was (the calibrator then installed, or the rules) on the reviewed
    essays; `after`: the new model, leave-one-out over the same essays; `rules`: the rules alone.
    `outcome` is "installed" (the new model is now used), "kept" (the model in use agreed at least
    as well, so nothing changed) or "not_used" (neither beat the rules; nothing changed).
    """

    question: str
    reviews: int
    before_by: str
    before: dict[str, Any]
    after: dict[str, Any]
    rules: dict[str, Any]
    outcome: str
    message: str
    sidecar: dict[str, Any] | None = None

    @property
    def model_id(self) -> str | None:
        return self.sidecar["model_id"] if self.sidecar else None


LOCK_TIMEOUT = 30.0  # seconds a retraining waits for another one writing the same folder


@contextmanager
def calibrators_lock(out_dir: str | Path, timeout: float = LOCK_TIMEOUT) -> Iterator[None]:
    """One retraining at a time per calibrators folder, across threads and processes.

    Any folder but the package's shipped one is private, like the rest of the instance folder:
    created 0700, and every file in it left 0600 (the sidecars list reviewed submissions).
    """
    from filelock import FileLock, Timeout

    folder = Path(out_dir)
    private = not _is_shipped(folder)
    if private:
        private_folder(str(folder))
    else:
        folder.mkdir(parents=True, exist_ok=True)
    try:
        lock = FileLock(folder / ".lock", timeout=timeout, mode=0o600 if private else 0o644)
        lock.acquire()
    except Timeout:
        raise TrainingError(["another retraining is writing the calibrators just now; try again in a minute"]) from None
    try:
        yield
    finally:
        try:
            if private:
                for f in folder.iterdir():
                    if f.is_file() and not f.is_symlink():
                        os.chmod(f, 0o600)
        finally:
            lock.release()


def _is_shipped(folder: Path) -> bool:
    try:
        return folder.resolve() == CALIBRATORS_DIR.resolve()
    except OSError:
        return False


def rule_reports(rubric: Rubric, texts: Sequence[str]) -> list[ScoreReport]:
    """Score texts afresh with the current engine and rubric, keeping the rules' level.

    Training on stored reports would learn from whatever rubric and engine scored them then; the
    model must learn from the features the engine computes now. The rules' level is restored per
    report rather than by switching calibration off for the process, which would also reach a web
    server's other requests.
    """
    from .scoring import score_many
    from .scoring.calibrator import apply_calibration

    reports = list(score_many((f"review {i}", rubric, t) for i, t in enumerate(texts)))
    for r in reports:
        apply_calibration(r, rubric, enabled=False)
    return reports


def retrain_question(rubric: Rubric, essays: Sequence[Any], out_dir: str | Path | None = None, *,
                     always_apply: bool = False, trained_by: str = "command line",
                     lock_timeout: float = LOCK_TIMEOUT) -> Retraining:
    """Retrain one question's calibrator from reviewed essays (storage.ReviewedEssay) and decide.

    The new model replaces the one in use only if, in leave-one-out cross-validation over the
    reviews, it agrees with the teachers better (QWK) than the rules and than the engine as it is
    now on the same essays; `always_apply` installs it regardless. Otherwise no file changes.

    By default (`out_dir` None) the model is written to the instance folder's calibrators/ and
    the incumbent is the calibrator the engine uses now (retrained or shipped); the shipped files
    are never written. A folder given instead is written, and its own model is the incumbent.
    """
    from .scoring.calibrator import relevel

    incumbent_dir = out_dir
    out_dir = instance_calibrators_dir() if out_dir is None else out_dir

    essays = list(essays)
    if len(essays) < MIN_ESSAYS:
        raise TrainingError([f"{rubric.id}: {len(essays)} reviewed submissions, at least {MIN_ESSAYS} are needed"])
    with calibrators_lock(out_dir, lock_timeout):
        reports = rule_reports(rubric, [e.text for e in essays])
        unscored = [e.submission_id for e, r in zip(essays, reports) if r.status != "scored"]
        pairs = [(e, r) for e, r in zip(essays, reports) if r.status == "scored"]
        if len(pairs) < MIN_ESSAYS:
            raise TrainingError([f"{rubric.id}: only {len(pairs)} reviewed submissions can be scored now "
                                 f"(not: {', '.join(map(str, unscored))}), at least {MIN_ESSAYS} are needed"])
        essays, reports = [e for e, _r in pairs], [r for _e, r in pairs]
        levels, marks = [e.level for e in essays], [e.mark for e in essays]
        now, status = relevel(rubric, reports, directory=incumbent_dir)
        before = _group(agreement(levels, [lv for _m, lv in now], marks, [m for m, _lv in now]))
        incumbent = status.calibrator
        before_by = incumbent.model_id if incumbent else "rules"
        if incumbent is not None:
            seen = set(incumbent.sidecar.get("trained_on") or ())
            before["trained_on"] = sum(e.submission_id in seen for e in essays)
        cv = cross_validate(rubric, reports, levels, marks)
        after, rules = cv["model"], cv["rules"]
        figures = f"QWK {_f(after['qwk'])} in leave-one-out over {len(essays)} reviews, against {_f(before['qwk'])} " \
                  f"for {'the model in use (' + before_by + ')' if incumbent else 'the rules'}"
        if incumbent and before.get("trained_on"):
            figures += f", which was trained on {before['trained_on']} of them"
        better = _qwk(after) > _qwk(rules) and (incumbent is None or _qwk(after) > _qwk(before))
        if not (better or always_apply):
            outcome = "kept" if incumbent else "not_used"
            keep = f"kept {before_by}" if incumbent else "the rules still decide"
            return Retraining(rubric.id, len(essays), before_by, before, after, rules, outcome,
                              f"{rubric.id}: not better ({figures}): {keep}; no file changed")
        side = _fit_and_save(rubric, reports, marks, cv, out_dir, {
            "source": "database:teacher-reviews", "trained_by": trained_by,
            "trained_on": [e.submission_id for e in essays], "replaced": before_by,
            "apply": True, "apply_reason": figures + ("" if better else "; installed anyway (always_apply)"),
        })
    return Retraining(rubric.id, len(essays), before_by, before, after, rules, "installed",
                      f"{rubric.id}: installed {side['model_id']} ({figures})", side)


def retrain_from_reviews(question: str | Rubric, out_dir: str | Path | None = None, *, always_apply: bool = False,
                         teacher: Any = None, lock_timeout: float = LOCK_TIMEOUT) -> Retraining:
    """Retrain a question (id or rubric) from its reviewed submissions and record the run in the database.

    Needs an application context. `teacher` (a storage.Teacher) is who asked, and the reviews are
    those they may see (storage.Scope: an admin's are all of them); None for the CLI, which sees all.
    """
    from .storage import Scope, record_run, reviewed_essays

    rubric = question if isinstance(question, Rubric) else load_rubric(question)
    trained_by = teacher.email if teacher is not None else "command line"
    scope = Scope.of(teacher) if teacher is not None else Scope.everything()
    result = retrain_question(rubric, list(reviewed_essays(rubric.id, scope)), out_dir, always_apply=always_apply,
                              trained_by=trained_by, lock_timeout=lock_timeout)
    record_run(question=rubric.id, teacher_id=getattr(teacher, "id", None), trained_by=trained_by, reviews=result.reviews,
               before_by=result.before_by, before=result.before, after=result.after, rules=result.rules,
               outcome=result.outcome, model_id=result.model_id, message=result.message)
    return result


def train_from_db(out_dir: str | Path | None = None, always_apply: bool = False) -> dict[str, Retraining]:
    """Retrain each question that has at least MIN_ESSAYS teacher-reviewed submissions.

    Raises TrainingError when no question has enough. Needs an application context.
    """
    from .scoring.rubric import load_all_rubrics
    from .storage import Scope, reviewed_counts

    counts = reviewed_counts(Scope.everything())
    results, short = {}, []
    for qid in sorted(load_all_rubrics()):
        n = counts.get(qid, 0)
        if n < MIN_ESSAYS:
            short.append(f"{qid}: {n} reviewed submissions, at least {MIN_ESSAYS} are needed")
            continue
        results[qid] = retrain_from_reviews(qid, out_dir, always_apply=always_apply)
    if not results:
        raise TrainingError(short or ["no reviewed submissions"])
    return results


def format_retraining(results: dict[str, Retraining]) -> str:
    """Before and after, per question, for a terminal."""
    lines = [f"{'':4}{'':30}{'n':>4}{'QWK':>8}{'exact':>8}{'adjacent':>10}{'mark MAE':>10}"]
    for q, r in results.items():
        rows = [(f"before ({r.before_by})"[:29], r.before), ("rules alone", r.rules), ("after (new model, LOO)", r.after)]
        for label, g in rows:
            mae = "n/a" if g.get("mark_mae") is None else f"{g['mark_mae']:.2f}"
            lines.append(f"{q:4}{label:30}{g['n']:>4}{_f(g['qwk']):>8}{_f(g['exact']):>8}{_f(g['adjacent']):>10}{mae:>10}")
        lines.append(f"    {r.message}")
    return "\n".join(lines)


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
            lines.append(f"{q:4}{who:7}{g['n']:>4}{_f(g['qwk']):>8}{_f(g['exact']):>8}{_f(g['adjacent']):>10}"
                         f"{g['mark_mae']:>10.2f}")
        for who in ("rules", "model"):
            g = cv[who]
            lines.append(f"    {who}: needs_review (confidence < {side['needs_review_below']}) on {g['needs_review']} of "
                         f"{g['n']}; exact when flagged {_f(g['exact_when_flagged'])}, otherwise {_f(g['exact_when_not_flagged'])}")
        state = "used by the engine" if side["apply"] else "saved but NOT used (the rules decide)"
        lines.append(f"    {side['model_id']}: {state}: {side['apply_reason']}; alpha {side['alpha']:.3g}, "
                     f"mark error sd {side['residual_sd']:.2f}")
    lines.append(f"({cv['method']} cross-validation; wrote {out_dir})")
    return "\n".join(lines)


__all__ = ["EvaluationError", "Retraining", "TrainingError", "cross_validate", "evaluate_both", "format_retraining",
           "format_training", "labelled_reports", "retrain_from_reviews", "retrain_question", "train_from_db",
           "train_from_labels", "train_question"]
