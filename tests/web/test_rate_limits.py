"""Rate limits on marking (web/limits.py): past the limit an essay is not marked or stored, the
student keeps their text on the form, the API answers JSON 429 with Retry-After, reading pages is
never limited, and the two buckets (essays, API) are separate."""

from __future__ import annotations

import re

from conftest import make_app, read_fixture

from khrushchev_essays.storage import Submission, db

ESSAY = read_fixture("q1_medium.txt")


def limited_app(tmp_path, essays: str = "2 per minute", api: str = "1 per minute"):
    return make_app(tmp_path / "limits.sqlite", ESSAY_RATE_LIMIT=essays, API_RATE_LIMIT=api)


def stored(app) -> int:
    with app.app_context():
        return db.session.query(Submission).count()


def test_past_the_essay_limit_the_essay_is_kept_on_the_form_and_nothing_is_stored(tmp_path):
    app = limited_app(tmp_path)
    client = app.test_client()
    assert client.post("/questions/q1", data={"text": ESSAY}).status_code == 303
    first = db_token(app)
    # A revision counts in the same bucket as a new essay.
    assert client.post(f"/feedback/{first}/revise", data={"text": ESSAY + "\n\nMore."}).status_code == 303
    resp = client.post("/questions/q1", data={"text": ESSAY + "\n\nA <b>late</b> paragraph.", "student_name": "Olga"})
    assert resp.status_code == 429 and int(resp.headers["Retry-After"]) > 0
    html = resp.get_data(as_text=True)
    assert "Too many essays were sent from your network in the last minute" in html
    assert re.search(r"wait \d+ seconds? and press the button again", html)
    assert "A &lt;b&gt;late&lt;/b&gt; paragraph." in html and 'value="Olga"' in html  # kept, and escaped
    assert stored(app) == 2
    # Reading is never limited.
    assert client.get("/questions/q1").status_code == 200 and client.get(f"/feedback/{first}").status_code == 200
    revise = client.post(f"/feedback/{first}/revise", data={"text": ESSAY})
    assert revise.status_code == 429 and "Your essay is still below" in revise.get_data(as_text=True)


def test_the_api_answers_json_429_in_its_own_bucket(tmp_path):
    app = limited_app(tmp_path, essays="1 per minute")
    client = app.test_client()
    assert client.post("/api/v1/score", json={"question": "q1", "text": ESSAY}).status_code == 200
    resp = client.post("/api/v1/score", json={"question": "q1", "text": ESSAY})
    assert resp.status_code == 429 and int(resp.headers["Retry-After"]) > 0
    assert resp.get_json() == {"status": "error", "error": "Too many requests: Too many requests came from your "
                                                            "address just now. Wait a minute and try again."}
    # The API's calls did not use up the essay form's allowance.
    assert client.post("/questions/q1", data={"text": ESSAY}).status_code == 303


def test_limits_are_per_address(tmp_path):
    app = limited_app(tmp_path, essays="1 per minute")
    client = app.test_client()
    assert client.post("/questions/q1", data={"text": ESSAY}).status_code == 303
    assert client.post("/questions/q1", data={"text": ESSAY}).status_code == 429
    other = client.post("/questions/q1", data={"text": ESSAY}, environ_base={"REMOTE_ADDR": "10.0.0.7"})
    assert other.status_code == 303


def db_token(app) -> str:
    with app.app_context():
        return db.session.query(Submission).order_by(Submission.id).first().token
