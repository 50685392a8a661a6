"""A position from the start, sustained to the end (stop 26), pinned on texts written here:

- an introduction that only sets out the essay's plan ("This essay will look at... to decide how
  far...") takes no position, however many of the question's words it repeats; one that says what
  it will show ("I will argue that...") does;
- a body paragraph that carries its point through (two claims on the question or more) is
  analysis; a story with one comment tagged on at its end is comment, and earns less of it;
- a claim that says little besides the question's words counts for less than one that says what
  changed;
- a last paragraph that ends on an undated claim taking a side ends on its answer: the verdict.

Every text is scored by the real engine (the spaCy pipeline in models/, the rubrics in rubrics/).
"""

from __future__ import annotations

import pytest

from khrushchev_essays.scoring import score

from conftest import read_fixture
from khrushchev_essays.scoring.claims import signpost


@pytest.mark.parametrize("sentence, plan", [
    ("This essay will look at each of these areas to decide how far the reforms transformed the USSR.", True),
    ("In this essay I will discuss whether Khrushchev changed the country.", True),
    ("I am going to examine the political, economic and social reforms in turn.", True),
    ("Each of the factors will be considered in turn.", True),
    ("I have looked at four areas of Soviet life.", True),
    ("I will argue that the reforms changed how people lived but not who ruled them.", False),
    ("This essay will show that de-Stalinisation mattered less than the harvests.", False),
    ("To see why, we have to remember how much he had promised the farms.", False),
    ("The reforms changed how people lived far more than how the state was run.", False),
])
def test_a_plan_is_not_a_position(sentence, plan):
    assert signpost(sentence) is plan


BODY_Q1 = """\
The end of the terror was the deepest change. Beria was arrested in 1953 and shot, and the amnesty of \
that year freed over a million prisoners from the camps. After the Secret Speech of 1956 thousands more \
were released and rehabilitated. This changed how ordinary people lived, because a careless word no \
longer meant a camp.

Daily life changed too, but less than the terror. The housing programme from 1957 moved millions of \
families out of shared rooms into flats of their own, and pensions were raised in 1956. This was a real \
improvement, though queues and shortages did not disappear.

The system itself did not change. The party kept its monopoly of power, Hungary was crushed in 1956 and \
strikers at Novocherkassk were shot in 1962. This shows that the way the USSR was ruled became gentler \
while what ruled it stayed the same.
"""

CONCLUSION_Q1 = """\
So Khrushchev transformed how Soviet people lived and how far they feared the state, but he did not \
transform the one-party system, which is why the change was real but limited."""


def _criterion(report, cid: str):
    return next(c for c in report.criteria if c.id == cid)


def _essay(intro: str) -> str:
    return intro + "\n\n" + BODY_Q1 + "\n" + CONCLUSION_Q1


def test_an_introduction_that_only_sets_out_a_plan_takes_no_position():
    plan = ("Khrushchev ruled the USSR from 1953 to 1964 and made reforms in many areas. This essay will look "
            "at each of these areas to decide how far his reforms transformed the USSR.")
    argued = ("Khrushchev ruled the USSR from 1953 to 1964 and made reforms in many areas. I will argue that his "
              "reforms transformed how people lived but not how the USSR was ruled.")
    planned, positioned = score(_essay(plan), "q1"), score(_essay(argued), "q1")
    plan_j, position_j = _criterion(planned, "judgement"), _criterion(positioned, "judgement")
    assert plan_j.details["intro_position"] is False
    assert "could not find a clear position" in plan_j.comment
    assert position_j.details["intro_position"] is True
    assert position_j.mark > plan_j.mark
    # The thesis the feedback page shows is the position, never the plan.
    assert not planned.argument["thesis"]
    assert positioned.argument["thesis"]


SUSTAINED_Q2 = """\
Khrushchev fell in October 1964 because the men he had promoted turned against him. De-Stalinisation \
mattered, but mainly because it made a peaceful removal possible, not because it gave them a motive.

Agriculture mattered more than de-Stalinisation, because it gave his colleagues a reason to act against \
him. The Virgin Lands, ploughed \
from 1954, were eroding by the early 1960s and the 1963 harvest failed, so grain had to be bought from \
Canada. This humiliation weakened him more than any quarrel over Stalin, because he had staked his own \
reputation on the farms.

The party reforms were just as damaging, because they turned the officials against him. The 1961 rules forced a share of every committee \
out at each election, and in 1962 the party was split in two. These changes threatened the jobs of the \
very people who had saved him in 1957, which is why they did not defend him in 1964.

De-Stalinisation made his fall possible rather than causing it. After the Secret Speech of 1956 a defeated \
leader was no longer shot, so the plotters of 1964 risked little. This mattered less than the harvests and \
the party reforms, because it explains how he was removed rather than why.

So de-Stalinisation was not the most significant factor: it made his removal safe, but the failed harvests \
and the threat to officials' jobs were the reasons his colleagues removed him."""

