"""The student's side of the review loop (issue 13) through the real app: Flask test client, real
engine, a real migrated database.

- Once reviewed, the feedback page leads with the teacher's mark, level and comment; the
  automatic report follows under its own heading; the revise page's checklist carries the comment.
- Release control per class: held feedback shows no mark anywhere the student can reach until a
  teacher of the class releases the reviewed essays (one action, audit-logged, scoped).
- "Ask my teacher to look again": one open request per essay, validated, escaped, rate-limited;
  the teacher sees a count and a filter, answers on the review page, and the student sees it.
- The page order: mark, next steps, strengths, then one list of what held the mark back.
- Highlights by clause or sentence, with a plain key; times in the school's time zone.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone

import lxml.html
import pytest
from conftest import add_class, database_url, make_app, read_fixture, sign_in
from sqlalchemy import inspect, text

from khrushchev_essays.storage import AuditEvent, LookAgainRequest, SchoolClass, Submission, db, utcnow
from khrushchev_essays.web.highlight import clauses

OTHER_EMAIL = "other@school.example"
TOKEN_URL = re.compile(r"(/feedback/[A-Za-z0-9_-]{32,})$")


def send(client, code: str | None, fixture: str = "q1_medium.txt", qid: str = "q1", name: str = "Nadia") -> str:
    """Post an essay as a student; the feedback page's path."""
    data = {"text": read_fixture(fixture), "student_name": name}
    if code:
        data["class_code"] = code
    resp = client.post(f"/questions/{qid}", data=data)
    assert resp.status_code == 303, resp.get_data(as_text=True)[:300]
    return TOKEN_URL.search(resp.headers["Location"]).group(1)


def sub_of(app, url: str) -> Submission:
    with app.app_context():
        sub = db.session.query(Submission).filter_by(token=url.rsplit("/", 1)[1]).one()
        db.session.expunge(sub)
        return sub


def html_of(client, url: str, status: int = 200) -> str:
    resp = client.get(url)
    assert resp.status_code == status
    return resp.get_data(as_text=True)


def doc_of(html: str):
    return lxml.html.fromstring(html)


def words(el) -> str:
    return " ".join(el.text_content().split())


def position(html: str, marker: str) -> int:
    at = html.find(marker)
    assert at >= 0, marker
    return at


@pytest.fixture
def school(app):
    """A class taught by the signed-in teacher, a second class taught by someone else, and clients."""
    code = add_class(app, "12C History")
    other_code = add_class(app, "11Z History", email=OTHER_EMAIL)
    teacher = app.test_client()
    assert sign_in(teacher).status_code == 303
    other = app.test_client()
    assert sign_in(other, email=OTHER_EMAIL).status_code == 303
    with app.app_context():
        class_id = db.session.query(SchoolClass.id).filter_by(join_code=code).scalar()
    return {"code": code, "other_code": other_code, "class_id": class_id, "teacher": teacher, "other": other,
            "student": app.test_client()}


def review(teacher, sub_id: int, mark: int, comment: str, own: bool = True):
    page = html_of(teacher, f"/teacher/submissions/{sub_id}")
    doc = doc_of(page)
    data = {i.get("name"): i.get("value") for i in doc.xpath("//form[@id='review-form']//input[@name]")
            if i.get("type") not in ("checkbox", "submit")}
    data.update(mark=str(mark), comment=comment, do="save")
    if own:
        data["own_mark"] = "y"
    resp = teacher.post(f"/teacher/submissions/{sub_id}", data=data)
    assert resp.status_code == 303, resp.get_data(as_text=True)[:500]


# --- the teacher's word first ---------------------------------------------------------------------------

