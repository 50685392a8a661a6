"""The real server process (`khrushchev-essays serve`: migrations + waitress) under concurrent load."""

from __future__ import annotations

import http.cookiejar
import re
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest
from conftest import cli_class, query, read_fixture, sqlite_only

pytestmark = pytest.mark.slow

CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # surface the 303 so its Location (the feedback token) can be read


def submit_like_a_browser(base: str, n: int, code: str) -> tuple[int, str]:
    """GET the form (session cookie + CSRF token), POST an essay; return (status, Location)."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), _NoRedirect)
    form = opener.open(f"{base}/questions/q1", timeout=60).read().decode()
    token = CSRF.search(form).group(1)
    text = read_fixture("q1_medium.txt") + f"\n\nThis is essay number {n} of the load test."
    body = urllib.parse.urlencode({"csrf_token": token, "text": text, "class_code": code, "student_name": f"Student {n}"})
    try:
        resp = opener.open(f"{base}/questions/q1", data=body.encode(), timeout=120)
        return resp.status, resp.headers.get("Location", "")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers.get("Location", "")


def test_fifty_submissions_at_once_are_all_stored_with_their_own_tokens(live_server):
    code = cli_class(live_server.db_path, "Load test")
    with ThreadPoolExecutor(max_workers=50) as pool:
        results = list(pool.map(lambda n: submit_like_a_browser(live_server.url, n, code), range(50)))
    assert [status for status, _ in results] == [303] * 50
    tokens = [location.rsplit("/", 1)[-1] for _, location in results]
    assert len(set(tokens)) == 50 and all(len(t) >= 32 for t in tokens)

    rows = query(live_server.db_url, "SELECT token, student_name, text FROM submissions WHERE class_code = :code", code=code)
    assert len(rows) == 50
    assert {r[0] for r in rows} == set(tokens)
    for token, name, text in rows:  # each essay landed under its own token, not a neighbour's
        assert text.endswith(f"essay number {name.split()[-1]} of the load test.")
    for token in tokens[:5]:
        assert urllib.request.urlopen(f"{live_server.url}/feedback/{token}", timeout=30).status == 200


@sqlite_only
def test_the_served_database_is_private_to_its_owner(live_server):
    import os
    import stat

    assert stat.S_IMODE(os.stat(live_server.db_path).st_mode) == 0o600
