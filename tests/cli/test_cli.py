"""The `grade` and `evaluate` commands through the real entry point, the real engine and spaCy.

Every bad input is written into tmp_path; the essays are the tests' own, short and plain.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import docx
import pytest
from click.testing import CliRunner, Result

from khrushchev_essays.batch import FIXED_COLUMNS
from khrushchev_essays.inputs import MAX_TEXT_BYTES
from khrushchev_essays.cli import main

CONTRACT_KEYS = {
    "source", "question", "status", "error", "mark", "max_mark", "level", "word_count",
    "criteria", "factors", "flags", "feedback", "confidence", "calibration", "schema_version",
}

ESSAY_Q1 = """Khrushchev's reforms changed the USSR by 1964, but they did not transform it, because the
one-party state and the planned economy survived him.

The clearest change was the end of mass terror. After the Secret Speech of 1956 millions of prisoners
came home from the Gulag and the secret police lost much of its power. This mattered because people no
longer lived in fear of arrest, so the Thaw was different from Stalin's rule. However, the Communist
Party kept its monopoly of power, and the crushing of Hungary in 1956 showed the limits of change.

In agriculture the Virgin Lands scheme of 1954 ploughed up vast new land and raised grain output at
first. Yet poor soil led to dust storms, and the harvest failure of 1963 forced the USSR to buy grain
abroad. Therefore farming grew in scale but kept its weakness.

Industry turned a little towards consumer goods and housing, and the sovnarkhozy of 1957 spread out
planning. On the other hand, heavy industry and defence still came first, and the Novocherkassk
protest of 1962 showed that living standards had not risen enough.

Overall, Khrushchev made the USSR less brutal and more open, which was a real change, but the system
was not transformed: central planning, collective farms and party control all remained in 1964.
"""

ESSAY_Q2 = """De-Stalinisation was a significant factor in Khrushchev's fall from power in 1964, but it was not
the most significant, because the Presidium removed him mainly for failures in agriculture and
foreign policy and for his erratic leadership.

De-Stalinisation, begun with the Secret Speech of 1956, alarmed conservatives. The Anti-Party Group
tried to remove him in 1957, and unrest in Poland and Hungary seemed to show that attacking Stalin
threatened communist rule. However, Khrushchev survived in 1957, so de-Stalinisation alone did not
bring him down.

Agriculture mattered more. The Virgin Lands scheme failed after 1960 and the poor harvest of 1963
meant the USSR had to import grain, which humiliated the leadership.

Foreign policy also damaged him. The Cuban Missile Crisis of 1962 ended with Soviet missiles
withdrawn, which his opponents saw as a retreat, and the split with China weakened the USSR.

Finally, his style turned the party against him. Splitting the party into industrial and
agricultural halves in 1962 angered officials, and Brezhnev felt he acted without consulting them.

