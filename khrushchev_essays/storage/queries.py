"""Finding submissions for teachers: filters, search, sorting and pages, shared by the dashboard,
the export and the analytics so that all three always agree on "the essays matching these filters".

Every function here takes the viewer's `Scope` (storage.scope) as a required argument: what a
filter narrows is only ever the submissions the viewer may see.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import Select, and_, case, exists, func, or_, select
from sqlalchemy.orm import aliased, selectinload

from .classes import SchoolClass, class_by_code
from .db import MAX_INTEGER, db
from .look_again import OPEN as LOOK_AGAIN_OPEN
from .models import Submission, SubmissionFlag
from .scope import Scope
from .teachers import Review, ReviewChange

SORTS = ("date", "student", "class", "question", "mark", "level", "flags", "reviewed")
DEFAULT_SORT = "date"
PER_PAGE = 25
PAGE_SIZES = (25, 50, 100)  # what the dashboard offers; a class of 30 fits on one page of 50
SEARCH_MAX = 80


@dataclass(frozen=True, slots=True)
class Filters:
    """What a teacher asked to see. Built from query-string values; anything invalid is dropped, not an error."""

    question: str = ""
    class_code: str = ""
    level: int | None = None
    flag: str = ""
    reviewed: str = ""  # "", "yes" or "no"
    attempts: str = ""  # "" or "all": every attempt; "latest": each essay's latest attempt only
    date_from: date | None = None
    date_to: date | None = None
    search: str = ""
    covers: str = ""  # a factor id: only essays that mention or develop it (the analytics' heatmap cells)
    misses: str = ""  # a factor id: only essays where it was not found (the analytics' "most often missing")
    asked: str = ""  # "" or "open": only essays whose student asked for a second look not yet answered
    sort: str = DEFAULT_SORT
    order: str = "desc"  # "asc" | "desc"

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> Filters:
        """Read the dashboard's query string (q, class, level, flag, reviewed, attempts, from, to, search,
        covers, misses, asked, sort, order)."""

        def text(key: str, limit: int = 64) -> str:
            # Control characters (a NUL, which PostgreSQL refuses in any string) never filter anything.
            value = args.get(key) or ""
            return "".join(c for c in value if c >= " " and c != "\x7f").strip()[:limit]

        sort = text("sort")
        return cls(
            question=text("q", 32),
            class_code=text("class", 32).upper(),
            level=parse_int(args.get("level"), 0, 5),
            flag=text("flag"),
            reviewed=text("reviewed") if text("reviewed") in ("yes", "no") else "",
            attempts=text("attempts") if text("attempts") in ("all", "latest") else "",
            date_from=parse_date(args.get("from")),
            date_to=parse_date(args.get("to")),
            search=text("search", SEARCH_MAX),
            covers=text("covers"),
            misses=text("misses"),
            asked="open" if text("asked") == "open" else "",
            sort=sort if sort in SORTS else DEFAULT_SORT,
            order="asc" if text("order") == "asc" else "desc",
        )

    def to_args(self, **changes: object) -> dict[str, str]:
        """The query string for these filters (with `changes`), leaving out empty and default values."""
        f = replace(self, **changes) if changes else self  # type: ignore[arg-type]
        names = {"question": "q", "class_code": "class", "date_from": "from", "date_to": "to"}
        out = {}
        for fld in fields(f):
            value = getattr(f, fld.name)
            if value in (None, "") or (fld.name == "sort" and value == DEFAULT_SORT) or (fld.name == "order" and value == "desc"):
                continue
            out[names.get(fld.name, fld.name)] = value.isoformat() if isinstance(value, date) else str(value)
        return out

    @property
    def active(self) -> bool:
        """Whether any filter (not just a sort order) is set."""
        return any(self.to_args(sort=DEFAULT_SORT, order="desc").values())


# Query-string numbers and dates, for every page that reads them (dashboard, export, analytics,
# review): a value that is malformed or out of range reads as absent, never as a 500. Only ASCII
# digits count ("²".isdigit() is true, but int("²") raises), and at most 19 of them.
_MAX_DIGITS = len(str(MAX_INTEGER))
# The last day a filter can name: the day after it must still be a date (date.max + 1 overflows).
LAST_DATE = date(9998, 12, 31)


def parse_int(value: object, lo: int = 0, hi: int = MAX_INTEGER) -> int | None:
    """`value` (a query-string or form value) as an integer in [lo, hi], or None."""
    if not isinstance(value, str):
        return None
    value = value.strip()
    if not (value.isascii() and value.isdigit()) or len(value) > _MAX_DIGITS:
        return None
    number = int(value)
    return number if lo <= number <= hi else None


def parse_date(value: object) -> date | None:
    """`value` as an ISO date (2026-11-22) no later than LAST_DATE, or None."""
    if not isinstance(value, str) or not value.strip() or not value.isascii() or len(value) > 32:
        return None
    try:
        day = date.fromisoformat(value.strip())
    except ValueError:
        return None
    return day if day <= LAST_DATE else None


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=timezone.utc)


def _like(term: str) -> str:
    """A LIKE pattern that matches `term` literally (a search for "50%" is not a wildcard)."""
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


LATER = aliased(Submission)  # another attempt at the same essay, for "latest attempts only"
NEEDS_REVIEW = exists().where(SubmissionFlag.submission_id == Submission.id, SubmissionFlag.flag == "needs_review")
REVIEWED = exists().where(Review.submission_id == Submission.id)
# What the Class column shows: the class's name, else an old free-text code.
CLASS_LABEL = func.lower(func.coalesce(
    select(SchoolClass.name).where(SchoolClass.id == Submission.class_id).correlate(Submission).scalar_subquery(),
    Submission.class_code,
))
FLAG_COUNT = (
    select(func.count()).where(SubmissionFlag.submission_id == Submission.id).correlate(Submission).scalar_subquery()
)


def filtered(f: Filters, scope: Scope) -> Select:
    """SELECT the Submissions `scope` may see, with every filter applied (no ordering).

    The class filter is a class's join code, or the free-text code of essays from before classes
    (which belong to no class, so only admins see them).
    """
    stmt = scope.submissions()
    if f.question:
        stmt = stmt.where(Submission.question == f.question)
    if f.class_code:
        klass = class_by_code(f.class_code)
        if klass is not None:
            stmt = stmt.where(Submission.class_id == klass.id)
        else:
            stmt = stmt.where(Submission.class_id.is_(None), Submission.class_code == f.class_code)
    if f.level is not None:
        stmt = stmt.where(Submission.level == f.level)
    if f.flag:
        stmt = stmt.where(exists().where(SubmissionFlag.submission_id == Submission.id, SubmissionFlag.flag == f.flag))
    if f.reviewed == "yes":
        stmt = stmt.where(REVIEWED)
    elif f.reviewed == "no":
        stmt = stmt.where(~REVIEWED)
    if f.attempts == "latest":
        # A later attempt counts only in the same class: one elsewhere must not hide (or reveal) anything.
        stmt = stmt.where(~exists().where(LATER.root_id == Submission.root_id, LATER.attempt > Submission.attempt,
                                          LATER.class_id.is_not_distinct_from(Submission.class_id)))
    if f.date_from:
        stmt = stmt.where(Submission.created_at >= _start_of(f.date_from))
    if f.date_to:
        stmt = stmt.where(Submission.created_at < _start_of(f.date_to + timedelta(days=1)))
    if f.asked == "open":
        stmt = stmt.where(Submission.id.in_(LOOK_AGAIN_OPEN))
    if f.search:
        pattern = _like(f.search)
        stmt = stmt.where(or_(Submission.student_name.ilike(pattern, escape="\\"),
                              and_(Submission.student_name.is_(None), Submission.source_ref.ilike(pattern, escape="\\"))))
    if f.covers or f.misses:
        stmt = stmt.where(Submission.id.in_(_factor_matches(stmt, f)))
    return stmt


COVERED_STATUSES = ("mentioned", "developed")


def _factor_matches(stmt: Select, f: Filters) -> list[int]:
    """The ids among `stmt`'s submissions whose stored report gives the factors the statuses asked for.

    Factor statuses live in each report's JSON; reading them here, rather than with each database's
    own JSON functions, keeps one query for SQLite and PostgreSQL. Only the essays the other filters
    (and the scope) left are read.
    """
    out = []
    for sub_id, report in db.session.execute(stmt.with_only_columns(Submission.id, Submission.report)):
        status = {x.get("id"): x.get("status") for x in (report or {}).get("factors", []) if isinstance(x, dict)}
        if f.covers and status.get(f.covers) not in COVERED_STATUSES:
            continue
        if f.misses and status.get(f.misses) != "missing":
            continue
        out.append(sub_id)
    return out


def reviewed_as_of(moment: datetime):
    """Reviewed now and already before `moment` (a change to its review dates from then or earlier)."""
    return and_(REVIEWED, exists().where(ReviewChange.submission_id == Submission.id, ReviewChange.created_at <= moment))


def ordered(stmt: Select, f: Filters, as_of: datetime | None = None) -> Select:
    """Unreviewed essays flagged needs_review first (the marker is unsure of them), then the chosen sort.

    With `as_of` (when the list was shown), "unreviewed" means as it was then: an essay reviewed
    since keeps its place, so walking the list with "Save and next" never meets it twice.
    """
    column = {
        "date": Submission.created_at,
        "student": func.lower(func.coalesce(Submission.student_name, Submission.source_ref)),
        "class": CLASS_LABEL,
        "question": Submission.question,
        "mark": Submission.mark,
        "level": Submission.level,
        "flags": FLAG_COUNT,
        "reviewed": case((REVIEWED, 1), else_=0),
    }[f.sort]
    key = column.asc() if f.order == "asc" else column.desc()
    done = REVIEWED if as_of is None else reviewed_as_of(as_of)
    first = case((and_(NEEDS_REVIEW, ~done), 0), else_=1)
    return stmt.order_by(first, key.nulls_last(), Submission.id.desc())


@dataclass(frozen=True, slots=True)
class Page:
    """One page of results, with what the pager needs."""

    items: list[Submission]
    number: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def first_index(self) -> int:
        return 0 if not self.total else (self.number - 1) * self.per_page + 1

    @property
    def last_index(self) -> int:
        return min(self.total, self.number * self.per_page)


def find_page(f: Filters, scope: Scope, page: int = 1, per_page: int = PER_PAGE, as_of: datetime | None = None) -> Page:
    """The page `page` (clamped to the pages there are) of `scope`'s submissions matching `f`, in order."""
    stmt = filtered(f, scope)
    total = db.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    pages = max(1, -(-total // per_page))
    page = min(max(1, page), pages)
    rows = db.session.scalars(
        ordered(stmt, f, as_of).options(selectinload(Submission.review)).limit(per_page).offset((page - 1) * per_page)
    ).all()
    return Page(list(rows), page, per_page, total)


def ordered_ids(f: Filters, scope: Scope, as_of: datetime | None = None) -> list[int]:
    """The ids of `scope`'s submissions matching `f`, in dashboard order: what "next" and "previous"
    walk through on the review page (ids only, so a long list stays cheap)."""
    return list(db.session.scalars(ordered(filtered(f, scope), f, as_of).with_only_columns(Submission.id)).all())


def find_all(f: Filters, scope: Scope) -> list[Submission]:
    """Every one of `scope`'s submissions matching `f`, in dashboard order (for the export and the analytics)."""
    return list(db.session.scalars(ordered(filtered(f, scope), f).options(selectinload(Submission.review))).all())


def filter_choices(scope: Scope) -> dict[str, list]:
    """For the filter menus: `classes` as (value, label) pairs (the scope's classes, and for admins
    the free-text codes of class-less essays), and the flags that occur in the scope."""
    classes = [(k.join_code, k.label) for k in scope.classes()]
    if scope.admin:
        legacy = db.session.scalars(
            select(Submission.class_code).where(Submission.class_id.is_(None), Submission.class_code.is_not(None))
            .distinct().order_by(Submission.class_code)
        ).all()
        classes += [(code, f"{code} (old code, no class)") for code in legacy]
    flags = db.session.scalars(
        select(SubmissionFlag.flag).where(SubmissionFlag.submission_id.in_(scope.submissions().with_only_columns(Submission.id)))
        .distinct().order_by(SubmissionFlag.flag)
    ).all()
    return {"classes": classes, "flags": list(flags)}
