"""The student side: the questions, the essay form, and the feedback page for each submission."""

from __future__ import annotations

import time

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from flask_wtf.csrf import CSRFError

from ..scoring import FLAG_EXPLANATIONS, Rubric, score
from ..scoring.feedback import hedge, to_full_marks
from ..sources import marking_index
from ..storage import SchoolClass, Submission, attempt_history, class_by_code, get_by_token, save_submission
from ..storage.look_again import LookAgainError, ask, can_ask, requests_for
from ..storage.privacy import DEFAULT_RETENTION_DAYS
from ..storage.release import feedback_visible
from ..storage.reviews import current_review
from . import charts
from .feedback_view import argument_view, cap_text, held_back, mark_steps, status_word
from .forms import EssayForm, LookAgainForm
from .highlight import highlight
from .limits import essay_limit, limiter, look_again_limit
from .views import format_date, rubric_or_404, rubrics

bp = Blueprint("practice", __name__)

# Shown for a flag the engine adds before this page learns its wording.
FALLBACK_FLAG_TEXT = "The marker noticed something unusual about this essay; your teacher may want to look at it."


@bp.get("/")
def index():
    """Both questions, with what examiners reward and the suggested time and length."""
    return render_template("practice/index.html", questions=list(rubrics().values()))


@bp.route("/questions/<qid>", methods=["GET", "POST"])
@essay_limit
def question(qid: str):
    """The question's guidance and the essay form; a valid post is scored, stored and redirected."""
    return _submit_or_show(rubric_or_404(qid), EssayForm(), parent=None)


@bp.get("/privacy")
def privacy():
    """What is stored, who can see it, how long it is kept and how to have it deleted, in plain words."""
    days = int(current_app.config.get("RETENTION_DAYS") or DEFAULT_RETENTION_DAYS)
    return render_template("practice/privacy.html", retention_days=days, retention_months=round(days / 30.4))


@bp.get("/feedback/<token>")
def feedback(token: str):
    """Everything the marker concluded about one submission, explained: the teacher's word first
    once reviewed, then the mark and what to do next, then how the mark was made, the argument as
    the engine read it, and the essay. In a class that holds feedback until review, nothing of the
    mark until a teacher releases it."""
    return _render_feedback(_submission_or_404(token))


@bp.post("/feedback/<token>/look-again")
@look_again_limit
def look_again(token: str):
    """The student asks their teacher to look again at the mark (one open request per essay)."""
    sub = _submission_or_404(token)
    form = LookAgainForm()
    if not form.validate_on_submit():
        return _render_feedback(sub, look_form=form, status=422)
    try:
        ask(sub, form.reason.data)
    except LookAgainError as exc:
        form.reason.errors = [*form.reason.errors, str(exc)]
        return _render_feedback(sub, look_form=form, status=422)
    return redirect(url_for(".feedback", token=sub.token, _anchor="look-again"), code=303)


