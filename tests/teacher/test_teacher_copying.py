"""The teacher's copying pages through the real app: /teacher/sources (add, list, remove with a
confirmation, CSRF) over the instance folder's store, and /teacher/similar (pairs of essays in one
class sharing long passages, with both students, links and the passage escaped)."""

from __future__ import annotations

import io
import re

import pytest
from conftest import add_teacher, docx_bytes, make_app, read_fixture, sign_in

from khrushchev_essays import sources
from khrushchev_essays.scoring import score
from khrushchev_essays.scoring.copying import word_count
from khrushchev_essays.storage import Scope, Submission, db, save_submission
from khrushchev_essays.storage.similarity import similar_in_class

NOTES = read_fixture("sources/virgin_lands_notes.txt")
ARTICLE = read_fixture("sources/fall_article.md")
CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


@pytest.fixture
def app(tmp_path, monkeypatch):
    """The app on its own database and its own instance folder (where the sources are kept)."""
    monkeypatch.setenv("KHRUSHCHEV_INSTANCE_PATH", str(tmp_path / "instance"))
    return make_app(tmp_path / "web.sqlite")


def upload(client, filename: str, body: bytes, **fields):
    data = {"name": "", **fields, "file": (io.BytesIO(body), filename)}
    return client.post("/teacher/sources", data=data, content_type="multipart/form-data")


def test_the_sources_page_is_in_the_teacher_navigation_and_says_how_to_add_one(teacher_client):
    dashboard = teacher_client.get("/teacher/").get_data(as_text=True)
    assert 'href="/teacher/sources"' in dashboard and 'href="/teacher/similar"' in dashboard
    page = teacher_client.get("/teacher/sources")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    assert "No sources yet" in html and 'enctype="multipart/form-data"' in html and 'type="file"' in html


def test_a_source_uploaded_on_the_page_is_stored_listed_and_used_for_checking(app, teacher_client):
    resp = upload(teacher_client, "virgin-lands.txt", NOTES.encode())
    assert resp.status_code == 303 and resp.headers["Location"] == "/teacher/sources"
    html = teacher_client.get("/teacher/sources").get_data(as_text=True)
    assert "Added “virgin-lands”" in html and "<th scope=\"row\">virgin-lands</th>" in html
    assert f"{len(NOTES.split())}" in html and "virgin-lands.txt" in html
    resp = upload(teacher_client, "Handout 3.docx", docx_bytes(ARTICLE), name="Week 3 handout")
    assert resp.status_code == 303
    listed = sources.list_sources(app.instance_path)
    assert [(e.name, e.filename) for e in listed] == [("virgin-lands", "virgin-lands.txt"), ("Week 3 handout", "Handout 3.docx")]
    index = sources.load_source_index(app.instance_path)
    essay = "My own start. " + " ".join(ARTICLE.split()[20:45]) + " My own end."
    assert [o.source for o in index.overlaps(essay)] == ["Week 3 handout"]


@pytest.mark.parametrize(("name", "body", "message"), [
    ("scan.txt", b"%PDF-1.7 ...", "looks like a PDF"),
    ("notes.rtf", b"{\\rtf1 notes}", "not a file sources are read from"),
    ("latin1.txt", "Khrushchev’s thaw let prisoners home".encode("cp1252"), "is not UTF-8 text"),
    ("short.md", b"Just a title", "a source needs at least 12"),
])
def test_a_bad_file_is_refused_with_the_reason_and_nothing_is_stored(app, teacher_client, name, body, message):
    resp = upload(teacher_client, name, body)
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422 and "The source was not added" in html and message in html
    assert sources.list_sources(app.instance_path) == []


def test_duplicates_and_missing_files_are_refused_and_file_names_are_escaped(app, teacher_client):
    assert upload(teacher_client, "notes.txt", NOTES.encode()).status_code == 303
    again = upload(teacher_client, "<img src=x onerror=alert(1)>.txt", NOTES.upper().encode())
    html = again.get_data(as_text=True)
    assert again.status_code == 422 and "the same text is already registered as &#39;notes&#39;" in html
    assert "<img src=x" not in html and "&lt;img src=x onerror=alert(1)&gt;.txt" in html
    taken = upload(teacher_client, "fall.md", ARTICLE.encode(), name="NOTES")
    assert taken.status_code == 422 and "a source named &#39;notes&#39; is already registered" in taken.get_data(as_text=True)
    none = teacher_client.post("/teacher/sources", data={"name": "x"}, content_type="multipart/form-data")
    assert none.status_code == 422 and "Choose a .txt, .md or .docx file." in none.get_data(as_text=True)
    assert [e.name for e in sources.list_sources(app.instance_path)] == ["notes"]


