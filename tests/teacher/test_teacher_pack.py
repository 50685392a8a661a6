"""The printable class pack: one sheet per essay of the teacher's own classes (latest attempts), with
the mark, the teacher's comment once reviewed, the next steps, and the feedback link as text and QR."""

from __future__ import annotations

import re

from test_classes import school  # noqa: F401 - the fixture: two teachers' classes and an admin

from khrushchev_essays.storage import AuditEvent, Submission, Teacher, db
from khrushchev_essays.storage.reviews import save_review

SHEET = re.compile(r'<article class="pack-page card" aria-labelledby="pack-(\d+)">(.*?)</article>', re.S)


def sheets(html: str) -> dict[int, str]:
    return {int(i): body for i, body in SHEET.findall(html)}


def test_one_sheet_per_latest_essay_of_the_teachers_classes(school):  # noqa: F811
    with school.app.app_context():
        arkady = db.session.query(Submission).filter_by(token=school.tokens["arkady"]).one()
        save_review(arkady, db.session.get(Teacher, school.ids["a"]), mark=17, level=3, criteria={},
                    comment="Weigh <the economy> against politics, Arkady.")
    client = school.client("a")
    resp = client.get(f"/teacher/pack?class={school.codes['a']}")
    assert resp.status_code == 200 and resp.headers["Cache-Control"] == "no-store"
    html = resp.get_data(as_text=True)
    got = sheets(html)
    anna2, arkady_id = school.sub(school.tokens["anna2"]), school.sub(school.tokens["arkady"])
    assert list(got) == [anna2, arkady_id]  # Anna's latest attempt only, in order of name
    anna, ark = got[anna2], got[arkady_id]
    assert "Anna Alphason" in anna and "attempt 2" in anna and "Alpha Class" in anna
    assert f"http://localhost/feedback/{school.tokens['anna2']}" in anna and school.tokens["anna1"] not in html
    assert "your teacher has not reviewed it yet" in anna and "Your teacher’s comment" not in anna
    assert re.search(r'<span class="pack-big">17<span class="muted">/25</span></span> <span class="pack-level">Level 3</span>', ark)
    assert "Weigh &lt;the economy&gt; against politics, Arkady." in ark  # escaped
    assert "Marked by your teacher." in ark
    for body in (anna, ark):
        assert re.search(r'<svg role="img" aria-label="QR code of [^"]+’s feedback link" viewBox="0 0 \d+ \d+" class="qr">'
                         r'<path [^>]*class="qr-line"', body)
        assert "style=" not in body  # the CSP forbids inline styles
        steps = re.search(r'<ol class="pack-steps">(.*?)</ol>', body, re.S)
        assert steps and 1 <= steps.group(1).count("<li>") <= 4
    # Nothing of class B, even when asked for by its code; the pack is logged without names.
    for secret in ("Boris Betov", "Bella Betova", school.tokens["boris"], school.tokens["bella"], school.tokens["ivan"]):
        assert secret not in html
    assert sheets(client.get(f"/teacher/pack?class={school.codes['b']}").get_data(as_text=True)) == {}
    every = sheets(client.get("/teacher/pack?attempts=all").get_data(as_text=True))
    assert set(every) == {anna2, arkady_id, school.sub(school.tokens["anna1"])}
    with school.app.app_context():
        logged = db.session.query(AuditEvent).filter_by(action="class_pack").all()
        assert [(e.actor, e.count) for e in logged] == [("a@school.example", 2), ("a@school.example", 0),
                                                       ("a@school.example", 3)]


def test_the_dashboard_and_the_class_page_link_to_the_pack(school):  # noqa: F811
    client = school.client("a")
    code = school.codes["a"]
    assert f'href="/teacher/pack?class={code}"' in client.get(f"/teacher/?class={code}").get_data(as_text=True)
    assert f'href="/teacher/pack?class={code}"' in client.get(f"/teacher/classes/{school.ids['ka']}").get_data(as_text=True)
