"""The faster scans of the engine find exactly what the plain ones they replaced find.

Each test states the plain way (a regular expression tried at every character, fancy indexing,
json.dumps) and checks the engine's quicker way against it on many texts or matrices.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from khrushchev_essays.scoring import default_engine, score
from khrushchev_essays.scoring.claims import _order_steps, _orders
from khrushchev_essays.scoring.matching import _SAME_LENGTH, _line_breaks, _single_newline, normalise

# Texts made of the characters the scans care about, with some words and sentence ends between.
_PIECES = st.sampled_from([" ", "\t", "\n", "\r", "\r\n", "  ", "word", "Word", ".", "-", "- ", "1. ",
                           "\u2019", "\u00a0", "\u2029", "a", "\n\n"])
texts = st.lists(_PIECES, max_size=40).map("".join)


@settings(max_examples=400, deadline=None)
@given(texts)
def test_a_line_break_inside_a_paragraph_is_found_as_the_plain_pattern_finds_it(text):
    assert _single_newline(text) == (re.search(r"[^\n]\n[ \t\r]*[^\n \t\r]", text) is not None)


def _line_breaks_plain(text: str, idx_l: list[int], len_l: list[int]) -> list[int]:
    """_line_breaks with the pattern it had before: spaces and tabs, a line break, blank space."""
    import bisect

    from khrushchev_essays.scoring.matching import _BULLET, _short_line

    out = []
    short = _short_line(text)
    n = len(idx_l)
    for m in re.finditer(r"[ \t]*\n[ \t\n]*", text):
        j = bisect.bisect_left(idx_l, m.end())
        if j >= n or m.start() == 0:
            continue
        if m.group().count("\n") >= 2:
            out.append(j)
            continue
        line_start = text.rfind("\n", 0, m.start()) + 1
        prev = text[line_start:m.start()].strip()
        nxt_end = text.find("\n", idx_l[j])
        nxt = text[idx_l[j]: nxt_end if nxt_end >= 0 else len(text)]
        short_unpunctuated = prev and len(prev) < short and prev[-1] not in ".!?;,"
        if _BULLET.match(text[line_start:m.start()]) or _BULLET.match(nxt) or nxt.lstrip()[:1] in "-*\u2022" \
                or short_unpunctuated:
            out.append(j)
    return out


@settings(max_examples=300, deadline=None)
@given(texts)
def test_line_breaks_that_start_sentences_are_those_the_plain_pattern_gives(text):
    doc = default_engine().nlp(normalise(text))
    idx_l = [t.idx for t in doc]
    len_l = [len(t) for t in doc]
    shape = normalise(text)
    assert _line_breaks(shape, idx_l, len_l) == _line_breaks_plain(shape, idx_l, len_l)


@settings(max_examples=300, deadline=None)
@given(texts)
def test_normalise_is_the_one_for_one_replacement_whatever_the_characters(text):
    expected = text
    if "[" in expected:
        expected = re.sub(r"\[\d{1,3}\]", lambda m: " " * len(m.group()), expected)
    expected = expected.replace("\r\n", " \n").translate(_SAME_LENGTH)
    assert normalise(text) == expected
    assert len(normalise(text)) == len(text)


def test_a_hand_wrapped_essay_read_against_a_text_not_its_own_falls_back_to_the_token_by_token_reading():
    """_solid_plain cuts words from the text it is given; given another text of the same shape,
    it notices (the words do not match the doc's) and reads the doc token by token instead."""
    engine = default_engine()
    matcher = engine.compiled(engine.rubric("q1"))[0]
    shape = "Khrushchev denounced  Stalin in 1956.\nThe Virgin\nLands scheme failed by 1963.\n"
    other = "Khrushchev denounced  Stalin in 1957.\nThe Virgin\nLands scheme failed by 1964.\n"
    doc = engine.nlp(shape)
    plain, at, _ = matcher._solid_plain(engine.nlp(shape), shape)
    general, at2, _ = matcher._solid_general(engine.nlp(shape), False, False)
    assert [t.text for t in plain] == [t.text for t in general] == [t.text for t in doc if not t.is_space]
    assert at.tolist() == at2.tolist()
    wrong, at3, _ = matcher._solid_plain(doc, other)
    assert [t.text for t in wrong] == [t.text for t in general]
    assert "1957" not in [t.text for t in wrong] and at3.tolist() == at2.tolist()


def test_crlf_tabs_and_wrapped_lines_are_scored_at_the_offsets_of_the_text_as_submitted():
    text = ("Khrushchev's Secret Speech in 1956 began de-Stalinisation, because it  denounced the cult.\r\n"
            "The Virgin Lands scheme \t was launched in 1954; however it failed by 1963,\r\n"
            "so the regime did not change how it ruled.\r\n\r\n"
            "- Sovnarkhozy in 1957\r\n- Cuban Missile Crisis in 1962\r\n")
    report = score(text, "q1")
    spans = [sp for c in report.criteria for sp in c.evidence] + [sp for f in report.factors for sp in f.evidence]
    assert spans
    for sp in spans:
        assert text[sp.start:sp.end] == sp.text


@settings(max_examples=50, deadline=None)
@given(st.integers(min_value=2, max_value=80), st.integers(min_value=20, max_value=60), st.integers(0, 2**32 - 1))
def test_neighbours_in_random_orders_read_flat_are_those_read_by_fancy_indexing(n, orders, seed):
    m = np.random.default_rng(seed).random((n, n))
    perms = _orders(n, orders)
    assert np.array_equal(m.ravel().take(_order_steps(n, orders)), m[perms[:, :-1], perms[:, 1:]])
    assert not _order_steps(n, orders).flags.writeable


def test_a_report_written_as_json_is_json_dumps_of_its_dict():
    engine = default_engine()
    text = "The Secret Speech of 1956 \u2014 \u201cthe cult of personality\u201d \u2014 changed the USSR. " * 12
    report = engine.score(text, "q2")
    assert report.to_json() == json.dumps(report.to_dict(), ensure_ascii=False)


def _kinds_plain(sentence: str) -> list[str]:
    """phrasing.kinds as first written: every word through the n't and 's checks and _kind."""
    import unicodedata

    from khrushchev_essays.scoring.phrasing import _NOT, _TOKEN, _kind

    out: list[str] = []
    first = True
    if not sentence.isascii():
        sentence = "".join(c for c in sentence if unicodedata.category(c) != "Cf")
    for m in _TOKEN.finditer(sentence):
        t = m.group(0)
        parts = [t]
        neg = _NOT.match(t)
        if neg and neg.group(1).lower() not in ("ca", "wo", "sha"):
            parts = [neg.group(1), "n't"]
        elif neg:
            parts = ["can", "n't"]
        elif "'" in t or "\u2019" in t:
            head, _, tail = t.replace("\u2019", "'").partition("'")
            parts = [head] + (["'s"] if tail.lower() == "s" else [])
        for p in parts:
            if p:
                out.append(_kind(p, first))
                first = False
    return out


_WORDS = st.sampled_from(["Khrushchev", "khrushchev", "didn't", "can't", "WON'T", "Stalin's", "it's", "the",
                          "reforms", "failed", "falling", "quickly", "1956", "20", "3.5", ".", ",", "-", "(",
                          "\u2019s", "don\u2019t", "Ca'nt", "o'clock", "\u200b", "and", "Virgin", "\u00e9lite"])


@settings(max_examples=400, deadline=None)
@given(st.lists(_WORDS, max_size=25).map(" ".join))
def test_the_kinds_of_a_sentences_words_are_those_read_word_by_word(sentence):
    from khrushchev_essays.scoring.phrasing import kinds

    assert kinds(sentence) == _kinds_plain(sentence)
    assert kinds(sentence) == _kinds_plain(sentence)  # and again, from the memo


# Pieces glued into runs between spaces ("Stalin's,", "(1956).", "'Khrushchev"), with any spacing.
_GLUED = st.lists(st.one_of(_WORDS, st.sampled_from(["'", "''", ",", ".", "(", ")", "x'y", "'s", "n't", "1,000.5",
                                                      "...", "?!", "\u2014", "  ", "\t", "\n", "\x1c", " "])),
                  max_size=30).map("".join)


@settings(max_examples=400, deadline=None)
@given(st.one_of(st.lists(_WORDS, max_size=25).map(" ".join), _GLUED))
def test_the_kinds_numbers_are_those_of_the_kinds_read_word_by_word(sentence):
    from khrushchev_essays.scoring.phrasing import _KIND_NAMES, kind_ids

    assert [_KIND_NAMES[i] for i in kind_ids(sentence)] == _kinds_plain(sentence)
    assert [_KIND_NAMES[i] for i in kind_ids(sentence)] == _kinds_plain(sentence)  # from the memo


# The signs of another time (claims._background): terms found by TermScan and decades by _decades,
# each against the plain pattern tried at every character.
def _rubric_terms() -> list[tuple[str, ...]]:
    from khrushchev_essays.scoring.claims import _time_terms

    out = []
    for key in ("q1", "q2"):
        rules = default_engine().rubric(key).argument
        out.append(tuple(_time_terms(tuple(rules.background_terms), tuple(rules.later_terms))[0]))
        out.append(tuple(rules.period_terms))
    return out


_TERM_PIECES = st.sampled_from([
    " ", "  ", "\n", ".", ",", "-", "'", "\u2019", "(", "_", "x", "1", "s", "the war", "The War", "THE WAR",
    "war", "under Stalin", "Stalin", "after 1964", "post-1964", "After Khrushchev was removed",
    "khrushchev's successors", "Khrushchev", "d\u00e9tente", "D\u00c9TENTE", "detente", "lend-lease",
    "Lend Lease", "salt i", "SALT I", "\u212a", "\u017f", "kursk", "\u212aursk", "nep", "NEPs", "tsars", "tsar",
    "1950s", "1950's", "1890\u2019S", "the twenties", "The Forties", "the sixties", "1960", "x1950s", "1950sx",
    "virgin lands", "secret speech", "sovnarkhozy", "de-Stalinisation", "\u00e9", "\u0131", "\u0130",
])
_term_texts = st.lists(_TERM_PIECES, max_size=30).map("".join)


def _terms_plain(terms: tuple[str, ...]) -> re.Pattern:
    """Any of the terms as whole words, any case: a list of alternatives, the longest first."""
    normal = sorted({" ".join(t.lower().split()) for t in terms}, key=len, reverse=True)
    return re.compile(r"\b(?:" + "|".join(map(re.escape, normal)) + r")\b", re.IGNORECASE)


@settings(max_examples=600, deadline=None)
@given(_term_texts, st.integers(0, 200), st.integers(0, 400))
def test_terms_of_other_times_are_found_where_the_plain_pattern_finds_them(text, a, b):
    from khrushchev_essays.scoring.claims import _term_scan

    pos, endpos = min(a, len(text)), min(max(a, b), len(text))
    lowered = text.lower() if text.isascii() else None
    for terms in _rubric_terms():
        scan = _term_scan(terms)
        expected = [m.span() for m in _terms_plain(terms).finditer(text, pos, endpos)]
        assert [m.span() for m in scan.plain.finditer(text, pos, endpos)] == expected
        assert scan.spans(text, lowered, pos, endpos) == expected
        assert scan.spans(text, None, pos, endpos) == expected  # the way for any text, on ASCII too


def test_a_letter_or_digit_ignoring_case_matches_only_word_characters():
    """What TermScan rests on: a term's first character (a letter or a digit), matched ignoring
    case, is matched only by letters and digits (the Kelvin sign, the long s, dotted and dotless i
    among them), so the character before a match is never one."""
    import sys

    every = "".join(chr(c) for c in range(sys.maxunicode + 1) if not 0xD800 <= c <= 0xDFFF)
    firsts = {t[0] for terms in _rubric_terms() for t in terms} | set("abcdefghijklmnopqrstuvwxyz0123456789")
    for ch in sorted(firsts):
        found = re.findall(re.escape(ch), every, re.IGNORECASE)
        assert found and all(re.fullmatch(r"\w", c) for c in found), (ch, found)


def test_a_term_that_does_not_begin_with_a_letter_is_left_to_the_plain_pattern():
    from khrushchev_essays.scoring.claims import TermScan

    scan = TermScan(("'the war'", "stalin"))
    text = "Under Stalin, 'the war' came; stalinist 'The War' too."
    lowered = text.lower()
    assert scan.spans(text, lowered, 0, len(text)) == [m.span() for m in scan.plain.finditer(text)]
    assert [text[a:b] for a, b in scan.spans(text, lowered, 0, len(text))] == ["Stalin"]


@settings(max_examples=600, deadline=None)
@given(_term_texts, st.integers(0, 200), st.integers(0, 400))
def test_decades_are_found_where_the_plain_pattern_finds_them(text, a, b):
    from khrushchev_essays.scoring.claims import _decades

    plain = re.compile(r"\b1[89]\d0['\u2019]?s\b|\bthe (?:twenties|thirties|forties|seventies|eighties|nineties)\b",
                       re.IGNORECASE)
    pos, endpos = min(a, len(text)), min(max(a, b), len(text))
    expected = [m.span() for m in plain.finditer(text, pos, endpos)]
    assert _decades(text, text.lower() if text.isascii() else None, pos, endpos) == expected
    assert _decades(text, None, pos, endpos) == expected


def _judge_plain(model, sentence: str):
    """PhrasingModel.judge as first written: every word's figures from the tables, no memo."""
    from khrushchev_essays.scoring.phrasing import kinds

    seq = kinds(sentence)
    if model.empty or len(seq) < model.min_kinds:
        return None
    long_, short_ = model.written.logprobs(seq)
    chained = model.pairs.logprobs(seq)[0] if not model.pairs.empty else long_
    gain = ratio = 0.0
    for j in range(len(long_)):
        gain += long_[j] - short_[j]
        ratio += long_[j] - chained[j]
    return gain / len(long_), ratio / len(long_)


def test_sentences_are_judged_as_the_tables_read_word_by_word_say_and_again_from_the_memo():
    from pathlib import Path

    from khrushchev_essays.scoring.phrasing import PhrasingModel, phrasing_model, prose

    fixtures = Path(__file__).resolve().parents[1] / "fixtures"
    sentences = []
    for path in sorted(fixtures.glob("*.txt")):
        text = normalise(path.read_text(encoding="utf-8"))
        a = default_engine().compiled(default_engine().rubric("q1"))[0].analyse(default_engine().nlp(text), text)
        sentences += [t for _i, t in prose(a.text, [(s.index, s.start, s.end) for s in a.sentences])]
    sentences += ["Khrushchev didn't fall because of the Virgin Lands; it's that the Presidium's men wouldn't wait.",
                  "He fell, he fell, he fell, he fell, he fell, he fell.", "Too short."]
    fresh = PhrasingModel(phrasing_model().written, phrasing_model().pairs)  # an empty memo
    assert len(sentences) > 100
    for model in (fresh, fresh, phrasing_model()):
        assert [model.judge(s) for s in sentences] == [_judge_plain(model, s) for s in sentences]
    empty = PhrasingModel(type(fresh.written)({}), type(fresh.written)({}))
    assert all(empty.judge(s) is None for s in sentences)


def test_an_essays_sentences_judged_at_once_are_judged_as_one_by_one_from_the_tables():
    """PhrasingModel.judge_all looks every run of an essay up at once in a memo of numbers: its
    figures are those the tables give word by word, with the memo empty, partly filled by other
    essays, and full."""
    from pathlib import Path

    from khrushchev_essays.scoring.phrasing import PhrasingModel, phrasing_model, prose

    fixtures = Path(__file__).resolve().parents[1] / "fixtures"
    engine = default_engine()
    essays = []
    for path in sorted(fixtures.glob("*.txt")):
        text = normalise(path.read_text(encoding="utf-8"))
        a = engine.compiled(engine.rubric("q1"))[0].analyse(engine.nlp(text), text)
        essays.append([t for _i, t in prose(a.text, [(s.index, s.start, s.end) for s in a.sentences])])
    essays.append(["Too short.", "He didn't, it's 'the' Presidium\u2019s men \u2014 who wouldn't wait in 1964.",
                   "", "' ' ' and then the Virgin Lands failed , badly , in 1963 ."])
    assert len(essays) > 10 and sum(map(len, essays)) > 300
    fresh = PhrasingModel(phrasing_model().written, phrasing_model().pairs)
    for model in (fresh, fresh):  # the first time from the tables, essay by essay; then all from the memo
        for sentences in essays:
            assert model.judge_all(sentences) == [_judge_plain(model, s) for s in sentences]
    empty = PhrasingModel(type(fresh.written)({}), type(fresh.written)({}))
    assert empty.judge_all(essays[0]) == [None] * len(essays[0])
    assert fresh.judge_all([]) == []


def test_bullet_points_are_told_from_prose_after_any_kind_of_line_end():
    from khrushchev_essays.scoring.phrasing import _BULLET, _LINE_ENDS, prose

    def plain(text, spans):
        return [(i, text[a:b]) for i, a, b in spans
                if not _BULLET.match(text[max(text.rfind(c, 0, a) for c in _LINE_ENDS) + 1:])]

    for end in ["\n", "\r", "\u2028", "\u2029", "\x0b", "\x0c", "\x85", "\r\n", " "]:
        text = f"The thaw began in 1956.{end}- Sovnarkhozy in 1957{end}1. The wall{end}   * Cuba 1962{end}He fell."
        spans = [(k, m.start(), m.end()) for k, m in enumerate(re.finditer(r"[^\s][^\n\r\u2028\u2029\x0b\x0c\x85]*", text))]
        assert prose(text, spans) == plain(text, spans)
        assert len(prose(text, spans)) < len(spans) or end == " "


ROOT = Path(__file__).resolve().parents[2]


def _perturb():
    """The robustness benchmark's perturbations (benchmarks/perturb.py), loaded as a module."""
    import importlib.util
    import sys

    spec = importlib.util.spec_from_file_location("perturb", ROOT / "benchmarks" / "perturb.py")
    perturb = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("perturb", perturb)
    spec.loader.exec_module(perturb)
    return perturb


def test_slips_inside_phrases_are_read_as_when_every_candidate_word_is_looked_at():
    """_in_phrase passes over a word whose neighbours stand beside no phrase's short word; with
    every lemma let through (the plain way: each candidate's places looked up) the readings, the
    lemmas and the hits are the same."""
    import random

    perturb = _perturb()
    engine = default_engine()
    texts = ["Inn conclusion, too a large extent the Secret Speech mattered; oon balance it did, iin 1956.",
             "Khrushchev fell tto a large extent because of Cuba. Inn conclusion he fell."]
    for path in sorted((ROOT / "tests" / "fixtures").glob("*.txt"))[:12]:
        text = path.read_text(encoding="utf-8")
        texts += [perturb.misspelt(text, random.Random(k), rate=0.15) for k in range(2)]
    strings = engine.nlp.vocab.strings
    found = 0
    for key in ("q1", "q2"):
        matcher = engine.compiled(engine.rubric(key))[0]
        for text in texts:
            quick = matcher.analyse(engine.nlp(normalise(text)), text)
            doc = engine.nlp(normalise(text))
            every = np.array(sorted({strings[w] for w in strings}), dtype=np.uint64)  # any lemma at all
            matcher.__dict__["_gap_neighbours"] = (every, every)
            try:
                plain = matcher.analyse(doc, text)
            finally:
                del matcher.__dict__["_gap_neighbours"]
            assert quick.corrections == plain.corrections
            assert quick.token_lemmas.tolist() == plain.token_lemmas.tolist()
            assert [s.hits for s in quick.sentences] == [s.hits for s in plain.sentences]
            # ("Inn", "oon", "tto": English words or near several, left to the phrase around them)
            found += sum(1 for a, b, _m in quick.corrections if text[a:b].lower() in ("inn", "oon", "tto"))
    assert found >= 6


def test_word_forms_and_slips_are_read_by_hash_as_from_the_doc():
    """The lexeme table's lower-case column is doc.to_array(LOWER); the speller reading slips by
    their forms' hashes (no Token per word) reads what it reads from each token's lower_; and a
    matcher that has seen no word forms yet (each looked up one by one) analyses as one that has
    seen them all (looked up as arrays)."""
    import random

    from spacy.attrs import LEMMA, LOWER, ORTH

    from khrushchev_essays.scoring.matching import _LOWER, RubricMatcher

    perturb = _perturb()
    engine = default_engine()
    texts = ["Khrushchevs refroms tthe Virgin Landz, Inn conclusion; too a large extent the Secret Speech mattered."]
    for path in sorted((ROOT / "tests" / "fixtures").glob("*.txt"))[:10]:
        texts.append(perturb.misspelt(path.read_text(encoding="utf-8"), random.Random(7), rate=0.15))
    read = 0
    for key in ("q1", "q2"):
        warm = engine.compiled(engine.rubric(key))[0]
        cold = RubricMatcher(engine.rubric(key), engine.nlp, engine.lexemes, engine.rubrics)
        for text in texts:
            doc = engine.nlp(normalise(text))
            lower = doc.to_array(LOWER).astype(np.uint64)
            assert engine.lexemes.rows(doc.to_array(ORTH))[:, _LOWER].astype(np.uint64).tolist() == lower.tolist()
            by_hash, by_token = engine.nlp(normalise(text)), engine.nlp(normalise(text))
            lem_h, lem_t = (d.to_array(LEMMA).astype(np.uint64) for d in (by_hash, by_token))
            fixed_h, fixed_t = [], []
            every = np.arange(len(doc))
            out_h = cold.speller.correct(by_hash, every, lem_h, None, None, fixed_h, lower)
            out_t = cold.speller.correct(by_token, every, lem_t, None, None, fixed_t)
            assert out_h == out_t and fixed_h == fixed_t and lem_h.tolist() == lem_t.tolist()
            read += len(out_h)
            a = cold.analyse(engine.nlp(normalise(text)), text)
            b = warm.analyse(engine.nlp(normalise(text)), text)
            assert a.corrections == b.corrections
            assert a.token_lemmas.tolist() == b.token_lemmas.tolist()
            assert [s.hits for s in a.sentences] == [s.hits for s in b.sentences]
    assert read >= 20


def test_the_english_words_near_a_length_are_those_listed_afresh():
    """Speller._english_near keeps its list per word length: the same words, in the same order, as
    listed from the word list by length each time."""
    speller = default_engine().compiled(default_engine().rubric("q2"))[0].speller
    for n in [*range(1, 22), 3, 7, 12]:  # (some lengths asked twice: from the kept lists)
        near = speller._english_near(n)
        by_len = speller._english_words
        assert near == [w for k in range(max(1, n - 2), n + 3) for w in by_len.get(k, ())]
        assert all(w.isalpha() and w not in speller.reading_of for w in near)
    assert len(speller._english_near(7)) > 1000


# The criteria's case-blind searches (criteria.case_blind_search): in lower case on an ASCII text,
# against the pattern that ignores case on the text as written.
_CASE_PIECES = st.sampled_from([" ", "  ", "\n", "\t", ".", ",", "'", "-", "x", "still", "STILL", "Still", "stillness",
                                "the same", "THE  SAME", "the\nsame", "didn't change", "DIDN'T CHANGE", "n't", "N'T",
                                "however", "But", "but", "only partly", "Only Partly", "never", "unchanged", "kept",
                                "\u212aept", "\u017ftill", "\u0130", "\u00e9", "caf\u00e9", "1956"])


@settings(max_examples=500, deadline=None)
@given(st.lists(_CASE_PIECES, max_size=30).map("".join), st.integers(0, 120), st.integers(0, 240))
def test_a_case_blind_search_finds_what_the_pattern_ignoring_case_finds(text, a, b):
    from khrushchev_essays.scoring.criteria import _phrase_regex, _qualifier_regex, text_search

    start, end = min(a, len(text)), min(max(a, b), len(text))
    lowered = text.lower() if text.isascii() else None
    lists = [(_phrase_regex, tuple(default_engine().rubric("q1").focus.other_side)),
             (_qualifier_regex, tuple(default_engine().rubric("q1").argument.qualifiers)),
             (_qualifier_regex, tuple(default_engine().rubric("q2").argument.qualifiers)),
             (_phrase_regex, ("Still", "the  Same", "caf\u00e9", "kept"))]  # capitals, and a word not in ASCII
    for build, words in lists:
        found = text_search(text, lowered, build, words)(start, end)
        expected = build(words).search(text, start, end)
        assert (found and found.span()) == (expected and expected.span())
