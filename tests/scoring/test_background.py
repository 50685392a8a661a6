"""Background from another period earns nothing and counts toward `irrelevant` (issue 10, item 2).

A paragraph is told by when it is set (claims._background): its years and decades, the rubric's
terms for what came before and after the period, against the period's years, events and terms.
The question's own words are no test, since any history uses them ("transformed", "new").
Every essay is scored by the real engine; the paragraphs are written for these tests.
"""

from __future__ import annotations

import pytest

from khrushchev_essays.scoring import score

from conftest import read_fixture

# Paragraphs about another period. Several use the words of the questions on purpose.
OTHER_PERIODS = {
    # Stalin's industrialisation, with "changed", "new", "although", "remained": words of q1.
    "five_year_plans": (
        "Stalin's first Five-Year Plan, launched in 1928, changed the country faster than any reform "
        "before it. New steel towns rose on the steppe, and by 1932 millions of peasants had become "
        "factory workers, although most of them lived in barracks and tents. The second plan, begun in "
        "1933, kept the same priorities, so heavy industry remained the state's first concern."),
    "nep": (
        "After the Civil War Lenin stepped back from state control of the economy. His New Economic "
        "Policy of 1921 let peasants sell their surplus grain, and small traders reopened shops in every "
        "town. By 1927 output was back to pre-war levels, but many Bolsheviks saw the policy as a "
        "betrayal of the revolution, and Stalin abandoned it in 1928."),
    "civil_war": (
        "Between 1918 and 1921 the Reds fought the Whites for control of the old empire. Trotsky built "
        "the Red Army almost from nothing, and under War Communism squads seized grain from the villages "
        "at gunpoint. When the sailors of Kronstadt rose against the Bolsheviks in 1921 they were crushed."),
    # After 1964, dated only by a year inside the grace after the period and by the 1970s.
    "brezhnev_economy": (
        "Once Khrushchev had gone, his successors changed course. In 1965 Kosygin gave factory "
        "directors more say over what they made and let profit count as a measure of success, but the "
        "ministries soon took the power back. Under Brezhnev oil from Siberia paid for imported grain, "
        "and growth slowed in every year of the 1970s."),
    # Dated by nothing but 1965 (within the grace), with the words of q2's outcome and an event
    # of the period in the first sentence.
    "kosygin_1965": (
        "After Khrushchev's fall the new First Secretary was Brezhnev, and Kosygin became Premier. "
        "In 1965 Kosygin launched a reform of industry that judged factories by their sales, but it "
        "was quietly dropped. Under Brezhnev officials kept their posts for life."),
    "gorbachev": (
        "Gorbachev, who came to power in 1985, tried to save the system rather than end it. Glasnost "
        "let newspapers print what had been hidden for decades, and perestroika loosened the planners' "
        "grip on the factories. Within six years the Soviet Union itself had broken apart."),
    # The war, with one sentence in three that no term or year dates.
    "war": (
        "Hitler's armies crossed the border in June 1941 and within months stood outside Moscow. Leningrad "
        "held out through a siege that starved a million of its people. American Lend-Lease trucks kept "
        "the Soviet war effort moving while the factories carried east to the Urals turned out tanks by the "
        "thousand."),
    # Dated before 1890, where the matcher reads a year as a figure.
    "tsars": (
        "The emancipation of 1861 ended serfdom, but the freed peasants paid for their land for the next "
        "forty years. Nicholas II survived the revolution of 1905 only by granting a parliament, and the "
        "First World War destroyed what authority the monarchy had left."),
    # Khrushchev himself, before the period: naming him does not make it the period.
    "early_life": (
        "Khrushchev was born in 1894 near the border with Ukraine and worked as a metal fitter in the "
        "Donbass mines. He joined the Bolsheviks in 1918 and fought in the Civil War. In the 1930s he "
        "rose quickly as one of Kaganovich's men, running the Moscow party from 1935 and overseeing the "
        "building of the metro."),
}

# Paragraphs a genuine essay writes about other periods, which stay on the question.
ON_THE_QUESTION = {
    "q1": {
        # Two sentences on Stalin's time, one on what Khrushchev changed: a comparison.
        "comparison": (
            "Under Stalin the collective farms were paid almost nothing for their grain, and in the "
            "famine of 1946 peasants starved while the state sold grain abroad. Collectivisation in the "
            "1930s had already cost millions of lives. Khrushchev changed this: by 1964 farm incomes had "
            "more than doubled."),
        # The Secret Speech, dense with the years of Stalin's crimes.
        "secret_speech": (
            "Khrushchev's attack on Stalin in February 1956 was the sharpest break with the past. He told "
            "the delegates how loyal communists had been tortured in the purges of 1937 and 1938, and "
            "blamed Stalin for the disasters of the war in 1941. Within a few years millions had been "
            "released from the camps and rehabilitated, and the fear of the 1930s began to lift."),
        # What came after 1964, as the test of what lasted.
        "aftermath": (
            "What happened after 1964 shows which changes lasted. Brezhnev's regime abolished the "
            "sovnarkhozy and restored the ministries, but it did not bring back mass terror, and the "
            "flats Khrushchev had started in 1957 went on being built."),
    },
    "q2": {
        "comparison": (
            "Under Stalin a leader who lost the confidence of his colleagues would have been shot, as Beria "
            "was in 1953. Khrushchev's own reforms changed the rules: in October 1964 the Central Committee "
            "simply voted him out, and he retired on a pension."),
        "aftermath": (
            "The officials' motive is clear from what followed. After Khrushchev was removed, Brezhnev "
            "promised them stability of cadres, which shows that the rotation rule of 1961 had turned the "
            "apparatus against him."),
    },
}

