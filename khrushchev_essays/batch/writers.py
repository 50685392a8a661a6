"""Writers for batch results: a table for people, CSV for spreadsheets, JSON and JSONL for programs.

json and jsonl carry the published score report (`ScoreReport.to_dict()`) unchanged, written by
`to_json()` (a report that a pool worker already wrote as JSON, runner.EncodedReport, is written
as it came); csv flattens it to one row per essay; table is for reading in a terminal and is not
a contract.
`atomic_output` writes a file through a temporary file in the same folder, so a reader never sees
half a file and a failed run leaves the old file (or none) behind.
"""

from __future__ import annotations

import csv
import os
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from .runner import EncodedReport

if TYPE_CHECKING:
    from ..scoring import ScoreReport

FORMATS = ("table", "csv", "json", "jsonl")
FIXED_COLUMNS = (
    "source", "question", "status", "error", "mark", "max_mark", "level", "word_count", "flags", "confidence",
)
# A spreadsheet runs a cell that starts with one of these as a formula (OWASP, "CSV Injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@dataclass
class Summary:
    """What a batch came to: counts for the exit code and the closing line."""

    scored: int = 0
    failed: int = 0

    @property
    def total(self) -> int:
        return self.scored + self.failed

    def add(self, report: ScoreReport) -> None:
        if report.status == "scored":
            self.scored += 1
        else:
            self.failed += 1

    def line(self) -> str:
        """One sentence for people: how many inputs, scored and failed."""
        return f"{self.total} input(s): {self.scored} scored, {self.failed} failed"


def format_for_output(output: str | None, stdout_is_terminal: bool) -> str:
    """The default format: from --output's extension, else table on a terminal and jsonl in a pipe."""
    if output:
        suffix = Path(output).suffix.lower().lstrip(".")
        return suffix if suffix in ("csv", "json", "jsonl") else "table"
    return "table" if stdout_is_terminal else "jsonl"


def neutralise_cell(value: Any) -> Any:
    """Prefix a text cell that a spreadsheet would run as a formula with a quote; numbers pass."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _number(x: float | None, places: int = 2) -> float | int | str:
    if x is None:
        return ""
    return int(x) if float(x).is_integer() else round(float(x), places)


def _decoded(report):
    """A ScoreReport, from an EncodedReport (its JSON line) if need be."""
    return report.report() if isinstance(report, EncodedReport) else report


def csv_row(report: ScoreReport) -> dict[str, Any]:
    """One report as a flat CSV row: the fixed columns, then criterion_<id> and factor_<id>."""
    report = _decoded(report)
    row: dict[str, Any] = {
        "source": report.source,
        "question": report.question or "",
        "status": report.status,
        "error": report.error or "",
        "mark": _number(report.mark),
        "max_mark": report.max_mark if report.status == "scored" else "",
        "level": _number(report.level),
        "word_count": report.word_count if report.status == "scored" else "",
        "flags": ";".join(report.flags),
        "confidence": _number(report.confidence, 3),
    }
    row.update({f"criterion_{c.id}": _number(c.mark) for c in report.criteria})
    row.update({f"factor_{f.id}": f.status for f in report.factors})
    return row


def write_csv(reports: Iterable[ScoreReport], out: TextIO, summary: Summary) -> None:
    """CSV, one row per essay, columns over the union of the rubrics seen, formula-safe."""
    rows, columns = [], dict.fromkeys(FIXED_COLUMNS)  # a dict keeps first-seen column order
    for report in reports:  # buffered: the header needs every rubric's columns
        summary.add(report)
        row = csv_row(report)
        columns.update(dict.fromkeys(row))
        rows.append(row)
    writer = csv.DictWriter(out, fieldnames=list(columns), restval="", lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: neutralise_cell(v) for k, v in row.items()})


def write_jsonl(reports: Iterable[ScoreReport], out: TextIO, summary: Summary) -> None:
    """JSON Lines: one score report per line, written as each essay is scored."""
    for report in reports:
        summary.add(report)
        out.write(report.to_json() + "\n")
        out.flush()


def write_json(reports: Iterable[ScoreReport], out: TextIO, summary: Summary) -> None:
    """One JSON array of score reports, streamed so a large batch is not held twice in memory."""
    n = -1
    for n, report in enumerate(reports):
        summary.add(report)
        # "[" only with the first report: a batch stopped before any (no pipeline) writes nothing.
        out.write(("[" if n == 0 else ",") + "\n  " + report.to_json())
    out.write("[]\n" if n < 0 else "\n]\n")


def _printable(text: str, width: int | None = None) -> str:
    """Text safe for a terminal (no escape sequences from file names), cut to `width` from the left."""
    text = "".join(ch if ch.isprintable() else "?" for ch in text)
    if width and len(text) > width:
        text = "…" + text[-(width - 1) :]
    return text


def table_rows(reports: Iterable[ScoreReport], summary: Summary) -> Iterator[list[str]]:
    """The table's cells for each report (source, question, level, mark, words, flags or error)."""
    for r in reports:
        summary.add(r)
        r = _decoded(r)
        if r.status == "scored":
            yield [r.source, r.question or "-", str(r.level), f"{r.mark}/{r.max_mark}", str(r.word_count), ", ".join(r.flags)]
        else:
            # The message usually starts with the source, already in the first column.
            message = (r.error or "").removeprefix(f"{r.source}: ")
            yield [r.source, r.question or "-", "-", "-", "-", f"ERROR: {message}"]


