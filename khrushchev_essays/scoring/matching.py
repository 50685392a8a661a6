"""Phrases -> spans: the one matcher whose results drive both the score and the highlighting.

A `RubricMatcher` compiles every phrase of a rubric (factor phrases, development cues, event
names, marker words) into one spaCy PhraseMatcher on lemmas, once per rubric and pipeline.
`analyse(doc)` turns a processed essay into an `Analysis`: its paragraphs and sentences, each
sentence with what it contains. The criteria read only the Analysis, so nothing can be
highlighted that did not count, and nothing counts that cannot be highlighted.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass, field
from functools import cached_property

from .rubric import Rubric

# Characters replaced one-for-one before the NLP runs, so offsets stay those of the text as
# submitted: typographic apostrophes and quotes, odd hyphens and spaces.
_SAME_LENGTH = str.maketrans({
    "\u2019": "'", "\u2018": "'", "\u201b": "'", "\u02bc": "'",
    "\u201c": '"', "\u201d": '"',
    "\u2010": "-", "\u2011": "-",
    "\u00a0": " ", "\u2007": " ", "\u202f": " ",
})

MARKER_KINDS = ("causal", "evaluative", "counter", "conclusion", "judgement", "comparison", "people", "historians")
_YEAR = re.compile(r"^(1[89]\d\d)s?$")
_FIGURE_WORDS = {"million", "millions", "billion", "thousand", "thousands", "hundred", "percent", "per", "%"}


def normalise(text: str) -> str:
    """The text the pipeline sees: same length as the original, so offsets carry over."""
    return text.translate(_SAME_LENGTH)


def variants(phrase: str) -> set[str]:
    """Spelling variants of a phrase: hyphen, space and none alike; -isation and -ization alike."""
    p = " ".join(phrase.lower().split())
    out = {p}
    if "-" in p:
        out |= {p.replace("-", " "), p.replace("-", "")}
    for v in list(out):
        if "is" in v:
            out.add(re.sub(r"isation\b", "ization", re.sub(r"ise\b", "ize", v)))
        if "iz" in v:
            out.add(re.sub(r"ization\b", "isation", re.sub(r"ize\b", "ise", v)))
    return {" ".join(v.split()) for v in out if v.strip()}


@dataclass(slots=True)
class Hit:
    """One phrase found in the essay."""

    kind: str  # "factor", "dev", "event", or a marker kind
    key: str  # factor id, event index, or the marker kind again
    start: int  # character offsets into the text
    end: int
    tok_start: int
    tok_end: int


@dataclass(slots=True)
class Sentence:
    """A sentence of the essay and everything the criteria need to know about it."""

    index: int
    start: int
    end: int
    tok_start: int
    tok_end: int
    paragraph: int
    words: int
    real: bool  # a sentence with enough words and function words to carry an argument
    hits: list[Hit] = field(default_factory=list)
    years: list[tuple[int, int, int, int]] = field(default_factory=list)  # (year, start, end, token index)
    figures: list[tuple[int, int]] = field(default_factory=list)  # char spans of numbers that are not years
    narrative_opener: bool = False

    def kinds(self) -> set[str]:
        return {h.kind for h in self.hits}

    def factors(self) -> set[str]:
        return {h.key for h in self.hits if h.kind == "factor"}

    def has(self, kind: str) -> bool:
        return any(h.kind == kind for h in self.hits)


@dataclass
class Analysis:
    """A processed essay: the text, its paragraphs and sentences, and every hit."""

    text: str
    sentences: list[Sentence]
    paragraphs: list[tuple[int, int]]  # char ranges
    words: int
    alpha_tokens: int
    stop_tokens: int
    known_tokens: int  # alphabetic tokens that are English words (in the lemma table or stop list)
    lemmas: list[str]  # content lemmas, for TF-IDF
    lines: list[tuple[int, int, int]]  # (start, end, words) of non-empty lines
    topic_similarity: float | None = None  # set by the off-topic check

    @cached_property
    def real_sentences(self) -> list[Sentence]:
        return [s for s in self.sentences if s.real]

    def paragraph_of(self, char: int) -> int:
        starts = [p[0] for p in self.paragraphs]
        return max(0, bisect_right(starts, char) - 1)

    def span_text(self, start: int, end: int) -> str:
        return self.text[start:end]


def paragraph_ranges(text: str) -> list[tuple[int, int]]:
    """Paragraph char ranges: split on blank lines, or on single newlines if there are none."""
    sep = re.compile(r"\n[ \t\r]*\n\s*") if re.search(r"\n[ \t\r]*\n", text) else re.compile(r"\n\s*")
    out, pos = [], 0
    for m in sep.finditer(text):
        if text[pos:m.start()].strip():
            out.append(_trim(text, pos, m.start()))
        pos = m.end()
    if text[pos:].strip():
        out.append(_trim(text, pos, len(text)))
    return out or [(0, len(text))]


def _trim(text: str, a: int, b: int) -> tuple[int, int]:
    while a < b and text[a].isspace():
        a += 1
    while b > a and text[b - 1].isspace():
        b -= 1
    return a, b


class RubricMatcher:
    """Every phrase of one rubric, compiled for one pipeline."""

    def __init__(self, rubric: Rubric, nlp):
        from spacy.matcher import PhraseMatcher

        self.rubric = rubric
        self.nlp = nlp
        self.matcher = PhraseMatcher(nlp.vocab, attr="LEMMA")
        self._labels: dict[int, tuple[str, str]] = {}
        groups: dict[tuple[str, str], set[str]] = {}
        for f in rubric.factors:
            groups.setdefault(("factor", f.id), set()).update(*(variants(p) for p in f.phrases))
            groups.setdefault(("dev", f.id), set()).update(*(variants(p) for p in f.development))
        for i, ev in enumerate(rubric.events):
            groups.setdefault(("event", str(i)), set()).update(*(variants(p) for p in ev.phrases))
        for kind in MARKER_KINDS:
            groups.setdefault((kind, kind), set()).update(*(variants(p) for p in getattr(rubric.markers, kind)))
        self.narrative_openers = [tuple(v.split()) for p in rubric.markers.narrative_openers for v in variants(p)]
        for (kind, key), phrases in groups.items():
            if not phrases:
                continue
            label = f"{kind}:{key}"
            docs = list(nlp.pipe(sorted(phrases)))
            self.matcher.add(label, docs)
            self._labels[nlp.vocab.strings[label]] = (kind, key)
        # Lemmas of the opening words of narrative openers ("then", "after this", "in 1957").
        self._opener_lemmas = {
            tuple(t.lemma_ for t in d) for d in nlp.pipe(sorted({" ".join(o) for o in self.narrative_openers}))
        }
        self._max_opener = max((len(o) for o in self._opener_lemmas), default=0)

    # ------------------------------------------------------------------------------------------
    def hits(self, doc) -> list[Hit]:
        """Phrase hits, longest first where hits of the same kind overlap."""
        raw = []
        for match_id, s, e in self.matcher(doc):
            kind, key = self._labels[match_id]
            raw.append((kind, key, s, e))
        # Within a kind, keep the longest of overlapping hits (e.g. "secret speech" over "speech").
        raw.sort(key=lambda h: (h[0], -(h[3] - h[2]), h[2]))
        taken: dict[str, list[tuple[int, int]]] = {}
        out: list[Hit] = []
        for kind, key, s, e in raw:
            spans = taken.setdefault(kind, [])
            if any(s < te and ts < e for ts, te in spans):
                continue
            spans.append((s, e))
            out.append(Hit(kind, key, doc[s].idx, doc[e - 1].idx + len(doc[e - 1].text), s, e))
        out.sort(key=lambda h: h.tok_start)
        return out

    def analyse(self, doc, text: str) -> Analysis:
        """Sentences, paragraphs, hits, years and figures of one processed essay."""
        paragraphs = paragraph_ranges(text)
        starts = [p[0] for p in paragraphs]
        hits = self.hits(doc)
        sentences: list[Sentence] = []
        words = alpha = stops = known = 0
        lemmas: list[str] = []
        lookup = _english_words(self.nlp)
        hi = 0
        for si, sent in enumerate(doc.sents):
            s_words = s_stops = 0
            years: list[tuple[int, int, int, int]] = []
            figures: list[tuple[int, int]] = []
            for tok in sent:
                if tok.is_space or tok.is_punct:
                    continue
                s_words += 1
                if tok.is_alpha:
                    alpha += 1
                    if tok.is_stop:
                        s_stops += 1
                        known += 1
                    else:
                        low = tok.lower_
                        if low in lookup or tok.lemma_ in lookup:
                            known += 1
                        if len(low) > 2:
                            lemmas.append(tok.lemma_)
                elif tok.like_num:
                    m = _YEAR.match(tok.text)
                    if m and 1890 <= int(m.group(1)) <= 1975:
                        years.append((int(m.group(1)), tok.idx, tok.idx + len(tok.text), tok.i))
                    elif any(ch.isdigit() for ch in tok.text) or tok.lower_ in _FIGURE_WORDS:
                        figures.append((tok.idx, tok.idx + len(tok.text)))
            words += s_words
            stops += s_stops
            start = sent.start_char
            # Trim leading whitespace so the sentence span starts at its first character.
            while start < sent.end_char and text[start].isspace():
                start += 1
            s_hits = []
            while hi < len(hits) and hits[hi].tok_start < sent.end:
                if hits[hi].tok_start >= sent.start:
                    s_hits.append(hits[hi])
                hi += 1
            opener = self._opens_with_narrative(sent)
            sentences.append(Sentence(
                index=si, start=start, end=sent.end_char, tok_start=sent.start, tok_end=sent.end,
                paragraph=max(0, bisect_right(starts, start) - 1), words=s_words,
                real=s_words >= 5 and s_stops >= 1 and s_stops / max(1, s_words) >= 0.12,
                hits=s_hits, years=years, figures=figures, narrative_opener=opener,
            ))
        lines = []
        pos = 0
        for line in text.split("\n"):
            if line.strip():
                lines.append((pos, pos + len(line), len(line.split())))
            pos += len(line) + 1
        return Analysis(text, sentences, paragraphs, words, alpha, stops, known, lemmas, lines)

    def _opens_with_narrative(self, sent) -> bool:
        lem = []
        for tok in sent:
            if tok.is_space or (tok.is_punct and not lem):
                continue
            lem.append(tok.lemma_)
            if len(lem) >= self._max_opener:
                break
        return any(tuple(lem[: len(o)]) == o for o in self._opener_lemmas)


_ENGLISH: dict[int, frozenset[str]] = {}
ENGLISH_WORDS_FILE = "english_words.txt"


def english_word_list(nlp) -> list[str]:
    """English word forms known to the pipeline: every lemma of its lookup table plus the stop list.

    The table's keys are hashes of inflected forms, so its values (the lemmas) are what can be
    listed; a token counts as English when it or its lemma is among them. Listing them takes a
    couple of seconds, so build_pipeline saves the list beside the pipeline.
    """
    vals: set[str] = set(nlp.Defaults.stop_words)
    for _name, pipe in nlp.pipeline:
        lookups = getattr(pipe, "lookups", None)
        if lookups is not None and lookups.has_table("lemma_lookup"):
            vals.update(v for v in lookups.get_table("lemma_lookup").values() if isinstance(v, str))
    return sorted(vals)


def _english_words(nlp) -> frozenset[str]:
    words = _ENGLISH.get(id(nlp))
    if words is None:
        from .nlp import PIPELINE_DIR

        saved = PIPELINE_DIR / ENGLISH_WORDS_FILE
        if getattr(nlp, "_path", None) == PIPELINE_DIR and saved.is_file():
            words = frozenset(saved.read_text(encoding="utf-8").split())
        else:
            words = frozenset(english_word_list(nlp))
        _ENGLISH[id(nlp)] = words
    return words
