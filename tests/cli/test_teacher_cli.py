"""The CLI's side of the teacher tools: `grade --store` into the web app's database, and
`train --from-db` learning from teachers' reviews."""

from __future__ import annotations

import shutil

from click.testing import CliRunner
from conftest import FIXTURES, ON_POSTGRES, add_teacher, database_url, make_app, query, read_fixture

from khrushchev_essays.cli import main
from khrushchev_essays.resources import data_path
from khrushchev_essays.storage import CalibrationRun, Submission, Teacher, db, save_submission
from khrushchev_essays.storage.reviews import save_review


def run(args, env):
    return CliRunner().invoke(main, args, env=env, catch_exceptions=False)


def make_classes(env) -> tuple[str, str]:
    """Two teachers and a class each, made from the command line; the two join codes."""
    codes = []
    for email, name in (("a@school.example", "12C History"), ("b@school.example", "12D History")):
        made = CliRunner().invoke(main, ["create-teacher", email, "--password-stdin"], input="correct horse battery\n", env=env)
        assert made.exit_code == 0, made.output
        result = CliRunner().invoke(main, ["classes", "add", name, "--teacher", email], env=env)
        assert result.exit_code == 0, result.output
        codes.append(result.stdout.strip().splitlines()[-1])
    return codes[0], codes[1]


def test_grade_store_puts_scored_essays_in_their_classes(tmp_path, monkeypatch):
    db_path = tmp_path / "grade.sqlite"
    env = {"DATABASE_URL": database_url(db_path), "SECRET_KEY": "k"}
    code_c, code_d = make_classes(env)
    folder = tmp_path / "essays"
    folder.mkdir()
    shutil.copy(FIXTURES / "q1_medium.txt", folder / "ivan.txt")
    (folder / "empty.txt").write_text("   ")
    table = tmp_path / "class.csv"
    essay = read_fixture("q2_medium.txt").replace('"', '""')
    # A row's own code (typed in lower case with a space) wins; a row with an unknown code is an error row.
    spaced = f"{code_d[:3]} {code_d[3:]}".lower()
    table.write_text(f'student,class,question,essay\nOlga,{spaced},q2,"{essay}"\nPetr,,q2,""\n'
                     f'Nobody,12Z,q2,"{essay}"\n', encoding="utf-8")

    unknown = run(["grade", str(folder), "--store", "--class-code", "NOSUCH", "--format", "jsonl"], env)
    assert unknown.exit_code == 2 and "no class has the join code 'NOSUCH'" in unknown.output

    result = run(["grade", str(folder), str(table), "--store", "--class-code", code_c.lower(), "--format", "jsonl"], env)
    assert result.exit_code == 1, result.output  # the empty file, the empty row and the unknown code failed
    assert "stored 2 scored essay(s) in the database" in result.output
    assert "no class has the join code 12Z" in result.output

    monkeypatch.setenv("DATABASE_URL", database_url(db_path))
    app = make_app(db_path)
    with app.app_context():
        subs = {s.source_ref: s for s in db.session.query(Submission)}
        assert set(subs) == {str(folder / "ivan.txt"), f"{table}:Olga"}
        ivan, olga = subs[str(folder / "ivan.txt")], subs[f"{table}:Olga"]
        assert (ivan.source, ivan.student_name, ivan.class_code, ivan.klass.name, ivan.question) == (
            "cli", None, code_c, "12C History", "q1")
        assert (olga.student_name, olga.class_code, olga.klass.name, olga.question) == ("Olga", code_d, "12D History", "q2")
        assert ivan.text == read_fixture("q1_medium.txt") and ivan.report["status"] == "scored"
    client = app.test_client()
    client.post("/teacher/login", data={"email": "b@school.example", "password": "correct horse battery"})
    html = client.get("/teacher/").get_data(as_text=True)
    assert "Olga" in html and "ivan.txt" not in html  # b teaches 12D only