def test_a_reviewed_essay_leads_with_the_teachers_mark_level_and_comment(app, school):
    url = send(school["student"], school["code"])
    sub = sub_of(app, url)
    before = html_of(school["student"], url)
    assert 'id="teacher-review"' not in before and "The automatic marker’s report" not in before
    new_mark = 20 if sub.mark != 20 else 19
    review(school["teacher"], sub.id, new_mark, "Good range.\nNow <b>weigh</b> the economy against the Party.")

    page = html_of(school["student"], url)
    doc = doc_of(page)
    # The teacher's card comes first, then the automatic report's heading, then the automatic mark.
    assert position(page, 'id="teacher-review"') < position(page, "The automatic marker’s report") < position(page, 'id="mark"')
    card = words(doc.get_element_by_id("teacher-review"))
    assert f"{new_mark}/25" in card and "Level 4" in card and "Good" in card
    assert "your teacher’s mark is the one that counts" in card and "by Ms Teacher" in card
    assert "Now <b>weigh</b> the economy" in card  # shown as text...
    assert "Now &lt;b&gt;weigh&lt;/b&gt; the economy" in page and "<b>weigh</b>" not in page  # ...escaped
    assert words(doc.get_element_by_id("mark")).startswith("Automatic mark")
    toc = [words(a) for a in doc.xpath("//nav[@class='toc']//a")]
    assert toc[:2] == ["Your teacher’s mark", "Automatic mark"]

    # The revise page carries the comment into its checklist, before the automatic steps.
    revise = html_of(school["student"], f"{url}/revise")
    checklist = words(doc_of(revise).get_element_by_id("checklist"))
    assert checklist.startswith("Your teacher’s comment Good range.") and "Now <b>weigh</b> the economy" in checklist
    assert checklist.index("Now <b>weigh</b>") < checklist.index("From the automatic marker")
    assert "From the automatic marker: your next steps" in checklist or "From the automatic marker: what" in checklist
    assert f"{new_mark}/25 (Level 4) from your teacher" in words(doc_of(revise))


# --- release control ---------------------------------------------------------------------------------

def marks_in(html: str, sub: Submission) -> list[str]:
    """Every trace of a mark the page could show: the mark out of 25, a level, a criterion's figures."""
    found = []
    doc = doc_of(html)
    shown = words(doc.xpath("//main")[0])
    for pattern in (rf"\b{sub.mark}\s*/\s*25\b", r"\bLevel \d\b", r"\bMark \d"):
        found += re.findall(pattern, shown)
    for c in sub.report["criteria"]:
        if c["name"] in shown:
            found.append(c["name"])
    if doc.xpath("//*[contains(@class, 'mark-num') or contains(@class, 'level-badge')]"):
        found.append("mark element")
    recent = doc.xpath("//*[@data-recent]")
    if recent and '"mark": null' not in recent[0].get("data-recent") and '"mark":null' not in recent[0].get("data-recent"):
        found.append("mark in data-recent")
    return found


def test_held_feedback_shows_no_mark_until_the_teacher_releases_the_reviewed_class(app, school):
    student, teacher = school["student"], school["teacher"]
    cid = school["class_id"]
    earlier = send(student, school["code"], name="Early Bird")
    assert "Your teacher will release" not in html_of(student, earlier)  # the default: shown at once

    assert teacher.post(f"/teacher/classes/{cid}/release-mode", data={"mode": "after_review"}).status_code == 303
    # Essays the class already had stay visible; new ones wait.
    assert "Your teacher will release" not in html_of(student, earlier)
    url = send(student, school["code"], name="Held Student")
    second = send(student, school["code"], fixture="q1_strong.txt", name="Still Waiting")
    sub = sub_of(app, url)
    page = html_of(student, url)
    assert "Your teacher will release your feedback" in page
    assert marks_in(page, sub) == []
    assert read_fixture("q1_medium.txt").split("\n")[0][:60] in page.replace("&#39;", "'")  # the essay as sent
    revise = html_of(student, f"{url}/revise")
    # The revise page: the guidance on the question is there, but nothing of this essay's mark.
    write = words(doc_of(revise).xpath("//section[@class='write']")[0])
    assert "has not released its feedback yet" in write and "checklist" not in revise
    assert not re.search(rf"\b{sub.mark}\s*/\s*25\b|\bLevel \d|scored", write)
    # The only JSON a student reaches stores nothing and knows nothing of stored essays.
    assert student.post("/api/v1/score", json={"question": "q1", "token": sub.token}).status_code == 400
    # The class page counts what waits: nothing reviewed yet, so nothing to release.
    cls = html_of(teacher, f"/teacher/classes/{cid}")
    assert "0 reviewed essays waiting to be released" in words(doc_of(cls).get_element_by_id("release-waiting"))

    # Reviewed but not released: still held.
    review(teacher, sub.id, 14, "Your conclusion needs a clearer judgement.")
    assert marks_in(html_of(student, url), sub) == []
    assert "This class holds feedback" in html_of(teacher, f"/teacher/submissions/{sub.id}")
    cls = html_of(teacher, f"/teacher/classes/{cid}")
    assert "1 reviewed essay waiting to be released; 2 not reviewed yet" not in cls  # Early Bird was released
    assert "1 reviewed essay waiting to be released; 1 not reviewed yet" in words(doc_of(cls).get_element_by_id("release-waiting"))

    # One action releases the reviewed essays of the class; the unreviewed one stays held.
    resp = teacher.post(f"/teacher/classes/{cid}/release")
    assert resp.status_code == 303
    assert "Released the feedback of 1 reviewed essay." in html_of(teacher, resp.headers["Location"])
    page = html_of(student, url)
    assert "Your teacher will release" not in page
    assert position(page, 'id="teacher-review"') < position(page, 'id="mark"')
    assert "14/25" in words(doc_of(page).get_element_by_id("teacher-review"))
    assert "Your teacher will release your feedback" in html_of(student, second)
    with app.app_context():
        events = [(e.action, e.count, e.class_id, e.actor) for e in db.session.query(AuditEvent).order_by(AuditEvent.id)]
    assert events == [("release_mode", 1, cid, "teacher@school.example"),
                      ("release_feedback", 1, cid, "teacher@school.example")]

    # Back to "at once": everything shows.
    assert teacher.post(f"/teacher/classes/{cid}/release-mode", data={"mode": "immediate"}).status_code == 303
    assert "Your teacher will release" not in html_of(student, second)
    assert teacher.post(f"/teacher/classes/{cid}/release-mode", data={"mode": "sometimes"}).status_code == 422


