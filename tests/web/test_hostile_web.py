"""Hostile requests to the web app (issue 11): every malformed body or query is a 4xx page or JSON
error, never a 500; sign-out ends the session for a copied cookie too; the sign-in throttle holds
under concurrent requests to a real server; the Host header is never trusted blindly; the files
every entry point creates are private; uploads cannot smuggle disguised names or zip bombs.
"""

from __future__ import annotations

import http.cookiejar
import io
import json
import os
import re
import stat
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from pathlib import Path

import pytest
from conftest import ROOT, add_class, add_teacher, free_port, make_app, read_fixture, sign_in
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from khrushchev_essays.storage import LoginAttempt, SchoolClass, Submission, db, save_submission
from khrushchev_essays.storage.accounts import MAX_FAILURES_PER_ACCOUNT
from khrushchev_essays.web.teacher.upload import LARGE_BODY_ENDPOINTS

CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
BIG = "x" * (600 * 1024)  # over the site's 512 KB body limit


def example_url(rule) -> str:
    values = {"qid": "q1", "token": "no-such-token"}
    return re.sub(r"<(?:\w+:)?(\w+)>", lambda m: values.get(m.group(1), "1"), rule.rule)


def post_rules(app):
    return [r for r in app.url_map.iter_rules() if "POST" in r.methods]


# --- 6. one request-size handler for every route ----------------------------------------------------

def test_a_body_over_the_limit_is_a_413_on_every_route_signed_in_or_not(tmp_path, scored_fixture):
    # TESTING propagates exceptions: a 500 would fail this test with its traceback.
    app = make_app(tmp_path / "big.sqlite", WTF_CSRF_ENABLED=True)
    text, report = scored_fixture("q1_medium.txt")
    with app.app_context():
        save_submission(text, report)
    add_teacher(app)
    signed_out = app.test_client()
    signed_in = app.test_client()
    form = signed_in.get("/teacher/login").get_data(as_text=True)
    assert sign_in(signed_in, csrf_token=CSRF.search(form).group(1)).status_code == 303
    rules = post_rules(app)
    assert {r.endpoint for r in rules} >= {"teacher.login", "teacher.logout", "teacher.review", "teacher.retrain",
                                           "practice.question", "api.score_essay"}
    for client in (signed_out, signed_in):
        for rule in rules:
            if rule.endpoint in LARGE_BODY_ENDPOINTS and client is signed_in:
                continue  # a signed-in teacher's files take 25 MB (tested in test_teacher_upload)
            resp = client.post(example_url(rule), data={"text": BIG})
            assert resp.status_code == 413, (rule.rule, resp.status_code)
            if rule.rule.startswith("/api/"):
                assert resp.get_json()["status"] == "error"
            else:
                assert "Too much text" in resp.get_data(as_text=True), rule.rule


# --- 6. malformed queries, ids and JSON ----------------------------------------------------------------

@pytest.mark.parametrize("query", ["level=%C2%B2", "page=%C2%B2", "page=%D9%A3", "level=99999999999999999999999",
                                   "to=9999-12-31", "from=9999-12-31", "from=%EF%BC%92%EF%BC%90%EF%BC%92%EF%BC%96-01-01",
                                   "page=99999999999999999999999999999"])
@pytest.mark.parametrize("path", ["/teacher/", "/teacher/export.csv", "/teacher/export.json", "/teacher/analytics"])
def test_malformed_query_values_are_ignored_not_a_500(teacher_client, path, query):
    resp = teacher_client.get(f"{path}?{query}")
    assert resp.status_code == 200


def test_control_characters_in_filters_are_dropped_before_any_query():
    from khrushchev_essays.storage.queries import Filters

    f = Filters.from_args({"class": "12\x00c", "search": "Vera\x00\x1b", "flag": "\x00"})
    assert (f.class_code, f.search, f.flag) == ("12C", "Vera", "")


