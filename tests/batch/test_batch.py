"""The batch readers and writers on their own: every bad input becomes an error row, in order."""

from __future__ import annotations

import csv
import io
import json
import os
import time
from pathlib import Path

import pytest

from khrushchev_essays.inputs import (
    MAX_TEXT_BYTES,
    Item,
    ReadError,
    decode_text,
    iter_items,
    normalise_question,
)
from khrushchev_essays.batch import (
    atomic_output,
    check_writable,
    format_for_output,
    neutralise_cell,
)


def items(*paths: Path | str) -> list[Item]:
    return list(iter_items([str(p) for p in paths]))


def test_decode_accepts_utf8_with_and_without_bom_and_utf16_with_bom() -> None:
    text = "Khrushchev’s “Secret Speech” — 1956"
    assert decode_text(text.encode("utf-8")) == text
    assert decode_text(b"\xef\xbb\xbf" + text.encode("utf-8")) == text
    assert decode_text(text.encode("utf-16")) == text  # Python writes the BOM
    assert decode_text(b"\xfe\xff" + text.encode("utf-16-be")) == text


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        ("café".encode("latin-1"), "not UTF-8"),
        (b"abc\x00def", "binary"),
        (b"%PDF-1.7 ...", "PDF"),
        (b"\x89PNG\r\n", "PNG image"),
        (b"\xff\xfe\x00", "not valid UTF-16"),  # a UTF-16 BOM then an odd byte
    ],
)
def test_decode_refuses_rather_than_guesses(data: bytes, fragment: str) -> None:
    with pytest.raises(ReadError, match=fragment):
        decode_text(data)


def test_not_utf8_message_says_how_to_fix_it() -> None:
    with pytest.raises(ReadError) as info:
        decode_text(b"line one\nthe Th\xe9 thaw\n")
    assert "line 2" in str(info.value) and "save it as UTF-8" in str(info.value)


def test_single_file_errors(tmp_path: Path) -> None:
    (tmp_path / "empty.txt").write_bytes(b"")
    (tmp_path / "blank.md").write_text(" \n\t\n")
    (tmp_path / "huge.txt").write_bytes(b"a" * (MAX_TEXT_BYTES + 1))
    (tmp_path / "old.docx").write_bytes(b"\xd0\xcf\x11\xe0" + b"\x00" * 100)
    names = ("empty.txt", "blank.md", "huge.txt", "old.docx", "gone.txt")
    got = items(*(tmp_path / n for n in names))
    assert [i.source for i in got] == [str(tmp_path / n) for n in names]  # one item each, in order
    assert all(i.text is None for i in got)
    errors = [i.error for i in got]
    assert "is empty" in errors[0]
    assert "only whitespace" in errors[1]
    assert "too large" in errors[2]
    assert "old Word .doc" in errors[3]
    assert "no such file" in errors[4]
    assert all(e.startswith(str(tmp_path)) for e in errors)  # each message names its file


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_unreadable_file(tmp_path: Path) -> None:
    f = tmp_path / "locked.txt"
    f.write_text("an essay")
    f.chmod(0)
    try:
        [item] = items(f)
    finally:
        f.chmod(0o644)
    assert "permission denied" in item.error


def test_folder_is_walked_sorted_recursive_and_skips_hidden(tmp_path: Path) -> None:
    for rel in ("b.txt", "a/z.md", "a/c.txt", ".hidden/x.txt", "a/.secret.txt", "notes.pdf", "img.png"):
        p = tmp_path / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text("text")
    assert [Path(i.source).relative_to(tmp_path).as_posix() for i in items(tmp_path)] == ["a/c.txt", "a/z.md", "b.txt"]
    (tmp_path / "empty").mkdir()
    [item] = items(tmp_path / "empty")
    assert "holds no essays" in item.error