def test_only_a_teacher_of_the_class_can_hold_or_release_its_feedback(app, school):
    cid = school["class_id"]
    assert school["teacher"].post(f"/teacher/classes/{cid}/release-mode", data={"mode": "after_review"}).status_code == 303
    url = send(school["student"], school["code"])
    sub = sub_of(app, url)
    review(school["teacher"], sub.id, 12, "")
    other = school["other"]
    assert other.post(f"/teacher/classes/{cid}/release").status_code == 404
    assert other.post(f"/teacher/classes/{cid}/release-mode", data={"mode": "immediate"}).status_code == 404
    assert other.get(f"/teacher/classes/{cid}").status_code == 404
    with app.app_context():
        assert db.session.get(SchoolClass, cid).release_mode == "after_review"
        assert db.session.get(Submission, sub.id).released_at is None
        assert [e.action for e in db.session.query(AuditEvent)] == ["release_mode"]
    assert "Your teacher will release" in html_of(school["student"], url)
    assert "Released the feedback of 1" in html_of(school["teacher"],
                                                   school["teacher"].post(f"/teacher/classes/{cid}/release").headers["Location"])


def test_the_migration_adds_release_control_and_requests_without_hiding_anything(tmp_path):
    from flask_migrate import downgrade, upgrade

    from khrushchev_essays import create_app

    url = database_url(tmp_path / "old.sqlite")
    app = create_app({"TESTING": True, "SECRET_KEY": "k", "SQLALCHEMY_DATABASE_URI": url, "WTF_CSRF_ENABLED": False})
    text_, report = read_fixture("q1_medium.txt"), None
    with app.app_context():
        upgrade(revision="0005_classes_roles")
        from khrushchev_essays.scoring import score

        report = score(text_, "q1").to_dict()
        with db.engine.begin() as conn:
            conn.execute(text("INSERT INTO classes (name, join_code, created_at) VALUES ('12C', 'KXR7DM', :now)"),
                         {"now": utcnow()})
            conn.execute(text(
                "INSERT INTO submissions (token, question, student_name, class_code, class_id, text, report, mark, level, "
                "max_mark, word_count, created_at, source, attempt) VALUES ('tok-bbbbbbbbbbbbbbbbbbbbbbbbb', 'q1', 'Old', "
                "'KXR7DM', 1, :text, :report, :mark, :level, 25, 500, :now, 'web', 1)"),
                {"text": text_, "report": __import__("json").dumps(report), "mark": report["mark"],
                 "level": report["level"], "now": utcnow()})
        upgrade()
        assert db.session.query(SchoolClass.release_mode).scalar() == "immediate"
        assert db.session.query(Submission.released_at).scalar() is None
        assert "look_again_requests" in inspect(db.engine).get_table_names()
    page = app.test_client().get("/feedback/tok-bbbbbbbbbbbbbbbbbbbbbbbbb").get_data(as_text=True)
    assert f'<span class="mark-num">{report["mark"]}</span>' in page and "Your teacher will release" not in page
    with app.app_context():
        downgrade(revision="0005_classes_roles")
        inspector = inspect(db.engine)
        assert "look_again_requests" not in inspector.get_table_names()
        assert "release_mode" not in {c["name"] for c in inspector.get_columns("classes")}
        assert "released_at" not in {c["name"] for c in inspector.get_columns("submissions")}
        upgrade()
        assert db.session.query(Submission.token).scalar() == "tok-bbbbbbbbbbbbbbbbbbbbbbbbb"


