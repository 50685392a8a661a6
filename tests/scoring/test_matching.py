"""Phrases -> credit: spelling variants, lemmas, what makes a factor mentioned or developed, what
does not count at all, and the dating of events. Real pipeline, real rubrics, short essays."""

from __future__ import annotations

import copy
import tomllib

import pytest
from conftest import read_fixture
from hypothesis import given, settings
from hypothesis import strategies as st

from khrushchev_essays.scoring import get_nlp, parse_rubric, score
from khrushchev_essays.scoring.matching import variants
from khrushchev_essays.scoring.rubric import RUBRICS_DIR

# A neutral opening sentence, so that the sentence under test is not the whole essay.
OPENING = "Khrushchev changed many things in the Soviet Union during his time as leader of the country. "


def statuses(text: str, q: str = "q1") -> dict[str, str]:
    return {f.id: f.status for f in score(text, q).factors}


def factor(report, fid: str):
    return next(f for f in report.factors if f.id == fid)


# --- spelling variants and lemmas ----------------------------------------------------------------
@pytest.mark.parametrize("q", ["q1", "q2"])
@pytest.mark.parametrize("spelling", ["de-Stalinisation", "de-stalinization", "destalinisation",
                                      "De Stalinisation", "De-Stalinization", "DE-STALINISATION"])
def test_spellings_of_de_stalinisation_all_credit_the_factor(q, spelling):
    text = OPENING + f"{spelling.capitalize() if spelling[0].islower() else spelling} was significant because it weakened the authority of the Party."
    r = score(text, q)
    f = factor(r, "destalinisation")
    assert f.status != "missing", spelling
    assert any(spelling.lower() in sp.text.lower() for sp in f.evidence), f.evidence


def test_reforms_lemmatise_alike_in_any_case():
    nlp = get_nlp()
    lemmas = {t.lemma_ for t in nlp("Reforms reforms REFORMS") if not t.is_space}
    assert lemmas == {"reform"}
    assert {t.lemma_ for t in nlp("Harvests harvests HARVESTS")} == {"harvest"}


@pytest.mark.parametrize(("q", "fid"), [("q1", "industry"), ("q2", "economic_reorganisation")])
@pytest.mark.parametrize("word", ["Sovnarkhozy", "sovnarkhozy", "SOVNARKHOZY"])
def test_sovnarkhozy_credit_the_economic_factor(q, fid, word):
    text = OPENING + f"{word} were set up in 1957 because Khrushchev wanted to weaken the Moscow ministries."
    assert statuses(text, q)[fid] != "missing"


def test_capitals_do_not_hide_a_phrase():
    text = OPENING + "THE SECRET SPEECH of 1956 was significant because it shocked the Party."
    assert statuses(text)["destalinisation"] != "missing"


def test_variants_cover_hyphens_spaces_and_both_spellings():
    v = variants("de-Stalinisation")
    assert {"de-stalinisation", "de stalinisation", "destalinisation", "de-stalinization",
            "de stalinization", "destalinization"} <= v
    assert {"decentralise", "decentralize"} <= variants("decentralise")
    assert {"decentralise", "decentralize"} <= variants("decentralize")


def _q1_with(factor_phrases: dict[str, list[str]]):
    """The real q1 rubric with some factors' phrase lists replaced, so that the spelling variants a
    test relies on come from the matcher, not from the rubric listing both spellings."""
    data = tomllib.loads((RUBRICS_DIR / "q1_transformation.toml").read_text(encoding="utf-8"))
    data = copy.deepcopy(data)
    for f in data["factors"]:
        if f["id"] in factor_phrases:
            f["phrases"] = factor_phrases[f["id"]]
    return parse_rubric(data, "q1-variant-test")


