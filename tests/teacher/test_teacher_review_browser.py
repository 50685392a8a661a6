"""Reviewing with the keyboard only in a real browser (Debian's chromium via Playwright) against a
live server: three essays of a filtered class reviewed with j, k, a and s; keys never fire while
typing; the final mark follows a criterion mark as it is typed; the essay and the automatic report
both on screen at 1280 px (screenshot in test-artifacts/)."""

from __future__ import annotations

import re

import pytest
from conftest import ROOT, TEACHER_EMAIL, TEACHER_PASSWORD, cli_class, submit_essay
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

ARTIFACTS = ROOT / "test-artifacts"
ESSAY_URL = re.compile(r"/teacher/submissions/(\d+)\?")


def submit(page, base, fixture, name, code) -> None:
    submit_essay(page, base, "q1", fixture, name, code)


def essay_id(page) -> int:
    return int(ESSAY_URL.search(page.url).group(1))


def test_three_essays_reviewed_with_the_keyboard_only(page, live_server):
    base = live_server.url
    code = cli_class(live_server.db_path, "12K History")
    other = cli_class(live_server.db_path, "12L History")
    for fixture, name in (("q1_strong.txt", "Alla Keys"), ("q1_medium.txt", "Boris Keys"), ("q1_narrative.txt", "Dina Keys")):
        submit(page, base, fixture, name, code)
    submit(page, base, "q1_medium.txt", "Not In The Filter", other)

    page.goto(f"{base}/teacher/login")
    page.get_by_label("Email").fill(TEACHER_EMAIL)
    page.get_by_label("Password").fill(TEACHER_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.goto(f"{base}/teacher/?class={code}&sort=student&order=asc")
    expect(page.locator("table.submissions tbody tr")).to_have_count(3)
    # The list's order (an essay the marker is unsure of comes first, then by name).
    one, two, three = [t.strip() for t in page.locator("table.submissions tbody th a").all_inner_texts()]
    page.get_by_role("link", name=one).click()
    first = essay_id(page)
    expect(page.locator("#key-legend")).to_be_visible()
    expect(page.locator(".review-nav")).to_contain_text("Essay 1 of 3")

    # Both the essay and the automatic report start on screen at 1280 px.
    for selector in (".review-essay .essay-text", ".review-auto .level-line", "#save-next"):
        box = page.locator(selector).bounding_box()
        assert box is not None and 0 <= box["y"] < 900 and box["x"] + box["width"] <= 1280, selector
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "teacher-review-1280.png"))

    page.keyboard.press("a")  # the first: agree, on to the second
    expect(page.locator("h1")).to_have_text(two)
    expect(page.locator(".alert-ok")).to_contain_text("Agreed with the automatic mark")
    assert f"class={code}" in page.url and "sort=student" in page.url
    page.keyboard.press("j")  # skip to the third
    expect(page.locator("h1")).to_have_text(three)
    page.keyboard.press("k")  # back to the second
    expect(page.locator("h1")).to_have_text(two)

    # Typing in a field never fires a key: "jaks" lands in the comment, the page stays.
    second_url, second = page.url, essay_id(page)
    page.locator("#comment").focus()
    page.keyboard.type("jaks: weigh the factors.")
    assert page.url == second_url
    expect(page.locator("#comment")).to_have_value("jaks: weigh the factors.")
    # A criterion mark typed in: the final mark follows it through the curve at once.
    page.locator("input.crit-input").first.fill("0")
    live = page.locator("#mark-live")
    expect(live).to_contain_text("The final mark follows your criterion marks")
    followed = page.locator("input[name=mark]").input_value()
    # A final mark typed against them is said at once (the server refuses it too), until put back.
    mark_box = page.locator("input[name=mark]")
    mark_box.fill("24" if followed != "24" else "23")
    expect(live).to_contain_text(f"Your criterion marks come to {followed} after the curve")
    mark_box.fill(followed)
    expect(live).to_contain_text("The final mark follows your criterion marks")
    page.keyboard.press("Tab")  # out of the field: keys work again
    page.keyboard.press("Escape")
    page.locator("h1").click()  # a click on plain text leaves no field focused
    page.keyboard.press("s")  # the second: saved with the comment, on to the third
    expect(page.locator("h1")).to_have_text(three)
    expect(page.locator(".alert-ok")).to_contain_text("Review saved")
    page.keyboard.press("a")  # the third: agree; the last essay, so back to the list
    expect(page.get_by_role("heading", name="Submissions")).to_be_visible()
    expect(page.locator(".alert-ok").last).to_contain_text("That was the last essay in this list")
    assert f"class={code}" in page.url and "sort=student" in page.url
    expect(page.locator("table.submissions tbody tr")).to_have_count(3)
    expect(page.locator("table.submissions tbody")).to_contain_text("✓ Reviewed")
    assert page.locator("table.submissions tbody tr", has_text="Not yet").count() == 0

    page.goto(f"{base}/teacher/submissions/{first}")
    expect(page.locator("#history")).to_contain_text("Agreed with the automatic marks")
    page.goto(f"{base}/teacher/submissions/{second}")
    expect(page.locator("h1")).to_have_text(two)
    expect(page.locator(".marks-compare .teacher .big")).to_have_text(followed)
    expect(page.locator("#comment")).to_have_value("jaks: weigh the factors.")


def test_bulk_agree_from_the_dashboard_with_select_all(page, live_server):
    base = live_server.url
    code = cli_class(live_server.db_path, "13M History")
    for fixture, name in (("q1_medium.txt", "Mira Bulk"), ("q1_strong.txt", "Oleg Bulk")):
        submit(page, base, fixture, name, code)
    page.goto(f"{base}/teacher/login")
    page.get_by_label("Email").fill(TEACHER_EMAIL)
    page.get_by_label("Password").fill(TEACHER_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.goto(f"{base}/teacher/?class={code}&per_page=50")
    expect(page.locator("table.submissions tbody tr")).to_have_count(2)
    expect(page.locator("table.submissions tbody")).not_to_contain_text("✓ Reviewed")
    page.get_by_label("Tick every essay on this page").check()  # shown by the script
    expect(page.locator("input.pick:checked")).to_have_count(2)
    page.get_by_role("button", name="Agree with the automatic mark for the ticked essays").click()
    expect(page.locator(".alert-ok")).to_contain_text("Agreed with the automatic mark on 2 essays.")
    assert f"class={code}" in page.url and "per_page=50" in page.url
    expect(page.locator("table.submissions tbody tr", has_text="✓ Reviewed")).to_have_count(2)
