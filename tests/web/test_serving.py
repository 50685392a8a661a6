"""`khrushchev-essays serve` as production runs it, on loopback: waitress for one process, gunicorn
for several. Idle connections do not shut a fresh client out (issue 11), two workers share the
rate limits through a real Redis server and accept each other's sessions, and ProxyFix trusts
X-Forwarded-* only when told to."""

from __future__ import annotations

import http.client
import http.cookiejar
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest
from conftest import ROOT, TEACHER_EMAIL, TEACHER_PASSWORD, database_url, free_port, make_app, read_fixture

pytestmark = pytest.mark.slow

ESSAY = read_fixture("q1_medium.txt")
CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
IDLE_CONNECTIONS = 150


@contextmanager
def serving(tmp: Path, *args: str, **env: str):
    """`khrushchev-essays serve ARGS` on a free port and a fresh database; yields its base URL."""
    port = free_port()
    db_url = database_url(tmp / "serve.sqlite")
    full_env = {**os.environ, "DATABASE_URL": db_url, "SECRET_KEY": "serving-test-secret", **env}
    log_path = tmp / f"serve-{port}.log"
    with open(log_path, "w") as log:
        proc = subprocess.Popen([sys.executable, "-m", "khrushchev_essays.cli", "serve", "--port", str(port), *args],
                                cwd=ROOT, env=full_env, stdout=log, stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 90
            while True:
                try:
                    urllib.request.urlopen(url + "/healthz", timeout=2).read()
                    break
                except OSError:
                    if proc.poll() is not None or time.monotonic() > deadline:
                        pytest.fail(f"the server did not start:\n{log_path.read_text()}")
                    time.sleep(0.3)
            yield url, db_url
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=40)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def fresh_get(url: str, timeout: float = 20, headers: dict | None = None) -> tuple[int, dict, str]:
    """One GET on a new connection: (status, headers, body)."""
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, dict(resp.headers), resp.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read().decode()


def score_api(base: str, headers: dict | None = None) -> tuple[int, dict]:
    body = json.dumps({"question": "q1", "text": ESSAY}).encode()
    req = urllib.request.Request(base + "/api/v1/score", data=body, method="POST",
                                 headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            return resp.status, dict(resp.headers)
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers)


# --- idle connections (issue 11, finding 2) ---------------------------------------------------------

@pytest.mark.parametrize("workers", ["1", "2"], ids=["waitress", "gunicorn-2-workers"])
def test_150_idle_connections_do_not_shut_out_a_fresh_client(tmp_path, workers):
    with serving(tmp_path, "--workers", workers, "--threads", "4", KHRUSHCHEV_RATELIMIT_ENABLED="false") as (url, _):
        port = int(url.rsplit(":", 1)[1])
        with ExitStack() as held:
            # Half the connections connected and say nothing; the rest made one request and sit kept-alive.
            for _ in range(IDLE_CONNECTIONS // 2):
                held.callback(socket.create_connection(("127.0.0.1", port), timeout=20).close)
            for _ in range(IDLE_CONNECTIONS - IDLE_CONNECTIONS // 2):
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
                conn.request("GET", "/healthz")
                resp = conn.getresponse()
                assert resp.status == 200 and resp.read() == b"ok\n"
                assert resp.getheader("Connection", "").lower() != "close"
                held.callback(conn.close)
            # A student arriving now gets the form and can send an essay (within the client's
            # 20-second timeout: under the old limits they waited for the idle ones to time out).
            status, _, html = fresh_get(url + "/questions/q1")
            assert status == 200 and "csrf_token" in html
            assert score_api(url)[0] == 200


@pytest.mark.parametrize(("soft", "hard", "limit"), [(256, 20000, 1000), (256, 512, 440)])
def test_waitress_raises_the_descriptor_limit_to_fit_its_connections(soft, hard, limit):
    """In a process of its own, started with a low descriptor limit (as some systems start services)."""
    code = ("import resource\n"
            f"resource.setrlimit(resource.RLIMIT_NOFILE, ({soft}, {hard}))\n"
            "from khrushchev_essays.web.server import waitress_settings\n"
            "s = waitress_settings(8)\n"
            "print(s['connection_limit'], resource.getrlimit(resource.RLIMIT_NOFILE)[0])\n")
    import resource

    if resource.getrlimit(resource.RLIMIT_NOFILE)[1] not in (resource.RLIM_INFINITY,) and \
            resource.getrlimit(resource.RLIMIT_NOFILE)[1] < hard:
        pytest.skip(f"this machine's hard descriptor limit is under {hard}")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    connections, opened = map(int, out.split())
    assert connections == limit and opened == min(hard, 1000 + 8 + 64)


# --- several workers ------------------------------------------------------------------------------------

@contextmanager
def redis_server(tmp: Path):
    """A real Redis server (Debian's redis-server, see scripts/ensure-redis.sh) on a free loopback
    port, nothing saved to disk; yields (its URL, its process)."""
    binary = shutil.which("redis-server") or ("/usr/bin/redis-server" if os.access("/usr/bin/redis-server", os.X_OK) else None)
    if binary is None:
        pytest.skip("redis-server is not installed (run scripts/ensure-redis.sh as root, or apt-get install redis-server)")
    import redis

    port = free_port()
    proc = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                             "--dir", str(tmp)], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail("redis-server did not start")
                time.sleep(0.1)
        yield url, proc
    finally:
        client.close()
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory):
    with redis_server(tmp_path_factory.mktemp("redis")) as (url, _):
        yield url


