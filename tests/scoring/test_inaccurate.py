"""Level 3 asks for knowledge that is "mostly accurate", Level 2 allows "some inaccuracy" (stop
28): an essay with more of its dates wrong than right, and at least the rubric's `inaccurate_min`
of them wrong, is held at Level 2. The deduction for wrong dates stops at its limit; this does not,
so an essay whose every event is misdated (an original with its years moved, or its terms and
years swapped at random) no longer keeps Level 3.

Every essay is scored by the real engine (the spaCy pipeline in models/, the rubrics in rubrics/).
"""

from __future__ import annotations

import re

from khrushchev_essays.scoring import load_rubric, score
from khrushchev_essays.web.feedback_view import CAP_WHY

from conftest import read_fixture

_YEAR = re.compile(r"\b(195[3-9]|196[0-4])\b")


def _moved(text: str, limit: int | None = None) -> str:
    """The essay with its years of 1953-64 moved on three years (the first `limit` of them)."""
    count = 0

    def move(m: re.Match) -> str:
        nonlocal count
        count += 1
        return str(int(m.group(1)) + 3) if limit is None or count <= limit else m.group(1)

    return _YEAR.sub(move, text)


def test_an_essay_with_most_of_its_dates_wrong_is_held_at_level_2():
    for name, q in (("q1_strong.txt", "q1"), ("q2_strong.txt", "q2")):
        before, after = score(read_fixture(name), q), score(_moved(read_fixture(name)), q)
        assert before.level == 5 and "inaccurate" not in before.flags
        assert "inaccurate" in after.flags and after.level <= 2, (name, after.level, after.mark, after.flags)
        (cap,) = [c for c in after.caps if c["rule"] == "inaccurate"]
        assert cap["max_level"] == 2 and cap["applied"]
        wrong = len(after.inaccuracies)
        assert wrong >= load_rubric(q).caps.inaccurate_min and f"{wrong} wrong" in cap["reason"]
        # Told why and what to do: the feedback's steps and the mark steps' reason.
        assert any("Check your dates" in s for s in after.feedback["next_steps"]), after.feedback["next_steps"]
        assert "inaccurate" in CAP_WHY


def test_a_few_wrong_dates_cost_marks_but_do_not_hold_the_level():
    for name, q in (("q1_strong.txt", "q1"), ("q2_strong.txt", "q2")):
        r = score(_moved(read_fixture(name), limit=2), q)
        assert "inaccurate" not in r.flags, (name, r.flags)
        assert r.level >= 4, (name, r.level, r.mark)


def test_the_line_is_the_rubrics():
    # With the line raised above the number found wrong, the same essay is not held.
    rubric = load_rubric("q1")
    text = _moved(read_fixture("q1_strong.txt"))
    wrong = len(score(text, rubric).inaccuracies)
    high = rubric.model_copy(update={"caps": rubric.caps.model_copy(update={"inaccurate_min": wrong + 1})})
    assert "inaccurate" not in score(text, high).flags
