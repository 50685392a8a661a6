"""The student web app through Flask's test client: every route, validation, CSRF, errors, the API.

The real scoring engine marks every essay here; nothing is mocked.
"""

from __future__ import annotations

import re

import pytest
from conftest import add_class, make_app, read_fixture

from khrushchev_essays.storage import Submission, db

TOKEN_URL = re.compile(r"/feedback/([A-Za-z0-9_-]{32,})$")
XSS_TEXT = "<script>window.__x=1</script>"
XSS_IMG = '<img src=x onerror="window.__y=1">'


def count(app) -> int:
    with app.app_context():
        return db.session.query(Submission).count()


def submit(client, qid="q1", text=None, **fields):
    data = {"text": read_fixture(f"{qid}_medium.txt") if text is None else text, **fields}
    return client.post(f"/questions/{qid}", data=data)


def token_of(response) -> str:
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    match = TOKEN_URL.search(response.headers["Location"])
    assert match, response.headers["Location"]
    return match.group(1)


# --- pages -------------------------------------------------------------------------------------------

def test_index_lists_both_questions_with_time_and_length(client, rubrics):
    html = client.get("/").get_data(as_text=True)
    for r in rubrics.values():
        assert r.question.replace("'", "&#39;") in html
        assert f'href="/questions/{r.id}"' in html
        assert r.summary.replace("'", "&#39;")[:60] in html
    assert "45 minutes" in html and "800–1,400 words" in html


@pytest.mark.parametrize("qid", ["q1", "q2"])
def test_question_page_has_guidance_and_a_labelled_form(client, rubrics, qid):
    r = rubrics[qid]
    resp = client.get(f"/questions/{qid}")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    for lv in r.levels:
        if lv.level:
            assert lv.label in html
    assert all(step.replace("'", "&#39;")[:40] in html for step in r.structure)
    assert all(c.name in html for c in r.criteria)
    for field in ("student_name", "class_code", "text"):
        assert f'<label for="{field}">' in html
    assert 'data-draft-key="khrushchev-essays:draft:' in html
    assert '<script src="/static/app.js" defer></script>' in html


def test_unknown_question_and_token_get_the_custom_404(client):
    for url in ("/questions/q9", "/feedback/not-a-token", "/feedback/" + "A" * 32, "/feedback/" + "A" * 32 + "/revise", "/nope"):
        resp = client.get(url)
        assert resp.status_code == 404, url
        assert "Back to the questions" in resp.get_data(as_text=True)
    assert client.post("/questions/q9", data={"text": "x"}).status_code == 404


def test_static_files_are_served(client):
    assert client.get("/static/app.css").status_code == 200
    assert client.get("/static/app.js").status_code == 200


# --- submitting --------------------------------------------------------------------------------------

def test_submission_is_scored_stored_and_redirected_to_its_feedback(app, client, rubrics):
    code = add_class(app)
    typed = f" {code[:3].lower()}-{code[3:].lower()} "  # any case, with a hyphen and spaces
    resp = submit(client, "q2", student_name="  Ada Lovelace ", class_code=typed)
    token = token_of(resp)
    with app.app_context():
        sub = db.session.query(Submission).one()
        assert (sub.token, sub.question, sub.source, sub.attempt) == (token, "q2", "web", 1)
        assert sub.root_id == sub.id and sub.parent_id is None
        assert sub.student_name == "Ada Lovelace" and sub.class_code == code and sub.klass.name == "12C History"
        assert sub.mark == sub.report["mark"] and sub.level == sub.report["level"]
        assert sub.flags == sub.report["flags"]
        assert sub.created_at.tzinfo is not None
        assert sub.text == read_fixture("q2_medium.txt")

    page = client.get(f"/feedback/{token}")
    html = page.get_data(as_text=True)
    report = sub.report
    band = rubrics["q2"].band(report["level"])
    assert page.status_code == 200
    assert f'<span class="mark-num">{report["mark"]}</span><span class="mark-max">/25</span>' in html
    assert f"Level {report['level']}" in html and band.label in html
    assert band.descriptor.replace("'", "&#39;") in html
    assert html.count('<svg class="bar"') == len(report["criteria"])
    assert "<title>" in html and 'role="img"' in html
    for c in report["criteria"]:
        assert c["comment"].replace("'", "&#39;")[:40] in html
    for f in report["factors"]:
        assert f["name"].replace("'", "&#39;") in html
    assert 'class="essay-text"' in html and "<mark class=\"hl" in html
    assert "Revise and resubmit" in html
    assert "Ada Lovelace" in html and "Class 12C History" in html
    assert page.headers["Cache-Control"] == "no-store"


