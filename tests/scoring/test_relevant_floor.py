"""A relevant answer of essay length is Level 2 at least (stop 26): the mark scheme's Level 1 is
"very little relevant information", and every uncapped script of 250 words or more the rules put
at Level 1 was Level 2 to the blind markers. Pinned on a text written here: a sincere, general,
one-sided answer that knows a little of four areas. The caps still hold what they hold.

Every text is scored by the real engine (the spaCy pipeline in models/, the rubrics in rubrics/).
"""

from __future__ import annotations

import random
import re

from khrushchev_essays.scoring import score
from khrushchev_essays.scoring.engine import default_engine
from khrushchev_essays.scoring.mark_scheme import order_credit
from khrushchev_essays.scoring.rubric import load_rubric

from conftest import read_fixture

GENERAL_Q1 = read_fixture("q1_general_short.txt")


def _sentences(text: str) -> list[str]:
    return [x for x in re.split(r"(?<=[.!?])\s+", text.strip()) if x]


def test_a_relevant_answer_of_essay_length_is_level_2_however_little_it_argues():
    rules = load_rubric("q1").argument
    r = score(GENERAL_Q1, "q1")
    floor = r.argument["relevant_floor"]
    assert floor["level"] == 2 and floor["words"] >= rules.relevant_floor_words, floor
    assert floor["before"] < 6 and r.raw_mark == 6.0
    assert (r.level, r.mark) == (2, 6), (r.level, r.mark, r.flags)
    # It is still told what it lacks: the floor lifts the level, not the criteria.
    assert "no_judgement" in r.flags
    assert next(c for c in r.criteria if c.id == "analysis").mark <= 1


def test_the_floor_needs_the_length_the_knowledge_and_the_writers_order():
    # Half of it: too short to be more than Level 1 by the rules' own figures.
    paras = GENERAL_Q1.strip().split("\n\n")
    short = score("\n\n".join(paras[:2]), "q1")
    assert "relevant_floor" not in short.argument and short.level == 1, (short.level, short.argument.get("relevant_floor"))
    # Its sentences out of order, when the order model doubts them: no floor.
    # Sentences out of the writer's order (a whole essay's, shuffled), when the order model doubts
    # them: they are marked as a shuffle, with no floor for them.
    sents = _sentences(read_fixture("q2_medium.txt"))
    rubric, doubted = load_rubric("q2"), 0
    for seed in range(10):
        rng = random.Random(seed)
        order = rng.sample(sents, len(sents))
        shuffled = "\n\n".join(" ".join(order[k::6]) for k in range(6))
        _analysis, argument, _findings = default_engine().analyse_text(shuffled, "q2")
        if order_credit(rubric, argument.disorder) < 1.0:
            doubted += 1
            assert "relevant_floor" not in score(shuffled, "q2").argument
    assert doubted, "no shuffle of the essay was doubted by the order model"
    # A keyword salad is held at Level 1 by its cap whatever the floor says.
    salad = score(read_fixture("keyword_salad_q1.txt"), "q1")
    assert salad.level <= 1 and "incoherent" in salad.flags
    # An answer to another question is held by its own cap, with no floor.
    other = score(read_fixture("q1_answers_foreign_policy.txt"), "q1")
    assert "relevant_floor" not in other.argument and other.level <= 2


def test_the_floor_can_be_switched_off_in_the_rubric():
    from khrushchev_essays.scoring import Engine

    rubric = load_rubric("q1")
    off = rubric.model_copy(update={"argument": rubric.argument.model_copy(update={"relevant_floor_words": 0})})
    r = Engine(rubrics={"q1": off}).score(GENERAL_Q1, "q1")
    assert "relevant_floor" not in r.argument and r.level == 1, (r.level, r.mark)
