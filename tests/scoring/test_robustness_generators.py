"""The perturbation generators of `make robustness` do what they say, on the project's fixtures.

The benchmark's figures are only as good as its perturbations: a "shuffled" essay that lost
sentences, or a "misspelt" one with half its words changed, would measure the wrong thing. These
tests run each generator, with each of its strategies, and check the structure of what comes out.
They do not score anything (the engine's marks on perturbations are the benchmark's business).
"""

import importlib.util
import random
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"


def _load_benchmark():
    spec = importlib.util.spec_from_file_location("robustness", ROOT / "benchmarks" / "robustness.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["robustness"] = module
    spec.loader.exec_module(module)
    return module


rb = _load_benchmark()
P = rb.perturb
STRONG = (FIXTURES / "q1_strong.txt").read_text(encoding="utf-8")
VOC = P.load_vocabulary(None, None, [STRONG])  # rubrics only: tests never read ../shared


def strategies(kind):
    return pytest.mark.parametrize("strategy", rb.STRATEGIES[kind])


def all_sentences(text):
    return [s for p in P.paragraphs(text) for s in P.sentences(p)]


def levenshtein(a, b):
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def test_importing_the_benchmark_does_not_load_the_engine():
    # The generators are usable (and testable) without the spaCy pipeline: the engine is imported
    # only when the benchmark runs. Checked in a fresh interpreter, as this one may have it loaded.
    assert rb.shuffled is P.shuffled
    code = ("import importlib.util, sys; "
            f"spec = importlib.util.spec_from_file_location('rb', {str(ROOT / 'benchmarks' / 'robustness.py')!r}); "
            "m = importlib.util.module_from_spec(spec); sys.modules['rb'] = m; spec.loader.exec_module(m); "
            "print(sorted(k for k in sys.modules if k.split('.')[0] in ('spacy', 'khrushchev_essays')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout


@strategies("shuffled")
def test_shuffled_keeps_every_sentence_and_the_paragraph_count(strategy):
    out = rb.shuffled(STRONG, random.Random(1), strategy=strategy)
    assert Counter(all_sentences(out)) == Counter(all_sentences(STRONG))
    assert all_sentences(out) != all_sentences(STRONG)
    assert len(P.paragraphs(out)) == (1 if strategy == "run_together" else len(P.paragraphs(STRONG)))


def test_shuffled_within_keeps_each_paragraph_its_own_sentences():
    out = rb.shuffled_within(STRONG, random.Random(1))
    before, after = P.paragraphs(STRONG), P.paragraphs(out)
    assert len(after) == len(before)
    for a, b in zip(before, after):
        assert Counter(P.sentences(a)) == Counter(P.sentences(b))
    assert out != P.join(before)
    assert rb.shuffled_within("One sentence here.\n\nAnother one.", random.Random(1)) is None


@strategies("layout")
def test_layout_keeps_every_sentence_in_its_order_and_changes_only_the_paragraphs(strategy):
    out = rb.layout(STRONG, random.Random(3), strategy=strategy)
    assert all_sentences(out) == all_sentences(STRONG)
    before, after = len(P.paragraphs(STRONG)), len(P.paragraphs(out))
    sentences = sum(len(P.sentences(p)) for p in P.paragraphs(STRONG))
    expected = {"split": after > before, "merged": after < before, "one_body": after == 3, "run_together": after == 1,
                "one_per_paragraph": after == sentences,
                "halved": after == before + sum(len(P.sentences(p)) >= 2 for p in P.paragraphs(STRONG)),
                "random_sizes": all(len(P.sentences(p)) <= 6 for p in P.paragraphs(out))
                and all(len(P.sentences(p)) >= 2 for p in P.paragraphs(out)[:-1])}
    assert expected[strategy], (strategy, before, after)
    assert rb.layout("One.\n\nTwo.\n\nThree.", random.Random(3)) is None  # needs five paragraphs


def test_scrambled_keeps_every_word_of_every_sentence_and_no_order():
    out = rb.scrambled(STRONG, random.Random(2))
    assert len(P.paragraphs(out)) == len(P.paragraphs(STRONG))
    words = lambda t: Counter(w.strip(".!?").lower() for w in t.split())
    assert words(out) == words(STRONG)
    assert P.sentences(P.paragraphs(out)[0])[0] != P.sentences(P.paragraphs(STRONG)[0])[0]


def test_shuffled_is_seeded():
    a, b = (rb.shuffled(STRONG, random.Random(7)) for _ in range(2))
    assert a == b
    assert rb.shuffled(STRONG, random.Random(8), strategy="uniform") != rb.shuffled(
        STRONG, random.Random(9), strategy="uniform")


@strategies("truncated")
def test_truncated_is_the_first_forty_per_cent(strategy):
    out = rb.truncated(STRONG, random.Random(2), strategy=strategy)
    assert STRONG.startswith(out.rstrip())
    share = P.word_count(out) / P.word_count(STRONG)
    assert 0.32 <= share <= 0.45, share
    if strategy != "word":
        assert out.rstrip()[-1] in ".!?\"”’')"


@strategies("repeated")
def test_repeated_has_each_body_paragraph_twice(strategy):
    paras = P.paragraphs(STRONG)
    out = P.paragraphs(rb.repeated(STRONG, random.Random(3), strategy=strategy))
    assert out[0] == paras[0] and out[-1] == paras[-1]
    if strategy == "reworded":  # the body, then the body said again a little differently
        assert out[:len(paras) - 1] == paras[:-1] and len(out) == 2 * len(paras) - 2
        for a, b in zip(paras[1:-1], out[len(paras) - 1:-1]):
            assert a != b and 0.8 * len(a.split()) <= len(b.split()) <= len(a.split()) + 5
        return
    assert Counter(out) == Counter(paras) + Counter(paras[1:-1])


def test_repeated_needs_a_body():
    assert rb.repeated("One paragraph.\n\nAnd its end.", random.Random(0)) is None


@strategies("tagged")
def test_tagged_adds_one_comment_at_the_end_of_body_paragraphs(strategy):
    paras = P.paragraphs(STRONG)
    out = P.paragraphs(rb.tagged(STRONG, random.Random(5), "q2", strategy=strategy))
    assert len(out) == len(paras) and out[0] == paras[0] and out[-1] == paras[-1]
    changed = [i for i, (a, b) in enumerate(zip(paras, out)) if a != b]
    body = [i for i in range(1, len(paras) - 1) if len(P.sentences(paras[i])) >= 2]
    assert changed == body if strategy == "each" else (changed and set(changed) <= set(body))
    for i in changed:
        assert out[i].startswith(paras[i].rstrip())
        (comment,) = P.sentences(out[i][len(paras[i].rstrip()):].strip())
        assert comment.endswith(".") and any(o in comment for o in P._OUTCOMES["q2"])


def test_tagged_needs_a_body():
    assert rb.tagged("One paragraph.\n\nAnd its end.", random.Random(0), "q1") is None


@strategies("padding")
def test_padding_inserts_background_and_keeps_the_essay_in_order(strategy):
    paras = P.paragraphs(STRONG)
    out = P.paragraphs(rb.padding(STRONG, random.Random(4), strategy=strategy))
    added = [p for p in out if p not in paras]
    assert 1 <= len(added) <= 2
    assert [p for p in out if p in paras] == paras
    assert out[0] == paras[0] and out[-1] == paras[-1]
    for para in added:
        assert "Khrushchev" not in para
        assert P.word_count(para) >= 40
    if strategy == "after_period":  # the years after 1964, before the conclusion
        assert out[-2] in added and all(int(y) >= 1964 for y in re.findall(r"\b19\d\d\b", out[-2]))


@strategies("wrong_dates")
def test_wrong_dates_moves_only_the_years_of_known_events(strategy):
    out = rb.wrong_dates(STRONG, random.Random(5), VOC.events, strategy=strategy)
    assert len(out) == len(STRONG)
    assert re.sub(r"\d", "#", out) == re.sub(r"\d", "#", STRONG)
    before = {off: (name, year) for name, year, off in P.dated_events(STRONG, VOC.events)}
    changed = [m.start() for m in re.finditer(r"\b\d{4}\b", STRONG) if m.group(0) != out[m.start():m.end()]]
    assert len(changed) >= 2
    assert set(changed) == set(before), "every year of a known event moves, and nothing else"
    valid = {}
    for ev in VOC.events:
        valid.setdefault(ev.name, set()).update(ev.years)
    for off in changed:
        old, new = int(STRONG[off:off + 4]), int(out[off:off + 4])
        assert 2 <= abs(new - old) <= 4
        assert new not in valid[before[off][0]]


def test_wrong_dates_needs_two_dated_events():
    short = (FIXTURES / "junk_too_short.txt").read_text(encoding="utf-8")
    assert rb.wrong_dates(short, random.Random(0), VOC.events) is None


@strategies("misspelt")
def test_misspelt_changes_about_eight_per_cent_of_words_by_small_edits(strategy):
    out = rb.misspelt(STRONG, random.Random(6), key_terms=VOC.terms["q1"], strategy=strategy)
    old, new = STRONG.split(), out.split()
    assert len(old) == len(new)
    diffs = [(a, b) for a, b in zip(old, new, strict=True) if a != b]
    assert 0.07 <= len(diffs) / len(old) <= 0.09, len(diffs) / len(old)
    for a, b in diffs:
        assert 1 <= levenshtein(a.lower(), b.lower()) <= 3, (a, b)
        assert re.sub(r"[A-Za-z]", "", a) == re.sub(r"[A-Za-z]", "", b), (a, b)  # punctuation kept


def test_misspell_makes_a_different_word():
    rng = random.Random(0)
    for word in ["Khrushchev", "harvest", "the", "Sputnik", "collectivisation", "Iowa"]:
        for _ in range(20):
            assert rb.perturb.misspell(word, rng) != word


EMOJI_CHARS = set("".join(P.EMOJI)) | {"\u200d", "\ufe0f"}


@strategies("surface")
def test_surface_keeps_the_words(strategy):
    out = rb.surface(STRONG, random.Random(7), strategy=strategy)
    assert "’" in out and "'" not in out
    if strategy in ("sentence_end", "any_word", "paragraph_start"):
        assert "\r\n" in out and "\n" not in out.replace("\r\n", "")
        assert [c for c in out if c in EMOJI_CHARS]
    elif strategy == "mac_line_ends":
        assert "\r" in out and "\n" not in out
    elif strategy == "separators":
        assert "\u2029" in out and "\n" not in out and "\u00a0" in out
    elif strategy == "spacing":
        assert out.startswith("\ufeff") and "\u200b" in out and "\t" in out and "  " in out
    elif strategy == "ellipses":
        assert "..." in out or "\u2026" in out
    elif strategy == "wrapped":
        assert "\u00ad" in out and max(len(ln) for ln in out.split("\n")) <= 90

    def plain(t):
        t = "".join(c for c in t if c not in EMOJI_CHARS and c not in "\ufeff\u200b\u00ad")
        t = t.replace("\u2026", ".").replace("...", ".").replace("\u2029", "\n").replace("\u00a0", " ")
        return t.translate(str.maketrans("“”‘’", "\"\"''")).split()

    assert plain(out) == plain(STRONG)


@pytest.mark.parametrize("question", ["q1", "q2"])
@strategies("keyword_salad")
def test_keyword_salad_is_an_essay_shaped_heap_of_key_terms(question, strategy):
    out = rb.keyword_salad(VOC, question, random.Random(8), strategy=strategy)
    assert 600 <= P.word_count(out) <= 800
    paras = P.paragraphs(out)
    assert len(paras) >= 5  # introduction, at least three body paragraphs, conclusion
    assert all(p.rstrip()[-1] == "." for p in paras)
    low = out.lower()
    used = {t for t in VOC.terms[question] if len(t) > 5 and t in low}
    assert len(used) >= 10, used
    assert rb.keyword_salad(VOC, question, random.Random(8), strategy=strategy) == out


def test_the_benchmark_reads_which_question_a_fixture_answers():
    answers = rb.fixture_answers()
    assert answers["q2_answers_q1.txt"] == "q1"
    assert answers["q1_strong.txt"] == "q1"
