"""Text that does not run as English sentences (scoring/phrasing.py): runs of words cut from
sentences and joined gain less from their longer runs than students' essays do; students' essays,
misspelt, informal or written in a second language, are never caught by the shipped model (read
through the real engine: spaCy pipeline, rubric, argument stage)."""

import importlib.util
import random
import re
import sys
from pathlib import Path

import pytest

from khrushchev_essays.scoring.engine import default_engine
from khrushchev_essays.scoring.phrasing import Counts, PhrasingModel, kinds, phrasing_model, prose, read_phrasing

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"
GENUINE = sorted(p for p in FIXTURES.glob("q[12]_*.txt"))


def _perturb():
    spec = importlib.util.spec_from_file_location("perturb", ROOT / "benchmarks" / "perturb.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("perturb", module)
    spec.loader.exec_module(module)
    return module


def _sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.!?])\s+", text.replace("\n", " ")) if len(s.split()) >= 6]


def _runs(pool: list[str], rng: random.Random, n: int) -> str:
    """A 'sentence' of runs of n words, each run cut from a random sentence of the pool."""
    out: list[str] = []
    while len(out) < rng.randint(14, 26):
        words = rng.choice(pool).split()
        if len(words) <= n:
            continue
        i = rng.randrange(0, len(words) - n)
        out += words[i:i + n]
    s = " ".join(out).rstrip(".,;:")
    return s[:1].upper() + s[1:] + "."


def _essay(pool: list[str], rng: random.Random, n: int) -> str:
    return "\n\n".join(" ".join(_runs(pool, rng, n) for _ in range(5)) for _ in range(6))


def test_kinds_read_function_words_as_themselves_and_other_words_by_their_form():
    assert kinds("In 1956 Khrushchev didn't hide that the purges were crimes.") == [
        "in", "YEAR", "NAME", "do", "NEG", "W", "that", "the", "NS", "was", "NS", "."]


def test_invisible_characters_inside_words_do_not_change_the_kinds():
    plain = "In 1956 Khrushchev denounced Stalin at the Party Congress."
    hidden = "\ufeffIn 1956 Khru\u200bshchev denounced Sta\u200dlin at the Party\u2060 Congress."
    assert kinds(hidden) == kinds(plain)


@pytest.mark.parametrize("end", ["\n", "\r", "\r\n", "\u2028"])
def test_bullet_points_are_notes_not_sentences_whatever_ends_their_lines(end):
    text = end.join(["Why he fell.", "- the harvest of 1963 failed badly", "* grain was bought from Canada",
                     "2. Cuba made him look weak", "He lost the Presidium's trust."])
    spans = [(i, m.start(), m.end()) for i, m in enumerate(re.finditer(r"[^\r\n\u2028]+", text))]
    assert [t for _i, t in prose(text, spans)] == ["Why he fell.", "He lost the Presidium's trust."]


def test_a_sentence_gains_more_from_its_longer_runs_than_the_same_words_cut_up():
    model = phrasing_model()
    assert not model.empty
    written = "Because the harvest of 1963 failed, the USSR had to buy grain from Canada, which humiliated him."
    cut_up = "The USSR had of 1963 failed, to buy which grain from because Canada the harvest humiliated him."
    assert model.gain(written) > model.gain(cut_up)


@pytest.mark.parametrize("n,seed", [(3, 1), (4, 2), (5, 3)])
def test_runs_of_words_cut_from_unseen_sentences_gain_less_than_unseen_essays(n, seed):
    """Fitted on half the fixtures, the model reads the other half's essays as written in
    sentences and runs of words cut from those same essays as not (out of sample, as at run time)."""
    rng = random.Random(seed)
    texts = [p.read_text(encoding="utf-8") for p in GENUINE if "notes" not in p.name]
    rng.shuffle(texts)
    fit_on, held = texts[: len(texts) // 2], texts[len(texts) // 2:]
    model = PhrasingModel(Counts.fit([[kinds(s) for s in _sentences(t)] for t in fit_on]), Counts({}))
    pool = [s for t in held for s in _sentences(t) if len(s.split()) > n]

    def mean_gain(text):
        return read_phrasing(list(enumerate(_sentences(text))), model).mean_gain

    lowest_essay = min(mean_gain(t) for t in held)
    made = [mean_gain(_essay(pool, rng, n)) for _ in range(3)]
    assert max(made) < lowest_essay


def test_a_broken_essay_sets_aside_its_broken_sentences_only():
    model = phrasing_model()
    assert model.gain_line < 0 and model.ratio_line < 0
    written = [(i, s) for i, s in enumerate(_sentences(read_fixture_text("q1_strong.txt")))]
    verdict = read_phrasing(written, model)
    assert verdict.mean_gain is not None and not verdict.broken and verdict.sentences == ()


def read_fixture_text(name):
    return (FIXTURES / name).read_text(encoding="utf-8")


def _chain(pool: list[str], rng: random.Random) -> str:
    """A 'sentence' of words each drawn only for following the word before it in some sentence of
    the pool (a word chain of order one), 8 to 40 words."""
    follows: dict[str, list[str]] = {}
    for s in pool:
        words = ["<s>"] + s.split() + ["</s>"]
        for a, b in zip(words, words[1:]):
            follows.setdefault(a, []).append(b)
    out, word = [], "<s>"
    while len(out) < 40:
        word = rng.choice(follows[word])
        if word == "</s>":
            if len(out) >= 8:
                break
            out, word = [], "<s>"
            continue
        out.append(word)
    text = " ".join(out)
    return text if text.endswith((".", "!", "?")) else text.rstrip(",;:") + "."


def test_word_chains_over_the_fixtures_earn_nothing_and_are_held_at_level_1():
    """Most word-chain essays are caught (cross-validated, about three in four from unseen essays;
    from the fixtures' own sentences four in five: 16 of these 20), and every one caught is held at
    Level 1 with its sentences set aside and the reason given."""
    pool = [s for p in GENUINE for s in _sentences(p.read_text(encoding="utf-8"))]
    engine = default_engine()
    held = 0
    for seed in range(20):
        rng = random.Random(seed)
        text = "\n\n".join(" ".join(_chain(pool, rng) for _ in range(8)) for _ in range(5))
        q = "q1" if seed % 2 else "q2"
        _analysis, argument, _findings = engine.analyse_text(text, q)
        if argument.unphrased is None:
            continue
        held += 1
        assert "word_order" in argument.excluded.values()
        report = engine.score(text, q)
        assert report.level <= 1
        assert "incoherent" in report.flags
        assert any("do not run as English sentences" in c["reason"] for c in report.caps if c["rule"] == "incoherent")
    assert held >= 15


@pytest.mark.parametrize("path", GENUINE, ids=lambda p: p.name)
def test_no_fixture_essay_is_caught_as_written_or_misspelt(path):
    perturb = _perturb()
    text = path.read_text(encoding="utf-8")
    engine = default_engine()
    q = path.name[:2]
    for version in (text, perturb.misspelt(text, random.Random(8), strategy="uniform"),
                    perturb.misspelt(text, random.Random(9), strategy="long")):
        _analysis, argument, _findings = engine.analyse_text(version, q)
        assert argument.unphrased is None
        assert "word_order" not in argument.excluded.values()
