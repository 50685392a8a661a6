"""The printable class pack: one page per essay matching the dashboard's filters (each student's
latest attempt unless "every attempt" is asked for), with the student's name, mark and level (the
teacher's once reviewed), the teacher's comment, the next steps, and the feedback link as text and
as a QR code, for a teacher whose students never typed their essays into the site (an upload) or
who wants paper in the lesson. Print CSS (app.css, "class pack") gives each essay its own sheet and
drops the site's navigation.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from flask import render_template, request
from flask_login import current_user

from ...scoring.feedback import hedge, to_full_marks
from ...storage import Submission, record_event
from ...storage.queries import Filters, find_all
from ...storage.release import feedback_visible
from ...storage.reviews import current_review
from ..links import feedback_link, qr_svg
from ..views import rubrics
from . import bp, current_scope

NEXT_STEPS_MAX = 4  # what fits on the sheet beside the rest


@dataclass(frozen=True, slots=True)
class PackPage:
    sub: Submission
    name: str
    mark: int | None
    level: int | None
    reviewed: bool
    comment: str
    next_steps: list[str]
    link: str
    qr: str
    held: bool = False  # the class holds feedback and this essay is not released: no mark on paper either


def _next_steps(sub: Submission) -> list[str]:
    """The report's next steps as the feedback page words them; for a strong essay with none, what
    stands between it and full marks."""
    report = sub.score_report()
    feedback = report.feedback or {}
    steps = [hedge(s) for s in feedback.get("next_steps", [])]
    if not steps:
        rubric = rubrics().get(sub.question)
        full = feedback.get("to_full_marks")
        steps = [hedge(s) for s in (full if full is not None else (to_full_marks(rubric, report) if rubric else []))]
    if not steps and report.status == "scored" and report.mark == report.max_mark:
        steps = [FULL_MARKS_STEP]  # as the feedback page says it
    return steps[:NEXT_STEPS_MAX]


FULL_MARKS_STEP = "Full marks: every part of the mark scheme is at its maximum. Try the other question next."


def pack_page(sub: Submission) -> PackPage:
    review = current_review(sub)
    name = sub.student_name or sub.source_ref or "Anonymous"
    link = feedback_link(sub)
    if not feedback_visible(sub):
        # Held feedback stays held on paper: the sheet carries the link, not the mark.
        return PackPage(sub=sub, name=name, mark=None, level=None, reviewed=review is not None, comment="",
                        next_steps=[], link=link, qr=qr_svg(link, f"QR code of {name}’s feedback link"), held=True)
    return PackPage(
        sub=sub, name=name,
        mark=review.mark if review else sub.mark, level=review.level if review else sub.level,
        reviewed=review is not None, comment=(review.comment or "").strip() if review else "",
        next_steps=_next_steps(sub), link=link, qr=qr_svg(link, f"QR code of {name}’s feedback link"),
    )


@bp.get("/pack")
def class_pack():
    """The pack for the essays matching the filters in the query string, in the order of names."""
    f = Filters.from_args(request.args)
    f = replace(f, attempts=f.attempts or "latest")
    # In order of name (the dashboard's order would put unreviewed needs-review essays first).
    subs = sorted(find_all(f, current_scope()),
                  key=lambda s: ((s.student_name or s.source_ref or "").casefold(), s.question, s.created_at, s.id))
    record_event("class_pack", current_user, count=len(subs), detail={"filters": f.to_args(search="")})
    pages = [pack_page(s) for s in subs]
    return render_template("teacher/pack.html", f=f, pages=pages)
