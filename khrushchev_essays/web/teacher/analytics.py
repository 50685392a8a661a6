"""Class analytics: per question, levels, factor coverage by class, missing factors, flags, and
how far the automatic marks agree with teachers' reviews, before and after retraining the
calibrator from those reviews. Filtered by class and date like the dashboard."""

from __future__ import annotations

from dataclasses import replace

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from ...calibration import MIN_ESSAYS, TrainingError, calibrator_status, retrain_from_reviews
from ...storage import recent_runs, reviewed_counts
from ...storage.queries import Filters, filter_choices, find_all
from ..views import rubrics
from . import bp, current_scope
from .figures import question_figures
from .forms import ActionForm
from .svg import heat_class, level_distribution


@bp.get("/analytics")
def analytics():
    """Per-question figures and charts over the essays matching the class/date/attempt filters."""
    base = Filters.from_args(request.args)
    # A student who revised three times is one student: by default each essay counts once, as its
    # latest attempt ("attempts=all" counts every attempt).
    base = Filters(class_code=base.class_code, date_from=base.date_from, date_to=base.date_to,
                   attempts=base.attempts or "latest")
    scope = current_scope()
    reviews = reviewed_counts(scope)
    sections = []
    for qid, rubric in rubrics().items():
        fig = question_figures(rubric, find_all(replace(base, question=qid), scope))
        status = calibrator_status(rubric)
        sections.append({
            "fig": fig,
            "levels_svg": level_distribution(fig.auto_levels, fig.teacher_levels if fig.reviewed else None),
            "calibrator": status.calibrator.sidecar if status.active else None,
            "rules_reason": status.reason,
            "calibrator_origin": status.origin,
            "passed_over": status.passed_over,
            "runs": recent_runs(qid, scope),
            "all_reviews": reviews.get(qid, 0),
            "form": ActionForm(),
        })
    # Narrowed by class or date (counting latest attempts is the default, not a narrowing).
    narrowed = any(base.to_args(attempts="").values())
    return render_template("teacher/analytics.html", f=base, narrowed=narrowed, sections=sections,
                           classes=filter_choices(scope)["classes"], min_reviews=MIN_ESSAYS,
                           heat_class=heat_class)


@bp.post("/analytics/retrain/<qid>")
def retrain(qid: str):
    """Retrain `qid`'s calibrator from every reviewed submission of that question, then show before and after."""
    rubric = rubrics().get(qid)
    if rubric is None:
        abort(404)
    # The CSRF token is checked for every POST before any view runs (web.csrf).
    try:
        # A second teacher pressing the button meanwhile is told to wait rather than queued behind.
        # Written to instance/calibrators (tried before the shipped models, which are never overwritten).
        result = retrain_from_reviews(rubric, teacher=current_user._get_current_object(),
                                      lock_timeout=1.0)
    except TrainingError as exc:
        flash("Cannot retrain: " + "; ".join(exc.problems), "error")
    else:
        current_app.logger.info("retraining %s by %s: %s", qid, current_user.email, result.message)
        flash(_outcome_message(result), "info")
    return redirect(url_for("teacher.analytics", _anchor=qid), code=303)


def _outcome_message(result) -> str:
    """The outcome in plain words (how many of the reviewed essays each gets to the teacher's level),
    then the technical figure."""
    after, before = _q(result.after.get("qwk")), _q(result.before.get("qwk"))
    then = "the rules" if result.before_by == "rules" else "the model in use"
    head = {"installed": "Retrained: the new model is now used",
            "kept": "Retrained, but the model in use was kept",
            "not_used": "Retrained, but the rules still set the level"}[result.outcome]
    n = result.reviews

    def same(g) -> str:
        return "n/a" if g.get("exact") is None else str(round(g["exact"] * n))

    return (f"{head}. It gives your level on {same(result.after)} of your {n} reviewed essays (each judged without "
            f"having seen it), against {same(result.before)} for {then}. Agreement with {n} reviews (QWK): {after} "
            f"for the new model against {before} for {then}.")


def _q(x) -> str:
    return "n/a" if x is None else f"{x:.2f}"