@pytest.mark.parametrize("url, method", [
    (f"/teacher/submissions/{2**63}", "GET"), (f"/teacher/submissions/{2**64 + 5}", "POST"),
    (f"/teacher/submissions/1/revert/{2**63}", "POST"), ("/teacher/submissions/%C2%B2", "GET"),
])
def test_ids_too_large_for_the_database_are_a_404(teacher_client, url, method):
    assert teacher_client.open(url, method=method, data={"mark": "1"}).status_code == 404


def test_a_review_based_on_a_superscript_change_id_is_not_a_500(app, teacher_client, scored_fixture):
    text, report = scored_fixture("q1_medium.txt")
    with app.app_context():
        sub_id = save_submission(text, report).id
    fields = {f"crit_{c.id}": str(c.mark) for c in report.criteria}
    resp = teacher_client.post(f"/teacher/submissions/{sub_id}", data={"mark": str(report.mark), "comment": "",
                                                                      "based_on": "\u00b2", **fields})
    assert resp.status_code == 303


def test_deeply_nested_json_is_a_400_json_error(client):
    for body in ("[" * 100_000, '{"a":' * 100_000):
        resp = client.post("/api/v1/score", data=body, content_type="application/json")
        assert resp.status_code == 400 and resp.get_json()["status"] == "error"


# --- 7. the API under surrogates and control characters ------------------------------------------------

@pytest.fixture(scope="module")
def api_client(tmp_path_factory):
    # A high limit rather than RATELIMIT_ENABLED=False, which would switch off the shared limiter for later apps.
    app = make_app(tmp_path_factory.mktemp("api") / "api.sqlite", API_RATE_LIMIT="100000 per minute")
    return app.test_client()


JUNK = st.characters(codec=None, categories=["Cs", "Cc", "Cf", "Zl", "Zp"])
API_TEXTS = st.lists(st.one_of(st.sampled_from(["Khrushchev", "1956", "because", "However,", "Virgin Lands", "\n\n"]),
                               st.text(JUNK, max_size=4), st.text(max_size=8)), max_size=40).map(" ".join)


def test_the_api_answers_a_lone_surrogate_with_a_400_report(api_client):
    resp = api_client.post("/api/v1/score", json={"question": "q1", "text": "ab\ud800cd " * 40})
    assert resp.status_code == 400 and "not valid Unicode" in resp.get_json()["error"]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=API_TEXTS, question=st.sampled_from(["q1", "q2"]), source=st.text(JUNK, max_size=3))
def test_the_api_never_fails_on_surrogates_and_control_characters(api_client, text, question, source):
    resp = api_client.post("/api/v1/score", json={"question": question, "text": text, "source": source})
    body = resp.get_json()
    assert resp.status_code in (200, 400), resp.status_code
    assert body["status"] == ("scored" if resp.status_code == 200 else "error")
    received = json.loads(json.dumps(text))  # in JSON, "\ud800\udc00" is a pair: one valid character
    if any(0xD800 <= ord(c) <= 0xDFFF for c in received) and "\x00" not in text and text.strip():
        assert resp.status_code == 400 and "not valid Unicode" in body["error"]


# --- 12. an urlencoded essay with invalid UTF-8 ----------------------------------------------------------

def test_an_essay_with_invalid_utf8_is_decoded_with_replacement_and_kept(tmp_path):
    app = make_app(tmp_path / "utf8.sqlite", WTF_CSRF_ENABLED=True)
    client = app.test_client()
    token = CSRF.search(client.get("/questions/q1").get_data(as_text=True)).group(1)
    essay = read_fixture("q1_medium.txt")
    head, tail = essay[:200], essay[200:]

    def body(text_bytes: bytes) -> bytes:
        return b"csrf_token=" + token.encode() + b"&text=" + text_bytes

    # A whole essay with one bad byte: marked and stored, the byte shown as U+FFFD.
    resp = client.post("/questions/q1", data=body(urllib.parse.quote_plus(head).encode() + b"\xff"
                                                  + urllib.parse.quote_plus(tail).encode()),
                       content_type="application/x-www-form-urlencoded")
    assert resp.status_code == 303, resp.get_data(as_text=True)[:500]
    with app.app_context():
        [sub] = db.session.query(Submission).all()
        assert sub.text == head + "\ufffd" + tail
    # Refused for another reason (a tab in the name): the form comes back with the essay in the box.
    resp = client.post("/questions/q1", data=body(b"Khrushchev\xfe+reformed+farming&student_name=A%09B"),
                       content_type="application/x-www-form-urlencoded")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422 and "Khrushchev\ufffd reformed farming</textarea>" in html


