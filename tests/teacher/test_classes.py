"""Classes and roles through the real stack: an admin and two teachers of two classes, essays sent
through the essay form with the classes' join codes, and every teacher (and admin) route walked
as the teacher of the other class."""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass, field

import pytest
from conftest import TEACHER_PASSWORD, make_app, read_fixture, sign_in
from flask import url_for

from khrushchev_essays.scoring import score
from khrushchev_essays.storage import AuditEvent, Review, ReviewChange, SchoolClass, Submission, SubmissionFlag, Teacher, db
from khrushchev_essays.storage.accounts import create_teacher
from khrushchev_essays.storage.classes import CODE_ALPHABET, CODE_LENGTH, create_class, normalise_code
from khrushchev_essays.storage.reviews import save_review
from khrushchev_essays.storage.submissions import save_submission

FEEDBACK = re.compile(r"/feedback/([A-Za-z0-9_-]{32,})$")


def submit(client, qid: str, code: str, name: str, fixture: str, parent_token: str | None = None) -> str:
    """Send an essay through the essay form (or its revision form); the feedback token."""
    url = f"/feedback/{parent_token}/revise" if parent_token else f"/questions/{qid}"
    resp = client.post(url, data={"text": read_fixture(fixture), "student_name": name, "class_code": code})
    assert resp.status_code == 303, resp.get_data(as_text=True)[:500]
    return FEEDBACK.search(resp.headers["Location"]).group(1)


def table_counts(app) -> dict[str, int]:
    with app.app_context():
        return {m.__tablename__: db.session.query(m).count()
                for m in (Submission, SubmissionFlag, Review, ReviewChange, SchoolClass)}


@dataclass
class School:
    app: object
    ids: dict[str, int] = field(default_factory=dict)
    codes: dict[str, str] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)

    def client(self, who: str):
        client = self.app.test_client()
        assert sign_in(client, f"{who}@school.example", TEACHER_PASSWORD).status_code == 303
        return client

    def sub(self, token: str) -> int:
        with self.app.app_context():
            return db.session.query(Submission).filter_by(token=token).one().id


# What teacher A must never see of class B (and of essays outside any class).
B_SECRETS = ("Boris Betov", "Bella Betova", "Beta Class", "Beta secret comment", "Ivan Independent", "Lena Legacy", "OLD9")


@pytest.fixture
def school(tmp_path) -> School:
    app = make_app(tmp_path / "school.sqlite")
    s = School(app)
    with app.app_context():
        head = create_teacher("head@school.example", TEACHER_PASSWORD, name="Ms Head")
        a = create_teacher("a@school.example", TEACHER_PASSWORD, name="Mr Alpha")
        b = create_teacher("b@school.example", TEACHER_PASSWORD, name="Mrs Beta")
        assert (head.role, a.role, b.role) == ("admin", "teacher", "teacher")  # the first account is the admin
        ka, kb = create_class("Alpha Class", [a]), create_class("Beta Class", [b])
        s.ids.update(a=a.id, b=b.id, head=head.id, ka=ka.id, kb=kb.id)
        s.codes.update(a=ka.join_code, b=kb.join_code)
    student = app.test_client()
    s.tokens["anna1"] = submit(student, "q1", s.codes["a"], "Anna Alphason", "q1_narrative.txt")
    s.tokens["anna2"] = submit(student, "q1", s.codes["a"], "Anna Alphason", "q1_medium.txt", parent_token=s.tokens["anna1"])
    s.tokens["arkady"] = submit(student, "q2", s.codes["a"].lower(), "Arkady Alphov", "q2_medium.txt")
    s.tokens["boris"] = submit(student, "q1", s.codes["b"], "Boris Betov", "q1_strong.txt")
    s.tokens["bella"] = submit(student, "q2", s.codes["b"], "Bella Betova", "q2_medium.txt")
    s.tokens["ivan"] = submit(student, "q1", "", "Ivan Independent", "q1_medium.txt")  # no code: independent practice
    with app.app_context():
        text = read_fixture("q2_medium.txt")
        report = score(text, "q2")
        legacy = save_submission(text, report, student_name="Lena Legacy", class_code="OLD9")  # from before classes
        s.ids["lena"] = legacy.id
        boris = db.session.query(Submission).filter_by(token=s.tokens["boris"]).one()
        teacher_b = db.session.get(Teacher, s.ids["b"])
        change = save_review(boris, teacher_b, mark=20, level=4, criteria={}, comment="Beta secret comment")
        s.ids["boris"], s.ids["boris_change"] = boris.id, change.id
    return s


