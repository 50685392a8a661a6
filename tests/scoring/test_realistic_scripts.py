"""Behaviours found on realistic scripts the engine had not seen (stop 25), pinned on texts written
here in the project's own words: notes in shorthand, a story of the whole period that opens on the
power struggle, an account of his rise under an introduction on his fall, a conclusion that sets
the period against Stalin's time and what came after, a verdict that recalls the body's years, and
factors weighed against each other without the question's words.

Every text is scored by the real engine (the spaCy pipeline in models/, the rubrics in rubrics/).
"""

from __future__ import annotations

import re

import pytest

from khrushchev_essays.scoring import score
from khrushchev_essays.scoring.claims import weighs
from khrushchev_essays.scoring.engine import default_engine

from conftest import read_fixture

NOTES_Q1 = """\
Plan: how far did K transform the USSR 1953-64?

Intro - K led the USSR 1953-64, First Secretary then premier too. Case = terror ended and homes built, \
but the one-party state and the plan stayed.

1. End of terror
- Beria shot Dec 1953
- Secret Speech 1956 at the 20th Congress, cult of personality attacked
- millions freed from the Gulag by 1959
-> the biggest change, no more fear of arrest in the night. Rivals sacked not shot (Malenkov to a power station).

2. Limits
- Hungary crushed Nov 1956
- Pasternak stopped from taking the Nobel prize 1958
- Novocherkassk strikers shot 1962
-> still a dictatorship. The thaw could be frozen again whenever K chose, so change of style, not of system.

3. Farming
- Virgin Lands from 1954, big harvest 1956
- MTS sold off 1958
- dust storms, poor harvest 1963, grain bought abroad
-> change that did not last, worse off by 1964 than in 1958

4. Homes and pay
- flats built from 1957, millions moved out of communal rooms
- pensions raised 1956, shorter hours
-> the change ordinary people felt most. Counted for more than the sovnarkhozy.

Conclusion
Some real change - terror over, better homes. But party rule, censorship, plan, kolkhozes all kept. \
So a limited transformation: gentler rule over the same system.
"""

NARRATIVE_Q2 = """\
When Stalin died in March 1953 there was a struggle for power among his rivals. Malenkov became \
Prime Minister and Beria ran the police. Khrushchev became First Secretary in September 1953.

In 1954 Khrushchev launched the Virgin Lands campaign and young people went to Kazakhstan. In 1956 \
he gave the Secret Speech at the 20th Party Congress and attacked Stalin. Later that year the Soviet \
army crushed the rising in Hungary.

In 1957 the sovnarkhozy replaced the ministries in Moscow. In the same year Sputnik was launched. \
In 1959 Khrushchev visited America and saw the maize fields of Iowa.

In 1961 the new party rules said that officials had to be replaced regularly. In 1962 the price of \
meat and butter went up and there were strikes at Novocherkassk. In October 1962 the missiles were \
taken out of Cuba. In 1962 the party was split into two halves.

In 1963 the harvest was very poor and grain was bought from Canada. In October 1964 the Presidium \
met while he was on holiday and he was made to retire. So de-Stalinisation was one reason he fell, \
but there were other reasons too.
"""

RISE_Q2 = """\
To see why Khrushchev fell in 1964 we first have to see how he came to power, because he fell the \
way he rose.

When Stalin died in 1953 there was no successor and the rivals for power were Malenkov, Beria and \
Molotov. Malenkov looked strongest because he was Prime Minister. Khrushchev was given the post of \
First Secretary in September 1953, which let him appoint his own men across the party.

The first rival to go was Beria, who ran the secret police. The others feared him, so Khrushchev \
organised his arrest in June 1953 with the help of the army, and Beria was shot in December 1953. \
This showed how good Khrushchev was at building alliances behind the scenes.

Next came Malenkov. Khrushchev sided with the supporters of heavy industry against him, and in 1955 \
Malenkov lost the post of Prime Minister to Bulganin. The Virgin Lands scheme of 1954 made \
Khrushchev popular with the young.

In 1956 the Secret Speech damaged his rivals Molotov and Kaganovich, who had been close to Stalin. \
In 1957 the Anti-Party Group outvoted him in the Presidium, but the Central Committee, full of men \
he had appointed, backed him, and Zhukov flew them to Moscow. His rivals were sent to minor posts \
and he had won the power struggle.

So he rose because he controlled the party machine. This links to his fall, because in 1964 the \
Central Committee turned against him just as it had backed him in 1957.
"""


