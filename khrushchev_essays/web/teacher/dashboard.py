"""The dashboard: every submission in a table, filtered, searched, sorted and paged, with a bulk
"agree with the automatic mark" for ticked rows. `ListState` is the list's place (filters, sort,
page, page size, and when it was shown) that the review pages carry along."""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from datetime import datetime, timezone

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from ...scoring import FLAG_EXPLANATIONS
from ...storage.look_again import open_count
from ...storage.queries import DEFAULT_SORT, PAGE_SIZES, PER_PAGE, Filters, filter_choices, find_page, parse_int
from ...storage.reviews import agree_with_automatic
from ..views import rubrics
from . import bp, current_scope
from .forms import ActionForm


def now_ms() -> int:
    """Now, in epoch milliseconds: the `at=` a list carries (reviews are timed to the microsecond)."""
    return time.time_ns() // 1_000_000


BULK_MAX = max(PAGE_SIZES)  # a bulk action names at most one page of rows


@dataclass(frozen=True, slots=True)
class ListState:
    """Where a teacher is in the submissions list: the filters and sort, the page and its size.

    It rides in the query string of the dashboard and of every review page reached from it, and of
    every form those pages post, so a save, an undo or the breadcrumb back lands on the same list.
    """

    filters: Filters
    page: int = 1
    per_page: int = PER_PAGE
    at: int | None = None  # when the list was shown (epoch milliseconds): its order holds while reviewing

    @classmethod
    def from_args(cls, args) -> ListState:
        size = parse_int(args.get("per_page"))
        raw = (args.get("at") or "").strip()
        # Milliseconds up to the year 9999 (15 digits at most); anything else reads as "now".
        at = int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 15 and int(raw) <= 253402300799999 else None
        return cls(Filters.from_args(args), parse_int(args.get("page"), 1) or 1,
                   size if size in PAGE_SIZES else PER_PAGE, at)

    @property
    def as_of(self) -> datetime | None:
        return datetime.fromtimestamp(self.at / 1000, timezone.utc) if self.at is not None else None

    def args(self, **changes) -> dict[str, str]:
        """The query string (empty and default values left out)."""
        state = replace(self, **changes) if changes else self
        out = state.filters.to_args()
        if state.page > 1:
            out["page"] = str(state.page)
        if state.per_page != PER_PAGE:
            out["per_page"] = str(state.per_page)
        if state.at is not None:
            out["at"] = str(state.at)
        return out

    def list_url(self, **changes) -> str:
        return url_for("teacher.dashboard", **self.args(**changes))

    def review_url(self, sub_id: int, **changes) -> str:
        return url_for("teacher.review", sub_id=sub_id, **self.args(**changes))


# The sort a column starts with when first clicked: newest dates and highest marks first, names A-Z.
FIRST_ORDER = {"date": "desc", "mark": "desc", "level": "desc", "flags": "desc", "reviewed": "asc"}
COLUMNS = (("student", "Student"), ("class", "Class"), ("question", "Question"), ("date", "Submitted"),
           ("mark", "Mark"), ("level", "Level"), ("flags", "Flags"), ("reviewed", "Reviewed"))


def sort_link(state: ListState, column: str) -> str:
    """The URL that sorts by `column` (from page 1, the page size kept); on the column already
    sorted by, the opposite order."""
    f = state.filters
    if f.sort == column:
        order = "asc" if f.order == "desc" else "desc"
    else:
        order = FIRST_ORDER.get(column, "asc")
    return state.list_url(filters=replace(f, sort=column, order=order), page=1, at=None)


@bp.get("/")
def dashboard():
    """The submissions table with its filters; unreviewed needs_review essays come first."""
    state = ListState.from_args(request.args)
    f, scope = state.filters, current_scope()
    if state.at is None:  # a fresh look at the list: its order is as of now, for the pages it links to
        state = replace(state, at=now_ms())
    page = find_page(f, scope, state.page, state.per_page, state.as_of)
    state = replace(state, page=page.number)  # past the end reads as the last page
    choices = filter_choices(scope)
    flags = sorted({*FLAG_EXPLANATIONS, *choices["flags"]})
    factor_names = {fa.id: fa.name for r in rubrics().values() for fa in r.factors}
    return render_template(
        "teacher/dashboard.html", f=f, page=page, classes=choices["classes"], flags=flags, state=state,
        questions=list(rubrics().values()), columns=COLUMNS, sort_link=sort_link, default_sort=DEFAULT_SORT,
        page_url=lambda n: state.list_url(page=n), page_sizes=PAGE_SIZES, bulk_form=ActionForm(formdata=None),
        factor_names=factor_names,
        asked_count=open_count(scope),
    )


@bp.post("/agree")
def bulk_agree():
    """Agree with the automatic mark of every selected row, recorded per essay like a single review.

    All or nothing: a row the teacher may not see (another class's, or none at all) refuses the
    whole request with the same 404 as a review page, and nothing is recorded.
    """
    state = ListState.from_args(request.args)
    if not ActionForm().validate_on_submit():
        abort(400, description="The form had expired: reload the page and try again.")
    wanted = [parse_int(v) for v in request.form.getlist("ids")]
    if any(v is None for v in wanted) or len(wanted) > BULK_MAX:
        abort(400, description="The selection was not understood: reload the page and try again.")
    if not wanted:
        flash("Tick the essays whose automatic mark you agree with first.", "error")
        return redirect(state.list_url(), code=303)
    scope = current_scope()
    subs = [scope.get(v) for v in dict.fromkeys(wanted)]
    if any(s is None for s in subs):
        abort(404, description="There is no submission with that number.")
    recorded = 0
    for sub in subs:
        recorded += agree_with_automatic(sub, current_user) is not None
    same = len(subs) - recorded
    flash(f"Agreed with the automatic mark on {recorded} essay{'' if recorded == 1 else 's'}"
          + (f" ({same} already had {'it' if same == 1 else 'them'})." if same else "."), "info")
    return redirect(state.list_url(), code=303)
