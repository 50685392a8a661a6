"""The teacher's journey in a real browser (Debian's chromium via Playwright) against a live server:
sign in, filter, open an essay, override a mark with a comment, see it on the student's feedback
page, export."""

from __future__ import annotations

import csv
import io
import os
import re
import subprocess
import sys

import pytest
from conftest import ROOT, TEACHER_EMAIL, TEACHER_PASSWORD, cli_class, submit_essay
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

ARTIFACTS = ROOT / "test-artifacts"


def create_teacher(db_url: str) -> None:
    env = {**os.environ, "DATABASE_URL": db_url, "SECRET_KEY": "live-test-secret"}
    subprocess.run([sys.executable, "-m", "khrushchev_essays.cli", "create-teacher", TEACHER_EMAIL, "--name", "Ms Teacher",
                    "--password-stdin"], input=TEACHER_PASSWORD + "\n", text=True, env=env, cwd=ROOT, check=True,
                   capture_output=True)


def submit_as_student(page, base, qid, fixture, name, class_code) -> str:
    return submit_essay(page, base, qid, fixture, name, class_code)


def test_sign_in_filter_review_override_and_export(page, live_server):
    base = live_server.url
    create_teacher(live_server.db_url)
    code_b, code_z = cli_class(live_server.db_path, "12B"), cli_class(live_server.db_path, "11Z")
    feedback_url = submit_as_student(page, base, "q1", "q1_medium.txt", "Nadia Browser", code_b)
    submit_as_student(page, base, "q2", "q2_medium.txt", "Someone Else", code_z)

    page.goto(f"{base}/teacher/")
    expect(page).to_have_url(re.compile(r"/teacher/login\?next="))
    page.get_by_label("Email").fill(TEACHER_EMAIL)
    page.get_by_label("Password").fill(TEACHER_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Submissions")).to_be_visible()

    page.get_by_label("Class").select_option(code_b)
    page.get_by_role("button", name="Apply filters").click()
    rows = page.locator("table.submissions tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Nadia Browser")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "teacher-dashboard.png"), full_page=True)

    page.get_by_role("link", name="Nadia Browser").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Nadia Browser")
    assert page.locator(".essay-text mark").count() > 0
    auto_mark = int(page.locator(".marks-compare .big").first.inner_text())
    new_mark = 20 if auto_mark != 20 else 19
    page.get_by_label("Final mark").fill(str(new_mark))
    page.get_by_label("Comment for the student").fill("A clear argument. <b>Now</b> weigh the economy against politics.")
    page.get_by_role("button", name="Save review").click()
    expect(page.locator(".alert-ok")).to_contain_text("Review saved")
    expect(page.locator("#history")).to_contain_text(f"Final mark: {auto_mark} → {new_mark}")
    page.screenshot(path=str(ARTIFACTS / "teacher-review.png"), full_page=True)

    # Bad input is refused with a message, and the saved review stands.
    page.get_by_label("Final mark").fill("30")
    page.get_by_role("button", name="Save changes").click()
    expect(page.locator("#form-errors")).to_contain_text("from 0 to 25")

    student = page.context.new_page()
    student.goto(feedback_url)
    expect(student.locator("#teacher-review")).to_contain_text("Your teacher’s mark")
    expect(student.locator("#teacher-review .teacher-mark")).to_have_text(str(new_mark))
    expect(student.locator("#teacher-review")).to_contain_text("<b>Now</b> weigh the economy")
    expect(student.locator(".mark-card .mark-num")).to_have_text(str(auto_mark))
    student.screenshot(path=str(ARTIFACTS / "feedback-with-teacher-review.png"), full_page=True)
    student.close()

    page.get_by_role("link", name="Submissions").first.click()
    page.get_by_label("Class").select_option(code_b)
    page.get_by_role("button", name="Apply filters").click()
    with page.expect_download() as download:
        page.get_by_role("link", name="CSV").click()
    text = download.value.path().read_bytes().decode("utf-8-sig")
    (row,) = list(csv.DictReader(io.StringIO(text, newline="")))
    assert (row["student"], row["class_code"], row["teacher_mark"], row["auto_mark"]) == (
        "Nadia Browser", code_b, str(new_mark), str(auto_mark))

    page.goto(f"{base}/teacher/analytics")
    expect(page.locator("svg.dist").first).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "teacher-analytics.png"), full_page=True)
    page.get_by_role("button", name="Sign out").click()
    expect(page.locator(".alert-ok")).to_contain_text("signed out")
    page.goto(f"{base}/teacher/")
    expect(page).to_have_url(re.compile(r"/teacher/login"))
