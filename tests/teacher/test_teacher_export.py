"""Export: CSV and JSON of the submissions matching the dashboard's filters, automatic and teacher
marks per criterion, factors and flags; formula-looking cells neutralised for spreadsheets."""

from __future__ import annotations

import csv
import io
import json

import pytest
from conftest import make_app, sign_in
from test_classes import school  # noqa: F401 - the fixture: two teachers' classes and an admin
from test_teacher_review import review, store

from khrushchev_essays.storage import Submission, Teacher, db


def read_csv(resp) -> list[dict[str, str]]:
    body = resp.get_data()
    assert body.startswith("\ufeff".encode()), "a BOM, so Excel reads the file as UTF-8"
    text = body.decode("utf-8-sig")
    assert "\r\n" in text and "\n" not in text.replace("\r\n", "")  # CRLF line ends throughout (RFC 4180)
    return list(csv.DictReader(io.StringIO(text, newline="")))


def test_csv_carries_automatic_and_teacher_marks_factors_and_flags(app, teacher_client, scored_fixture):
    anna = store(app, scored_fixture, "q1_strong.txt", 1, student_name="Anna", class_code="12C")
    boris = store(app, scored_fixture, "q2_medium.txt", 2, needs_review=True, student_name="Boris", class_code="12C")
    store(app, scored_fixture, "q1_medium.txt", 3, student_name="Other class", class_code="12D")
    review(teacher_client, app, anna, mark=20, crit_factors=6, own_mark="y", comment="Well argued, Anna.")

    resp = teacher_client.get("/teacher/export.csv?class=12C")
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    assert resp.headers["Content-Disposition"].startswith('attachment; filename="khrushchev-essays-')
    assert resp.headers["Cache-Control"] == "no-store"
    rows = read_csv(resp)
    assert [r["student"] for r in rows] == ["Boris", "Anna"]  # the dashboard's order: needs_review first
    with app.app_context():
        a = db.session.get(Submission, anna)
        b = db.session.get(Submission, boris)
        a_report, b_report = a.report, b.report
    ra, rb = rows[1], rows[0]
    assert (ra["auto_mark"], ra["teacher_mark"], ra["final_mark"], ra["reviewed"]) == (str(a.mark), "20", "20", "yes")
    assert ra["teacher_level"] == "4" and ra["reviewed_by"] == "teacher@school.example"
    assert ra["teacher_comment"] == "Well argued, Anna."
    assert ra["teacher_factors"] == "6" and ra["auto_factors"] == f"{a_report['criteria'][0]['mark']:g}"
    for c in a_report["criteria"]:
        assert f"auto_{c['id']}" in ra and f"teacher_{c['id']}" in ra
    for f in a_report["factors"] + b_report["factors"]:  # both questions' factors are columns
        assert f"factor_{f['id']}" in ra
    assert ra[f"factor_{a_report['factors'][0]['id']}"] == a_report["factors"][0]["status"]
    assert rb["reviewed"] == "no" and rb["teacher_mark"] == "" and rb["final_mark"] == str(b.mark)
    assert "needs_review" in rb["flags"].split(";")
    only_q1 = {f["id"] for f in a_report["factors"]} - {f["id"] for f in b_report["factors"]}
    assert only_q1 and all(rb[f"factor_{fid}"] == "" for fid in only_q1)  # a q1-only factor is blank for a q2 essay


def test_csv_neutralises_cells_a_spreadsheet_would_run_as_formulas(app, teacher_client, scored_fixture):
    sid = store(app, scored_fixture, "q1_medium.txt", student_name='=HYPERLINK("http://evil.example","Click")',
                class_code="+44")
    store(app, scored_fixture, "q1_medium.txt", student_name="-2+3", source_ref="@SUM(A1:A9)")
    store(app, scored_fixture, "q1_medium.txt", student_name="\tTabbed")
    review(teacher_client, app, sid, comment="@cmd|' /C calc'!A0")
    rows = {r["id"]: r for r in read_csv(teacher_client.get("/teacher/export.csv"))}
    first = rows[str(sid)]
    assert first["student"] == "'=HYPERLINK(\"http://evil.example\",\"Click\")"
    assert first["class_code"] == "'+44" and first["teacher_comment"] == "'@cmd|' /C calc'!A0"
    others = [r for k, r in rows.items() if k != str(sid)]
    assert {r["student"] for r in others} == {"'-2+3", "'\tTabbed"}
    assert "'@SUM(A1:A9)" in {r["source_ref"] for r in others}
    for r in rows.values():  # numbers stay numbers
        assert r["auto_mark"].isdigit() and not r["word_count"].startswith("'")


