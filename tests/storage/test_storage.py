"""Storage, configuration and the pieces of the feedback page that need no request."""

from __future__ import annotations

import os
import stat
import subprocess
import sys

import pytest
from conftest import ON_POSTGRES, ROOT, database_url, read_fixture, sqlite_only
from markupsafe import Markup

from khrushchev_essays import config
from khrushchev_essays.scoring import ScoreReport, Span, score
from khrushchev_essays.scoring.report import FactorResult
from khrushchev_essays.storage import Submission, attempt_history, db, get_by_token, save_submission
from khrushchev_essays.web.charts import Point, criterion_bar, progress_chart
from khrushchev_essays.web.highlight import highlight


def test_importing_the_engine_loads_no_web_stack():
    code = "import sys, khrushchev_essays.scoring; print(sorted(m for m in ('flask', 'sqlalchemy') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.strip() == "[]"


# --- configuration -----------------------------------------------------------------------------------

def test_secret_key_is_generated_once_private_and_env_wins(tmp_path, monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    key = config.secret_key(str(tmp_path))
    assert len(key) >= 40 and config.secret_key(str(tmp_path)) == key
    assert stat.S_IMODE(os.stat(tmp_path / "secret_key").st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["secret_key"]  # no temporary file left behind
    monkeypatch.setenv("SECRET_KEY", "from-the-environment")
    assert config.secret_key(str(tmp_path)) == "from-the-environment"


def test_database_url_defaults_to_sqlite_in_the_instance_folder(tmp_path, monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    assert config.database_url(str(tmp_path)) == f"sqlite:///{tmp_path}/khrushchev_essays.sqlite"
    monkeypatch.setenv("DATABASE_URL", "postgres://u:p@db/essays")
    assert config.database_url(str(tmp_path)) == "postgresql+psycopg://u:p@db/essays"
    monkeypatch.setenv("DATABASE_URL", "postgresql://u:p@db/essays")
    assert config.database_url(str(tmp_path)) == "postgresql+psycopg://u:p@db/essays"
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://u:p@db/essays")
    assert config.database_url(str(tmp_path)) == "postgresql+psycopg://u:p@db/essays"


@sqlite_only
def test_sqlite_connections_get_wal_busy_timeout_and_foreign_keys(app):
    with app.app_context():
        with db.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == app.config["SQLITE_BUSY_TIMEOUT_MS"]


def test_the_migrations_match_the_models(app):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    with app.app_context(), db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), db.metadata)
    assert diff == []


# --- saving submissions --------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def q1_report():
    text = read_fixture("q1_medium.txt")
    return text, score(text, "q1")


def test_save_submission_links_attempts_and_finds_by_token(app, q1_report):
    text, report = q1_report
    with app.app_context():
        first = save_submission(text, report, class_code="11B", source="cli", source_ref="essays/kim.txt")
        second = save_submission(text, report, parent=first)
        third = save_submission(text, report, parent=first)  # revising an older attempt still counts on
        assert first.source == "cli" and first.source_ref == "essays/kim.txt"
        assert [s.attempt for s in attempt_history(third)] == [1, 2, 3]
        assert second.root_id == third.root_id == first.id
        assert len({first.token, second.token, third.token}) == 3 and len(first.token) >= 32
        assert get_by_token(second.token).id == second.id
        assert get_by_token("short") is None and get_by_token("x" * 200) is None and get_by_token("") is None


def test_save_submission_refuses_what_it_cannot_show(app, q1_report):
    text, report = q1_report
    with app.app_context():
        with pytest.raises(ValueError, match="only scored"):
            save_submission(text, ScoreReport.failed("x", "empty"))
        with pytest.raises(ValueError, match="unknown source"):
            save_submission(text, report, source="email")
        parent = save_submission(text, report)
        other = ScoreReport.from_dict({**report.to_dict(), "question": "q2"})
        with pytest.raises(ValueError, match="same question"):
            save_submission(text, other, parent=parent)
        assert db.session.query(Submission).count() == 1


def test_flags_are_rows_a_teacher_can_filter_on(app, q1_report):
    text, report = q1_report
    flagged = ScoreReport.from_dict({**report.to_dict(), "flags": ["too_short", "needs_review", "too_short"]})
    with app.app_context():
        sub = save_submission(text, flagged)
        db.session.expire_all()
        assert db.session.get(Submission, sub.id).flags == ["too_short", "needs_review"]
        from khrushchev_essays.storage import SubmissionFlag

        assert db.session.query(Submission).join(Submission.flag_rows).filter(SubmissionFlag.flag == "needs_review").count() == 1


# --- highlighting and charts ----------------------------------------------------------------------------

def visible_essay(html: str) -> str:
    """The essay's own text in highlighted HTML: entities decoded, the numbered tags left out."""
    from html.parser import HTMLParser

    class Text(HTMLParser):
        def __init__(self):
            super().__init__(convert_charrefs=True)
            self.out, self.depth = [], 0

        def handle_starttag(self, tag, attrs):
            if self.depth or (dict(attrs).get("class") or "").startswith("tag"):
                self.depth += 1

        def handle_endtag(self, tag):
            self.depth = max(self.depth - 1, 0)

        def handle_data(self, data):
            if not self.depth:
                self.out.append(data)

    parser = Text()
    parser.feed(html)
    return "".join(parser.out)


def _report(factors=(), inaccuracies=()):
    return ScoreReport(source="t", question="q1", factors=list(factors), inaccuracies=list(inaccuracies))


def test_highlight_escapes_every_piece_including_inside_marks():
    text = 'Start <script>alert(1)</script> and <img src=x onerror="alert(2)"> end'
    s = text.index("<script>")
    e = text.index(">", text.index("<img")) + 1
    rep = _report(
        [FactorResult("f", "Factor <b>bold</b>", "developed", [Span(s, e, text[s:e])])],
        [Span(text.index("<img"), e, "", "inaccuracy", 'wrong "date" <i>')],
    )
    out = highlight(text, rep)
    html = str(out.html)
    assert isinstance(out.html, Markup)
    assert "<script>" not in html and "<img" not in html and "<b>" not in html and "<i>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "onerror=&#34;alert(2)&#34;" in html
    assert 'title="Factor 1: Factor &lt;b&gt;bold&lt;/b&gt;; Inaccuracy: wrong &#34;date&#34; &lt;i&gt;"' in html
    assert out.notes[0]["note"] == 'wrong "date" <i>'  # escaped by the template, not twice


def test_highlight_handles_overlaps_and_bad_offsets_without_losing_text():
    text = "Alpha beta gamma delta"
    rep = _report(
        [
            FactorResult("a", "A", "developed", [Span(0, 10, "Alpha beta"), Span(0, 10, "dup"), Span(50, 60, "gone")]),
            FactorResult("b", "B", "mentioned", [Span(6, 16, "beta gamma"), Span(-5, 0, "empty")]),
        ],
        [Span(11, 99, "gamma delta", "inaccuracy", None)],
    )
    out = highlight(text, rep)
    assert visible_essay(str(out.html)) == text
    assert 'class="hl f2 hl-overlap"' not in str(out.html)  # the first factor's colour leads
    assert 'class="hl f1 hl-overlap"' in str(out.html)  # "beta" is evidence for both
    assert 'class="hl f2 hl-inacc"' in str(out.html)  # "gamma": factor 2 and a wrong fact
    assert 'class="hl hl-inacc"' in str(out.html)  # " delta": the wrong fact alone
    assert [(i["number"], i["count"]) for i in out.legend] == [(1, 1), (2, 1)]
    assert out.notes[0]["text"] == "gamma delta"


def test_highlight_without_spans_is_the_escaped_text():
    out = highlight("a < b & c", _report())
    assert str(out.html) == "a &lt; b &amp; c" and out.legend == [] and out.notes == []


def test_highlight_keeps_a_real_essay_intact(q1_report):
    text, report = q1_report
    out = highlight(text, report)
    assert visible_essay(str(out.html)) == text
    assert len(out.legend) == sum(1 for f in report.factors if f.evidence)


def test_charts_carry_text_alternatives():
    bar = str(criterion_bar("Evidence <b>", 4.5, 6))
    assert 'aria-label="Evidence &lt;b&gt;: 4.5 out of 6"' in bar and "<title>" in bar and 'width="75.0"' in bar
    chart = str(progress_chart([Point(1, 8), Point(2, 13, True)], 25))
    assert 'aria-label="Mark by attempt: attempt 1, 8 out of 25; attempt 2, 13 out of 25"' in chart
    assert chart.count("<circle") == 2 and 'class="dot current"' in chart


@pytest.mark.skipif(not ON_POSTGRES, reason="runs under make test-postgres (a throwaway PostgreSQL cluster)")
def test_postgresql_migrations_go_down_and_up_and_keep_aware_times(tmp_path, monkeypatch):
    """Migrations down to nothing and up again, a submission and its revision, through DATABASE_URL."""
    url = database_url(tmp_path / "pg")
    from flask_migrate import downgrade, upgrade

    from khrushchev_essays import create_app

    monkeypatch.setenv("DATABASE_URL", url)
    app = create_app({"TESTING": True, "SECRET_KEY": "t", "WTF_CSRF_ENABLED": False})
    with app.app_context():
        downgrade(revision="base")
        upgrade()
    client = app.test_client()
    first = client.post("/questions/q1", data={"text": read_fixture("q1_medium.txt")}).headers["Location"]
    second = client.post(f"{first}/revise", data={"text": read_fixture("q1_strong.txt")}).headers["Location"]
    assert client.get(second).status_code == 200
    with app.app_context():
        subs = db.session.query(Submission).order_by(Submission.id).all()
        assert [s.attempt for s in subs] == [1, 2] and subs[1].root_id == subs[0].id
        assert subs[0].created_at.tzinfo is not None and isinstance(subs[0].report, dict)
