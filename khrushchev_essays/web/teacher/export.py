"""Export the submissions matching the dashboard's filters, as CSV (for a spreadsheet) or JSON.

Both carry, per essay, the automatic and the teacher's marks per criterion, the factors and the
flags. The CSV is UTF-8 with a byte-order mark and CRLF line ends, which Excel, LibreOffice and
Google Sheets all open without an import dialog, and every text cell that a spreadsheet would run
as a formula (=, +, -, @, tab, CR) is neutralised with the batch writers' helper, as `grade` does.
Each essay carries its student's feedback link (an absolute address, under PUBLIC_URL when set),
so a teacher who uploaded a class's essays can mail-merge or post the links: the link is the
student's key to their page, and an export holds only the essays of the teacher's own classes.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime
from typing import Any

from flask import Response, request
from flask_login import current_user

from ...batch import neutralise_cell
from ...storage import Submission, record_event
from ...storage.db import utcnow
from ...storage.queries import Filters, find_all
from ..links import feedback_link
from . import bp, current_scope

FIXED = (
    "id", "submitted_at", "student", "class", "class_code", "feedback_link", "question", "attempt", "source", "source_ref", "word_count",
    "auto_mark", "auto_level", "teacher_mark", "teacher_level", "final_mark", "final_level", "max_mark",
    "reviewed", "reviewed_by", "reviewed_at", "teacher_comment", "flags", "confidence",
)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat(timespec="seconds").replace("+00:00", "Z") if value else None


def _number(x: float | None) -> float | int | None:
    return None if x is None else int(x) if float(x).is_integer() else float(x)


def record(sub: Submission) -> dict[str, Any]:
    """One submission as the JSON export's object."""
    report, rv = sub.report or {}, sub.review
    teacher = None
    if rv is not None:
        teacher = {
            "mark": rv.mark, "level": rv.level,
            "criteria": {k: _number(v) for k, v in rv.criteria.items()},
            "comment": rv.comment, "reviewed_by": rv.teacher.email if rv.teacher else None,
            "reviewed_at": _iso(rv.updated_at),
        }
    return {
        "id": sub.id, "submitted_at": _iso(sub.created_at), "student": sub.student_name,
        "class": sub.klass.name if sub.klass is not None else None, "class_code": sub.class_code,
        "feedback_link": feedback_link(sub),
        "question": sub.question, "attempt": sub.attempt, "source": sub.source, "source_ref": sub.source_ref,
        "word_count": sub.word_count, "max_mark": sub.max_mark,
        "automatic": {
            "mark": sub.mark, "level": sub.level,
            "criteria": {c["id"]: _number(c["mark"]) for c in report.get("criteria", [])},
            "confidence": report.get("confidence"),
        },
        "teacher": teacher,
        "final": {"mark": rv.mark if rv else sub.mark, "level": rv.level if rv else sub.level,
                  "by": "teacher" if rv else "automatic"},
        "factors": {f["id"]: f["status"] for f in report.get("factors", [])},
        "flags": sub.flags,
    }


def csv_row(rec: dict[str, Any]) -> dict[str, Any]:
    """The JSON record flattened: fixed columns, then auto_/teacher_<criterion> and factor_<id>."""
    auto, teacher = rec["automatic"], rec["teacher"] or {}
    row = {
        **{k: rec[k] for k in ("id", "submitted_at", "student", "class", "class_code", "feedback_link", "question", "attempt", "source",
                               "source_ref", "word_count", "max_mark")},
        "auto_mark": auto["mark"], "auto_level": auto["level"],
        "teacher_mark": teacher.get("mark"), "teacher_level": teacher.get("level"),
        "final_mark": rec["final"]["mark"], "final_level": rec["final"]["level"],
        "reviewed": "yes" if rec["teacher"] else "no", "reviewed_by": teacher.get("reviewed_by"),
        "reviewed_at": teacher.get("reviewed_at"), "teacher_comment": teacher.get("comment"),
        "flags": ";".join(rec["flags"]), "confidence": auto["confidence"],
    }
    for cid, mark in auto["criteria"].items():
        row[f"auto_{cid}"] = mark
        row[f"teacher_{cid}"] = teacher.get("criteria", {}).get(cid)
    row.update({f"factor_{fid}": status for fid, status in rec["factors"].items()})
    return row


def write_csv(records: list[dict[str, Any]]) -> str:
    """The CSV text: header over the union of columns (both questions' criteria and factors), formula-safe."""
    rows = [csv_row(r) for r in records]
    columns = dict.fromkeys(FIXED)
    for row in rows:
        columns.update(dict.fromkeys(row))
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(columns), restval="", lineterminator="\r\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: "" if v is None else neutralise_cell(v) for k, v in row.items()})
    return "\ufeff" + out.getvalue()


def _download(body: str, mimetype: str, suffix: str) -> Response:
    name = f"khrushchev-essays-{utcnow():%Y-%m-%d-%H%M}.{suffix}"  # built here, never from user input
    return Response(body, mimetype=mimetype, headers={"Content-Disposition": f'attachment; filename="{name}"'})


def _exported(action: str, f: Filters) -> list[dict[str, Any]]:
    """The records the signed-in teacher may export under `f`; the export is logged (who, when, how many)."""
    records = [record(s) for s in find_all(f, current_scope())]
    # The filters are logged without the name searched for: the log never holds a student's name.
    record_event(action, current_user, count=len(records), detail={"filters": f.to_args(search="")})
    return records


@bp.get("/export.csv")
def export_csv():
    """CSV of the submissions matching the filters in the query string (the dashboard's)."""
    records = _exported("export_csv", Filters.from_args(request.args))
    return _download(write_csv(records), "text/csv; charset=utf-8", "csv")


@bp.get("/export.json")
def export_json():
    """JSON of the submissions matching the filters: {"exported_at", "filters", "count", "submissions"}."""
    f = Filters.from_args(request.args)
    records = _exported("export_json", f)
    body = {"exported_at": _iso(utcnow()), "filters": f.to_args(), "count": len(records), "submissions": records}
    return _download(json.dumps(body, ensure_ascii=False, indent=1), "application/json", "json")
