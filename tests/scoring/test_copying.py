"""The copy detector (scoring/copying.py): passages shared with registered sources or between essays,
with exact offsets however the text is typed, and no alarm for two essays that merely share a topic."""

from __future__ import annotations

import pickle
import re
from concurrent.futures import ThreadPoolExecutor

import pytest
from conftest import read_fixture
from hypothesis import given, settings
from hypothesis import strategies as st

from khrushchev_essays.scoring.copying import (
    DEFAULT_MIN_WORDS,
    Overlap,
    SourceIndex,
    copied_from,
    copied_share,
    similar_pairs,
    tokens,
    word_count,
    words,
)

# Revision notes and a web article, written for these tests (tests/fixtures/sources/).
NOTES = read_fixture("sources/virgin_lands_notes.txt")
ARTICLE = read_fixture("sources/fall_article.md").split("\n\n", 1)[1]

# Two essays on the same question and the same facts, each in its own words.
ESSAY_A = (
    "Khrushchev was pushed out in 1964 mainly because his colleagues had lost faith in him. His farming "
    "gamble in Kazakhstan went wrong: after early success the soil wore out and in 1963 Moscow was forced "
    "to import wheat from abroad, which embarrassed the leadership. At the same time he had divided the "
    "party in 1962, which threatened the careers of local officials, so they were glad to see him go. "
    "Destalinisation mattered less, since by 1964 it was old news."
)
ESSAY_B = (
    "The fall of the First Secretary came from many directions at once. The Virgin Lands were ploughed "
    "too hard and the dust storms of the early sixties ruined the crop, so grain had to be bought from "
    "Canada in 1963. Officials resented the 1962 reform that split every regional party committee in two. "
    "Brezhnev used these grievances to gather a majority in the Presidium while Khrushchev rested on the "
    "Black Sea. In my judgement it was this loss of support, not the Secret Speech, that ended his career."
)


def passage(text: str, first_word: int, n_words: int) -> str:
    """`n_words` words of `text` from word number `first_word`, as written there."""
    toks = tokens(text)
    return text[toks[first_word][0] : toks[first_word + n_words - 1][1]]


@pytest.fixture(scope="module")
def index() -> SourceIndex:
    return SourceIndex({"Revision notes": NOTES, "Web article": ARTICLE})


def test_a_copied_passage_is_found_with_exact_offsets_the_source_and_its_length(index):
    copied = passage(NOTES, 30, 25)
    essay = f"I think the economy was central.\n\n{copied}, and this is why he fell.\n\nIn conclusion, farming mattered."
    [found] = index.overlaps(essay)
    assert found == Overlap(essay.index(copied), essay.index(copied) + len(copied), "Revision notes", 25)
    assert essay[found.start : found.end] == copied
    assert copied_share(essay, [found]) == pytest.approx(25 / word_count(essay))
    span = found.to_span(essay)
    assert (span.start, span.end, span.text, span.label) == (found.start, found.end, copied, "copied_source")
    assert span.note == "25 words copied from Revision notes"


def test_offsets_stay_exact_under_crlf_smart_quotes_case_spacing_and_line_end_hyphens(index):
    copied = passage(ARTICLE, 0, 40)
    typed = (copied.replace("'", "\u2019").replace(" ", "  ").upper()
             .replace("HARE-BRAINED", "hare\u2011brained").replace("ORGANISED", "organ-\r\nised")
             .replace("PITSUNDA", "\u201cPitsunda\u201d"))
    essay = "Opening line.\r\n\r\n" + typed + "\r\nMy own ending."
    [found] = index.overlaps(essay)
    assert found.source == "Web article" and found.words == 40
    assert (found.start, found.end) == (essay.index(typed), essay.index(typed) + len(typed))
    span = essay[found.start : found.end]
    assert span == typed and "organ-\r\nised" in span and "\u201cPitsunda\u201d" in span
    assert words(span) == words(copied)


def test_an_accented_or_differently_hyphenated_word_is_the_same_word():
    assert words("Café NAÏVE de-Stalinisation Khrushchev’s") == words("cafe naive de\u2010stalinisation KHRUSHCHEV'S")
    assert words("1953–64") == ["1953", "64"]  # an en dash separates, as in prose
    assert [text for *_, text in tokens("ero\u00adsion")] == ["erosion"]


def test_overlapping_shingle_matches_merge_into_one_maximal_run(index):
    copied = passage(NOTES, 0, 60)
    [found] = index.overlaps(f"First. {copied}. Last.")
    assert found.words == 60


def test_runs_under_the_minimum_are_ignored_and_the_minimum_is_configurable(index):
    short = passage(NOTES, 10, DEFAULT_MIN_WORDS - 1)
    exact = passage(NOTES, 10, DEFAULT_MIN_WORDS)
    assert index.overlaps(f"Something else entirely. {short}. My own words here.") == []
    assert [o.words for o in index.overlaps(f"Something else entirely. {exact}. My own words here.")] == [DEFAULT_MIN_WORDS]
    assert index.overlaps(f"Start. {exact}. End.", min_words=20) == []
    strict = SourceIndex({"notes": NOTES}, min_words=30)
    assert strict.overlaps(passage(NOTES, 0, 29)) == [] and strict.overlaps(passage(NOTES, 0, 30))[0].words == 30


