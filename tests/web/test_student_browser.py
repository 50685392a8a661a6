"""The student's side of issue 13 in a real browser (Debian's chromium through Playwright, a live
server): the device's list of recent feedback on the home page, the copy-link button, the tick
box per factor in the essay's key, and the round trip of a request to look again (student asks,
teacher sees it in the filter, reviews and answers, the student's page leads with the teacher's
word and shows the answer)."""

from __future__ import annotations

import re

import pytest
from conftest import TEACHER_PASSWORD, cli_class, submit_essay
from playwright.sync_api import expect

pytestmark = pytest.mark.browser



submit = submit_essay


def test_recent_feedback_is_listed_on_this_device_and_the_link_can_be_copied(browser, live_server):
    context = browser.new_context(viewport={"width": 390, "height": 860})
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    sent: list[str] = []
    page.on("request", lambda r: sent.append((r.url, r.post_data or "")))
    try:
        page.goto(live_server.url + "/")
        expect(page.locator("#recent")).to_be_hidden()  # nothing yet on this device
        first = submit(page, live_server.url, "q1", "q1_medium.txt")
        first_mark = page.locator(".mark-num").inner_text()
        second = submit(page, live_server.url, "q2", "q2_strong.txt")
        second_mark = page.locator(".mark-num").inner_text()

        # Copy the link: the live region says so, and the clipboard holds this page's address.
        page.get_by_role("button", name="Copy the link to this page").click()
        expect(page.locator("#copy-status")).to_have_text("Link copied")
        assert page.evaluate("() => navigator.clipboard.readText()") == second

        sent.clear()
        page.goto(live_server.url + "/")
        recent = page.locator("#recent-list li")
        expect(recent).to_have_count(2)
        expect(recent.nth(0)).to_contain_text(f"Mark {second_mark}/25")  # newest first
        expect(recent.nth(1)).to_contain_text(f"Mark {first_mark}/25")
        expect(recent.nth(1)).to_contain_text("To what extent did Khrushchev's reforms transform the USSR")
        assert recent.nth(0).locator("a").get_attribute("href") == second.removeprefix(live_server.url)
        # The list lives in localStorage only: nothing the home page sent carries a feedback link.
        assert not [u for u, body in sent if "/feedback/" in u or "/feedback/" in body]
        recent.nth(1).locator("a").click()
        page.wait_for_url(first)

        # Clearing the list leaves nothing on the device.
        page.goto(live_server.url + "/")
        page.get_by_role("button", name="Clear this list from this device").click()
        expect(page.locator("#recent")).to_be_hidden()
        assert page.evaluate("() => localStorage.getItem('khrushchev-essays:recent')") is None
        assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
    finally:
        context.close()
    assert errors == []


def test_each_factor_in_the_key_can_be_hidden_and_shown_again(page, live_server):
    submit(page, live_server.url, "q1", "q1_strong.txt")
    first = page.locator(".legend-factor").first
    number = first.get_attribute("data-factor")
    marks = page.locator(f".essay-text mark[data-factors='{number}']")
    assert marks.count() > 0
    colour = marks.first.evaluate("el => getComputedStyle(el).backgroundColor")
    box = first.locator("input.factor-toggle")
    expect(box).to_be_checked()
    box.uncheck()
    assert marks.first.evaluate("el => getComputedStyle(el).backgroundColor") == "rgba(0, 0, 0, 0)"
    expect(page.locator(f".essay-text .tag[data-factor='{number}']").first).to_be_hidden()
    box.check()
    assert marks.first.evaluate("el => getComputedStyle(el).backgroundColor") == colour


def test_a_request_to_look_again_round_trip_in_the_browser(browser, live_server):
    base = live_server.url
    code = cli_class(live_server.db_path, "13A History", email="look.again@school.example")
    student_ctx = browser.new_context(viewport={"width": 390, "height": 860})
    teacher_ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    student, teacher = student_ctx.new_page(), teacher_ctx.new_page()
    errors: list[str] = []
    for p in (student, teacher):
        p.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        url = submit(student, base, "q1", "q1_medium.txt", "Lev Look-Again", code)
        student.get_by_text("Write your request").click()
        student.get_by_label("What should your teacher look at again?").fill("My last paragraph weighs the factors.")
        student.get_by_role("button", name="Ask my teacher to look again").click()
        expect(student.locator("#look-again")).to_contain_text("They have not answered yet")
        student.set_viewport_size({"width": 320, "height": 700})
        assert student.evaluate("() => document.documentElement.scrollWidth") <= 320
        student.set_viewport_size({"width": 390, "height": 860})

        teacher.goto(f"{base}/teacher/login")
        teacher.get_by_label("Email").fill("look.again@school.example")
        teacher.get_by_label("Password").fill(TEACHER_PASSWORD)
        teacher.get_by_role("button", name="Sign in").click()
        expect(teacher.locator("#asked-count")).to_contain_text("1 student has asked you to look again")
        teacher.locator("#asked-count a").click()
        rows = teacher.locator("table.submissions tbody tr")
        expect(rows).to_have_count(1)
        expect(rows.first).to_contain_text("Lev Look-Again")
        rows.first.locator("a").first.click()
        expect(teacher.locator("#look-again")).to_contain_text("My last paragraph weighs the factors.")
        # A mark and comment first, then the answer.
        teacher.get_by_label("Comment for the student").fill("Fair point: your verdict is there.")
        teacher.get_by_label("I set this mark myself").check()
        teacher.get_by_label("Final mark").fill("15")
        teacher.get_by_role("button", name=re.compile("Save review and stay|Save changes and stay")).click()
        expect(teacher.locator(".marks-compare .teacher")).to_contain_text("15")
        teacher.get_by_label("Your answer to the student").fill("I read it again and raised the mark to 15.")
        teacher.get_by_role("button", name="Send the answer and close the request").click()
        expect(teacher.locator(".flash, .flashes, [role=status]").first).to_be_visible()

        student.goto(url)
        card = student.locator("#teacher-review")
        expect(card).to_contain_text("15/25")
        expect(card).to_contain_text("Fair point: your verdict is there.")
        expect(card).to_contain_text("I read it again and raised the mark to 15.")
        # The teacher's word sits above the automatic report on the page.
        assert card.bounding_box()["y"] < student.locator("#mark").bounding_box()["y"]
        expect(student.locator("#auto-report")).to_have_text("The automatic marker’s report")
        assert student.evaluate("() => document.documentElement.scrollWidth") <= 390
    finally:
        student_ctx.close()
        teacher_ctx.close()
    assert errors == []


@pytest.mark.parametrize("fixture", ["keyword_salad_q1.txt", "q1_strong.txt"])
def test_a_feedback_page_fits_a_320_px_phone(page, live_server, fixture):
    page.set_viewport_size({"width": 320, "height": 700})
    submit(page, live_server.url, "q1", fixture)
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 320
