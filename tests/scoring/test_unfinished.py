"""A sentence broken off mid-clause earns nothing (stop 27): a student who runs out of time and
stops on "...agriculture mattered more because" has not made the point the sentence began, and a
conclusion that breaks off is not a verdict (the mark scheme: judgement limited, Level 3 at most).
A sentence a writer finished but left without its full stop is not one.

Every essay is scored by the real engine (the spaCy pipeline in models/, the rubrics in rubrics/).
"""

from __future__ import annotations

import pytest

from khrushchev_essays.scoring import score
from khrushchev_essays.scoring.claims import unfinished
from khrushchev_essays.scoring.rubric import load_rubric
from khrushchev_essays.web.feedback_view import argument_view

from conftest import read_fixture

MEDIUM_Q2 = read_fixture("q2_medium.txt")


@pytest.mark.parametrize("sentence", [
    "The harvest of 1963 mattered more than the speech because",
    "Prices rose in 1962 and the workers in Novocherkassk were angry and they",
    "So the Presidium turned on him since it",
    "By 1964 the army had lost patience with the",
    "Khrushchev was weakened by the failure of his",
    "Most of all it was the party reorganisation of 1962, which",
])
def test_a_sentence_that_stops_on_a_word_no_sentence_ends_on_is_unfinished(sentence):
    assert unfinished(sentence)


@pytest.mark.parametrize("sentence", [
    "The party was still in charge",  # finished, full stop left off
    "He was removed in October 1964.",
    "Did the speech bring him down?",
    "the peasants he relied on",  # a phrasal verb's preposition can end a sentence
    "Notes: agri > de-Stal",
    "It was the end of an era\u2014",  # a dash: left open on purpose
    "and",  # too short to judge
])
def test_a_finished_sentence_or_one_left_open_on_purpose_is_not(sentence):
    assert not unfinished(sentence)


def _cut_conclusion(text: str, tail: str) -> str:
    start = text.rindex("\n\n") + 2
    return text[:start] + tail


def test_a_conclusion_that_breaks_off_is_not_a_verdict_and_is_explained():
    full = score(MEDIUM_Q2, "q2")
    assert full.argument["verdict"] and "no_judgement" not in full.flags
    # The same essay, its conclusion broken off halfway through its first sentence.
    last = MEDIUM_Q2[MEDIUM_Q2.rindex("\n\n") + 2:]
    broken = _cut_conclusion(MEDIUM_Q2, last[:last.index(" and made it possible")] + " and")
    cut = score(broken, "q2")
    assert not cut.argument["verdict"]
    assert "no_judgement" in cut.flags
    assert cut.mark < full.mark and cut.level <= full.level
    # Set aside beside what the whole essay had set aside already: the broken sentence alone.
    before = {(x.note, x.text) for x in full.argument["excluded"]}
    notes = [(x.note, x.text) for x in cut.argument["excluded"] if (x.note, x.text) not in before]
    assert notes == [("unfinished", broken[broken.rindex("\n\n") + 2:])], notes
    # The span is the student's own text, and the feedback says why it earned nothing.
    (span,) = [x for x in cut.argument["excluded"] if x.note == "unfinished"]
    assert broken[span.start:span.end] == span.text
    view = argument_view(broken, cut, load_rubric("q2"))
    (shown,) = [x for x in view.excluded if x["title"] == "Unfinished"]
    assert "breaks off" in shown["why"]


def test_a_conclusion_finished_without_its_full_stop_still_counts():
    # The last full stop left off: the sentence is finished, so the verdict stands.
    text = MEDIUM_Q2.rstrip().rstrip(".")
    r = score(text, "q2")
    assert r.argument["verdict"]
    assert [x.note for x in r.argument["excluded"]] == [x.note for x in score(MEDIUM_Q2, "q2").argument["excluded"]]
    assert "unfinished" not in [x.note for x in r.argument["excluded"]]
    assert (r.level, r.mark) == (score(MEDIUM_Q2, "q2").level, score(MEDIUM_Q2, "q2").mark)


def test_a_broken_off_sentence_inside_the_essay_loses_its_own_credit_only():
    # A paragraph that stops mid-sentence and the essay goes on: that sentence alone is set
    # aside, and the verdict in the conclusion still counts.
    paragraphs = MEDIUM_Q2.split("\n\n")
    k = len(paragraphs) // 2
    body = paragraphs[k].rstrip()
    paragraphs[k] = body[:body.rindex(" ", 0, len(body) - 8)] + " because the"
    text = "\n\n".join(paragraphs)
    r = score(text, "q2")
    assert [x.note for x in r.argument["excluded"]] == ["unfinished"]
    assert r.argument["verdict"]