def served_by(access_log: Path, path: str) -> dict[str, int]:
    """How many requests for `path` each worker (by pid) answered, from the access log."""
    counts: dict[str, int] = {}
    for line in access_log.read_text().splitlines():
        m = re.search(r'"[A-Z]+ (\S+) HTTP/[\d.]+" \d+ .* pid=<?(\d+)>?', line)
        if m and m.group(1).split("?")[0] == path:
            counts[m.group(2)] = counts.get(m.group(2), 0) + 1
    return counts


def test_two_workers_share_one_rate_limit_through_redis(tmp_path, redis_url):
    log = tmp_path / "access.log"
    limit, sent = 10, 48
    with serving(tmp_path, "--workers", "2", "--threads", "4", "--access-log", str(log),
                 KHRUSHCHEV_RATELIMIT_STORAGE_URI=redis_url, KHRUSHCHEV_API_RATE_LIMIT=f"{limit} per minute",
                 KHRUSHCHEV_PROXY_FIX_X_FOR="1", KHRUSHCHEV_PROXY_FIX_X_PROTO="1") as (url, _):
        client = {"X-Forwarded-For": "203.0.113.7"}
        with ThreadPoolExecutor(max_workers=8) as pool:
            results = list(pool.map(lambda _: score_api(url, client), range(sent)))
        statuses = [status for status, _ in results]
        # Both workers answered, yet the limit held for the pair: with counts in each worker's
        # memory, each would have let `limit` through.
        workers = served_by(log, "/api/v1/score")
        assert len(workers) == 2, f"one worker took every request, so the test shows nothing: {workers}"
        assert statuses.count(200) == limit and statuses.count(429) == sent - limit
        assert all(int(h["Retry-After"]) > 0 for s, h in results if s == 429)
        # ProxyFix: another address behind the same proxy has its own allowance, and the proxy's
        # https shows in the answer (HSTS is sent only on secure requests).
        status, headers = score_api(url, {"X-Forwarded-For": "203.0.113.8", "X-Forwarded-Proto": "https"})
        assert status == 200 and headers.get("Strict-Transport-Security") == "max-age=31536000"
        assert "Strict-Transport-Security" not in fresh_get(url + "/", headers=client)[1]


def test_two_workers_accept_each_others_sessions_and_csrf_tokens(tmp_path, redis_url):
    log = tmp_path / "access.log"
    with serving(tmp_path, "--workers", "2", "--threads", "4", "--access-log", str(log),
                 KHRUSHCHEV_RATELIMIT_STORAGE_URI=redis_url) as (url, db_url):
        subprocess.run([sys.executable, "-m", "khrushchev_essays.cli", "create-teacher", TEACHER_EMAIL, "--password-stdin"],
                       input=TEACHER_PASSWORD + "\n", text=True, cwd=ROOT, check=True, capture_output=True,
                       env={**os.environ, "DATABASE_URL": db_url, "SECRET_KEY": "serving-test-secret"})

        def signed_in_session() -> urllib.request.OpenerDirector:
            jar = http.cookiejar.CookieJar()
            opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
            form = opener.open(url + "/teacher/login", timeout=30).read().decode()
            body = urllib.parse.urlencode({"csrf_token": CSRF.search(form).group(1), "email": TEACHER_EMAIL,
                                           "password": TEACHER_PASSWORD}).encode()
            page = opener.open(url + "/teacher/login", data=body, timeout=30)
            assert page.url == url + "/teacher/" and "Submissions" in page.read().decode()
            return opener

        # Each request is a new connection, so the workers take turns at random; every sign-in
        # (form from one worker, post to either) and every page after it must work on both.
        openers = [signed_in_session() for _ in range(4)]
        def dashboard(i: int) -> tuple[str, bool]:
            with openers[i % 4].open(url + "/teacher/", timeout=30) as page:
                return page.url, "Sign out" in page.read().decode()

        with ThreadPoolExecutor(max_workers=8) as pool:
            pages = list(pool.map(dashboard, range(40)))
        assert pages == [(url + "/teacher/", True)] * 40
        assert len(served_by(log, "/teacher/")) == 2


