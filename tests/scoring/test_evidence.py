"""Precise evidence through the real engine: events named in the student's own words are dated
(Event.terms and cues in the rubrics), a wrong year beside such words is still an inaccuracy, a
year beside a word that names no event earns nothing, and only real figures count as figures.
Short sentences written for these tests; real pipeline, real rubrics."""

from __future__ import annotations

import pytest

from khrushchev_essays.scoring import default_engine, score

# A neutral opening sentence, so that the sentence under test is not the whole essay.
OPENING = "Khrushchev changed many things in the Soviet Union during his years as leader of the country. "


def evidence(text: str, q: str):
    r = score(text, q)
    ev = next(c for c in r.criteria if c.id == "evidence")
    return r, ev


def dated(text: str, q: str) -> list:
    """The dated evidence the report shows: events by name and by the student's own words."""
    _r, ev = evidence(text, q)
    return [sp for sp in ev.evidence if sp.label == "date"]


# --- events in the student's own words -----------------------------------------------------------
@pytest.mark.parametrize(("q", "sentence", "event", "year"), [
    ("q1", "Hungary in 1956 showed that reform stopped wherever Soviet control of Eastern Europe was at stake.",
     "Hungarian uprising", 1956),
    ("q2", "Hungary in 1956 showed that reform stopped wherever Soviet control of Eastern Europe was at stake.",
     "Hungarian uprising", 1956),
    ("q2", "He took the premiership in 1958, so that every later failure was seen as his alone.",
     "both top posts", 1958),
    ("q1", "He took the premiership in 1958, so that one man again held both the party and the state.",
     "both top posts", 1958),
    ("q2", "The 1962 split of the party into two branches angered the regional secretaries, who felt threatened.",
     "Party split", 1962),
    ("q2", "In 1962 the party was divided in two, which angered the regional secretaries.", "Party split", 1962),
    ("q1", "When the 1963 harvest failed, the state had to buy grain from the capitalist countries.",
     "Harvest failure", 1963),
    ("q2", "The harvest failed in 1963, which humiliated him because grain had to be bought abroad.",
     "Harvest failure", 1963),
    ("q2", "The rise in meat prices in 1962 turned many workers against the regime.", "price rises", 1962),
    ("q2", "The party rules adopted in 1961 meant that officials had to give up their posts after a few terms.",
     "Rotation of officials", 1961),
    ("q1", "In 1954 the secret police became the KGB, which answered to the party leadership.", "KGB formed", 1954),
    ("q1", "Pensions were raised in 1956, which made life more secure for millions of old people.", "Pension law", 1956),
    ("q1", "The housing programme from 1957 gave many families a flat of their own for the first time.",
     "Housing decree", 1957),
    # A slip in the key word is read as the word meant, as for the event list's own names.
    ("q1", "The harvist of 1963 failed, so the state had to buy grain from the capitalist countries.",
     "Harvest failure", 1963),
])
def test_an_event_in_the_students_own_words_is_dated(q, sentence, event, year):
    text = OPENING + sentence
    r, ev = evidence(text, q)
    spans = [sp for sp in ev.evidence if sp.label == "date"]
    assert r.inaccuracies == [], [(sp.text, sp.note) for sp in r.inaccuracies]
    hit = [sp for sp in spans if event in (sp.note or "") and str(year) in sp.note]
    assert hit, [(sp.text, sp.note) for sp in spans]
    for sp in hit:  # the span is the student's own words, year included
        assert sp.text == text[sp.start:sp.end] and str(year) in sp.text


def test_own_words_dates_raise_the_evidence_mark():
    plain = OPENING + ("The party was unhappy with him, and the farms did badly. Prices went up and the "
                       "workers were angry. The leadership in Eastern Europe was shaken by his speech.")
    dated_text = OPENING + ("The 1962 split of the party angered the officials, and the 1963 harvest failed. "
                            "Meat prices rose in 1962 and the workers were angry. Hungary in 1956 showed that "
                            "his speech had shaken Eastern Europe.")
    _r, low = evidence(plain, "q2")
    _r, high = evidence(dated_text, "q2")
    assert high.mark > low.mark, (low.comment, high.comment)
    assert high.details["dates"] + high.details["factor_dates"] >= 4, high.details


