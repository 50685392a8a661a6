"""The dashboard: every submission in a table, filtered, searched, sorted and paged."""

from __future__ import annotations

from flask import render_template, request, url_for

from ...scoring import FLAG_EXPLANATIONS
from ...storage.queries import DEFAULT_SORT, Filters, filter_choices, find_page, parse_int
from ..views import rubrics
from . import bp, current_scope

# The sort a column starts with when first clicked: newest dates and highest marks first, names A-Z.
FIRST_ORDER = {"date": "desc", "mark": "desc", "level": "desc", "flags": "desc", "reviewed": "asc"}
COLUMNS = (("student", "Student"), ("class", "Class"), ("question", "Question"), ("date", "Submitted"),
           ("mark", "Mark"), ("level", "Level"), ("flags", "Flags"), ("reviewed", "Reviewed"))


def sort_link(f: Filters, column: str) -> str:
    """The URL that sorts by `column`; on the column already sorted by, the opposite order."""
    if f.sort == column:
        order = "asc" if f.order == "desc" else "desc"
    else:
        order = FIRST_ORDER.get(column, "asc")
    return url_for("teacher.dashboard", **f.to_args(sort=column, order=order))


@bp.get("/")
def dashboard():
    """The submissions table with its filters; unreviewed needs_review essays come first."""
    f = Filters.from_args(request.args)
    scope = current_scope()
    page = find_page(f, scope, parse_int(request.args.get("page"), 1) or 1)
    choices = filter_choices(scope)
    flags = sorted({*FLAG_EXPLANATIONS, *choices["flags"]})
    return render_template(
        "teacher/dashboard.html", f=f, page=page, classes=choices["classes"], flags=flags,
        questions=list(rubrics().values()), columns=COLUMNS, sort_link=sort_link, default_sort=DEFAULT_SORT,
        page_url=lambda n: url_for("teacher.dashboard", **f.to_args(), page=n),
    )