GENUINE = {"q1": ("q1_strong.txt", "q1_medium.txt", "q1_one_sided.txt", "q1_own_words_strong.txt",
                  "q1_dyslexic_strong.txt"),
           "q2": ("q2_strong.txt", "q2_medium.txt", "q2_own_words_strong.txt")}


def paragraphs(text: str) -> list[str]:
    return [p for p in text.strip().split("\n\n") if p.strip()]


def _relevance(report) -> float:
    return next(c for c in report.criteria if c.id == "analysis").details["relevance"]


def _inserted(name: str, para: str, at: int) -> tuple[str, int, int]:
    ps = paragraphs(read_fixture(name))
    at = at if at >= 0 else len(ps) + at
    text = "\n\n".join(ps[:at] + [para] + ps[at:])
    start = text.index(para)
    return text, start, start + len(para)


def _sentences(para: str) -> int:
    return sum(para.count(end) for end in ".!?")


@pytest.mark.parametrize("where", [1, -1], ids=["after_intro", "before_conclusion"])
@pytest.mark.parametrize(("q", "name", "topic"), [
    ("q1", "q1_one_sided.txt", "five_year_plans"),
    ("q1", "q1_strong.txt", "five_year_plans"),
    ("q1", "q1_medium.txt", "nep"),
    ("q2", "q2_medium.txt", "civil_war"),
    ("q1", "q1_medium.txt", "brezhnev_economy"),
    ("q2", "q2_strong.txt", "brezhnev_economy"),
    ("q2", "q2_medium.txt", "kosygin_1965"),
    ("q2", "q2_own_words_strong.txt", "kosygin_1965"),
    ("q1", "q1_own_words_strong.txt", "gorbachev"),
    ("q2", "q2_medium.txt", "early_life"),
    ("q2", "q2_strong.txt", "tsars"),
    ("q1", "q1_medium.txt", "war"),
    ("q2", "q2_own_words_strong.txt", "war"),
])
def test_a_paragraph_on_another_period_earns_nothing_and_counts_as_irrelevant(q, name, topic, where):
    para = OTHER_PERIODS[topic]
    text, start, end = _inserted(name, para, where)
    before, after = score(read_fixture(name), q), score(text, q)
    assert after.mark <= before.mark and after.level <= before.level
    inside = [e for e in after.argument["excluded"] if start <= e.start < end]
    assert len(inside) == _sentences(para) and {e.note for e in inside} == {"background"}, \
        [(e.text[:30], e.note) for e in inside]
    # No factor is credited with evidence from it ("Five-Year Plan" is no evidence on industry
    # under Khrushchev), and its sentences count against relevance.
    assert not [sp for f in after.factors for sp in f.evidence if start <= sp.start < end]
    assert _relevance(after) < _relevance(before)


@pytest.mark.parametrize(("q", "topic"), [(q, t) for q in ON_THE_QUESTION for t in ON_THE_QUESTION[q]])
@pytest.mark.parametrize("name", ["medium", "strong"])
def test_a_paragraph_that_weighs_another_period_against_the_question_keeps_its_credit(q, topic, name):
    para = ON_THE_QUESTION[q][topic]
    text, start, end = _inserted(f"{q}_{name}.txt", para, 2)
    after = score(text, q)
    assert not [e for e in after.argument["excluded"] if start <= e.start < end and e.note == "background"]
    # And it is credited: some factor's evidence comes from it.
    assert [sp for f in after.factors for sp in f.evidence if start <= sp.start < end]


@pytest.mark.parametrize(("q", "name"), [(q, n) for q in GENUINE for n in GENUINE[q]])
def test_no_sentence_of_a_genuine_essay_is_taken_for_background(q, name):
    report = score(read_fixture(name), q)
    assert not [e.text[:40] for e in report.argument["excluded"] if e.note == "background"]


def test_the_same_paragraph_without_its_dates_is_still_background():
    # Undated, it is set by its terms: the Five-Year Plans, collectivisation, the kulaks.
    undated = ("Stalin's Five-Year Plans changed the country faster than any reform before them. New "
               "steel towns rose on the steppe, and collectivisation drove the peasants into the kolkhozy. "
               "The kulaks were deported to Siberia, although many new workers still lived in tents.")
    text, start, end = _inserted("q1_one_sided.txt", undated, 2)
    before, after = score(read_fixture("q1_one_sided.txt"), "q1"), score(text, "q1")
    assert after.mark <= before.mark and after.level <= before.level
    assert {e.note for e in after.argument["excluded"] if start <= e.start < end} == {"background"}