@pytest.mark.parametrize(("q", "sentence", "right", "wrong"), [
    ("q2", "The 1959 split of the party into two branches angered the regional secretaries.", "1962", "1959"),
    ("q1", "Hungary was invaded in 1958, which showed that the thaw had limits.", "1956", "1958"),
    ("q1", "In 1961 the USSR launched Sputnik, which boosted Soviet prestige.", "1957", "1961"),
    ("q2", "Meat prices rose in 1959, which led to strikes.", "1962", "1959"),
])
def test_a_wrong_year_for_an_event_in_own_words_is_an_inaccuracy(q, sentence, right, wrong):
    text = OPENING + sentence
    r, ev = evidence(text, q)
    assert len(r.inaccuracies) == 1, [(sp.text, sp.note) for sp in r.inaccuracies]
    sp = r.inaccuracies[0]
    assert sp.text == text[sp.start:sp.end] and wrong in sp.text
    assert right in sp.note and wrong in sp.note
    assert ev.details["inaccuracies"] == 1
    assert not [d for d in ev.evidence if d.label == "date" and wrong in (d.note or "")]


@pytest.mark.parametrize(("q", "sentence"), [
    # A place or a thing with a year it is not known for: nothing, and not called wrong.
    ("q1", "Hungary in 1949 was already a one-party state run on Soviet lines."),
    ("q2", "The 1960 harvest was an ordinary one, which made little difference either way."),
    # A year by a word that names no event.
    ("q1", "The weather in 1958 was warm, which made that summer pleasant for everybody."),
    # A time frame is not the date of what follows it.
    ("q2", "By 1964 the party had been split for two years and the officials were tired of him."),
    # Key words in another clause than the year's.
    ("q1", "Hungary was a problem for him; in 1959 he was busy with other matters entirely."),
])
def test_a_year_beside_words_of_no_event_earns_nothing_and_is_not_wrong(q, sentence):
    text = OPENING + sentence
    r, ev = evidence(text, q)
    year = next(w for w in sentence.replace(",", " ").split() if w.isdigit())
    assert r.inaccuracies == [], [(sp.text, sp.note) for sp in r.inaccuracies]
    assert not [d for d in ev.evidence if d.label == "date" and year in d.text], ev.evidence


def test_specific_words_of_one_event_keep_a_cue_of_another_from_taking_the_year():
    # 1958 is a record harvest's year, but a harvest that failed is not a record one.
    r, ev = evidence(OPENING + "The harvest failed in 1958, which the leadership blamed on the weather.", "q1")
    assert not [d for d in ev.evidence if d.label == "date" and "Record" in (d.note or "")], ev.evidence
    assert r.inaccuracies == []  # 1958 may be right for some harvest: not called wrong either


# --- figures -------------------------------------------------------------------------------------
def figures(text: str, q: str = "q1") -> list[str]:
    _analysis, _argument, findings = default_engine().analyse_text(text, q)
    for sp in findings.figures:
        assert sp.text == text[sp.start:sp.end]
    return [sp.text for sp in findings.figures]


def test_year_ranges_ordinals_and_references_are_not_figures():
    text = (OPENING + "Between 1953-64 the farms changed because the sovnarkhozy and the Virgin Lands scheme "
            "altered how the economy worked, as page 12 of the textbook says. The anti-religious campaign "
            "of 1959\u201365 closed churches because the party wanted atheism, and the 22nd Congress attacked "
            "Stalin again, as paragraph 3 of the notes explains.")
    found = figures(text)
    assert not {"64", "65", "22nd", "12", "3", "1959\u201365"} & set(found), found
    # The first year of a range written as one word is still a year.
    analysis = default_engine().analyse_text(text, "q1")[0]
    years = [y for s in analysis.sentences for y, *_ in s.years]
    assert 1953 in years and 1959 in years, years


def test_real_figures_still_count_as_one_figure_each():
    text = (OPENING + "The Virgin Lands scheme ploughed 35 million hectares because Khrushchev wanted more "
            "grain for the towns. Over a million prisoners left the Gulag, which ended the terror for their "
            "families. The sovnarkhozy created over 100 regional councils, so the ministries lost power. "
            "Industrial output rose by 40% because investment in the factories grew.")
    found = figures(text)
    for fig in ("35 million", "million", "100", "40"):
        assert fig in found, found
    assert "35" not in found, found  # "35 million" is one figure, not two
    r, ev = evidence(text, "q1")
    shown = [sp.text for sp in ev.evidence if sp.label == "figure"]
    assert "35 million" in shown and ev.details["figures"] == len(found), (shown, ev.details)


def test_a_numbered_list_and_a_number_in_a_name_are_not_figures():
    text = ("1. The Virgin Lands scheme ploughed new land because Khrushchev wanted more grain for the towns.\n"
            "2. The 7-year plan changed industry because chemicals were favoured, and 2.5 million flats "
            "were built.\n")
    found = figures(text)
    assert "1" not in found and "2" not in found and "7" not in found, found
    assert "2.5 million" in found, found
