"""Shared fixtures. One conftest for the whole suite (see DESIGN.md).

The tests mirror the code: tests/scoring/ (the engine), tests/calibration/, tests/inputs/,
tests/batch/, tests/cli/, tests/storage/, tests/web/ (the student's side and serving),
tests/teacher/; the essay fixtures are in tests/fixtures/ and the flag and cap cases in
tests/scoring/cases/.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures"
# A few test modules share helpers with others in another folder (`from test_classes import
# school`): every folder of tests is importable whatever order pytest collects them in.
for _folder in sorted(p for p in Path(__file__).resolve().parent.iterdir() if p.is_dir() and p.name != "fixtures"):
    if str(_folder) not in sys.path:
        sys.path.insert(0, str(_folder))


def calibration_path() -> Path | None:
    """The marked practice essays (../shared/calibration), or None on a clone without them."""
    env = os.environ.get("KHRUSHCHEV_CALIBRATION_DIR")
    p = Path(env) if env else ROOT.parent / "shared" / "calibration"
    return p if (p / "labels.tsv").is_file() else None


@pytest.fixture(scope="session")
def calibration_dir() -> Path:
    p = calibration_path()
    if p is None:
        pytest.skip("marked essays not found (../shared/calibration is absent in a user's clone)")
    return p


@pytest.fixture(scope="session")
def rubrics():
    from khrushchev_essays.scoring import load_all_rubrics

    return load_all_rubrics()


@pytest.fixture(scope="session")
def q1(rubrics):
    return rubrics["q1"]


@pytest.fixture(scope="session")
def q2(rubrics):
    return rubrics["q2"]


def read_fixture(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


def docx_bytes(text: str) -> bytes:
    """A real .docx (python-docx) holding the text, a paragraph per blank-line-separated block."""
    import io

    import docx

    document = docx.Document()
    for para in text.split("\n\n"):
        document.add_paragraph(para)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


# --- the database under test ----------------------------------------------------------------------
# SQLite by default: each test gets its own file. `make test-postgres` runs the same suite against a
# throwaway PostgreSQL cluster (scripts/with-postgres.sh) and sets KHRUSHCHEV_TEST_DATABASE_URL to
# one database in it; each test then gets its own new schema there (a search_path in the URL), so
# tests and xdist workers never see each other's rows.

TEST_DATABASE_URL = os.environ.get("KHRUSHCHEV_TEST_DATABASE_URL", "").strip()
ON_POSTGRES = TEST_DATABASE_URL.startswith("postgres")
_databases: dict[str, str] = {}
_admin = None


def database_url(db_path: Path) -> str:
    """The URL of a fresh, empty database named by `db_path` (the same path, the same database).

    Under SQLite that is the file itself; under PostgreSQL a new schema of the test database.
    """
    key = str(db_path)
    if not ON_POSTGRES:
        return f"sqlite:///{db_path}"
    if key not in _databases:
        import uuid
        from urllib.parse import quote

        global _admin
        if _admin is None:
            import psycopg

            _admin = psycopg.connect(TEST_DATABASE_URL.replace("postgresql+psycopg://", "postgresql://"), autocommit=True)
        schema = f"t_{os.getpid()}_{uuid.uuid4().hex[:12]}"
        _admin.execute(f'CREATE SCHEMA "{schema}"')
        sep = "&" if "?" in TEST_DATABASE_URL else "?"
        _databases[key] = f"{TEST_DATABASE_URL}{sep}options={quote(f'-csearch_path={schema}', safe='')}"
    return _databases[key]


def query(url: str, sql: str, **params) -> list[tuple]:
    """Run one SQL statement on the database at `url` outside any app; return its rows."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            result = conn.execute(text(sql), params)
            return [tuple(row) for row in result] if result.returns_rows else []
    finally:
        engine.dispose()


sqlite_only = pytest.mark.skipif(ON_POSTGRES, reason="checks a property of SQLite files (this run is on PostgreSQL)")

_apps: list = []


@pytest.fixture(autouse=True)
def _close_databases():
    """After each test, close the connection pools of the apps it made (PostgreSQL counts connections)."""
    yield
    while _apps:
        app = _apps.pop()
        from khrushchev_essays.storage import db

        with app.app_context():
            db.engine.dispose()


# --- web app (issue 3) -----------------------------------------------------------------------------
# Each test gets its own migrated database, and each live server its own port, so the suite
# runs in parallel under xdist.

CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


def make_app(db_path: Path, **config):
    """A web app on its own database (see database_url), with the migrations applied (CSRF off unless asked)."""
    from flask_migrate import upgrade

    from khrushchev_essays import create_app

    app = create_app(
        {"TESTING": True, "SECRET_KEY": "test-secret", "WTF_CSRF_ENABLED": False,
         "SQLALCHEMY_DATABASE_URI": database_url(db_path), **config}
    )
    _apps.append(app)
    with app.app_context():
        upgrade()
    return app


@pytest.fixture(autouse=True)
def private_instance(tmp_path_factory, monkeypatch):
    """Every test gets an instance folder of its own (database, secret key, registered sources), never
    the developer's instance/: what a test sees cannot depend on what was run on this machine."""
    path = tmp_path_factory.mktemp("instance")
    monkeypatch.setenv("KHRUSHCHEV_INSTANCE_PATH", str(path))
    return path


@pytest.fixture
def app(tmp_path):
    return make_app(tmp_path / "web.sqlite")


