"""Whether an essay's sentences run as English sentences do: a sign of text a student did not write.

Text stitched together by a program from real sentences ("By 1964 the USSR by the mines before
deciding whether the end of workers...": each word chosen only for following the one before it,
or runs of three or four words cut from random sentences and joined) keeps the essay's words and
every pair of neighbouring words, so neither its key terms nor its word pairs give it away. What
it loses is the longer shape of a sentence: which kinds of word follow a pair or a triple of kinds.

Each word is read as its kind: a function word as itself ("of", "which", "because", with a few
grouped: "was"/"were", the possessives, the modals), any other word by its form (a name inside a
sentence, a year, a word ending in -ed, -ing, -ly or -s, any other word), punctuation by its role.
A table of how often each run of one to four kinds follows on in the marked essays
(khrushchev_essays/models/phrasing_model.json, plain counts: `make phrasing-model` writes it,
from scripts/train_phrasing_model.py) gives, for every word of a sentence, how much better the
three kinds before it foretell it than the one kind before it does (log-probabilities, Witten-Bell
smoothing; a run of three or four kinds is counted only when two essays or more use it). In
students' sentences, misspelt or not, the longer run mostly foretells the next word better; in
text built from word pairs or cut-up runs it does not: the run is broken at almost every word.
That gain alone penalises what is merely new to the table: an informal Level 1 answer ("I think
they were just fed up with him") gains as little as word chains do. So a second table counts the
same runs in word chains of order one made from the same essays (each word drawn only for
following the one before it), and the ratio of the two (how much better students' essays foretell
each word than word chains do) cancels that novelty: it is new to both tables alike.

An essay whose sentences (those in lines of prose: bullet points are notes, not sentences) are,
on average, below either line (gain or ratio) is held as not written in sentences, and its
sentences that gain nothing, or that word chains foretell better, earn nothing ("word_order").
Each line is set from essays the model was not fitted on (each as written and 8% misspelt, two
cross-validations), 0.05 below the lowest of them. Measured so (scripts/train_phrasing_model.py),
72% of word-chain essays made from unseen essays and 99-100% of runs of three or four words cut
from them fall below a line; word chains of order two and sentences cut and joined at one point
read as written (they copy long runs of real sentences) and are not caught.
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from dataclasses import dataclass
from functools import cached_property, lru_cache
from itertools import chain

from ..resources import data

PHRASING_MODEL_FILE = data("models", "phrasing_model.json")
ORDER = 4
PRUNED = "*"  # in a row of counts: how many kinds that followed the context were dropped (PhrasingModel.fit)

# Function words read as themselves, a few of them grouped (a student may write "I" or "we", "was"
# or "were", "his" or "their" in the same place).
_GROUPS = {
    "SUBJ": "i he she we they you", "OBJ": "him them us me", "NEG": "not n't never",
    "ADV": "also even only just very too still already again instead rather often always once twice ever "
           "almost indeed perhaps probably quite well far then however therefore thus here",
    "was": "was were", "is": "is are am", "have": "has have", "do": "do does did",
    "MOD": "can could will would shall should may might must", "DEM": "this these those",
    "POSS": "his her its their our my your", "a": "a an",
    "QUANT": "every each some any no all both either neither such many much few more most less least",
    # (Words that stand where adjectives stand, "the other", "his own", "the first": as any word.)
    "W": "other another own same first last one",
    # Particles of phrasal verbs ("fed up with", "took it off", "backed down"): one kind.
    "PRT": "up down out off away back",
}
_KINDS = {w: k for k, ws in _GROUPS.items() for w in ws.split()}
_KINDS.update({w: w for w in (
    "the that which who whom whose what when where why how whether if because since although though while as "
    "than so but and or nor yet for of to in on at by with from into onto over under after before during "
    "through between among against about without within until around across along towards "
    "toward upon beyond despite like unlike per via it there be been being had having doing 's").split()})
_TOKEN = re.compile(r"[A-Za-z\u00C0-\u024F]+(?:['\u2019][A-Za-z]+)*|\d[\d,.]*\d|\d|[.!?]+|[,;:]|[-\u2013\u2014]|[()\[\]]|\S")
_NOT = re.compile(r"(?i)^(.+?)(n['\u2019]t)$")
_YEAR = re.compile(r"1[89]\d\d")
# A line of notes: a bullet point, a numbered point, or an arrow drawing a point's consequence
# ("-> real change, people no longer afraid"; "=>", "\u2192").
_BULLET = re.compile(r"[ \t]*(?:[-*\u2022\u2013\u2014>]|-+>|=+>|\u2192|\d{1,2}[.)])\s")


_LINE_ENDS = "\n\r\u2028\u2029\x0b\x0c\x85"  # old Mac line ends and Unicode separators end lines too


def prose(text: str, spans: list[tuple[int, int, int]]) -> list[tuple[int, str]]:
    """The sentences (index, start, end) of `text` that stand in lines of prose, as (index, text):
    a bullet point or a numbered point is a note, not a sentence, and is not judged."""
    out = []
    # (Only the kinds of line end the text has are looked for before each sentence: a search back
    # for one it lacks reads back to the start every time.)
    ends = [c for c in _LINE_ENDS if c in text]
    for i, start, end in spans:
        line = max((text.rfind(c, 0, start) for c in ends), default=-1) + 1
        if not _BULLET.match(text, line):
            out.append((i, text[start:end]))
    return out


def kinds(sentence: str) -> list[str]:
    """The kinds of a sentence's words, in order (see the module's docstring)."""
    if not sentence.isascii():
        # Invisible characters (a zero-width space inside a word, a byte-order mark) are not there
        # for a reader: "Khru\u200bshchev" is one word.
        sentence = "".join(c for c in sentence if unicodedata.category(c) != "Cf")
    tokens = _TOKEN.findall(sentence)
    if not tokens:
        return []
    if len(_KIND_REST) > 200_000:
        _KIND_FIRST.clear()
        _KIND_REST.clear()
    if "'" not in sentence and "\u2019" not in sentence:
        # Most sentences: no word with an apostrophe ("n't", "'s"), so each word's kind is that of
        # its form, the first word's as the first.
        first = tokens[0]
        out = [_KIND_FIRST.get(first) or _memo_kind(first, True)]
        rest = _KIND_REST.get
        out += [rest(t) or _memo_kind(t, False) for t in tokens[1:]]
        return out
    out: list[str] = []
    first = True
    for t in tokens:
        if "'" not in t and "\u2019" not in t:
            out.append((_KIND_FIRST if first else _KIND_REST).get(t) or _memo_kind(t, first))
            first = False
            continue
        parts = [t]
        neg = _NOT.match(t)
        if neg and neg.group(1).lower() not in ("ca", "wo", "sha"):
            parts = [neg.group(1), "n't"]
        elif neg:  # "can't", "won't"
            parts = ["can", "n't"]
        else:
            head, _, tail = t.replace("\u2019", "'").partition("'")
            parts = [head] + (["'s"] if tail.lower() == "s" else [])
        for p in parts:
            if not p:
                continue
            out.append(_kind(p, first))
            first = False
    return out


# Word form -> its kind, as a sentence's first word and as any other: _kind asked once per word
# form, not per word.
_KIND_FIRST: dict[str, str] = {}
_KIND_REST: dict[str, str] = {}


# Each kind as a small number (for _run_codes), given in the order kinds are first seen; "<s>"
# and "</s>" pad a sentence's runs.
_KIND_IDS: dict[str, int] = {"<s>": 0, "</s>": 1}
_KIND_NAMES: list[str] = ["<s>", "</s>"]
# A run of characters between spaces -> its kinds' numbers, as a sentence's first run and as any other.
_RUN_FIRST: dict[str, tuple[int, ...]] = {}
_RUN_REST: dict[str, tuple[int, ...]] = {}
_CODE_BITS = 10  # room for 1,024 kinds (there are some 150: the function words and the word forms' kinds)


def _kind_id(kind: str) -> int:
    i = _KIND_IDS.get(kind)
    if i is None:
        if len(_KIND_NAMES) >= 1 << _CODE_BITS:  # (runs' codes would no longer be one number per run)
            raise RuntimeError(f"more than {1 << _CODE_BITS} kinds of word: raise phrasing._CODE_BITS")
        i = _KIND_IDS[kind] = len(_KIND_NAMES)
        _KIND_NAMES.append(kind)
    return i


def kind_ids(sentence: str) -> list[int]:
    """`kinds(sentence)`, each kind as its number (_KIND_IDS).

    In plain ASCII a word's kinds follow from the run of characters between spaces it stands in
    (a token never holds a space, and none is found by looking past one), and from whether that
    run opens the sentence: so each such run's kinds are kept, as a tuple of numbers, and a
    sentence is split on spaces and its runs looked up all at once. (Tried at every character, the
    word pattern was a third of the stage.)"""
    if not sentence.isascii():
        return [_kind_id(k) for k in kinds(sentence)]
    chunks = sentence.split()
    if not chunks:
        return []
    if len(_RUN_REST) > 200_000:
        _RUN_FIRST.clear()
        _RUN_REST.clear()
    head = _RUN_FIRST.get(chunks[0])
    if head is None:
        head = _RUN_FIRST[chunks[0]] = tuple(_kind_id(k) for k in kinds(chunks[0]))
    if not head:  # (a lone apostrophe opening it: the next word is the first)
        return [_kind_id(k) for k in kinds(sentence)]
    runs = list(map(_RUN_REST.get, chunks))
    runs[0] = head
    if None in runs:
        for k, ids in enumerate(runs):
            if ids is None:
                runs[k] = _RUN_REST[chunks[k]] = tuple(_kind_id(x) for x in kinds("x " + chunks[k])[1:])
    return list(chain.from_iterable(runs))


def _run_codes(seqs: list[list[int]]):
    """Every run of four kinds of each sentence (its kinds as numbers, padded as Counts.logprobs
    pads them: three "<s>" before, "</s>" after) as one number, the four kinds' bits side by side.
    Returns (codes, the sentence of each run, its place in the sentence, runs per sentence)."""
    import numpy as np

    flat: list[int] = []
    for seq in seqs:
        flat += (0, 0, 0)
        flat += seq
        flat.append(1)
    f = np.array(flat, dtype=np.int64)
    bits = _CODE_BITS
    every = (((f[:-3] << bits | f[1:-2]) << bits | f[2:-1]) << bits) | f[3:]
    lens = np.array([len(seq) + 1 for seq in seqs], dtype=np.int64)
    row = np.repeat(np.arange(len(seqs)), lens)
    starts = np.cumsum(lens) - lens
    col = np.arange(len(row)) - np.repeat(starts, lens)
    # Sentence r's runs start at its padded place: the runs before it, and three pads for each sentence before.
    return every[np.arange(len(row)) + 3 * row], row, col, lens


def _memo_kind(t: str, first: bool) -> str:
    k = (_KIND_FIRST if first else _KIND_REST)[t] = _kind(t, first)
    return k


def _kind(t: str, first: bool) -> str:
    low = t.lower()
    if t[0] in ".!?":
        return "."
    if t in (",", ";", ":"):
        return t
    if t in ("-", "\u2013", "\u2014"):
        return "-"
    if t in "()[]":
        return "("
    if t[0].isdigit():
        return "YEAR" if _YEAR.fullmatch(t) else "NUM"
    if low in _KINDS:
        return _KINDS[low]
    if not t[0].isalpha():
        return "Q"
    if t[0].isupper() and not first:
        return "NAME"
    if low.endswith("ed"):
        return "VED"
    if low.endswith("ing"):
        return "VING"
    if low.endswith("ly"):
        return "ADV"
    if low.endswith("s") and not low.endswith("ss"):
        return "NS"
    return "W"


@dataclass(frozen=True, eq=False)
class Counts:
    """How often each run of kinds was followed by each kind (`table[n]`: a context of n-1 kinds ->
    next kind -> count), and the probabilities read off them."""

    table: dict[int, dict[str, dict[str, int]]]

    @classmethod
    def fit(cls, essays: list[list[list[str]]], min_essays: int = 2) -> Counts:
        """Count the runs of kinds in `essays` (each a list of sentences' kinds). A run of three
        kinds or more is kept only when `min_essays` essays or more use it: what one writer alone
        wrote says how that writer writes, not how English runs (and kept, it would make text cut
        from that writer's essay look written)."""
        counts: dict[int, dict[str, dict[str, int]]] = {n: {} for n in range(1, ORDER + 1)}
        used_by: dict[tuple[int, str, str], int] = {}
        for essay in essays:
            seen: set[tuple[int, str, str]] = set()
            for seq in essay:
                w = ["<s>"] * (ORDER - 1) + seq + ["</s>"]
                for i in range(ORDER - 1, len(w)):
                    for n in range(1, ORDER + 1):
                        ctx = " ".join(w[i - n + 1:i])
                        row = counts[n].setdefault(ctx, {})
                        row[w[i]] = row.get(w[i], 0) + 1
                        seen.add((n, ctx, w[i]))
            for key in seen:
                used_by[key] = used_by.get(key, 0) + 1
        for n in range(3, ORDER + 1):
            for ctx in list(counts[n]):
                full = counts[n][ctx]
                row = {w: c for w, c in full.items() if used_by[(n, ctx, w)] >= min_essays}
                if row:
                    # (How many kinds followed it that were dropped: the share of the context's
                    # guess left to the shorter context stays as large as it was.)
                    if len(row) < len(full):
                        row[PRUNED] = len(full) - len(row)
                    counts[n][ctx] = row
                else:
                    del counts[n][ctx]
        return cls(counts)

    def to_json(self) -> dict:
        return {str(n): {c: dict(sorted(r.items())) for c, r in sorted(t.items())} for n, t in self.table.items()}

    @classmethod
    def from_json(cls, raw: dict) -> Counts:
        return cls({int(n): t for n, t in raw.items()})

    @property
    def empty(self) -> bool:
        return not self.table.get(1)

    @cached_property
    def _totals(self) -> dict[int, dict[str, tuple[int, int]]]:
        """Per context: how many times it was followed by anything, and by how many kinds."""
        return {n: {c: (sum(v for k, v in r.items() if k != PRUNED), len(r) - 1 + r[PRUNED] if PRUNED in r else len(r))
                    for c, r in t.items()} for n, t in self.table.items()}

    def logprobs(self, seq: list[str], short: int = 2) -> tuple[list[float], list[float]]:
        """Per word (and the sentence's end): log P(word | three kinds before) and log P(word |
        `short`-1 kinds before), each Witten-Bell interpolated down to a uniform guess."""
        # A word's two figures follow from it and the ORDER-1 kinds before it alone: each such run's
        # are worked out once (runs recur across sentences and essays) and kept per `short`.
        memo = self._logprob_memo.get(short)
        if memo is None or len(memo) > 200_000:
            memo = self._logprob_memo[short] = {}
        w = ["<s>"] * (ORDER - 1) + seq + ["</s>"]
        long_, short_ = [], []
        for i in range(ORDER - 1, len(w)):
            run = tuple(w[i - ORDER + 1:i + 1])
            got = memo.get(run)
            if got is None:
                got = memo[run] = self._run_logprobs(w, i, short)
            long_.append(got[0])
            short_.append(got[1])
        return long_, short_

    @cached_property
    def _logprob_memo(self) -> dict[int, dict[tuple[str, ...], tuple[float, float]]]:
        return {}

    def _run_logprobs(self, w: list[str], i: int, short: int) -> tuple[float, float]:
        """`logprobs`' two figures for the word w[i] (w padded)."""
        vocab = len(self.table[1].get("", {})) + 1
        totals = self._totals
        p = 1.0 / vocab
        ps = p
        for k in range(1, ORDER + 1):
            ctx = " ".join(w[i - k + 1:i])
            row = self.table[k].get(ctx)
            if row:  # (an unseen context: the shorter one's guess stands)
                total, types = totals[k][ctx]
                p = (row.get(w[i], 0) + types * p) / (total + types)
            if k == short:
                ps = p
        return math.log(p), math.log(ps)


@dataclass(frozen=True, eq=False)
class PhrasingModel:
    """The counts of students' essays (`written`) and of word chains made from them (`pairs`: each
    word drawn only for following the one before it), and the lines read off them. An empty model
    finds every essay written in sentences."""

    written: Counts
    pairs: Counts
    gain_line: float = -math.inf  # an essay whose mean gain is below this is not written in sentences
    ratio_line: float = -math.inf  # nor one whose mean ratio (written over pairs) is below this
    min_kinds: int = 6  # sentences shorter than this (in kinds) are not judged
    min_sentences: int = 8  # an essay with fewer judged sentences is not judged

    @classmethod
    def load(cls, path) -> PhrasingModel:
        raw = json.loads(path.read_text(encoding="utf-8"))
        return cls(Counts.from_json(raw["written"]), Counts.from_json(raw["pairs"]), float(raw["gain_line"]),
                   float(raw["ratio_line"]), int(raw.get("min_kinds", 6)), int(raw.get("min_sentences", 8)))

    def to_json(self) -> dict:
        return {"gain_line": self.gain_line, "ratio_line": self.ratio_line, "min_kinds": self.min_kinds,
                "min_sentences": self.min_sentences, "written": self.written.to_json(), "pairs": self.pairs.to_json()}

    @property
    def empty(self) -> bool:
        return self.written.empty

    @cached_property
    def _memo(self) -> list:
        """Per run of four kinds (three before a word, and the word), as its code (_run_codes): its
        gain and its ratio, worked out once (runs recur across sentences and essays). Held as
        sorted numpy arrays (codes, gains, ratios) in a one-item list, replaced whole when runs are
        added, so that a reader on another thread never sees the codes of one version with the
        figures of another."""
        import numpy as np

        return [(np.zeros(0, dtype=np.int64), np.zeros(0), np.zeros(0))]

    def judge(self, sentence: str) -> tuple[float, float] | None:
        """A sentence's mean gain (how much better three kinds before each word foretell it than one
        kind does, in students' essays) and mean ratio (how much better students' essays foretell
        its words than word chains do), or None when it is too short to judge (or the model is empty)."""
        return self.judge_all([sentence])[0]

    def judge_all(self, sentences: list[str]) -> list[tuple[float, float] | None]:
        """`judge` for each of an essay's sentences, the runs of all of them looked up at once.

        Each run of four kinds is a number (_run_codes), found with one np.searchsorted in the
        memo for the whole essay; only the sentences with a run it lacks are read from the tables,
        and their new runs added. Each sentence's figures are summed in its words' order (np.cumsum
        along a row adds one after the other, as a loop does), so the means are those of a sum
        word by word. (A tuple of kinds per word and two dictionary lookups per run cost more than
        the rest of the argument stage's scans together.)"""
        import numpy as np

        out: list[tuple[float, float] | None] = [None] * len(sentences)
        if self.empty:
            return out
        seqs = [kind_ids(s) for s in sentences]
        judged = [k for k, seq in enumerate(seqs) if len(seq) >= self.min_kinds]
        if not judged:
            return out
        codes, row, col, lens = _run_codes([seqs[k] for k in judged])
        keys, gains_of, ratios_of = self._memo[0]
        pos = np.minimum(np.searchsorted(keys, codes), max(0, len(keys) - 1))
        found = keys[pos] == codes if len(keys) else np.zeros(len(codes), dtype=bool)
        gains = np.where(found, gains_of[pos] if len(keys) else 0.0, 0.0)
        ratios = np.where(found, ratios_of[pos] if len(keys) else 0.0, 0.0)
        if not found.all():
            new: dict[int, tuple[float, float]] = {}
            missing = np.flatnonzero(~found)
            for r in np.unique(row[missing]).tolist():
                seq = [_KIND_NAMES[i] for i in seqs[judged[r]]]
                long_, short_ = self.written.logprobs(seq)
                chained = self.pairs.logprobs(seq)[0] if not self.pairs.empty else long_
                first = int(np.searchsorted(row, r))
                for j in range(len(long_)):
                    if not found[first + j]:
                        new.setdefault(int(codes[first + j]), (long_[j] - short_[j], long_[j] - chained[j]))
            codes_l = codes[missing].tolist()
            gains[missing] = [new[c][0] for c in codes_l]
            ratios[missing] = [new[c][1] for c in codes_l]
            added = np.array(sorted(new), dtype=np.int64)
            figures = [new[c] for c in added.tolist()]
            if len(keys) + len(added) > 200_000:
                keys, gains_of, ratios_of = np.zeros(0, dtype=np.int64), np.zeros(0), np.zeros(0)
            at = np.searchsorted(keys, added)
            self._memo[0] = (np.insert(keys, at, added), np.insert(gains_of, at, [f[0] for f in figures]),
                             np.insert(ratios_of, at, [f[1] for f in figures]))
        width = int(lens.max()) + 1
        for name, values in (("gain", gains), ("ratio", ratios)):
            table = np.zeros((len(judged), width))  # a 0.0 before each row's first figure, as `total = 0.0` was
            table[row, col + 1] = values
            sums = np.cumsum(table, axis=1)[:, -1] / lens
            if name == "gain":
                gain_l = sums.tolist()
            else:
                ratio_l = sums.tolist()
        for k, g, r in zip(judged, gain_l, ratio_l):
            out[k] = (g, r)
        return out

    def gain(self, sentence: str) -> float | None:
        judged = self.judge(sentence)
        return None if judged is None else judged[0]


@dataclass(frozen=True)
class Phrasing:
    """What the model says of an essay: its sentences' mean gain and mean ratio, whether either is
    under its line, and the sentences (their indexes) set aside when one is: those that gain
    nothing from the longer runs or that word chains foretell better than essays do."""

    mean_gain: float | None
    mean_ratio: float | None
    broken: bool
    sentences: tuple[int, ...]


def read_phrasing(texts: list[tuple[int, str]], model: PhrasingModel | None = None) -> Phrasing:
    """Judge sentences (index, text) of one essay."""
    model = model or phrasing_model()
    judged = model.judge_all([t for _i, t in texts])
    scored = [(i, j) for (i, _t), j in zip(texts, judged) if j is not None]
    if model.empty or len(scored) < model.min_sentences:
        return Phrasing(None, None, False, ())
    gain = sum(j[0] for _i, j in scored) / len(scored)
    ratio = sum(j[1] for _i, j in scored) / len(scored)
    broken = gain < model.gain_line or ratio < model.ratio_line
    return Phrasing(round(gain, 4), round(ratio, 4), broken,
                    tuple(i for i, (g, r) in scored if g < 0 or r < 0) if broken else ())


@lru_cache(maxsize=1)
def phrasing_model() -> PhrasingModel:
    """The shipped model, or an empty one (which finds every essay written in sentences) when it is missing."""
    try:
        return PhrasingModel.load(PHRASING_MODEL_FILE)
    except (OSError, ValueError, KeyError):
        return PhrasingModel(Counts({}), Counts({}))