def test_size_limits_give_the_form_back_with_the_reason(app, teacher_client, monkeypatch):
    from khrushchev_essays.web.teacher import upload as upload_module

    big = upload(teacher_client, "long.txt", b"word " * (450 * 1024))  # 2.2 MB: over the 2 MB for a text file
    assert big.status_code == 422 and "is too large (2.2 MB; a .txt source can be at most 2 MB)" in big.get_data(as_text=True)
    monkeypatch.setattr(upload_module, "MAX_REQUEST_BYTES", 20_000)
    huge = upload(teacher_client, "notes.txt", b"word " * 5000)
    html = huge.get_data(as_text=True)
    assert huge.status_code == 413 and "a source file can be at most 20 MB (.docx)" in html and 'type="file"' in html
    assert sources.list_sources(app.instance_path) == []


def test_an_oversized_post_to_another_teacher_page_gets_the_sites_413_page(app, teacher_client):
    upload(teacher_client, "notes.txt", NOTES.encode())
    [info] = sources.list_sources(app.instance_path)
    app.config["PROPAGATE_EXCEPTIONS"] = False  # as in production: an error inside an error handler would be a 500
    resp = teacher_client.post(f"/teacher/sources/{info.key}/remove", data={"padding": "x" * 600_000})
    assert resp.status_code == 413 and "Too much text" in resp.get_data(as_text=True)
    assert sources.list_sources(app.instance_path) == [info]


def test_removing_asks_first_then_deletes_the_source(app, teacher_client):
    upload(teacher_client, "notes.txt", NOTES.encode())
    [info] = sources.list_sources(app.instance_path)
    listing = teacher_client.get("/teacher/sources").get_data(as_text=True)
    assert f'href="/teacher/sources/{info.key}/remove"' in listing
    confirm = teacher_client.get(f"/teacher/sources/{info.key}/remove")
    html = confirm.get_data(as_text=True)
    assert confirm.status_code == 200 and "Remove “notes”?" in html and 'method="post"' in html
    assert sources.list_sources(app.instance_path) == [info]  # asking removes nothing
    done = teacher_client.post(f"/teacher/sources/{info.key}/remove")
    assert done.status_code == 303 and sources.list_sources(app.instance_path) == []
    assert "Removed “notes”" in teacher_client.get("/teacher/sources").get_data(as_text=True)
    assert teacher_client.get(f"/teacher/sources/{info.key}/remove").status_code == 404
    assert teacher_client.post("/teacher/sources/not-a-key/remove").status_code == 404


def test_changes_need_the_forms_csrf_token(tmp_path, monkeypatch):
    monkeypatch.setenv("KHRUSHCHEV_INSTANCE_PATH", str(tmp_path / "instance"))
    app = make_app(tmp_path / "csrf.sqlite", WTF_CSRF_ENABLED=True)
    add_teacher(app)
    client = app.test_client()
    login = client.get("/teacher/login").get_data(as_text=True)
    assert sign_in(client, csrf_token=CSRF.search(login).group(1)).status_code == 303
    assert upload(client, "notes.txt", NOTES.encode()).status_code == 400  # no token
    token = CSRF.search(client.get("/teacher/sources").get_data(as_text=True)).group(1)
    assert upload(client, "notes.txt", NOTES.encode(), csrf_token=token).status_code == 303
    [info] = sources.list_sources(app.instance_path)
    assert client.post(f"/teacher/sources/{info.key}/remove").status_code == 400
    confirm = client.get(f"/teacher/sources/{info.key}/remove").get_data(as_text=True)
    done = client.post(f"/teacher/sources/{info.key}/remove", data={"csrf_token": CSRF.search(confirm).group(1)})
    assert done.status_code == 303 and sources.list_sources(app.instance_path) == []


# --- similar essays -------------------------------------------------------------------------------

SHARED = ("Khrushchev's colleagues <b>turned</b> on him because the Virgin Lands had failed, the party had been split in "
          "two in 1962 and the retreat over Cuba had made the Soviet Union look weak in front of the whole world.")