def a_ids(school: School) -> set[int]:
    return {school.sub(school.tokens[k]) for k in ("anna1", "anna2", "arkady")}


def no_secrets(body: str, school: School, where: str, typed: bool = False) -> None:
    """None of class B's names, code, comment or essay ids in `body` (`typed`: B's code was in the
    query string, and a page may echo back what was asked, e.g. in its export links)."""
    code = school.codes["b"]
    for secret in (*B_SECRETS, *(() if typed else (code,)), f"{code[:3]} {code[3:]}"):
        assert secret not in body, f"{where} shows {secret!r}"
    for sid in (school.ids["boris"], school.sub(school.tokens["bella"]), school.sub(school.tokens["ivan"]), school.ids["lena"]):
        assert f"/teacher/submissions/{sid}\"" not in body and f"/teacher/submissions/{sid}/" not in body, where


def test_every_teacher_and_admin_route_as_the_other_classes_teacher_leaks_nothing(school):
    """Walks app.url_map, so a route added later is walked too (or this test says which example it needs)."""
    app, client = school.app, school.client("a")
    examples = {"sub_id": school.ids["boris"], "change_id": school.ids["boris_change"], "class_id": school.ids["kb"],
                "teacher_id": school.ids["b"], "qid": "q1",
                # A registered source: reference texts shared by the whole site, not any class's data.
                "key": "0123456789abcdef"}
    unscoped = {"qid", "key"}  # arguments that name nothing of a class
    # Query strings a page might take, all naming class B's data.
    query = {"class": school.codes["b"], "student": "Boris Betov", "search": "Boris"}
    before = table_counts(app)
    walked = []
    rules = [r for r in app.url_map.iter_rules() if r.endpoint.startswith(("teacher.", "admin."))]
    assert {r.endpoint for r in rules} >= {"teacher.dashboard", "teacher.review", "teacher.export_csv", "teacher.classes",
                                           "teacher.student_data", "admin.index"}
    for rule in rules:
        if rule.endpoint in ("teacher.login", "teacher.logout"):
            continue
        missing = set(rule.arguments) - set(examples)
        assert not missing, f"add an example value for {sorted(missing)} of {rule.rule} to this test"
        with app.test_request_context():
            urls = [url_for(rule.endpoint, **{k: examples[k] for k in rule.arguments}, **extra) for extra in ({}, query)]
        for url, typed in zip(urls, (False, True)):
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                resp = client.open(url, method=method, data={"mark": "25", "comment": "changed", "confirm": "y",
                                                             "name": "Renamed by A", "student": "Boris Betov",
                                                             "active": "0", "email": "x@school.example"})
                walked.append((method, url, resp.status_code))
                body = resp.get_data(as_text=True)
                if rule.endpoint.startswith("admin.") or set(rule.arguments) - unscoped:
                    assert resp.status_code == 404, (method, url, resp.status_code)
                else:
                    ok = (200, 303, 422, 404) if "key" in rule.arguments else (200, 303, 422)  # an unknown source
                    assert resp.status_code in ok, (method, url, resp.status_code)
                    if resp.status_code == 303:  # the page it leads to, with its flashed message
                        body += client.get(resp.headers["Location"]).get_data(as_text=True)
                no_secrets(body, school, f"{method} {url}", typed)
    assert len(walked) >= 40
    after = table_counts(app)
    # Nothing of B's changed: the only new rows anywhere are the classes A made on the classes page (twice).
    assert after == {**before, "classes": before["classes"] + 2}
    with app.app_context():
        assert db.session.get(Review, school.ids["boris"]).comment == "Beta secret comment"
        assert db.session.get(SchoolClass, school.ids["kb"]).name == "Beta Class"
        assert db.session.get(Teacher, school.ids["b"]).active


