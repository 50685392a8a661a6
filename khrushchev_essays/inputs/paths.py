"""From command-line paths (files, folders, "-") or an upload's bytes to an ordered stream of Items."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import BinaryIO

from .files import check_not_blank, decode_text, read_bytes, read_limited
from .items import (
    DEFAULT_QUESTIONS,
    FOLDER_SUFFIXES,
    MAX_DOCX_BYTES,
    MAX_TABLE_BYTES,
    MAX_TEXT_BYTES,
    TABLE_SUFFIXES,
    Item,
    ReadError,
)
from .tables import parse_csv, parse_jsonl
from .word import docx_text


def size_limit(suffix: str) -> int:
    """The most bytes read from a file with this extension."""
    return MAX_DOCX_BYTES if suffix == ".docx" else MAX_TABLE_BYTES if suffix in TABLE_SUFFIXES else MAX_TEXT_BYTES


def read_path(path: Path, name: str, known: Sequence[str]) -> Iterator[Item]:
    """The Items of one file, by its extension: a CSV/TSV/JSONL table holds many essays, others one."""
    try:
        data = read_bytes(path, size_limit(path.suffix.lower()))
    except ReadError as exc:
        yield Item(name, error=f"{name}: {exc}")
        return
    yield from read_data(data, path.suffix.lower(), name, known)


def read_data(data: bytes, suffix: str, name: str, known: Sequence[str]) -> Iterator[Item]:
    """The Items of one file's bytes, by its extension (`suffix`, lower-case with the dot).

    The one reader behind both `read_path` and a teacher's upload (read in memory; `name` is only
    shown in messages, never opened).
    """
    try:
        if suffix == ".docx":
            text = docx_text(data)
        else:  # .txt, .md, a table, or any file named explicitly: read as text, refused if it is not
            text = check_not_blank(decode_text(data))
    except ReadError as exc:
        yield Item(name, error=f"{name}: {exc}")
        return
    if suffix in (".csv", ".tsv"):
        yield from parse_csv(text, name, known, "\t" if suffix == ".tsv" else ",")
    elif suffix == ".jsonl":
        yield from parse_jsonl(text, name, known)
    else:
        yield Item(name, text=text)


def _folder_files(folder: Path) -> list[Path]:
    """The essay files under a folder, recursively, sorted, hidden files and folders skipped."""
    found = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))  # pruned in place: os.walk obeys
        found.extend(
            Path(root) / f for f in files if not f.startswith(".") and Path(f).suffix.lower() in FOLDER_SUFFIXES
        )
    return sorted(found)


def iter_items(
    paths: Iterable[str], known_questions: Sequence[str] = DEFAULT_QUESTIONS, stdin: BinaryIO | None = None
) -> Iterator[Item]:
    """Every essay in `paths` (files, folders, or "-" for standard input), in order.

    Never raises for a bad input: it yields an Item whose `error` says what is wrong.
    """
    for arg in paths:
        if arg == "-":
            try:
                yield Item("<stdin>", text=check_not_blank(decode_text(read_limited(stdin or sys.stdin.buffer, MAX_TEXT_BYTES))))
            except ReadError as exc:
                yield Item("<stdin>", error=f"<stdin>: {exc}")
            continue
        path = Path(arg)
        if path.is_dir():
            files = _folder_files(path)
            if not files:
                yield Item(arg, error=f"{arg}: the folder holds no essays (looked for {', '.join(FOLDER_SUFFIXES)})")
            for f in files:
                yield from read_path(f, str(f), known_questions)
        elif not path.exists():
            yield Item(arg, error=f"{arg}: no such file or folder")
        else:
            yield from read_path(path, arg, known_questions)



__all__ = ["iter_items", "read_data", "read_path", "size_limit"]
