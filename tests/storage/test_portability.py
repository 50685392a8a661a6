"""What differs between SQLite and PostgreSQL, held the same on both (`make test` runs these on
SQLite, `make test-postgres` on PostgreSQL): NUL characters, which PostgreSQL cannot store or even
compare with, ids beyond a 32-bit INTEGER column, which it refuses to compare with, and case in
searches, which SQLite folded for ASCII letters only."""

from __future__ import annotations

import re

from conftest import read_fixture, sign_in
from test_teacher_review import form_values, store

from khrushchev_essays.storage import LoginAttempt, Review, ReviewChange, Submission, db, get_by_token, save_submission


def test_nul_in_queries_sign_ins_and_comments_is_never_a_500(teacher_client, app, scored_fixture):
    # The web forms and query strings may clean control characters away before anything is looked
    # up; whatever reaches the database must not carry a NUL (a 500 on PostgreSQL).
    store(app, scored_fixture, "q1_medium.txt", student_name="Anna", class_code="12C")
    for url in ("/teacher/?search=An%00na", "/teacher/?class=12%00C", "/teacher/?flag=%00",
                "/teacher/export.csv?search=%00", "/teacher/analytics?class=%00"):
        assert teacher_client.get(url).status_code == 200, url
    assert teacher_client.get("/feedback/abc%00def").status_code == 404
    signed_out = app.test_client()
    assert sign_in(signed_out, email="teacher\x00@school.example").status_code in (303, 401)  # cleaned, or no such account
    sid = store(app, scored_fixture, "q1_medium.txt", student_name="Boris")
    data = form_values(app, sid, comment="Good\x00 start.")
    assert teacher_client.post(f"/teacher/submissions/{sid}", data=data).status_code == 303
    with app.app_context():
        assert all("\x00" not in email for (email,) in db.session.query(LoginAttempt.email))
        assert "\x00" not in db.session.get(Review, sid).comment
        assert "\x00" not in db.session.query(ReviewChange).one().after["comment"]


def test_a_nul_stored_through_storage_becomes_a_replacement_character(app, scored_fixture):
    """Below the forms (the CLI, scripts): the database layer itself keeps NUL out, text and JSON alike."""
    sid = store(app, scored_fixture, "q1_medium.txt", student_name="Anna")
    with app.app_context():
        from khrushchev_essays.storage.accounts import record_failure

        record_failure("teacher\x00@school.example", "127.0.0.1")
        assert db.session.query(LoginAttempt.email).scalar() == "teacher\ufffd@school.example"
        sub = db.session.get(Submission, sid)
        db.session.add(Review(submission_id=sid, mark=10, level=2, criteria={"a\x00": 1.0}, comment="Good\x00 start."))
        db.session.add(ReviewChange(submission_id=sid, teacher_email="t@school.example", action="override",
                                    after={"comment": "Good\x00 start."}))
        db.session.commit()
        db.session.expire_all()
        review = db.session.get(Review, sid)
        assert review.comment == "Good\ufffd start." and review.criteria == {"a\ufffd": 1.0}
        assert db.session.query(ReviewChange).one().after == {"comment": "Good\ufffd start."}
        assert sub.id == sid


def test_a_nul_in_a_stored_report_keeps_its_offsets(app, scored_fixture):
    text, report = scored_fixture("q1_medium.txt")
    report.source = "essays/an\x00na.txt"
    with app.app_context():
        sub = save_submission(text, report, source="cli", source_ref="essays/an\x00na.txt", student_name="An\x00na")
        token = sub.token
        db.session.expire_all()
        stored = get_by_token(token)
        assert (stored.student_name, stored.source_ref) == ("An\ufffdna", "essays/an\ufffdna.txt")
        assert stored.report["source"] == "essays/an\ufffdna.txt" and stored.text == read_fixture("q1_medium.txt")


def test_ids_no_row_can_have_are_404s(teacher_client, app, scored_fixture):
    sid = store(app, scored_fixture, "q1_medium.txt")
    for big in (2**31, 3_000_000_000, 2**62):
        assert teacher_client.get(f"/teacher/submissions/{big}").status_code == 404
        assert teacher_client.post(f"/teacher/submissions/{sid}/revert/{big}").status_code == 404
    with app.app_context():
        assert db.session.query(Submission).count() == 1 and db.session.query(ReviewChange).count() == 0


def test_search_ignores_case_in_every_script(teacher_client, app, scored_fixture):
    olga = store(app, scored_fixture, "q1_medium.txt", student_name="Ольга Иванова")
    emile = store(app, scored_fixture, "q2_medium.txt", student_name="Émile Ärger")
    for term, expected in (("ольга", {olga}), ("ИВАНОВА", {olga}), ("émile", {emile}), ("ÄRGER", {emile}), ("zzz", set())):
        html = teacher_client.get("/teacher/", query_string={"search": term}).get_data(as_text=True)
        # A row's link carries the list's state after the id (?search=...).
        found = {sid for sid in (olga, emile) if re.search(rf'href="/teacher/submissions/{sid}[?"]', html)}
        assert found == expected, term