def test_exports_and_analytics_hold_only_the_teachers_own_classes(school):
    client = school.client("a")
    rows = list(csv.DictReader(io.StringIO(client.get("/teacher/export.csv").get_data(as_text=True).lstrip("\ufeff"), newline="")))
    assert {int(r["id"]) for r in rows} == a_ids(school)
    assert {r["class"] for r in rows} == {"Alpha Class"} and {r["class_code"] for r in rows} == {school.codes["a"]}
    exported = json.loads(client.get("/teacher/export.json").get_data(as_text=True))
    assert exported["count"] == 3 and {r["id"] for r in exported["submissions"]} == a_ids(school)
    assert json.loads(client.get(f"/teacher/export.json?class={school.codes['b']}").get_data(as_text=True))["count"] == 0
    assert json.loads(client.get("/teacher/export.json?search=Anna").get_data(as_text=True))["count"] == 2

    html = client.get("/teacher/analytics").get_data(as_text=True)
    # Latest attempts: Anna's second for q1, Arkady's for q2; class B's essays would make each 2.
    assert re.findall(r"<strong>(\d+)</strong> essays", html) == ["1", "1"]
    assert re.findall(r"<strong>(\d+)</strong> reviewed", html) == ["0", "0"]
    assert "Retrain from 0 reviews" in html and "Retrain from 1 review" not in html
    no_secrets(html, school, "analytics")

    # Teacher B sees B's class only; the admin sees everything, including essays outside any class.
    b_rows = json.loads(school.client("b").get("/teacher/export.json").get_data(as_text=True))["submissions"]
    assert sorted(r["student"] for r in b_rows) == ["Bella Betova", "Boris Betov"]
    everything = json.loads(school.client("head").get("/teacher/export.json").get_data(as_text=True))["submissions"]
    assert len(everything) == 7 and {"Ivan Independent", "Lena Legacy"} <= {r["student"] for r in everything}
    with school.app.app_context():
        logged = db.session.query(AuditEvent).filter(AuditEvent.action.in_(["export_csv", "export_json"])).all()
        assert sorted((e.actor, e.action, e.count) for e in logged) == sorted([
            ("a@school.example", "export_csv", 3), ("a@school.example", "export_json", 3),
            ("a@school.example", "export_json", 0), ("a@school.example", "export_json", 2),
            ("b@school.example", "export_json", 2),
            ("head@school.example", "export_json", 7)])
        assert not any("Anna" in json.dumps(e.detail) for e in logged)  # the name searched for is not logged


def test_an_unknown_code_is_refused_on_the_form_with_the_essay_kept(school):
    before = table_counts(school.app)
    student = school.app.test_client()
    text = read_fixture("q1_medium.txt")
    resp = student.post("/questions/q1", data={"text": text, "student_name": "Kim", "class_code": "ZZZ 999"})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert "No class has the code ZZZ 999" in html and "Your essay has not been sent yet" in html
    assert text[:60].replace("'", "&#39;") in html and 'value="Kim"' in html
    assert table_counts(school.app) == before


def test_a_new_join_code_replaces_the_old_one(school):
    client = school.client("a")
    assert client.post(f"/teacher/classes/{school.ids['ka']}/code").status_code == 303
    with school.app.app_context():
        new = db.session.get(SchoolClass, school.ids["ka"]).join_code
    assert new != school.codes["a"]
    student = school.app.test_client()
    old = student.post("/questions/q1", data={"text": read_fixture("q1_medium.txt"), "class_code": school.codes["a"]})
    assert old.status_code == 422 and "No class has the code" in old.get_data(as_text=True)
    token = submit(student, "q1", new, "Nadia New", "q1_medium.txt")
    assert "Nadia New" in client.get("/teacher/").get_data(as_text=True)
    # The essays sent with the old code are still in the class.
    assert "Anna Alphason" in client.get(f"/teacher/?class={new}").get_data(as_text=True)
    assert token


