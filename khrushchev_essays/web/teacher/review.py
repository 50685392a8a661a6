"""One submission for a teacher: the essay with its evidence, the automatic report, and the override form.

The automatic score is shown as it was scored, always; the teacher's marks sit beside it, and every
change is listed with who made it, when and what it altered, each with a button to undo it.

The page knows the list it was opened from (the dashboard's filters, sort and page ride in its
query string, see dashboard.ListState): "Save and next" and "Agree and next" move through that
list, and every save, undo and the breadcrumb keep it.

The final mark follows the teacher's criterion marks through the rubric's curve (reviews.curved_mark)
unless the teacher sets it on purpose: by changing only the final mark, or by ticking "I set the
final mark myself". Criterion marks and a final mark both changed and disagreeing are refused with
a message, and nothing is saved.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal

from flask import abort, flash, redirect, render_template, request
from flask_login import current_user

from ...scoring import FLAG_EXPLANATIONS
from ...storage import Submission
from ...storage.look_again import LookAgainError, answer, requests_for
from ...storage.release import feedback_visible
from ...storage.queries import ordered_ids, parse_int
from ...storage.reviews import (
    StaleReview,
    agree_with_automatic,
    automatic_state,
    curved_mark,
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
from .dashboard import ListState, now_ms
from .forms import ActionForm, LookAgainAnswerForm, review_form

ACTIONS = ("save", "save_next", "agree_next")


def submission_or_404(sub_id: int) -> Submission:
    """The submission if the signed-in teacher may see it; else the same 404 as for one that does not exist."""
    sub = current_scope().get(sub_id)
    if sub is None:
        abort(404, description="There is no submission with that number.")
    return sub


@dataclass(frozen=True, slots=True)
class Place:
    """Where an essay sits in the list it was opened from."""

    state: ListState  # with the page that holds the essay
    index: int | None  # 0-based position, None when the essay is not in the list
    total: int
    prev_id: int | None
    next_id: int | None


def place_in_list(sub: Submission, state: ListState) -> Place:
    ids = ordered_ids(state.filters, current_scope(), state.as_of)
    if sub.id not in ids:
        return Place(state, None, len(ids), None, None)
    i = ids.index(sub.id)
    return Place(replace(state, page=i // state.per_page + 1), i, len(ids),
                 ids[i - 1] if i > 0 else None, ids[i + 1] if i + 1 < len(ids) else None)


def _state_of(sub: Submission) -> dict:
    review = current_review(sub)
    return review.state() if review is not None else automatic_state(sub)


def _prefill(form, sub: Submission) -> None:
    """Start the form from the current review, or from the automatic marks when there is none."""
    state = _state_of(sub)
    form.mark.data = state["mark"]
    form.comment.data = state["comment"]
    for c, field in form.criterion_fields:
        value = state["criteria"].get(c.id, c.mark)
        field.data = Decimal(format_mark(value))  # "4", not "4.0"
    form.based_on.data = str(latest_change_id(sub))


def final_mark(form, sub: Submission, rubric) -> int | None:
    """The final mark the form means, or None after adding the disagreement to the form's errors."""
    before = _state_of(sub)
    criteria = {c.id: float(field.data) for c, field in form.criterion_fields}
    curved = curved_mark(rubric, criteria)
    mark = int(form.mark.data)
    crit_changed = any(abs(v - float(before["criteria"].get(k, -1))) > 1e-9 for k, v in criteria.items())
    if form.own_mark.data or not crit_changed:
        return mark  # set on purpose (ticked, or the only thing changed), or nothing changed
    if mark != int(before["mark"]) and mark != curved:
        form.mark.errors = [*form.mark.errors, (
            f"Your criterion marks come to {curved} after the scheme’s curve, but the final mark says {mark}. "
            f"Change one of them, or tick “I set this mark myself” to keep {mark}.")]
        return None
    return curved