def _with_last_paragraph(fixture: str, paragraph: str) -> str:
    """The fixture with its last paragraph (the conclusion) replaced."""
    paras = read_fixture(fixture).strip().split("\n\n")
    return "\n\n".join(paras[:-1] + [paragraph])


def _assert_verdict_found(report) -> None:
    assert report.argument["verdict"], "the last paragraph should be read as the verdict"
    assert "no_judgement" not in report.flags


def _excluded(report, reason: str) -> list:
    return [x for x in report.argument["excluded"] if x.note == reason]


# --- notes ------------------------------------------------------------------------------------------
def test_notes_in_shorthand_are_notes_not_word_salad():
    # Arrows draw a point's consequence; the lines between the bullets (a heading, an introduction
    # and a conclusion in shorthand) are notes too, and shorthand does not run as sentences do.
    r = score(NOTES_Q1, "q1")
    assert r.status == "scored"
    assert "incoherent" not in r.flags, r.flags
    assert not _excluded(r, "word_order"), _excluded(r, "word_order")
    assert r.level >= 2, (r.level, r.mark, r.flags)
    # Notes earn knowledge, not the marks of an essay that argues in prose.
    assert r.level <= 3
    assert next(c for c in r.criteria if c.id == "evidence").mark > 0
    assert r.argument["verdict"], r.flags


def test_bullet_points_dense_with_terms_earn_their_knowledge_and_stay_notes():
    # A page of bullet points is as dense with the rubric's terms as a salad: it is notes, whose
    # facts are credited (held at the notes' level), not terms strung together held at Level 1.
    r = score(read_fixture("q2_notes.txt"), "q2")
    assert "incoherent" not in r.flags, r.flags
    assert not _excluded(r, "incoherent"), _excluded(r, "incoherent")
    assert next(c for c in r.criteria if c.id == "evidence").mark >= 3
    assert r.level == 2, (r.level, r.mark, r.flags)
    # Nor is it a list of terms: its bullets say something each, and it is held as the notes it is.
    assert "keyword_list" not in r.flags and "notes" in r.flags, r.flags
    terms = [ln for ln in read_fixture("junk_keyword_list.txt").splitlines() if ln.strip()]
    listed = score("\n".join("- " + ln for ln in terms), "q1")
    assert "keyword_list" in listed.flags and listed.level <= 1, (listed.level, listed.flags)
    # A salad does not escape by being set out as bullet points.
    salad = [x for x in re.split(r"(?<=[.!?])\s+", read_fixture("keyword_salad_q1.txt")) if x.strip()]
    bulleted = score("\n".join("- " + x.strip() for x in salad), "q1")
    assert bulleted.level <= 1 and "incoherent" in bulleted.flags, (bulleted.level, bulleted.flags)


@pytest.mark.parametrize("heading", ["Conclusion\n", "CONCLUSION:\n", "Conclusion\n\n", "5. Summary\n"])
def test_a_paragraph_headed_conclusion_is_the_conclusion(heading):
    # A plain closing paragraph of one claim over two areas is one more body paragraph unheaded;
    # a heading above it says what it is, as notes and plans do.
    closing = ("Khrushchev built millions of flats and ended the mass arrests. But the party kept its grip on "
               "every part of life. So the USSR was run more gently than before, and it was still the same state.")
    unheaded = score(_with_last_paragraph("q1_medium.txt", closing), "q1")
    assert "no_judgement" in unheaded.flags
    headed = score(_with_last_paragraph("q1_medium.txt", heading + closing), "q1")
    _assert_verdict_found(headed)
    assert headed.mark > unheaded.mark


def test_shorthand_prose_is_still_judged_when_most_of_the_script_is_prose():
    # The notes rule is for scripts mostly in bullet points: the strong fixture, in prose, keeps
    # every sentence it had, and a prose essay is not excused by one bullet list inside it.
    text = read_fixture("q1_strong.txt")
    paras = text.strip().split("\n\n")
    with_list = "\n\n".join(paras[:2] + ["- Virgin Lands 1954\n- MTS abolished 1958"] + paras[2:])
    r = score(with_list, "q1")
    assert "incoherent" not in r.flags
    assert r.level == score(text, "q1").level


# --- the other question, by its years ---------------------------------------------------------------
def test_a_story_of_the_whole_period_opening_on_the_power_struggle_is_a_narrative_of_this_question():
    r = score(NARRATIVE_Q2, "q2")
    assert "answers_other_question" not in r.flags, r.argument["other_question"]
    # Held as the narrative it is (it is short as well), not as an answer to another question.
    assert r.level <= 2, (r.level, r.mark, r.flags)
    assert "mostly_narrative" in r.flags, r.flags


