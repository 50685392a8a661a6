"""Batch grading: score a stream of `inputs.Item`s in order, on one core or several, and write the
reports for people (a table), spreadsheets (CSV) or programs (JSON, JSON Lines).

`score_items` keeps input order and turns an unreadable input or an essay the engine refuses into
an error report, never an exception; from PARALLEL_MIN_ESSAYS essays up, with a core idle
(/proc/stat, read over the caller's start-up when it opens a CpuWindow first), chunks go to
worker processes. The writers stream; `atomic_output` writes a file all at once. Nothing here
imports click, Flask or a database, and the engine is imported only when scoring starts.

    from khrushchev_essays.batch import score_items, write_reports
    from khrushchev_essays.inputs import iter_items
    summary = write_reports(score_items(iter_items(["essays/"])), "csv", sys.stdout)
"""

from .cpu import CpuWindow, idle_cores
from .runner import (
    PARALLEL_CHUNK,
    PARALLEL_MIN_ESSAYS,
    SERIAL_CHUNK,
    EncodedReport,
    default_jobs,
    load_pipeline,
    quiet_gc,
    score_chunk,
    score_items,
)
from .writers import (
    FIXED_COLUMNS,
    FORMATS,
    FORMULA_STARTS,
    WRITERS,
    Summary,
    atomic_output,
    check_writable,
    csv_row,
    format_for_output,
    neutralise_cell,
    table_rows,
    write_csv,
    write_json,
    write_jsonl,
    write_reports,
    write_table,
)

__all__ = [
    "CpuWindow",
    "EncodedReport",
    "FIXED_COLUMNS",
    "FORMATS",
    "FORMULA_STARTS",
    "PARALLEL_CHUNK",
    "PARALLEL_MIN_ESSAYS",
    "SERIAL_CHUNK",
    "WRITERS",
    "Summary",
    "atomic_output",
    "check_writable",
    "csv_row",
    "default_jobs",
    "format_for_output",
    "idle_cores",
    "load_pipeline",
    "neutralise_cell",
    "quiet_gc",
    "score_chunk",
    "score_items",
    "table_rows",
    "write_csv",
    "write_json",
    "write_jsonl",
    "write_reports",
    "write_table",
]