@pytest.mark.parametrize(("listed", "written"), [
    ("de-stalinisation", "de-stalinization"),
    ("de-stalinization", "destalinisation"),
    ("decentralisation", "decentralization"),
    ("decentralization", "decentralisation"),
    # Past participles: the rubric lists "criticised stalin", a student writes "criticized Stalin".
    ("decentralised", "decentralized"),
    ("decentralized", "decentralised"),
])
def test_british_and_american_spellings_match_each_other(listed, written):
    fid = "destalinisation" if "stalin" in listed else "industry"
    others = ["secret speech", "cult of personality"] if fid == "destalinisation" else ["sovnarkhozy", "gosplan"]
    rubric = _q1_with({fid: [listed, *others]})
    text = OPENING + f"The {written} of the 1950s was significant because it changed how the country was run."
    r = score(text, rubric)
    assert factor(r, fid).status != "missing", (listed, written)


# --- mentioned, developed, not credited -----------------------------------------------------------
def test_a_factor_named_in_a_sentence_is_mentioned():
    s = statuses(OPENING + "There was also the Virgin Lands scheme during these years of his rule.")
    assert s["agriculture"] == "mentioned"


def test_a_factor_explained_with_cause_and_evidence_is_developed():
    text = OPENING + ("The Virgin Lands scheme was significant because it brought huge areas of Kazakhstan "
                      "under the plough. As a result there was a record harvest in 1956, although soil "
                      "erosion soon followed.")
    assert statuses(text)["agriculture"] == "developed"


def test_developed_needs_more_than_a_name():
    named = statuses(OPENING + "There was also the Virgin Lands scheme during these years of his rule.")
    developed = statuses(OPENING + "The Virgin Lands scheme was significant because it brought huge areas of "
                         "Kazakhstan under the plough. As a result there was a record harvest in 1956.")
    assert (named["agriculture"], developed["agriculture"]) == ("mentioned", "developed")


def test_a_factor_told_in_detail_over_three_sentences_is_developed_without_causal_words():
    # Detailed, precise knowledge of a factor is development of it even in plain words: three
    # sentences, its own developments (a record harvest, soil erosion, grain from Canada), years.
    told = ("The Virgin Lands scheme opened up Kazakhstan in 1954. A record harvest followed in 1956. "
            "Soil erosion and drought then struck the steppe, and in 1963 grain was bought from Canada.")
    assert statuses(OPENING + told)["agriculture"] == "developed"
    # Two of those sentences are not yet enough.
    assert statuses(OPENING + told.rsplit(". ", 1)[0] + ".")["agriculture"] == "mentioned"


def test_bullet_points_that_carry_a_fact_earn_a_mention():
    # Notes earn knowledge but not analysis: a bullet with a year, or a few words of fact, names
    # the factor; a bare name in a list does not (test_factor_phrases_in_list_lines_are_not_credited).
    text = (OPENING + "\n\nWhat else changed:\n- Secret Speech - 1956 - 20th Congress\n- Sputnik\n\n"
            "These changes affected the lives of many people in the country in important ways.")
    s = statuses(text)
    assert s["destalinisation"] == "mentioned" and s["education_science_space"] == "missing", s


@pytest.mark.parametrize("fragment", ["Virgin Lands.", "Virgin Lands scheme.", "Maize!", "The Virgin Lands."])
def test_a_factor_phrase_in_a_fragment_is_not_credited(fragment):
    text = OPENING + fragment + " His other policies were important to the people who lived in the country."
    assert statuses(text)["agriculture"] == "missing"


@pytest.mark.parametrize("bullet", ["- ", "* ", "\u2022 ", "1. ", ""])
def test_factor_phrases_in_list_lines_are_not_credited(bullet):
    items = ["Virgin Lands scheme", "sovnarkhozy", "Secret Speech"]
    text = (OPENING + "\n\nHis main reforms were these:\n"
            + "\n".join(bullet + i for i in items)
            + "\n\nThese changes affected the lives of many people in the country in important ways.")
    s = statuses(text)
    credited = {k: v for k, v in s.items() if k in ("agriculture", "industry", "destalinisation") and v != "missing"}
    assert credited == {}, credited


def test_list_lines_ending_in_full_stops_are_not_credited():
    text = (OPENING + "\n\nVirgin Lands scheme.\nSovnarkhozy.\nSecret Speech.\n\n"
            "These changes affected the lives of many people in the country in important ways.")
    s = statuses(text)
    assert s["agriculture"] == s["industry"] == s["destalinisation"] == "missing"


