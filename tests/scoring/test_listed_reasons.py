"""A verdict that gives its reasons as a list is a verdict, not terms strung together (issue 10,
items 1 and 3).

A sentence that joins several factors needs room to say something of each, or it reads as key
terms strung together and earns nothing ("incoherent"). A plain student's conclusion often judges
and then lists its reasons in one breath: "... transformed the USSR to a large extent because he
changed de-Stalinisation, agriculture, industry, housing and education". The list says nothing of
each item, so in a sentence that judges, the factors named as one list take the room of one. A
list that only "led to" the outcome, judging nothing, is still the essay's plan and earns nothing,
and sentences that relate unconnected factors without a list are still held as incoherent.
Likewise a verdict that sets factors against each other with the comparison left implicit ("X
mattered, but Y and Z mattered more") weighs them, and needs the room of one factor fewer.
Every text here is written for this file and read by the real engine.
"""

from __future__ import annotations

import pytest

from khrushchev_essays.scoring import score
from khrushchev_essays.scoring.claims import enumerated, weighs
from khrushchev_essays.scoring.engine import default_engine
from khrushchev_essays.scoring.rubric import load_rubric
from khrushchev_essays.web.feedback_view import argument_view

BODY = """Khrushchev became leader after Stalin died in 1953 and he made lots of reforms.

In 1956 he gave the Secret Speech which attacked Stalin. Many prisoners were let out of the Gulag and some people were rehabilitated.

In agriculture he started the Virgin Lands scheme in 1954 in Kazakhstan. At first the harvest was good but in 1963 it failed and grain had to be bought from abroad. He also wanted farmers to grow maize.

He built lots of new flats from 1957 so people could leave communal apartments. These were called Khrushchyovka. Wages and pensions went up as well.

In education he made schools teach practical skills and the USSR launched Sputnik in 1957. Gagarin went into space in 1961 which made people proud.

The party stayed in control. The Hungarian rising was crushed in 1956 and workers were shot at Novocherkassk in 1962.

"""

JUDGING = ("In conclusion, Khrushchev's reforms transformed the USSR to a large extent because he changed "
           "many things such as de-Stalinisation, agriculture, industry, housing and education. However some "
           "of them did not work, for example the maize, and he was removed in 1964.")

# The same reasons with no verdict on the question: a list of what he did.
PLAN_ONLY = ("In conclusion, Khrushchev did many things, including de-Stalinisation, agriculture, industry, "
             "housing and education. Some of them did not work, for example the maize, and he was removed in 1964.")


def _analyse(text: str):
    return default_engine().analyse_text(text, "q1")


def _sentence(analysis, words: str):
    return next(s for s in analysis.sentences if words in analysis.text[s.start:s.end])


def test_a_verdict_that_lists_its_reasons_is_credited_as_the_conclusion():
    analysis, argument, _ = _analyse(BODY + JUDGING)
    verdict = _sentence(analysis, "to a large extent")
    assert len(verdict.factors()) >= 4 and enumerated(verdict, analysis) >= 4
    assert argument.excluded.get(verdict.index) is None
    assert verdict.index in argument.verdict
    report = score(BODY + JUDGING, "q1").to_dict()
    judgement = next(c for c in report["criteria"] if c["id"] == "judgement")
    assert judgement["details"]["conclusion_judgement"] is True and judgement["mark"] > 0
    assert "no_judgement" not in report["flags"]
    # The mark moves with the verdict: the same essay closing on its plan is held lower.
    assert report["mark"] > score(BODY + PLAN_ONLY, "q1").to_dict()["mark"]


def test_a_list_that_judges_nothing_is_not_a_claim():
    analysis, argument, _ = _analyse(BODY + PLAN_ONLY)
    listed = _sentence(analysis, "many things")
    assert enumerated(listed, analysis) >= 4
    assert listed.index not in argument.verdict and listed.index not in argument.thesis