# --- 10. the Host header ---------------------------------------------------------------------------------

def test_redirects_never_reflect_the_host_header(client):
    resp = client.get("/teacher", headers={"Host": "evil.example"})
    assert resp.status_code == 308 and resp.headers["Location"] == "/teacher/"
    assert "evil.example" not in resp.get_data(as_text=True)


def test_trusted_hosts_from_the_environment_refuse_any_other_host(tmp_path, monkeypatch):
    monkeypatch.setenv("KHRUSHCHEV_TRUSTED_HOSTS", "essays.school.example, localhost")
    client = make_app(tmp_path / "hosts.sqlite").test_client()
    for path in ("/", "/teacher", "/teacher/login"):
        resp = client.get(path, headers={"Host": "evil.example"})
        assert resp.status_code == 400 and "evil.example" not in resp.get_data(as_text=True)
    assert client.post("/api/v1/score", json={}, headers={"Host": "evil.example"}).get_json()["status"] == "error"
    assert client.get("/", headers={"Host": "essays.school.example"}).status_code == 200
    assert client.get("/teacher", headers={"Host": "essays.school.example"}).headers["Location"] == "/teacher/"


# --- 3. sign-out ends the session, for a copied cookie too ---------------------------------------------

def test_a_session_cookie_copied_before_sign_out_no_longer_opens_teacher_pages(app, teacher_client):
    copied = teacher_client.get_cookie("session").value
    assert teacher_client.get("/teacher/").status_code == 200
    assert teacher_client.post("/teacher/logout").status_code == 303
    replay = app.test_client()
    replay.set_cookie("session", copied)
    resp = replay.get("/teacher/")
    assert resp.status_code == 303 and resp.headers["Location"].startswith("/teacher/login")
    assert sign_in(teacher_client).status_code == 303  # signing in again still works
    assert teacher_client.get("/teacher/").status_code == 200


def test_sign_out_and_deactivation_both_end_every_session_of_the_account(app, teacher_client):
    """Issue 11's sign-out and issue 12's deactivation rotate the same session token: neither
    undoes the other, and no cookie from before either one comes back to life."""
    other = "b@school.example"
    b_id = add_teacher(app, email=other)
    laptop, phone = app.test_client(), app.test_client()
    for device in (laptop, phone):
        assert sign_in(device, other).status_code == 303
    before_deactivation = phone.get_cookie("session").value
    # Signing out on one device ends the other's session too (and the admin's own stays open).
    assert laptop.post("/teacher/logout").status_code == 303
    assert phone.get("/teacher/").status_code == 303
    assert teacher_client.get("/admin/").status_code == 200

    assert sign_in(phone, other).status_code == 303
    signed_in_again = phone.get_cookie("session").value
    assert teacher_client.post(f"/admin/teachers/{b_id}/active", data={"active": "0"}).status_code == 303
    assert phone.get("/teacher/").status_code == 303
    assert sign_in(app.test_client(), other).status_code == 401
    assert teacher_client.post(f"/admin/teachers/{b_id}/active", data={"active": "1"}).status_code == 303
    for copied in (before_deactivation, signed_in_again):  # reactivated: old cookies stay dead
        replay = app.test_client()
        replay.set_cookie("session", copied)
        assert replay.get("/teacher/").status_code == 303
    assert sign_in(phone, other).status_code == 303 and phone.get("/teacher/").status_code == 200
    # The admin signing out ends only the admin's sessions.
    admin_cookie = teacher_client.get_cookie("session").value
    assert teacher_client.post("/teacher/logout").status_code == 303
    replay = app.test_client()
    replay.set_cookie("session", admin_cookie)
    assert replay.get("/admin/").status_code == 303
    assert phone.get("/teacher/").status_code == 200