def test_json_export_matches_the_filters_and_keeps_the_automatic_score(app, teacher_client, scored_fixture):
    anna = store(app, scored_fixture, "q1_strong.txt", student_name="Anna", class_code="12C")
    store(app, scored_fixture, "q2_medium.txt", student_name="Vera", class_code="12D")
    review(teacher_client, app, anna, mark=5, comment="See me.")
    resp = teacher_client.get("/teacher/export.json?q=q1&reviewed=yes")
    assert resp.status_code == 200 and resp.mimetype == "application/json"
    assert "attachment" in resp.headers["Content-Disposition"]
    body = json.loads(resp.get_data(as_text=True))
    assert body["count"] == 1 and body["filters"] == {"q": "q1", "reviewed": "yes"}
    (rec,) = body["submissions"]
    with app.app_context():
        sub = db.session.get(Submission, anna)
        auto = sub.report
    assert rec["student"] == "Anna" and rec["question"] == "q1"
    assert rec["automatic"]["mark"] == auto["mark"] and rec["automatic"]["level"] == auto["level"]
    assert rec["automatic"]["criteria"] == {c["id"]: c["mark"] for c in auto["criteria"]}
    assert rec["teacher"]["mark"] == 5 and rec["teacher"]["level"] == 1 and rec["teacher"]["comment"] == "See me."
    assert rec["final"] == {"mark": 5, "level": 1, "by": "teacher"}
    assert rec["factors"] == {f["id"]: f["status"] for f in auto["factors"]}
    assert rec["flags"] == sub.flags
    # The student's feedback link, absolute (the request's host, no PUBLIC_URL set): the only place
    # the token appears, since the teacher hands it on.
    assert rec["feedback_link"] == f"http://localhost/feedback/{sub.token}"
    assert json.dumps(rec).count(sub.token) == 1
    assert json.loads(teacher_client.get("/teacher/export.json?class=NOPE").get_data(as_text=True))["count"] == 0


def test_the_dashboard_links_to_the_export_with_its_filters(teacher_client):
    html = teacher_client.get("/teacher/?class=12C&level=3").get_data(as_text=True)
    assert 'href="/teacher/export.csv?class=12C&amp;level=3"' in html
    assert 'href="/teacher/export.json?class=12C&amp;level=3"' in html


def test_the_export_carries_each_students_feedback_link_for_the_teachers_own_classes_only(school):  # noqa: F811
    """Feedback reaches students through their teacher: each row has the absolute link to the
    student's page. Teacher A's export holds the links of A's class and nothing else secret: no other
    class's or independent essay's token, no account's password hash or session token."""
    client = school.client("a")
    csv_body = client.get("/teacher/export.csv").get_data(as_text=True)
    json_body = client.get("/teacher/export.json").get_data(as_text=True)
    rows = read_csv(client.get("/teacher/export.csv"))
    mine = {k: school.tokens[k] for k in ("anna1", "anna2", "arkady")}
    assert {r["feedback_link"] for r in rows} == {f"http://localhost/feedback/{t}" for t in mine.values()}
    assert {r["feedback_link"] for r in json.loads(json_body)["submissions"]} == {r["feedback_link"] for r in rows}
    assert list(rows[0])[:7] == ["id", "submitted_at", "student", "class", "class_code", "feedback_link", "question"]
    with school.app.app_context():
        accounts = db.session.query(Teacher).all()
        secrets = [t.password_hash for t in accounts] + [t.session_token for t in accounts]
        secrets += [s.token for s in db.session.query(Submission).all() if s.token not in mine.values()]
    assert len(secrets) == 6 + 4  # three accounts; Boris, Bella, Ivan and Lena's essays
    for body in (csv_body, json_body):
        for secret in secrets:
            assert secret not in body
        assert "test-secret" not in body
    # The link opens the student's page.
    path = rows[0]["feedback_link"].removeprefix("http://localhost")
    assert school.app.test_client().get(path).status_code == 200


def test_feedback_links_use_the_public_address_when_one_is_set(tmp_path, scored_fixture):
    app = make_app(tmp_path / "public.sqlite", PUBLIC_URL="https://essays.school.example/practice/")
    assert app.config["PUBLIC_URL"] == "https://essays.school.example/practice"
    from conftest import add_teacher

    add_teacher(app)
    client = app.test_client()
    assert sign_in(client).status_code == 303
    sid = store(app, scored_fixture, "q1_medium.txt", student_name="Pavel")
    with app.app_context():
        token = db.session.get(Submission, sid).token
    (row,) = read_csv(client.get("/teacher/export.csv"))  # asked of http://localhost
    assert row["feedback_link"] == f"https://essays.school.example/practice/feedback/{token}"


@pytest.mark.parametrize("bad", ["essays.school.example", "ftp://essays.example", "https://x.example/?a=1", "https://"])
def test_a_public_address_that_is_not_one_stops_the_app_with_a_message(tmp_path, bad):
    with pytest.raises(RuntimeError, match="KHRUSHCHEV_PUBLIC_URL"):
        make_app(tmp_path / "bad.sqlite", PUBLIC_URL=bad)