def test_join_codes_are_short_unambiguous_and_unique(tmp_path):
    app = make_app(tmp_path / "codes.sqlite")
    with app.app_context():
        t = create_teacher("t@school.example", TEACHER_PASSWORD)
        codes = [create_class(f"Class {i}", [t]).join_code for i in range(200)]
    assert len(set(codes)) == 200
    assert all(len(c) == CODE_LENGTH and set(c) <= set(CODE_ALPHABET) for c in codes)
    assert not set("0O1IL2Z5S8B") & set(CODE_ALPHABET)
    assert normalise_code(" kxr-7dm ") == normalise_code("KXR 7DM") == "KXR7DM"


def test_teachers_make_and_rename_their_own_classes_only(school):
    a = school.client("a")
    resp = a.post("/teacher/classes", data={"name": "  Year 13   Revision "})
    assert resp.status_code == 303
    page = a.get(resp.headers["Location"]).get_data(as_text=True)
    assert "Year 13 Revision" in page
    code = re.search(r'<p class="join-code-big" id="join-code">(\w{3}) (\w{3})</p>', page)
    assert code and len(code.group(1) + code.group(2)) == CODE_LENGTH
    assert a.post("/teacher/classes", data={"name": ""}).status_code == 422
    assert a.post(f"/teacher/classes/{school.ids['ka']}/rename", data={"name": "Alpha Renamed"}).status_code == 303
    assert a.post(f"/teacher/classes/{school.ids['kb']}/rename", data={"name": "Hijacked"}).status_code == 404
    with school.app.app_context():
        assert db.session.get(SchoolClass, school.ids["ka"]).name == "Alpha Renamed"
        assert db.session.get(SchoolClass, school.ids["kb"]).name == "Beta Class"
    classes = a.get("/teacher/classes").get_data(as_text=True)
    assert "Alpha Renamed" in classes and "Year 13 Revision" in classes and "Beta Class" not in classes


def test_deleting_one_essay_needs_confirming_and_removes_exactly_it(school):
    client = school.client("b")
    sid = school.ids["boris"]
    confirm = client.get(f"/teacher/submissions/{sid}/delete")
    assert confirm.status_code == 200 and "cannot be undone" in confirm.get_data(as_text=True)
    before = table_counts(school.app)
    unconfirmed = client.post(f"/teacher/submissions/{sid}/delete", data={})
    assert unconfirmed.status_code == 422 and "Tick the box" in unconfirmed.get_data(as_text=True)
    assert table_counts(school.app) == before
    with school.app.app_context():
        flags = db.session.query(SubmissionFlag).filter_by(submission_id=sid).count()
    assert client.post(f"/teacher/submissions/{sid}/delete", data={"confirm": "y"}).status_code == 303
    after = table_counts(school.app)
    assert after == {**before, "submissions": before["submissions"] - 1, "reviews": before["reviews"] - 1,
                     "review_changes": before["review_changes"] - 1, "submission_flags": before["submission_flags"] - flags}
    assert client.get(f"/teacher/submissions/{sid}").status_code == 404
    assert school.app.test_client().get(f"/feedback/{school.tokens['boris']}").status_code == 404
    with school.app.app_context():
        (event,) = db.session.query(AuditEvent).filter_by(action="delete_submission").all()
        assert (event.actor, event.count, event.class_id) == ("b@school.example", 1, school.ids["kb"])
        assert "Boris" not in json.dumps(event.detail) and "Boris" not in event.actor