def test_csv_rows_errors_name_file_and_line(tmp_path: Path) -> None:
    f = tmp_path / "class.csv"
    f.write_text(
        'Student,Question,Essay\n'
        'ann,q1,"A first essay, with a comma."\n'
        'ben,q1,"an essay, with",an unquoted extra field\n'
        '\n'
        'cat,Q2,"A second essay\nover two lines."\n'
        'dan,q9,text\n'
        'eve,q1,\n'
        ',2,"No id."\n'
    )
    got = items(f)
    assert [(i.source, i.question, i.text) for i in got if i.error is None] == [
        (f"{f}:ann", "q1", "A first essay, with a comma."),
        (f"{f}:cat", "q2", "A second essay\nover two lines."),
        (f"{f}:line 9", "q2", "No id."),
    ]
    errors = [i.error for i in got if i.error]
    assert errors == [
        f"{f} line 3: expected 3 fields, found 4 (an essay with commas or quotes must be in double quotes)",
        f"{f} line 7: unknown question 'q9' (expected q1, q2, auto or blank)",
        f"{f} line 8: the essay text is missing or empty",
    ]
    assert [i.source for i in got] == [f"{f}:ann", f"{f}:line 3", f"{f}:cat", f"{f}:dan", f"{f}:eve", f"{f}:line 9"]


def test_csv_delimiter_is_sniffed_and_text_column_required(tmp_path: Path) -> None:
    semi = tmp_path / "semi.csv"
    semi.write_text('id;text\nx;"Reforms, reforms; and more"\n', encoding="utf-8-sig")
    [item] = items(semi)
    assert (item.source, item.text) == (f"{semi}:x", "Reforms, reforms; and more")
    tsv = tmp_path / "t.tsv"
    tsv.write_text("name\tanswer\nyo\tan, answer\n")
    assert items(tsv)[0].text == "an, answer"
    bad = tmp_path / "bad.csv"
    bad.write_text("id,mark\n1,2\n")
    [item] = items(bad)
    assert "no essay column" in item.error and "id, mark" in item.error


def test_jsonl_lines(tmp_path: Path) -> None:
    f = tmp_path / "class.jsonl"
    f.write_text('{"id": "a", "text": "One."}\n\n{"id": "b", "text": "Two.\n{not json}\n["a list"]\n{"id": 7, "essay": "Three.", "question": "auto"}\n')
    got = items(f)
    assert [(i.source, i.question, i.text) for i in got if not i.error] == [(f"{f}:a", None, "One."), (f"{f}:7", "auto", "Three.")]
    errors = [i.error for i in got if i.error]
    assert errors[0].startswith(f"{f} line 3: not valid JSON")
    assert errors[1].startswith(f"{f} line 4: not valid JSON")
    assert errors[2] == f"{f} line 5: expected a JSON object, found list"


def test_stdin(tmp_path: Path) -> None:
    [item] = list(iter_items(["-"], stdin=io.BytesIO("An essay from a pipe.".encode("utf-16"))))
    assert (item.source, item.text) == ("<stdin>", "An essay from a pipe.")


def test_normalise_question() -> None:
    assert [normalise_question(v, ("q1", "q2")) for v in ("Q1", " q2 ", "1", "", None, "AUTO")] == ["q1", "q2", "q1", None, None, "auto"]
    with pytest.raises(ReadError, match="unknown question"):
        normalise_question("q3", ("q1", "q2"))


@pytest.mark.parametrize("value", ["=HYPERLINK(\"http://x\")", "+1+1", "-2+3", "@SUM(A1)", "\tx", "\rx"])
def test_formula_cells_are_neutralised(value: str) -> None:
    assert neutralise_cell(value) == "'" + value


def test_plain_cells_and_numbers_pass_unchanged() -> None:
    assert [neutralise_cell(v) for v in ("essay.txt", "a=b", 18, -1.5, "")] == ["essay.txt", "a=b", 18, -1.5, ""]


def test_default_format() -> None:
    assert format_for_output("marks.CSV", False) == "csv"
    assert format_for_output("marks.jsonl", True) == "jsonl"
    assert format_for_output("marks.txt", False) == "table"
    assert format_for_output(None, True) == "table"
    assert format_for_output(None, False) == "jsonl"


