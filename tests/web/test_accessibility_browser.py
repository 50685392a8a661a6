"""Every page type in a real browser against a live server, as a student and as a teacher:

- axe-core (from npm, pinned in package-lock.json, installed by scripts/ensure-axe.sh) at 1280 and
  390 px finds no WCAG 2.1 A or AA violation (tags wcag2a, wcag2aa, wcag21a, wcag21aa), with every
  <details> opened so what it hides is checked too;
- at 320 px no page scrolls sideways (document.documentElement.scrollWidth <= clientWidth);
- on a phone the dashboard's rows are cards that show the mark and level, and its filters fold away.

Without axe-core installed the axe tests skip and say why; they never pass unchecked.
"""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest
from conftest import ROOT, TEACHER_EMAIL, TEACHER_PASSWORD, cli_class
from playwright.sync_api import expect
from test_teacher_browser import create_teacher, submit_as_student

pytestmark = pytest.mark.browser

AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
RUN_AXE = """async (tags) => {
  const result = await axe.run(document, {runOnly: {type: "tag", values: tags}, resultTypes: ["violations"]});
  return result.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 5).map(n => ({target: n.target.join(" "), html: n.html.slice(0, 160),
                                          why: (n.failureSummary || "").replace(/\\s+/g, " ")}))}));
}"""


