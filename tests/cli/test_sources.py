"""Registered sources (khrushchev_essays/sources.py) and `khrushchev-essays sources add|list|remove`:
private files in the instance folder, read with grade's readers, duplicates and bad files refused
clearly, and an index cached until the store changes."""

from __future__ import annotations

import io
import json
import os
import stat
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import docx
import pytest
from click.testing import CliRunner
from conftest import ROOT, read_fixture

from khrushchev_essays import sources
from khrushchev_essays.cli import main
from khrushchev_essays.scoring.copying import SourceIndex
from khrushchev_essays.sources import SourceError

NOTES = read_fixture("sources/virgin_lands_notes.txt")
ARTICLE = read_fixture("sources/fall_article.md")


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def docx_file(path: Path, text: str) -> Path:
    document = docx.Document()
    for para in text.split("\n\n"):
        document.add_paragraph(para)
    document.save(path)
    return path


@pytest.fixture
def instance(tmp_path: Path) -> Path:
    return tmp_path / "instance"


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    folder = tmp_path / "in"
    folder.mkdir()
    notes = folder / "virgin-lands.txt"
    notes.write_bytes(NOTES.replace("\n", "\r\n").encode("utf-8"))
    article = folder / "fall.md"
    article.write_text(ARTICLE, encoding="utf-8")
    handout = docx_file(folder / "Handout 3.docx", "Why he fell\n\n" + ARTICLE.split("\n\n", 1)[1].replace("1962", "1962 (the bifurcation)"))
    return {"notes": notes, "article": article, "handout": handout}


def test_sources_are_stored_privately_with_an_index_of_what_was_added(instance, files):
    old = os.umask(0)  # the modes must not depend on the caller's umask
    try:
        added = [sources.add_source_file(instance, files["notes"]), sources.add_source_file(instance, files["handout"], "Handout")]
    finally:
        os.umask(old)
    folder = instance / "sources"
    assert mode(folder) == 0o700
    assert {p.name for p in folder.iterdir()} == {"index.json", ".lock", *(f"{a.key}.txt" for a in added)}
    assert all(mode(p) == 0o600 for p in folder.iterdir())
    index = json.loads((folder / "index.json").read_text(encoding="utf-8"))
    assert index["version"] == 1
    assert [(e["name"], e["filename"], e["words"]) for e in index["sources"]] == [
        ("virgin-lands", "virgin-lands.txt", added[0].words), ("Handout", "Handout 3.docx", added[1].words)]
    assert added[0].words == len(NOTES.split()) and added[0].added_at.endswith("+00:00")
    # The text is kept as read (CRLF and all), and the listing reads it back in order.
    assert sources.source_text(instance, added[0]) == NOTES.replace("\n", "\r\n")
    assert sources.source_text(instance, added[1]).startswith("Why he fell\n\nIn October 1964")
    assert sources.list_sources(instance) == added


def test_duplicate_names_and_texts_are_refused_and_change_nothing(instance, files, tmp_path):
    first = sources.add_source_file(instance, files["notes"])
    before = (instance / "sources" / "index.json").read_bytes()
    with pytest.raises(SourceError, match="a source named 'virgin-lands' is already registered"):
        sources.add_source_file(instance, files["article"], "VIRGIN-LANDS")
    # The same words with other line ends, capitals and quotes are the same text.
    retyped = tmp_path / "retyped.txt"
    retyped.write_text(NOTES.upper().replace("'", "\u2019"), encoding="utf-8")
    with pytest.raises(SourceError, match="retyped.txt: the same text is already registered as 'virgin-lands'"):
        sources.add_source_file(instance, retyped)
    assert (instance / "sources" / "index.json").read_bytes() == before
    assert sources.list_sources(instance) == [first]


