"""The class pack printed to PDF by Chromium (page.pdf, print media): one page per student, each
with the student's name, and the teacher's comment on the reviewed one."""

from __future__ import annotations

import io
import re

import pytest
from conftest import TEACHER_EMAIL, TEACHER_PASSWORD, cli_class
from playwright.sync_api import expect
from test_teacher_browser import create_teacher, submit_as_student

pytestmark = pytest.mark.browser

STUDENTS = (("Olga Printova", "q1", "q1_medium.txt"), ("Pyotr Sheetov", "q1", "q1_strong.txt"),
            ("Raisa Pagina", "q2", "q2_medium.txt"))


def sign_in(page, base):
    page.goto(f"{base}/teacher/login")
    page.get_by_label("Email").fill(TEACHER_EMAIL)
    page.get_by_label("Password").fill(TEACHER_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Submissions")).to_be_visible()


def test_the_class_pack_prints_one_page_per_student(page, live_server):
    from pypdf import PdfReader

    base = live_server.url
    create_teacher(live_server.db_url)
    code = cli_class(live_server.db_path, "10P Print")
    links = {name: submit_as_student(page, base, qid, fixture, name, code) for name, qid, fixture in STUDENTS}
    sign_in(page, base)
    page.goto(f"{base}/teacher/?class={code}")
    page.get_by_role("link", name="Pyotr Sheetov").click()
    page.get_by_label("Comment for the student").fill("Strong on de-Stalinisation; now judge the Virgin Lands.")
    page.get_by_role("button", name="Save review").click()
    expect(page.locator(".alert-ok")).to_contain_text("Review saved")

    page.goto(f"{base}/teacher/?class={code}")
    page.get_by_role("link", name="Print a class pack").click()
    expect(page.get_by_role("heading", name="Class pack", level=1)).to_be_visible()
    expect(page.locator("article.pack-page")).to_have_count(3)
    expect(page.locator("article.pack-page svg.qr")).to_have_count(3)

    pdf = page.pdf(format="A4", print_background=True)
    reader = PdfReader(io.BytesIO(pdf))
    texts = [p.extract_text() for p in reader.pages]
    assert len(reader.pages) == 3, [t[:80] for t in texts]
    names = sorted(s[0] for s in STUDENTS)  # the pack is in order of name
    for name, text in zip(names, texts):
        flat = re.sub(r"\s+", "", text)
        assert name in text, (name, text[:200])
        assert re.sub(r"\s+", "", links[name]) in flat  # the link printed as text, on its own student's page
        assert "Level" in text and "Whattodonext" in flat
        assert "Submissions" not in text and "Sign out" not in text  # no navigation chrome on paper
    assert "Virgin Lands" in texts[names.index("Pyotr Sheetov")]
    assert not any("Virgin Lands" in t for i, t in enumerate(texts) if names[i] != "Pyotr Sheetov")