In conclusion, de-Stalinisation made enemies, but the most significant factor was failed policy and
erratic leadership, which united the Presidium against him in October 1964.
"""


def grade(*args: object, stdin: str | bytes | None = None) -> Result:
    """Run `khrushchev-essays grade ARGS` in-process through click."""
    return CliRunner().invoke(main, ["grade", *map(str, args)], input=stdin, catch_exceptions=False)


@pytest.fixture
def essays(tmp_path: Path) -> tuple[Path, Path]:
    q1, q2 = tmp_path / "q1.txt", tmp_path / "q2.txt"
    q1.write_text(ESSAY_Q1, encoding="utf-8")
    q2.write_text(ESSAY_Q2, encoding="utf-8")
    return q1, q2


def test_help_does_not_load_heavy_libraries() -> None:
    code = (
        "import sys\nfrom khrushchev_essays.cli import main\n"
        "for args in (['--help'], ['grade', '--help'], ['evaluate', '--help']):\n"
        "    try:\n        main(args)\n    except SystemExit:\n        pass\n"
        "print('HEAVY', sorted(m for m in ('spacy', 'sklearn', 'numpy', 'flask', 'docx') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "--question" in out and "--labels" in out
    assert out.strip().endswith("HEAVY []")


def test_json_format_carries_the_report_contract(essays: tuple[Path, Path]) -> None:
    result = grade(*essays, "--format", "json")
    assert result.exit_code == 0, result.output
    reports = json.loads(result.stdout)
    assert [r["source"] for r in reports] == [str(p) for p in essays]
    for r in reports:
        assert CONTRACT_KEYS <= r.keys()
        assert r["status"] == "scored" and r["error"] is None
        assert 0 <= r["level"] <= 5 and 0 <= r["mark"] <= r["max_mark"] == 25
        assert r["word_count"] > 150 and r["criteria"] and r["factors"]


def test_jsonl_is_the_default_when_piped(essays: tuple[Path, Path]) -> None:
    result = grade(*essays)
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert [json.loads(line)["source"] for line in lines] == [str(p) for p in essays]
    assert "2 input(s): 2 scored, 0 failed" in result.stderr


def test_csv_format_columns(essays: tuple[Path, Path]) -> None:
    result = grade(*essays, "--format", "csv")
    assert result.exit_code == 0
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    columns = list(rows[0].keys())
    assert tuple(columns[: len(FIXED_COLUMNS)]) == FIXED_COLUMNS
    assert any(c.startswith("criterion_") for c in columns) and any(c.startswith("factor_") for c in columns)
    # One column set over both rubrics: a factor of one question is blank for the other's essay.
    full = json.loads(grade(*essays, "--format", "json").stdout)
    for row, report in zip(rows, full):
        assert row["source"] == report["source"] and int(row["mark"]) == report["mark"]
        assert row["flags"] == ";".join(report["flags"])
        for f in report["factors"]:
            assert row[f"factor_{f['id']}"] == f["status"]
        for c in report["criteria"]:
            assert float(row[f"criterion_{c['id']}"]) == pytest.approx(c["mark"], abs=0.01)


def test_table_format(essays: tuple[Path, Path], tmp_path: Path) -> None:
    missing = tmp_path / "missing.txt"
    result = grade(*essays, missing, "--format", "table")
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["SOURCE", "Q", "LEVEL", "MARK", "WORDS", "FLAGS", "/", "ERROR"]
    assert re.search(r"q1\.txt\s+q1\s+\d\s+\d+/25\s+\d+", lines[1])
    assert re.search(r"q2\.txt\s+q2\s+\d\s+\d+/25\s+\d+", lines[2])
    assert "missing.txt" in lines[3] and "ERROR: no such file or folder" in lines[3]
    assert lines[-1] == "3 input(s): 2 scored, 1 failed"


def test_output_file_is_written_whole(essays: tuple[Path, Path], tmp_path: Path) -> None:
    out = tmp_path / "marks.csv"
    out.write_text("last week's marks\n")
    result = grade(*essays, "--output", out)  # format from the extension
    assert result.exit_code == 0
    assert result.stdout == ""
    assert f"wrote {out}" in result.stderr
    assert [r["source"] for r in csv.DictReader(out.open(encoding="utf-8"))] == [str(p) for p in essays]
    assert sorted(os.listdir(tmp_path)) == ["marks.csv", "q1.txt", "q2.txt"]  # no temporary file left
    # A run that fails before writing leaves the file as it was.
    before = out.read_bytes()
    assert grade(*essays, "--output", out, "--question", "q7").exit_code == 2
    assert out.read_bytes() == before
    for fmt in ("json", "jsonl"):
        target = tmp_path / f"marks.{fmt}"
        assert grade(*essays, "-o", target).exit_code == 0
        text = target.read_text(encoding="utf-8")
        sources = [r["source"] for r in (json.loads(text) if fmt == "json" else map(json.loads, text.splitlines()))]
        assert sources == [str(p) for p in essays]


def test_usage_errors_exit_2(essays: tuple[Path, Path], tmp_path: Path) -> None:
    for args, message in [
        ((), "give at least one essay"),
        ((essays[0], "--question", "q3"), "unknown question 'q3'"),
        ((essays[0], "--format", "xml"), "xml"),
        ((essays[0], "--jobs", "0"), "--jobs"),
        ((essays[0], "--output", tmp_path / "no" / "such" / "dir.csv"), "does not exist"),
        ((essays[0], "--output", essays[0]), "one of the inputs"),
    ]:
        result = grade(*args)
        assert result.exit_code == 2, args
        assert message in result.stderr


def test_broken_rubric_exits_2_listing_every_problem(essays: tuple[Path, Path], tmp_path: Path, monkeypatch) -> None:
    from khrushchev_essays.scoring import rubric

    folder = tmp_path / "rubrics"
    folder.mkdir()
    (folder / "q1_broken.toml").write_text('id = "q1"\nmax_mark = "lots"\n')
    (folder / "q2_bad_toml.toml").write_text("id = \n")
    monkeypatch.setattr(rubric, "RUBRICS_DIR", folder)
    result = grade(essays[0])
    assert result.exit_code == 2
    problems = [line for line in result.stderr.splitlines() if line.startswith("  [")]
    assert len(problems) >= 3  # every problem of the first file, and the second file's too
    assert any("q1_broken.toml] max_mark" in p for p in problems)
    assert any("q2_bad_toml.toml] is not valid TOML" in p for p in problems)


def test_unloadable_pipeline_exits_2(essays: tuple[Path, Path], tmp_path: Path) -> None:
    env = {"KHRUSHCHEV_SPACY_PIPELINE": str(tmp_path / "no-pipeline")}
    for fmt in ("jsonl", "json", "csv", "table"):
        result = CliRunner().invoke(main, ["grade", str(essays[0]), "-f", fmt], env=env, catch_exceptions=False)
        assert result.exit_code == 2
        assert "cannot grade: the spaCy pipeline cannot be loaded" in result.stderr and "build-pipeline" in result.stderr
        assert result.stdout == "", fmt


def write_bad_inputs(tmp_path: Path) -> dict[str, Path]:
    """One file of each kind of bad input, plus good files in the awkward formats."""
    d = tmp_path / "in"
    d.mkdir()
    files = {name: d / name for name in (
        "empty.txt", "blank.txt", "binary.txt", "latin1.txt", "utf16.txt", "huge.txt", "wordy.txt",
        "good.docx", "corrupt.docx", "class.csv", "class.jsonl",
    )}
    files["empty.txt"].write_bytes(b"")
    files["blank.txt"].write_text("   \n\n\t  \n")
    files["binary.txt"].write_bytes(bytes(range(256)) * 4)
    files["latin1.txt"].write_bytes(ESSAY_Q1.replace("Stalin's", "Stalin’s café").encode("cp1252"))
    files["utf16.txt"].write_text(ESSAY_Q2, encoding="utf-16")  # with its BOM: read fine
    files["huge.txt"].write_bytes(b"Khrushchev " * (MAX_TEXT_BYTES // 11 + 1))
    files["wordy.txt"].write_text("reform " * 6001)  # 42,000 characters but over MAX_WORDS
    document = docx.Document()
    for paragraph in ESSAY_Q1.split("\n\n"):
        document.add_paragraph(paragraph.replace("\n", " "))
    document.save(files["good.docx"])
    files["corrupt.docx"].write_bytes(files["good.docx"].read_bytes()[:1500])
    with files["class.csv"].open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerows([["student", "question", "essay"], ["ann", "q1", ESSAY_Q1]])
        fh.write('ben,q1,"an essay with" an unquoted, comma\n')
        w.writerows([["cat", "q5", ESSAY_Q2], ["dan", "q2", ""], ["eve", "2", ESSAY_Q2]])
    files["class.jsonl"].write_text(
        json.dumps({"id": "fay", "text": ESSAY_Q2}) + "\n{\"id\": \"gus\", \"text\": \"unterminated\n"
        + json.dumps({"id": "hal", "question": "q1", "essay": ESSAY_Q1}) + "\n",
        encoding="utf-8",
    )
    return files


def test_bad_inputs_become_error_rows_and_the_batch_continues(essays: tuple[Path, Path], tmp_path: Path) -> None:
    files = write_bad_inputs(tmp_path)
    missing = tmp_path / "in" / "missing.txt"
    args = [essays[0], *files.values(), missing, essays[1]]
    result = grade(*args, "--format", "json")
    assert result.exit_code == 1
    reports = json.loads(result.stdout)
    by_source = {r["source"]: r for r in reports}
    assert len(by_source) == len(reports)

    def error(name: str) -> str:
        r = by_source[str(files.get(name, tmp_path / "in" / name))]
        assert r["status"] == "error" and r["mark"] is None, name
        assert r["error"].startswith(r["source"])  # the message names its input
        return r["error"]

    assert "is empty" in error("empty.txt")
    assert "only whitespace" in error("blank.txt")
    assert "binary" in error("binary.txt")
    assert "not UTF-8" in error("latin1.txt") and "save it as UTF-8" in error("latin1.txt")
    assert "too large" in error("huge.txt")
    assert "too long" in error("wordy.txt") and "6,000" in error("wordy.txt")  # the engine's check_text
    assert "not a readable .docx" in error("corrupt.docx")
    assert "no such file" in error("missing.txt")
    csv_name, jsonl_name = files["class.csv"], files["class.jsonl"]
    ben = 3 + ESSAY_Q1.count("\n")  # ann's quoted essay spans many lines; rows are named by where they start
    assert by_source[f"{csv_name}:line {ben}"]["error"] == (
        f"{csv_name} line {ben}: malformed CSV (',' expected after '\"'): a quote is not closed, or is followed by "
        'more text; put an essay with commas, quotes or line breaks in double quotes, with each quote inside it doubled ("")'
    )
    assert by_source[f"{csv_name}:cat"]["error"] == f"{csv_name} line {ben + 1}: unknown question 'q5' (expected q1, q2, auto or blank)"
    dan = ben + 2 + ESSAY_Q2.count("\n")
    assert by_source[f"{csv_name}:dan"]["error"] == f"{csv_name} line {dan}: the essay text is missing or empty"
    assert by_source[f"{jsonl_name}:line 2"]["error"].startswith(f"{jsonl_name} line 2: not valid JSON")

    scored = [r["source"] for r in reports if r["status"] == "scored"]
    assert scored == [
        str(essays[0]), str(files["utf16.txt"]), str(files["good.docx"]), f"{csv_name}:ann", f"{csv_name}:eve",
        f"{jsonl_name}:fay", f"{jsonl_name}:hal", str(essays[1]),
    ]
    assert [r["source"] for r in reports][0] == str(essays[0]) and reports[-1]["source"] == str(essays[1])
    assert by_source[f"{csv_name}:eve"]["question"] == "q2"  # "2" in the question column
    assert by_source[str(files["good.docx"])]["word_count"] == pytest.approx(len(ESSAY_Q1.split()), abs=3)


def test_csv_output_neutralises_formula_cells(essays: tuple[Path, Path], tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    names = ["=HYPERLINK(\"x.example\",\"y\").txt", "+1+2.txt", "-3.txt", "@SUM(A1).txt"]
    for name in names:
        Path(name).write_text(ESSAY_Q1, encoding="utf-8")
    result = grade("--format", "csv", "--", *names, "=missing.txt")  # not created: an error row
    assert result.exit_code == 1
    rows = list(csv.reader(io.StringIO(result.stdout)))[1:]
    assert [r[0] for r in rows] == ["'" + n for n in [*names, "=missing.txt"]]
    assert rows[-1][3].startswith("'=missing.txt: no such file")
    for row in rows:
        assert not any(cell.startswith(("=", "+", "-", "@")) for cell in row)


def test_question_auto_forced_and_per_row(essays: tuple[Path, Path], tmp_path: Path) -> None:
    auto = json.loads(grade(*essays, "--question", "auto", "-f", "json").stdout)
    assert [r["question"] for r in auto] == ["q1", "q2"]
    assert all(r["question_confidence"] is not None for r in auto)
    forced = json.loads(grade(*essays, "--question", "Q2", "-f", "json").stdout)
    assert [r["question"] for r in forced] == ["q2", "q2"]
    rows = tmp_path / "rows.jsonl"
    rows.write_text(json.dumps({"id": "a", "question": "q1", "text": ESSAY_Q1}) + "\n" + json.dumps({"id": "b", "text": ESSAY_Q1}) + "\n")
    per_row = json.loads(grade(rows, "--question", "q2", "-f", "json").stdout)
    assert [r["question"] for r in per_row] == ["q1", "q2"]  # the row's own question wins


def test_stdin_dash(essays: tuple[Path, Path]) -> None:
    result = grade("-", "--format", "json", stdin=ESSAY_Q2.encode("utf-8"))
    assert result.exit_code == 0
    [report] = json.loads(result.stdout)
    assert report["source"] == "<stdin>" and report["question"] == "q2"


@pytest.mark.slow
def test_two_jobs_keep_input_order_and_results(tmp_path: Path) -> None:
    rows = tmp_path / "class.jsonl"
    with rows.open("w", encoding="utf-8") as fh:
        for i in range(70):  # more than two chunks, so the pool really runs
            text = (ESSAY_Q1, ESSAY_Q2)[i % 2] + ("" if i % 3 else "\nThe Thaw mattered.")
            fh.write(json.dumps({"id": f"s{i:02}", "text": text}) + "\n")
        fh.write("{broken\n")
    serial = grade(rows, "--jobs", "1", "-f", "jsonl")
    parallel = grade(rows, "--jobs", "2", "-f", "jsonl")
    assert serial.exit_code == parallel.exit_code == 1

    def outcomes(result: Result) -> list[tuple]:
        # Not the marks: the workers import the engine afresh, which may differ from this process's
        # copy while someone edits it; order and outcome per essay are what the pool must keep.
        return [(r["source"], r["status"], r["question"]) for r in map(json.loads, result.stdout.splitlines())]

    assert outcomes(parallel) == outcomes(serial) and len(outcomes(serial)) == 71
    assert [json.loads(line)["source"] for line in parallel.stdout.splitlines()][:2] == [f"{rows}:s00", f"{rows}:s01"]


def test_installed_console_script(essays: tuple[Path, Path], tmp_path: Path) -> None:
    script = Path(sys.executable).parent / "khrushchev-essays"
    proc = subprocess.run(
        [str(script), "grade", str(essays[0]), "-", str(tmp_path / "missing.txt")],
        input=ESSAY_Q2, capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 1, proc.stderr
    reports = [json.loads(line) for line in proc.stdout.splitlines()]  # jsonl: stdout is a pipe
    assert [(r["source"], r["status"]) for r in reports] == [
        (str(essays[0]), "scored"), ("<stdin>", "scored"), (str(tmp_path / "missing.txt"), "error"),
    ]
    assert "3 input(s): 2 scored, 1 failed" in proc.stderr


def test_progress_bar_only_on_a_terminal(tmp_path: Path) -> None:
    import pty

    rows = tmp_path / "class.jsonl"
    rows.write_text("".join(json.dumps({"id": f"s{i}", "text": ESSAY_Q1}) + "\n" for i in range(20)))
    master, slave = pty.openpty()  # stderr on a terminal, as when a teacher runs it
    proc = subprocess.Popen(
        [str(Path(sys.executable).parent / "khrushchev-essays"), "grade", str(rows), "-o", str(tmp_path / "out.jsonl")],
        stdout=subprocess.PIPE, stderr=slave,
    )
    os.close(slave)
    seen = b""
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:  # the terminal closed with the process
            break
        if not chunk:
            break
        seen += chunk
    os.close(master)
    assert proc.wait(timeout=300) == 0
    assert b"Marking" in seen and b"100%" in seen
    assert len((tmp_path / "out.jsonl").read_text().splitlines()) == 20
    piped = grade(rows, "-o", tmp_path / "piped.jsonl")  # CliRunner's stderr is no terminal
    assert "Marking" not in piped.stderr


# --- evaluate ----------------------------------------------------------------------------------


def evaluate(*args: object) -> Result:
    return CliRunner().invoke(main, ["evaluate", *map(str, args)], catch_exceptions=False)


def write_labels(path: Path, rows: list[tuple[str, str, int, int]]) -> Path:
    lines = ["question\tfile\twords\tconsensus_level\tconsensus_mark"]
    lines += [f"{q}\t{f}\t0\t{lv}\t{m}" for q, f, lv, m in rows]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_evaluate_own_essays_as_json(essays: tuple[Path, Path], tmp_path: Path) -> None:
    (tmp_path / "q1").mkdir()
    (tmp_path / "q1" / "a.txt").write_text(ESSAY_Q1)  # found as PATH/<question>/<file>
    labels = write_labels(tmp_path / "labels.tsv", [("q1", "a.txt", 3, 13), ("q2", "q2.txt", 2, 9)])
    result = evaluate(tmp_path, "--labels", labels, "--format", "json")
    assert result.exit_code == 0, result.output
    figures = json.loads(result.stdout)
    assert figures["n"] == 2 and figures["failed"] == []
    assert set(figures["by_question"]) == {"q1", "q2"}
    assert sum(map(sum, figures["overall"]["confusion"])) == 2
    assert [e["file"] for e in figures["essays"]] == ["a.txt", "q2.txt"]


def test_evaluate_errors_exit_2(essays: tuple[Path, Path], tmp_path: Path) -> None:
    result = evaluate(tmp_path, "--labels", tmp_path / "nope.tsv")
    assert result.exit_code == 2 and "labels file" in result.stderr and "no such file" in result.stderr
    labels = write_labels(tmp_path / "labels.tsv", [("q1", "q1.txt", 3, 13), ("q2", "gone.txt", 2, 9), ("q1", "lost.txt", 1, 3)])
    result = evaluate(tmp_path, "--labels", labels)
    assert result.exit_code == 2
    assert "q2/gone.txt" in result.stderr and "q1/lost.txt" in result.stderr  # every missing essay
    bad = tmp_path / "bad.tsv"
    bad.write_text("question\tfile\nq1\tq1.txt\n")
    result = evaluate(tmp_path, "--labels", bad)
    assert result.exit_code == 2 and "consensus_level" in result.stderr
    result = evaluate(tmp_path, "--labels", write_labels(tmp_path / "l7.tsv", [("q1", "q1.txt", 7, 13), ("q1", "q1.txt", "x", 1)]))
    assert result.exit_code == 2
    assert "line 2: consensus_level 7 is not a level 0-5" in result.stderr and "line 3: needs a question" in result.stderr
    assert evaluate("--labels", labels).exit_code == 2


@pytest.mark.calibration
def test_evaluate_on_the_calibration_set(calibration_dir: Path) -> None:
    result = evaluate(calibration_dir, "--labels", calibration_dir / "labels.tsv")
    assert result.exit_code == 0, result.output
    out = result.stdout
    figures = {}
    for name in ("overall", "q1", "q2"):
        m = re.search(rf"^{name}\s+(\d+)\s+(-?[\d.]+|n/a)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)$", out, re.M)
        assert m, f"no {name} row in:\n{out}"
        figures[name] = m.groups()
    n, qwk, exact, adjacent, mae = figures["overall"]
    assert int(n) == 48 and int(figures["q1"][0]) == int(figures["q2"][0]) == 24
    for _, q, e, a, _ in figures.values():
        assert q == "n/a" or -1 <= float(q) <= 1
        assert 0 <= float(e) <= float(a) <= 1
    assert 0 <= float(mae) <= 25
    assert out.count("Level confusion") == 3 and "Off by 2+ levels:" in out


@pytest.mark.slow
def test_two_jobs_to_standard_output_write_each_report_once_as_one_job_does(tmp_path: Path) -> None:
    """The installed command, its reports piped (the workers are forked on Linux, and a forked
    process flushes its copy of stdout when it ends: nothing may come out twice)."""
    rows = tmp_path / "class.jsonl"
    with rows.open("w", encoding="utf-8") as fh:
        for i in range(75):
            fh.write(json.dumps({"id": f"s{i:02}", "text": (ESSAY_Q1, ESSAY_Q2)[i % 2]}) + "\n")
        fh.write("{broken\n")
    script = Path(sys.executable).parent / "khrushchev-essays"
    runs = [subprocess.run([str(script), "grade", str(rows), "--jobs", jobs, "-f", fmt], capture_output=True,
                           text=True, timeout=600) for jobs, fmt in (("1", "jsonl"), ("2", "jsonl"), ("2", "csv"), ("1", "csv"))]
    assert [r.returncode for r in runs] == [1, 1, 1, 1]
    assert runs[0].stdout == runs[1].stdout and len(runs[1].stdout.splitlines()) == 76
    assert runs[2].stdout == runs[3].stdout and len(runs[2].stdout.splitlines()) == 77  # a header, then a row each
    assert "76 input(s): 75 scored, 1 failed" in runs[1].stderr
