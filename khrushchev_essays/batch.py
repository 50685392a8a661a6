"""Batch grading: turn paths into essays, score them in order, on one core or several.

Readers turn each PATH into an ordered stream of `Item`s: an essay to score, or an input error
(missing, empty, binary, not UTF-8, too large, a malformed CSV row or JSONL line...). A bad input
never stops the batch: it becomes an error row with a message a teacher can act on.

`score_items` scores the items with the engine's `score_many`, keeping input order; large
batches go to a process pool (each worker loads the spaCy pipeline once). The writers live in
batch_output.py. Nothing here imports click, and the engine is imported only when scoring starts,
so the CLI's `--help` stays fast.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import logging
import os
import stat
import sys
import time
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

if TYPE_CHECKING:  # the engine pulls in spaCy; only scoring needs it
    from .scoring.report import ScoreReport

# A single essay is at most 60,000 characters (engine.MAX_CHARS), so a text file far larger is
# refused from its size alone, before reading it whole. A .docx also carries styles and images;
# CSV and JSONL files hold a whole class.
MAX_TEXT_BYTES = 2 * 1024 * 1024
MAX_DOCX_BYTES = 20 * 1024 * 1024
MAX_TABLE_BYTES = 200 * 1024 * 1024
# A .docx is a zip archive, and a small one can unpack to gigabytes (a "zip bomb"). Before
# python-docx inflates anything, the archive's directory must list at most this many parts and
# sizes within these limits, and the parts are then unpacked in chunks that stop at the limit
# (so a directory that lies about sizes is caught too). The XML is what lxml parses, at about
# ten times its size in memory; an essay's document.xml is rarely over 2 MB. Images count only
# towards the overall limit.
MAX_DOCX_MEMBERS = 1000
MAX_DOCX_INFLATED = 40 * 1024 * 1024
MAX_DOCX_XML_INFLATED = 10 * 1024 * 1024

TEXT_SUFFIXES = (".txt", ".md")
TABLE_SUFFIXES = (".csv", ".tsv", ".jsonl")  # many essays to a file
FOLDER_SUFFIXES = (*TEXT_SUFFIXES, ".docx", *TABLE_SUFFIXES)
DEFAULT_QUESTIONS = ("q1", "q2")
AUTO = "auto"

# Column (and JSON key) names accepted for each field, most specific first.
ID_KEYS = ("id", "student", "name", "source")
QUESTION_KEYS = ("question", "question_id", "q")
TEXT_KEYS = ("text", "essay", "answer")
# Optional columns kept with the essay when it is stored (grade --store, a teacher's upload).
STUDENT_KEYS = ("student", "student_name", "name")
CLASS_KEYS = ("class_code", "class")
STUDENT_NAME_MAX = 80  # as the essay form takes it

# Magic numbers of files people hand in by mistake, so the message can say what the file is.
_SIGNATURES = (
    (b"%PDF", "a PDF file: export it as .txt or .docx"),
    (b"PK\x03\x04", "a zip archive (or an office file with the wrong extension)"),
    (b"\xd0\xcf\x11\xe0", "an old Word .doc (or other Office) file: save it as .docx or .txt"),
    (b"{\\rtf", "an RTF file: save it as .docx or .txt"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"\x7fELF", "a program, not text"),
)

UTF8_HELP = (
    "save it as UTF-8 (Word or Notepad: Save As, Encoding: UTF-8; Excel: Save As, CSV UTF-8; "
    "or run `iconv -f WINDOWS-1252 -t UTF-8 FILE > NEW_FILE`)"
)


@dataclass(frozen=True, slots=True)
class Item:
    """One input: an essay to score (`text`), or an input that could not be read (`error`)."""

    source: str
    question: str | None = None  # from the row itself; None means "use the batch's --question"
    text: str | None = None
    error: str | None = None
    student: str | None = None  # a CSV/JSONL row's student or name column, for storing
    class_code: str | None = None  # a row's class_code or class column


class ReadError(ValueError):
    """An input cannot be read as text; the message says why, for a person."""


def _human_size(n: int) -> str:
    return f"{n / (1024 * 1024):.1f} MB" if n >= 1024 * 1024 else f"{n / 1024:.0f} KB"


def _read_limited(fh: BinaryIO, limit: int, size: int | None = None) -> bytes:
    """Read at most `limit` bytes, refusing a larger stream; `size` refuses before reading."""
    if size is not None and size > limit:
        raise ReadError(f"is too large ({_human_size(size)}; the limit is {_human_size(limit)})")
    # Read one byte past the limit: stdin, a FIFO or a file still growing has no honest size.
    data = fh.read(limit + 1)
    if len(data) > limit:
        raise ReadError(f"is too large (over {_human_size(limit)})")
    return data


def _not_regular(mode: int) -> str | None:
    """What a file that is not a regular file is, for the message; None for a regular file."""
    for test, what in ((stat.S_ISFIFO, "a named pipe (FIFO)"), (stat.S_ISSOCK, "a socket"),
                       (stat.S_ISCHR, "a device"), (stat.S_ISBLK, "a device"), (stat.S_ISDIR, "a folder")):
        if test(mode):
            return what
    return None if stat.S_ISREG(mode) else "not a regular file"


def read_bytes(path: Path, limit: int) -> bytes:
    """Read a regular file, refusing it from its size before reading it whole; raise ReadError.

    A FIFO, socket or device is refused from its type before it is opened: opening a FIFO waits
    for a writer forever, and a device can be endless.
    """
    try:
        what = _not_regular(os.stat(path).st_mode)
        if what == "a folder":
            raise ReadError("is a folder, not a file")
        if what:
            raise ReadError(f"is {what}, not a file that can be read")
        # O_NONBLOCK: should the path be swapped for a FIFO after the check, opening it still
        # returns at once, and the type is checked again on what was actually opened.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        with os.fdopen(fd, "rb") as fh:
            info = os.fstat(fh.fileno())
            if _not_regular(info.st_mode):
                raise ReadError("is not a regular file (it changed while being read)")
            if hasattr(os, "set_blocking"):
                os.set_blocking(fd, True)
            return _read_limited(fh, limit, info.st_size)
    except FileNotFoundError:
        raise ReadError("no such file or folder") from None
    except PermissionError:
        raise ReadError("permission denied: the file cannot be read") from None
    except IsADirectoryError:
        raise ReadError("is a folder, not a file") from None
    except OSError as exc:
        raise ReadError(f"cannot be read: {exc.strerror or exc}") from None


def decode_text(data: bytes) -> str:
    """Decode UTF-8 (with or without a BOM) or BOM-marked UTF-16/32; raise ReadError otherwise.

    Nothing is guessed: a Latin-1 or Windows-1252 file is refused with how to fix it, because a
    wrong guess silently changes the words that get scored.
    """
    for bom, codec in (
        (codecs.BOM_UTF32_LE, "utf-32"),  # before UTF-16: its BOM starts with UTF-16 LE's
        (codecs.BOM_UTF32_BE, "utf-32"),
        (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if data.startswith(bom):
            try:
                text = data.decode(codec)
            except UnicodeDecodeError as exc:
                raise ReadError(f"starts with a {codec.upper()} byte-order mark but is not valid {codec.upper()} ({exc.reason})") from None
            if "\x00" in text:
                raise ReadError("is a binary file, not text (it contains NUL characters)")
            return text
    for magic, what in _SIGNATURES:
        if data.startswith(magic):
            raise ReadError(f"is not a text file; it looks like {what}")
    if b"\x00" in data:
        raise ReadError("is a binary file, not text (it contains NUL bytes; UTF-16 needs a byte-order mark)")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise ReadError(
            f"is not UTF-8 text (byte 0x{data[exc.start]:02x} on line {line} is invalid; "
            f"perhaps Latin-1 or Windows-1252): {UTF8_HELP}"
        ) from None


def _check_not_blank(text: str) -> str:
    if not text:
        raise ReadError("is empty")
    if not text.strip():
        raise ReadError("contains only whitespace")
    return text


def read_text_file(path: Path, limit: int = MAX_TEXT_BYTES) -> str:
    """The text of a .txt/.md (or other plain text) file; raise ReadError with the reason."""
    return _check_not_blank(decode_text(read_bytes(path, limit)))


def read_docx(path: Path) -> str:
    """The text of a Word .docx: its paragraphs joined with blank lines; raise ReadError."""
    return docx_text(read_bytes(path, MAX_DOCX_BYTES))


def _is_xml_part(name: str) -> bool:
    return name.lower().endswith((".xml", ".rels"))


def check_docx_archive(data: bytes) -> None:
    """Refuse a .docx whose parts are too many or unpack too large; raise ReadError.

    The counts and sizes are read from the zip's central directory first (nothing inflated),
    then every part is inflated in 64 KB chunks, counted, and dropped, stopping as soon as a
    limit is passed: a directory may lie about the sizes.
    """
    import zipfile
    import zlib

    too_large = (f"unpacks to more than {_human_size(MAX_DOCX_INFLATED)} (or more than "
                 f"{_human_size(MAX_DOCX_XML_INFLATED)} of text and layout); a .docx essay is far smaller: "
                 "save it again without embedded files, or save it as .txt")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
            if len(infos) > MAX_DOCX_MEMBERS:
                raise ReadError(f"holds {len(infos):,} parts (a .docx has a few dozen; the limit is {MAX_DOCX_MEMBERS:,}); "
                                "save it again from Word, or save it as .txt")
            declared_xml = sum(i.file_size for i in infos if _is_xml_part(i.filename))
            if sum(i.file_size for i in infos) > MAX_DOCX_INFLATED or declared_xml > MAX_DOCX_XML_INFLATED:
                raise ReadError(too_large)
            total = xml = 0
            for info in infos:
                if info.is_dir():
                    continue
                with archive.open(info) as part:
                    while chunk := part.read(64 * 1024):
                        total += len(chunk)
                        xml += len(chunk) if _is_xml_part(info.filename) else 0
                        if total > MAX_DOCX_INFLATED or xml > MAX_DOCX_XML_INFLATED:
                            raise ReadError(too_large)
    except ReadError:
        raise
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError, ValueError, OSError) as exc:
        # NotImplementedError: an unsupported compression method; RuntimeError: an encrypted part.
        raise ReadError(
            f"is not a readable .docx file ({type(exc).__name__}: {exc}); open it in Word and save it again, or save it as .txt"
        ) from None


def docx_text(data: bytes) -> str:
    """The text of a .docx held in memory (an upload, or a file read by `read_docx`); raise ReadError.

    The one .docx reader for the CLI and the upload page: the archive limits
    (`check_docx_archive`) are checked here, before python-docx unpacks anything.
    """
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise ReadError("is an old Word .doc file renamed .docx: open it in Word and save it as .docx or .txt")
    check_docx_archive(data)
    import docx  # python-docx; imported here so that reading .txt files does not pay for lxml

    try:
        document = docx.Document(io.BytesIO(data))
    except Exception as exc:  # noqa: BLE001 - python-docx raises zipfile, lxml, KeyError... for a bad file
        raise ReadError(
            f"is not a readable .docx file ({type(exc).__name__}: {exc}); open it in Word and save it again, or save it as .txt"
        ) from None
    paragraphs = [p.text.strip() for p in document.paragraphs]
    return _check_not_blank("\n\n".join(p for p in paragraphs if p))


# Never part of a name: control characters (tab and newline too), and the invisible "format"
# characters (right-to-left overrides and isolates, zero-width spaces...) that can make a name or
# a file name display as something else ("essay\u202etxt.exe" shows as "essayexe.txt"). The
# zero-width non-joiner and joiner stay: Persian and Indic names are spelt with them.
_NAME_JUNK = ("Cc", "Cf", "Cs", "Zl", "Zp")
_NAME_KEEP = ("\u200c", "\u200d")


def _junk(c: str) -> bool:
    return unicodedata.category(c) in _NAME_JUNK and c not in _NAME_KEEP


def name_problem(value: str) -> str | None:
    """Why `value` cannot be a name as it is (a character of `_NAME_JUNK`), or None."""
    bad = next((c for c in value if _junk(c)), None)
    return None if bad is None else f"contains an invisible or control character (U+{ord(bad):04X})"


def clean_name(value: str, limit: int | None = None, keep_suffix: bool = False) -> str:
    """A name fit to show and store: NFC, junk characters (`_NAME_JUNK`) removed, spaces collapsed,
    at most `limit` characters. With `keep_suffix` (a file name), shortening keeps the extension."""
    value = unicodedata.normalize("NFC", value)
    value = " ".join("".join(" " if c in "\t\n\r\v\f" else "" if _junk(c) else c for c in value).split())
    if limit is None or len(value) <= limit:
        return value
    suffix = Path(value).suffix if keep_suffix else ""
    if not suffix or len(suffix) > limit // 2:
        return value[: limit - 1].rstrip() + "…"
    return value[: limit - len(suffix) - 1].rstrip() + "…" + suffix


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
            text = _check_not_blank(decode_text(data))
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
                yield Item("<stdin>", text=_check_not_blank(decode_text(_read_limited(stdin or sys.stdin.buffer, MAX_TEXT_BYTES))))
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


# --- scoring -----------------------------------------------------------------------------------

# From this many essays up, a batch is worth a process pool: each worker spends ~4 CPU-seconds
# importing spaCy, loading the pipeline and building the rubric matchers, which a small batch
# never earns back.
PARALLEL_MIN_ESSAYS = 200
SERIAL_CHUNK = 64  # score_many's own batch size
PARALLEL_CHUNK = 32  # small enough to keep both workers busy to the end, large enough to batch


def _cpu_ticks() -> tuple[int, int]:
    """(idle, total) CPU time since boot, from Linux's /proc/stat."""
    with open("/proc/stat", encoding="ascii") as fh:
        fields = [int(x) for x in fh.readline().split()[1:]]
    return fields[3] + fields[4], sum(fields[:8])  # idle + iowait; user..steal