OWN_A = ("In my view the most important reason for his fall was the way he treated the people around him. "
         "He changed policy without asking the Presidium and mocked officials in public.")
OWN_B = ("De-Stalinisation did matter, since the Secret Speech of 1956 frightened the old guard and encouraged unrest "
         "in Hungary, yet by 1964 it was the failures at home that counted most.")
OWN_C = ("Foreign policy is my main factor: the Berlin crisis and the missiles in Cuba showed his gambles could backfire, "
         "and the split with China left the USSR isolated.")


def store(app, text: str, name: str, class_code: str | None, parent: int | None = None) -> int:
    """Score and store an essay; its id."""
    with app.app_context():
        revised = db.session.get(Submission, parent) if parent else None
        return save_submission(text, score(text, "q2"), student_name=name, class_code=class_code, parent=revised).id


@pytest.fixture
def class_12c(app):
    anna = store(app, f"{OWN_A}\n\n{SHARED}\n\n{OWN_B}", "Anna", "12C")
    boris = store(app, f"{OWN_C}\n\n{SHARED.replace(' ', '  ')}\r\n\r\nIn conclusion, his rivals won.", "Boris", "12C")
    clara = store(app, f"{OWN_B}\n\n{OWN_C}", "Clara", "12C")  # shares OWN_B and OWN_C, each at least 15 words
    dmitri = store(app, f"{OWN_C}\n\n{SHARED}", "Dmitri", "11A")  # another class: never paired with 12C
    revised = store(app, f"{OWN_A}\n\n{SHARED}\n\n{OWN_B} I have added this sentence.", "Anna", "12C", parent=anna)
    return {"anna": revised, "boris": boris, "clara": clara, "dmitri": dmitri, "anna_first": anna}


def test_similar_in_class_pairs_latest_attempts_only_within_the_class(app, class_12c):
    with app.app_context():
        result = similar_in_class("12c", Scope.everything())
        assert result.class_code == "12C" and result.compared == 3 and not result.truncated
        pairs = {(p.a.student_name, p.b.student_name): p for p in result.pairs}
        assert set(pairs) == {("Boris", "Clara"), ("Clara", "Anna"), ("Boris", "Anna")}
        boris_anna = pairs[("Boris", "Anna")]
        assert boris_anna.words == word_count(SHARED)
        assert boris_anna.passages_b == [SHARED.rstrip(".")] and boris_anna.passages_a == [SHARED.rstrip(".").replace(" ", "  ")]
        assert class_12c["anna_first"] not in {s.id for p in result.pairs for s in (p.a, p.b)}
        assert similar_in_class("11A", Scope.everything()).pairs == [] and similar_in_class("NONE", Scope.everything()).compared == 0


def test_the_similar_page_lists_pairs_with_names_counts_links_and_the_passage_escaped(app, teacher_client, class_12c):
    page = teacher_client.get("/teacher/similar?class=12c")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Class 12C" in html and "3 essays compared" in html and "3 pairs" in html
    anna, boris = class_12c["anna"], class_12c["boris"]
    row = html[html.index(f'href="/teacher/submissions/{boris}"'):]
    row = row[: row.index("</tr>")]
    assert "Boris" in row and "Anna" in row and f'href="/teacher/submissions/{anna}"' in row
    assert "&lt;b&gt;turned&lt;/b&gt;" in row and "<b>turned</b>" not in html
    assert re.search(r'<td class="num">(\d+)</td>', row).group(1) == str(word_count(SHARED))
    assert "Dmitri" not in html and f'href="/teacher/submissions/{class_12c["anna_first"]}"' not in html
    dashboard = teacher_client.get("/teacher/?class=12C").get_data(as_text=True)
    assert 'href="/teacher/similar?class=12C"' in dashboard


def test_the_similar_page_asks_for_a_class_and_says_when_nothing_is_shared(app, teacher_client):
    assert "No essays have a class code yet" in teacher_client.get("/teacher/similar").get_data(as_text=True)
    store(app, f"{OWN_A}\n\n{OWN_B}", "Anna", "12C")
    store(app, OWN_C, "Boris", "13B")
    choose = teacher_client.get("/teacher/similar").get_data(as_text=True)
    assert "Choose a class to compare" in choose and '<option value="12C">12C (old code, no class)</option>' in choose
    html = teacher_client.get("/teacher/similar?class=12C").get_data(as_text=True)
    assert "1 essay compared" in html and "No two essays in this class share a passage that long." in html
