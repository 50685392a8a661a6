"""Default settings for the web app.

Precedence, lowest first: these defaults, then `instance/config.py`, then environment variables
(`SECRET_KEY`, `DATABASE_URL`, and any `KHRUSHCHEV_<SETTING>`, e.g. `KHRUSHCHEV_SESSION_COOKIE_SECURE=true`),
then the `test_config` mapping passed to `create_app`.
"""

from __future__ import annotations

import os
import secrets
from functools import lru_cache
from pathlib import Path

# A form body bigger than this is refused with a 413 page before any parsing. It sits well above
# the engine's 60,000-character limit (a long essay in non-Latin script, URL-encoded, can take
# six bytes per character), so an essay that is merely too long gets a message on the form instead.
MAX_BODY_BYTES = 512 * 1024

MAX_CONTENT_LENGTH = MAX_BODY_BYTES
MAX_FORM_MEMORY_SIZE = MAX_BODY_BYTES

SQLALCHEMY_TRACK_MODIFICATIONS = False
SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
# SQLite waits this long (ms) for another writer instead of failing with "database is locked".
SQLITE_BUSY_TIMEOUT_MS = 10_000

# Behind a reverse proxy (nginx, Caddy, a load balancer), how many proxies in front of the app set
# each X-Forwarded-* header (werkzeug's ProxyFix). 0 ignores the header, right when clients reach
# the server directly: trusting a header nobody strips would let anyone pick their own address.
# With one proxy, KHRUSHCHEV_PROXY_FIX_X_FOR=1 (the rate limits and the sign-in throttle then see
# the student's address, not the proxy's) and KHRUSHCHEV_PROXY_FIX_X_PROTO=1 (https links).
PROXY_FIX_X_FOR = 0
PROXY_FIX_X_PROTO = 0
PROXY_FIX_X_HOST = 0
PROXY_FIX_X_PORT = 0
PROXY_FIX_X_PREFIX = 0

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
# Off by default because `make run` serves plain HTTP on localhost; set
# KHRUSHCHEV_SESSION_COOKIE_SECURE=true behind HTTPS (the browser then sends the cookie over HTTPS only).
SESSION_COOKIE_SECURE = False

# Marking requests allowed per client address (see web/limits.py). A class behind one school
# address submits together, so these are generous; they stop floods, not students.
ESSAY_RATE_LIMIT = "120 per minute"
API_RATE_LIMIT = "60 per minute"
# Students asking their teacher to look again at a mark (one open request per essay anyway).
LOOK_AGAIN_RATE_LIMIT = "30 per minute"
RATELIMIT_STORAGE_URI = "memory://"
# If the shared store (Redis) stops answering, count in this process's memory until it is back,
# rather than answering every student with a 500.
RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
RATELIMIT_HEADERS_ENABLED = True

# A teacher who leaves a school computer signed in is signed out after this long without a
# request; the next page asks them to sign in again and returns them where they were.
TEACHER_IDLE_MINUTES = 60

WTF_CSRF_ENABLED = True
# Writing an essay takes 45 minutes or more: a one-hour token (Flask-WTF's default) would expire
# under a slow writer and lose the submission. Tokens stay tied to the browser session.
WTF_CSRF_TIME_LIMIT = 12 * 3600
WTF_CSRF_SSL_STRICT = True

# Static files are small and change only with a release; let browsers keep them for an hour.
SEND_FILE_MAX_AGE_DEFAULT = 3600

# The host names this site answers to (KHRUSHCHEV_TRUSTED_HOSTS="essays.school.example,localhost";
# ".school.example" allows every subdomain). A request with any other Host header gets a 400
# before a view runs. Unset, every host is answered; redirects never carry the Host header either
# way (web/security.py makes them relative).
TRUSTED_HOSTS = None

# The address students reach this site at (KHRUSHCHEV_PUBLIC_URL="https://essays.school.example"),
# for the feedback links a teacher exports or prints: a link made on a teacher's laptop at
# http://localhost must still open on a student's phone. Unset, links use the address the
# teacher's request came in on (the Host header, checked against TRUSTED_HOSTS when that is set).
PUBLIC_URL = None


# The school's time zone (an IANA name, KHRUSHCHEV_TIMEZONE="Europe/Paris"): every time the pages
# show is in it, with its abbreviation (GMT or BST in London). Times are stored in UTC.
TIMEZONE = "Europe/London"


