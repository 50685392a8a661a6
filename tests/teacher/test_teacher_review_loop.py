"""The review loop (issue 13): the list's filters, sort, page and page size ride along every trip
(review page, save, undo, breadcrumb); "Save and next" / "Agree and next" walk the filtered list;
bulk agree from the dashboard, scoped to the teacher's classes; the final mark follows the
criterion marks through the rubric's curve unless set on purpose; times in the school's time zone."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs, urlsplit

import pytest
from conftest import TEACHER_EMAIL, TEACHER_PASSWORD, add_class, add_teacher, make_app, sign_in

from khrushchev_essays.scoring import ScoreReport
from khrushchev_essays.storage import Review, ReviewChange, Submission, db, save_submission
from khrushchev_essays.storage.classes import class_by_code
from khrushchev_essays.storage.reviews import curved_mark

OTHER_EMAIL = "other@school.example"
ROW = re.compile(r'<th scope="row" class="col-student" id="name-\d+"><a href="/teacher/submissions/(\d+)(?:\?[^"]*)?">')
AT = 4102444800000  # "the list as shown then" (1 Jan 2100): every review below counts as made before it
FIXTURES = ("q1_strong.txt", "q1_medium.txt", "q1_narrative.txt", "q2_medium.txt", "q2_strong.txt")


def store(app, scored_fixture, code: str, name: str, fixture: str = "q1_medium.txt", days_ago: int = 0,
          when: datetime | None = None, needs_review: bool = False) -> int:
    text, report = scored_fixture(fixture)
    report = ScoreReport.from_dict(report.to_dict())
    # Set on purpose: the order is the chosen sort, with needs_review first only where asked.
    report.flags = [f for f in report.flags if f != "needs_review"] + (["needs_review"] if needs_review else [])
    with app.app_context():
        sub = save_submission(text, report, student_name=name, klass=class_by_code(code), commit=False)
        sub.created_at = when or datetime(2026, 11, 20, 12, tzinfo=timezone.utc) - timedelta(days=days_ago)
        db.session.commit()
        return sub.id


def query(location: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(location).query)


@pytest.fixture
def school(app, scored_fixture):
    """An admin account (the first made), a teacher (signed in) with class 12C of six essays, and
    another teacher's class 12D with two."""
    add_teacher(app, "head@school.example", "head password long enough", name="Head")
    mine = add_class(app, "12C History")
    theirs = add_class(app, "12D History", email=OTHER_EMAIL, password=TEACHER_PASSWORD, teacher_name="Mr Other")
    subs = [store(app, scored_fixture, mine, f"Student {i}", FIXTURES[i % len(FIXTURES)], days_ago=i) for i in range(6)]
    other = [store(app, scored_fixture, theirs, f"Other {i}", "q1_medium.txt", days_ago=i) for i in range(2)]
    client = app.test_client()
    assert sign_in(client).status_code == 303
    return {"client": client, "mine": mine, "theirs": theirs, "subs": subs, "other": other}


def list_ids(client, url: str) -> list[int]:
    resp = client.get(url)
    assert resp.status_code == 200
    return [int(i) for i in ROW.findall(resp.get_data(as_text=True))]


def form_of(app, sub_id: int, **changes) -> dict[str, str]:
    with app.app_context():
        sub = db.session.get(Submission, sub_id)
        rv = db.session.get(Review, sub_id)
        state = rv.state() if rv else {"mark": sub.mark, "criteria": {c["id"]: c["mark"] for c in sub.report["criteria"]}, "comment": ""}
        data = {f"crit_{k}": f"{v:g}" for k, v in state["criteria"].items()}
        data.update(mark=str(state["mark"]), comment=state["comment"] or "",
                    based_on=str(db.session.query(db.func.max(ReviewChange.id)).filter_by(submission_id=sub_id).scalar() or 0))
    data.update({k: str(v) for k, v in changes.items()})
    return data