def test_two_essays_on_the_same_topic_in_their_own_words_share_nothing(index):
    for essay in (ESSAY_A, ESSAY_B):
        assert index.overlaps(essay) == []
        assert copied_share(essay, index.overlaps(essay)) == 0.0
    assert similar_pairs([("a", ESSAY_A), ("b", ESSAY_B), ("notes", NOTES), ("article", ARTICLE)]) == []


def test_passages_from_two_sources_are_reported_in_order_and_never_overlap(index):
    one, two = passage(NOTES, 40, 20), passage(ARTICLE, 5, 15)
    essay = f"{ESSAY_A} {one}. Then: {ESSAY_B} {two}."
    found = index.overlaps(essay)
    assert [(o.source, o.words, essay[o.start : o.end]) for o in found] == [("Revision notes", 20, one), ("Web article", 15, two)]
    assert copied_from(found) == [("Revision notes", 20), ("Web article", 15)]
    # The same words registered twice: the first-named source is reported, the words counted once.
    doubled = SourceIndex({"Handout": NOTES, "Handout copy": NOTES + " " + ARTICLE})
    [o] = doubled.overlaps(f"Intro. {passage(NOTES, 0, 30)}. End.")
    assert (o.source, o.words) == ("Handout", 30)
    # Where two sources overlap, the longer run keeps the shared words and the other keeps the rest.
    both = SourceIndex({"short": passage(NOTES, 0, 20), "long": passage(NOTES, 10, 40)})
    assert [(o.source, o.words) for o in both.overlaps(passage(NOTES, 0, 50))] == [("short", 10), ("long", 40)]


def test_the_question_in_common_text_is_never_counted_as_copying():
    question = "How far was de-Stalinisation the most significant factor in Khrushchev's fall from power in 1964?"
    source = f"Practice essay title: {question} Plan: three factors, then a judgement."
    essay = f"{question}\n\nThis essay argues that the harvest failures mattered more."
    assert [o.words for o in SourceIndex({"plan": source}).overlaps(essay)] == [15]
    assert SourceIndex({"plan": source}, common=[question]).overlaps(essay) == []
    other = f"{question}\n\nI shall argue that the Secret Speech began it all."
    assert [p.words for p in similar_pairs([(1, essay), (2, other)], min_words=12)] == [15]
    assert similar_pairs([(1, essay), (2, other)], min_words=12, common=[question]) == []


def test_an_empty_index_or_a_short_text_finds_nothing():
    assert SourceIndex().overlaps(NOTES) == [] and len(SourceIndex()) == 0
    assert SourceIndex({"notes": NOTES}).overlaps("Too short.") == [] and copied_share("", []) == 0.0
    with pytest.raises(ValueError, match="at least the shingle size"):
        SourceIndex({"notes": NOTES}, min_words=5)


def test_similar_pairs_name_both_essays_and_where_the_passage_is_in_each():
    shared = passage(NOTES, 5, 30)
    a = f"{ESSAY_A}\n\n{shared}."
    b = f"{shared.replace(' ', '  ').lower()}\r\n\r\n{ESSAY_B}"
    c = ESSAY_B.replace("Brezhnev", "Brezhnev, helped by Suslov,")  # shares long runs with b, not with a
    pairs = similar_pairs([("anna", a), ("boris", b), ("clara", c)])
    assert [(p.id_a, p.id_b) for p in pairs] == [("boris", "clara"), ("anna", "boris")]
    ab = pairs[1]
    assert ab.words == 30
    assert [a[s:e] for s, e in ab.spans_a] == [shared] and [b[s:e] for s, e in ab.spans_b] == [shared.replace(" ", "  ").lower()]
    assert all(p.words >= 15 for p in pairs)


def test_the_index_is_safe_to_share_between_threads_and_survives_pickling(index):
    essays = [f"{ESSAY_A} {passage(NOTES, i, 20 + i)} {ESSAY_B}" for i in range(30)]
    expected = [index.overlaps(e) for e in essays]
    with ThreadPoolExecutor(4) as pool:
        assert list(pool.map(index.overlaps, essays * 4)) == expected * 4
    assert pickle.loads(pickle.dumps(index)).overlaps(essays[3]) == expected[3]


_WORD = st.text(alphabet="abcdefghijklmnopqrstuvwxyzé'", min_size=1, max_size=8).filter(lambda w: re.search(r"\w", w))
_SPACE = st.sampled_from([" ", "  ", "\r\n", "\n", ", ", "; ", " “", "” ", " - ", "\t"])


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(_WORD, _SPACE), min_size=0, max_size=40), st.integers(0, 60), st.integers(12, 50))
def test_any_copied_stretch_is_found_whole_and_sliced_exactly(filler, at, length):
    index = SourceIndex({"notes": NOTES})
    copied = passage(NOTES, min(at, word_count(NOTES) - length), length)
    before = "".join(w + s for w, s in filler) + " qzxv; "  # a word the notes do not have, so the run starts here
    essay = f"{before}{copied}\r\nqzxv {before}"
    assert [(o.start, o.end, o.words) for o in index.overlaps(essay)] == [(len(before), len(before) + len(copied), length)]


def test_the_detector_imports_neither_the_web_stack_nor_the_database():
    import subprocess
    import sys

    code = ("import sys, khrushchev_essays.scoring.copying; "
            "print(sorted(m for m in ('flask', 'sqlalchemy', 'khrushchev_essays.sources') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    assert out.stdout.strip() == "[]"
