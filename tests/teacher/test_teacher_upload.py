"""Batch upload: essays or one CSV graded with the CLI's readers and scorer, stored and listed;
per-file errors, limits, and file names that are only ever shown."""

from __future__ import annotations

import io

import pytest
from conftest import docx_bytes, make_app, read_fixture

from khrushchev_essays.storage import SchoolClass, Submission, Teacher, db
from khrushchev_essays.storage.classes import create_class
from khrushchev_essays.web.teacher import upload as upload_module


@pytest.fixture(autouse=True)
def codes(app, teacher_client) -> dict[str, str]:
    """The signed-in teacher's two classes, 12C and 12D: their join codes. Uploads go into a real class."""
    with app.app_context():
        teacher = db.session.query(Teacher).one()
        return {name: create_class(name, [teacher]).join_code for name in ("12C", "12D")}


def first_code(client) -> str:
    with client.application.app_context():
        return db.session.query(SchoolClass).order_by(SchoolClass.id).first().join_code


def post(client, files, **fields):
    data = {"question": "auto", "class_code": first_code(client), **fields, "files": [(io.BytesIO(body), name) for name, body in files]}
    return client.post("/teacher/upload", data=data, content_type="multipart/form-data")


def stored(app) -> list[Submission]:
    with app.app_context():
        subs = db.session.query(Submission).order_by(Submission.id).all()
        db.session.expunge_all()
        return subs


def test_the_upload_page_states_its_limits(teacher_client):
    html = teacher_client.get("/teacher/upload").get_data(as_text=True)
    assert 'enctype="multipart/form-data"' in html and 'type="file"' in html and "multiple" in html
    assert f"Up to {upload_module.MAX_FILES} files" in html


def test_several_essays_are_graded_stored_and_listed_with_per_file_errors(app, teacher_client, codes):
    files = [
        ("anna.txt", read_fixture("q1_medium.txt").encode()),
        ("boris.docx", docx_bytes(read_fixture("q2_medium.txt"))),
        ("empty.txt", b"   "),
        ("latin1.txt", "Khrushchev’s reforms".encode("cp1252")),
        ("scan.txt", b"%PDF-1.7 binary"),
        ("notes.pdf", b"%PDF-1.7"),
    ]
    resp = post(teacher_client, files, class_code=codes["12C"])
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200, html[:2000]
    assert "2 of 6 essays marked and stored; 4 could not be marked" in html
    for message in ("contains only whitespace", "not UTF-8", "looks like a PDF", "not a file this page reads"):
        assert message in html
    subs = stored(app)
    assert [(s.source, s.source_ref, s.class_code, s.question) for s in subs] == [
        ("upload", "anna.txt", codes["12C"], "q1"), ("upload", "boris.docx", codes["12C"], "q2")]
    assert subs[1].text.startswith(read_fixture("q2_medium.txt").split("\n\n")[0].strip())
    assert f'href="/teacher/submissions/{subs[0].id}"' in html
    dashboard = teacher_client.get(f"/teacher/?class={codes['12C']}").get_data(as_text=True)
    assert "anna.txt" in dashboard and "boris.docx" in dashboard


def test_resending_an_upload_stores_nothing_twice(app, teacher_client):
    import re

    form = teacher_client.get("/teacher/upload").get_data(as_text=True)
    upload_id = re.search(r'name="upload_id" type="hidden" value="([^"]+)"', form).group(1)
    files = [("anna.txt", read_fixture("q1_medium.txt").encode())]
    first = post(teacher_client, files, upload_id=upload_id).get_data(as_text=True)
    assert "1 of 1 essay marked and stored" in first
    again = post(teacher_client, files, upload_id=upload_id)  # the browser's "resend" on reload
    html = again.get_data(as_text=True)
    assert again.status_code == 200 and "already uploaded and marked" in html and "marked and stored" not in html
    assert len(stored(app)) == 1
    # The results page carries a fresh id, so the next upload from it is stored.
    next_id = re.search(r'name="upload_id" type="hidden" value="([^"]+)"', first).group(1)
    assert next_id != upload_id
    assert "1 of 1 essay marked and stored" in post(teacher_client, files, upload_id=next_id).get_data(as_text=True)
    assert len(stored(app)) == 2


