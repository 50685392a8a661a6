"""A teacher makes a class in a real browser and a student joins it with the code (Debian's chromium
via Playwright, against a live server)."""

from __future__ import annotations

import re

import pytest
from conftest import ROOT, TEACHER_EMAIL, TEACHER_PASSWORD, cli, read_fixture
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

ARTIFACTS = ROOT / "test-artifacts"


def test_a_teacher_makes_a_class_and_a_student_joins_it_with_the_code(page, live_server):
    base = live_server.url
    cli(live_server.db_path, "create-teacher", "head@school.example", "--password-stdin", stdin=TEACHER_PASSWORD + "\n")
    cli(live_server.db_path, "create-teacher", TEACHER_EMAIL, "--name", "Ms Teacher", "--password-stdin",
        stdin=TEACHER_PASSWORD + "\n")

    page.goto(f"{base}/teacher/login")
    page.get_by_label("Email").fill(TEACHER_EMAIL)
    page.get_by_label("Password").fill(TEACHER_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("link", name="Classes").click()
    expect(page.get_by_text("You have no classes yet")).to_be_visible()
    page.get_by_label("Class name").fill("13H History")
    page.get_by_role("button", name="Make the class").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("13H History")
    spaced = page.locator("#join-code").inner_text().strip()
    assert re.fullmatch(r"[A-Z0-9]{3} [A-Z0-9]{3}", spaced)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "teacher-class.png"), full_page=True)

    student = page.context.browser.new_context().new_page()
    student.goto(f"{base}/questions/q1")
    student.get_by_label("Your name").fill("Olga Joiner")
    student.get_by_label("Your essay").fill(read_fixture("q1_medium.txt"))
    student.get_by_label("Class code").fill("QQQ QQQ")  # a typo: refused, with the essay kept
    student.get_by_role("button", name="Submit for feedback").click()
    expect(student.locator(".error").first).to_contain_text("No class has the code QQQ QQQ")
    expect(student.get_by_label("Your essay")).to_have_value(re.compile(r"^" + re.escape(read_fixture("q1_medium.txt")[:40])))
    expect(student.get_by_role("link", name=re.compile("What is kept"))).to_be_visible()
    student.get_by_label("Class code").fill(spaced.lower())
    student.get_by_role("button", name="Submit for feedback").click()
    student.wait_for_url(re.compile(r"/feedback/[A-Za-z0-9_-]{32,}$"))
    expect(student.locator(".meta")).to_contain_text("Class 13H History")
    student.get_by_role("link", name=re.compile("^Privacy")).click()
    expect(student.get_by_role("heading", level=1)).to_have_text("Your essays and your privacy")
    student.context.close()

    page.get_by_role("link", name="This class’s essays").click()
    rows = page.locator("table.submissions tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Olga Joiner")
    expect(rows.first).to_contain_text("13H History")
    page.screenshot(path=str(ARTIFACTS / "teacher-class-dashboard.png"), full_page=True)
