"""Word .docx files: zip archives checked against unpacking bombs before python-docx reads them."""

from __future__ import annotations

import io
from pathlib import Path

from .files import check_not_blank, human_size, read_bytes
from .items import MAX_DOCX_BYTES, MAX_DOCX_INFLATED, MAX_DOCX_MEMBERS, MAX_DOCX_XML_INFLATED, ReadError


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

    too_large = (f"unpacks to more than {human_size(MAX_DOCX_INFLATED)} (or more than "
                 f"{human_size(MAX_DOCX_XML_INFLATED)} of text and layout); a .docx essay is far smaller: "
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
    return check_not_blank("\n\n".join(p for p in paragraphs if p))


__all__ = ["check_docx_archive", "docx_text", "read_docx"]