def reviews(app) -> dict[int, Review]:
    with app.app_context():
        return {r.submission_id: r for r in db.session.query(Review)}


# --- the list's state --------------------------------------------------------------------------------

def test_the_list_state_survives_the_review_page_save_undo_and_breadcrumb(app, school):
    client, subs = school["client"], school["subs"]
    state = f"class={school['mine']}&sort=student&order=asc&per_page=50&at={AT}"
    dash = client.get(f"/teacher/?{state}").get_data(as_text=True)
    first = list_ids(client, f"/teacher/?{state}")
    assert set(first) == set(subs)  # the other class's essays are not there
    # Every row's link carries the state; so does the page size and the bulk form.
    assert f'href="/teacher/submissions/{first[0]}?{state.replace("&", "&amp;")}"' in dash
    assert '<option value="50" selected>' in dash

    page = client.get(f"/teacher/submissions/{first[1]}?{state}").get_data(as_text=True)
    assert f'href="/teacher/?{state.replace("&", "&amp;")}" id="back-to-list"' in page  # the breadcrumb
    assert "Essay 2 of 6 matching the filters" in page
    assert f'action="/teacher/submissions/{first[1]}?{state.replace("&", "&amp;")}"' in page  # the form posts it

    saved = client.post(f"/teacher/submissions/{first[1]}?{state}", data=form_of(app, first[1], comment="Good.", do="save"))
    assert saved.status_code == 303 and query(saved.headers["Location"]) == query(f"?{state}")
    assert urlsplit(saved.headers["Location"]).path == f"/teacher/submissions/{first[1]}"
    page = client.get(saved.headers["Location"]).get_data(as_text=True)
    change = reviews(app)[first[1]]
    assert change.comment == "Good."
    with app.app_context():
        change_id = db.session.query(ReviewChange).one().id
    assert f'action="/teacher/submissions/{first[1]}/revert/{change_id}?{state.replace("&", "&amp;")}"' in page
    undone = client.post(f"/teacher/submissions/{first[1]}/revert/{change_id}?{state}")
    assert undone.status_code == 303 and query(undone.headers["Location"]) == query(f"?{state}")
    assert first[1] not in reviews(app)


def test_a_page_size_of_50_holds_a_class_of_30_and_bad_sizes_read_as_25(app, scored_fixture):
    add_teacher(app)
    code = add_class(app, "13A History")
    for i in range(30):
        store(app, scored_fixture, code, f"Pupil {i:02d}", days_ago=i)
    client = app.test_client()
    sign_in(client)
    assert len(list_ids(client, f"/teacher/?class={code}")) == 25
    assert len(list_ids(client, f"/teacher/?class={code}&per_page=50")) == 30
    assert len(list_ids(client, f"/teacher/?class={code}&per_page=100")) == 30
    assert len(list_ids(client, f"/teacher/?class={code}&per_page=7")) == 25
    html = client.get(f"/teacher/?class={code}&page=2").get_data(as_text=True)
    assert "Showing 26–30 of 30" in html
    # An essay on page 2 knows its page: its breadcrumb goes back there.
    second_page = list_ids(client, f"/teacher/?class={code}&page=2")
    page = client.get(f"/teacher/submissions/{second_page[0]}?class={code}").get_data(as_text=True)
    assert re.search(rf'href="/teacher/\?class={code}&amp;page=2&amp;at=\d+" id="back-to-list"', page) and "Essay 26 of 30" in page


# --- moving through the list -------------------------------------------------------------------------

