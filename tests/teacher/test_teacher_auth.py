"""Teacher accounts: the create-teacher command, signing in and out, throttling, and that every
/teacher/ route refuses a signed-out visitor and every teacher form needs its CSRF token."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from click.testing import CliRunner
from conftest import TEACHER_EMAIL, TEACHER_PASSWORD, add_teacher, database_url, make_app, sign_in

from khrushchev_essays.cli import main
from khrushchev_essays.storage import Teacher, db, save_submission
from khrushchev_essays.storage.classes import create_class
from khrushchev_essays.storage.accounts import (
    MAX_FAILURES_PER_ACCOUNT,
    WINDOW,
    count_failures,
    record_failure,
    sign_in_throttle,
)
from khrushchev_essays.web.teacher.auth import safe_next

CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def teacher_rules(app):
    """Every URL rule under /teacher/ and /admin/ with the methods it answers (HEAD and OPTIONS aside)."""
    return [(r, sorted(r.methods - {"HEAD", "OPTIONS"})) for r in app.url_map.iter_rules()
            if r.rule.startswith(("/teacher", "/admin"))]


def example_url(rule) -> str:
    url = rule.rule.replace("<int:", "<").replace("<qid>", "q1")
    for arg in ("sub_id", "change_id", "class_id", "teacher_id"):
        url = url.replace(f"<{arg}>", "1")
    return url.replace("<key>", "0123456789abcdef")


def test_every_teacher_route_refuses_a_signed_out_visitor(app, scored_fixture):
    text, report = scored_fixture("q1_medium.txt")
    with app.app_context():
        save_submission(text, report, student_name="Vera")
    rules = teacher_rules(app)
    assert {r.endpoint for r, _ in rules} >= {"teacher.dashboard", "teacher.login", "teacher.logout", "teacher.review"}
    client = app.test_client()
    checked = 0
    for rule, methods in rules:
        if rule.endpoint == "teacher.login":
            continue
        url = example_url(rule)
        assert "<" not in url, f"add example arguments for {rule.rule}"
        for method in methods:
            resp = client.open(url, method=method, data={"mark": "1", "comment": "x"})
            assert resp.status_code == 303, (method, url)
            assert resp.headers["Location"].startswith("/teacher/login"), (method, url)
            assert "Vera" not in resp.get_data(as_text=True)
            checked += 1
    assert checked >= 4
    with app.app_context():
        from khrushchev_essays.storage import Review
        assert db.session.query(Review).count() == 0


def test_a_students_feedback_token_opens_that_feedback_page_and_nothing_else(app, scored_fixture):
    text, report = scored_fixture("q1_medium.txt")
    with app.app_context():
        mine = save_submission(text, report, student_name="Mine").token
        save_submission(text, report, student_name="Someone Else")
    client = app.test_client()
    page = client.get(f"/feedback/{mine}").get_data(as_text=True)
    assert "Mine" in page and "Someone Else" not in page
    for rule, methods in teacher_rules(app):
        if rule.endpoint != "teacher.login" and "GET" in methods:
            assert client.get(example_url(rule)).status_code == 303


def test_sign_in_goes_to_the_dashboard_and_sign_out_ends_the_session(app, client):
    add_teacher(app)
    assert client.get("/teacher/login").status_code == 200
    resp = sign_in(client, email="  Teacher@School.EXAMPLE ")
    assert resp.status_code == 303 and resp.headers["Location"] == "/teacher/"
    page = client.get("/teacher/")
    assert page.status_code == 200 and "Signed in as Ms Teacher" in page.get_data(as_text=True)
    assert page.headers["Cache-Control"] == "no-store"
    assert client.get("/teacher/logout").status_code == 405  # a GET (a link, an <img>) cannot sign anyone out
    resp = client.post("/teacher/logout")
    assert resp.status_code == 303 and resp.headers["Location"] == "/teacher/login"
    assert client.get("/teacher/").status_code == 303
    with app.app_context():
        assert db.session.query(Teacher).one().last_sign_in_at is not None


def test_an_idle_teacher_is_signed_out_and_returned_where_they_were(app, client):
    from khrushchev_essays.web.teacher import SEEN_KEY

    add_teacher(app)
    sign_in(client)
    assert client.get("/teacher/analytics").status_code == 200
    with client.session_transaction() as s:
        recent = s[SEEN_KEY]
        s[SEEN_KEY] = recent - 59 * 60  # 59 minutes ago: still signed in, and the clock restarts
    assert client.get("/teacher/").status_code == 200
    with client.session_transaction() as s:
        assert s[SEEN_KEY] >= recent
        s[SEEN_KEY] = s[SEEN_KEY] - 61 * 60  # 61 minutes without a request
    resp = client.get("/teacher/analytics?class=12C")
    assert resp.status_code == 303 and resp.headers["Location"] == "/teacher/login?next=/teacher/analytics?class%3D12C"
    page = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "You were signed out after 60 minutes without activity" in page
    assert client.get("/teacher/").status_code == 303  # really signed out, not just redirected once
    # A POST after the timeout changes nothing either (here: a retraining).
    sign_in(client)
    with client.session_transaction() as s:
        s[SEEN_KEY] = s[SEEN_KEY] - 61 * 60
    assert client.post("/teacher/analytics/retrain/q1").headers["Location"] == "/teacher/login"


def test_the_idle_timeout_can_be_turned_off(tmp_path):
    from khrushchev_essays.web.teacher import SEEN_KEY

    app = make_app(tmp_path / "idle.sqlite", TEACHER_IDLE_MINUTES=0)
    add_teacher(app)
    client = app.test_client()
    sign_in(client)
    with client.session_transaction() as s:
        s[SEEN_KEY] = 0  # 1970
    assert client.get("/teacher/").status_code == 200


def test_wrong_password_and_unknown_email_get_the_same_answer(app, client):
    add_teacher(app)
    wrong = sign_in(client, password="not the password")
    unknown = sign_in(client, email="nobody@school.example")
    for resp in (wrong, unknown):
        assert resp.status_code == 401
        html = resp.get_data(as_text=True)
        assert "That email and password do not match an account." in html
        assert TEACHER_PASSWORD not in html and "not the password" not in html
    assert client.get("/teacher/").status_code == 303
    assert sign_in(client, email="", password="").status_code == 422


def test_repeated_failures_are_refused_for_a_while_from_that_address_only(app):
    add_teacher(app)
    attacker = app.test_client()
    for _ in range(MAX_FAILURES_PER_ACCOUNT):
        assert sign_in(attacker, password="guess guess guess").status_code == 401
    refused = sign_in(attacker)  # even the right password: the account is cooling off here
    assert refused.status_code == 429
    assert "Too many failed sign-ins" in refused.get_data(as_text=True)
    assert "15 minutes" in refused.get_data(as_text=True)
    assert attacker.get("/teacher/").status_code == 303
    # The teacher, from the school's own machine, is not locked out by a stranger.
    teacher = app.test_client()
    resp = teacher.post("/teacher/login", data={"email": TEACHER_EMAIL, "password": TEACHER_PASSWORD},
                        environ_base={"REMOTE_ADDR": "10.0.0.7"})
    assert resp.status_code == 303
    with app.app_context():
        later = sign_in_throttle(TEACHER_EMAIL, "127.0.0.1")
        assert later.refused and 14 <= later.minutes <= 15
        from khrushchev_essays.storage.db import utcnow
        assert not sign_in_throttle(TEACHER_EMAIL, "127.0.0.1", now=utcnow() + WINDOW + timedelta(seconds=1)).refused


def test_one_address_trying_many_accounts_is_refused_and_old_failures_are_pruned(app):
    from khrushchev_essays.storage.accounts import MAX_FAILURES_PER_IP
    from khrushchev_essays.storage.db import utcnow

    with app.app_context():
        for i in range(MAX_FAILURES_PER_IP):
            record_failure(f"user{i}@school.example", "10.9.9.9")
        assert sign_in_throttle("new@school.example", "10.9.9.9").refused
        assert not sign_in_throttle("new@school.example", "10.9.9.8").refused
        record_failure("x@school.example", "10.1.1.1", now=utcnow() + WINDOW + timedelta(minutes=1))
        assert count_failures() == 1  # everything older than the window was pruned


def test_a_successful_sign_in_clears_that_accounts_failures(app, client):
    add_teacher(app)
    for _ in range(MAX_FAILURES_PER_ACCOUNT - 1):
        sign_in(client, password="wrong wrong wrong")
    assert sign_in(client).status_code == 303
    with app.app_context():
        assert count_failures() == 0


@pytest.mark.parametrize("target, expected", [
    ("/teacher/?q=q1&page=2", "/teacher/?q=q1&page=2"),
    ("/teacher/submissions/3", "/teacher/submissions/3"),
    ("https://evil.example/teacher/", None),
    ("//evil.example/teacher/", None),
    ("/\\evil.example", None),
    ("/teacher/\r\nSet-Cookie: x", None),
    ("/feedback/abc", None),
    ("javascript:alert(1)", None),
    ("", None),
])
def test_next_only_goes_to_a_local_teacher_page(target, expected):
    assert safe_next(target) == expected


def test_sign_in_follows_next_only_when_it_is_safe(app, client):
    add_teacher(app)
    assert sign_in(client, next="https://evil.example/").headers["Location"] == "/teacher/"
    client.post("/teacher/logout")
    assert sign_in(client, next="/teacher/?level=3").headers["Location"] == "/teacher/?level=3"
    # The sign-in page carries `next` from the redirect that sent the teacher there.
    fresh = app.test_client()
    to_login = fresh.get("/teacher/?class=12C")
    login_page = fresh.get(to_login.headers["Location"]).get_data(as_text=True)
    assert 'value="/teacher/?class=12C"' in login_page


def test_every_teacher_form_needs_its_csrf_token(tmp_path, scored_fixture):
    app = make_app(tmp_path / "csrf.sqlite", WTF_CSRF_ENABLED=True)
    add_teacher(app)
    text, report = scored_fixture("q1_medium.txt")
    with app.app_context():
        klass = create_class("12C", [db.session.query(Teacher).one()])
        save_submission(text, report, klass=klass, student_name="Vera")
    client = app.test_client()
    login = client.get("/teacher/login").get_data(as_text=True)
    assert sign_in(client).status_code == 400  # no token
    token = CSRF.search(login).group(1)
    assert sign_in(client, csrf_token=token).status_code == 303
    # Every form on the signed-in pages carries a token...
    for url in ("/teacher/", "/teacher/submissions/1", "/teacher/analytics", "/teacher/classes", "/teacher/classes/1",
                "/teacher/submissions/1/delete", "/teacher/classes/1/delete-student?student=Vera", "/admin/",
                "/admin/classes"):
        html = client.get(url).get_data(as_text=True)
        posts = re.findall(r'<form[^>]*method="post"[^>]*>(.*?)</form>', html, flags=re.S)
        assert posts, url
        assert all('name="csrf_token"' in form for form in posts), url
    # ...and every POST route refuses a request without one.
    for rule, methods in teacher_rules(app):
        if "POST" in methods and rule.endpoint != "teacher.login":
            resp = client.post(example_url(rule), data={"mark": "20"})
            assert resp.status_code == 400, rule.rule
    assert client.get("/teacher/").status_code == 200  # still signed in: the forged sign-out did nothing


def invoke(args, env, stdin=None):
    return CliRunner().invoke(main, args, input=stdin, env=env, catch_exceptions=False)


def test_create_teacher_from_stdin_refuses_duplicates_and_resets_passwords(tmp_path, monkeypatch):
    db_url = database_url(tmp_path / "cli.sqlite")
    env = {"DATABASE_URL": db_url, "SECRET_KEY": "cli-secret"}
    result = invoke(["create-teacher", "Head@School.example", "--name", "Mr Head", "--password-stdin"], env, "a long password\n")
    assert result.exit_code == 0, result.output
    assert "created admin head@school.example" in result.output  # the first account is an admin
    assert "a long password" not in result.output
    again = invoke(["create-teacher", "head@school.example", "--password-stdin"], env, "another password\n")
    assert again.exit_code == 2 and "already a teacher" in again.output
    short = invoke(["create-teacher", "x@school.example", "--password-stdin"], env, "short\n")
    assert short.exit_code == 2 and "at least 10 characters" in short.output
    bad = invoke(["create-teacher", "not-an-email", "--password-stdin"], env, "a long password\n")
    assert bad.exit_code == 2 and "not an email address" in bad.output

    monkeypatch.setenv("DATABASE_URL", db_url)
    app = make_app(tmp_path / "cli.sqlite")
    client = app.test_client()
    assert sign_in(client, email="head@school.example", password="a long password").status_code == 303
    assert client.get("/teacher/").status_code == 200
    reset = invoke(["create-teacher", "head@school.example", "--reset-password", "--password-stdin"], env, "a new long password\n")
    assert reset.exit_code == 0, reset.output
    assert client.get("/teacher/").status_code == 303  # the reset signed the old session out
    assert sign_in(client, email="head@school.example", password="a long password").status_code == 401
    assert sign_in(client, email="head@school.example", password="a new long password").status_code == 303
    with app.app_context():
        stored = db.session.query(Teacher).one()
        assert stored.password_hash.startswith(("scrypt:", "pbkdf2:")) and "long password" not in stored.password_hash


def test_create_teacher_prompts_twice_for_the_password(tmp_path):
    env = {"DATABASE_URL": database_url(tmp_path / "p.sqlite"), "SECRET_KEY": "k"}
    result = invoke(["create-teacher", "p@school.example"], env, "too short\na long password\na long password\n")
    assert result.exit_code == 0, result.output
    assert "at least 10 characters" in result.output and "created admin p@school.example" in result.output