def idle_cores(sample: float = 0.3) -> float:
    """How many cores nothing else is using right now: idle CPU over `sample` seconds.

    Where /proc/stat is missing, the 1-minute load average stands in (it lags, and counts a
    run that has just finished); where that is missing too, the machine is taken to be idle.
    """
    cores = os.cpu_count() or 1
    try:
        idle0, total0 = _cpu_ticks()
        time.sleep(sample)
        idle1, total1 = _cpu_ticks()
        return cores * (idle1 - idle0) / max(1, total1 - total0)
    except (OSError, ValueError, IndexError):
        pass
    try:
        return max(0.0, cores - os.getloadavg()[0])
    except (AttributeError, OSError):
        return float(cores)


def default_jobs(n_items: int) -> int:
    """How many processes a batch of `n_items` gets by default: one, or two when large and a core is idle.

    Measured on 2 cores, 2000 essays: one process 21.5 s (21 CPU-s); two workers 14.9 s on an
    otherwise idle machine but 26.7 s on a busy one (they cost ~7 CPU-s more to start, and got
    1.2 cores between them). Two pay off when about 1.3 cores are idle.
    """
    if n_items < PARALLEL_MIN_ESSAYS or (os.cpu_count() or 1) < 2:
        return 1
    return 2 if idle_cores() >= 1.3 else 1