# --- 4. the sign-in throttle under concurrent requests through a real server ----------------------------

def test_concurrent_wrong_passwords_get_exactly_the_allowed_tries(live_server):
    app = make_app(live_server.db_path)
    email = "throttled@school.example"
    add_teacher(app, email=email)
    attempts = 40
    openers, tokens = [], []
    for _ in range(attempts):  # each attacker thread its own session and CSRF token
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        page = opener.open(live_server.url + "/teacher/login", timeout=30).read().decode()
        openers.append(opener)
        tokens.append(CSRF.search(page).group(1))
    barrier = threading.Barrier(attempts)
    statuses: list[int] = []

    def attack(opener, token):
        body = urllib.parse.urlencode({"email": email, "password": "wrong password!", "csrf_token": token}).encode()
        barrier.wait()
        try:
            opener.open(live_server.url + "/teacher/login", data=body, timeout=120)
            statuses.append(200)
        except urllib.error.HTTPError as exc:
            statuses.append(exc.code)

    threads = [threading.Thread(target=attack, args=pair) for pair in zip(openers, tokens)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(statuses) == [401] * MAX_FAILURES_PER_ACCOUNT + [429] * (attempts - MAX_FAILURES_PER_ACCOUNT)
    with app.app_context():
        assert db.session.query(LoginAttempt).filter_by(email=email).count() == MAX_FAILURES_PER_ACCOUNT


# --- 8. files created 0600 in an 0700 instance folder, by every entry point ------------------------------

def _private(folder: Path) -> None:
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700, oct(folder.stat().st_mode)
    files = [p for p in folder.iterdir() if p.is_file()]
    assert any(p.name.endswith(".sqlite") for p in files) and any(p.name == "secret_key" for p in files)
    for p in files:
        assert stat.S_IMODE(p.stat().st_mode) == 0o600, (p.name, oct(p.stat().st_mode))


def _cli_env(instance: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "SECRET_KEY")}
    return {**env, "KHRUSHCHEV_INSTANCE_PATH": str(instance), "PYTHONPATH": str(ROOT)}


def _run(args, instance: Path, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "khrushchev_essays.cli", *args], env=_cli_env(instance), cwd=ROOT,
                          capture_output=True, text=True, timeout=300, preexec_fn=lambda: os.umask(0o022), **kw)


def test_every_entry_point_keeps_the_instance_folder_private_under_a_loose_umask(tmp_path):
    made = _run(["create-teacher", "a@school.example", "--password-stdin"], tmp_path / "created",
                input="a long enough password\n")
    assert made.returncode == 0, made.stderr
    _private(tmp_path / "created")

    essay = tmp_path / "essay.txt"
    essay.write_text(read_fixture("q1_medium.txt"), encoding="utf-8")
    graded = _run(["grade", str(essay), "--store", "--format", "jsonl"], tmp_path / "graded")
    assert graded.returncode == 0, graded.stderr
    _private(tmp_path / "graded")

    # Issue 12's commands open the database the same way (cron runs purge, perhaps as the first thing).
    purged = _run(["purge", "--dry-run"], tmp_path / "purged")
    assert purged.returncode == 0, purged.stderr
    _private(tmp_path / "purged")

    port = free_port()
    served = tmp_path / "served"
    log = open(tmp_path / "serve.log", "w")
    proc = subprocess.Popen([sys.executable, "-m", "khrushchev_essays.cli", "serve", "--port", str(port)],
                            env=_cli_env(served), cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                            preexec_fn=lambda: os.umask(0o022))
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2).read()
                break
            except OSError:
                assert proc.poll() is None and time.monotonic() < deadline, (tmp_path / "serve.log").read_text()
                time.sleep(0.3)
        _private(served)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()