def test_one_csv_gives_a_row_per_essay_with_its_own_names_and_classes(app, teacher_client, codes):
    essay = read_fixture("q2_medium.txt").replace('"', '""')
    table = (f'name,class,question,essay\r\nOlga,{codes["12D"].lower()},q2,"{essay}"\r\nPetr,,2,""\r\n'
             f'Ira,,q9,"{essay}"\r\nYuri,12X,q2,"{essay}"\r\n')
    resp = post(teacher_client, [("class 12D.csv", table.encode("utf-8-sig"))], class_code=codes["12C"])
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert "1 of 4 essays marked and stored" in html
    assert "the essay text is missing or empty" in html and "unknown question" in html
    assert "no class of yours has the join code 12X" in html  # a row's code must be one of the teacher's classes
    (olga,) = stored(app)
    assert (olga.student_name, olga.class_code, olga.klass.name, olga.source_ref) == (
        "Olga", codes["12D"], "12D", "class 12D.csv:Olga")


@pytest.mark.parametrize("files, message", [
    ([], "Choose at least one file"),
    ([("a.csv", b"text\nx"), ("b.txt", b"essay")], "either essay files or one CSV"),
    ([(f"e{i}.txt", b"essay") for i in range(upload_module.MAX_FILES + 1)], f"upload at most {upload_module.MAX_FILES}"),
])
def test_form_level_problems_store_nothing(app, teacher_client, files, message):
    resp = post(teacher_client, files)
    assert resp.status_code == 422
    assert message in resp.get_data(as_text=True) and "Nothing was uploaded" in resp.get_data(as_text=True)
    assert stored(app) == []


def test_size_limits_per_file_and_per_upload(app, teacher_client, monkeypatch):
    monkeypatch.setattr(upload_module, "MAX_FILE_BYTES", 10_000)
    big = ("big.txt", b"word " * 3000)
    ok = ("ok.txt", read_fixture("q1_medium.txt").encode())
    html = post(teacher_client, [big, ok]).get_data(as_text=True)
    assert "is too large (the limit is" in html and "1 of 2 essays marked" in html
    monkeypatch.setattr(upload_module, "MAX_REQUEST_BYTES", 20_000)
    resp = post(teacher_client, [("huge.txt", b"x" * 30_000)])
    assert resp.status_code == 413 and "larger than" in resp.get_data(as_text=True)
    assert len(stored(app)) == 1


def test_the_big_limit_is_only_for_a_signed_in_teacher(tmp_path):
    app = make_app(tmp_path / "csrf.sqlite", WTF_CSRF_ENABLED=True)  # the CSRF check reads bodies before any view
    resp = app.test_client().post("/teacher/upload", data={"files": [(io.BytesIO(b"x" * 600_000), "a.txt")]},
                                  content_type="multipart/form-data")
    assert resp.status_code == 413  # the site's 512 KB limit applies to a signed-out visitor
    assert stored(app) == []


def test_file_names_are_shown_escaped_and_never_used_as_paths(app, teacher_client, tmp_path, monkeypatch):
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    evil = "../../<img src=x onerror=alert(1)>.txt"
    html = post(teacher_client, [(evil, read_fixture("q1_medium.txt").encode()),
                                 ("folder/kim/essay.txt", read_fixture("q1_medium.txt").encode())]).get_data(as_text=True)
    assert "<img src=x" not in html and "&lt;img src=x onerror=alert(1)&gt;.txt" in html
    assert [s.source_ref for s in stored(app)] == ["<img src=x onerror=alert(1)>.txt", "essay.txt"]
    assert list(cwd.iterdir()) == [] and not (tmp_path / "<img src=x onerror=alert(1)>.txt").exists()