def test_deleting_a_students_essays_in_a_class_removes_all_of_theirs_and_nothing_else(school):
    client = school.client("a")
    ka = school.ids["ka"]
    page = client.get(f"/teacher/classes/{ka}").get_data(as_text=True)
    assert "Anna Alphason" in page and "Arkady Alphov" in page
    confirm = client.get(f"/teacher/classes/{ka}/delete-student?student=anna%20ALPHASON").get_data(as_text=True)
    assert re.search(r"This deletes\s+2 essays", confirm)
    before = table_counts(school.app)
    resp = client.post(f"/teacher/classes/{ka}/delete-student?student=anna%20ALPHASON", data={"confirm": "y", "student": "x"})
    assert resp.status_code == 303
    after = table_counts(school.app)
    assert after["submissions"] == before["submissions"] - 2
    with school.app.app_context():
        left = {s.student_name for s in db.session.query(Submission)}
        assert "Anna Alphason" not in left and {"Arkady Alphov", "Boris Betov", "Bella Betova"} <= left
        (event,) = db.session.query(AuditEvent).filter_by(action="delete_student").all()
        assert (event.count, event.class_id, event.detail) == (2, ka, {})
    # The other class's teacher cannot delete in this class, nor learn whether the student exists.
    b = school.client("b")
    assert b.get(f"/teacher/classes/{ka}/delete-student?student=Arkady%20Alphov").status_code == 404
    assert b.post(f"/teacher/classes/{ka}/delete-student?student=Arkady%20Alphov", data={"confirm": "y"}).status_code == 404
    assert table_counts(school.app)["submissions"] == after["submissions"]


def test_a_later_attempt_survives_its_first_attempts_deletion(school):
    client = school.client("a")
    first, second = school.sub(school.tokens["anna1"]), school.sub(school.tokens["anna2"])
    assert client.post(f"/teacher/submissions/{first}/delete", data={"confirm": "y"}).status_code == 303
    with school.app.app_context():
        kept = db.session.get(Submission, second)
        assert (kept.root_id, kept.parent_id) == (second, None)
    assert school.app.test_client().get(f"/feedback/{school.tokens['anna2']}").status_code == 200


def test_subject_access_exports_everything_about_one_student_and_is_logged(school):
    b = school.client("b")
    resp = b.get(f"/teacher/classes/{school.ids['kb']}/student-data.json?student=boris%20betov")
    assert resp.status_code == 200 and resp.headers["Content-Disposition"].startswith("attachment")
    data = json.loads(resp.get_data(as_text=True))
    assert data["count"] == 1 and data["class"] == "Beta Class"
    (essay,) = data["submissions"]
    assert essay["text"] == read_fixture("q1_strong.txt") and essay["report"]["status"] == "scored"
    assert essay["teacher_review"]["comment"] == "Beta secret comment" and essay["teacher_review"]["reviewed_by"] == "Mrs Beta"
    assert len(essay["review_history"]) == 1 and "token" not in essay
    assert "Bella" not in resp.get_data(as_text=True)
    with school.app.app_context():
        (event,) = db.session.query(AuditEvent).filter_by(action="subject_access").all()
        assert (event.actor, event.count, event.class_id) == ("b@school.example", 1, school.ids["kb"])
    assert school.client("a").get(f"/teacher/classes/{school.ids['kb']}/student-data.json?student=Boris%20Betov").status_code == 404


