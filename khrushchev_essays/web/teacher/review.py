"""One submission for a teacher: the essay with its evidence, the automatic report, and the override form.

The automatic score is shown as it was scored, always; the teacher's marks sit beside it, and every
change is listed with who made it, when and what it altered, each with a button to undo it.
"""

from __future__ import annotations

from decimal import Decimal

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from ...scoring import FLAG_EXPLANATIONS
from ...storage import Submission
from ...storage.queries import parse_int
from ...storage.reviews import (
    StaleReview,
    automatic_state,
    current_review,
    differences,
    history,
    latest_change_id,
    revert_change,
    save_review,
)
from .. import charts
from ..highlight import highlight
from ..views import format_mark, rubric_or_404
from . import bp, current_scope
from .forms import ActionForm, review_form


def submission_or_404(sub_id: int) -> Submission:
    """The submission if the signed-in teacher may see it; else the same 404 as for one that does not exist."""
    sub = current_scope().get(sub_id)
    if sub is None:
        abort(404, description="There is no submission with that number.")
    return sub


def _prefill(form, sub: Submission) -> None:
    """Start the form from the current review, or from the automatic marks when there is none."""
    state = current_review(sub)
    state = state.state() if state is not None else automatic_state(sub)
    form.mark.data = state["mark"]
    form.comment.data = state["comment"]
    for c, field in form.criterion_fields:
        value = state["criteria"].get(c.id, c.mark)
        field.data = Decimal(format_mark(value))  # "4", not "4.0"
    form.based_on.data = str(latest_change_id(sub))


@bp.route("/submissions/<int:sub_id>", methods=["GET", "POST"])
def review(sub_id: int):
    """GET: the review page. POST: save the teacher's marks and comment (then back here, 303)."""
    sub = submission_or_404(sub_id)
    report = sub.score_report()
    rubric = rubric_or_404(sub.question)
    form = review_form(report, rubric.max_mark)
    if request.method == "GET":
        _prefill(form, sub)
        return _render(sub, report, rubric, form)
    if not form.validate_on_submit():
        return _render(sub, report, rubric, form, status=422)
    based_on = parse_int(form.based_on.data)
    try:
        change = save_review(
            sub, current_user, mark=form.mark.data, level=rubric.level_for_mark(form.mark.data),
            criteria={c.id: float(field.data) for c, field in form.criterion_fields},
            comment=form.comment.data or "", based_on=based_on,
        )
    except StaleReview:
        flash("Another teacher changed this review while you were editing it. Their version is below: "
              "make your change again if it is still needed.", "error")
        return redirect(url_for(".review", sub_id=sub.id), code=303)
    flash("Review saved: the student now sees your mark and comment." if change else "Nothing had changed.", "info")
    return redirect(url_for(".review", sub_id=sub.id), code=303)


@bp.post("/submissions/<int:sub_id>/revert/<int:change_id>")
def revert(sub_id: int, change_id: int):
    """Undo one change: the review goes back to how it was before it (recorded as a change itself)."""
    sub = submission_or_404(sub_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        revert_change(sub, change_id, current_user)
    except LookupError:
        abort(404, description="That change is not part of this submission's history.")
    flash("Change undone.", "info")
    return redirect(url_for(".review", sub_id=sub.id) + "#history", code=303)


def _render(sub, report, rubric, form, status: int = 200):
    auto = automatic_state(sub)
    changes = [(ch, differences(ch.before, ch.after, auto)) for ch in history(sub)]
    names = {c.id: c.name for c in report.criteria}
    try:
        band = rubric.band(report.level) if report.level is not None else None
    except KeyError:
        band = None
    return render_template(
        "teacher/review.html", sub=sub, report=report, rubric=rubric, form=form, band=band,
        review=current_review(sub), changes=changes, criterion_names=names, action_form=ActionForm(formdata=None),
        essay=highlight(sub.text, report),
        flags=[(f, FLAG_EXPLANATIONS.get(f, "")) for f in report.flags],
        bars={c.id: charts.criterion_bar(c.name, c.mark, c.max_mark) for c in report.criteria},
        sum_criteria=sum(c.mark for c in report.criteria),
    ), status