def test_grade_without_store_touches_no_database_and_class_code_needs_store(tmp_path):
    env = {"DATABASE_URL": database_url(tmp_path / "none.sqlite"), "SECRET_KEY": "k"}
    essay = tmp_path / "e.txt"
    essay.write_text(read_fixture("q1_medium.txt"))
    assert run(["grade", str(essay), "--format", "jsonl"], env).exit_code == 0
    if ON_POSTGRES:  # the test's schema is still empty: not even the migrations ran
        assert query(env["DATABASE_URL"], "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()") == []
    else:
        assert not (tmp_path / "none.sqlite").exists()
    result = run(["grade", str(essay), "--class-code", "12C"], env)
    assert result.exit_code == 2 and "only used with --store" in result.output


def test_train_from_db_needs_ten_reviewed_essays_a_question_then_trains(tmp_path, monkeypatch, scored_fixture,
                                                                         private_instance):
    db_path = tmp_path / "train.sqlite"
    env = {"DATABASE_URL": database_url(db_path), "SECRET_KEY": "k"}
    monkeypatch.setenv("DATABASE_URL", env["DATABASE_URL"])
    app = make_app(db_path)
    add_teacher(app)
    names = ["q1_strong.txt", "q1_medium.txt", "q1_narrative.txt", "junk_too_short.txt", "junk_keyword_list.txt"]
    with app.app_context():
        teacher = db.session.query(Teacher).one()
        for i in range(9):
            text, report = scored_fixture(names[i % len(names)], "q1")
            sub = save_submission(text, report)
            mark = max(0, min(25, (report.mark or 0) + (i % 3) - 1))
            save_review(sub, teacher, mark=mark, level=_level(mark),
                        criteria={c.id: c.mark for c in report.criteria}, comment="")
    out = tmp_path / "models"
    short = run(["train", "--from-db", "--out", str(out)], env)
    assert short.exit_code == 2
    assert "q1: 9 reviewed submissions, at least 10 are needed" in short.output
    with app.app_context():
        teacher = db.session.query(Teacher).one()
        text, report = scored_fixture("q1_strong.txt", "q1")
        sub = save_submission(text, report)
        save_review(sub, teacher, mark=22, level=5, criteria={c.id: c.mark for c in report.criteria}, comment="")
    trained = run(["train", "--from-db", "--out", str(out)], env)
    assert trained.exit_code == 0, trained.output
    lines = [ln for ln in trained.output.splitlines() if ln.startswith("q")]  # the table, not the migration log
    assert [ln.split()[:2] for ln in lines] == [["q1", "before"], ["q1", "rules"], ["q1", "after"]]
    assert "before (rules)" in lines[0] and " 10 " in lines[0]  # nothing installed in `out` yet
    with app.app_context():
        first = db.session.query(CalibrationRun).one()
        assert (first.question, first.trained_by, first.teacher_id, first.reviews) == ("q1", "command line", None, 10)
        # Installed only if it beat the rules in leave-one-out; either way the run says what happened.
        assert first.outcome in ("installed", "not_used") and first.message in trained.output
        assert (out / "q1.model.json").is_file() == (first.outcome == "installed")
    forced = run(["train", "--from-db", "--out", str(out), "--always-apply"], env)
    assert forced.exit_code == 0 and "q1: installed q1-" in forced.output
    assert (out / "q1.model.json").is_file() and not (out / "q2.model.json").exists()
    side = (out / "q1.json").read_text()
    assert '"source": "database:teacher-reviews"' in side and '"trained_by": "command line"' in side
    # Without --out: the instance folder (KHRUSHCHEV_INSTANCE_PATH), never the package's shipped models.
    package = data_path("models", "calibrators")
    shipped = {p.name: p.read_bytes() for p in package.iterdir()}
    default = run(["train", "--from-db", "--always-apply"], env)
    assert default.exit_code == 0 and "q1: installed q1-" in default.output
    assert (private_instance / "calibrators" / "q1.model.json").is_file()
    assert {p.name: p.read_bytes() for p in package.iterdir()} == shipped


def _level(mark: int) -> int:
    from khrushchev_essays.scoring import load_rubric

    return load_rubric("q1").level_for_mark(mark)