def test_forty_essays_at_once_across_two_workers_are_each_stored_once(tmp_path):
    """Exactly-once storage when two processes write to the database at the same time."""
    from conftest import cli_class, query
    from test_live import submit_like_a_browser

    with serving(tmp_path, "--workers", "2", "--threads", "4", "--access-log", str(tmp_path / "access.log"),
                 KHRUSHCHEV_RATELIMIT_ENABLED="false") as (url, db_url):
        code = cli_class(tmp_path / "serve.sqlite", "Load test")  # the server's database (see serving)
        with ThreadPoolExecutor(max_workers=20) as pool:
            results = list(pool.map(lambda n: submit_like_a_browser(url, n, code), range(40)))
        assert [status for status, _ in results] == [303] * 40
        assert len(served_by(tmp_path / "access.log", "/questions/q1")) == 2
    tokens = {location.rsplit("/", 1)[-1] for _, location in results}
    rows = query(db_url, "SELECT token, student_name, text FROM submissions WHERE class_code = :code", code=code)
    assert len(rows) == 40 and {r[0] for r in rows} == tokens
    for _, name, text in rows:
        assert text.endswith(f"essay number {name.split()[-1]} of the load test.")


def test_several_workers_refuse_to_count_rate_limits_in_memory(tmp_path):
    env = {**os.environ, "DATABASE_URL": database_url(tmp_path / "refuse.sqlite"), "SECRET_KEY": "k"}
    env.pop("KHRUSHCHEV_RATELIMIT_STORAGE_URI", None)
    result = subprocess.run([sys.executable, "-m", "khrushchev_essays.cli", "serve", "--workers", "2", "--port",
                             str(free_port())], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert "set KHRUSHCHEV_RATELIMIT_STORAGE_URI to a shared store" in result.stderr


def test_two_apps_on_one_redis_count_together_and_survive_it_going_away(tmp_path):
    """Two app instances (as two worker processes hold) on one store; then the store stops."""
    with redis_server(tmp_path) as (url, proc):
        apps = [make_app(tmp_path / f"{name}.sqlite", RATELIMIT_STORAGE_URI=url, API_RATE_LIMIT="2 per minute")
                for name in ("a", "b")]
        one, two = (app.test_client() for app in apps)
        body = {"question": "q1", "text": ESSAY}
        assert [one.post("/api/v1/score", json=body).status_code for _ in range(2)] == [200, 200]
        assert two.post("/api/v1/score", json=body).status_code == 429  # the other app's requests counted
        proc.terminate()
        proc.wait(timeout=10)
        # Redis gone: marking goes on, each process counting in its own memory until the store is back.
        fresh = make_app(tmp_path / "c.sqlite", RATELIMIT_STORAGE_URI=url, API_RATE_LIMIT="2 per minute").test_client()
        assert [fresh.post("/api/v1/score", json=body).status_code for _ in range(3)] == [200, 200, 429]


def test_the_warm_up_essays_go_through_the_whole_engine(rubrics):
    from khrushchev_essays.scoring import score
    from khrushchev_essays.scoring.engine import warm_up_text

    for qid, rubric in rubrics.items():
        report = score(warm_up_text(rubric), qid)
        assert report.status == "scored" and report.word_count > 250, qid


def referer_a_browser_sends(policy: str, page_url: str, target_url: str) -> str | None:
    """The Referer a browser puts on a request from `page_url` to `target_url` under `policy` (the cases used here)."""
    same_origin = urllib.parse.urlsplit(page_url)[:2] == urllib.parse.urlsplit(target_url)[:2]
    if policy == "no-referrer" or (policy == "same-origin" and not same_origin):
        return None
    if policy == "same-origin":
        return page_url
    raise AssertionError(f"referrer policy {policy!r} is not modelled here")


def test_behind_an_https_proxy_essays_and_sign_ins_go_through(tmp_path):
    """Flask-WTF refuses a form post over HTTPS without a Referer from this site, so the pages'
    own Referrer-Policy decides whether any essay or sign-in gets through behind an HTTPS proxy."""
    app = make_app(tmp_path / "https.sqlite", WTF_CSRF_ENABLED=True, PROXY_FIX_X_PROTO=1, PROXY_FIX_X_HOST=1)
    from conftest import add_teacher

    add_teacher(app)
    client = app.test_client()
    https = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "essays.school.example"}
    for form_url, data, expected in (
        ("https://essays.school.example/questions/q1", {"text": ESSAY}, 303),
        ("https://essays.school.example/teacher/login", {"email": TEACHER_EMAIL, "password": TEACHER_PASSWORD}, 303),
    ):
        page = client.get(urllib.parse.urlsplit(form_url).path, headers=https)
        assert page.status_code == 200 and page.headers["Strict-Transport-Security"]
        token = CSRF.search(page.get_data(as_text=True)).group(1)
        referer = referer_a_browser_sends(page.headers["Referrer-Policy"], form_url, form_url)
        resp = client.post(urllib.parse.urlsplit(form_url).path, data={"csrf_token": token, **data},
                           headers={**https, **({"Referer": referer} if referer else {})})
        assert resp.status_code == expected, (form_url, resp.get_data(as_text=True)[:2000])
    # And the feedback page's address (its token) is never sent to another site.
    assert referer_a_browser_sends(page.headers["Referrer-Policy"], form_url, "https://elsewhere.example/") is None