def test_crlf_line_breaks_are_normalised_so_offsets_match_the_stored_text(app, client):
    text = read_fixture("q1_medium.txt").replace("\n", "\r\n")
    token_of(submit(client, "q1", text=text))
    with app.app_context():
        sub = db.session.query(Submission).one()
        assert "\r" not in sub.text
        for f in sub.report["factors"]:
            for ev in f["evidence"]:
                assert sub.text[ev["start"]:ev["end"]] == ev["text"]


@pytest.mark.parametrize(
    "text, message",
    [
        ("", "The essay is empty"),
        ("   \n\t  ", "The essay is empty"),
        ("word " * 6001, "6,000"),
        ("x" * 60_001, "60,000"),
    ],
    ids=["empty", "whitespace", "too-many-words", "too-many-characters"],
)
def test_bad_essays_get_a_message_on_the_form_and_nothing_is_stored(app, client, text, message):
    resp = submit(client, text=text, student_name="Kim")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert message in html and "Your essay was not sent" in html
    assert 'aria-invalid="true"' in html
    assert 'value="Kim"' in html  # what was typed comes back
    assert count(app) == 0


def test_bad_name_and_class_code_are_refused(app, client):
    resp = submit(client, student_name="x" * 81, class_code="13H;DROP")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert "under 80 characters" in html and "letters and numbers only" in html
    assert count(app) == 0


def test_a_body_over_the_limit_gets_the_413_page(app, client):
    resp = submit(client, text="word " * 120_000)  # 600 KB
    assert resp.status_code == 413
    assert "Too much text" in resp.get_data(as_text=True)
    assert count(app) == 0


# --- revise and resubmit ------------------------------------------------------------------------------

def test_revise_prefills_the_essay_and_links_the_attempts(app, client):
    code = add_class(app)
    first = token_of(submit(client, "q1", text=read_fixture("q1_narrative.txt"), student_name="Sam", class_code=code))
    form = client.get(f"/feedback/{first}/revise")
    html = form.get_data(as_text=True)
    assert form.status_code == 200 and "attempt 2" in html
    assert read_fixture("q1_narrative.txt")[:80].replace("'", "&#39;") in html
    assert 'value="Sam"' in html and f'value="{code[:3]} {code[3:]}"' in html

    second = token_of(client.post(f"/feedback/{first}/revise", data={"text": read_fixture("q1_strong.txt"), "student_name": "Sam"}))
    third = token_of(client.post(f"/feedback/{second}/revise", data={"text": read_fixture("q1_strong.txt")}))
    with app.app_context():
        subs = {s.token: s for s in db.session.query(Submission)}
        a, b, c = subs[first], subs[second], subs[third]
        assert [a.attempt, b.attempt, c.attempt] == [1, 2, 3]
        assert b.parent_id == a.id and c.parent_id == b.id
        assert a.root_id == b.root_id == c.root_id == a.id

    html = client.get(f"/feedback/{third}").get_data(as_text=True)
    assert '<svg class="progress"' in html and "Mark by attempt: attempt 1," in html
    assert f'href="/feedback/{first}"' in html and f'href="/feedback/{second}"' in html
    assert "#3 <span class=\"muted\">(this one)</span>" in html


def test_a_bad_revision_keeps_the_text_and_stores_nothing(app, client):
    first = token_of(submit(client))
    resp = client.post(f"/feedback/{first}/revise", data={"text": "  "})
    assert resp.status_code == 422 and "The essay is empty" in resp.get_data(as_text=True)
    assert count(app) == 1


# --- safety ------------------------------------------------------------------------------------------

def test_essay_and_name_are_escaped_everywhere(app, client):
    text = f"{XSS_TEXT}\n\n{XSS_IMG}\n\n" + read_fixture("q1_medium.txt")
    token = token_of(submit(client, text=text, student_name=XSS_IMG))
    for url in (f"/feedback/{token}", f"/feedback/{token}/revise"):
        html = client.get(url).get_data(as_text=True)
        assert XSS_TEXT not in html and "<img src=x" not in html
        assert "&lt;script&gt;window.__x=1&lt;/script&gt;" in html
        assert "&lt;img src=x onerror=" in html