def test_atomic_output_replaces_whole_or_not_at_all(tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    target.write_text("old contents\n")
    with pytest.raises(RuntimeError):
        with atomic_output(str(target)) as fh:
            fh.write("half a fi")
            raise RuntimeError("scoring crashed")
    assert target.read_text() == "old contents\n"
    assert os.listdir(tmp_path) == ["out.csv"]  # no temporary file left behind
    with atomic_output(str(target)) as fh:
        csv.writer(fh).writerow(["new", "contents"])
    assert target.read_bytes() == b"new,contents\r\n"
    assert os.listdir(tmp_path) == ["out.csv"]


def test_check_writable(tmp_path: Path) -> None:
    assert check_writable(str(tmp_path / "ok.json")) is None
    assert "does not exist" in check_writable(str(tmp_path / "nope" / "x.json"))
    assert "is a folder" in check_writable(str(tmp_path))
    (tmp_path / "class.csv").write_text("id,text\n")
    assert "one of the inputs" in check_writable(str(tmp_path / "class.csv"), ["-", str(tmp_path / "x" / ".." / "class.csv")])


def test_default_jobs() -> None:
    from khrushchev_essays.batch import PARALLEL_MIN_ESSAYS, CpuWindow, default_jobs, idle_cores

    window = CpuWindow()
    assert default_jobs(PARALLEL_MIN_ESSAYS - 1) == 1  # a pool never pays for a small batch
    assert default_jobs(PARALLEL_MIN_ESSAYS - 1, window) == 1
    assert 0 <= idle_cores() <= (os.cpu_count() or 1)
    assert 1 <= default_jobs(PARALLEL_MIN_ESSAYS) <= 2
    assert 1 <= default_jobs(PARALLEL_MIN_ESSAYS, window) <= 2


@pytest.mark.skipif(not Path("/proc/stat").exists(), reason="reads Linux's /proc/stat")
def test_a_cpu_window_counts_this_process_own_work_as_free() -> None:
    """The window is read over the command's own start-up: the CPU this process spends meanwhile
    is the batch's own, not another program's load, so it must not make the machine look busy."""
    from khrushchev_essays.batch import CpuWindow

    window = CpuWindow()
    t0, cpu0 = time.monotonic(), os.times()
    x = 0
    while os.times().user - cpu0.user < 0.3:  # busy: a third of a second of this process's CPU
        x += 1
    t1 = os.times()
    own_rate = (t1.user + t1.system - cpu0.user - cpu0.system) / (time.monotonic() - t0)
    free = window.free_cores()
    assert 0 <= free <= (os.cpu_count() or 1)
    # At least the share of a core this process itself had (idle cores elsewhere only add to it).
    assert free >= 0.9 * min(own_rate, os.cpu_count() or 1)


def test_items_pickle_for_worker_processes() -> None:
    import pickle

    item = Item("a.txt", "q1", "text")
    assert pickle.loads(pickle.dumps(item)) == item
    assert json.dumps([item.source])  # sources are plain strings


def test_a_report_survives_the_trip_back_from_a_pool_worker_unchanged() -> None:
    """Workers send reports back as `to_dict()`; `from_dict` must rebuild exactly the same report."""
    from conftest import FIXTURES

    from khrushchev_essays.scoring import ScoreReport, score

    for path in sorted(FIXTURES.glob("*.txt")):
        report = score(path.read_text(encoding="utf-8"), "auto", source=path.name)
        assert ScoreReport.from_dict(report.to_dict()) == report, path.name


def _fixture_batch(n: int, bad_every: int) -> list[Item]:
    """n Items cycling through the essay fixtures, every `bad_every`-th one an unreadable row."""
    from conftest import FIXTURES

    texts = [p.read_text(encoding="utf-8") for p in sorted(FIXTURES.glob("q*_*.txt"))]
    return [Item(f"e{i:03}", None, texts[i % len(texts)]) if i % bad_every else Item(f"e{i:03}", error=f"e{i:03}: unreadable")
            for i in range(n)]


@pytest.mark.slow
def test_the_parent_and_two_workers_share_a_batch_and_keep_its_order(tmp_path: Path) -> None:
    """--jobs 3: two spawned workers take chunks from the front while this process scores from the back."""
    from khrushchev_essays.batch import PARALLEL_CHUNK, score_items

    batch = _fixture_batch(5 * PARALLEL_CHUNK + 3, bad_every=17)
    serial = [r.to_dict() for r in score_items(batch, jobs=1)]
    shared = [r.to_dict() for r in score_items(batch, jobs=3)]
    assert [r["source"] for r in shared] == [item.source for item in batch]
    assert shared == serial


def test_encoded_reports_are_the_json_lines_of_the_same_reports_and_write_the_same_files() -> None:
    """score_items(..., encoded=True) gives each report as the line the jsonl writer would write;
    every writer takes them as it takes ScoreReports, bad rows included."""
    from conftest import FIXTURES

    from khrushchev_essays.batch import EncodedReport, score_items, write_reports

    texts = [p.read_text(encoding="utf-8") for p in sorted(FIXTURES.glob("q1_*.txt"))[:3]]
    batch = [Item("a", None, texts[0]), Item("b", error="b: not UTF-8"), Item("c", "q2", texts[1]),
             Item("d", "q1", " "), Item("e", None, texts[2])]
    plain = list(score_items(batch, jobs=1))
    encoded = list(score_items(batch, jobs=1, encoded=True))
    assert all(isinstance(e, EncodedReport) for e in encoded)
    assert [(e.source, e.status) for e in encoded] == [(r.source, r.status) for r in plain]
    assert [e.status for e in encoded] == ["scored", "error", "scored", "error", "scored"]
    assert [e.to_json() for e in encoded] == [r.to_json() for r in plain]
    assert [e.report() for e in encoded] == plain
    for fmt in ("jsonl", "json", "csv", "table"):
        a, b = io.StringIO(), io.StringIO()
        sa, sb = write_reports(plain, fmt, a), write_reports(encoded, fmt, b)
        assert a.getvalue() == b.getvalue() and (sa.scored, sa.failed) == (sb.scored, sb.failed) == (3, 2), fmt


@pytest.mark.slow
def test_workers_sending_json_lines_keep_the_order_and_the_bad_rows(tmp_path: Path) -> None:
    """--jobs 3 with encoded reports: the workers' lines arrive in input order, error rows in place,
    each the line this process writes for the same essay."""
    from conftest import FIXTURES

    from khrushchev_essays.batch import PARALLEL_CHUNK, EncodedReport, score_items

    texts = [p.read_text(encoding="utf-8") for p in sorted(FIXTURES.glob("q*_*.txt"))]
    batch = [Item(f"e{i:03}", None, texts[i % len(texts)]) if i % 13 else Item(f"e{i:03}", error=f"e{i:03}: unreadable")
             for i in range(4 * PARALLEL_CHUNK + 5)]
    serial = [r.to_json() for r in score_items(batch, jobs=1)]
    shared = list(score_items(batch, jobs=3, encoded=True))
    assert all(isinstance(e, EncodedReport) for e in shared)
    assert [e.source for e in shared] == [item.source for item in batch]
    assert [e.status == "error" for e in shared] == [i % 13 == 0 for i in range(len(batch))]
    assert [e.to_json() for e in shared] == serial


def test_quiet_gc_restores_the_collector_as_it_was() -> None:
    import gc

    from khrushchev_essays.batch import quiet_gc
    from khrushchev_essays.batch.runner import BATCH_GC_THRESHOLD

    before, frozen = gc.get_threshold(), gc.get_freeze_count()
    with quiet_gc():
        assert gc.get_threshold() == (BATCH_GC_THRESHOLD, *before[1:])
        assert gc.get_freeze_count() > frozen  # this test's own objects, at least
        assert gc.isenabled()
    assert gc.get_threshold() == before
    # Unfrozen again, unless something (a web server's start-up) had frozen its own objects before.
    assert gc.get_freeze_count() == 0 if frozen == 0 else gc.get_freeze_count() >= frozen


def test_workers_are_forked_only_from_a_single_threaded_process_on_linux() -> None:
    import sys
    import threading

    from khrushchev_essays.batch.runner import start_method

    if threading.active_count() == 1:
        assert start_method() == ("fork" if sys.platform.startswith("linux") else "spawn")
    stop = threading.Event()
    other = threading.Thread(target=stop.wait, daemon=True)
    other.start()
    try:
        assert start_method() == "spawn"  # a thread holding a lock at a fork would leave it held in the child
    finally:
        stop.set()
        other.join()


@pytest.mark.slow
def test_spawned_workers_mark_a_batch_as_forked_ones_do(tmp_path: Path) -> None:
    """A process with another thread running gets spawned workers; the batch comes out the same."""
    import threading

    from khrushchev_essays.batch import PARALLEL_CHUNK, score_items
    from khrushchev_essays.batch.runner import start_method

    batch = _fixture_batch(3 * PARALLEL_CHUNK + 1, bad_every=11)
    serial = [r.to_json() for r in score_items(batch, jobs=1)]
    stop = threading.Event()
    other = threading.Thread(target=stop.wait, daemon=True)
    other.start()
    try:
        assert start_method() == "spawn"
        spawned = [r.to_json() for r in score_items(batch, jobs=2, encoded=True)]
    finally:
        stop.set()
        other.join()
    assert spawned == serial


_FORKED_BATCH = r"""
import json, sys
from pathlib import Path
from khrushchev_essays.batch import PARALLEL_CHUNK, score_items
from khrushchev_essays.batch.runner import start_method
from khrushchev_essays.inputs import Item

texts = [p.read_text(encoding="utf-8") for p in sorted(Path(sys.argv[1]).glob("q*_*.txt"))]
batch = [Item(f"e{i:03}", None, texts[i % len(texts)]) if i % 7 else Item(f"e{i:03}", error=f"e{i:03}: unreadable")
         for i in range(3 * PARALLEL_CHUNK + 2)]
method = start_method()  # asked before any pool: this process runs no other thread
serial = [r.to_json() for r in score_items(batch, jobs=1)]
forked = list(score_items(batch, jobs=2, encoded=True))
print(json.dumps({"method": method, "same": [r.to_json() for r in forked] == serial,
                  "order": [r.source for r in forked] == [i.source for i in batch],
                  "errors": sum(r.status == "error" for r in forked)}))
"""


@pytest.mark.slow
def test_forked_workers_start_with_the_engine_loaded_and_mark_the_batch_as_one_process_does() -> None:
    """In a process of its own (as the CLI is), on Linux the workers are forked after the engine is
    loaded; the batch comes back in order, bad rows in place, each report as one process writes it."""
    import subprocess
    import sys

    from conftest import FIXTURES

    proc = subprocess.run([sys.executable, "-c", _FORKED_BATCH, str(FIXTURES)], capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["method"] == ("fork" if sys.platform.startswith("linux") else "spawn")
    assert out["same"] and out["order"] and out["errors"] == 14


_WARMED_BEFORE_FORK = r"""
import json, sys
from khrushchev_essays.batch.runner import _warm_engine
from khrushchev_essays.calibration import store
from khrushchev_essays.scoring import phrasing

before = phrasing.phrasing_model.cache_info().currsize
_warm_engine()
print(json.dumps({"before": before, "after": phrasing.phrasing_model.cache_info().currsize,
                  "calibrators": sorted({key[2] for key in store._cache})}))
"""


@pytest.mark.slow
def test_the_parent_warms_what_both_questions_first_essays_load_before_it_forks() -> None:
    """What the first essay of each question loads (the phrasing model's tables, the calibrators)
    is loaded by the parent before the workers are forked, so they share it, not each load it."""
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-c", _WARMED_BEFORE_FORK], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out == {"before": 0, "after": 1, "calibrators": ["q1", "q2"]}


@pytest.mark.slow
def test_the_batch_cli_marks_a_class_the_same_with_one_process_and_two(tmp_path: Path) -> None:
    """`grade --jobs 2` (a parent warmed before it forks its worker) writes the very lines
    `--jobs 1` does, both questions, every mark and span, bad rows in place."""
    import subprocess
    import sys

    from conftest import FIXTURES

    rows = tmp_path / "class.jsonl"
    texts = [(p.name[:2], p.read_text(encoding="utf-8")) for p in sorted(FIXTURES.glob("q*_*.txt"))]
    with rows.open("w", encoding="utf-8") as fh:
        for i in range(3 * 32 + 5):  # more than three chunks: the worker and the parent both mark
            q, text = texts[i % len(texts)]
            fh.write(json.dumps({"id": f"s{i:03}", "question": q, "text": text}) + "\n" if i % 13 else "{broken\n")
    cli = Path(sys.executable).parent / "khrushchev-essays"
    outputs = {}
    for jobs in ("1", "2"):
        out = tmp_path / f"marks{jobs}.jsonl"
        proc = subprocess.run([str(cli), "grade", str(rows), "--jobs", jobs, "-o", str(out)],
                              capture_output=True, text=True, timeout=600)
        assert proc.returncode == 1, proc.stderr  # the broken rows are errors; the rest are scored
        outputs[jobs] = out.read_text(encoding="utf-8").splitlines()
    assert len(outputs["1"]) == 3 * 32 + 5
    assert sum(json.loads(line)["status"] == "scored" for line in outputs["1"]) == 3 * 32 + 5 - 8
    assert outputs["2"] == outputs["1"]