# --- ProxyFix -------------------------------------------------------------------------------------------

def test_forwarded_headers_are_ignored_unless_proxy_fix_is_configured(tmp_path):
    ESSAY_JSON = {"question": "q1", "text": ESSAY}
    plain = make_app(tmp_path / "plain.sqlite", API_RATE_LIMIT="1 per minute").test_client()
    assert plain.post("/api/v1/score", json=ESSAY_JSON, headers={"X-Forwarded-For": "198.51.100.1"}).status_code == 200
    # Without ProxyFix the header is the client's own claim: changing it buys no new allowance.
    again = plain.post("/api/v1/score", json=ESSAY_JSON, headers={"X-Forwarded-For": "198.51.100.2"})
    assert again.status_code == 429

    proxied = make_app(tmp_path / "proxied.sqlite", API_RATE_LIMIT="1 per minute", PROXY_FIX_X_FOR=1,
                       PROXY_FIX_X_PROTO=1).test_client()
    behind = {"REMOTE_ADDR": "10.0.0.1"}  # the proxy
    assert proxied.post("/api/v1/score", json=ESSAY_JSON, headers={"X-Forwarded-For": "198.51.100.1"},
                        environ_base=behind).status_code == 200
    assert proxied.post("/api/v1/score", json=ESSAY_JSON, headers={"X-Forwarded-For": "198.51.100.1"},
                        environ_base=behind).status_code == 429
    # One proxy trusted: only the address it added counts, not one the client put before it.
    spoofed = proxied.post("/api/v1/score", json=ESSAY_JSON, environ_base=behind,
                           headers={"X-Forwarded-For": "192.0.2.99, 198.51.100.1"})
    assert spoofed.status_code == 429
    other = proxied.post("/api/v1/score", json=ESSAY_JSON, environ_base=behind,
                         headers={"X-Forwarded-For": "198.51.100.2", "X-Forwarded-Proto": "https"})
    assert other.status_code == 200 and other.headers["Strict-Transport-Security"] == "max-age=31536000"


def test_waitress_passes_forwarded_headers_to_proxy_fix(tmp_path):
    with serving(tmp_path, KHRUSHCHEV_API_RATE_LIMIT="1 per minute", KHRUSHCHEV_PROXY_FIX_X_FOR="1",
                 KHRUSHCHEV_PROXY_FIX_X_PROTO="1") as (url, _):
        assert score_api(url, {"X-Forwarded-For": "198.51.100.1"})[0] == 200
        assert score_api(url, {"X-Forwarded-For": "198.51.100.1"})[0] == 429
        status, headers = score_api(url, {"X-Forwarded-For": "198.51.100.2", "X-Forwarded-Proto": "https"})
        assert status == 200 and headers.get("Strict-Transport-Security") == "max-age=31536000"


def test_healthz_is_plain_and_cheap(client):
    resp = client.get("/healthz")
    assert resp.status_code == 200 and resp.get_data() == b"ok\n" and resp.mimetype == "text/plain"


def test_several_workers_default_to_two_threads_each_and_one_process_to_eight(tmp_path):
    """Marking is CPU-bound: several workers each run two threads unless told otherwise (see
    web/server.py for the measurements); one waitress process keeps eight."""
    for workers, how in (("2", "2 gunicorn workers of 2 threads"), ("1", "waitress with 8 threads")):
        with serving(tmp_path, "--workers", workers, KHRUSHCHEV_RATELIMIT_ENABLED="false") as (url, _):
            assert score_api(url)[0] == 200
        logs = "\n".join(p.read_text() for p in tmp_path.glob("serve-*.log"))
        assert how in logs, logs[-2000:]