def test_save_and_next_walks_the_filtered_list_and_stops_at_its_end(app, school):
    client = school["client"]
    state = f"class={school['mine']}&reviewed=no&sort=student&order=asc&at={AT}"
    order = list_ids(client, f"/teacher/?{state}")
    assert len(order) == 6
    visited, url = [], f"/teacher/submissions/{order[0]}?{state}"
    for _ in range(10):
        sub_id = int(urlsplit(url).path.rsplit("/", 1)[1])
        visited.append(sub_id)
        page = client.get(url).get_data(as_text=True)
        assert "Save and next" in page or sub_id == order[-1]
        resp = client.post(url, data=form_of(app, sub_id, do="save_next"))
        assert resp.status_code == 303
        url = resp.headers["Location"]
        if urlsplit(url).path == "/teacher/":
            break
    # Each essay in the list's order, once, though each left the "not reviewed" list as it was saved.
    assert visited == order
    assert query(url) == query(f"?{state}")  # back to the same list after the last one
    assert "That was the last essay in this list." in client.get(url).get_data(as_text=True)
    assert set(reviews(app)) == set(order)
    assert list_ids(client, f"/teacher/?{state}") == []


def test_the_walk_keeps_the_order_the_list_had_when_it_was_shown(app, school, scored_fixture):
    """An unsure essay leads the list until reviewed; reviewing it must not move it under the
    teacher's feet, or "next" would bring it back."""
    client, mine = school["client"], school["mine"]
    unsure = store(app, scored_fixture, mine, "Zoe Unsure", needs_review=True)
    dash = client.get(f"/teacher/?class={mine}&sort=student&order=asc").get_data(as_text=True)
    order = [int(i) for i in ROW.findall(dash)]
    assert order[0] == unsure and len(order) == 7
    url = re.search(rf'href="(/teacher/submissions/{unsure}\?[^"]+)"', dash).group(1).replace("&amp;", "&")
    assert "at=" in url
    visited = []
    while urlsplit(url).path != "/teacher/":
        sub_id = int(urlsplit(url).path.rsplit("/", 1)[1])
        assert sub_id not in visited
        visited.append(sub_id)
        url = client.post(url, data=form_of(app, sub_id, do="agree_next")).headers["Location"]
    assert visited == order
    # A fresh look at the list: the reviewed unsure essay now sits in its place by name.
    assert list_ids(client, f"/teacher/?class={mine}&sort=student&order=asc")[-1] == unsure


def test_agree_and_next_and_the_next_and_previous_links(app, school):
    client = school["client"]
    state = f"class={school['mine']}&sort=student&order=asc&at={AT}"
    order = list_ids(client, f"/teacher/?{state}")
    page = client.get(f"/teacher/submissions/{order[2]}?{state}").get_data(as_text=True)
    amp = state.replace("&", "&amp;")
    assert f'id="prev-essay" rel="prev" href="/teacher/submissions/{order[1]}?{amp}"' in page
    assert f'id="next-essay" rel="next" href="/teacher/submissions/{order[3]}?{amp}"' in page
    first = client.get(f"/teacher/submissions/{order[0]}?{state}").get_data(as_text=True)
    assert 'id="prev-essay"' not in first and 'id="next-essay"' in first
    last = client.get(f"/teacher/submissions/{order[-1]}?{state}").get_data(as_text=True)
    assert 'id="next-essay"' not in last and "Agree and back to the list" in last

    # Agree with a criterion mark typed in: the automatic marks are recorded all the same.
    resp = client.post(f"/teacher/submissions/{order[2]}?{state}",
                       data=form_of(app, order[2], do="agree_next", crit_factors="0", comment="Agreed."))
    assert resp.status_code == 303 and resp.headers["Location"] == f"/teacher/submissions/{order[3]}?{state}"
    with app.app_context():
        sub = db.session.get(Submission, order[2])
        rv = db.session.get(Review, order[2])
        assert (rv.mark, rv.level, rv.comment) == (sub.mark, sub.level, "Agreed.")
        assert rv.criteria == {c["id"]: float(c["mark"]) for c in sub.report["criteria"]}


def test_an_essay_outside_the_list_has_no_next_and_other_classes_essays_are_404(app, school):
    client = school["client"]
    page = client.get(f"/teacher/submissions/{school['subs'][0]}?search=nobody").get_data(as_text=True)
    assert "Not in the list you came from" in page and 'id="next-essay"' not in page
    assert client.get(f"/teacher/submissions/{school['other'][0]}").status_code == 404