def _render_feedback(sub: Submission, look_form: LookAgainForm | None = None, status: int = 200):
    rubric = rubric_or_404(sub.question)
    history = attempt_history(sub)
    shown = {a.id: feedback_visible(a) for a in history}
    requests = requests_for(sub)
    common = dict(
        sub=sub, rubric=rubric, history=history, shown=shown,
        requests=requests, answered=[r for r in requests if not r.is_open],
        open_request=next((r for r in requests if r.is_open), None),
        can_ask=can_ask(sub), look_form=look_form or LookAgainForm(formdata=None),
    )
    if not shown[sub.id]:
        # Held until a teacher releases it: no mark, level, report or highlight reaches the page.
        common["recent"] = _recent_entry(sub, rubric, None)
        return render_template("practice/feedback_held.html", **common), status
    report = sub.score_report()
    argument = argument_view(sub.text, report, rubric)
    feedback = report.feedback or {}
    full = feedback.get("to_full_marks")
    credited = any(c.mark > 0 for c in report.criteria)
    to_full = [hedge(s) for s in (full if full is not None else to_full_marks(rubric, report))]
    # A strong essay's next steps are the advice in its "to full marks" lines: shown once.
    next_steps = [s for s in (hedge(s) for s in feedback.get("next_steps", [])) if not any(s in line for line in to_full)]
    review = current_review(sub)
    visible_history = [a for a in history if shown[a.id]]
    return render_template(
        "practice/feedback.html",
        **common,
        report=report,
        band=_band(rubric, report.level),
        # A stored report from before the Level-1 floor can hold 0 although criteria gave credit:
        # it is never described as "nothing relevant".
        credited_zero=report.mark == 0 and credited and "not_english" not in report.flags,
        essay=highlight(sub.text, report, argument, by_clause=True),
        argument=argument,
        steps=mark_steps(report, rubric),
        cap_text=cap_text,
        status_word=status_word,
        # Reports stored before these wordings changed are shown with the same honest wording.
        next_steps=next_steps,
        strengths=list(feedback.get("strengths", [])),
        to_full=to_full,
        comments={c.id: hedge(c.comment) for c in report.criteria},
        # One list of what held the mark back: each flag with the limit it triggers, never twice.
        held_back=held_back(report, FLAG_EXPLANATIONS, FALLBACK_FLAG_TEXT),
        review_note=FLAG_EXPLANATIONS.get("needs_review") if "needs_review" in report.flags else None,
        teacher_review=review,  # once reviewed, the page leads with the teacher's mark and comment
        teacher_band=_band(rubric, review.level) if review is not None else None,
        recent=_recent_entry(sub, rubric, review.mark if review is not None else report.mark, report.max_mark),
        mark_scale=charts.mark_scale(report.mark, report.max_mark, rubric.levels),
        scale_bands=charts.scale_bands(rubric.levels),
        bars={c.id: charts.criterion_bar(c.name, c.mark, c.max_mark) for c in report.criteria},
        progress=charts.progress_chart(
            [charts.Point(s.attempt, s.mark, s.id == sub.id) for s in visible_history], report.max_mark
        )
        if len(visible_history) > 1
        else None,
    ), status


def _recent_entry(sub: Submission, rubric: Rubric, mark: int | None, max_mark: int = 25) -> dict:
    """What this device's list of recent feedback keeps about the page (in localStorage, never sent):
    the question, the attempt, the date, the link, and the mark only once the student may see it."""
    return {"url": url_for(".feedback", token=sub.token), "title": rubric.title, "question": rubric.question,
            "attempt": sub.attempt, "date": format_date(sub.created_at), "submitted": sub.created_at.isoformat(),
            "mark": f"{mark}/{max_mark}" if mark is not None else None}


@bp.route("/feedback/<token>/revise", methods=["GET", "POST"])
@essay_limit
def revise(token: str):
    """The essay form pre-filled with an earlier attempt; the new attempt is linked to it."""
    parent = _submission_or_404(token)
    rubric = rubric_or_404(parent.question)
    if request.method == "GET":
        # The class's code as it is now (it may have been regenerated); an old free-text code is not offered.
        code = parent.klass.spaced_code if parent.klass is not None else ""
        prefill = {"text": parent.text, "student_name": parent.student_name, "class_code": code}
        return _render_form(rubric, EssayForm(data=prefill), parent=parent)
    return _submit_or_show(rubric, EssayForm(), parent=parent)


@bp.errorhandler(CSRFError)
def csrf_expired(error: CSRFError):
    """Show the form again with the essay kept, instead of losing 45 minutes of writing.

    A missing or stale token usually means the session ran out while the student was writing;
    nothing is scored or stored, and the fresh form carries a new token.
    """
    if request.endpoint == "practice.look_again":
        return _look_again_refused(400, "This form had expired: reload the page and ask again. Nothing was sent.")
    return _form_again(
        400, "Form expired", "This form had expired. Go back, reload the page and try again.",
        "For your safety this form was not sent, because the page had been open a long time or "
        "your browser blocked its cookie. Your essay is still below: press the button to submit it again.")


@bp.errorhandler(429)
def too_many(error):
    """Over the essay rate limit (web/limits.py): the essay is kept on the form, nothing is marked."""
    wait = _retry_after()
    if request.endpoint == "practice.look_again":
        return _look_again_refused(429, f"Too many requests were sent from your network just now. Wait {wait} and "
                                        "try again. Nothing was sent.")
    return _form_again(
        429, "Too many essays at once", f"Too many essays were sent from your network just now. Wait {wait} and try again.",
        f"Too many essays were sent from your network in the last minute, so this one was not marked yet. "
        f"Your essay is still below: wait {wait} and press the button again.")


