"""A class in one file: CSV/TSV with a header row, or JSON Lines; each row an Item, a bad row an error Item."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator, Sequence

from .items import AUTO, CLASS_KEYS, ID_KEYS, QUESTION_KEYS, STUDENT_KEYS, STUDENT_NAME_MAX, TEXT_KEYS, Item, ReadError
from .names import clean_name


def normalise_question(value: object, known: Sequence[str]) -> str | None:
    """A row's question as a rubric id ("Q1", " q1 " and "1" all mean "q1"); None when blank.

    Raise ReadError for a value that names no rubric, so the row is reported, not guessed.
    """
    if value is None:
        return None
    q = str(value).strip().lower()
    if not q:
        return None
    if q.isdigit():
        q = f"q{q}"
    if q == AUTO or q in known:
        return q
    raise ReadError(f"unknown question {str(value)!r} (expected {', '.join([*known, AUTO])} or blank)")


def _pick(record: dict[str, object], keys: Sequence[str]) -> object:
    """The value of the first of `keys` present in the record (keys already lower-cased)."""
    return next((record[k] for k in keys if k in record), None)


def _row_item(name: str, line: int, record: dict[str, object], known: Sequence[str]) -> Item:
    """Turn one CSV row or JSONL object (keys lower-cased) into an Item."""
    row_id = _pick(record, ID_KEYS)
    row_id = clean_name(str(row_id), 120) if row_id is not None else ""
    source = f"{name}:{row_id}" if row_id else f"{name}:line {line}"
    where = f"{name} line {line}"
    try:
        question = normalise_question(_pick(record, QUESTION_KEYS), known)
    except ReadError as exc:
        return Item(source, error=f"{where}: {exc}")
    text = _pick(record, TEXT_KEYS)
    if text is None or (isinstance(text, str) and not text.strip()):
        return Item(source, question, error=f"{where}: the essay text is missing or empty")
    if not isinstance(text, str):
        return Item(source, question, error=f"{where}: the essay text is not a string (found {type(text).__name__})")
    student, class_code = (_pick(record, keys) for keys in (STUDENT_KEYS, CLASS_KEYS))
    return Item(source, question, text,
                student=clean_name(str(student), STUDENT_NAME_MAX) or None if student is not None else None,
                class_code=clean_name(str(class_code)).upper() or None if class_code is not None else None)


def _sniff_delimiter(header: str, default: str) -> str:
    """The delimiter of a CSV from its header line (column names hold no commas or quotes)."""
    counts = {d: header.count(d) for d in (",", ";", "\t", "|")}
    best = max(counts, key=counts.__getitem__)
    return best if counts[best] else default


def parse_csv(text: str, name: str, known: Sequence[str], default_delimiter: str = ",") -> Iterator[Item]:
    """One Item per row of a CSV/TSV text with a header row; bad rows become error Items."""
    delimiter = _sniff_delimiter(text.splitlines()[0], default_delimiter)
    # strict: a quote that is never closed, or closed and followed by more text, is an error
    # rather than silently swallowing the rows after it into one essay.
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        header = [h.strip().lower() for h in next(reader)]
    except (StopIteration, csv.Error) as exc:
        yield Item(name, error=f"{name}: the header row cannot be read ({exc})")
        return
    if not any(k in header for k in TEXT_KEYS):
        yield Item(
            name,
            error=f"{name}: no essay column in the header (expected one of {', '.join(TEXT_KEYS)}; found {', '.join(header) or 'nothing'})",
        )
        return
    twice = sorted({h for h in header if h and header.count(h) > 1})
    if twice:
        # Which of two "essay" columns is the essay? Guessing would silently drop the other.
        yield Item(name, error=f"{name}: the header names the same column more than once ({', '.join(twice)}); "
                               "rename or delete the extra column")
        return
    end_of_last = reader.line_num
    rows = 0
    while True:
        line = end_of_last + 1  # where the row starts: a quoted essay may span many lines
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            rows += 1
            end = reader.line_num
            lines = f"line {line}" if end <= line else f"lines {line}-{end}"
            yield Item(f"{name}:line {line}", error=f"{name} {lines}: malformed CSV ({exc}): a quote is not closed, "
                                                    "or is followed by more text; put an essay with commas, quotes or "
                                                    'line breaks in double quotes, with each quote inside it doubled ("")')
            end_of_last = reader.line_num
            continue
        end_of_last = reader.line_num
        if not row or not any(cell.strip() for cell in row):
            continue  # blank lines between rows are harmless
        rows += 1
        if len(row) != len(header):
            yield Item(
                f"{name}:line {line}",
                error=f"{name} line {line}: expected {len(header)} fields, found {len(row)} "
                "(an essay with commas or quotes must be in double quotes)",
            )
            continue
        yield _row_item(name, line, dict(zip(header, row)), known)
    if not rows:
        yield Item(name, error=f"{name}: the file has a header row but no essays under it")


def parse_jsonl(text: str, name: str, known: Sequence[str]) -> Iterator[Item]:
    """One Item per line of a JSON Lines text; a malformed line becomes an error Item."""
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            record = json.loads(raw)
        except json.JSONDecodeError as exc:
            yield Item(f"{name}:line {number}", error=f"{name} line {number}: not valid JSON ({exc.msg} at column {exc.colno})")
            continue
        except RecursionError:
            yield Item(f"{name}:line {number}", error=f"{name} line {number}: the JSON is nested too deeply to read")
            continue
        if not isinstance(record, dict):
            yield Item(f"{name}:line {number}", error=f"{name} line {number}: expected a JSON object, found {type(record).__name__}")
            continue
        yield _row_item(name, number, {str(k).lower(): v for k, v in record.items()}, known)



__all__ = ["normalise_question", "parse_csv", "parse_jsonl"]