def test_an_account_of_his_rise_under_an_introduction_on_his_fall_answers_the_rise():
    # The ends speak of 1964; the body keeps to 1953-57 and to his rivals: how he came to power.
    r = score(RISE_Q2, "q2")
    assert "answers_other_question" in r.flags, r.flags
    assert r.argument["other_question"]["id"] == "rise"
    assert r.level <= 2


def test_the_same_story_carried_on_to_1964_is_not_an_answer_about_the_rise():
    # Add a body paragraph on the 1960s and the body no longer keeps to the years of his rise.
    paras = RISE_Q2.strip().split("\n\n")
    later = ("In 1962 the party was split into industrial and agricultural halves, and in 1963 the harvest "
             "failed and grain was bought abroad. In 1961 the new rules threatened officials' jobs, and in "
             "1962 the missiles were taken out of Cuba. In 1964 the plotters struck.")
    r = score("\n\n".join(paras[:-1] + [later, later.replace("In 1962 the party", "The party"), paras[-1]]), "q2")
    assert (r.argument["other_question"] or {}).get("id") != "rise"


# --- a conclusion set against other times -------------------------------------------------------------
def test_a_conclusion_that_compares_the_period_with_stalins_time_is_not_background():
    conclusion = ("In conclusion, Khrushchev made real changes, above all ending the terror and raising living "
                  "standards, so the USSR was no longer what it had been under Stalin. However, I think it was not "
                  "a transformation, because the Communist Party kept its monopoly of power and many of his "
                  "reforms were undone after 1964. He changed how the system was run, not the system.")
    r = score(_with_last_paragraph("q1_medium.txt", conclusion), "q1")
    assert not _excluded(r, "background"), _excluded(r, "background")
    _assert_verdict_found(r)


# --- a verdict that recalls the body's years -----------------------------------------------------------
def test_a_verdict_recalling_the_bodys_years_is_a_verdict_and_new_dated_evidence_is_not():
    recall = ("The way the plot was carried out in 1964 supports this. De-Stalinisation made a peaceful removal "
              "possible, but it was the failure of agriculture and the reorganisation of the party that turned "
              "the men who had saved him in 1957 into the men who voted him out in 1964. The plotters of 1964 "
              "blamed his schemes for farming and for the party, not his attack on Stalin in 1956.")
    _assert_verdict_found(score(_with_last_paragraph("q2_strong.txt", recall), "q2"))
    # Without its conclusion, the strong essay's last body paragraph brings in new dated evidence:
    # it is not a verdict, and the essay has no overall judgement.
    paras = read_fixture("q2_strong.txt").strip().split("\n\n")
    cut = score("\n\n".join(paras[:-1]), "q2")
    assert "no_judgement" in cut.flags


# --- weighing in the writer's own words ------------------------------------------------------------------
@pytest.mark.parametrize("sentence, expected", [
    ("De-Stalinisation ranks below both the reorganisation of the party and the harvests.", True),
    ("Farming came second to the attack on the officials.", True),
    ("Set beside the crisis of 1957, this case looks weak.", True),
    ("The split with China was secondary to the quarrels at home.", True),
    ("Agriculture counted for less than the party reforms.", True),
    ("The Virgin Lands were ploughed later than planned.", False),
    ("He visited the United States in 1959.", False),
])
def test_weighing_in_own_words(sentence, expected):
    assert weighs(sentence) is expected


def test_factors_weighed_against_each_other_speak_to_the_question_without_its_words():
    # "Counted for less than" names neither his fall nor its causes: weighing two of the
    # question's factors is a claim on "how far" all the same.
    engine = default_engine()
    text = read_fixture("q2_medium.txt")
    extra = "Agriculture counted for less than the reorganisation of the party, but for more than the Secret Speech."
    paras = text.strip().split("\n\n")
    changed = "\n\n".join(paras[:2] + [paras[2] + " " + extra] + paras[3:])
    analysis, argument, _f = engine.analyse_text(changed, "q2")
    idx = next(s.index for s in analysis.sentences if analysis.text[s.start:s.end].startswith("Agriculture counted"))
    assert "own" in argument.focus.get(idx, ())
    # One factor weighed against nothing named is not such a claim.
    alone = "\n\n".join(paras[:2] + [paras[2] + " Agriculture mattered less than people think."] + paras[3:])
    analysis, argument, _f = engine.analyse_text(alone, "q2")
    idx = next(s.index for s in analysis.sentences if analysis.text[s.start:s.end].startswith("Agriculture mattered"))
    assert "own" not in argument.focus.get(idx, ())