def timezone_setting(value: object):
    """TIMEZONE as a ZoneInfo; an unknown name stops the app with a message naming the setting."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    name = str(value or "").strip() or "Europe/London"
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise RuntimeError(f"KHRUSHCHEV_TIMEZONE={name!r} is not a time zone; use a name such as Europe/London") from exc


def public_url(value: object) -> str | None:
    """PUBLIC_URL as "scheme://host[:port][/prefix]" without a trailing slash, or None when unset;
    anything else (no scheme, a query, another scheme) stops the app with a message naming the setting."""
    from urllib.parse import urlsplit

    text = str(value or "").strip()
    if not text:
        return None
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment or parts.username:
        raise RuntimeError(f"KHRUSHCHEV_PUBLIC_URL={text!r} is not a web address; use one such as https://essays.school.example")
    return f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}"


def trusted_hosts(value: object) -> list[str] | None:
    """TRUSTED_HOSTS as Flask wants it: a list of host names, or None for any host.

    From the environment it is a string, comma- or space-separated (a JSON list works too, as
    Flask's prefixed-environment loading parses it).
    """
    if value is None:
        return None
    hosts = value.replace(",", " ").split() if isinstance(value, str) else [str(h).strip() for h in value]
    return [h for h in hosts if h] or None


def instance_path_override() -> str | None:
    """`KHRUSHCHEV_INSTANCE_PATH` made absolute, or None for Flask's default instance folder.

    The instance folder holds the SQLite database, the secret key and the registered sources; the
    web app and every CLI command use the same one.
    """
    env = os.environ.get("KHRUSHCHEV_INSTANCE_PATH", "").strip()
    return os.path.abspath(env) if env else None


def instance_path() -> str:
    """The instance folder the web app uses (without building the app, or importing Flask)."""
    return instance_path_override() or default_instance_path()


@lru_cache(maxsize=1)  # a function of where the package and the interpreter are: asked at every score
def default_instance_path() -> str:
    """Flask's default instance folder for this package, found by Flask's own rule without importing
    Flask (the engine looks here for retrained calibrators): `instance/` beside the package in a
    source checkout, `<prefix>/var/khrushchev_essays-instance` when installed (a venv or the system).
    A test checks it against Flask("khrushchev_essays").instance_path."""
    import sys

    package_path = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    prefix = os.path.abspath(sys.prefix)
    if Path(package_path).is_relative_to(prefix):
        return os.path.join(prefix, "var", "khrushchev_essays-instance")
    site_parent, site_folder = os.path.split(package_path)
    if site_folder.lower() == "site-packages":
        parent, folder = os.path.split(site_parent)
        if folder.lower() == "lib":
            root = parent
        elif os.path.basename(parent).lower() == "lib":
            root = os.path.dirname(parent)
        else:
            root = site_parent
        return os.path.join(root, "var", "khrushchev_essays-instance")
    return os.path.join(package_path, "instance")


def database_url(instance_path: str) -> str:
    """`DATABASE_URL` from the environment, else the SQLite file in the instance folder.

    `postgres://` and `postgresql://` URLs (as hosting platforms hand them out) are pointed at the
    psycopg 3 driver (`pip install -e '.[postgres]'`); a URL that names its driver is kept as it is.
    """
    url = os.environ.get("DATABASE_URL", "").strip()
    if not url:
        return "sqlite:///" + str(Path(instance_path) / "khrushchev_essays.sqlite")
    for scheme in ("postgres://", "postgresql://"):
        if url.startswith(scheme):
            return "postgresql+psycopg://" + url.removeprefix(scheme)
    return url


def private_folder(path: str) -> None:
    """Create the instance folder readable by its owner only (0700), or tighten one we own.

    It holds the database (students' names, essays, password hashes) and the secret key; every
    entry point (serve, create-teacher, teachers, classes, purge, grade --store, train --from-db)
    comes through here (create_app).
    """
    os.makedirs(path, mode=0o700, exist_ok=True)
    info = os.stat(path)
    if hasattr(os, "getuid") and info.st_uid == os.getuid() and info.st_mode & 0o077:
        os.chmod(path, 0o700)


def secret_key(instance_path: str) -> str:
    """`SECRET_KEY` from the environment, else a key generated once into instance/secret_key (0600).

    Generating it once, rather than per start, keeps students' sessions (and their CSRF tokens)
    valid across restarts; the file is created with O_EXCL so two workers starting together agree.
    """
    env = os.environ.get("SECRET_KEY", "").strip()
    if env:
        return env
    path = Path(instance_path) / "secret_key"
    if not path.exists():
        # Write to a private temporary file, then hard-link it into place: the link either
        # appears complete or fails because another process won the race, never half-written.
        tmp = path.with_name(f".secret_key.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(secrets.token_urlsafe(48) + "\n")
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    key = path.read_text(encoding="ascii").strip()
    if not key:
        raise RuntimeError(f"{path} is empty: delete it to have a new key generated")
    return key

# Essays (with their marks and reviews) older than this are deleted by `khrushchev-essays purge`
# (run it daily from cron); the privacy page states it. KHRUSHCHEV_RETENTION_DAYS to change.
RETENTION_DAYS = 400
