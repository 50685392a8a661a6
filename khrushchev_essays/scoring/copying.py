"""Copying: passages an essay shares word for word with registered sources, or with another essay.

Texts are compared as word shingles: every run of `shingle` (8) consecutive normalised words,
hashed. Normalising ignores case, punctuation, quote and apostrophe styles ("Khrushchev's" and
"Khrushchev’s" are one word), accents, spacing and line ends (CRLF, CR, LF), and joins a word
hyphenated across a line ("ero-\\nsion") or with an invisible soft hyphen. A passage is a maximal
run of consecutive shingles found in the same source; it counts when it spans at least
`min_words` words (12 by default, so a shared 8-word phrase such as a stock phrase or a
famous title is never enough on its own).

Every result carries character offsets into the text exactly as given, so `text[start:end]` is
the copied passage: tokens are found on the original text and only their copies are normalised.

A `SourceIndex` is read-only once built, so one instance can serve every thread. Shingle keys are
Python's own tuple hashes (fast, computed in C), which differ between processes: an index sent
to another process (pickled) is rebuilt there from its texts.

Pure Python; no Flask, no database.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from .report import Span

__all__ = [
    "COPIED_LABEL",
    "DEFAULT_MIN_WORDS",
    "DEFAULT_PAIR_MIN_WORDS",
    "DEFAULT_SHINGLE",
    "Overlap",
    "Pair",
    "SourceIndex",
    "copied_from",
    "copied_share",
    "similar_pairs",
    "spans",
    "tokens",
    "word_count",
    "words",
]

COPIED_LABEL = "copied_source"  # the flag, and the label of the highlighted passages
DEFAULT_SHINGLE = 8
DEFAULT_MIN_WORDS = 12
# Two students restating the question in a verdict ("In conclusion, de-Stalinisation was the most
# significant factor in...") can share 11-12 words without copying; between essays a passage must
# be longer before a teacher is asked to look.
DEFAULT_PAIR_MIN_WORDS = 15
# A shingle found in this many essays or more is class-wide boilerplate (a phrase the whole class
# was taught), not evidence that two particular students share work; it is skipped.
PAIR_MAX_DOCS_PER_SHINGLE = 100

# A word: letters or digits (any script, with combining accents), joined by apostrophes (any
# style), invisible characters, or a hyphen that may be followed by a line break ("ero-\nsion").
# En and em dashes separate words, as they do in prose ("1953–64", "reform—and").
_CHAR = r"[\w\u0300-\u036f]"
_JOIN = r"(?:['’ʼ‘\u200b\u200c\u200d\u2060]|[\-\u2010\u2011\u2012\u00ad](?:[ \t]*\r?\n[ \t]*|[ \t]*\r[ \t]*)?)"
_TOKEN = re.compile(rf"{_CHAR}+(?:{_JOIN}{_CHAR}+)*")
_JOINERS = re.compile(r"['’ʼ‘\u200b\u200c\u200d\u2060\-\u2010\u2011\u2012\u00ad\s]+")
_COMBINING = re.compile(r"[\u0300-\u036f]")
_SEP = "\x00"  # never inside a token


def words(text: str) -> list[str]:
    """The normalised words of `text`: lower case (casefolded), no accents, no joiners.

    Normalised all at once (C-speed string operations over the tokens joined by NUL) rather than
    token by token; the i-th word is the i-th match of the token pattern, as in `tokens`.
    """
    raw = _TOKEN.findall(text)
    if not raw:
        return []
    joined = _SEP.join(raw)
    if not joined.isascii():
        joined = _COMBINING.sub("", unicodedata.normalize("NFKD", joined))
    return _JOINERS.sub("", joined.casefold()).split(_SEP)


def spans(text: str) -> list[tuple[int, int]]:
    """The (start, end) offsets in `text` of each word of `words(text)`."""
    return [m.span() for m in _TOKEN.finditer(text)]


def tokens(text: str) -> list[tuple[int, int, str]]:
    """The words of `text` as (start, end, normalised form), with offsets into `text` as given."""
    return [(start, end, word) for (start, end), word in zip(spans(text), words(text), strict=True)]


def word_count(text: str) -> int:
    """How many words the copy detector sees in `text` (the denominator of `copied_share`)."""
    return len(_TOKEN.findall(text))


def _shingle_hashes(words: Sequence[str], k: int) -> list[int]:
    """The hash of every window of `k` consecutive words, window i starting at word i."""
    if len(words) < k:
        return []
    return list(map(hash, zip(*(words[j:] for j in range(k)))))


def _runs(windows: Iterable[int], k: int) -> list[tuple[int, int]]:
    """Maximal runs of consecutive window numbers, as (first word, last word) inclusive."""
    runs: list[tuple[int, int]] = []
    first = prev = None
    for w in windows:
        if prev is not None and w == prev + 1:
            prev = w
            continue
        if first is not None:
            runs.append((first, prev + k - 1))
        first = prev = w
    if first is not None:
        runs.append((first, prev + k - 1))
    return runs


@dataclass(frozen=True, slots=True)
class Overlap:
    """A passage of the essay found word for word in a registered source: `text[start:end]`."""

    start: int
    end: int
    source: str
    words: int

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready dict."""
        return {"start": self.start, "end": self.end, "source": self.source, "words": self.words}

    def to_span(self, text: str) -> Span:
        """The report's evidence span for this passage of `text` (label `copied_source`, the source in the note)."""
        return Span(self.start, self.end, text[self.start : self.end], label=COPIED_LABEL,
                    note=f"{self.words} words copied from {self.source}")


