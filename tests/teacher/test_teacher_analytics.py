"""Class analytics on known data: level distribution, factor coverage by class, missing factors,
flags (needs_review counted), and agreement between automatic and teacher marks."""

from __future__ import annotations

import pytest
from sklearn.metrics import cohen_kappa_score

from khrushchev_essays.scoring import ScoreReport
from khrushchev_essays.storage import Submission, Teacher, db, save_submission
from khrushchev_essays.storage import Scope
from khrushchev_essays.storage.queries import Filters, find_all
from khrushchev_essays.storage.reviews import save_review
from khrushchev_essays.web.teacher.figures import question_figures
from khrushchev_essays.web.teacher.svg import heat_class, level_distribution


def crafted(base: ScoreReport, level: int, mark: int, statuses: dict[str, str], flags: list[str]) -> ScoreReport:
    """A copy of a real q1 report with the level, mark, factor statuses and flags set by hand."""
    r = ScoreReport.from_dict(base.to_dict())
    r.level, r.mark, r.flags = level, mark, flags
    for f in r.factors:
        f.status = statuses.get(f.id, "missing")
    return r


@pytest.fixture
def known(app, teacher_client, scored_fixture, q1):
    """Three q1 essays with hand-set figures, two reviewed; one q2 essay that must not count for q1."""
    text, base = scored_fixture("q1_medium.txt", "q1")
    f0, f1 = q1.factors[0].id, q1.factors[1].id
    with app.app_context():
        teacher = db.session.query(Teacher).one()
        a = save_submission(text, crafted(base, 2, 8, {f0: "developed"}, ["one_sided"]), class_code="12C")
        b = save_submission(text, crafted(base, 3, 13, {f0: "mentioned", f1: "developed"}, ["needs_review"]), class_code="12C")
        c = save_submission(text, crafted(base, 3, 12, {}, ["needs_review", "one_sided"]), class_code="12D")
        q2_text, q2_report = scored_fixture("q2_medium.txt", "q2")
        save_submission(q2_text, q2_report, class_code="12D")
        crit = {x.id: x.mark for x in base.criteria}
        save_review(a, teacher, mark=8, level=2, criteria=crit, comment="")
        save_review(c, teacher, mark=16, level=4, criteria=crit, comment="")
        return {"f0": f0, "f1": f1, "ids": (a.id, b.id, c.id)}


def test_figures_on_known_data(app, known, q1):
    with app.app_context():
        fig = question_figures(q1, find_all(Filters(question="q1"), Scope.everything()))
        assert fig.n == 3 and fig.classes == ["12C", "12D"] and fig.class_sizes == {"12C": 2, "12D": 1}
        assert fig.auto_levels == [0, 0, 1, 2, 0, 0]
        assert fig.teacher_levels == [0, 0, 1, 0, 1, 0]
        assert (fig.reviewed, fig.needs_review, fig.needs_review_open) == (2, 2, 1)
        assert fig.flags == [("needs_review", 2), ("one_sided", 2)]
        rows = {r.id: r for r in fig.factors}
        assert rows[known["f0"]].by_class == {"12C": 1.0, "12D": 0.0}
        assert rows[known["f1"]].by_class == {"12C": 0.5, "12D": 0.0}
        assert (rows[known["f0"]].developed, rows[known["f0"]].mentioned, rows[known["f0"]].missing) == (1, 1, 1)
        others = [r for r in fig.factors if r.id not in (known["f0"], known["f1"])]
        assert all(r.by_class == {"12C": 0.0, "12D": 0.0} and r.missing == 3 for r in others)
        assert len(fig.most_missing) == 5 and fig.most_missing[0].missing_share == 1.0
        assert known["f0"] not in [r.id for r in fig.most_missing]
        ag = fig.agreement
        expected_qwk = cohen_kappa_score([2, 4], [2, 3], weights="quadratic", labels=list(range(6)))
        assert ag["n"] == 2 and ag["qwk"] == pytest.approx(expected_qwk, abs=1e-4)
        assert (ag["exact"], ag["adjacent"], ag["mark_mae"]) == (0.5, 1.0, 2.0)

        only_12d = question_figures(q1, find_all(Filters(question="q1", class_code="12D"), Scope.everything()))
        assert only_12d.n == 1 and only_12d.agreement["n"] == 1 and only_12d.agreement["exact"] == 0.0


