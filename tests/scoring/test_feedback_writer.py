"""The engine's feedback writer (scoring/feedback.py) on real essays through the real engine:
what the marker could not find is worded as such (never "you left out" or "missing"), strong
essays are told what separates them from full marks, and reports with copied passages survive
JSON (the form they are stored and sent in)."""

from __future__ import annotations

import json
import re

import pytest
from conftest import FIXTURES, read_fixture

from khrushchev_essays.scoring import FLAG_EXPLANATIONS, ScoreReport, score
from khrushchev_essays.scoring.copying import SourceIndex
from khrushchev_essays.scoring.feedback import hedge, to_full_marks

# Wording that states as fact what a marker can only fail to find.
CERTAIN = re.compile(r"left out|\bmissing\b|there is no\b|does not deal with|you did not|you forgot|"
                     r"argues one side only|None of the question's main factors is discussed", re.I)
SET_FOR = {p.name: ("q2" if p.name.startswith("q2") else "q1") for p in FIXTURES.glob("*.txt")}
SET_FOR.update({"keyword_salad_q2.txt": "q2", "junk_copied_question_q2.txt": "q2"})


@pytest.fixture(scope="module")
def reports():
    return {name: score(read_fixture(name), qid) for name, qid in sorted(SET_FOR.items())}


def feedback_lines(report: ScoreReport) -> list[str]:
    return [line for lines in report.feedback.values() for line in lines]


def test_feedback_never_states_an_absence_as_fact(reports):
    for name, report in reports.items():
        for line in feedback_lines(report):
            assert not CERTAIN.search(line), (name, line)


def test_the_report_itself_states_no_absence_as_fact(reports):
    # The JSON (what the API and the exports carry) is worded as the page is: criterion comments
    # and cap reasons say what the marker could not find.
    for name, report in reports.items():
        for text in [c.comment for c in report.criteria] + [c["reason"] for c in report.caps]:
            assert not CERTAIN.search(text), (name, text)


def test_the_pages_hedge_leaves_no_certain_absence_in_any_flag_or_older_report(reports):
    # Flag explanations, and reports stored before the engine hedged its own comments, are shown
    # through hedge().
    older = {"The essay argues one side only: weigh the evidence against your view too.",
             "There is no counter-argument.", "It needs a concluding paragraph."}
    assert any(CERTAIN.search(t) for t in set(FLAG_EXPLANATIONS.values()) | older)
    for text in set(FLAG_EXPLANATIONS.values()) | older:
        assert not CERTAIN.search(hedge(text)), text


@pytest.mark.parametrize("before, after", [
    ("The essay argues one side only: weigh the evidence against your view too.",
     "We could not find a counter-argument: weigh the evidence against your view too."),
    ("The question names De-Stalinisation, but the essay does not deal with it.",
     "The question names De-Stalinisation, but we could not find a clear paragraph on it."),
    ("De-Stalinisation: missing", "De-Stalinisation: not found"),
    ("Develop Agriculture: you name it but do not explain the consequences.",
     "Develop Agriculture: we found it named, but could not find where you explain the consequences."),
    ("A well-missing-word stays", "A well-missing-word stays"),
])
def test_hedge_rewords_certain_absences(before, after):
    assert hedge(before) == after


def test_a_factor_the_marker_could_not_find_is_worded_as_not_found(reports):
    report = reports["q2_ignores_named_factor.txt"]
    assert "ignores_named_factor" in report.flags
    steps = " ".join(report.feedback["next_steps"])
    assert "we could not find a clear paragraph on" in steps.lower() and "De-Stalinisation" in steps


def test_a_mentioned_factor_is_named_not_explained_rather_than_left_out(reports):
    report = reports["q2_answers_q1.txt"]
    mentioned = [f.name for f in report.factors if f.status == "mentioned"]
    assert mentioned
    step = next(s for s in report.feedback["next_steps"] if s.startswith("Develop"))
    assert mentioned[0] in step and "we found it named, but could not find where you explain" in step


def _without_body_paragraphs(name: str, n: int) -> str:
    paras = read_fixture(name).strip().split("\n\n")
    return "\n\n".join(paras[:2] + paras[2 + n:])


@pytest.mark.parametrize("name", ["q1_strong.txt", "q2_strong.txt"])
def test_a_strong_essay_is_told_what_separates_it_from_full_marks(q1, q2, name):
    # The strong fixtures reach full marks; a body paragraph or two fewer leaves them strong but short of it.
    report = score(_without_body_paragraphs(name, 1 if name.startswith("q1") else 2), SET_FOR[name])
    assert report.level >= 4 and report.mark < report.max_mark
    lines = report.feedback["to_full_marks"]
    short = [c for c in report.criteria if c.mark < c.max_mark]
    assert short and len(lines) >= len(short)
    for c, line in zip(sorted(short, key=lambda c: c.mark - c.max_mark), lines):
        assert line.startswith(f"{c.name}: {c.max_mark - c.mark:g} of {c.max_mark:g} marks still to win.")
    assert report.feedback["next_steps"], "a strong essay still gets something to do"
    assert not any("keep doing" in s.lower() for s in feedback_lines(report))
    # The page rebuilds the same lines for reports stored without them.
    rubric = q1 if name.startswith("q1") else q2
    assert to_full_marks(rubric, report) == lines


@pytest.mark.parametrize("name", ["q2_sincere_short.txt", "q1_repetition.txt", "keyword_salad_q1.txt"])
def test_essays_below_level_4_get_next_steps_not_a_full_marks_list(reports, name):
    report = reports[name]
    assert report.level < 4
    assert report.feedback["to_full_marks"] == [] and report.feedback["next_steps"]


def test_a_repetition_or_incoherence_flag_comes_with_advice(reports):
    salad = reports["keyword_salad_q1.txt"]
    assert "incoherent" in salad.flags
    assert any("Strings of key terms earn nothing" in s for s in salad.feedback["next_steps"])


def test_a_report_with_copied_passages_goes_through_json_and_back():
    notes = read_fixture("sources/virgin_lands_notes.txt")
    text = read_fixture("q1_medium.txt") + "\n\n" + notes[:600]
    report = score(text, "q1", sources=SourceIndex({"Virgin Lands notes": notes}))
    assert "copied_source" in report.flags and report.argument["copied"]
    back = ScoreReport.from_dict(json.loads(json.dumps(report.to_dict())))
    for sp in back.argument["copied"]:
        assert text[sp.start:sp.end] == sp.text and "Virgin Lands notes" in sp.note
    assert any("own words" in s for s in report.feedback["next_steps"])
