"""What differs between SQLite and PostgreSQL, held the same on both (`make test` runs these on
SQLite, `make test-postgres` on PostgreSQL): NUL characters, which PostgreSQL cannot store or even
compare with, ids beyond a 32-bit INTEGER column, which it refuses to compare with, and case in
searches, which SQLite folded for ASCII letters only."""

from __future__ import annotations

from conftest import read_fixture, sign_in
from test_teacher_review import form_values, store

from khrushchev_essays.storage import LoginAttempt, Review, ReviewChange, Submission, db, get_by_token, save_submission


def test_nul_in_queries_and_sign_in_answers_like_any_other_character(teacher_client, app, scored_fixture):
    sid = store(app, scored_fixture, "q1_medium.txt", student_name="Anna", class_code="12C")
    for url in ("/teacher/?search=An%00na", "/teacher/?class=12%00C", "/teacher/?flag=%00",
                "/teacher/export.csv?search=%00", "/teacher/analytics?class=%00"):
        resp = teacher_client.get(url)
        assert resp.status_code == 200, url
        assert f"/teacher/submissions/{sid}" not in resp.get_data(as_text=True), url  # matches nothing
    assert teacher_client.get("/feedback/abc%00def").status_code == 404
    signed_out = app.test_client()
    assert sign_in(signed_out, email="teacher\x00@school.example").status_code == 401
    with app.app_context():
        assert db.session.query(LoginAttempt.email).scalar() == "teacher\ufffd@school.example"


def test_a_nul_in_a_teachers_comment_is_stored_as_a_replacement_character(teacher_client, app, scored_fixture):
    sid = store(app, scored_fixture, "q1_medium.txt", student_name="Anna")
    data = form_values(app, sid, comment="Good\x00 start.")
    assert teacher_client.post(f"/teacher/submissions/{sid}", data=data).status_code == 303
    with app.app_context():
        assert db.session.get(Review, sid).comment == "Good\ufffd start."
        change = db.session.query(ReviewChange).one()  # a JSON column: no \u0000 there either
        assert change.after["comment"] == "Good\ufffd start."
    assert "Good\ufffd start." in teacher_client.get(f"/teacher/submissions/{sid}").get_data(as_text=True)


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
        found = {sid for sid in (olga, emile) if f"/teacher/submissions/{sid}\"" in html}
        assert found == expected, term