def test_security_headers_and_cookie_flags(tmp_path):
    app = make_app(tmp_path / "csrf.sqlite", WTF_CSRF_ENABLED=True)
    client = app.test_client()
    resp = client.get("/questions/q1")
    csp = resp.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert "frame-ancestors 'none'" in csp
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["Referrer-Policy"] == "same-origin"  # never to another site (see test_serving's HTTPS test)
    assert "no-store" not in resp.headers.get("Cache-Control", "")  # Back keeps a half-written essay
    cookie = resp.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    html = resp.get_data(as_text=True)
    assert "<script>" not in html and " onclick=" not in html and " style=" not in html


def test_csrf_rejects_a_post_without_its_token_and_keeps_the_essay(tmp_path):
    app = make_app(tmp_path / "csrf.sqlite", WTF_CSRF_ENABLED=True)
    client = app.test_client()
    text = read_fixture("q1_medium.txt")
    resp = client.post("/questions/q1", data={"text": text})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 400
    assert "was not sent" in html or "not sent" in html
    assert text[:60].replace("'", "&#39;") in html
    assert count(app) == 0

    page = client.get("/questions/q1").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    assert client.post("/questions/q1", data={"text": text, "csrf_token": "forged"}).status_code == 400
    assert count(app) == 0
    assert client.post("/questions/q1", data={"text": text, "csrf_token": token}).status_code == 303
    assert count(app) == 1


def test_an_unexpected_error_gets_the_500_page(tmp_path):
    app = make_app(tmp_path / "err.sqlite", TESTING=False, PROPAGATE_EXCEPTIONS=False)

    @app.get("/boom")
    def boom():
        raise RuntimeError("boom")

    resp = app.test_client().get("/boom")
    assert resp.status_code == 500
    assert "Something went wrong" in resp.get_data(as_text=True)


# --- the JSON API ------------------------------------------------------------------------------------

def test_api_scores_without_storing(app, client):
    text = read_fixture("q2_strong.txt")
    resp = client.post("/api/v1/score", json={"question": "q2", "text": text})
    assert resp.status_code == 200 and resp.is_json
    body = resp.get_json()
    assert body["status"] == "scored" and body["question"] == "q2" and body["max_mark"] == 25
    for key in ("mark", "level", "word_count", "criteria", "factors", "flags", "feedback", "schema_version"):
        assert key in body
    assert resp.headers["Cache-Control"] == "no-store"
    assert count(app) == 0


@pytest.mark.parametrize(
    "kwargs, fragment",
    [
        ({"data": "{not json", "content_type": "application/json"}, "must be JSON"),
        ({"data": "question=q1", "content_type": "application/x-www-form-urlencoded"}, "must be JSON"),
        ({"json": ["q1", "text"]}, "must be an object"),
        ({"json": {"question": "q9", "text": "An essay."}}, '"question" must be one of'),
        ({"json": {"question": None, "text": "An essay."}}, '"question" must be one of'),
        ({"json": {"question": "q1"}}, '"text" must be a string'),
        ({"json": {"question": "q1", "text": 42}}, '"text" must be a string'),
        ({"json": {"question": "q1", "text": "   "}}, "empty"),
        ({"json": {"question": "q1", "text": "word " * 6001}}, "6,000"),
    ],
    ids=["invalid-json", "form-body", "array", "unknown-question", "null-question", "no-text", "number-text",
         "blank-text", "too-long"],
)
def test_api_bad_requests_get_a_json_400(app, client, kwargs, fragment):
    resp = client.post("/api/v1/score", **kwargs)
    assert resp.status_code == 400 and resp.is_json
    body = resp.get_json()
    assert body["status"] == "error" and fragment in body["error"]
    assert count(app) == 0


def test_api_errors_stay_json(client):
    assert client.get("/api/v1/score").status_code == 405
    assert client.get("/api/v1/score").get_json()["status"] == "error"
    assert client.get("/api/v1/nope").get_json()["status"] == "error"
    big = client.post("/api/v1/score", json={"question": "q1", "text": "word " * 120_000})
    assert big.status_code == 413 and big.get_json()["status"] == "error"


def test_api_needs_no_csrf_token(tmp_path):
    app = make_app(tmp_path / "api.sqlite", WTF_CSRF_ENABLED=True)
    resp = app.test_client().post("/api/v1/score", json={"question": "q1", "text": read_fixture("q1_medium.txt")})
    assert resp.status_code == 200
