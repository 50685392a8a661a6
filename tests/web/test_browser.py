"""The student's journey in a real browser: Debian's chromium driven by Playwright, against a live server."""

from __future__ import annotations

import re

import pytest
from conftest import FEEDBACK_URL, ROOT, cli_class, read_fixture
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

ARTIFACTS = ROOT / "test-artifacts"


def write_essay(page, base: str, qid: str, text: str, name: str = "") -> None:
    page.goto(f"{base}/questions/{qid}")
    if name:
        page.get_by_label("Your name").fill(name)
    page.get_by_label("Your essay").fill(text)


def test_write_submit_read_feedback_and_resubmit(page, live_server):
    code = cli_class(live_server.db_path, "12C History")
    first_text = read_fixture("q1_narrative.txt")
    write_essay(page, live_server.url, "q1", first_text, name="Vera")
    page.get_by_label("Class code").fill(code.lower())
    expect(page.locator("#word-count")).to_contain_text(re.compile(r"\d+ words"))
    page.get_by_role("button", name="Submit for feedback").click()
    page.wait_for_url(FEEDBACK_URL)

    expect(page.get_by_role("heading", level=1)).to_contain_text("To what extent")
    expect(page.locator(".mark-max")).to_have_text("/25")
    expect(page.locator(".level-line")).to_contain_text("Level")
    assert page.locator("svg.bar").count() >= 5
    expect(page.locator("#argument .argument-map")).to_contain_text("Not found")
    expect(page.locator(".legend")).to_be_visible()
    assert page.locator(".essay-text mark").count() > 0
    expect(page.locator(".meta")).to_contain_text("Class 12C History")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "feedback-desktop.png"), full_page=True)
    first_url = page.url

    page.get_by_role("link", name="Revise and resubmit").first.click()
    essay_box = page.get_by_label("Your essay")
    expect(essay_box).to_have_value(first_text)
    essay_box.fill(read_fixture("q1_strong.txt"))
    page.get_by_role("button", name="Submit for feedback").click()
    page.wait_for_url(FEEDBACK_URL)
    assert page.url != first_url
    expect(page.locator(".page-head .eyebrow")).to_contain_text("attempt 2")
    expect(page.locator("table.attempts tbody tr")).to_have_count(2)
    expect(page.locator("svg.progress")).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "feedback-attempt-2.png"), full_page=True)


def test_the_draft_survives_a_reload_and_is_cleared_after_submitting(page, live_server):
    text = read_fixture("q2_medium.txt")
    write_essay(page, live_server.url, "q2", text)
    expect(page.locator("#draft-status")).to_contain_text("Draft saved")
    page.reload()
    expect(page.get_by_label("Your essay")).to_have_value(text)
    expect(page.locator("#draft-status")).to_contain_text("Restored your unsaved draft")
    page.get_by_role("button", name="Submit for feedback").click()
    page.wait_for_url(FEEDBACK_URL)
    page.goto(f"{live_server.url}/questions/q2")
    expect(page.get_by_label("Your essay")).to_have_value("")


def test_an_empty_essay_is_refused_with_a_message_in_the_browser(page, live_server):
    write_essay(page, live_server.url, "q1", "   ")
    page.get_by_role("button", name="Submit for feedback").click()
    expect(page.locator("#form-errors")).to_be_focused()
    expect(page.locator("#form-errors")).to_contain_text("The essay is empty")


def test_the_form_works_with_javascript_disabled(browser, live_server):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    try:
        write_essay(page, live_server.url, "q2", read_fixture("q2_strong.txt"), name="No Script")
        expect(page.locator("#word-count")).to_be_hidden()
        page.get_by_role("button", name="Submit for feedback").click()
        page.wait_for_url(FEEDBACK_URL)
        expect(page.locator(".mark-num")).to_have_text(re.compile(r"^\d+$"))
        expect(page.locator(".meta")).to_contain_text("No Script")
        assert page.locator("svg.bar").count() >= 5
    finally:
        context.close()


def test_markup_in_an_essay_shows_as_text_and_runs_nothing(page, live_server):
    script = "<script>window.__x=1</script>"
    img = '<img src=x onerror="window.__y=1">'
    text = f"{script}\n\n{img}\n\n{read_fixture('q1_medium.txt')}"
    write_essay(page, live_server.url, "q1", text, name=img)
    page.get_by_role("button", name="Submit for feedback").click()
    page.wait_for_url(FEEDBACK_URL)
    for url in (page.url, page.url + "/revise"):
        page.goto(url)
        assert page.evaluate("() => [window.__x, window.__y]") == [None, None]
        assert page.locator("main img").count() == 0
        assert page.locator("main script").count() == 0
    page.go_back()
    expect(page.locator(".essay-text")).to_contain_text(script)
    expect(page.locator(".essay-text")).to_contain_text(img)
    expect(page.locator(".meta")).to_contain_text(img)


def test_the_feedback_page_fits_a_phone(page, live_server):
    page.set_viewport_size({"width": 390, "height": 844})
    write_essay(page, live_server.url, "q2", read_fixture("q2_medium.txt"))
    page.get_by_role("button", name="Submit for feedback").click()
    page.wait_for_url(FEEDBACK_URL)
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "feedback-phone.png"), full_page=True)


def test_an_essay_can_be_written_and_sent_with_the_keyboard_alone(page, live_server):
    page.goto(f"{live_server.url}/questions/q1")

    def tab_to(element_id: str) -> None:
        for _ in range(40):
            page.keyboard.press("Tab")
            if page.evaluate("() => document.activeElement.id") == element_id:
                return
        raise AssertionError(f"#{element_id} cannot be reached with Tab")

    tab_to("text")
    page.keyboard.insert_text(read_fixture("q1_medium.txt"))
    tab_to("submit")
    page.keyboard.press("Enter")
    page.wait_for_url(FEEDBACK_URL)
    page.keyboard.press("Tab")  # the first stop on every page is the skip link
    assert page.evaluate("() => document.activeElement.textContent") == "Skip to content"


def test_the_question_page_fits_a_phone(page, live_server):
    page.set_viewport_size({"width": 360, "height": 740})
    for path in ("/", "/questions/q1", "/questions/q2"):
        page.goto(live_server.url + path)
        assert page.evaluate("() => document.documentElement.scrollWidth") <= 360, path