# --- ask my teacher to look again ----------------------------------------------------------------------

def test_a_request_to_look_again_goes_round_from_student_to_teacher_and_back(app, school):
    student, teacher, other = school["student"], school["teacher"], school["other"]
    url = send(student, school["code"])
    send(student, school["code"], fixture="q1_strong.txt", name="Not Asking")
    sub = sub_of(app, url)
    form = doc_of(html_of(student, url)).get_element_by_id("look-again")
    assert form.xpath(".//textarea[@name='reason' and @maxlength='500']")

    # Bad reasons are refused on the page, with nothing stored.
    for bad, message in (("", "Say in a few words"), ("ok", "Say it in 5 to 500 characters"),
                         ("x" * 501, "Say it in 5 to 500 characters")):
        resp = student.post(f"{url}/look-again", data={"reason": bad})
        assert resp.status_code == 422 and message in resp.get_data(as_text=True)
    reason = "My <script>alert(1)</script> conclusion does weigh the factors, in the last paragraph."
    resp = student.post(f"{url}/look-again", data={"reason": reason})
    assert resp.status_code == 303 and resp.headers["Location"].endswith("#look-again")
    page = html_of(student, url)
    assert "They have not answered yet" in page
    assert "My &lt;script&gt;alert(1)&lt;/script&gt; conclusion" in page and "<script>alert(1)" not in page
    # One open request per essay.
    again = student.post(f"{url}/look-again", data={"reason": "Please look at the second paragraph too."})
    assert again.status_code == 422 and "already asked" in again.get_data(as_text=True)
    with app.app_context():
        assert db.session.query(LookAgainRequest).count() == 1

    # The teacher sees a count and a filter that lists only that essay; another class's teacher sees neither.
    dash = html_of(teacher, "/teacher/")
    assert "1 student has asked you to look again" in words(doc_of(dash).get_element_by_id("asked-count"))
    listed = html_of(teacher, "/teacher/?asked=open")
    rows = doc_of(listed).xpath("//table[contains(@class, 'submissions')]/tbody/tr")
    assert len(rows) == 1 and "Nadia" in words(rows[0])
    assert 'name="asked" value="open"' in listed  # the filter survives "Apply filters"
    assert "asked you to look again" not in html_of(other, "/teacher/")
    assert doc_of(html_of(other, "/teacher/?asked=open")).xpath("//table[contains(@class, 'submissions')]") == []
    assert other.post(f"/teacher/submissions/{sub.id}/look-again", data={"answer": "No."}).status_code == 404

    # The teacher answers on the review page; an empty answer is refused.
    review_page = html_of(teacher, f"/teacher/submissions/{sub.id}?asked=open")
    assert "The student asked you to look again" in review_page
    assert "My &lt;script&gt;alert(1)&lt;/script&gt;" in review_page and "<script>alert(1)" not in review_page
    assert teacher.post(f"/teacher/submissions/{sub.id}/look-again", data={"answer": "  "}).status_code == 422
    resp = teacher.post(f"/teacher/submissions/{sub.id}/look-again?asked=open",
                        data={"answer": "I read it again: the verdict is there, but <i>not</i> supported."})
    assert resp.status_code == 303 and "asked=open" in resp.headers["Location"]
    with app.app_context():
        (req,) = db.session.query(LookAgainRequest).all()
        assert req.answered_at is not None and req.teacher_email == "teacher@school.example"

    # The student sees the answer (escaped), at the top of the page; the teacher's list has no request left.
    page = html_of(student, url)
    assert position(page, 'id="look-again-answer"') < position(page, 'id="next"')
    answer = words(doc_of(page).get_element_by_id("look-again-answer"))
    assert "I read it again: the verdict is there, but <i>not</i> supported." in answer and "by Ms Teacher" in answer
    assert "&lt;i&gt;not&lt;/i&gt;" in page
    assert "asked you to look again" not in html_of(teacher, "/teacher/")
    # Answered, so a new request may be made.
    assert student.post(f"{url}/look-again", data={"reason": "Thank you: one more question."}).status_code == 303