def _insert_after_paragraph(text: str, k: int, extra: str) -> str:
    """`extra` as a new paragraph after the k-th, so the introduction and conclusion stay put."""
    paras = text.strip().split("\n\n")
    return "\n\n".join(paras[:k] + [extra.strip()] + paras[k:])


REPEATED = "Khrushchev also followed a policy of peaceful coexistence with the West in these years. "


def test_repeating_a_factor_twenty_times_earns_no_more_than_once():
    base = read_fixture("q1_medium.txt")
    once = score(_insert_after_paragraph(base, 2, REPEATED), "q1")
    many = score(_insert_after_paragraph(base, 2, REPEATED * 20), "q1")
    assert factor(once, "foreign_prestige").status == factor(many, "foreign_prestige").status == "mentioned"
    f_once, f_many = (next(c for c in r.criteria if c.id == "factors") for r in (once, many))
    assert f_many.mark == f_once.mark
    assert f_many.details == f_once.details
    assert len(factor(many, "foreign_prestige").evidence) >= 1


def test_padding_with_one_sentence_repeated_does_not_raise_the_mark():
    """Twenty copies of one sentence add words but no knowledge or argument; they must not earn a
    mark (the organisation criterion counts words towards the suggested length)."""
    base = read_fixture("q1_medium.txt")
    once = score(_insert_after_paragraph(base, 2, REPEATED), "q1")
    many = score(_insert_after_paragraph(base, 2, REPEATED * 20), "q1")
    assert many.mark <= once.mark, (
        f"once: {once.mark} (raw {once.raw_mark}) {[(c.id, c.mark) for c in once.criteria]}; "
        f"20 times: {many.mark} (raw {many.raw_mark}) {[(c.id, c.mark) for c in many.criteria]}")


def test_repeating_a_phrase_inside_one_sentence_earns_no_more_than_once():
    one = score(OPENING + "The Virgin Lands scheme was one of the things he did in these years.", "q1")
    many = score(OPENING + "The Virgin Lands " * 20 + "scheme was one of the things he did in these years.", "q1")
    assert factor(many, "agriculture").status == factor(one, "agriculture").status
    assert many.criteria[0].mark == one.criteria[0].mark


# --- dates ---------------------------------------------------------------------------------------
def dated(text: str, q: str = "q1"):
    r = score(text, q)
    ev = next(c for c in r.criteria if c.id == "evidence")
    return r, [sp for sp in ev.evidence if sp.label == "date"]


@pytest.mark.parametrize("q", ["q1", "q2"])
def test_secret_speech_in_1953_is_an_inaccuracy_naming_1956(q):
    text = OPENING + "The Secret Speech in 1953 was significant because it attacked Stalin's cult of personality."
    r, dates = dated(text, q)
    assert len(r.inaccuracies) == 1, r.inaccuracies
    sp = r.inaccuracies[0]
    assert sp.label == "inaccuracy"
    assert "Secret Speech" in sp.text and "1953" in sp.text and sp.text == text[sp.start:sp.end]
    assert "1956" in sp.note
    assert not dates


@pytest.mark.parametrize("q", ["q1", "q2"])
@pytest.mark.parametrize("sentence", [
    "The Secret Speech in 1956 was significant because it attacked Stalin's cult of personality.",
    "In 1956 the Secret Speech was significant because it attacked Stalin's cult of personality.",
    "The 1956 Secret Speech was significant because it attacked Stalin's cult of personality.",
    "The Secret Speech (1956) was significant because it attacked Stalin's cult of personality.",
])
def test_secret_speech_in_1956_is_a_correct_date(q, sentence):
    r, dates = dated(OPENING + sentence, q)
    assert r.inaccuracies == []
    assert any("1956" in (sp.note or "") and "Secret Speech" in sp.note for sp in dates), dates