@dataclass(frozen=True, slots=True)
class Pair:
    """Two essays sharing long passages: the shared words, and where they are in each essay.

    `words` is the smaller of the two sides' totals (a passage repeated in one essay counts once
    on the other side); `spans_a`/`spans_b` are (start, end) offsets into each essay's text.
    """

    id_a: object
    id_b: object
    words: int
    spans_a: tuple[tuple[int, int], ...]
    spans_b: tuple[tuple[int, int], ...]


def _rebuild(sources: tuple[tuple[str, str], ...], min_words: int, shingle: int, common: tuple[str, ...]) -> SourceIndex:
    return SourceIndex(dict(sources), min_words=min_words, shingle=shingle, common=common)


class SourceIndex:
    """Registered source texts, indexed by their word shingles, to find what an essay copies.

    `sources` maps a name to its text (order kept: on a tie the first-named source is reported).
    `common` texts (the question itself, say) are text anyone may repeat: their shingles are
    never counted, so an essay restating the question is not flagged for a source that quotes it.
    """

    def __init__(self, sources: Mapping[str, str] | Iterable[tuple[str, str]] = (), *,
                 min_words: int = DEFAULT_MIN_WORDS, shingle: int = DEFAULT_SHINGLE, common: Iterable[str] = ()) -> None:
        if shingle < 2:
            raise ValueError("shingle must be at least 2 words")
        if min_words < shingle:
            raise ValueError(f"min_words ({min_words}) must be at least the shingle size ({shingle})")
        items = list(sources.items() if isinstance(sources, Mapping) else sources)
        names = [name for name, _ in items]
        if len(set(names)) != len(names):
            raise ValueError("source names must be unique")
        self.min_words = min_words
        self.shingle = shingle
        self.common = tuple(common)
        self._texts = tuple(items)
        self.names: tuple[str, ...] = tuple(names)
        self.word_counts: dict[str, int] = {}
        skip = {h for text in self.common for h in _shingle_hashes(words(text), shingle)}
        index: dict[int, int] = {}  # shingle hash -> bit mask of the sources that hold it
        for number, (name, text) in enumerate(items):
            ws = words(text)
            self.word_counts[name] = len(ws)
            bit = 1 << number
            for h in _shingle_hashes(ws, shingle):
                if h not in skip:
                    index[h] = index.get(h, 0) | bit
        self._index = index

    def __len__(self) -> int:
        return len(self.names)

    def __repr__(self) -> str:
        return f"<SourceIndex {len(self.names)} source(s), {len(self._index)} shingles, min {self.min_words} words>"

    def __reduce__(self):
        # The shingle hashes are only valid in this process (str hashes are salted per process).
        return _rebuild, (self._texts, self.min_words, self.shingle, self.common)

    def overlaps(self, text: str, min_words: int | None = None) -> list[Overlap]:
        """The passages of `text` copied from the sources, in text order, never overlapping.

        Each is a maximal run of consecutive shingles found in one source, of at least
        `min_words` words (default: the index's). Where passages from two sources overlap, the
        longer one keeps the shared words and the other keeps the rest of its own.
        """
        minimum = self.min_words if min_words is None else max(min_words, self.shingle)
        if not self._index:
            return []
        ws = words(text)
        k = self.shingle
        lookup = self._index.get
        masks = [lookup(h, 0) for h in _shingle_hashes(ws, k)]
        if not any(masks):
            return []
        candidates: list[tuple[int, int, int]] = []  # (first word, last word, source number)
        open_runs: dict[int, int] = {}  # source number -> first window of its run in progress
        for i, mask in enumerate([*masks, 0]):  # a final 0 closes every run
            for src in [s for s in open_runs if not mask >> s & 1]:
                first = open_runs.pop(src)
                if i - 1 + k - first >= minimum:
                    candidates.append((first, i - 2 + k, src))
            while mask:
                low = mask & -mask
                open_runs.setdefault(low.bit_length() - 1, i)
                mask ^= low
        if not candidates:
            return []
        # Longest first; each run keeps the words no longer run has claimed.
        candidates.sort(key=lambda c: (c[0] - c[1], c[2], c[0]))
        toks = spans(text)  # offsets only now, for essays that copy something
        owner: list[int] = [-1] * len(toks)
        for first, last, src in candidates:
            for w in range(first, last + 1):
                if owner[w] < 0:
                    owner[w] = src
        found: list[Overlap] = []
        w = 0
        while w < len(owner):
            src = owner[w]
            if src < 0:
                w += 1
                continue
            first = w
            while w + 1 < len(owner) and owner[w + 1] == src:
                w += 1
            found.append(Overlap(toks[first][0], toks[w][1], self.names[src], w - first + 1))
            w += 1
        return found