def _look_again_refused(status: int, message: str):
    """The feedback page again, with why the request to look again was not sent and the reason kept."""
    sub = get_by_token((request.view_args or {}).get("token", ""))
    if sub is None:
        return render_template("errors/error.html", code=status, title="Not sent", message=message), status
    form = LookAgainForm()  # the reason as posted, with a fresh token
    form.reason.errors = [message]
    return _render_feedback(sub, look_form=form, status=status)


def _retry_after() -> str:
    """How long until the limit lets the essay through: seconds when Flask-Limiter knows, else "a minute"."""
    current = limiter.current_limit
    seconds = int(current.reset_at - time.time()) if current is not None else 0
    return f"{seconds} second{'s' if seconds != 1 else ''}" if 0 < seconds <= 3600 else "a minute"


def _form_again(status: int, title: str, message: str, notice: str):
    """The essay form as it was posted, with `notice` above it; a plain error page off the form routes."""
    view_args = request.view_args or {}
    parent = get_by_token(view_args["token"]) if "token" in view_args else None
    qid = parent.question if parent is not None else view_args.get("qid", "")
    rubric = rubrics().get(qid)
    if rubric is None:
        return render_template("errors/error.html", code=status, title=title, message=message), status
    return _render_form(rubric, EssayForm(), parent=parent, notice=notice, status=status)


def _submission_or_404(token: str) -> Submission:
    sub = get_by_token(token)
    if sub is None:
        abort(404, description="There is no feedback at this link. Check that you copied all of it.")
    return sub


def _band(rubric: Rubric, level: int | None):
    try:
        return rubric.band(level) if level is not None else None
    except KeyError:
        return None


def _submit_or_show(rubric: Rubric, form: EssayForm, parent: Submission | None):
    """A valid post is scored, stored and redirected to its feedback; anything else shows the form."""
    if form.validate_on_submit():
        klass = class_by_code(form.class_code.data) if form.class_code.data else None
        if form.class_code.data and klass is None:
            # Checked before marking: nothing is scored or stored, and the essay stays on the form.
            form.class_code.errors = [*form.class_code.errors, UNKNOWN_CODE.format(code=form.class_code.data)]
            return _render_form(rubric, form, parent=parent)
        sub = _score_and_store(form, rubric, parent=parent, klass=klass)
        if sub is not None:
            return redirect(url_for(".feedback", token=sub.token), code=303)
    return _render_form(rubric, form, parent=parent)


UNKNOWN_CODE = ("No class has the code {code}. Check the code your teacher gave you (it has six letters and "
                "numbers), or leave the box empty to practise on your own. Your essay has not been sent yet.")


def _score_and_store(form: EssayForm, rubric: Rubric, parent: Submission | None,
                     klass: SchoolClass | None) -> Submission | None:
    """Score the essay and store it; on an engine refusal put its reason on the form and store nothing."""
    text = form.text.data
    report = score(text, rubric, source="web", sources=marking_index(current_app.instance_path))
    if report.status != "scored":
        form.text.errors = [*form.text.errors, report.error or "This essay could not be marked."]
        return None
    return save_submission(text, report, student_name=form.student_name.data, klass=klass, source="web", parent=parent)


def _render_form(rubric: Rubric, form: EssayForm, parent: Submission | None, notice: str | None = None,
                 status: int | None = None):
    """The question page (or the revision page): guidance beside the form; 422 when the form has errors."""
    if status is None:
        status = 422 if form.errors or any(f.errors for f in form) else 200
    # A class that holds feedback until review: the revision page shows none of it either.
    previous = parent.score_report() if parent is not None and feedback_visible(parent) else None
    review = current_review(parent) if previous is not None else None
    previous_steps: list[str] = []
    if previous is not None:
        previous_rubric = rubrics().get(previous.question or "") or rubric
        full = previous.feedback.get("to_full_marks")
        full = full if full is not None else to_full_marks(previous_rubric, previous)
        # The steps as the feedback page words them: a strong essay's list is what stands between it and 25.
        previous_steps = [hedge(s) for s in (full or previous.feedback.get("next_steps", []))]
    return render_template(
        "practice/question.html",
        rubric=rubric,
        form=form,
        parent=parent,
        previous=previous,
        previous_steps=previous_steps,
        teacher_review=review,
        notice=notice,
        action=url_for(".revise", token=parent.token) if parent else url_for(".question", qid=rubric.id),
    ), status