# --- bulk agree --------------------------------------------------------------------------------------

def test_bulk_agree_records_one_review_per_ticked_essay(app, school):
    client, subs = school["client"], school["subs"]
    state = f"class={school['mine']}&per_page=50&at={AT}"
    # One essay already has a teacher's mark: bulk agree puts it back to the automatic one, recorded.
    client.post(f"/teacher/submissions/{subs[0]}", data=form_of(app, subs[0], mark=1, comment="Keep this."))
    resp = client.post(f"/teacher/agree?{state}", data={"ids": [str(s) for s in subs[:4]]})
    assert resp.status_code == 303 and query(resp.headers["Location"]) == query(f"?{state}")
    assert "Agreed with the automatic mark on 4 essays." in client.get(resp.headers["Location"]).get_data(as_text=True)
    got = reviews(app)
    assert set(got) == set(subs[:4])
    with app.app_context():
        for sid in subs[:4]:
            sub = db.session.get(Submission, sid)
            assert (got[sid].mark, got[sid].level) == (sub.mark, sub.level)
            assert db.session.query(ReviewChange).filter_by(submission_id=sid).count() == (2 if sid == subs[0] else 1)
    assert got[subs[0]].comment == "Keep this."
    # Again: nothing new is recorded.
    client.post("/teacher/agree", data={"ids": [str(s) for s in subs[:4]]})
    with app.app_context():
        assert db.session.query(ReviewChange).count() == 5


def test_bulk_agree_refuses_another_classes_essay_and_records_nothing(app, school):
    client = school["client"]
    for bad in ([school["subs"][0], school["other"][0]], [school["subs"][1], 999999], ["x"]):
        resp = client.post("/teacher/agree", data={"ids": [str(b) for b in bad]})
        assert resp.status_code in (404, 400)
    assert client.post("/teacher/agree", data={"ids": [str(school["other"][0])]}).status_code == 404
    with app.app_context():
        assert db.session.query(Review).count() == 0 and db.session.query(ReviewChange).count() == 0