def test_the_analytics_page_shows_the_figures_and_charts(teacher_client, known):
    html = teacher_client.get("/teacher/analytics").get_data(as_text=True)
    q1 = html[html.index('id="q1"'):html.index('id="q2"')]
    assert "<strong>3</strong> essays" in q1 and "<strong>2</strong> reviewed" in q1
    assert "<strong>2</strong> flagged needs review" in q1 and "(1 to do)" in q1
    # In plain words first; the statistics behind a toggle.
    assert ("The marker agrees with you on the level of <strong>1 of 2</strong> essays you reviewed,\n"
            "        and is within one level on <strong>all 2</strong>.") in q1
    assert "Its marks are 2.0 marks from yours on average." in q1
    tech = q1[q1.index('<details class="technical">'):]
    assert "<strong>50%</strong> same level" in tech and "<strong>100%</strong> within one level" in tech
    assert q1.index("QWK") > q1.index('<details class="technical">')
    assert q1.count('<svg class="dist"') == 1 and q1.count('table class="data small heatmap"') == 1
    assert 'role="img"' in q1 and "Essays by automatic level: level 0 0, level 1 0, level 2 1, level 3 2" in q1
    assert "not found in 3 of 3 essays (100%)" in q1
    assert 'href="/teacher/?q=q1&amp;flag=needs_review&amp;reviewed=no&amp;attempts=latest"' in q1
    filtered = teacher_client.get("/teacher/analytics?class=12D").get_data(as_text=True)
    q1 = filtered[filtered.index('id="q1"'):filtered.index('id="q2"')]
    assert "<strong>1</strong> essays" in q1 or "<strong>1</strong> essay" in q1


def test_an_empty_database_has_no_figures_but_a_friendly_page(teacher_client):
    html = teacher_client.get("/teacher/analytics").get_data(as_text=True)
    assert html.count("No essays for this question yet") == 2


def test_charts_bin_shares():
    assert [heat_class(x) for x in (None, 0.0, 0.01, 0.2, 0.5, 0.99, 1.0)] == ["h0", "h0", "h1", "h2", "h3", "h5", "h5"]
    bars = level_distribution([0, 1, 2, 0, 0, 0], [0, 0, 1, 0, 0, 0])
    assert bars.count('class="bar-auto"') == 6 and bars.count('class="bar-teacher"') == 6


def test_analytics_count_each_essay_once_as_its_latest_attempt_unless_asked(app, teacher_client, scored_fixture, q1):
    text, base = scored_fixture("q1_medium.txt", "q1")
    with app.app_context():
        first = save_submission(text, crafted(base, 2, 8, {}, []), student_name="Anna", class_code="12C")
        second = save_submission(text, crafted(base, 3, 12, {}, []), student_name="Anna", class_code="12C", parent=first)
        save_submission(text, crafted(base, 4, 17, {}, []), student_name="Anna", class_code="12C", parent=second)
        save_submission(text, crafted(base, 1, 4, {}, []), student_name="Boris", class_code="12C")
        latest = question_figures(q1, find_all(Filters(question="q1", attempts="latest"), Scope.everything()))
        every = question_figures(q1, find_all(Filters(question="q1"), Scope.everything()))
    assert latest.n == 2 and latest.auto_levels == [0, 1, 0, 0, 1, 0]  # Anna's third attempt and Boris
    assert every.n == 4 and every.auto_levels == [0, 1, 1, 1, 1, 0]

    page = teacher_client.get("/teacher/analytics").get_data(as_text=True)
    assert "Each essay counts once, as its latest attempt." in page and ">Clear</a>" not in page
    section = page[page.index('id="q1"'):page.index('id="q2"')]
    assert "<strong>2</strong> essays" in section
    page = teacher_client.get("/teacher/analytics?attempts=all").get_data(as_text=True)
    assert "Every attempt counts." in page and ">Clear</a>" in page
    assert "<strong>4</strong> essays" in page[page.index('id="q1"'):page.index('id="q2"')]
    # The dashboard offers the same choice (every attempt by default).
    dash = teacher_client.get("/teacher/?attempts=latest").get_data(as_text=True)
    assert "Showing 1–2 of 2 essays" in dash and 'value="latest" selected' in dash
    assert "Showing 1–4 of 4 essays" in teacher_client.get("/teacher/").get_data(as_text=True)


