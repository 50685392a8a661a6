"""What the templates share: the rubrics, and filters for numbers and dates."""

from __future__ import annotations

from datetime import datetime, timezone

from flask import Flask, abort, current_app

from ..scoring import MAX_WORDS, Rubric, load_all_rubrics


def rubrics() -> dict[str, Rubric]:
    """Every question's rubric by id, read once per app (rubric files change only with a release)."""
    loaded = current_app.extensions.get("khrushchev_rubrics")
    if loaded is None:
        # Built whole, then published: a request on another thread never sees half the questions.
        loaded = dict(sorted(load_all_rubrics(current_app.config.get("RUBRICS_DIR")).items()))
        current_app.extensions["khrushchev_rubrics"] = loaded
    return loaded


def rubric_or_404(qid: str) -> Rubric:
    """The rubric for a question id from a URL or form, or a 404 page."""
    rubric = rubrics().get(qid)
    if rubric is None:
        abort(404, description="There is no practice question with that id.")
    return rubric


def format_mark(value: float | int | None) -> str:
    """A mark without a pointless ".0" (4.0 -> "4", 4.5 -> "4.5")."""
    if value is None:
        return "–"
    return f"{value:.1f}".removesuffix(".0")


def format_date(value: datetime | None) -> str:
    """A stored (UTC) timestamp in the school's time zone (the TIMEZONE setting), as
    "22 Nov 2026, 13:05 GMT" or, in summer, "22 Jun 2026, 14:05 BST"."""
    if not value:
        return ""
    if value.tzinfo is None:  # SQLite hands back naive datetimes; they were stored in UTC
        value = value.replace(tzinfo=timezone.utc)
    zone = current_app.config.get("TIMEZONE_INFO") or timezone.utc
    return value.astimezone(zone).strftime("%-d %b %Y, %H:%M %Z")


def init_app(app: Flask) -> None:
    """Register the filters and globals the templates use."""
    app.jinja_env.filters["mark"] = format_mark
    app.jinja_env.filters["date"] = format_date
    app.jinja_env.globals["rubrics"] = rubrics
    app.jinja_env.globals["MAX_WORDS"] = MAX_WORDS
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
