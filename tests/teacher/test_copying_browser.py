"""The teacher's copying pages in a real browser (Debian's chromium via Playwright) against a live
server: add a source from a file, see it listed, remove it after the confirmation, and open the
similar essays of a class; no script error or CSP violation on the way (the `page` fixture)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from conftest import FIXTURES, ROOT, TEACHER_EMAIL, TEACHER_PASSWORD
from playwright.sync_api import expect

from khrushchev_essays import sources

pytestmark = pytest.mark.browser


def sign_in(page, base: str, db_url: str) -> None:
    env = {**os.environ, "DATABASE_URL": db_url, "SECRET_KEY": "live-test-secret"}
    subprocess.run([sys.executable, "-m", "khrushchev_essays.cli", "create-teacher", TEACHER_EMAIL, "--password-stdin"],
                   input=TEACHER_PASSWORD + "\n", text=True, env=env, cwd=ROOT, check=True, capture_output=True)
    page.goto(f"{base}/teacher/login")
    page.get_by_label("Email").fill(TEACHER_EMAIL)
    page.get_by_label("Password").fill(TEACHER_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Submissions")).to_be_visible()


def test_add_list_and_remove_a_source_then_compare_a_class(page, live_server):
    base = live_server.url
    sign_in(page, base, live_server.db_url)
    page.get_by_role("navigation", name="Teacher").get_by_role("link", name="Sources").click()
    expect(page.get_by_role("heading", name="Sources", exact=True)).to_be_visible()
    expect(page.get_by_text("No sources yet")).to_be_visible()

    page.get_by_label("Source file").set_input_files(str(FIXTURES / "sources" / "virgin_lands_notes.txt"))
    page.get_by_label("Name").fill("Virgin Lands notes")
    page.get_by_role("button", name="Add source").click()
    expect(page.get_by_role("status").filter(has_text="Added “Virgin Lands notes”")).to_be_visible()
    row = page.locator("table.sources-table tbody tr")
    expect(row).to_have_count(1)
    expect(row.first).to_contain_text("virgin_lands_notes.txt")
    assert [e.name for e in sources.list_sources(live_server.instance)] == ["Virgin Lands notes"]

    row.first.get_by_role("link", name="Remove").click()
    expect(page.get_by_role("heading", name="Remove “Virgin Lands notes”?")).to_be_visible()
    page.get_by_role("button", name="Remove the source").click()
    expect(page.get_by_role("status").filter(has_text="Removed “Virgin Lands notes”")).to_be_visible()
    expect(page.get_by_text("No sources yet")).to_be_visible()
    assert sources.list_sources(live_server.instance) == []

    page.get_by_role("link", name="Similar essays").click()
    expect(page.get_by_role("heading", name="Similar essays")).to_be_visible()
    expect(page.get_by_text("No essays have a class code yet")).to_be_visible()