def test_full_labels_and_every_cell_and_missing_line_lead_to_those_students(app, scored_fixture, q1):
    """On real data (the engine's own reports, classes with join codes, a non-admin teacher): factor
    names appear whole, and following a heatmap cell or a "most often missing" line lists exactly the
    essays the figure counts."""
    import re
    from html import unescape

    from conftest import add_class, sign_in
    from test_teacher_review import ids

    from khrushchev_essays.storage import SchoolClass

    add_class(app, "Staff room", email="head@school.example")  # the first account is the admin: this one
    code_c, code_d = add_class(app, "12C History"), add_class(app, "12D History")
    with app.app_context():
        kc = db.session.query(SchoolClass).filter_by(join_code=code_c).one()
        kd = db.session.query(SchoolClass).filter_by(join_code=code_d).one()
        made = {}
        for name, fixture, klass in (("Anna", "q1_strong.txt", kc), ("Boris", "q1_medium.txt", kc),
                                     ("Clara", "q1_narrative.txt", kc), ("Dmitri", "q1_medium.txt", kd),
                                     ("Elena", "junk_keyword_list.txt", kd)):
            text, report = scored_fixture(fixture, "q1")
            made[name] = save_submission(text, report, student_name=name, klass=klass)
        statuses = {n: {x.id: x.status for x in s.score_report().factors} for n, s in made.items()}
        ids_of = {n: s.id for n, s in made.items()}
    client = app.test_client()
    assert sign_in(client).status_code == 303
    html = client.get("/teacher/analytics").get_data(as_text=True)
    section = html[html.index('id="q1"'):html.index('id="q2"')]
    for factor in q1.factors:  # whole names, never cut short
        assert f'<th scope="row">{factor.name}</th>' in section
    assert "…" not in section
    cells = re.findall(r'<td class="num heat-cell (h\d)"><a href="([^"]+)">(\d+)%<span class="visually-hidden">: '
                       r'(\d+) of (\d+) essays in ([^<]+) cover ([^<]+)</span></a></td>', section)
    assert len(cells) == 2 * len(q1.factors)  # every cell of both classes links
    for _h, href, pct, k, n, cls, fname in cells:
        listed = set(ids(client.get(unescape(href))))
        members = {"12C History": ("Anna", "Boris", "Clara"), "12D History": ("Dmitri", "Elena")}[cls]
        fid = next(f.id for f in q1.factors if f.name == unescape(fname))
        expected = {ids_of[m] for m in members if statuses[m][fid] in ("mentioned", "developed")}
        assert listed == expected and int(k) == len(expected) and int(n) == len(members), (cls, fname)
        assert int(pct) == round(100 * len(expected) / len(members))
    lines = re.findall(r'<li><a href="([^"]+)"><strong>([^<]+)</strong>: not found in (\d+) of 5 essays', section)
    assert lines
    for href, fname, count in lines:
        fid = next(f.id for f in q1.factors if f.name == unescape(fname))
        expected = {ids_of[m] for m in ids_of if statuses[m][fid] == "missing"}
        assert set(ids(client.get(unescape(href)))) == expected and int(count) == len(expected)
        # The dashboard says what it is filtered on, and keeps it when the other filters change.
        page = client.get(unescape(href)).get_data(as_text=True)
        assert f'<input type="hidden" name="misses" value="{fid}">' in page and "Only essays where we could not find" in page
    # An unknown factor lists nothing and is shown escaped, never run.
    odd = client.get("/teacher/?misses=%3Cb%3Eodd").get_data(as_text=True)
    assert ids(client.get("/teacher/?misses=%3Cb%3Eodd")) == [] and "<b>odd" not in odd and "&lt;b&gt;odd" in odd