@pytest.mark.parametrize("sentence", [
    "The Hungarian uprising in 1956, Novocherkassk in 1962: both show that force was still used against protest.",
    "Novocherkassk in 1962 and the Hungarian uprising in 1956 both show that force was still used against protest.",
    "Hungary in 1956, Novocherkassk in 1962 and the Manezh attack show that force was still used against protest.",
    # A year before "and" dates what came before it, not the event after it.
    "Hungary 1956 and Novocherkassk 1962 both show that force was still used against protest.",
])
def test_years_near_two_events_are_not_misattributed(sentence):
    r, dates = dated(OPENING + sentence)
    assert r.inaccuracies == [], [(sp.text, sp.note) for sp in r.inaccuracies]
    notes = {sp.note for sp in dates}
    assert any("Novocherkassk" in n and "1962" in n for n in notes), notes
    assert not any("Novocherkassk" in n and "1956" in n for n in notes), notes
    assert not any("Hungar" in n and "1962" in n for n in notes), notes


def test_a_year_followed_by_and_is_not_the_next_events_date():
    # "of 1957" dates the satellite; the flight has its own year after it.
    r, dates = dated(OPENING + "The satellite of 1957 and Gagarin's flight in 1961 showed what Soviet science could do.")
    assert r.inaccuracies == [], [(sp.text, sp.note) for sp in r.inaccuracies]
    assert any("Gagarin" in (sp.note or "") and "1961" in sp.note for sp in dates), dates
    # Right before the name, with nothing between, the year is still the event's and can be wrong.
    r, _dates = dated(OPENING + "In 1957 Gagarin showed what Soviet science could do.")
    assert len(r.inaccuracies) == 1 and "1961" in r.inaccuracies[0].note, r.inaccuracies


@pytest.mark.parametrize("sentence", [
    "The sovnarkhozy were abolished in 1965, which shows how shallow the reform had been.",
    "Brezhnev scrapped the sovnarkhozy in 1965, which shows how shallow the reform had been.",
    "In 1965 the sovnarkhozy were dissolved, which shows how shallow the reform had been.",
    "The abolition of the sovnarkhozy in 1965 shows how shallow the reform had been.",
    "The sovnarkhozy were replaced in 1965, which shows how shallow the reform had been.",
    # The event itself reversed later (not something the event reversed).
    "After his fall, Brezhnev and Kosygin reversed the sovnarkhozy reform in 1965, which shows how shallow it was.",
    "The regional economic councils were reversed in 1965, which shows how shallow the reform was.",
])
def test_the_year_an_event_was_undone_is_not_a_wrong_date_for_it(sentence):
    r, _dates = dated(OPENING + sentence)
    assert r.inaccuracies == [], [(sp.text, sp.note) for sp in r.inaccuracies]


@pytest.mark.parametrize(("sentence", "right"), [
    ("The sovnarkhozy were set up in 1965, which shows how slow the reform had been.", "1957"),  # set up, not undone
    ("Sputnik was launched in 1961, which restored Soviet prestige.", "1957"),  # it restored something else
    ("The Secret Speech of 1958 reversed the cult of personality, which mattered.", "1956"),
    ("The sovnarkhozy were abolished in 1955, which shows how shallow the reform had been.", "1957"),  # before they began
])
def test_a_word_of_undoing_does_not_hide_a_wrong_date(sentence, right):
    r, _dates = dated(OPENING + sentence)
    assert len(r.inaccuracies) == 1 and right in r.inaccuracies[0].note, r.inaccuracies


@pytest.mark.parametrize(("sentence", "event", "right"), [
    ("The Cuban Missile Crisis of 1959 was a humiliation because Khrushchev had to withdraw the missiles.", "Cuban", "1962"),
    ("Sputnik was launched in 1961, which was significant because it boosted Soviet prestige.", "Sputnik", "1957"),
])
def test_other_wrong_dates_are_caught(sentence, event, right):
    r, _dates = dated(OPENING + sentence)
    assert len(r.inaccuracies) == 1, r.inaccuracies
    assert event in r.inaccuracies[0].text and right in r.inaccuracies[0].note


def test_a_wrong_date_costs_evidence_marks():
    # Enough other dated evidence that one date moves the criterion by at least half a mark.
    dated = " Sputnik was launched in 1957, and Gagarin flew in 1961. The Virgin Lands scheme began in 1954. "
    right = score(OPENING + dated + "The Secret Speech in 1956 was significant because it attacked Stalin's cult of personality.", "q1")
    wrong = score(OPENING + dated + "The Secret Speech in 1953 was significant because it attacked Stalin's cult of personality.", "q1")
    ev = {r is right: next(c for c in r.criteria if c.id == "evidence") for r in (right, wrong)}
    assert ev[False].mark < ev[True].mark
    assert ev[False].details["inaccuracies"] == 1