@pytest.fixture(scope="module")
def site(live_server, browser):
    """Essays of one class sent through the form, one reviewed, and the URL of every page type."""
    base = live_server.url
    create_teacher(live_server.db_url)  # the first account: an admin, so the admin pages are reached too
    code = cli_class(live_server.db_path, "12A Accessibility")
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    feedback = submit_as_student(page, base, "q1", "q1_medium.txt", "Galina Accessible", code)
    submit_as_student(page, base, "q1", "q1_strong.txt", "Maxim Contrast-Ratio-Longname", code)
    submit_as_student(page, base, "q2", "q2_medium.txt", "Nina Screenreader", code)
    page.goto(f"{base}/teacher/login")
    page.get_by_label("Email").fill(TEACHER_EMAIL)
    page.get_by_label("Password").fill(TEACHER_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Submissions")).to_be_visible()
    page.get_by_role("link", name="Galina Accessible").click()
    review = page.url.split("?")[0]
    page.get_by_label("Comment for the student").fill("Good range of evidence; weigh the factors against each other.")
    page.get_by_role("button", name="Save review").click()
    expect(page.locator(".alert-ok")).to_contain_text("Review saved")
    page.goto(f"{base}/teacher/classes")
    page.get_by_role("link", name="12A Accessibility").first.click()
    class_page = page.url
    # A second class that holds feedback until review, with an essay waiting in it.
    held_code = cli_class(live_server.db_path, "12B Held Back")
    page.goto(f"{base}/teacher/classes")
    page.get_by_role("link", name="12B Held Back").first.click()
    held_class_page = page.url
    page.get_by_label(re.compile("^After review")).check()
    page.get_by_role("button", name="Save").first.click()
    expect(page.get_by_text("Feedback is now held")).to_be_visible()
    state = context.storage_state()
    context.close()
    student_context = browser.new_context(viewport={"width": 1280, "height": 900})
    spage = student_context.new_page()
    held = submit_as_student(spage, base, "q2", "q2_medium.txt", "Oleg Waiting", held_code)
    expect(spage.get_by_text("Your teacher will release your feedback")).to_be_visible()
    # A request to look again on the reviewed essay: the page then shows it as asked.
    spage.goto(feedback)
    spage.get_by_text("Write your request").click()
    spage.get_by_label("What should your teacher look at again?").fill("Please read my conclusion again.")
    spage.get_by_role("button", name="Ask my teacher to look again").click()
    expect(spage.locator("#look-again")).to_contain_text("They have not answered yet")
    student_context.close()
    student = {
        "home": "/", "essay form": "/questions/q1", "feedback": feedback.removeprefix(base),
        "revise": feedback.removeprefix(base) + "/revise", "privacy": "/privacy",
        "feedback held": held.removeprefix(base), "revise held": held.removeprefix(base) + "/revise",
        "error (404)": "/no-such-page", "feedback not found": "/feedback/" + "x" * 32,
        "teacher login": "/teacher/login",
    }
    teacher = {
        "dashboard": "/teacher/", "dashboard filtered": f"/teacher/?class={code}&q=q1",
        "dashboard asked": "/teacher/?asked=open", "held class page": held_class_page.removeprefix(base),
        "review": review.removeprefix(base), "analytics": "/teacher/analytics", "sources": "/teacher/sources",
        "similar essays": f"/teacher/similar?class={code}", "classes": "/teacher/classes",
        "class page": class_page.removeprefix(base), "upload": "/teacher/upload", "class pack": f"/teacher/pack?class={code}",
        "delete a student's essays": class_page.removeprefix(base) + "/delete-student?student=Nina+Screenreader",
        "delete an essay": review.removeprefix(base) + "/delete",
        "admin": "/admin/", "admin classes": "/admin/classes", "admin audit": "/admin/audit",
        "teacher error (404)": "/teacher/submissions/999999",
    }
    return SimpleNamespace(base=base, state=state, student=student, teacher=teacher)


def visit(browser, site, width: int, signed_in: bool, **options):
    context = browser.new_context(viewport={"width": width, "height": 900},
                                  storage_state=site.state if signed_in else None, **options)
    return context, context.new_page()


def pages(site):
    """(name, path, signed in) for every page type: students' pages and the sign-in page signed out."""
    return [(n, p, False) for n, p in site.student.items()] + [(n, p, True) for n, p in site.teacher.items()]


def readable(name: str, width: int, violations: list[dict]) -> str:
    lines = [f"{name} at {width} px:"]
    for v in violations:
        lines.append(f"  [{v['impact']}] {v['id']}: {v['help']}")
        for node in v["nodes"]:
            lines.append(f"      {node['target']}  {node['html']}")
            lines.append(f"        {node['why']}")
    return "\n".join(lines)


def axe(page) -> list[dict]:
    page.evaluate("document.querySelectorAll('details').forEach(d => { d.open = true; })")
    page.add_script_tag(path=str(AXE))
    return page.evaluate(RUN_AXE, WCAG_TAGS)


def refused_essay(page, site):
    """The essay form sent empty: the page with its error summary."""
    page.goto(site.base + "/questions/q1")
    page.get_by_role("button", name="Submit for feedback").click()
    expect(page.locator(".alert-error, .error").first).to_be_visible()


def refused_sign_in(page, site):
    page.goto(site.base + "/teacher/login")
    page.get_by_label("Email").fill(TEACHER_EMAIL)
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator(".alert-error, .error").first).to_be_visible()


def upload_results(page, site):
    """An essay uploaded as a file: the results table."""
    page.goto(site.base + "/teacher/upload")
    page.locator("input[type=file]").set_input_files(str(ROOT / "tests" / "fixtures" / "q2_strong.txt"))
    page.get_by_role("button", name="Upload and mark").click()
    expect(page.get_by_role("heading", name="Results")).to_be_visible()


# Pages reached by sending a form rather than by an address.
AFTER_A_FORM = {False: {"essay form with errors": refused_essay, "teacher login refused": refused_sign_in},
                True: {"upload results": upload_results}}