def test_bulk_agree_needs_the_csrf_token(tmp_path, scored_fixture):
    app = make_app(tmp_path / "csrf.sqlite", WTF_CSRF_ENABLED=True)
    add_teacher(app)
    code = add_class(app, "12C History")
    sid = store(app, scored_fixture, code, "Anna")
    client = app.test_client()
    login = client.get("/teacher/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', login).group(1)
    assert client.post("/teacher/login", data={"email": TEACHER_EMAIL, "password": TEACHER_PASSWORD,
                                               "csrf_token": token}).status_code == 303
    assert client.post("/teacher/agree", data={"ids": [str(sid)]}).status_code == 400
    assert reviews(app) == {}
    dash = client.get("/teacher/").get_data(as_text=True)
    token = re.search(r'id="bulk-form"[^>]*>\s*<input id="csrf_token" name="csrf_token" type="hidden" value="([^"]+)"', dash).group(1)
    assert client.post("/teacher/agree", data={"ids": [str(sid)], "csrf_token": token}).status_code == 303
    assert set(reviews(app)) == {sid}


# --- consistent overrides ----------------------------------------------------------------------------

def test_criterion_marks_alone_set_the_curved_final_mark(app, school, q1):
    client, sid = school["client"], school["subs"][0]
    with app.app_context():
        sub = db.session.get(Submission, sid)
        crits = {c["id"]: c["mark"] for c in sub.report["criteria"]}
    crits["factors"], crits["evidence"] = 0, 0.5
    data = form_of(app, sid, crit_factors=0, crit_evidence=0.5)  # the final mark left as it was
    assert client.post(f"/teacher/submissions/{sid}", data=data).status_code == 303
    expected = curved_mark(q1, crits)
    assert expected == round(25 * (sum(crits.values()) / 25) ** q1.mark_curve)
    rv = reviews(app)[sid]
    assert (rv.mark, rv.level) == (expected, q1.level_for_mark(expected))
    assert rv.criteria["factors"] == 0


def test_criterion_and_final_marks_that_disagree_are_refused_with_a_message(app, school, q1):
    client, sid = school["client"], school["subs"][0]
    with app.app_context():
        crits = {c["id"]: c["mark"] for c in db.session.get(Submission, sid).report["criteria"]}
    crits["factors"] = 0
    curved = curved_mark(q1, crits)
    wrong = 23 if curved != 23 else 22
    resp = client.post(f"/teacher/submissions/{sid}", data=form_of(app, sid, crit_factors=0, mark=wrong))
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    assert "The review was not saved" in html
    assert f"Your criterion marks come to {curved} after the scheme’s curve, but the final mark says {wrong}" in html
    assert reviews(app) == {}
    # The same marks agreeing are saved; ticking the box keeps a final mark set on purpose.
    assert client.post(f"/teacher/submissions/{sid}", data=form_of(app, sid, crit_factors=0, mark=curved)).status_code == 303
    assert reviews(app)[sid].mark == curved
    resp = client.post(f"/teacher/submissions/{sid}", data=form_of(app, sid, crit_factors=1, mark=wrong, own_mark="y"))
    assert resp.status_code == 303 and reviews(app)[sid].mark == wrong
    # Changing only the final mark sets it on purpose too.
    assert client.post(f"/teacher/submissions/{sid}", data=form_of(app, sid, mark=5)).status_code == 303
    assert reviews(app)[sid].mark == 5


def test_the_review_form_carries_the_curve_for_the_live_check(app, school, q1):
    page = school["client"].get(f"/teacher/submissions/{school['subs'][0]}").get_data(as_text=True)
    assert f'data-curve-max="25" data-curve-power="{q1.mark_curve}"' in page
    assert 'name="own_mark"' in page and "I set this mark myself" in page
    assert '<p class="key-legend" id="key-legend" hidden>' in page  # shown by the script only


# --- times in the school's time zone -----------------------------------------------------------------

def test_times_are_shown_in_the_schools_time_zone_across_a_dst_boundary(app, scored_fixture):
    add_teacher(app)
    code = add_class(app, "12C History")
    winter = store(app, scored_fixture, code, "Winter", when=datetime(2026, 3, 28, 12, 5, tzinfo=timezone.utc))
    summer = store(app, scored_fixture, code, "Summer", when=datetime(2026, 3, 29, 12, 5, tzinfo=timezone.utc))
    client = app.test_client()
    sign_in(client)
    dash = client.get("/teacher/").get_data(as_text=True)
    assert "28 Mar 2026, 12:05 GMT" in dash and "29 Mar 2026, 13:05 BST" in dash  # clocks went forward at 01:00 UTC
    assert "UTC" not in dash
    assert "29 Mar 2026, 13:05 BST" in client.get(f"/teacher/submissions/{summer}").get_data(as_text=True)
    assert "28 Mar 2026, 12:05 GMT" in client.get(f"/teacher/submissions/{winter}").get_data(as_text=True)


def test_the_time_zone_is_a_setting_and_a_wrong_name_is_refused(tmp_path, scored_fixture):
    app = make_app(tmp_path / "tz.sqlite", TIMEZONE="Asia/Tokyo")
    add_teacher(app)
    code = add_class(app, "12C History")
    store(app, scored_fixture, code, "Tokyo", when=datetime(2026, 7, 1, 23, 30, tzinfo=timezone.utc))
    client = app.test_client()
    sign_in(client)
    assert "2 Jul 2026, 08:30 JST" in client.get("/teacher/").get_data(as_text=True)
    with pytest.raises(RuntimeError, match="KHRUSHCHEV_TIMEZONE='Mars/Olympus' is not a time zone"):
        make_app(tmp_path / "bad.sqlite", TIMEZONE="Mars/Olympus")