# --- the per-word-form table analyse reads token flags from -------------------------------------
def test_lexeme_table_gives_each_token_the_flags_spacy_gives_it():
    """The table is a cache of spaCy's own answers, filled as word forms are first seen: its rows
    must agree with the tokens, whether a form is new or cached, and stay right as it grows."""
    from spacy.attrs import ORTH

    from khrushchev_essays.scoring.matching import (
        _ALPHA, _BREAK, _CLAUSE_BREAKS, _LEN, _NUM, _PUNCT, _SPACE, _STOP, LexemeTable)

    nlp = get_nlp()
    table = LexemeTable(nlp)
    first = nlp("Khrushchev's 1956 speech - a turning point; 3 million people, in  the\n\nUSSR: \u2014 and so on.")
    later = nlp("Entirely unseen words: zwiebelkuchen, quixotic, 42nd, \u00bfqu\u00e9?  and the USSR again.")
    for doc in (first, later, first):  # new forms, new forms beside cached ones, all cached
        rows = table.rows(doc.to_array(ORTH))
        assert len(rows) == len(doc)
        for tok, row in zip(doc, rows.tolist()):
            assert row[_LEN] == len(tok.text), tok.text
            assert [row[_ALPHA], row[_STOP], row[_PUNCT], row[_SPACE], row[_NUM]] == \
                [tok.is_alpha, tok.is_stop, tok.is_punct, tok.is_space, tok.like_num], tok.text
            assert row[_BREAK] == (tok.is_punct and tok.text in _CLAUSE_BREAKS), tok.text


def test_sentence_kinds_and_factors_follow_its_hits():
    """kinds() and factors() are worked out once per sentence: they must still be those of its hits."""
    from khrushchev_essays.scoring import default_engine

    text = OPENING + "De-Stalinisation mattered because the Secret Speech of 1956 shocked the Party. However, little changed."
    a, _argument, _findings = default_engine().analyse_text(text, "q1")
    assert any(s.factors() for s in a.sentences)
    for s in a.sentences:
        for _ in range(2):  # computed, then cached
            assert s.kinds() == {h.kind for h in s.hits}
            assert s.factors() == {h.key for h in s.hits if h.kind == "factor"}
            assert all(s.has(h.kind) for h in s.hits) and not s.has("no such kind")


def test_speller_given_the_phrase_docs_already_made_reads_slips_as_one_built_from_scratch():
    """The rubric matcher hands the speller the phrases it has already processed: the words it
    corrects to and what it makes of a slip must be those of a speller that processes them itself,
    including phrases it was not given a Doc for."""
    from khrushchev_essays.scoring.matching import Speller, english_hashes

    nlp = get_nlp()
    phrases = ["Secret Speech", "Virgin Lands scheme", "de-Stalinisation", "sovnarkhozy", "Novocherkassk"]
    english = english_hashes(nlp)
    own = Speller(nlp, phrases, english)
    given = Speller(nlp, phrases, english, {p: nlp(p) for p in phrases[:3]})
    assert given.lemma_of == own.lemma_of and given.words == own.words
    assert "novocherkassk" in given.words
    for slip in ("sovnarkozy", "novocherkask", "destalinsation"):
        assert given.nearest(slip) == own.nearest(slip)
    assert given.nearest("sovnarkozy") == "sovnarkhozy"


_LAYOUT_PIECES = st.sampled_from(["Virgin", "Lands", "the", "Secret", "Speech", "1956", ".", ",", " ", "  ", "\t", "\n",
                                  "\n\n", " \n", "\n  ", "\n\t\n", "-", "(", ")"])