def write_table(reports: Iterable[ScoreReport], out: TextIO, summary: Summary) -> None:
    """A fixed-width table for a terminal, with a closing count of scored and failed inputs."""
    header = ["SOURCE", "Q", "LEVEL", "MARK", "WORDS", "FLAGS / ERROR"]
    rows = [[_printable(c, 48 if i == 0 else None) for i, c in enumerate(row)] for row in table_rows(reports, summary)]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header) - 1)]
    for row in [header, *rows]:
        cells = [c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths))]
        out.write("  ".join([*cells, row[-1]]).rstrip() + "\n")
    out.write(f"\n{summary.line()}\n")


WRITERS = {"table": write_table, "csv": write_csv, "json": write_json, "jsonl": write_jsonl}


def write_reports(reports: Iterable[ScoreReport], fmt: str, out: TextIO) -> Summary:
    """Write the reports in `fmt` (one of FORMATS) as they arrive; return the counts."""
    summary = Summary()
    WRITERS[fmt](reports, out, summary)
    return summary


def check_writable(path: str, inputs: Iterable[str] = ()) -> str | None:
    """Why `path` cannot be written (before a long batch is scored), or None if it can."""
    target = Path(path)
    folder = target.parent
    if target.is_dir():
        return f"{path} is a folder"
    if any(p != "-" and Path(p).resolve() == target.resolve() for p in inputs):
        return f"{path} is one of the inputs: writing it would replace the essays"
    if not folder.is_dir():
        return f"the folder {folder} does not exist"
    if not os.access(folder, os.W_OK | os.X_OK):
        return f"the folder {folder} is not writable"
    return None


@contextmanager
def atomic_output(path: str) -> Iterator[TextIO]:
    """Write `path` all at once: into a temporary file beside it, renamed over it only on success."""
    target = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            # mkstemp makes the file private (0600); give it the mode a plain open() would have.
            umask = os.umask(0)
            os.umask(umask)
            os.fchmod(fh.fileno(), target.stat().st_mode & 0o777 if target.exists() else 0o666 & ~umask)
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        with suppress(OSError):
            os.unlink(tmp)
        raise


__all__ = ["FIXED_COLUMNS", "FORMATS", "FORMULA_STARTS", "WRITERS", "Summary", "atomic_output", "check_writable", "csv_row",
           "format_for_output", "neutralise_cell", "table_rows", "write_csv", "write_json", "write_jsonl", "write_reports",
           "write_table"]
