"""Registered sources: the texts (revision notes, handouts, textbook pages, web articles) that
essays are checked against for copying, kept in the instance folder.

Layout, under `<instance>/sources/` (mode 0700; every file 0600):

    index.json            {"version": 1, "sources": [{"key", "name", "filename", "added_at",
                           "words", "chars", "sha256", "fingerprint"}, ...]}
    <key>.txt             each source's text, UTF-8, as read from the file it came from

`key` is the start of the text's sha256, so the names people give sources and their files are
never used as paths. `fingerprint` is the sha256 of the text's normalised words, so the same text
saved again with other line ends, quotes or capitals is recognised as a duplicate. Every change
rewrites index.json atomically (a temporary file renamed over it) under an exclusive lock, so a
CLI command and the teacher page can add sources at the same time; a text file is written before
the index names it and deleted only after the index stops naming it.

Files are read with the batch readers (`batch.read_bytes`, `batch.read_data`): the same limits
and the same messages as `grade`. `load_source_index` is what the engine's callers use: one
`SourceIndex` per store, rebuilt only when index.json changes.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import secrets
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path, PurePath

from .inputs import ReadError, read_bytes, read_data, size_limit
from .scoring.copying import DEFAULT_MIN_WORDS, SourceIndex, words

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX: changes are still atomic, just not serialised
    fcntl = None  # type: ignore[assignment]

FOLDER = "sources"
INDEX = "index.json"
LOCK = ".lock"
VERSION = 1
SUFFIXES = (".txt", ".md", ".docx")
NAME_MAX = 80
KEY_LENGTH = 16
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


class SourceError(ValueError):
    """A source cannot be added, found or read; the message says why, for a person."""


@dataclass(frozen=True, slots=True)
class SourceInfo:
    """One registered source, as listed in index.json."""

    key: str
    name: str
    filename: str
    added_at: str  # ISO 8601, UTC
    words: int
    chars: int
    sha256: str
    fingerprint: str

    @property
    def added(self) -> datetime:
        """`added_at` as an aware UTC datetime."""
        return datetime.fromisoformat(self.added_at)

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready dict (the index.json entry)."""
        return asdict(self)


def folder(instance_path: str | os.PathLike[str]) -> Path:
    """The store's folder in an instance folder (not created)."""
    return Path(instance_path) / FOLDER