def _solid_both_ways(text: str):
    from khrushchev_essays.scoring import default_engine
    from khrushchev_essays.scoring.matching import normalise
    from spacy.attrs import SENT_START

    engine = default_engine()
    matcher = engine.compiled(engine.rubric("q1"))[0]
    shape = normalise(text)

    def seen(out):
        solid, starts, widths = out
        return ([(t.text, t.whitespace_, t.lemma_) for t in solid], solid.to_array([SENT_START]).tolist(),
                None if starts is None else starts.tolist(), widths)

    return seen(matcher._solid_plain(engine.nlp(shape), shape)), seen(matcher._solid_general(engine.nlp(shape), False, False))


@given(st.lists(_LAYOUT_PIECES, max_size=50).map("".join))
@settings(max_examples=300, deadline=None)
def test_a_plain_texts_whitespace_is_dropped_from_the_columns_as_token_by_token(text):
    """_solid_plain (columns) and _solid_general (Token by Token) give the same doc, words,
    spaces, lemmas, sentence starts and offsets for any text without invisible characters."""
    plain, general = _solid_both_ways(text)
    assert plain == general


def test_a_hand_wrapped_essay_is_rebuilt_the_same_from_the_columns():
    from conftest import FIXTURES

    texts = [p.read_text(encoding="utf-8") for p in sorted(FIXTURES.glob("q*_*.txt"))]
    wrapped = [text.replace(". ", ".\n") for text in texts[:4]]  # a line break after every sentence
    wrapped += [texts[0].replace(" the ", "  the \t")]
    for text in wrapped:
        plain, general = _solid_both_ways(text)
        assert plain[2] is not None  # something was dropped: the doc was rebuilt
        assert plain == general


# --- paragraphs ---------------------------------------------------------------------------------
@pytest.mark.parametrize(("name", "q"), [("q2_notes.txt", "q2"), ("q1_strong.txt", "q1")])
def test_unicode_paragraph_separators_end_paragraphs_as_blank_lines_do(name, q):
    # U+2029 between paragraphs, single line breaks (a heading, bullet points) inside them: the
    # separators must not turn into mere line breaks, or every line becomes a paragraph.
    from khrushchev_essays.scoring import default_engine

    text = read_fixture(name).strip()
    separated = text.replace("\n\n", "\u2029")
    engine = default_engine()
    blank, sep = engine.analyse_text(text, q)[0], engine.analyse_text(separated, q)[0]
    assert len(sep.paragraphs) == len(blank.paragraphs) == text.count("\n\n") + 1
    assert score(separated, q).mark == score(text, q).mark


@pytest.mark.parametrize("layout", ["a_sentence_each", "one_stray_separator"])
def test_separators_do_not_split_what_line_breaks_already_shape(layout):
    # A sentence to each U+2029 is still one paragraph of sentences (not 38 paragraphs), and one
    # stray separator among paragraphs that end at single line breaks leaves those paragraphs be.
    import re

    from khrushchev_essays.scoring import default_engine

    paras = [" ".join(p.split()) for p in read_fixture("q1_strong.txt").strip().split("\n\n")]
    if layout == "a_sentence_each":
        sents = [s for p in paras for s in re.split(r"(?<=[.!?])\s+", p)]
        plain, varied = "\n".join(sents), "\u2029".join(sents)
    else:
        plain, varied = "\n".join(paras), paras[0] + "\u2029" + "\n".join(paras[1:])
    engine = default_engine()
    assert len(engine.analyse_text(varied, "q1")[0].paragraphs) == len(engine.analyse_text(plain, "q1")[0].paragraphs)
    assert score(varied, "q1").mark == score(plain, "q1").mark


def test_separated_paragraphs_wrapped_by_hand_stay_paragraphs():
    # U+2029 between paragraphs and each wrapped at 70 columns: a few wrapped lines end at a full
    # stop by chance, and must not turn every line into a paragraph.
    import textwrap

    from khrushchev_essays.scoring import default_engine

    paras = [" ".join(p.split()) for p in read_fixture("q1_strong.txt").strip().split("\n\n")]
    varied = "\u2029".join("\n".join(textwrap.wrap(p, 70)) for p in paras)
    assert len(default_engine().analyse_text(varied, "q1")[0].paragraphs) == len(paras)
    assert abs(score(varied, "q1").mark - score("\n\n".join(paras), "q1").mark) <= 1
