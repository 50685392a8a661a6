"""Hostile and unlucky inputs to the readers and the engine (issue 11): a .docx zip bomb, a FIFO in
a folder, CSV files that used to lose essays silently, names that disguise themselves, and text
with lone surrogates. Every one must become an error row or a clean report, never a hang, a
memory blow-up or an exception.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import ROOT, docx_bytes, read_fixture
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from khrushchev_essays.inputs import (
    MAX_DOCX_INFLATED,
    MAX_DOCX_MEMBERS,
    MAX_DOCX_XML_INFLATED,
    clean_name,
    read_data,
)
from khrushchev_essays.cli import main
from khrushchev_essays.scoring import score

KNOWN = ("q1", "q2")


def rebuilt_docx(extra: dict[str, bytes] | None = None, body_xml: bytes = b"", copies: int = 0) -> bytes:
    """A real .docx with `extra` parts added, and `body_xml` repeated `copies` times in its body."""
    source = zipfile.ZipFile(io.BytesIO(docx_bytes(read_fixture("q1_medium.txt"))))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename == "word/document.xml" and copies:
                head, _, tail = data.partition(b"<w:body>")
                with archive.open("word/document.xml", "w", force_zip64=True) as part:
                    part.write(head + b"<w:body>")
                    for _ in range(copies):
                        part.write(body_xml)
                    part.write(tail)
                continue
            archive.writestr(info, data)
        for name, data in (extra or {}).items():
            archive.writestr(name, data)
    return out.getvalue()


def errors(items) -> list[str]:
    return [i.error for i in items if i.error]


# --- 1. .docx decompression bombs --------------------------------------------------------------------

def test_a_docx_whose_text_unpacks_past_the_limit_is_refused_before_python_docx_reads_it(tmp_path):
    paragraph = b"<w:p><w:r><w:t>Khrushchev reformed agriculture in the Virgin Lands.</w:t></w:r></w:p>"
    bomb = rebuilt_docx(body_xml=paragraph, copies=MAX_DOCX_XML_INFLATED // len(paragraph) + 1)
    assert len(bomb) < 200 * 1024  # a small file that unpacks past the limit
    (tmp_path / "bomb.docx").write_bytes(bomb)
    (tmp_path / "good.docx").write_bytes(docx_bytes(read_fixture("q1_medium.txt")))
    # Through the real CLI: the bomb is one error row, the good essay is still marked.
    result = CliRunner().invoke(main, ["grade", str(tmp_path), "--format", "jsonl", "--question", "q1"])
    assert result.exit_code == 1, result.output
    rows = {Path(r["source"]).name: r for r in map(json.loads, result.stdout.splitlines())}
    assert rows["good.docx"]["status"] == "scored"
    assert rows["bomb.docx"]["status"] == "error" and "unpacks to more than" in rows["bomb.docx"]["error"]


def test_a_docx_with_a_huge_embedded_part_or_thousands_of_parts_is_refused_from_the_zip_directory():
    image_bomb = rebuilt_docx({"word/media/image1.png": bytes(MAX_DOCX_INFLATED + 1)})
    many_parts = rebuilt_docx({f"customXml/item{i}.bin": b"" for i in range(MAX_DOCX_MEMBERS + 1)})
    [image], [parts] = (list(read_data(data, ".docx", name, KNOWN)) for name, data in
                        (("image.docx", image_bomb), ("parts.docx", many_parts)))
    assert image.text is None and "unpacks to more than" in image.error
    assert parts.text is None and f"the limit is {MAX_DOCX_MEMBERS:,}" in parts.error
    [good] = read_data(docx_bytes(read_fixture("q1_medium.txt")), ".docx", "good.docx", KNOWN)
    assert good.error is None and good.text.startswith("Khrushchev")


# --- 5. FIFOs, sockets and devices ---------------------------------------------------------------------

@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs os.mkfifo")
def test_a_fifo_in_a_folder_is_an_error_row_and_the_good_files_are_still_marked(tmp_path):
    folder = tmp_path / "essays"
    folder.mkdir()
    (folder / "a_good.txt").write_text(read_fixture("q1_medium.txt"), encoding="utf-8")
    os.mkfifo(folder / "b_pipe.txt")  # opening it would wait for a writer forever
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    # The timeout only stops a hung run from hanging the suite; a correct run takes seconds.
    done = subprocess.run([sys.executable, "-m", "khrushchev_essays.cli", "grade", str(folder), "--format", "jsonl"],
                          capture_output=True, text=True, timeout=300, env=env, cwd=ROOT)
    assert done.returncode == 1, done.stderr
    rows = {Path(r["source"]).name: r for r in map(json.loads, done.stdout.splitlines())}
    assert rows["a_good.txt"]["status"] == "scored"
    assert rows["b_pipe.txt"]["status"] == "error" and "named pipe (FIFO)" in rows["b_pipe.txt"]["error"]


# --- 9. CSV files that used to lose essays silently ----------------------------------------------------

def test_csv_duplicate_headers_unclosed_quotes_and_header_only_files_are_reported(tmp_path):
    essay = read_fixture("q1_medium.txt").replace("\n", " ")
    duplicate = f'student,essay,essay\nAnna,"{essay}",draft notes\n'
    unclosed = f'student,essay\nAnna,"{essay}\nBoris,"{essay}"\nVera,"{essay}"\n'
    header_only = "student,essay\n\n"
    [dup] = read_data(duplicate.encode(), ".csv", "dup.csv", KNOWN)
    assert dup.text is None and "names the same column more than once (essay)" in dup.error
    items = list(read_data(unclosed.encode(), ".csv", "quote.csv", KNOWN))
    assert errors(items) and "quote" in errors(items)[0] and "quote.csv line" in errors(items)[0]
    assert not any(i.text and len(i.text) > len(essay) + 10 for i in items)  # no essay swallows its neighbours
    [empty] = read_data(header_only.encode(), ".csv", "empty.csv", KNOWN)
    assert empty.text is None and "header row but no essays" in empty.error
    # The CLI says so too (it used to print nothing at all for a header-only file).
    (tmp_path / "empty.csv").write_text(header_only, encoding="utf-8")
    result = CliRunner().invoke(main, ["grade", str(tmp_path / "empty.csv"), "--format", "jsonl"])
    assert result.exit_code == 1 and "header row but no essays" in result.stdout


def test_a_jsonl_line_nested_too_deeply_is_an_error_row_and_the_next_line_is_read():
    lines = "[" * 100_000 + "\n" + json.dumps({"id": "ann", "text": "An essay about Khrushchev."}) + "\n"
    deep, ann = read_data(lines.encode(), ".jsonl", "class.jsonl", KNOWN)
    assert deep.text is None and "nested too deeply" in deep.error
    assert ann.error is None and ann.source == "class.jsonl:ann"


# --- 11. names that disguise themselves ----------------------------------------------------------------

def test_names_lose_control_and_bidi_characters_and_keep_their_extension_when_shortened():
    assert clean_name("essay\u202etxt.exe") == "essaytxt.exe"
    assert clean_name("Anna\tB\u200bel\nova") == "Anna Bel ova"
    persian = "\u0645\u062d\u0645\u062f\u200c\u0631\u0636\u0627"  # the zero-width non-joiner is spelling
    assert clean_name(persian) == persian
    long = "a" * 200 + ".docx"
    short = clean_name(long, 120, keep_suffix=True)
    assert len(short) == 120 and short.endswith("….docx")
    table = "student,essay\n\"Vera\u202e \u2066K\u2069\",text of an essay\n"
    rows = list(read_data(table.encode(), ".csv", "c.csv", KNOWN))
    assert rows[0].student == "Vera K"


# --- 7. lone surrogates and control characters reach the engine ----------------------------------------

JUNK = st.characters(codec=None, categories=["Cs", "Cc", "Cf", "Zl", "Zp"])
WORDS = st.sampled_from(["Khrushchev", "Secret Speech", "1956", "because", "However,", "Virgin Lands",
                         "In conclusion,", "transformed", ".", "\n\n", "most significant"])
SURROGATE_TEXTS = st.lists(st.one_of(WORDS, st.text(JUNK, max_size=4), st.text(max_size=8)), max_size=50).map(" ".join)


def test_score_reports_a_lone_surrogate_instead_of_raising():
    report = score("ab\ud800cd " * 40, "q1")
    assert report.status == "error" and "not valid Unicode" in report.error


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=SURROGATE_TEXTS, question=st.sampled_from(["q1", "q2", "auto"]))
def test_score_never_raises_on_surrogates_and_control_characters(text, question):
    report = score(text, question)
    assert report.status in ("scored", "error")
    if report.status == "error":
        assert report.error and report.mark is None
    else:
        assert 0 <= report.mark <= report.max_mark
    if any(0xD800 <= ord(c) <= 0xDFFF for c in text) and "\x00" not in text:
        assert report.status == "error" and "not valid Unicode" in report.error