@pytest.mark.parametrize(("name", "body", "message"), [
    ("missing.txt", None, "missing.txt: no such file or folder"),
    ("empty.txt", b"", "is empty"),
    ("blank.md", b" \r\n\t", "contains only whitespace"),
    ("latin1.txt", "Khrushchev’s reforms were many and varied".encode("cp1252"), "is not UTF-8 text"),
    ("scan.txt", b"%PDF-1.7 ...", "looks like a PDF"),
    ("notes.pdf", b"%PDF-1.7 ...", "not a file sources are read from (use .txt, .md, .docx)"),
    ("class.csv", b"student,essay\nA,text\n", "not a file sources are read from"),
    ("broken.docx", b"PK\x03\x04 not really a zip", "is not a readable .docx file"),
    ("short.txt", b"Khrushchev fell in 1964.", "has 4 word(s); a source needs at least 12"),
])
def test_bad_files_are_clear_errors_and_store_nothing(instance, tmp_path, name, body, message):
    path = tmp_path / name
    if body is not None:
        path.write_bytes(body)
    with pytest.raises(SourceError, match=message.replace("(", r"\(").replace(")", r"\)")):
        sources.add_source_file(instance, path)
    assert sources.list_sources(instance) == []


def test_unusable_names_are_refused(instance, files):
    for bad, message in (("", "cannot be empty"), ("a\nb", "control characters"), ("x" * 81, "at most 80")):
        with pytest.raises(SourceError, match=message):
            sources.add_source_file(instance, files["notes"], bad)
    assert sources.add_source_file(instance, files["notes"], "  Notes   on\tfarming ").name == "Notes on farming"


def test_remove_by_name_or_key_deletes_the_text(instance, files):
    notes = sources.add_source_file(instance, files["notes"])
    article = sources.add_source_file(instance, files["article"])
    assert sources.remove_source(instance, "Virgin-Lands") == notes
    assert not (instance / "sources" / f"{notes.key}.txt").exists()
    assert sources.list_sources(instance) == [article]
    with pytest.raises(SourceError, match=r"no source named 'virgin-lands' \(registered: 'fall'\)"):
        sources.remove_source(instance, "virgin-lands")
    assert sources.remove_source(instance, article.key) == article and sources.list_sources(instance) == []


def test_the_index_is_rebuilt_only_when_the_store_changes(instance, files):
    empty = sources.load_source_index(instance)
    assert isinstance(empty, SourceIndex) and len(empty) == 0
    assert not (instance / "sources").exists()  # reading never creates the store
    sources.add_source_file(instance, files["notes"])
    index = sources.load_source_index(instance)
    assert index.names == ("virgin-lands",) and sources.load_source_index(instance) is index
    essay = "My answer. " + " ".join(NOTES.split()[10:40]) + " That is all."
    assert [o.source for o in index.overlaps(essay)] == ["virgin-lands"]
    sources.add_source_file(instance, files["article"])
    assert sources.load_source_index(instance).names == ("virgin-lands", "fall")
    sources.remove_source(instance, "virgin-lands")
    assert sources.load_source_index(instance).overlaps(essay) == []
    # Text anyone may repeat (the question) is passed through to the index.
    question = ARTICLE.split("\n\n", 1)[1][:120]
    assert sources.load_source_index(instance, common=[question]).common == (question,)


