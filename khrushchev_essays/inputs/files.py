"""Reading one file's bytes safely (regular files only, refused from their size) and decoding them
as text: UTF-8, or UTF-16/32 with a byte-order mark; nothing is guessed."""

from __future__ import annotations

import codecs
import os
import stat
from pathlib import Path
from typing import BinaryIO

from .items import MAX_TEXT_BYTES, ReadError

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



def human_size(n: int) -> str:
    return f"{n / (1024 * 1024):.1f} MB" if n >= 1024 * 1024 else f"{n / 1024:.0f} KB"


def read_limited(fh: BinaryIO, limit: int, size: int | None = None) -> bytes:
    """Read at most `limit` bytes, refusing a larger stream; `size` refuses before reading."""
    if size is not None and size > limit:
        raise ReadError(f"is too large ({human_size(size)}; the limit is {human_size(limit)})")
    # Read one byte past the limit: stdin, a FIFO or a file still growing has no honest size.
    data = fh.read(limit + 1)
    if len(data) > limit:
        raise ReadError(f"is too large (over {human_size(limit)})")
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
            return read_limited(fh, limit, info.st_size)
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


def check_not_blank(text: str) -> str:
    if not text:
        raise ReadError("is empty")
    if not text.strip():
        raise ReadError("contains only whitespace")
    return text


def read_text_file(path: Path, limit: int = MAX_TEXT_BYTES) -> str:
    """The text of a .txt/.md (or other plain text) file; raise ReadError with the reason."""
    return check_not_blank(decode_text(read_bytes(path, limit)))


__all__ = ["UTF8_HELP", "check_not_blank", "decode_text", "human_size", "read_bytes", "read_limited", "read_text_file"]