def copied_from(overlaps: Iterable[Overlap]) -> list[tuple[str, int]]:
    """The sources the overlaps come from, with the words copied from each, most first (for a flag's wording)."""
    totals: dict[str, int] = {}
    for o in overlaps:
        totals[o.source] = totals.get(o.source, 0) + o.words
    return sorted(totals.items(), key=lambda item: -item[1])


def copied_share(text: str, overlaps: Iterable[Overlap]) -> float:
    """The share (0-1) of the words of `text` that lie inside the given overlaps."""
    total = word_count(text)
    if not total:
        return 0.0
    return min(1.0, sum(o.words for o in overlaps) / total)


def similar_pairs(docs: Iterable[tuple[object, str]], min_words: int = DEFAULT_PAIR_MIN_WORDS, *,
                  shingle: int = DEFAULT_SHINGLE, common: Iterable[str] = ()) -> list[Pair]:
    """Pairs of documents that share passages of at least `min_words` words, most shared first.

    `docs` is (id, text) pairs. An inverted index maps each shingle to the documents holding it,
    so the work grows with the shingles actually shared, not with the number of pairs. Shingles of
    the `common` texts (the question) are ignored, and so are shingles found in
    PAIR_MAX_DOCS_PER_SHINGLE documents or more.
    """
    if min_words < shingle:
        raise ValueError(f"min_words ({min_words}) must be at least the shingle size ({shingle})")
    skip = {h for text in common for h in _shingle_hashes(words(text), shingle)}
    ids: list[object] = []
    texts: list[str] = []
    postings: dict[int, dict[int, list[int]]] = {}  # shingle -> document -> windows
    for number, (doc_id, text) in enumerate(docs):
        ids.append(doc_id)
        texts.append(text)
        for window, h in enumerate(_shingle_hashes(words(text), shingle)):
            if h not in skip:
                postings.setdefault(h, {}).setdefault(number, []).append(window)
    shared: dict[tuple[int, int], tuple[set[int], set[int]]] = {}
    for holders in postings.values():
        if len(holders) < 2 or len(holders) >= PAIR_MAX_DOCS_PER_SHINGLE:
            continue
        numbers = sorted(holders)
        for x, a in enumerate(numbers):
            for b in numbers[x + 1:]:
                side_a, side_b = shared.setdefault((a, b), (set(), set()))
                side_a.update(holders[a])
                side_b.update(holders[b])
    found: list[tuple[int, int, int, Pair]] = []
    offsets: dict[int, list[tuple[int, int]]] = {}
    for (a, b), (windows_a, windows_b) in shared.items():
        runs_a = [r for r in _runs(sorted(windows_a), shingle) if r[1] - r[0] + 1 >= min_words]
        runs_b = [r for r in _runs(sorted(windows_b), shingle) if r[1] - r[0] + 1 >= min_words]
        if not runs_a or not runs_b:
            continue
        shared_words = min(sum(last - first + 1 for first, last in runs) for runs in (runs_a, runs_b))
        for d in (a, b):
            if d not in offsets:
                offsets[d] = spans(texts[d])
        found.append((-shared_words, a, b, Pair(
            ids[a], ids[b], shared_words,
            tuple((offsets[a][first][0], offsets[a][last][1]) for first, last in runs_a),
            tuple((offsets[b][first][0], offsets[b][last][1]) for first, last in runs_b),
        )))
    found.sort(key=lambda f: f[:3])
    return [f[3] for f in found]