@pytest.mark.parametrize("width", [1280, 390])
def test_axe_finds_no_wcag_21_aa_violation_on_any_page(browser, site, width):
    if not AXE.is_file():
        pytest.skip(f"axe-core is not installed ({AXE.relative_to(ROOT)} is missing): run `make axe` "
                    "(scripts/ensure-axe.sh) to check the pages' accessibility")
    problems, checked = [], []
    for signed_in in (False, True):
        # axe is injected as a script of its own: the site's CSP (scripts from the site only) is set aside for it.
        context, page = visit(browser, site, width, signed_in, bypass_csp=True)
        for name, path, who in pages(site):
            if who != signed_in:
                continue
            page.goto(site.base + path)
            checked.append(name)
            if violations := axe(page):
                problems.append(readable(name, width, violations))
        for name, reach in AFTER_A_FORM[signed_in].items():
            reach(page, site)
            checked.append(name)
            if violations := axe(page):
                problems.append(readable(name, width, violations))
        context.close()
    assert len(checked) == len(site.student) + len(site.teacher) + 3
    assert not problems, "axe-core found WCAG 2.1 A/AA violations:\n" + "\n".join(problems)


def test_no_page_scrolls_sideways_at_320_px(browser, site):
    wide = []
    for signed_in in (False, True):
        context, page = visit(browser, site, 320, signed_in)
        for name, path, who in pages(site):
            if who != signed_in:
                continue
            page.goto(site.base + path)
            page.evaluate("document.querySelectorAll('details').forEach(d => { d.open = true; })")
            sizes = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
            if sizes[0] > sizes[1]:
                # The outermost elements that reach past the edge (not those inside a scrolling box).
                culprits = page.evaluate("""() => [...document.querySelectorAll('body *')]
                    .filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
                    .filter(e => !e.closest('.table-wrap') || e.classList.contains('table-wrap'))
                    .slice(0, 4).map(e => e.tagName.toLowerCase() + (e.className && typeof e.className === 'string' ? '.' + e.className.split(' ').join('.') : ''))""")
                wide.append(f"{name}: {sizes[0]} px wide in {sizes[1]} px ({', '.join(culprits)})")
        context.close()
    assert not wide, "pages that scroll sideways at 320 px:\n" + "\n".join(wide)


def test_the_dashboard_on_a_phone_shows_cards_with_mark_and_level_and_folds_its_filters(browser, site):
    context, page = visit(browser, site, 390, True)
    page.goto(site.base + "/teacher/")
    rows = page.locator("table.submissions tbody tr")
    expect(rows.first).to_be_visible()
    assert rows.count() >= 3  # the class's three essays (and one uploaded, once the axe test has run)
    for i in range(rows.count()):
        row = rows.nth(i)
        for cell in (".col-mark", ".col-level"):
            box = row.locator(cell).bounding_box()
            assert box and box["x"] >= 0 and box["x"] + box["width"] <= 390, (i, cell, box)
            expect(row.locator(cell)).to_be_visible()
        assert re.search(r"\d+/25", row.locator(".col-mark").inner_text())
        expect(row.locator(".col-mark")).to_contain_text("Mark")  # each value says what it is
    # The filters are folded behind their heading on a phone, and open with it.
    expect(page.get_by_label("Student name")).to_be_hidden()
    page.locator(".filters > summary").click()
    expect(page.get_by_label("Student name")).to_be_visible()
    # On a wide screen they are open, and the rows are a table again.
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(site.base + "/teacher/")
    expect(page.get_by_label("Student name")).to_be_visible()
    assert page.locator("table.submissions thead").is_visible()
    head = page.locator("table.submissions thead th.col-mark").bounding_box()
    row = page.locator("table.submissions tbody tr").first
    name, mark = row.locator(".col-student").bounding_box(), row.locator(".col-mark").bounding_box()
    assert abs(name["y"] - mark["y"]) < 2 and mark["x"] > name["x"]  # one row, cells side by side
    assert abs(mark["x"] - head["x"]) < 2  # under its column's header
    context.close()


def test_the_analytics_tables_scroll_with_the_keyboard(browser, site):
    context, page = visit(browser, site, 390, True)
    page.goto(site.base + "/teacher/analytics")
    regions = page.locator(".table-wrap[role=region]")
    assert regions.count() >= 2
    for i in range(regions.count()):
        region = regions.nth(i)
        assert region.get_attribute("tabindex") == "0"
        assert region.get_attribute("aria-label") or region.get_attribute("aria-labelledby")
    context.close()
