"""Retraining from teachers' reviews: a new model is installed only when, in leave-one-out over the
reviews, it agrees with the teachers better than the rules and than the model in use; one
retraining at a time per folder (`store.calibrators_lock`), and every run recorded in the database.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..scoring.report import ScoreReport
from ..scoring.rubric import Rubric, load_rubric
from .apply import apply_calibration, relevel
from .errors import TrainingError
from .evaluation import agreement
from .store import LOCK_TIMEOUT, calibrators_lock, instance_calibrators_dir
from .training import MIN_ESSAYS, comparable_qwk, cross_validate, figure, fit_and_save, without_confusion


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



def rule_reports(rubric: Rubric, texts: Sequence[str]) -> list[ScoreReport]:
    """Score texts afresh with the current engine and rubric, keeping the rules' level.

    Training on stored reports would learn from whatever rubric and engine scored them then; the
    model must learn from the features the engine computes now. The rules' level is restored per
    report rather than by switching calibration off for the process, which would also reach a web
    server's other requests.
    """
    from ..scoring import score_many

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
        before = without_confusion(agreement(levels, [lv for _m, lv in now], marks, [m for m, _lv in now]))
        incumbent = status.calibrator
        before_by = incumbent.model_id if incumbent else "rules"
        if incumbent is not None:
            seen = set(incumbent.sidecar.get("trained_on") or ())
            before["trained_on"] = sum(e.submission_id in seen for e in essays)
        cv = cross_validate(rubric, reports, levels, marks)
        after, rules = cv["model"], cv["rules"]
        figures = f"QWK {figure(after['qwk'])} in leave-one-out over {len(essays)} reviews, against {figure(before['qwk'])} " \
                  f"for {'the model in use (' + before_by + ')' if incumbent else 'the rules'}"
        if incumbent and before.get("trained_on"):
            figures += f", which was trained on {before['trained_on']} of them"
        better = comparable_qwk(after) > comparable_qwk(rules) and (incumbent is None or comparable_qwk(after) > comparable_qwk(before))
        if not (better or always_apply):
            outcome = "kept" if incumbent else "not_used"
            keep = f"kept {before_by}" if incumbent else "the rules still decide"
            return Retraining(rubric.id, len(essays), before_by, before, after, rules, outcome,
                              f"{rubric.id}: not better ({figures}): {keep}; no file changed")
        side = fit_and_save(rubric, reports, marks, cv, out_dir, {
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
    from ..storage import Scope, record_run, reviewed_essays

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
    from ..scoring.rubric import load_all_rubrics
    from ..storage import Scope, reviewed_counts

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
            lines.append(f"{q:4}{label:30}{g['n']:>4}{figure(g['qwk']):>8}{figure(g['exact']):>8}{figure(g['adjacent']):>10}{mae:>10}")
        lines.append(f"    {r.message}")
    return "\n".join(lines)


__all__ = ["Retraining", "format_retraining", "retrain_from_reviews", "retrain_question", "rule_reports", "train_from_db"]