@bp.route("/submissions/<int:sub_id>", methods=["GET", "POST"])
def review(sub_id: int):
    """GET: the review page. POST: save the teacher's marks and comment (then here or the next essay, 303)."""
    sub = submission_or_404(sub_id)
    report = sub.score_report()
    rubric = rubric_or_404(sub.question)
    form = review_form(report, rubric.max_mark)
    state = ListState.from_args(request.args)
    if state.at is None:  # opened on its own: the list it walks through is as of now
        state = replace(state, at=now_ms())
    place = place_in_list(sub, state)
    if request.method == "GET":
        _prefill(form, sub)
        return _render(sub, report, rubric, form, place)
    action = request.form.get("do", "save")
    action = action if action in ACTIONS else "save"
    based_on = parse_int(form.based_on.data)
    if action == "agree_next":
        if not ActionForm().validate_on_submit():
            abort(400, description="The form had expired: reload the page and try again.")
        if based_on is not None and based_on != latest_change_id(sub):
            return _stale(sub, place)
        # The automatic marks, with whatever comment the form holds (it opens with the saved one).
        comment = form.comment.data if isinstance(form.comment.data, str) else None
        change = agree_with_automatic(sub, current_user, comment=comment)
        flash("Agreed with the automatic mark." if change else "Nothing had changed.", "info")
        return _onwards(sub, place, next_too=True)
    if not form.validate_on_submit():
        return _render(sub, report, rubric, form, place, status=422)
    mark = final_mark(form, sub, rubric)
    if mark is None:
        return _render(sub, report, rubric, form, place, status=422)
    try:
        change = save_review(
            sub, current_user, mark=mark, level=rubric.level_for_mark(mark),
            criteria={c.id: float(field.data) for c, field in form.criterion_fields},
            comment=form.comment.data or "", based_on=based_on,
        )
    except StaleReview:
        return _stale(sub, place)
    saved = ("Review saved: the student now sees your mark and comment." if feedback_visible(sub) else
             "Review saved. This class holds feedback: the student sees it once you release the class’s feedback.")
    flash(saved if change else "Nothing had changed.", "info")
    return _onwards(sub, place, next_too=action == "save_next")


def _stale(sub: Submission, place: Place):
    flash("Another teacher changed this review while you were editing it. Their version is below: "
          "make your change again if it is still needed.", "error")
    return redirect(place.state.review_url(sub.id), code=303)


def _onwards(sub: Submission, place: Place, next_too: bool):
    """After a save: this essay again, or the next one of the list, or the list after its last essay."""
    if not next_too:
        return redirect(place.state.review_url(sub.id), code=303)
    if place.next_id is not None:
        return redirect(place.state.review_url(place.next_id, page=(place.index + 1) // place.state.per_page + 1), code=303)
    flash("That was the last essay in this list." if place.index is not None
          else "This essay is not in the list you came from, so there is no next one.", "info")
    return redirect(place.state.list_url(), code=303)


@bp.post("/submissions/<int:sub_id>/look-again")
def answer_look_again(sub_id: int):
    """Answer the student's request to look again (which closes it); the answer shows on their page."""
    sub = submission_or_404(sub_id)
    form = LookAgainAnswerForm()
    state = ListState.from_args(request.args)
    if form.validate_on_submit():
        try:
            answer(sub, current_user._get_current_object(), form.answer.data)
        except LookAgainError as exc:
            flash(str(exc), "error")
        else:
            flash("Answer sent: the student sees it on their feedback page, and the request is closed.", "info")
        return redirect(state.review_url(sub.id) + "#look-again", code=303)
    report = sub.score_report()
    rubric = rubric_or_404(sub.question)
    review_f = review_form(report, rubric.max_mark, formdata=None)
    _prefill(review_f, sub)
    if state.at is None:
        state = replace(state, at=now_ms())
    return _render(sub, report, rubric, review_f, place_in_list(sub, state), status=422, answer_form=form)


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
    return redirect(ListState.from_args(request.args).review_url(sub.id) + "#history", code=303)


def _render(sub, report, rubric, form, place: Place, status: int = 200, answer_form=None):
    auto = automatic_state(sub)
    asked = requests_for(sub)
    changes = [(ch, differences(ch.before, ch.after, auto)) for ch in history(sub)]
    names = {c.id: c.name for c in report.criteria}
    try:
        band = rubric.band(report.level) if report.level is not None else None
    except KeyError:
        band = None
    return render_template(
        "teacher/review.html", sub=sub, report=report, rubric=rubric, form=form, band=band, place=place,
        review=current_review(sub), changes=changes, criterion_names=names, action_form=ActionForm(formdata=None),
        essay=highlight(sub.text, report),
        flags=[(f, FLAG_EXPLANATIONS.get(f, "")) for f in report.flags],
        bars={c.id: charts.criterion_bar(c.name, c.mark, c.max_mark) for c in report.criteria},
        sum_criteria=sum(c.mark for c in report.criteria),
        curve={"max": rubric.max_mark, "power": rubric.mark_curve},
        look_again=asked, open_request=next((r for r in asked if r.is_open), None),
        answer_form=answer_form or LookAgainAnswerForm(formdata=None), released=feedback_visible(sub),
    ), status