def test_independent_practice_has_no_teacher_to_ask_and_held_feedback_nothing_to_dispute(app, school):
    alone = send(school["student"], None)
    assert 'id="look-again"' not in html_of(school["student"], alone)
    assert school["student"].post(f"{alone}/look-again", data={"reason": "Please look again."}).status_code == 422
    school["teacher"].post(f"/teacher/classes/{school['class_id']}/release-mode", data={"mode": "after_review"})
    held = send(school["student"], school["code"])
    assert 'id="look-again"' not in html_of(school["student"], held)
    assert school["student"].post(f"{held}/look-again", data={"reason": "Please look again."}).status_code == 422
    with app.app_context():
        assert db.session.query(LookAgainRequest).count() == 0


def test_requests_to_look_again_are_rate_limited_and_keep_the_reason(tmp_path):
    app = make_app(tmp_path / "limit.sqlite", LOOK_AGAIN_RATE_LIMIT="2 per minute")
    code = add_class(app)
    student = app.test_client()
    urls = [send(student, code, name=f"S{i}") for i in range(3)]
    assert student.post(f"{urls[0]}/look-again", data={"reason": "First request here."}).status_code == 303
    assert student.post(f"{urls[1]}/look-again", data={"reason": "Second request here."}).status_code == 303
    resp = student.post(f"{urls[2]}/look-again", data={"reason": "Third request, kept on the form."})
    body = resp.get_data(as_text=True)
    assert resp.status_code == 429 and "Too many requests were sent from your network" in body
    assert "Third request, kept on the form." in body
    with app.app_context():
        assert db.session.query(LookAgainRequest).count() == 2


# --- what the page leads with ------------------------------------------------------------------------

def test_mark_next_steps_strengths_then_one_list_of_what_held_the_mark_back(app, client):
    url = send(client, None, fixture="keyword_salad_q1.txt")
    sub = sub_of(app, url)
    page = html_of(client, url)
    order = [position(page, f'id="{part}"') for part in ("mark", "next", "held-back", "breakdown", "argument", "essay")]
    assert order == sorted(order)
    assert position(page, "What went well") < position(page, 'id="held-back"')
    box = doc_of(page).get_element_by_id("held-back")
    assert len(box.xpath(".//ul")) == 1 and not box.xpath(".//h3")  # one list, not flags then limits
    items = [words(li) for li in box.xpath(".//ul/li")]
    report = sub.report
    named = {f for f in report["flags"] if f != "needs_review"} | {c["rule"] for c in report["caps"]}
    assert len(items) == len(named)  # a flag and the limit it triggers are one entry
    applied = [c for c in report["caps"] if c.get("applied", True)]
    if applied:
        assert "This set your mark" in items[0]


def test_the_essay_is_highlighted_by_clause_with_a_plain_key(app, client):
    url = send(client, None, fixture="q1_strong.txt")
    sub = sub_of(app, url)
    doc = doc_of(html_of(client, url))
    essay = doc.xpath("//div[@class='essay-text']")[0]
    tags = essay.xpath(".//span[@data-factor]")
    evidence = sum(len(f["evidence"]) for f in sub.report["factors"])
    assert tags and len(tags) < evidence  # one number per clause and factor, not one per matched word
    starts = {a for a, _ in clauses(sub.text)}
    # Every highlighted run of a factor starts where a clause starts (offsets in the text as submitted:
    # the number tags are not part of it).
    offset, runs = len(essay.text or ""), []
    for child in essay:
        if "tag" not in (child.get("class") or "").split():
            if child.tag == "mark" and child.get("data-factors"):
                runs.append((offset, offset + len(child.text_content()), set(child.get("data-factors").split())))
            offset += len(child.text_content())
        offset += len(child.tail or "")
    assert offset == len(sub.text)
    previous: set[str] = set()
    end = -1
    for at, stop, factors in runs:
        if at != end:
            previous = set()  # an unmarked gap: every factor here starts afresh
        if factors - previous:
            assert at in starts, (at, sub.text[at:at + 40])
        previous, end = factors, stop
    key = [words(li) for li in doc.xpath("//li[contains(@class, 'legend-factor')]")]
    assert key and all(re.search(r": (explained|named only) \(in \d+ sentences?\)$", k) for k in key)
    assert "passage" not in " ".join(key)