def _failed(item: Item, question: str | None, message: str) -> ScoreReport:
    from .scoring.report import ScoreReport

    return ScoreReport.failed(item.source, message, None if question == AUTO else question)


def _named(report: ScoreReport) -> ScoreReport:
    """Say which input an engine error is about, as the readers' messages do."""
    if report.error and not report.error.startswith(report.source):
        report.error = f"{report.source}: {report.error}"
    return report


def score_chunk(items: Sequence[Item], question: str = AUTO, sources=None) -> list[ScoreReport]:
    """Score a run of Items in order; unreadable inputs and texts the engine refuses become error reports.

    `question` ("q1", "q2" or "auto") applies to items whose row names no question; `sources`
    the registered sources' index (scoring.copying.SourceIndex), if any. Runs in the calling
    process or in a pool worker.
    """
    from .scoring import score, score_many

    load_pipeline()  # outside the per-essay fallback below: a setup problem stops the batch
    reports: list[ScoreReport | None] = [None] * len(items)
    todo: list[tuple[int, tuple[str, str, str]]] = []
    for i, item in enumerate(items):
        q = item.question or question
        if item.error is not None or item.text is None:
            reports[i] = _failed(item, q, item.error or f"{item.source}: no text")
        else:
            todo.append((i, (item.source, q, item.text)))
    try:
        for (i, _), report in zip(todo, score_many([task for _, task in todo], sources=sources), strict=True):
            reports[i] = _named(report)
    except Exception:  # noqa: BLE001 - one essay the engine chokes on must not sink its neighbours
        for i, (source, q, text) in todo:
            try:
                reports[i] = _named(score(text, q, source=source, sources=sources))
            except Exception as exc:  # noqa: BLE001
                reports[i] = _failed(items[i], q, f"{source}: the marker failed on this essay ({type(exc).__name__}: {exc})")
    return [r for r in reports if r is not None]