def _ensure_folder(instance_path: str | os.PathLike[str]) -> Path:
    path = folder(instance_path)
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(path, 0o700)  # also when it already existed under a looser umask
    return path


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Hold the store's exclusive lock: one change at a time, across threads and processes."""
    fd = os.open(path / LOCK, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        if fcntl is not None:
            fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def _write_private(path: Path, data: bytes) -> None:
    """Write `data` to `path` (mode 0600) atomically: a private temporary file renamed into place."""
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _read_index(path: Path) -> list[SourceInfo]:
    """The entries of index.json (none when there is no store yet); SourceError if it is damaged."""
    index = path / INDEX
    try:
        raw = index.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    except (OSError, UnicodeDecodeError) as exc:
        raise SourceError(f"{index} cannot be read ({exc})") from None
    try:
        data = json.loads(raw)
        if not isinstance(data, dict) or data.get("version") != VERSION or not isinstance(data.get("sources"), list):
            raise ValueError(f"expected {{\"version\": {VERSION}, \"sources\": [...]}}")
        return [SourceInfo(**entry) for entry in data["sources"]]
    except (ValueError, TypeError) as exc:
        raise SourceError(f"{index} is damaged ({exc}); restore it from a backup, or delete the sources folder "
                          "and add the sources again") from None


def _write_index(path: Path, entries: list[SourceInfo]) -> None:
    data = {"version": VERSION, "sources": [e.to_dict() for e in entries]}
    _write_private(path / INDEX, (json.dumps(data, indent=2, ensure_ascii=False) + "\n").encode("utf-8"))


def list_sources(instance_path: str | os.PathLike[str]) -> list[SourceInfo]:
    """The registered sources, in the order they were added."""
    return _read_index(folder(instance_path))


def clean_name(name: str) -> str:
    """A source's name as stored: spaces collapsed, control characters refused; SourceError if unusable."""
    if _CONTROL.search(name.replace("\t", " ")):
        raise SourceError("a source name cannot contain control characters or line breaks")
    cleaned = " ".join(name.split())
    if not cleaned:
        raise SourceError("a source name cannot be empty")
    if len(cleaned) > NAME_MAX:
        raise SourceError(f"a source name is at most {NAME_MAX} characters (this one has {len(cleaned)})")
    return cleaned


def _default_name(filename: str) -> str:
    stem = PurePath(filename.replace("\\", "/")).stem
    return _CONTROL.sub("", stem).strip()[:NAME_MAX] or "source"


def read_source_data(data: bytes, filename: str) -> str:
    """The text of a source file held in memory, by its extension; SourceError with the reason."""
    suffix = PurePath(filename).suffix.lower()
    if suffix not in SUFFIXES:
        raise SourceError(f"{filename}: not a file sources are read from (use {', '.join(SUFFIXES)})")
    limit = size_limit(suffix)
    if len(data) > limit:
        raise SourceError(f"{filename}: is too large ({len(data) / 2**20:.1f} MB; a {suffix} source can be at most "
                          f"{limit / 2**20:.0f} MB)")
    [item] = read_data(data, suffix, filename, ())
    if item.error is not None or item.text is None:
        raise SourceError(item.error or f"{filename}: no text")
    return item.text


def read_source_file(path: str | os.PathLike[str]) -> str:
    """The text of a .txt, .md or .docx file, with `grade`'s limits and messages; SourceError if unreadable."""
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix not in SUFFIXES:
        raise SourceError(f"{p}: not a file sources are read from (use {', '.join(SUFFIXES)})")
    if p.is_dir():
        raise SourceError(f"{p}: is a folder, not a file")
    try:
        data = read_bytes(p, size_limit(suffix))
    except ReadError as exc:
        raise SourceError(f"{p}: {exc}") from None
    return read_source_data(data, str(p))


def _fingerprint(text: str) -> str:
    return hashlib.sha256(" ".join(words(text)).encode("utf-8")).hexdigest()


def add_source(instance_path: str | os.PathLike[str], text: str, name: str, filename: str = "") -> SourceInfo:
    """Register `text` under `name` (unique, ignoring case); return its entry.

    SourceError when the name is taken, the same text (ignoring case, punctuation and line
    ends) is already registered, or the text is too short to compare.
    """
    name = clean_name(name)
    n_words = len(words(text))
    if n_words < DEFAULT_MIN_WORDS:
        raise SourceError(f"{filename or name}: has {n_words} word(s); a source needs at least {DEFAULT_MIN_WORDS} "
                          "to be compared with essays")
    data = text.encode("utf-8")
    digest, fingerprint = hashlib.sha256(data).hexdigest(), _fingerprint(text)
    path = _ensure_folder(instance_path)
    with _locked(path):
        entries = _read_index(path)
        # The same text first: when it is also the same name, that is the more useful thing to hear.
        for e in entries:
            if e.fingerprint == fingerprint:
                raise SourceError(f"{filename or name}: the same text is already registered as {e.name!r}")
        for e in entries:
            if e.name.casefold() == name.casefold():
                raise SourceError(f"{filename + ': ' if filename else ''}a source named {e.name!r} is already registered: "
                                  "remove it first, or choose another name")
        key = digest[:KEY_LENGTH]
        if any(e.key == key for e in entries):  # a different text with the same 64-bit prefix: never in practice
            raise SourceError(f"{filename or name}: cannot be stored (its key {key} is taken)")
        info = SourceInfo(key=key, name=name, filename=_CONTROL.sub("", filename)[:255], words=n_words, chars=len(text),
                          added_at=datetime.now(timezone.utc).isoformat(timespec="seconds"), sha256=digest,
                          fingerprint=fingerprint)
        _write_private(path / f"{key}.txt", data)
        _write_index(path, [*entries, info])
    return info


def add_source_file(instance_path: str | os.PathLike[str], path: str | os.PathLike[str], name: str | None = None) -> SourceInfo:
    """Read a .txt/.md/.docx file and register it, named `name` or else after the file."""
    text = read_source_file(path)
    filename = Path(path).name
    return add_source(instance_path, text, name if name is not None else _default_name(filename), filename)


def add_source_data(instance_path: str | os.PathLike[str], data: bytes, filename: str, name: str | None = None) -> SourceInfo:
    """Register an uploaded file's bytes (`filename` only gives the type and the default name)."""
    text = read_source_data(data, filename)
    return add_source(instance_path, text, name if name else _default_name(filename), filename)


def find_source(instance_path: str | os.PathLike[str], name_or_key: str) -> SourceInfo:
    """The source with this name (ignoring case) or key; SourceError listing the names there are."""
    entries = list_sources(instance_path)
    wanted = " ".join(name_or_key.split()).casefold()
    for e in entries:
        if e.name.casefold() == wanted or e.key == name_or_key:
            return e
    known = f"registered: {', '.join(repr(e.name) for e in entries)}" if entries else "none are registered"
    raise SourceError(f"no source named {name_or_key!r} ({known})")


def remove_source(instance_path: str | os.PathLike[str], name_or_key: str) -> SourceInfo:
    """Unregister a source by name (ignoring case) or key and delete its text; return its entry."""
    path = folder(instance_path)
    if not path.is_dir():
        raise SourceError(f"no source named {name_or_key!r} (none are registered)")
    with _locked(path):
        target = find_source(instance_path, name_or_key)
        _write_index(path, [e for e in _read_index(path) if e.key != target.key])
        (path / f"{target.key}.txt").unlink(missing_ok=True)
    return target


def source_text(instance_path: str | os.PathLike[str], info: SourceInfo) -> str:
    """A registered source's text, checked against its sha256; SourceError if missing or altered."""
    path = folder(instance_path) / f"{info.key}.txt"
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SourceError(f"the text of source {info.name!r} ({path}) cannot be read ({exc.strerror or exc}); "
                          "remove the source and add it again") from None
    if hashlib.sha256(data).hexdigest() != info.sha256:
        raise SourceError(f"the text of source {info.name!r} ({path}) was changed outside khrushchev-essays; "
                          "remove the source and add it again")
    return data.decode("utf-8")


def _state(path: Path) -> tuple[int, int, int] | None:
    try:
        st = (path / INDEX).stat()
    except FileNotFoundError:
        return None
    return st.st_mtime_ns, st.st_size, st.st_ino


_cache: dict[tuple[str, tuple[str, ...]], tuple[tuple[int, int, int] | None, SourceIndex]] = {}
_cache_lock = threading.Lock()


def load_source_index(instance_path: str | os.PathLike[str], common: Iterable[str] = ()) -> SourceIndex:
    """The `SourceIndex` of the sources registered in this instance folder (empty when there are none).

    Built once and kept until index.json changes (a source added or removed, by this process or
    another), so calling it for every essay costs a stat(). `common` texts are passed to the index
    (text anyone may repeat, such as the question). Safe to call from many threads. SourceError
    if the store is damaged.
    """
    path = folder(instance_path)
    key = (str(path.resolve()), tuple(common))
    with _cache_lock:
        state = _state(path)
        cached = _cache.get(key)
        if cached is not None and cached[0] == state:
            return cached[1]
        entries = _read_index(path) if state is not None else []
        index = SourceIndex([(e.name, source_text(instance_path, e)) for e in entries], common=key[1])
        _cache[key] = (state, index)
        return index


def marking_index(instance_path: str | os.PathLike[str]) -> SourceIndex | None:
    """The index to mark essays against: the registered sources, with every rubric's question as
    common text (copying the question is not copying a source); None when there are no sources.

    A damaged store is logged and marking goes on without the check, rather than refusing every
    essay because of one bad file."""
    from .scoring import load_all_rubrics

    if _state(folder(instance_path)) is None:
        # No source was ever registered (most installations): one stat, without reading the rubric
        # files for their questions, which cost more than marking an essay against an empty index.
        return None
    try:
        index = load_source_index(instance_path, common=[r.question for r in load_all_rubrics().values()])
    except SourceError as exc:
        logging.getLogger(__name__).warning("registered sources not checked: %s", exc)
        return None
    return index if index else None
