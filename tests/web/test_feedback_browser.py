"""The feedback page in a real browser (Debian's chromium through Playwright, a live server):
the argument map's claim links land on the claim in the essay and back, the page fits a phone,
and screenshots of a weak, a strong and a gaming essay at desktop and phone widths are kept in
test-artifacts/ for a person to look at."""

from __future__ import annotations


import pytest
from conftest import FEEDBACK_URL, ROOT, read_fixture
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

ARTIFACTS = ROOT / "test-artifacts" / "feedback"
ESSAYS = {"weak": ("q2", "q2_sincere_short.txt"), "strong": ("q1", "q1_strong.txt"),
          "gaming": ("q1", "keyword_salad_q1.txt")}


def submit(page, base: str, qid: str, fixture: str) -> None:
    page.goto(f"{base}/questions/{qid}")
    page.get_by_label("Your essay").fill(read_fixture(fixture))
    page.get_by_role("button", name="Submit for feedback").click()
    page.wait_for_url(FEEDBACK_URL)


@pytest.mark.parametrize("width", [1280, 390])
@pytest.mark.parametrize("kind", list(ESSAYS))
def test_feedback_pages_fit_the_screen_and_are_kept_as_screenshots(page, live_server, kind, width):
    page.set_viewport_size({"width": width, "height": 900})
    qid, fixture = ESSAYS[kind]
    submit(page, live_server.url, qid, fixture)
    expect(page.locator("#argument")).to_contain_text("Your thesis")
    expect(page.locator("table.mark-steps tr.step-final")).to_contain_text(page.locator(".mark-num").inner_text())
    assert page.evaluate("() => document.documentElement.scrollWidth") <= width
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{kind}-{width}.png"), full_page=True)


def test_a_claim_in_the_argument_map_links_to_the_essay_and_back(page, live_server):
    submit(page, live_server.url, "q2", "q2_strong.txt")
    first = page.locator(".argument-map .map-claim .tag-claim").first
    number = first.inner_text().replace("Claim", "").strip()  # "C3"
    first.click()
    assert page.evaluate("() => location.hash") == f"#claim-{number[1:]}"
    target = page.locator(f"#claim-{number[1:]}")
    expect(target).to_be_in_viewport()
    target.click()
    assert page.evaluate("() => location.hash") == f"#map-claim-{number[1:]}"
    expect(page.locator(f"#map-claim-{number[1:]}")).to_be_in_viewport()


def test_a_repeated_sentence_links_to_why_it_earned_nothing(page, live_server):
    submit(page, live_server.url, "q1", "q1_repetition.txt")
    tag = page.locator(".essay-text .tag-excl").first
    tag.click()
    note = page.locator("#excl-note-1")
    expect(note).to_be_in_viewport()
    expect(note).to_contain_text("repeats a point made earlier")
