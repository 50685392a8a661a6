"""The dashboard (filters, search, sort, pages, needs_review first) and the review page (overrides
validated to the rubric, history, revert, the student's feedback page showing the teacher's mark)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest

from khrushchev_essays.scoring import ScoreReport
from khrushchev_essays.storage import Review, ReviewChange, Submission, db, save_submission
from khrushchev_essays.storage.queries import PER_PAGE

ROW = re.compile(r'<tr(?: class="needs-review")?>\s*<td class="col-pick">.*?</td>\s*<th scope="row" class="col-student" id="name-\d+">'
                 r'<a href="/teacher/submissions/(\d+)(?:\?[^"]*)?">')


def store(app, scored_fixture, name="q1_medium.txt", days_ago=0, needs_review=False, **kw) -> int:
    """Store a fixture essay `days_ago` days before 20 Nov 2026; needs_review set or cleared on purpose
    (whether the engine is unsure of an essay changes as it improves)."""
    text, report = scored_fixture(name)
    report = ScoreReport.from_dict(report.to_dict())
    report.flags = [f for f in report.flags if f != "needs_review"] + (["needs_review"] if needs_review else [])
    with app.app_context():
        sub = save_submission(text, report, commit=False, **kw)
        sub.created_at = datetime(2026, 11, 20, 12, tzinfo=timezone.utc) - timedelta(days=days_ago)
        db.session.commit()
        return sub.id


def ids(resp) -> list[int]:
    assert resp.status_code == 200
    return [int(i) for i in ROW.findall(resp.get_data(as_text=True))]


@pytest.fixture
def classroom(app, scored_fixture):
    """Five essays across two classes and both questions; one flagged needs_review."""
    return {
        "anna": store(app, scored_fixture, "q1_strong.txt", 1, student_name="Anna Petrova", class_code="12C"),
        "boris": store(app, scored_fixture, "q1_narrative.txt", 2, student_name="Boris 50%_off", class_code="12C"),
        "vera": store(app, scored_fixture, "q2_medium.txt", 3, student_name="Vera", class_code="12D"),
        "keys": store(app, scored_fixture, "junk_keyword_list.txt", 9, needs_review=True, student_name="Keyword Kim",
                      class_code="12D"),
        "anon": store(app, scored_fixture, "q2_strong.txt", 0, source="cli", source_ref="essays/ivan.txt"),
    }


def test_the_dashboard_lists_every_column_with_needs_review_first(app, teacher_client, classroom):
    with app.app_context():
        assert "needs_review" in db.session.get(Submission, classroom["keys"]).flags
    resp = teacher_client.get("/teacher/")
    html = resp.get_data(as_text=True)
    order = ids(resp)
    assert order[0] == classroom["keys"]  # flagged needs_review, though the oldest
    assert order[1:] == [classroom["anon"], classroom["anna"], classroom["boris"], classroom["vera"]]  # newest first
    for header in ("Student", "Class", "Question", "Submitted", "Mark", "Level", "Flags", "Reviewed"):
        assert f">{header}" in html
    assert "Boris 50%_off" in html and "essays/ivan.txt" in html and "12C" in html and "Not yet" in html
    assert "needs review" in html and 'class="needs-review"' in html
    assert "Showing 1–5 of 5 essays" in html


@pytest.mark.parametrize("query, expected", [
    ("q=q2", ["anon", "vera"]),
    ("class=12c", ["anna", "boris"]),
    ("flag=needs_review", ["keys"]),
    ("search=anna", ["anna"]),
    ("search=50%25_", ["boris"]),  # % and _ are literal, not wildcards
    ("search=%25", ["boris"]),
    ("search=ivan", ["anon"]),  # no name: the file name is searched
    ("from=2026-11-18&to=2026-11-19", ["anna", "boris"]),
    ("to=2026-11-11", ["keys"]),
    ("reviewed=yes", []),
    ("level=9&sort=bogus&from=not-a-date", ["keys", "anon", "anna", "boris", "vera"]),  # bad values are ignored
])
def test_filters_and_search(teacher_client, classroom, query, expected):
    assert ids(teacher_client.get(f"/teacher/?{query}")) == [classroom[k] for k in expected]


def test_filter_by_level_and_reviewed_state(app, teacher_client, classroom):
    with app.app_context():
        level = db.session.get(Submission, classroom["vera"]).level
        same_level = [s.id for s in db.session.query(Submission).filter_by(level=level)]
    assert set(ids(teacher_client.get(f"/teacher/?level={level}"))) == set(same_level)
    review(teacher_client, app, classroom["vera"])
    assert ids(teacher_client.get("/teacher/?reviewed=yes")) == [classroom["vera"]]
    assert classroom["vera"] not in ids(teacher_client.get("/teacher/?reviewed=no"))
    assert "✓ Reviewed" in teacher_client.get("/teacher/?reviewed=yes").get_data(as_text=True)


def test_sorting_by_each_column_and_the_sort_links_keep_the_filters(app, teacher_client, classroom):
    by_name = ids(teacher_client.get("/teacher/?sort=student&order=asc"))
    assert by_name[0] == classroom["keys"]  # needs_review still leads
    assert by_name[1:] == [classroom[k] for k in ("anna", "boris", "anon", "vera")]  # "essays/ivan.txt" sorts as e
    with app.app_context():
        marks = {s.id: s.mark for s in db.session.query(Submission)}
    by_mark = ids(teacher_client.get("/teacher/?sort=mark&order=desc"))[1:]
    assert [marks[i] for i in by_mark] == sorted((marks[i] for i in by_mark), reverse=True)
    for column in ("class", "question", "date", "level", "flags", "reviewed"):
        for order in ("asc", "desc"):
            assert len(ids(teacher_client.get(f"/teacher/?sort={column}&order={order}"))) == 5
    html = teacher_client.get("/teacher/?class=12C&sort=mark&order=desc").get_data(as_text=True)
    assert 'aria-sort="descending"' in html
    assert 'href="/teacher/?class=12C&amp;sort=mark&amp;order=asc"' in html  # clicking again reverses
    assert 'href="/teacher/?class=12C&amp;sort=student&amp;order=asc"' in html


def test_pagination(app, teacher_client, scored_fixture):
    for i in range(PER_PAGE + 3):
        store(app, scored_fixture, "q1_medium.txt", i, student_name=f"Student {i:02d}", class_code="11A")
    first, second = teacher_client.get("/teacher/?class=11A"), teacher_client.get("/teacher/?class=11A&page=2")
    assert len(ids(first)) == PER_PAGE and len(ids(second)) == 3
    assert not set(ids(first)) & set(ids(second))
    html = first.get_data(as_text=True)
    assert "Page 1 of 2" in html and re.search(r'href="/teacher/\?class=11A&amp;page=2&amp;at=\d+" rel="next"', html)
    assert len(ids(teacher_client.get("/teacher/?class=11A&page=99"))) == 3  # past the end: the last page
    assert len(ids(teacher_client.get("/teacher/?class=11A&page=x"))) == PER_PAGE


def test_names_and_codes_are_escaped_on_the_dashboard(app, teacher_client, scored_fixture):
    store(app, scored_fixture, student_name='<img src=x onerror="alert(1)">', class_code="12C")
    html = teacher_client.get("/teacher/").get_data(as_text=True)
    assert "<img src=x" not in html and "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;" in html


# --- the review page -----------------------------------------------------------------------------------

def form_values(app, sub_id: int, **changes) -> dict[str, str]:
    """The review form as the page fills it (the automatic marks), with `changes`."""
    with app.app_context():
        sub = db.session.get(Submission, sub_id)
        data = {f"crit_{c['id']}": str(c["mark"]) for c in sub.report["criteria"]}
        data["mark"] = str(sub.mark)
        last = db.session.query(db.func.max(ReviewChange.id)).filter_by(submission_id=sub_id).scalar() or 0
    data.update(comment="", based_on=str(last))
    data.update({k: str(v) for k, v in changes.items()})
    return data


def review(client, app, sub_id: int, **changes):
    resp = client.post(f"/teacher/submissions/{sub_id}", data=form_values(app, sub_id, **changes))
    assert resp.status_code == 303, resp.get_data(as_text=True)[:3000]
    return resp


def test_the_review_page_shows_the_essay_the_report_and_a_prefilled_form(app, teacher_client, classroom):
    resp = teacher_client.get(f"/teacher/submissions/{classroom['anna']}")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and resp.headers["Cache-Control"] == "no-store"
    with app.app_context():
        sub = db.session.get(Submission, classroom["anna"])
        report = sub.report
    assert "Anna Petrova" in html and 'class="essay-text"' in html and '<mark class="hl' in html
    assert f'/feedback/{sub.token}' in html
    for c in report["criteria"]:
        assert f'name="crit_{c["id"]}"' in html and f'max="{c["max_mark"]:g}"' in html
    assert 'name="mark"' in html and 'max="25"' in html and f'value="{report["mark"]}"' in html
    assert "No changes yet" in html
    assert teacher_client.get("/teacher/submissions/99999").status_code == 404


@pytest.mark.parametrize("changes, message", [
    ({"mark": 26}, "from 0 to 25"),
    ({"mark": -1}, "from 0 to 25"),
    ({"mark": "12.5"}, "from 0 to 25"),
    ({"mark": ""}, "Give a final mark"),
    ({"crit_factors": 8}, "from 0 to 6.5"),
    ({"crit_factors": -0.5}, "from 0 to 6.5"),
    ({"crit_factors": "4.3"}, "whole or half marks"),
    ({"crit_evidence": "lots"}, "Not a valid decimal value"),
    ({"crit_evidence": ""}, "Give a mark for"),
    ({"comment": "x" * 3001}, "under 3,000 characters"),
])
def test_overrides_are_validated_to_the_rubrics_ranges(app, teacher_client, classroom, changes, message):
    resp = teacher_client.post(f"/teacher/submissions/{classroom['anna']}", data=form_values(app, classroom["anna"], **changes))
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    assert message in html and "The review was not saved" in html
    with app.app_context():
        assert db.session.query(Review).count() == 0 and db.session.query(ReviewChange).count() == 0


def test_an_override_is_kept_beside_the_automatic_score_with_its_history_and_can_be_reverted(app, teacher_client, classroom):
    sid = classroom["boris"]
    with app.app_context():
        sub = db.session.get(Submission, sid)
        auto_report, auto_mark, auto_level, token = dict(sub.report), sub.mark, sub.level, sub.token
    new_mark = 21 if auto_mark != 21 else 20
    review(teacher_client, app, sid, mark=new_mark, crit_factors=6.5, own_mark="y", comment="Strong range of factors.\nNow weigh them.")
    with app.app_context():
        sub = db.session.get(Submission, sid)
        assert (sub.mark, sub.level, sub.report) == (auto_mark, auto_level, auto_report)  # never overwritten
        rv = db.session.get(Review, sid)
        assert (rv.mark, rv.level, rv.criteria["factors"]) == (new_mark, 5 if new_mark >= 21 else 4, 6.5)
        first = db.session.query(ReviewChange).one()
        assert first.teacher_email == "teacher@school.example" and first.before is None and first.after["mark"] == new_mark
    page = teacher_client.get(f"/teacher/submissions/{sid}").get_data(as_text=True)
    assert "Reviewed</strong>" in page and "by teacher@school.example" in page
    assert f"Final mark: {auto_mark} → {new_mark}" in page and "→ 6.5" in page

    # The student sees it beside the automatic mark; the comment is escaped text.
    student = app.test_client().get(f"/feedback/{token}").get_data(as_text=True)
    assert "Your teacher’s mark" in student and f'<span class="mark-num teacher-mark">{new_mark}</span>' in student
    assert f'<span class="mark-num">{auto_mark}</span>' in student
    assert "Strong range of factors.<br>Now weigh them." in student and "by Ms Teacher" in student

    # A second change, then undo it: back to the first override, and both steps stay in the history.
    review(teacher_client, app, sid, mark=new_mark, crit_factors=6.5, own_mark="y", comment="<b>Rewritten</b>")
    with app.app_context():
        second = db.session.query(ReviewChange).order_by(ReviewChange.id.desc()).first()
        assert second.before["comment"].startswith("Strong") and second.after["comment"] == "<b>Rewritten</b>"
    student = app.test_client().get(f"/feedback/{token}").get_data(as_text=True)
    assert "&lt;b&gt;Rewritten&lt;/b&gt;" in student and "<b>Rewritten</b>" not in student
    assert teacher_client.post(f"/teacher/submissions/{sid}/revert/{second.id}").status_code == 303
    with app.app_context():
        assert db.session.get(Review, sid).comment.startswith("Strong range")
        assert db.session.query(ReviewChange).count() == 3
    # Undo the very first change: not reviewed any more, the student sees the automatic mark only.
    assert teacher_client.post(f"/teacher/submissions/{sid}/revert/{first.id}").status_code == 303
    with app.app_context():
        assert db.session.get(Review, sid) is None and db.session.query(ReviewChange).count() == 4
        assert db.session.get(Submission, sid).report == auto_report
    assert "Your teacher’s mark" not in app.test_client().get(f"/feedback/{token}").get_data(as_text=True)
    page = teacher_client.get(f"/teacher/submissions/{sid}").get_data(as_text=True)
    assert page.count("Undid a change") == 2 and "Back to the automatic mark" in page


def test_saving_unchanged_marks_records_agreement_and_saving_again_records_nothing(app, teacher_client, classroom):
    sid = classroom["vera"]
    review(teacher_client, app, sid)
    review(teacher_client, app, sid)
    with app.app_context():
        assert db.session.query(ReviewChange).count() == 1
        sub = db.session.get(Submission, sid)
        assert db.session.get(Review, sid).mark == sub.mark
        token = sub.token
    assert "Agreed with the automatic marks" in teacher_client.get(f"/teacher/submissions/{sid}").get_data(as_text=True)
    student = app.test_client().get(f"/feedback/{token}").get_data(as_text=True)
    assert "Your teacher agreed with the automatic mark." in student


def test_a_stale_form_does_not_undo_another_teachers_change(app, teacher_client, classroom):
    sid = classroom["anna"]
    stale = form_values(app, sid, mark=3)
    review(teacher_client, app, sid, mark=10)
    resp = teacher_client.post(f"/teacher/submissions/{sid}", data=stale, follow_redirects=True)
    assert "Another teacher changed this review" in resp.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Review, sid).mark == 10


def test_revert_refuses_a_change_from_another_submission(app, teacher_client, classroom):
    review(teacher_client, app, classroom["anna"], mark=12)
    with app.app_context():
        change_id = db.session.query(ReviewChange).one().id
    assert teacher_client.post(f"/teacher/submissions/{classroom['vera']}/revert/{change_id}").status_code == 404
    with app.app_context():
        assert db.session.get(Review, classroom["anna"]).mark == 12


def test_reviewed_essays_feed_training(app, teacher_client, classroom):
    from khrushchev_essays.storage import Scope, reviewed_essays

    review(teacher_client, app, classroom["anna"], mark=19)
    review(teacher_client, app, classroom["vera"], mark=9)
    with app.app_context():
        q1 = list(reviewed_essays("q1", Scope.everything()))
        assert [(e.submission_id, e.level, e.mark) for e in q1] == [(classroom["anna"], 4, 19)]
        assert q1[0].text == db.session.get(Submission, classroom["anna"]).text
        assert [(e.level, e.mark) for e in reviewed_essays("q2", Scope.everything())] == [(2, 9)]