def test_a_damaged_or_altered_store_is_reported_not_guessed(instance, files):
    info = sources.add_source_file(instance, files["notes"])
    text_file = instance / "sources" / f"{info.key}.txt"
    text_file.write_text("edited by hand", encoding="utf-8")
    with pytest.raises(SourceError, match="was changed outside khrushchev-essays"):
        sources.load_source_index(instance)
    text_file.unlink()
    sources.remove_source(instance, info.name)  # a missing text does not stop its removal
    (instance / "sources" / "index.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(SourceError, match="index.json is damaged"):
        sources.list_sources(instance)


def test_additions_from_many_threads_are_all_kept(instance):
    texts = [f"Source number {i}. " + " ".join(NOTES.split()[i : i + 40]) for i in range(12)]
    with ThreadPoolExecutor(6) as pool:
        added = list(pool.map(lambda it: sources.add_source(instance, it[1], f"s{it[0]}"), enumerate(texts)))
    assert sorted(e.name for e in sources.list_sources(instance)) == sorted(a.name for a in added)
    assert len(sources.list_sources(instance)) == 12


def test_an_upload_is_read_in_memory_by_its_extension(instance, files):
    data = files["handout"].read_bytes()
    info = sources.add_source_data(instance, data, "C:\\Users\\t\\Handout 3.docx")
    assert (info.name, info.filename) == ("Handout 3", "C:\\Users\\t\\Handout 3.docx")
    with pytest.raises(SourceError, match="not a file sources are read from"):
        sources.add_source_data(instance, io.BytesIO(b"x" * 40).getvalue(), "notes.rtf")


# --- the command line ---------------------------------------------------------------------------------


def cli(instance: Path, *args: object):
    return CliRunner().invoke(main, ["sources", *map(str, args)], env={"KHRUSHCHEV_INSTANCE_PATH": str(instance)},
                              catch_exceptions=False)


def test_cli_adds_lists_and_removes_sources(instance, files):
    added = cli(instance, "add", files["notes"], files["article"])
    assert added.exit_code == 0, added.output
    assert f"added 'virgin-lands' ({len(NOTES.split())} words) from {files['notes']}" in added.stdout
    assert "added 'fall'" in added.stdout
    named = cli(instance, "add", files["handout"], "--name", "Week 3 handout")
    assert named.exit_code == 0 and "added 'Week 3 handout'" in named.stdout
    listing = cli(instance, "list")
    assert listing.exit_code == 0
    lines = listing.stdout.splitlines()
    assert lines[0].split() == ["name", "words", "added", "(UTC)", "file"]
    assert [line.split("  ")[0] for line in lines[1:]] == ["virgin-lands", "fall", "Week 3 handout"]
    assert lines[3].rstrip().endswith("Handout 3.docx")
    as_json = json.loads(cli(instance, "list", "--format", "json").stdout)
    assert [e["name"] for e in as_json] == ["virgin-lands", "fall", "Week 3 handout"]
    removed = cli(instance, "remove", "FALL")
    assert removed.exit_code == 0 and "removed 'fall'" in removed.stdout
    assert [e.name for e in sources.list_sources(instance)] == ["virgin-lands", "Week 3 handout"]


def test_cli_reports_each_bad_file_adds_the_rest_and_exits_1(instance, files, tmp_path):
    (tmp_path / "scan.txt").write_bytes(b"%PDF-1.4")
    result = cli(instance, "add", tmp_path / "nowhere.txt", files["notes"], tmp_path / "scan.txt", files["notes"])
    assert result.exit_code == 1
    assert "not added: " + str(tmp_path / "nowhere.txt") + ": no such file or folder" in result.stderr
    assert "looks like a PDF" in result.stderr and "the same text is already registered as 'virgin-lands'" in result.stderr
    assert [e.name for e in sources.list_sources(instance)] == ["virgin-lands"]
    gone = cli(instance, "remove", "nothing-here", "virgin-lands")
    assert gone.exit_code == 1 and "not removed: no source named 'nothing-here'" in gone.stderr
    assert sources.list_sources(instance) == []


def test_cli_usage_errors_exit_2(instance, files):
    assert cli(instance, "add").exit_code == 2
    both = cli(instance, "add", files["notes"], files["article"], "--name", "x")
    assert both.exit_code == 2 and "--name names one source" in both.stderr
    assert cli(instance, "remove").exit_code == 2
    assert sources.list_sources(instance) == []


def test_the_installed_command_uses_the_instance_folder_the_web_app_uses(tmp_path, files):
    instance = tmp_path / "served"
    env = {**os.environ, "KHRUSHCHEV_INSTANCE_PATH": str(instance)}
    env.pop("DATABASE_URL", None)
    run = subprocess.run([sys.executable, "-m", "khrushchev_essays.cli", "sources", "add", str(files["notes"])],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    listed = subprocess.run([sys.executable, "-m", "khrushchev_essays.cli", "sources", "list"],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert listed.returncode == 0 and "virgin-lands" in listed.stdout
    code = "from khrushchev_essays import create_app; print(create_app().instance_path)"
    app_path = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert app_path.stdout.strip() == str(instance)
    assert (instance / "sources" / "index.json").is_file()
