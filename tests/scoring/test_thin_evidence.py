"""Level 4 needs a range of clear, specific evidence (stop 27): the mark scheme's Level 3 allows
knowledge that is "sometimes generalised", its Level 4 asks for "a range of clear, specific
evidence". An essay whose evidence criterion earns under the line, and whose text is short of
particulars too (distinct years, named people, figures), is held at Level 3. An answer in its own
words that gives its evidence in words the rubric's list of events does not know is not.

Every essay is scored by the real engine (the spaCy pipeline in models/, the rubrics in rubrics/).
"""

from __future__ import annotations

import re

from khrushchev_essays.scoring import load_rubric, score
from khrushchev_essays.web.feedback_view import CAP_WHY

from conftest import read_fixture


def _evidence(report):
    return next(c for c in report.criteria if c.id == "evidence")


def test_general_knowledge_holds_an_essay_at_level_3():
    caps = load_rubric("q1").caps
    r = score(read_fixture("q1_medium.txt"), "q1")
    ev = _evidence(r)
    assert ev.mark / ev.max_mark < caps.thin_evidence_share
    (cap,) = [c for c in r.caps if c["rule"] == "thin_evidence"]
    assert cap["max_level"] == 3 and cap["applied"] and r.level == 3
    # The raw mark would have been Level 4: the cap is what holds it, and it says why.
    assert r.raw_mark >= load_rubric("q1").band(4).min_mark - 1
    assert re.search(r"\d+ in all", cap["reason"]) and "thin_evidence" in CAP_WHY


def test_the_same_essay_with_its_evidence_made_specific_is_not_held():
    # Each general claim given its particulars: dates, names and figures.
    text = read_fixture("q1_medium.txt")
    specific = text.replace(
        "\n\n",
        " In 1956, 1957 and 1961 the figures told the story: over a million people left the camps, "
        "Molotov, Malenkov and Kaganovich lost in June 1957, and Gagarin flew in April 1961.\n\n", 2)
    r = score(specific, "q1")
    assert "thin_evidence" not in r.flags, [c for c in r.caps if c["rule"] == "thin_evidence"]


def test_an_own_words_answer_full_of_particulars_is_not_called_general():
    # Its evidence criterion is under the line (its events are described, not named), but the
    # text is full of years, names and figures: it is not the generalised knowledge of Level 3.
    caps = load_rubric("q1").caps
    r = score(read_fixture("q1_own_words_strong.txt"), "q1")
    ev = _evidence(r)
    assert ev.mark / ev.max_mark < caps.thin_evidence_share
    assert "thin_evidence" not in r.flags


def test_the_advice_names_the_kind_of_evidence_only_when_it_holds_the_mark():
    held = score(read_fixture("q1_medium.txt"), "q1")
    steps = held.feedback["next_steps"]
    assert any("specific evidence" in s and "1963" in s for s in steps), held.feedback
    # Said once: not again as the evidence criterion's own advice.
    assert sum("evidence" in s.lower() for s in steps) == 1, steps
    # An essay held far lower for another reason is told about that, not this.
    other = score(read_fixture("q2_answers_q1.txt"), "q2")
    assert "thin_evidence" in other.flags
    assert not any("1963 harvest" in s for s in other.feedback["next_steps"])