def test_student_pages_show_times_in_the_schools_time_zone(app, client):
    url = send(client, None)
    with app.app_context():
        sub = db.session.query(Submission).one()
        sub.created_at = datetime(2026, 7, 1, 12, 5, tzinfo=timezone.utc)
        db.session.commit()
    page = html_of(client, url)
    assert "Submitted 1 Jul 2026, 13:05 BST" in words(doc_of(page)) and "UTC" not in page


def test_a_requests_reason_and_answer_are_in_subject_access_and_go_with_the_essay(app, school):
    student, teacher = school["student"], school["teacher"]
    url = send(student, school["code"], name="Dora Delete")
    sub = sub_of(app, url)
    assert student.post(f"{url}/look-again", data={"reason": "Please read my third paragraph."}).status_code == 303
    teacher.post(f"/teacher/submissions/{sub.id}/look-again", data={"answer": "Read it: the mark stands."})
    assert student.post(f"{url}/look-again", data={"reason": "And the conclusion, please."}).status_code == 303
    data = teacher.get(f"/teacher/classes/{school['class_id']}/student-data.json?student=Dora Delete").get_json()
    (essay,) = data["submissions"]
    assert [(r["reason"], r["answer"]) for r in essay["look_again_requests"]] == [
        ("Please read my third paragraph.", "Read it: the mark stands."), ("And the conclusion, please.", None)]
    assert teacher.post(f"/teacher/submissions/{sub.id}/delete", data={"confirm": "y"}).status_code == 303
    with app.app_context():
        assert db.session.query(LookAgainRequest).count() == 0
    assert student.get(url).status_code == 404


def test_an_expired_form_keeps_the_reason_and_sends_nothing(tmp_path):
    app = make_app(tmp_path / "csrf.sqlite", WTF_CSRF_ENABLED=True)
    code = add_class(app)
    student = app.test_client()
    page = html_of(student, "/questions/q1")
    token = doc_of(page).xpath("//input[@name='csrf_token']")[0].get("value")
    resp = student.post("/questions/q1", data={"text": read_fixture("q1_medium.txt"), "class_code": code,
                                               "csrf_token": token})
    url = TOKEN_URL.search(resp.headers["Location"]).group(1)
    resp = student.post(f"{url}/look-again", data={"reason": "Kept after an expired form."})
    body = resp.get_data(as_text=True)
    assert resp.status_code == 400 and "This form had expired" in body and "Kept after an expired form." in body
    fresh = doc_of(body).xpath("//form[contains(@class, 'look-again-form')]//input[@name='csrf_token']")[0].get("value")
    assert student.post(f"{url}/look-again", data={"reason": "Kept after an expired form.",
                                                   "csrf_token": fresh}).status_code == 303
    with app.app_context():
        assert db.session.query(LookAgainRequest).count() == 1


def test_the_class_pack_keeps_held_feedback_held_on_paper(app, school):
    student, teacher = school["student"], school["teacher"]
    assert teacher.post(f"/teacher/classes/{school['class_id']}/release-mode", data={"mode": "after_review"}).status_code == 303
    url = send(student, school["code"], name="Held Student")
    sub = sub_of(app, url)
    pack = teacher.get(f"/teacher/pack?class={school['code']}").get_data(as_text=True)
    sheet = re.search(rf'aria-labelledby="pack-{sub.id}">(.*?)</article>', pack, re.S).group(1)
    assert "Your teacher will release your feedback" in sheet
    assert "pack-big" not in sheet and "Level " not in sheet and "What to do next" not in sheet
    assert sub.token in sheet  # the link is still there, for when it is released
    # Once reviewed and released, the sheet carries the teacher's mark.
    review(teacher, sub.id, 18, "Now weigh the causes against each other.")
    assert teacher.post(f"/teacher/classes/{school['class_id']}/release").status_code == 303
    pack = teacher.get(f"/teacher/pack?class={school['code']}").get_data(as_text=True)
    sheet = re.search(rf'aria-labelledby="pack-{sub.id}">(.*?)</article>', pack, re.S).group(1)
    assert '<span class="pack-big">18<span class="muted">/25</span></span>' in sheet
    assert "Your teacher will release" not in sheet