def load_pipeline() -> None:
    """Load this process's spaCy pipeline, or raise PipelineMissing saying how to build it."""
    from .scoring import PipelineMissing, get_nlp

    try:
        get_nlp()
    except PipelineMissing:
        raise
    except Exception as exc:  # noqa: BLE001 - spaCy raises OSError, ValueError... for a bad pipeline
        raise PipelineMissing(
            f"the spaCy pipeline cannot be loaded ({type(exc).__name__}: {exc}); "
            "rebuild it with `khrushchev-essays build-pipeline`"
        ) from exc


def _init_worker() -> None:
    """Load the pipeline and rubrics once per worker process, not once per chunk."""
    import signal

    from .scoring import load_all_rubrics

    # Ctrl-C reaches the whole process group: the parent stops the pool, the workers stay quiet.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    load_pipeline()
    load_all_rubrics()


def score_items(items: Iterable[Item], question: str = AUTO, jobs: int | None = None,
                sources=None) -> Iterator[ScoreReport]:
    """Score Items in input order; one report per item, errors included. `sources`: the
    registered sources' index (copied passages earn nothing), or None.

    `jobs` is the number of processes (default: `default_jobs`). With more than one, chunks go
    to a process pool of freshly spawned workers (fork is unsafe once spaCy and numpy have
    started threads) and come back in order.
    """
    items = list(items)
    jobs = default_jobs(len(items)) if jobs is None else max(1, jobs)
    size = PARALLEL_CHUNK if jobs > 1 else SERIAL_CHUNK
    chunks = [items[i : i + size] for i in range(0, len(items), size)]
    if jobs == 1 or len(chunks) < 2:
        for chunk in chunks:
            yield from score_chunk(chunk, question, sources)
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    pool = ProcessPoolExecutor(
        max_workers=min(jobs, len(chunks)), mp_context=multiprocessing.get_context("spawn"), initializer=_init_worker
    )
    done = 0
    try:
        try:
            for reports in pool.map(score_chunk, chunks, [question] * len(chunks), [sources] * len(chunks)):
                yield from reports
                done += 1
        except BrokenProcessPool as exc:
            # A worker died (out of memory, killed): finish here rather than lose the batch.
            logging.getLogger(__name__).warning("a scoring process failed (%s); finishing in one process", exc)
            for chunk in chunks[done:]:
                yield from score_chunk(chunk, question, sources)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