TAGGED_Q2 = """\
Khrushchev fell in October 1964 because the men he had promoted turned against him. De-Stalinisation \
mattered, but mainly because it made a peaceful removal possible, not because it gave them a motive.

Khrushchev started the Virgin Lands scheme in 1954 in Kazakhstan. Young volunteers went to farm the new \
land and there was a record harvest in 1956. By the early 1960s dust storms had eroded the soil. In 1963 \
the harvest failed and grain had to be bought from Canada. This weakened him.

In 1961 Khrushchev brought in new party rules. A share of every committee had to be replaced at each \
election. In 1962 the party was split into an industrial and an agricultural half. Many officials had \
been appointed by Khrushchev in the 1950s. This turned the officials against him.

In 1956 Khrushchev gave the Secret Speech at the 20th Party Congress. He attacked Stalin and the cult of \
personality. In 1957 the Anti-Party Group tried to remove him and were sent to minor posts. Stalin would \
have had them shot. This was important for his fall.

So de-Stalinisation was not the most significant factor: it made his removal safe, but the failed harvests \
and the threat to officials' jobs were the reasons his colleagues removed him."""


def test_paragraphs_that_carry_their_point_through_earn_more_analysis_than_a_story_with_a_comment():
    sustained, tagged = score(SUSTAINED_Q2, "q2"), score(TAGGED_Q2, "q2")
    a_sustained, a_tagged = _criterion(sustained, "analysis"), _criterion(tagged, "analysis")
    assert a_sustained.details["sustained_paragraphs"] == 1.0, a_sustained.details
    assert a_tagged.details["sustained_paragraphs"] == 0.0, a_tagged.details
    assert a_sustained.mark > a_tagged.mark
    assert sustained.mark > tagged.mark


def test_a_claim_that_restates_the_question_over_a_factor_earns_less_than_one_that_says_what_changed():
    # The same facts, the same paragraphs: in one essay each paragraph's comment says what the
    # change was; in the other it says the question's words back ("this transformed the USSR").
    said = {
        "This changed how ordinary people lived, because a careless word no longer meant a camp.":
            "Therefore the end of the terror transformed the USSR to a large extent.",
        "This was a real improvement, though queues and shortages did not disappear.":
            "This was very significant because it transformed the USSR.",
        "This shows that the way the USSR was ruled became gentler while what ruled it stayed the same.":
            "This shows that the USSR was not transformed.",
    }
    body = " ".join(BODY_Q1.split())
    restated = body
    for own, echo in said.items():
        assert own in restated
        restated = restated.replace(own, echo)
    intro = ("Khrushchev ruled the USSR from 1953 to 1964. I will argue that his reforms transformed how people "
             "lived but not how the USSR was ruled.")

    def essay(text: str) -> str:
        return intro + "\n\n" + "\n\n".join(_paragraphs(text)) + "\n\n" + CONCLUSION_Q1

    rich, echo = score(essay(body), "q1"), score(essay(restated), "q1")
    a_rich, a_echo = _criterion(rich, "analysis"), _criterion(echo, "analysis")
    # A restated claim carries less weight than one that says something (and restatements alike
    # enough are repeats, credited once).
    per_claim = {k: d.details["claim_weight"] / d.details["claims"] for k, d in (("rich", a_rich), ("echo", a_echo))}
    assert per_claim["echo"] < per_claim["rich"] - 0.1, (a_echo.details, a_rich.details)
    assert a_echo.mark < a_rich.mark
    assert "say little besides its own words" in a_echo.comment, a_echo.comment
    assert "say little besides its own words" not in a_rich.comment, a_rich.comment


def _paragraphs(flat: str) -> list[str]:
    """BODY_Q1's three paragraphs, from its text run together (each opens on a sentence of its own)."""
    openings = ("The end of the terror", "Daily life changed", "The system itself")
    out: list[str] = []
    rest = flat
    for first, then in zip(openings, openings[1:] + (None,)):
        start = rest.index(first)
        end = rest.index(then) if then else len(rest)
        out.append(rest[start:end].strip())
    return out


_THREADS = ("All the same, one thread runs through every part of the story. The men he spared in 1957 learned that "
            "losing no longer meant death, and the officials he kept moving learned to fear for their posts. The "
            "harvests gave them something to say against him.")


@pytest.mark.parametrize("fixture", ["q2_strong.txt", "q2_medium.txt"])
def test_a_last_paragraph_that_ends_on_its_answer_is_the_verdict(fixture):
    # No "In conclusion", one claim on the question, in the body's own years: read as one more body
    # paragraph, the essay had no judgement. Ending on an undated claim that takes a side, it ends
    # on its answer, and that is the verdict.
    paras = read_fixture(fixture).strip().split("\n\n")
    told = score("\n\n".join(paras[:-1] + [_THREADS]), "q2")
    assert "no_judgement" in told.flags and not told.argument["verdict"]
    answered = score("\n\n".join(paras[:-1] + [_THREADS + " So the attack on Stalin was decisive: not the spark of "
                                                           "his fall, but the reason it could happen at all."]), "q2")
    assert "no_judgement" not in answered.flags and answered.argument["verdict"], answered.flags
    assert answered.mark > told.mark
    # A closing line that reports the other side is not the writer's answer.
    other = score("\n\n".join(paras[:-1] + [_THREADS + " However, some historians argue that the harvests were "
                                                       "decisive in his fall."]), "q2")
    assert "no_judgement" in other.flags, other.flags