def test_admin_pages_are_for_admins_and_attach_old_codes_to_a_class(school):
    assert school.client("a").get("/admin/").status_code == 404
    assert school.app.test_client().get("/admin/").status_code == 303  # signed out: to the sign-in page
    head = school.client("head")
    index = head.get("/admin/").get_data(as_text=True)
    assert "a@school.example" in index and "Mrs Beta" in index and "admin" in index
    classes = head.get("/admin/classes").get_data(as_text=True)
    assert "OLD9" in classes and "Alpha Class" in classes and "Beta Class" in classes
    resp = head.post("/admin/legacy-codes", data={"attach-code": "OLD9", "attach-class_id": str(school.ids["ka"])})
    assert resp.status_code == 303
    assert "Lena Legacy" in school.client("a").get("/teacher/").get_data(as_text=True)
    assert "OLD9 (old code" not in head.get("/teacher/").get_data(as_text=True)
    # A second teacher for class B, from the admin page: they see B's essays too.
    head.post("/admin/teachers", data={"email": "c@school.example", "name": "Dr Gamma", "password": TEACHER_PASSWORD})
    with school.app.app_context():
        from khrushchev_essays.storage.accounts import find_teacher

        c_id = find_teacher("c@school.example").id
        assert find_teacher("c@school.example").role == "teacher"
    head.post(f"/admin/classes/{school.ids['kb']}/teachers", data={f"k{school.ids['kb']}-teacher": str(c_id)})
    assert "Boris Betov" in school.client("c").get("/teacher/").get_data(as_text=True)
    with school.app.app_context():
        actions = [e.action for e in db.session.query(AuditEvent).order_by(AuditEvent.id)]
        assert actions == ["attach_code", "create_teacher"]
    assert "Attached essays with an old class code" in head.get("/admin/audit").get_data(as_text=True)


def test_independent_practice_is_seen_by_admins_only(school):
    ivan = school.sub(school.tokens["ivan"])
    for who in ("a", "b"):
        client = school.client(who)
        assert "Ivan Independent" not in client.get("/teacher/").get_data(as_text=True)
        assert client.get(f"/teacher/submissions/{ivan}").status_code == 404
    feedback = school.app.test_client().get(f"/feedback/{school.tokens['ivan']}").get_data(as_text=True)
    assert "Independent practice (no class: no teacher sees it)" in feedback
    head = school.client("head")
    assert "Ivan Independent" in head.get("/teacher/").get_data(as_text=True)
    assert head.get(f"/teacher/submissions/{ivan}").status_code == 200


def test_the_privacy_page_is_linked_from_every_student_page(school, tmp_path):
    student = school.app.test_client()
    for url in ("/", "/questions/q1", "/questions/q2", f"/feedback/{school.tokens['arkady']}",
                f"/feedback/{school.tokens['arkady']}/revise"):
        assert 'href="/privacy"' in student.get(url).get_data(as_text=True), url
    page = student.get("/privacy").get_data(as_text=True)
    assert "400 days" in page and "Who can see it" in page and "Ask your teacher" in page
    short = make_app(tmp_path / "short.sqlite", RETENTION_DAYS=30)
    assert "30 days" in short.test_client().get("/privacy").get_data(as_text=True)


def test_a_teacher_without_a_class_is_told_how_to_make_one(tmp_path):
    app = make_app(tmp_path / "new.sqlite")
    with app.app_context():
        create_teacher("head@school.example", TEACHER_PASSWORD)
        create_teacher("new@school.example", TEACHER_PASSWORD)
    client = app.test_client()
    sign_in(client, "new@school.example", TEACHER_PASSWORD)
    assert "You teach no class yet" in client.get("/teacher/").get_data(as_text=True)
    assert "you have none yet" in client.get("/teacher/upload").get_data(as_text=True)


def test_the_class_column_sorts_by_the_name_it_shows(school):
    # Unreviewed needs_review essays come first whatever the sort (queries.ordered), and which
    # fixtures the engine flags changes with the engine: reviewed, every row is in the sort's order.
    with school.app.app_context():
        head = db.session.get(Teacher, school.ids["head"])
        for sub in db.session.query(Submission).filter(~Submission.review.has()).all():
            if "needs_review" in sub.flags:
                save_review(sub, head, mark=sub.mark, level=sub.level, criteria={}, comment="")
    html = school.client("head").get("/teacher/?sort=class&order=asc").get_data(as_text=True)
    shown = re.findall(r'<td class="col-class"><span class="card-label">Class </span>([^<]*)</td>', html)
    assert shown == sorted(shown, key=lambda c: (c == "–", c.lower()))
    assert shown[0] == "Alpha Class" and shown[-2:] == ["OLD9", "–"]