# --- 11 and 1 and 9 through the upload page --------------------------------------------------------------

def _upload(client, files, class_code):
    # Uploads go into one of the teacher's classes (issue 12): the code of a class made with add_class.
    data = {"question": "auto", "class_code": class_code, "files": [(io.BytesIO(body), name) for name, body in files]}
    return client.post("/teacher/upload", data=data, content_type="multipart/form-data")


def test_upload_names_keep_their_extension_and_lose_bidi_and_control_characters(app, teacher_client):
    essay = read_fixture("q1_medium.txt").encode()
    long_name = "Anna Petrova " + "very long title " * 10 + ".txt"
    code = add_class(app)
    html = _upload(teacher_client, [(long_name, essay), ("essay\u202etxt.md", essay), ("tab\there.txt", essay)],
                   code).get_data(as_text=True)
    assert "3 of 3 essays marked and stored" in html
    assert "\u202e" not in html and "tab\there" not in html
    with app.app_context():
        refs = [s.source_ref for s in db.session.query(Submission).order_by(Submission.id)]
    assert refs[0].endswith("….txt") and len(refs[0]) == 120
    assert refs[1:] == ["essaytxt.md", "tab here.txt"]


def test_the_essay_form_refuses_a_name_with_a_tab_newline_or_bidi_override(client):
    for name in ("Anna\tPetrova", "Anna\nPetrova", "Anna\u202eavortep"):
        resp = client.post("/questions/q1", data={"student_name": name, "text": read_fixture("q1_medium.txt")})
        assert resp.status_code == 422 and "characters that cannot be stored" in resp.get_data(as_text=True)


def test_class_names_and_a_named_student_lose_control_and_bidi_characters(app, teacher_client):
    # Issue 12's class names and student requests are names too: cleaned like every other name.
    resp = teacher_client.post("/teacher/classes", data={"name": "12C\u202e Histo\x00ry\t"})
    assert resp.status_code == 303
    with app.app_context():
        klass = db.session.query(SchoolClass).one()
        class_id, code = klass.id, klass.join_code
    assert klass.name == "12C History"
    resp = app.test_client().post("/questions/q1", data={"student_name": "Vera Petrova", "class_code": code,
                                                         "text": read_fixture("q1_medium.txt")})
    assert resp.status_code == 303
    resp = teacher_client.get(f"/teacher/classes/{class_id}/student-data.json?student=Vera%00%E2%80%AE%20Petrova")
    assert resp.status_code == 200 and json.loads(resp.get_data(as_text=True))["count"] == 1


def test_an_uploaded_docx_bomb_and_a_header_only_csv_are_error_rows(app, teacher_client):
    import docx

    document = docx.Document()
    document.add_paragraph(read_fixture("q1_medium.txt"))
    plain = io.BytesIO()
    document.save(plain)
    bomb = io.BytesIO()
    with zipfile.ZipFile(plain) as source, zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as out:
        for info in source.infolist():
            out.writestr(info, source.read(info.filename))
        out.writestr("word/media/image1.png", bytes(64 * 1024 * 1024))  # 64 MB of zeros, ~64 KB packed
    code = add_class(app)
    html = _upload(teacher_client, [("bomb.docx", bomb.getvalue()), ("good.docx", plain.getvalue())], code
                   ).get_data(as_text=True)
    assert "1 of 2 essays marked and stored" in html and "unpacks to more than" in html
    html = _upload(teacher_client, [("class.csv", b"student,essay\r\n")], code).get_data(as_text=True)
    assert "header row but no essays" in html and "0 of 0" not in html