@pytest.mark.parametrize("sentence, most", [
    # Commas and "and" between factor names, with items the rubric has no term for in between.
    ("His reforms transformed the USSR because of de-Stalinisation, agriculture, industry, housing and education.", 4),
    ("De-Stalinisation, the Virgin Lands and housing changed life to a large extent.", 3),
    # Two names are not a list; names with relating words between them are joined, not listed.
    ("De-Stalinisation and housing changed life to a large extent.", 0),
    ("De-Stalinisation undermined the Virgin Lands, which caused housing to be the most significant factor.", 0),
])
def test_what_counts_as_a_list_of_factors(sentence, most):
    analysis, _, _ = _analyse(sentence)
    assert enumerated(analysis.sentences[0], analysis) == most


def test_terms_strung_together_with_a_list_inside_are_still_incoherent():
    # A judging sentence that joins a list to a factor outside it, unconnected, with no room for
    # either: the list is not the whole of what it relates.
    salad = ("Consequently, de-Stalinisation, housing and education undermined the Cuban Missile Crisis, "
             "which was the most significant factor.")
    analysis, argument, _ = _analyse(BODY + salad)
    s = _sentence(analysis, "Consequently")
    assert enumerated(s, analysis) == 3
    assert argument.excluded.get(s.index) == "incoherent"


# --- weighing with the comparison left implicit ----------------------------------------------------
WEIGHING_VERDICT = ("De-Stalinisation mattered, but the failure of farming and the anger of the party officials "
                    "mattered more in 1964.")


@pytest.mark.parametrize("sentence, expected", [
    ("De-Stalinisation mattered, but the harvests mattered more.", True),
    ("The split with China counted for less than people think.", True),
    ("Of all his mistakes, the attack on the apparatus did most to bring him down.", True),
    ("The party reforms weighed most heavily with the Central Committee.", True),
    ("The Virgin Lands scheme began in 1954 and mattered to many families.", False),
])
def test_weighing_in_the_writers_own_words(sentence, expected):
    assert weighs(sentence) is expected


Q2_BODY = """Khrushchev was removed in October 1964. This essay weighs why his colleagues turned on him.

In 1956 the Secret Speech attacked Stalin and shook the communist world. Hungary rose in revolt and Mao's China began to drift away.

The Virgin Lands scheme started in 1954 and the 1956 harvest was a record. By 1963 the soil was exhausted, the crop failed and grain was bought from Canada.

In 1962 he split the party into industrial and agricultural halves, and the 1961 rules forced officials out at each election. Regional secretaries feared for their posts.

"""


def test_a_verdict_that_sets_three_factors_against_each_other_is_not_incoherent():
    analysis, argument, _ = default_engine().analyse_text(Q2_BODY + WEIGHING_VERDICT, "q2")
    s = _sentence(analysis, "mattered more")
    assert len(s.factors()) >= 3 and s.words < 7 * len(s.factors())  # under the room three factors take
    assert argument.excluded.get(s.index) is None
    assert s.index in argument.verdict


def test_a_plan_that_lists_factors_leading_to_the_outcome_is_told_so():
    plan = "Several things led to his fall, including de-Stalinisation, the harvests and foreign policy."
    text = Q2_BODY.replace("This essay weighs why his colleagues turned on him.", plan) + WEIGHING_VERDICT
    analysis, argument, _ = default_engine().analyse_text(text, "q2")
    s = _sentence(analysis, "Several things")
    assert enumerated(s, analysis) == len(s.factors()) >= 3
    # Not a claim, and not a join of unconnected ideas either: a list, and the student is told so.
    assert argument.excluded.get(s.index) == "list" and s.index not in argument.incoherent
    assert s.index not in argument.thesis
    report = score(text, "q2")
    view = argument_view(text, report, load_rubric("q2"))
    (shown,) = [x for x in view.excluded if x["text"] == plan]
    assert shown["title"] == "A list of factors" and "plan" in shown["why"]
