"""Roles, classes, deactivation, retention and the migration from free-text class codes, through the
real `khrushchev-essays` command and the web app on the same database."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from click.testing import CliRunner
from conftest import TEACHER_PASSWORD, database_url, make_app, read_fixture, sign_in
from sqlalchemy import text, update

from khrushchev_essays.cli import main
from khrushchev_essays.scoring import score
from khrushchev_essays.storage import AuditEvent, Review, ReviewChange, Submission, SubmissionFlag, Teacher, db, utcnow
from khrushchev_essays.storage.classes import class_by_code
from khrushchev_essays.storage.reviews import save_review
from khrushchev_essays.storage.submissions import save_submission


def run(env, *args, stdin=None, code=0):
    result = CliRunner().invoke(main, list(args), input=stdin, env=env, catch_exceptions=False)
    assert result.exit_code == code, result.output
    return result


@pytest.fixture
def env(tmp_path):
    return {"DATABASE_URL": database_url(tmp_path / "cli.sqlite"), "SECRET_KEY": "k"}


def teacher(env, email, *extra):
    return run(env, "create-teacher", email, "--password-stdin", *extra, stdin=TEACHER_PASSWORD + "\n")


def test_roles_classes_and_codes_from_the_command_line(env, tmp_path):
    assert "created admin head@school.example" in teacher(env, "head@school.example", "--name", "Ms Head").output
    assert "created teacher a@school.example" in teacher(env, "a@school.example", "--name", "Mr Alpha").output
    assert "created admin deputy@school.example" in teacher(env, "deputy@school.example", "--admin").output
    teacher(env, "b@school.example")

    made = run(env, "classes", "add", "12C History", "--teacher", "a@school.example", "--teacher", "B@School.example")
    code = made.stdout.strip()
    assert re.fullmatch(r"[A-Z0-9]{6}", code) and "a@school.example, b@school.example" in made.output
    missing = run(env, "classes", "add", "13A", "--teacher", "nobody@school.example", code=2)
    assert "no teacher with the email nobody@school.example" in missing.output

    listed = run(env, "classes", "list").stdout
    assert f"{code}\t12C History\ta@school.example, b@school.example\t0 essay(s)" in listed
    people = run(env, "teachers", "list").stdout.splitlines()
    assert [line.split("\t")[:4] for line in people] == [
        ["deputy@school.example", "-", "admin", "active"], ["head@school.example", "Ms Head", "admin", "active"],
        ["a@school.example", "Mr Alpha", "teacher", "active"], ["b@school.example", "-", "teacher", "active"]]
    assert "classes: 12C History" in people[2]

    promoted = run(env, "create-teacher", "b@school.example", "--password-stdin", "--reset-password", "--admin",
                   stdin=TEACHER_PASSWORD + "\n")
    assert "new password set for b@school.example" in promoted.output
    assert "b@school.example\t-\tadmin\tactive" in run(env, "teachers", "list").stdout

    new = run(env, "classes", "new-code", code.lower()).stdout.strip()
    assert new != code and f"{new}\t12C History" in run(env, "classes", "list").stdout
    assert "no class has the join code" in run(env, "classes", "new-code", code, code=2).output


def test_a_deactivated_teacher_is_signed_out_cannot_sign_in_and_keeps_their_reviews(env, tmp_path):
    teacher(env, "head@school.example")
    teacher(env, "b@school.example", "--name", "Mrs Beta")
    code = run(env, "classes", "add", "Beta Class", "--teacher", "b@school.example").stdout.strip()
    app = make_app(tmp_path / "cli.sqlite")
    student = app.test_client()
    resp = student.post("/questions/q1", data={"text": read_fixture("q1_medium.txt"), "student_name": "Boris", "class_code": code})
    token = resp.headers["Location"].rsplit("/", 1)[-1]
    b = app.test_client()
    assert sign_in(b, "b@school.example", TEACHER_PASSWORD).status_code == 303
    with app.app_context():
        sub = db.session.query(Submission).one()
        save_review(sub, db.session.query(Teacher).filter_by(email="b@school.example").one(), mark=19, level=4,
                    criteria={}, comment="Good work")
        sid = sub.id
    assert b.get("/teacher/").status_code == 200

    assert "b@school.example is deactivated and signed out everywhere" in run(env, "teachers", "--deactivate", "b@school.example").output
    assert b.get("/teacher/").status_code == 303  # the open session ends at its next request
    assert sign_in(app.test_client(), "b@school.example", TEACHER_PASSWORD).status_code == 401
    assert "\tdeactivated\t" in run(env, "teachers", "list").stdout
    feedback = student.get(f"/feedback/{token}").get_data(as_text=True)
    assert "by Mrs Beta" in feedback and "Good work" in feedback
    head = app.test_client()
    sign_in(head, "head@school.example", TEACHER_PASSWORD)
    review = head.get(f"/teacher/submissions/{sid}").get_data(as_text=True)
    assert "by b@school.example (Mrs Beta) <span class=\"muted\">(account deactivated)</span>" in review
    assert "Deactivated" in head.get("/admin/").get_data(as_text=True)

    # The last active admin cannot be deactivated (no one could manage the accounts any more).
    assert "only active admin" in run(env, "teachers", "deactivate", "head@school.example", code=2).output
    run(env, "teachers", "activate", "b@school.example")
    assert sign_in(app.test_client(), "b@school.example", TEACHER_PASSWORD).status_code == 303
    with app.app_context():
        assert [e.action for e in db.session.query(AuditEvent).order_by(AuditEvent.id)] == ["deactivate", "activate"]


def test_the_admin_page_deactivates_a_teacher_and_signs_them_out(tmp_path):
    app = make_app(tmp_path / "web.sqlite")
    from khrushchev_essays.storage.accounts import create_teacher

    with app.app_context():
        create_teacher("head@school.example", TEACHER_PASSWORD)
        b_id = create_teacher("b@school.example", TEACHER_PASSWORD).id
    b, head = app.test_client(), app.test_client()
    sign_in(b, "b@school.example", TEACHER_PASSWORD)
    sign_in(head, "head@school.example", TEACHER_PASSWORD)
    assert b.post(f"/admin/teachers/{b_id}/active", data={"active": "0"}).status_code == 404  # not an admin
    assert head.post(f"/admin/teachers/{b_id}/active", data={"active": "0"}).status_code == 303
    assert b.get("/teacher/").status_code == 303
    assert sign_in(app.test_client(), "b@school.example", TEACHER_PASSWORD).status_code == 401


def counts(app) -> dict[str, int]:
    with app.app_context():
        return {m.__tablename__: db.session.query(m).count() for m in (Submission, Review, ReviewChange, SubmissionFlag)}


def test_purge_deletes_exactly_the_essays_past_retention_and_a_dry_run_nothing(env, tmp_path):
    teacher(env, "head@school.example")
    app = make_app(tmp_path / "cli.sqlite")
    text = read_fixture("q1_medium.txt")
    report = score(text, "q1")
    with app.app_context():
        head = db.session.query(Teacher).one()
        subs = [save_submission(text, report, student_name=f"S{i}") for i in range(5)]
        old = subs[:2]
        for sub in subs[:3]:
            save_review(sub, head, mark=10, level=2, criteria={}, comment="c")
        revision = save_submission(text, report, student_name="S0", parent=old[0])  # recent, its first attempt is old
        rev_id = revision.id
        old_ids, keep_ids = {s.id for s in old}, {s.id for s in subs[2:]} | {rev_id}
        db.session.execute(update(Submission).where(Submission.id.in_(old_ids))
                           .values(created_at=utcnow() - timedelta(days=401)))
        db.session.execute(update(Submission).where(Submission.id == min(keep_ids))
                           .values(created_at=utcnow() - timedelta(days=399)))
        db.session.commit()
        old_flags = db.session.query(SubmissionFlag).filter(SubmissionFlag.submission_id.in_(old_ids)).count()
    before = counts(app)
    expected = (f"2 submission(s), 2 review(s), 2 review change(s), {old_flags} flag(s) older than 400 days")

    assert run(env, "purge", "--dry-run").stdout.strip() == "would delete " + expected
    assert counts(app) == before
    assert run(env, "purge").stdout.strip() == "deleted " + expected
    assert counts(app) == {"submissions": before["submissions"] - 2, "reviews": before["reviews"] - 2,
                           "review_changes": before["review_changes"] - 2,
                           "submission_flags": before["submission_flags"] - old_flags}
    with app.app_context():
        assert {s.id for s in db.session.query(Submission)} == keep_ids
        assert db.session.get(Submission, rev_id).root_id == rev_id
        (event,) = db.session.query(AuditEvent).filter_by(action="purge").all()
        assert (event.actor, event.count, event.detail) == ("command line", 2, {"older_than_days": 400})
    assert run(env, "purge").stdout.startswith("deleted 0 submission(s)")  # safe to run again (cron)
    assert "would delete 1 submission(s)" in run(env, "purge", "--older-than", "398", "--dry-run").stdout
    assert "would delete 1 submission(s)" in run({**env, "KHRUSHCHEV_RETENTION_DAYS": "398"}, "purge", "--dry-run").stdout
    assert run(env, "purge", "--older-than", "-1", code=2)


def test_the_migration_keeps_free_text_codes_and_makes_the_first_teacher_an_admin(tmp_path):
    from flask_migrate import upgrade

    from khrushchev_essays import create_app

    app = create_app({"TESTING": True, "SECRET_KEY": "k", "SQLALCHEMY_DATABASE_URI": database_url(tmp_path / "old.sqlite")})
    with app.app_context():
        upgrade(revision="0003_calibration_runs")
        with db.engine.begin() as conn:
            for email in ("first@school.example", "second@school.example"):
                conn.execute(text("INSERT INTO teachers (email, password_hash, session_token, active, created_at) "
                                  "VALUES (:email, 'x', 't', :yes, :now)"), {"email": email, "yes": True, "now": utcnow()})
            conn.execute(text(
                "INSERT INTO submissions (token, question, student_name, class_code, text, report, max_mark, word_count, "
                "created_at, source, attempt) VALUES ('tok-aaaaaaaaaaaaaaaaaaaa', 'q1', 'Old Student', '12B', 'essay', "
                "'{}', 25, 1, :now, 'web', 1)"), {"now": utcnow()})
        upgrade()
        roles = dict(db.session.query(Teacher.email, Teacher.role).all())
        assert roles == {"first@school.example": "admin", "second@school.example": "teacher"}
        sub = db.session.query(Submission).one()
        assert (sub.class_code, sub.class_id, sub.class_label) == ("12B", None, "12B")
        assert class_by_code("12B") is None