@pytest.fixture
def client(app):
    return app.test_client()


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def live_server(tmp_path_factory):
    """`khrushchev-essays serve` in its own process (migrations + waitress), on a free port and a fresh database."""
    import subprocess
    import sys
    import time
    import urllib.request
    from types import SimpleNamespace

    tmp = tmp_path_factory.mktemp("live")
    db_path, port = tmp / "live.sqlite", free_port()
    db_url = database_url(db_path)
    env = {**os.environ, "DATABASE_URL": db_url, "SECRET_KEY": "live-test-secret",
           "KHRUSHCHEV_INSTANCE_PATH": str(tmp / "instance")}
    log = open(tmp / "server.log", "w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "khrushchev_essays.cli", "serve", "--port", str(port), "--threads", "8"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while True:
        try:
            urllib.request.urlopen(url + "/", timeout=2).read()
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail(f"the server did not start:\n{(tmp / 'server.log').read_text()}")
            time.sleep(0.3)
    yield SimpleNamespace(url=url, db_path=db_path, db_url=db_url, proc=proc, instance=tmp / "instance")
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


def chromium_path() -> str | None:
    """Debian's chromium (installed by scripts/ensure-chromium.sh), or $CHROMIUM_PATH."""
    for candidate in (os.environ.get("CHROMIUM_PATH"), "/usr/bin/chromium", "/usr/bin/chromium-browser"):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


@pytest.fixture(scope="session")
def browser():
    """Headless Chromium driven by Playwright. Each launch gets a fresh temporary user-data-dir."""
    path = chromium_path()
    if path is None:
        pytest.skip("chromium is not installed (run scripts/ensure-chromium.sh)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    """A fresh browser context per test; any script error or CSP violation fails the test."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
    # A 4xx answer logs "Failed to load resource": expected where a test submits bad input.
    page.on("console", lambda msg: problems.append(msg.text)
            if msg.type == "error" and not msg.text.startswith("Failed to load resource") else None)
    yield page
    context.close()
    assert problems == []


# --- teacher side (issue 4) ---------------------------------------------------------------------------

TEACHER_EMAIL, TEACHER_PASSWORD = "teacher@school.example", "correct horse battery"


def add_teacher(app, email: str = TEACHER_EMAIL, password: str = TEACHER_PASSWORD, name: str | None = "Ms Teacher") -> int:
    """Create a teacher account in the app's database; return its id."""
    from khrushchev_essays.storage.accounts import create_teacher

    with app.app_context():
        return create_teacher(email, password, name=name).id


def sign_in(client, email: str = TEACHER_EMAIL, password: str = TEACHER_PASSWORD, **extra):
    return client.post("/teacher/login", data={"email": email, "password": password, **extra})


@pytest.fixture
def teacher_client(app):
    """A test client signed in as a teacher."""
    add_teacher(app)
    client = app.test_client()
    assert sign_in(client).status_code == 303
    return client


@pytest.fixture(scope="session")
def scored_fixture():
    """`scored_fixture(name)` -> (text, report) for a tests/fixtures essay, scored once per session."""
    from khrushchev_essays.scoring import score

    cache: dict[str, tuple] = {}

    def get(name: str, question: str = "auto"):
        if name not in cache:
            text = read_fixture(name)
            cache[name] = (text, score(text, question))
        return cache[name]

    return get


# --- classes (issue 12) -------------------------------------------------------------------------------

def add_class(app, name: str = "12C History", email: str = TEACHER_EMAIL, password: str = TEACHER_PASSWORD,
              teacher_name: str | None = "Ms Teacher") -> str:
    """A class taught by the account `email` (made if it does not exist yet); its join code."""
    from khrushchev_essays.storage.accounts import create_teacher, find_teacher
    from khrushchev_essays.storage.classes import create_class

    with app.app_context():
        teacher = find_teacher(email) or create_teacher(email, password, name=teacher_name)
        return create_class(name, [teacher]).join_code


def cli(db_path, *args: str, stdin: str | None = None) -> str:
    """Run `khrushchev-essays ARGS` as its own process on the database at `db_path`; its standard output."""
    import subprocess
    import sys

    env = {**os.environ, "DATABASE_URL": database_url(db_path), "SECRET_KEY": "live-test-secret"}
    done = subprocess.run([sys.executable, "-m", "khrushchev_essays.cli", *args], input=stdin, text=True, env=env,
                          cwd=ROOT, capture_output=True)
    assert done.returncode == 0, done.stderr
    return done.stdout


def cli_class(db_path, name: str, email: str = TEACHER_EMAIL, password: str = TEACHER_PASSWORD,
              teacher_name: str = "Ms Teacher") -> str:
    """A class made from the command line (and its teacher, if new) on a live server's database; its join code."""
    if email not in cli(db_path, "teachers", "list"):
        cli(db_path, "create-teacher", email, "--name", teacher_name, "--password-stdin", stdin=password + "\n")
    return cli(db_path, "classes", "add", name, "--teacher", email).strip()


# --- the browser tests' student ---------------------------------------------------------------------
FEEDBACK_URL = re.compile(r"/feedback/[A-Za-z0-9_-]{32,}$")


def submit_essay(page, base: str, qid: str, fixture: str, name: str = "", code: str = "") -> str:
    """Send an essay fixture through the essay form in a browser page, as a student; the URL of
    its feedback page."""
    page.goto(f"{base}/questions/{qid}")
    if name:
        page.get_by_label("Your name").fill(name)
    if code:
        page.get_by_label("Class code").fill(code)
    page.get_by_label("Your essay").fill(read_fixture(fixture))
    page.get_by_role("button", name="Submit for feedback").click()
    page.wait_for_url(FEEDBACK_URL)
    return page.url
