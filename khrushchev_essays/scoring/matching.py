"""Phrases -> spans: the one matcher whose results drive both the score and the highlighting.

A `RubricMatcher` compiles every phrase of a rubric (factor phrases, development cues, event
names, marker words) into one spaCy PhraseMatcher on lemmas, once per rubric and pipeline.
`analyse(doc)` turns a processed essay into an `Analysis`: its paragraphs and sentences, each
sentence with what it contains. The criteria read only the Analysis, so nothing can be
highlighted that did not count, and nothing counts that cannot be highlighted.
"""

from __future__ import annotations

import re
import threading
from bisect import bisect_left
from dataclasses import dataclass, field
from functools import cached_property
from operator import attrgetter

from .nlp import ENGLISH_WORDS_FILE, PIPELINE_DIR, english_word_list
from .rubric import Rubric

# Characters replaced one-for-one before the NLP runs, so offsets stay those of the text as
# submitted: typographic apostrophes and quotes, odd hyphens and spaces.
_SAME_LENGTH = str.maketrans({
    "\u2019": "'", "\u2018": "'", "\u201b": "'", "\u02bc": "'",
    "\u201c": '"', "\u201d": '"',
    "\u2010": "-", "\u2011": "-",
    # Every space of Unicode's (no-break, thin, hair, en, em, figure, ideographic...) is a space.
    "\u00a0": " ", "\u1680": " ", **{chr(c): " " for c in range(0x2000, 0x200b)}, "\u202f": " ", "\u205f": " ",
    "\u3000": " ",
    # The Unicode line and paragraph separators: a line break to the pipeline. (Invisible
    # characters, a zero-width space or a soft hyphen, are taken out of the words they are in:
    # RubricMatcher._solid.)
    "\u2028": "\n", "\u2029": "\n",
    # A carriage return is a line break (old Mac files have no "\n" at all); in "\r\n" it is
    # the space before the "\n" (see normalise).
    "\r": "\n",
})
_LONE_CR = re.compile(r"\r\n")
_FOOTNOTE = re.compile(r"\[\d{1,3}\]")

MARKER_KINDS = ("causal", "evaluative", "counter", "conclusion", "judgement", "comparison", "people", "historians",
                "stance")
OWN_FOCUS = "own"  # the key of focus hits on the rubric's own question (other questions use their ids)
_YEAR = re.compile(r"^(1[89]\d\d)s?$")
_CLAUSE_BREAKS = {",", ";", ":", "-", "\u2013", "\u2014"}
_FIGURE_WORDS = {"million", "millions", "billion", "billions", "thousand", "thousands", "hundred", "percent", "per", "%"}
# A year range written as one token ("1953–64", "1959—1965"): its first year is a year.
_RANGE = re.compile(r"^(1[89]\d\d)[‐‑‒–—/-](?:\d\d|1[89]\d\d)$")
_ORDINAL = re.compile(r"^\d+(?:st|nd|rd|th)$", re.IGNORECASE)
_RANGE_DASHES = {"-", "‐", "‑", "‒", "–", "—", "/"}
# Words before a number that make it a reference, not a figure ("page 12", "p. 4", "paragraph 3").
_REFERENCE_WORDS = {"page", "pages", "p", "pp", "para", "paras", "paragraph", "paragraphs", "line", "lines",
                    "section", "chapter", "ch", "source", "fig", "figure", "footnote", "note", "question", "q"}
# Kinds of hit that are names: a number inside one ("Rule 25", "Sputnik 1", "the 7-year plan") is
# part of the name, not a figure.
_NAME_KINDS = frozenset({"factor", "event", "people", "historians"})


_NEEDS_NORMALISING = re.compile("[" + "".join(chr(c) for c in _SAME_LENGTH) + "]")
_ASCII_REPLACED = tuple(chr(c) for c in _SAME_LENGTH if c < 128)  # ("\r",)


def normalise(text: str) -> str:
    """The text the pipeline sees: same length as the original, so offsets carry over."""
    if "[" in text:  # footnote markers ("...in 1956.[3]") are blanked: they glue to the words
        text = _FOOTNOTE.sub(lambda m: " " * len(m.group()), text)
    # translate() walks every character; most essays need nothing, and a search is much cheaper.
    # Cheaper still for plain ASCII (str.isascii() reads a flag): of the characters replaced,
    # only "\r" is ASCII.
    if text.isascii() and not any(c in text for c in _ASCII_REPLACED):
        return text
    if not _NEEDS_NORMALISING.search(text):
        return text
    if "\r\n" in text:  # Windows line ends: the "\r" becomes a space, so one "\r\n" is one break
        text = _LONE_CR.sub(" \n", text)
    return text.translate(_SAME_LENGTH)


_ISE = re.compile(r"is(e|ed|es|ing|ation|ations|er|ers)\b")
_IZE = re.compile(r"iz(e|ed|es|ing|ation|ations|er|ers)\b")


def variants(phrase: str) -> set[str]:
    """Spelling variants of a phrase: hyphen, space and none alike; -isation and -ization alike."""
    p = " ".join(phrase.lower().split())
    out = {p}
    if "-" in p:
        out |= {p.replace("-", " "), p.replace("-", "")}
    for v in list(out):
        out.add(_ISE.sub(r"iz\1", v))
        out.add(_IZE.sub(r"is\1", v))
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


_TOK_START = attrgetter("tok_start")

# A factor labelled as one of a list ("Another significant factor was...", "A key reason is...",
# "One important cause"): the essay's plan, not a judgement of that factor's weight. Its words of
# evaluation and judgement are not read as such. ("The most significant factor", "the main
# reason", "the key factor" are: they say which weighs most; and so may "the second big factor",
# after "the more serious factor was...", which ranks.)
_LABEL_FRAME = re.compile(
    r"\b(?:another|a|an|one)\s+"
    r"(?:(?:very|more|other|further|also|really|particularly|especially)\s+)?"
    r"(?:significant|important|key|major|main|big|crucial|vital|serious|central)\s+"
    r"(?:factors?|reasons?|causes?|areas?|aspects?|points?|ways?|consequences?)\b", re.IGNORECASE)
_LABELLED_KINDS = frozenset({"evaluative", "judgement"})
# What may stand before a label at the start of its sentence.
_LABEL_LEAD = re.compile(r"[\W_]*(?:(?:firstly|secondly|thirdly|also|furthermore|moreover|finally|lastly|in addition|"
                         r"additionally|next|however|but|and|so)\b[\W_]*)?", re.IGNORECASE)


def _unlabelled(hits: list[Hit], frames: list[tuple[int, int]], text: str, start: int) -> list[Hit]:
    """A sentence's hits (it starts at `start`) without the evaluation and judgement inside a
    label that opens it (_LABEL_FRAME, after a "Secondly," or "Furthermore," at most), when the
    sentence gives no reason. "Another significant factor was agriculture" labels a paragraph;
    "This was a major reason why they backed the plot" and "...was an important factor because
    it made him enemies" weigh the factor they name, and keep them."""
    if any(h.kind == "causal" for h in hits):
        return hits
    opening = [(a, b) for a, b in frames if a >= start and _LABEL_LEAD.fullmatch(text, start, a)]
    if not opening:
        return hits
    return [h for h in hits if h.kind not in _LABELLED_KINDS
            or not any(a <= h.start and h.end <= b for a, b in opening)]


@dataclass(slots=True, frozen=True)
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
    # In a sentence with a year: the words of the rubric's event terms and cues (Event.terms),
    # as (token index, start, end, the rubric's words it reads as).
    terms: list[tuple[int, int, int, frozenset[str]]] = field(default_factory=list)
    # The criteria ask these of each sentence hundreds of times per essay, so each is worked out
    # once, on first asking; a sentence's hits are fixed once the essay has been analysed.
    _kinds: frozenset[str] | None = field(default=None, init=False, repr=False, compare=False)
    _factors: frozenset[str] | None = field(default=None, init=False, repr=False, compare=False)

    def kinds(self) -> frozenset[str]:
        if self._kinds is None:  # a cache, not a change: frozen otherwise
            object.__setattr__(self, "_kinds", frozenset(h.kind for h in self.hits))
        return self._kinds

    def factors(self) -> frozenset[str]:
        if self._factors is None:
            object.__setattr__(self, "_factors", frozenset(h.key for h in self.hits if h.kind == "factor")
                               if "factor" in self.kinds() else frozenset())
        return self._factors

    def has(self, kind: str) -> bool:
        return kind in self.kinds()


@dataclass(frozen=True)
class Analysis:
    """A processed essay: the text, its paragraphs and sentences, and every hit. Frozen: the later
    stages read it and record what they decide in their own results (claims.Argument.excluded)."""

    text: str
    sentences: list[Sentence]
    paragraphs: list[tuple[int, int]]  # char ranges
    words: int
    alpha_tokens: int
    stop_tokens: int
    known_tokens: int  # alphabetic tokens that are English words (in the lemma table or stop list)
    lemma_hashes: object  # numpy array: string-store hashes of the content lemmas, for TF-IDF
    lines: list[tuple[int, int, int]]  # (start, end, words) of non-empty lines
    breaks: frozenset[int] = frozenset()  # token indexes of clause punctuation (, ; : and dashes)
    # Per token: lemma hash, and whether it is a content word (for sentence-by-sentence overlap).
    token_lemmas: object = None
    token_content: object = None
    corrections: list[tuple[int, int, str]] = field(default_factory=list)  # (start, end, read as) misspellings
    # Whether the words stand in an order English allows: (articles and possessives, those of them
    # followed by a function word or punctuation, "the of", "his and"; sentences of four words or
    # more, those ending in a word no sentence ends in, "...reforms the."). Real prose, however
    # badly spelt, has few of either; words shuffled within their sentences have many.
    word_order: tuple[int, int, int, int] = (0, 0, 0, 0)

    def read(self, start: int, end: int) -> str:
        """The text from `start` to `end` as the engine reads it, for comparing words and phrases
        (never for spans: those are `text[start:end]`): each misspelt word as the word meant
        ("Inn conclusion" as "In conclusion"), odd spaces, quotes and hyphens as normalise() has
        them, invisible characters gone, and each run of whitespace one space."""
        text = self.text
        pieces, pos = [], start
        fixes = self._fixes
        k = bisect_left(fixes[0], start)
        while k < len(fixes[0]) and fixes[0][k] < end:
            a, b, meant = fixes[1][k]
            k += 1
            if a < pos or b > end:
                continue
            pieces.append(text[pos:a])
            pieces.append(meant[:1].upper() + meant[1:] if text[a:a + 1].isupper() else meant)
            pos = b
        pieces.append(text[pos:end])
        read = normalise("".join(pieces))
        if not read.isascii():  # (invisible characters are not ASCII)
            read = _INVISIBLE.sub("", read)
        return " ".join(read.split())

    def opening(self, s: Sentence, n: int) -> str:
        """The first n characters of a sentence as read (see `read`), from its first letter or
        digit (past quotes, brackets, bullets and emoji). Kept per sentence: the argument stage
        asks for each sentence's opening several times."""
        key = (s.start, s.end, n)
        head = self._openings.get(key)
        if head is None:
            head = self.read(s.start, min(s.end, s.start + 2 * n + 40))
            i = 0
            while i < len(head) and not head[i].isalnum():
                i += 1
            head = self._openings[key] = head[i:i + n]
        return head

    @cached_property
    def _openings(self) -> dict[tuple[int, int, int], str]:
        return {}

    @cached_property
    def _fixes(self) -> tuple[list[int], list[tuple[int, int, str]]]:
        ordered = sorted(self.corrections)
        return [c[0] for c in ordered], ordered

    @cached_property
    def real_sentences(self) -> list[Sentence]:
        """Sentences with enough words to carry an argument. What can earn *credit* is decided
        later, by the argument stage: `Argument.credited(analysis)`."""
        return [s for s in self.sentences if s.real]


def paragraph_ranges(text: str, submitted: str | None = None) -> list[tuple[int, int]]:
    """Paragraph char ranges: split on blank lines, or on single newlines if there are none,
    unless the lines are single sentences (a sentence to a line is not a paragraph to a line).
    `submitted`: the text before normalise(), whose Unicode paragraph separators (a line break
    to the pipeline) end paragraphs as blank lines do."""
    if submitted is not None and "\u2029" in submitted and len(submitted) == len(text) \
            and not re.search(r"\n[ \t\r]*\n", text) and not _sentence_per_line(text):
        marked = "".join("\u2029" if c == "\u2029" else t for c, t in zip(submitted, text))
        if not _lines_end_paragraphs(marked):
            text = marked
    if re.search(r"\n[ \t\r]*\n|\u2029", text):
        sep = re.compile(r"(?:\n[ \t\r]*\n|\u2029)\s*")
    elif _sentence_per_line(text):
        return [_trim(text, 0, len(text))] if text.strip() else [(0, len(text))]
    else:
        sep = re.compile(r"\n\s*")
    out, pos = [], 0
    for m in sep.finditer(text):
        if text[pos:m.start()].strip():
            out.append(_trim(text, pos, m.start()))
        pos = m.end()
    if text[pos:].strip():
        out.append(_trim(text, pos, len(text)))
    return out or [(0, len(text))]


def _lines_end_paragraphs(marked: str) -> bool:
    """Whether single line breaks between the paragraph separators (U+2029) end paragraphs too:
    in some stretch, two lines or more before a break and most of them (60%), lines of prose
    finished with a full stop. Between separators, headings and bullet points are short, and
    hand-wrapped lines end mid-sentence (a few at a full stop, by chance)."""
    for unit in marked.split("\u2029"):
        lines = [ln.strip() for ln in unit.split("\n") if ln.strip()][:-1]
        ended = sum(1 for ln in lines if len(ln.split()) >= 8 and ln[-1] in ".!?\"'\u201d\u2019")
        if ended >= 2 and ended >= 0.6 * len(lines):
            return True
    return False


def _sentence_per_line(text: str) -> bool:
    """Eight lines or more, most of them one sentence each (ending in a full stop, under 40 words)."""
    lines = [ln.strip() for ln in text.split("\n") if ln.strip()]
    if len(lines) < 8:
        return False
    one = sum(1 for ln in lines if ln[-1] in ".!?\"'\u201d\u2019" and 5 <= len(ln.split()) < 40
              and len(re.findall(r"[.!?](?:\s|$)", ln)) <= 1)
    return one >= 0.7 * len(lines)


def _trim(text: str, a: int, b: int) -> tuple[int, int]:
    while a < b and text[a].isspace():
        a += 1
    while b > a and text[b - 1].isspace():
        b -= 1
    return a, b


def _short_line(text: str) -> float:
    """How short a line must be to be a heading or a list item rather than prose: under 60
    characters, or, in prose wrapped by hand at a narrower width (most lines close to the longest),
    well under that width."""
    lines = [ln.strip() for ln in text.split("\n") if ln.strip()]
    if len(lines) < 6:
        return 60
    lengths = sorted(len(ln) for ln in lines)
    width = lengths[int(0.9 * (len(lengths) - 1))]
    # Wrapped prose: a width of 35 or more, most lines near it, and most lines running on to the
    # next (no full stop) and of several words; a list of short items is not.
    running = sum(1 for ln in lines if ln[-1] not in ".!?;:" and len(ln.split()) >= 5 and not _BULLET.match(ln))
    if 35 <= width <= 100 and sum(n >= 0.75 * width for n in lengths) >= 0.5 * len(lengths) \
            and running >= 0.5 * len(lines):
        return min(60, 0.6 * width)
    return 60


_BULLET = re.compile(r"\s*(?:[-*\u2022\u2013\u2014>]|\d{1,2}[.)]|[a-z][.)])\s")


def is_bullet(line: str) -> bool:
    """Whether a line is a bullet point or a numbered item ("- ...", "* ...", "1. ...", "a) ...")."""
    return _BULLET.match(line) is not None or line.lstrip()[:1] in "-*\u2022"


# Characters that take no room: inside a word they are taken out before phrases are matched.
_INVISIBLE_CHARS = "\u00ad\u200b\u200c\u200d\u2060\ufeff"
_INVISIBLE = re.compile(f"[{_INVISIBLE_CHARS}]")
# Emoji and other pictographs (with their modifiers, joiners and variation selectors).
_PICTURES = re.compile("[\u2190-\u2bff\U0001F000-\U0001FAFF]")


def _is_picture(tok: str) -> bool:
    """A token made only of pictographs, their modifiers and joiners (no letter, digit or punctuation)."""
    import unicodedata

    return bool(tok) and all(unicodedata.category(ch) in ("So", "Sk", "Cf", "Mn", "Me") for ch in tok) \
        and _PICTURES.search(tok) is not None


# A line break inside a paragraph: after a character that is not one, and before some text.
# (Searched for from the line break, a literal; r"[^\n]\n[ \t\r]*[^\n \t\r]" is tried at every
# character of the text, six times the cost: see _single_newline.)
_SINGLE_NEWLINE = re.compile(r"\n[ \t\r]*[^\n \t\r]")


def _single_newline(text: str) -> bool:
    """Whether some line break follows a character that is not a line break and comes before text."""
    for m in _SINGLE_NEWLINE.finditer(text):
        if m.start() and text[m.start() - 1] != "\n":
            return True
    return False
# A line break and the blank space after it. (The spaces and tabs before it belong to the break
# too: _line_breaks takes them in by hand. A pattern that opens with them, r"[ \t]*\n[ \t\n]*",
# finds the same breaks, but is tried at every character of the text: ten times the cost.)
_NEWLINES = re.compile(r"\n[ \t\n]*")


def _line_breaks(text: str, idx_l: list[int], len_l: list[int]) -> list[int]:
    """Token indexes that should start a sentence because a line break ends a paragraph or a list item.

    The sentencizer splits on punctuation only, so "- Virgin Lands scheme" on one line and
    "- sovnarkhozy" on the next would merge into one long "sentence" and pass as prose. A line
    break starts a new sentence when the next line is a bullet or numbered item, or when the
    line before it is short and unpunctuated (a heading or a list item). Prose wrapped by hand,
    whose lines run to the width it was wrapped at, is left alone. Read from the text, so that it
    does not matter whether the line breaks are tokens of the doc (see RubricMatcher._solid).
    """
    import bisect

    out = []
    short = _short_line(text)
    n = len(idx_l)
    for m in _NEWLINES.finditer(text):
        j = bisect.bisect_left(idx_l, m.end())  # the first token after the break
        at = m.start()
        while at and text[at - 1] in " \t":  # the spaces and tabs that end the line are the break's
            at -= 1
        if j >= n or at == 0:
            continue
        if m.group().count("\n") >= 2:  # a blank line ends a paragraph, and so its last sentence
            out.append(j)
            continue
        line_start = text.rfind("\n", 0, at) + 1
        prev = text[line_start:at].strip()
        nxt_end = text.find("\n", idx_l[j])
        nxt = text[idx_l[j]: nxt_end if nxt_end >= 0 else len(text)]
        short_unpunctuated = prev and len(prev) < short and prev[-1] not in ".!?;,"
        if _BULLET.match(text[line_start:at]) or _BULLET.match(nxt) or nxt.lstrip()[:1] in "-*\u2022" \
                or short_unpunctuated:
            out.append(j)
    return out


_ELLIPSES = frozenset({"...", "\u2026", "....", "\u2026."})


def _after_ellipsis(text: str, idx_l: list[int], len_l: list[int], is_space) -> list[int]:
    """Token indexes that start a sentence after an ellipsis ("...", "\u2026"), which the
    sentencizer does not count as an end: the next word, when it opens with a capital letter
    ("He was removed in 1964... His colleagues"). "the reforms... were chaotic" stays one."""
    out: list[int] = []
    if "..." not in text and "\u2026" not in text:
        return out
    n = len(idx_l)
    for i in range(n - 1):
        if len_l[i] > 4 or text[idx_l[i]:idx_l[i] + len_l[i]] not in _ELLIPSES:
            continue
        j = i + 1
        while j < n and is_space[j]:
            j += 1
        if j < n and text[idx_l[j]:idx_l[j] + 1].isupper():
            out.append(j)
    return out


# Lemmas for the word-order figures (Analysis.word_order). Only words that must be followed by
# their noun: "this", "that", "her" and "each" also stand alone ("this was", "gave her a").
_DETERMINERS = ("the", "a", "an", "his", "its", "their", "our", "my", "every")
# Words that cannot follow an article or a possessive.
_NOT_AFTER_DETERMINER = ("the", "a", "an", "of", "to", "in", "on", "at", "by", "for", "with", "from", "and", "or",
                         "but", "be", "have", "which", "who", "it", "he", "they", "she", "we", "as", "than", "so",
                         "because")
# Words no sentence ends in ("carried on", "brought in", "because of this" do end sentences).
_NEVER_LAST = ("the", "a", "an", "of", "and", "or", "but", "his", "their", "its", "our", "my", "than", "because")


def _made_from(doc, text: str) -> bool:
    """Whether `text` is (as far as its length and ends tell) the text the doc was made from."""
    if not len(doc):
        return text == ""
    last = doc[len(doc) - 1]
    return last.idx + len(last.text_with_ws) == len(text) and text.startswith(doc[0].text, doc[0].idx)


class RubricMatcher:
    """Every phrase of one rubric, compiled for one pipeline."""

    def __init__(self, rubric: Rubric, nlp, lexemes: LexemeTable | None = None,
                 rubrics: dict[str, Rubric] | None = None):
        """`lexemes`: the pipeline's LexemeTable (shared by every rubric of an Engine; a new one
        when not given); `rubrics`: the rubrics an other question may borrow focus terms from."""
        import numpy as np
        from spacy.matcher import PhraseMatcher

        self.rubric = rubric
        self.nlp = nlp
        self.lexemes = lexemes if lexemes is not None else LexemeTable(nlp)
        self.matcher = PhraseMatcher(nlp.vocab, attr="LEMMA")
        strings = nlp.vocab.strings
        self._word_order_sets = tuple(np.array(sorted({strings.add(w) for w in words}), dtype=np.uint64)
                                      for words in (_DETERMINERS, _NOT_AFTER_DETERMINER, _NEVER_LAST))
        self._labels: dict[int, tuple[str, str]] = {}
        groups: dict[tuple[str, str], set[str]] = {}
        for f in rubric.factors:
            groups.setdefault(("factor", f.id), set()).update(*(variants(p) for p in f.phrases))
            groups.setdefault(("dev", f.id), set()).update(*(variants(p) for p in f.development))
        for i, ev in enumerate(rubric.events):
            groups.setdefault(("event", str(i)), set()).update(*(variants(p) for p in ev.phrases))
        for kind in MARKER_KINDS:
            groups.setdefault((kind, kind), set()).update(*(variants(p) for p in getattr(rubric.markers, kind)))
        for key, terms in focus_terms(rubric, rubrics).items():
            groups.setdefault(("focus", key), set()).update(*(variants(p) for p in terms))
        if rubric.focus is not None and rubric.focus.outcome:
            groups[("outcome", OWN_FOCUS)] = set().union(*(variants(p) for p in rubric.focus.outcome))
        # The key words of the events' terms and cues (Event.terms), by lemma.
        term_words = sorted({w for ev in rubric.events for t in (*ev.terms, *ev.cues)
                             for slot in t.split() for w in slot.split("|")})
        words_of: dict[int, set[str]] = {}
        for w, d in zip(term_words, nlp.pipe(term_words)):
            if len(d) == 1:
                words_of.setdefault(d[0].lemma, set()).add(w)
        self._term_words = {k: frozenset(v) for k, v in words_of.items()}
        self._term_hashes = np.array(sorted(self._term_words), dtype=np.uint64)
        phrase_docs: dict[str, object] = {}  # each phrase processed once, for the matcher and the speller
        for (kind, key), phrases in groups.items():
            if not phrases:
                continue
            label = f"{kind}:{key}"
            todo = sorted(p for p in phrases if p not in phrase_docs)
            phrase_docs.update(zip(todo, nlp.pipe(todo)))
            docs = [phrase_docs[p] for p in sorted(phrases)]
            self.matcher.add(label, docs)
            self._labels[nlp.vocab.strings[label]] = (kind, key)
        # Lemmas of the opening words of narrative openers ("then", "after this", "in 1957").
        self._opener_lemmas = {
            tuple(t.lemma for t in d if not t.is_punct)
            for d in nlp.pipe(sorted({v for p in rubric.markers.narrative_openers for v in variants(p)}))
        }
        self._max_opener = max((len(o) for o in self._opener_lemmas), default=0)
        # Names are evidence and must be spelt recognisably: "Lewis" is not the historian Lewin.
        self.speller = Speller(nlp, [p for (kind, _k), ps in groups.items() if kind not in ("people", "historians")
                                     for p in ps] + term_words, self.lexemes.english, phrase_docs)
        self._gapped, self._gap_positions, self._phrase_words = _gapped_phrases(
            [d for (kind, _k), ps in groups.items() if kind not in ("people", "historians") for d in
             (phrase_docs[p] for p in ps)])
        self._near_gap: dict[int, tuple[str, ...]] = {}
        self._near_gap_arrays = self._gap_forms()
        self._openers_by_first: dict[int, list[tuple[int, ...]]] = {}
        for o in self._opener_lemmas:
            if o:
                self._openers_by_first.setdefault(o[0], []).append(o)

    # ------------------------------------------------------------------------------------------
    def _near_gap_words(self, lower: int, strings) -> tuple[str, ...]:
        """The short phrase words one edit from a word form (its lower-case form's hash `lower`),
        with the same first letter; none for a stop word that is a phrase word itself ("of",
        "to", "the": those are read as written). Kept per word form."""
        near = self._near_gap.get(lower)
        if near is None:
            from rapidfuzz import process
            from rapidfuzz.distance import OSA

            low = strings[lower]
            if low in self._phrase_words and low in self.nlp.Defaults.stop_words:
                near = ()
            else:
                near = tuple(w for w, _d, _i in process.extract(low, self._gap_words, scorer=OSA.distance,
                                                                score_cutoff=1, limit=None)
                             if w != low and w[0] == low[0])
            if len(self._near_gap) > 100_000:
                self._near_gap.clear()
                self._near_gap_arrays = self._gap_forms()
            self._near_gap[lower] = near
        return near

    def _gap_forms(self):
        """The word forms _near_gap holds, and those of them with near phrase words, as sorted
        uint64 arrays (for _in_phrase), read from it afresh."""
        import numpy as np

        known = dict(self._near_gap)  # (a copy: another thread may be adding to it)
        return (np.array(sorted(known), dtype=np.uint64),
                np.array(sorted(h for h, near in known.items() if near), dtype=np.uint64))

    @cached_property
    def _gap_words(self) -> list[str]:
        return sorted({g for g, _side, _lemma in self._gap_positions})

    def _in_phrase(self, doc, lemma_h, is_alpha, is_stop, length_a, idx: list[int], length: list[int],
                   fixed: list[tuple[int, str]], lower=None) -> list[tuple[int, int, str]]:
        """Words one edit from a short word of a rubric phrase, read as that word where the rest
        of the phrase stands round them as written: "Inn conclusion", "too a large extent",
        "oon balance". Short words are one edit from other real words ("inn", "too", "off"), which
        the speller leaves alone; here the phrase decides. The phrase must have a word of four
        letters or more besides, and when the slip is itself a stop word ("too") two words
        besides; a stop word that is a word of the phrases is never read as another ("is a
        result" stays as written, "one balance" too). Returns (start, end, word meant) of each
        word read so, and adds (index, word meant) to `fixed`. `lower`: the tokens' lower-case
        forms' hashes (read from the doc when not given)."""
        import numpy as np

        if not self._gapped:
            return []
        out = []
        n = len(doc)
        strings = doc.vocab.strings
        done = {i for i, _m in fixed}
        lemmas = None
        from spacy.attrs import LOWER

        # Each word form's near phrase words are kept by its hash: no Token is made for a word
        # that is one edit from none (almost all of them).
        if not n:
            return []
        if lower is None:
            lower = doc.to_array(LOWER).astype(np.uint64)
        looked = is_alpha & (length_a <= 7)
        # The word forms already looked at, and those of them one edit from some phrase word, as
        # sorted arrays: only an essay's new forms are looked up one by one.
        # (What a form is near is the same whenever it is worked out, so a snapshot of the arrays
        # answers for every form it has seen, whatever other threads add or clear meanwhile.)
        seen, with_near = self._near_gap_arrays
        forms = np.unique(lower[looked])
        if not member(forms, seen).all():
            known = self._near_gap
            near_of = {}
            for h in forms.tolist():
                near = known.get(h)
                near_of[h] = near if near is not None else self._near_gap_words(h, strings)
            with_near = np.array(sorted(h for h, near in near_of.items() if near), dtype=np.uint64)
            self._near_gap_arrays = self._gap_forms()
        if not len(with_near):
            return []
        known = self._near_gap
        stop_l = is_stop.tolist()
        cands = np.flatnonzero(looked & member(lower, with_near))
        # A word is read so only where a phrase word one edit from it stands in some phrase before
        # the next token's lemma or after the previous one's: the rest are passed over at once
        # (their places looked up one by one cost most of this stage). A word just read so has a
        # new lemma, so the word after it is looked at whatever its neighbour was.
        after_ok, before_ok = self._gap_neighbours
        gate = np.zeros(len(cands), dtype=bool)
        inner = cands + 1 < n
        gate[inner] = member(lemma_h[cands[inner] + 1], after_ok)
        inner = cands > 0
        gate[inner] |= member(lemma_h[cands[inner] - 1], before_ok)
        changed: set[int] = set()
        cand_l = cands.tolist()
        lower_l = lower[cands].tolist()  # (each candidate's form as a Python int, read once)
        for c, low, ok in zip(cand_l, lower_l, gate.tolist()):
            if (not ok and c - 1 not in changed) or c in done:
                continue
            near = known.get(low)
            if near is None:
                near = self._near_gap_words(low, strings)
            if lemmas is None:
                lemmas = lemma_h.tolist()
            after = lemmas[c + 1] if c + 1 < n else None
            before = lemmas[c - 1] if c else None
            places = self._gap_positions
            for g in near:
                for size, k in (*places.get((g, 1, after), ()), *places.get((g, -1, before), ())):
                    a = c - k
                    if a < 0 or a + size > n or (stop_l[c] and size < 3):
                        continue
                    key = (size, k, tuple(lemmas[j] for j in range(a, a + size) if j != c))
                    lemma = self._gapped.get(key, {}).get(g)
                    if lemma is not None and strings[lemma] != lemmas[c]:  # ("Lands" is "land" already)
                        break
                else:
                    continue
                doc[c].lemma_ = lemma  # (a Token is made only for a word read so)
                lemma_h[c] = lemmas[c] = strings[lemma]
                fixed.append((c, g))
                changed.add(c)
                out.append((idx[c], idx[c] + length[c], g))
                break
        return out

    @cached_property
    def _gap_neighbours(self):
        """The lemma hashes that stand after a phrase's short word, and those before one (the
        last of its phrase), as sorted arrays: where _in_phrase can read a slip at all."""
        import numpy as np

        def side(k: int):
            return np.array(sorted({lemma for _g, s, lemma in self._gap_positions if s == k}), dtype=np.uint64)

        return side(1), side(-1)

    def hits(self, doc, idx: list[int], length: list[int]) -> list[Hit]:
        """Phrase hits; within a kind, the longest of overlapping hits wins ("secret speech" over
        "speech"), and a factor phrase is credited to one factor only."""
        labels = self._labels
        # Sorted by kind, then longest first, start and key: the order in which hits are preferred.
        raw = sorted([(labels[m][0], s - e, s, e, labels[m][1]) for m, s, e in self.matcher(doc)])
        out: list[Hit] = []
        kind_now = None
        for kind, neg, s, e, key in raw:
            if kind != kind_now:  # the first match of a kind: no token of that kind taken yet
                kind_now, used = kind, set()
            if neg == -1:
                if s in used:
                    continue
                used.add(s)
            else:
                span = range(s, e)
                if not used.isdisjoint(span):
                    continue
                used.update(span)
            out.append(Hit(kind, key, idx[s], idx[e - 1] + length[e - 1], s, e))
        out.sort(key=_TOK_START)
        return out

    def analyse(self, doc, text: str) -> Analysis:
        """Sentences, paragraphs, hits, years and figures of one processed essay.

        Token attributes are read as arrays in one call (doc.to_array) and counted with numpy:
        making a Token object per word would cost more than the whole lemmatizer. Only what varies
        by token is read from the doc (position, word form, lemma, sentence start); what belongs
        to the word form comes from the LexemeTable.
        """
        import numpy as np
        from spacy.attrs import IDX, LEMMA, ORTH, SENT_START

        # Line breaks as the pipeline saw them (a lone "\r" or a Unicode separator is a "\n"),
        # in a string the length of the text, so every offset is the text's own.
        shape = normalise(text)
        paragraphs = paragraph_ranges(shape, text)
        starts = [p[0] for p in paragraphs]
        doc, at, widths = self._solid(doc, shape)
        n = len(doc)
        arr = doc.to_array([IDX, ORTH, LEMMA, SENT_START])
        if n == 0:
            arr = np.zeros((0, 4), dtype="uint64")
        idx, lemma_h = (arr[:, 0].astype(np.int64) if at is None else at), arr[:, 2]
        lex = self.lexemes.rows(arr[:, 1])
        length = lex[:, _LEN] if widths is None else widths
        is_alpha, is_stop, is_punct, is_space, like_num, lower_known, is_break = (
            lex[:, k].astype(bool) for k in (_ALPHA, _STOP, _PUNCT, _SPACE, _NUM, _LOWER_KNOWN, _BREAK))
        lower = lex[:, _LOWER].astype(np.uint64)  # each token's lower-case form (doc.to_array(LOWER), by word form)
        word = ~(is_punct | is_space)
        stop = is_alpha & is_stop
        content = is_alpha & ~is_stop
        # A content word is English when its lower-case form or its lemma is in the word list. The
        # form's answer is kept per word form; the lemma is looked up only for the few forms that
        # are not themselves listed.
        unlisted = content & ~lower_known
        known_tokens = int(stop.sum()) + int((content & lower_known).sum()) \
            + int(member(lemma_h[unlisted], self.lexemes.english).sum())

        # Misspelt words ("Kruschev", "destalinsation", "tthe", "whiich") are read as the word
        # they are nearest to, before any phrase is matched, so they count like the word the
        # student meant. (Only the few unlisted words are looked up in the speller's list: a
        # search per token of the essay cost more than the spelling itself.)
        candidates = np.flatnonzero(unlisted & (length >= 2))
        fixed: list[tuple[int, str]] = []
        corrections = self.speller.correct(
            doc, candidates[~member(lemma_h[candidates], self.speller.english)], lemma_h,
            None if at is None else at.tolist(), None if widths is None else widths.tolist(), fixed, lower)
        idx_l, len_l = idx.tolist(), length.tolist()
        # A slip in a short phrase word ("Inn conclusion", "too a large extent") is read as meant
        # when the rest of the phrase stands as written round it.
        corrections += self._in_phrase(doc, lemma_h, is_alpha, is_stop, length, idx_l, len_l, fixed, lower)
        if fixed:  # a slip for a stop word ("thhe", "whiich") is a stop word as the sentence is read
            stop_words = self.nlp.Defaults.stop_words
            for i, meant in fixed:
                if meant in stop_words:
                    stop[i], content[i] = True, False
        topic_mask = content & (length > 2)
        hits = self.hits(doc, idx_l, len_l)
        sent_start = arr[:, 3].astype(np.int64) == 1
        if n:
            sent_start[0] = True
        for i in _line_breaks(shape, idx_l, len_l):
            sent_start[i] = True
        for i in _after_ellipsis(text, idx_l, len_l, is_space):
            sent_start[i] = True

        # Numbers (years and figures) and clause punctuation are rare: visit only those tokens.
        years_at: dict[int, list[tuple[int, int, int, int]]] = {}
        figures_at: dict[int, list[tuple[int, int]]] = {}
        sent_of = np.cumsum(sent_start) - 1 if n else np.zeros(0, dtype=np.int64)
        named: set[int] | None = None  # tokens inside a name (a phrase hit), worked out when first needed
        dashed = np.flatnonzero(~like_num & ~is_alpha & (length >= 7) & (length <= 9)).tolist() \
            if "1" in text else []
        for i in sorted(np.flatnonzero(like_num).tolist() + dashed):
            tok = text[idx_l[i]:idx_l[i] + len_l[i]]
            if is_alpha[i] and not (tok.lower() in _FIGURE_WORDS and self._counted(text, i, idx_l, len_l, figures_at)):
                continue  # "first", "ten", "two hundred": words of numbers, figures only after a digit or "a"
            m = _YEAR.match(tok) or _RANGE.match(tok)
            si = int(sent_of[i])
            if m and 1890 <= int(m.group(1)) <= 1975:
                years_at.setdefault(si, []).append((int(m.group(1)), idx_l[i], idx_l[i] + len(m.group(1)), i))
            elif like_num[i] and (any(ch.isdigit() for ch in tok) or tok.lower() in _FIGURE_WORDS):
                if named is None:
                    named = {k for h in hits if h.kind in _NAME_KINDS for k in range(h.tok_start, h.tok_end)}
                if not self._figure(text, i, tok, idx_l, len_l, named):
                    continue
                spans = figures_at.setdefault(si, [])
                if spans and not text[spans[-1][1]:idx_l[i]].strip() and i and idx_l[i - 1] < idx_l[i]:
                    # "35 million", "1.2 million": one figure, however many words it is written in
                    spans[-1] = (spans[-1][0], idx_l[i] + len_l[i])
                else:
                    spans.append((idx_l[i], idx_l[i] + len_l[i]))
        # (The text as submitted has the last word: the pipeline saw "\u2011" as "-".)
        breaks = frozenset(i for i in np.flatnonzero(is_break).tolist()
                           if text[idx_l[i]:idx_l[i] + len_l[i]] in _CLAUSE_BREAKS)

        # The events' key words, in the sentences that have a year (findings._term_dates).
        terms_at: dict[int, list[tuple[int, int, int, frozenset[str]]]] = {}
        if years_at and len(self._term_hashes):
            words_of = self._term_words
            for i in np.flatnonzero(member(lemma_h, self._term_hashes)).tolist():
                si = int(sent_of[i])
                if si in years_at:
                    terms_at.setdefault(si, []).append((i, idx_l[i], idx_l[i] + len_l[i], words_of[int(lemma_h[i])]))

        # Per-sentence figures, all at once. Sentence si covers tokens [first[si], stop[si]).
        first = np.flatnonzero(sent_start)
        stop_at = np.append(first[1:], n)
        w_cum = np.concatenate(([0], np.cumsum(word)))
        s_cum = np.concatenate(([0], np.cumsum(stop)))
        s_words = w_cum[stop_at] - w_cum[first]
        s_stops = s_cum[stop_at] - s_cum[first]
        real = (s_words >= 5) & (s_stops >= 1) & (s_stops / np.maximum(1, s_words) >= 0.12)
        # A sentence ends at its last token that is not whitespace (or at its first token), and
        # starts at its first token that is not whitespace (or, if it has none, where it ends).
        # Whitespace tokens are exactly the is_space ones: the tokenizer never puts whitespace in
        # any other token.
        pos = np.arange(n)
        last_solid = np.maximum.accumulate(np.where(is_space, -1, pos)) if n else pos
        next_solid = np.minimum.accumulate(np.where(is_space, n, pos)[::-1])[::-1] if n else pos
        last = np.maximum(first, last_solid[stop_at - 1]) if n else first
        s_end = idx[last] + length[last]
        head = next_solid[first]
        s_start = np.where(head < stop_at, idx[np.minimum(head, max(n - 1, 0))], s_end)
        para = np.maximum(0, np.searchsorted(np.array(starts), s_start, side="right") - 1)
        # Hits are in token order: cut the list where each sentence starts.
        cut = np.searchsorted(np.array([h.tok_start for h in hits], dtype=np.int64), first).tolist() + [len(hits)]
        # Only a sentence whose first word is the first word of some opener can open with one.
        next_word = np.minimum.accumulate(np.where(word, pos, n)[::-1])[::-1] if n else pos
        head_word = next_word[first].tolist()
        word_l = lemma_l = None
        openers = self._openers_by_first
        reach = 2 * self._max_opener

        frames = [m.span() for m in _LABEL_FRAME.finditer(shape)]
        sentences: list[Sentence] = []
        for si, (a, b, start, end, p, w, r, hw) in enumerate(zip(
                first.tolist(), stop_at.tolist(), s_start.tolist(), s_end.tolist(), para.tolist(),
                s_words.tolist(), real.tolist(), head_word)):
            narrative = False
            if hw < min(b, a + reach) and int(lemma_h[hw]) in openers:
                if word_l is None:
                    word_l, lemma_l = word.tolist(), lemma_h.tolist()
                narrative = self._opens_with_narrative(a, b, word_l, lemma_l)
            own = hits[cut[si]:cut[si + 1]]
            if frames and any(start <= fa < end for fa, _fb in frames):
                own = _unlabelled(own, frames, shape, start)
            sentences.append(Sentence(si, start, end, a, b, p, w, r, own,
                                      years_at.get(si, []), figures_at.get(si, []), narrative,
                                      terms_at.get(si, [])))
        # Sentences that end in a full stop (or ! ?): a line break ending a sentence early ("the
        # Virgin Lands were ploughed by the / young volunteers" hard-wrapped) is not its end.
        closed = np.array([text[i:i + ln] in (".", "!", "?") for i, ln in zip(idx[last].tolist(), length[last].tolist())],
                          dtype=bool) if n else np.zeros(0, dtype=bool)
        word_order = self._word_order(lemma_h, is_punct, is_space, word, last, closed, s_words)
        lines = []
        pos = 0
        for line in shape.split("\n"):
            if line.strip():
                lines.append((pos, pos + len(line), len(line.split())))
            pos += len(line) + 1
        return Analysis(
            text, sentences, paragraphs, words=int(word.sum()), alpha_tokens=int(is_alpha.sum()),
            stop_tokens=int(stop.sum()), known_tokens=known_tokens,
            lemma_hashes=lemma_h[topic_mask], lines=lines, breaks=breaks,
            token_lemmas=lemma_h, token_content=content, corrections=corrections, word_order=word_order,
        )

    @staticmethod
    def _counted(text: str, i: int, idx: list[int], length: list[int], figures_at) -> bool:
        """Whether a number word ("million", "thousand") is part of a figure: it follows a number
        in digits ("35 million", "1.2 million") or "a" ("over a million", "half a million")."""
        before = text[max(0, idx[i] - 12):idx[i]].rstrip()
        return bool(before) and (before[-1].isdigit() or re.search(r"\ba$", before, re.IGNORECASE) is not None)

    @staticmethod
    def _figure(text: str, i: int, tok: str, idx: list[int], length: list[int], named: set[int]) -> bool:
        """Whether the number at token i is a figure: not an ordinal ("22nd", "20th Congress"), not
        part of a name ("Rule 25"), not the second half of a range of years ("1953-64", "1959/60"),
        not a reference ("page 12", "para. 3") and not the number of a list item ("1." opening a line)."""
        if _ORDINAL.match(tok) or i in named:
            return False

        def word(k: int) -> str:
            return text[idx[k]:idx[k] + length[k]] if 0 <= k < len(idx) else ""

        back = [k for k in range(i - 1, max(-1, i - 4), -1) if word(k).strip()]  # the words before, nearest first
        if back and word(back[0]) in _RANGE_DASHES and len(back) > 1:
            m = _YEAR.match(word(back[1]))
            if m and tok.isdigit() and len(tok) in (2, 4):
                return False
        if back:
            k = back[1] if word(back[0]) == "." and len(back) > 1 else back[0]
            if word(k).lower().rstrip(".") in _REFERENCE_WORDS:
                return False
        line = text.rfind("\n", 0, idx[i]) + 1
        if tok.isdigit() and len(tok) <= 2 and not text[line:idx[i]].strip(" \t-*\u2022(") \
                and text[idx[i] + len(tok):idx[i] + len(tok) + 1] in (".", ")"):
            return False
        return True

    def _word_order(self, lemma_h, is_punct, is_space, word, last, closed, s_words) -> tuple[int, int, int, int]:
        """Analysis.word_order, counted over the tokens that are not whitespace. `last` is each
        sentence's last token that is not whitespace, `closed` whether that is a full stop, ! or ?."""
        import numpy as np

        det_set, not_after, never_last = self._word_order_sets
        solid = np.flatnonzero(~is_space)
        if len(solid) < 2:
            return (0, 0, 0, 0)
        lem = lemma_h[solid].astype(np.uint64)
        det = member(lem[:-1], det_set)
        follows = is_punct[solid[1:]] | member(lem[1:], not_after)
        # The word before the full stop of each closed sentence of four words or more.
        pos = np.arange(len(word))
        last_word = np.maximum.accumulate(np.where(word, pos, -1)) if len(word) else pos
        judged = (s_words >= 4) & closed
        ends = last_word[last[judged]]
        ends = ends[ends >= 0]
        ending_badly = int(member(lemma_h[ends].astype(np.uint64), never_last).sum())
        return (int(det.sum()), int((det & follows).sum()), int(judged.sum()), ending_badly)

    def _solid(self, doc, shape: str | None = None):
        """The doc without whitespace tokens inside a line, and where its tokens stand in the text
        (None when it has none, as almost every essay). `shape`: the text the doc was made from,
        if known (doc.text builds it again from a Python Token per word, which costs more than
        the rest of this when there is nothing to drop).

        The tokenizer gives a second space, a tab, a zero-width space or a line break between two
        words a token of its own, so "Virgin  Lands" (or "Virgin" at the end of a line and "Lands"
        at the start of the next) is three tokens and no two-word phrase matches across it. Here
        such tokens are dropped, the pipeline is run again on the words left (each keeping its
        offset in the text), and only blank lines stay (line breaks are read from the text). Worked out once per doc (kept in
        its user_data for the other rubrics)."""
        import numpy as np

        cached = doc.user_data.get("solid")
        if cached is not None:
            return cached
        if shape is None or not _made_from(doc, shape):
            shape = doc.text
        text = shape
        # (Invisible characters and pictographs are not ASCII: an ASCII text has neither.)
        ascii_only = text.isascii()
        hidden = not ascii_only and _INVISIBLE.search(text) is not None
        pictures = not ascii_only and _PICTURES.search(text) is not None
        if "  " not in text and "\t" not in text and not hidden and not pictures and not _single_newline(text):
            return doc, None, None
        if not hidden and not pictures:
            out = self._solid_plain(doc, text)
        else:
            out = self._solid_general(doc, hidden, pictures)
        if out[1] is not None:
            doc.user_data["solid"] = out
        return out

    def _solid_plain(self, doc, text: str):
        """_solid_general for a text with no invisible character and no pictograph (a hand-wrapped
        essay, doubled spaces, tabs): only whitespace tokens inside a paragraph go, and every word
        keeps its text, so the doc's columns say all that is needed and no Token is made for the
        words (a Python object per word cost more than running the pipeline again)."""
        import numpy as np
        from spacy.attrs import IDX, IS_SPACE, ORTH, SPACY
        from spacy.tokens import Doc

        orth = doc.to_array(ORTH)
        arr = doc.to_array([IS_SPACE, IDX, SPACY]).astype(np.int64)
        n = len(doc)
        # Each token's text, cut from the text the doc was made from: a token runs from its offset
        # to the next one's, less the one space after it (doc.text is the tokens' text_with_ws
        # joined). Asking the string store for each word cost more than the pipeline's run below.
        ends = np.append(arr[1:, 1], len(text)) - arr[:, 2]
        starts_l, ends_l = arr[:, 1].tolist(), ends.tolist()
        keep = np.ones(n, dtype=bool)
        for i in np.flatnonzero(arr[:, 0]).tolist():
            if text.count("\n", starts_l[i], ends_l[i]) < 2:
                keep[i] = False
        if keep.all():
            return doc, None, None
        kept = np.flatnonzero(keep)
        # A word keeps a space after it when it had one, or when the dropped token followed it.
        after = kept + 1
        dropped_next = np.zeros(len(kept), dtype=bool)
        inside = after < n
        dropped_next[inside] = ~keep[after[inside]]
        spaces = ((arr[kept, 2] != 0) | dropped_next).tolist()
        solid = Doc(doc.vocab, words=[text[a:b] for a, b in zip(arr[kept, 1].tolist(), ends[kept].tolist())],
                    spaces=spaces)
        if not np.array_equal(solid.to_array(ORTH), orth[kept]):
            return self._solid_general(doc, False, False)  # `text` was not the doc's own after all
        for _name, proc in self.nlp.pipeline:
            solid = proc(solid)
        return solid, arr[kept, 1], None

    def _solid_general(self, doc, hidden: bool, pictures: bool):
        """_solid's work token by token, for texts with invisible characters or pictographs."""
        import numpy as np

        # Invisible characters inside a word (a soft hyphen, a zero-width space or joiner) are
        # taken out of it, so "trans\u00adformation" is read as "transformation"; a token made
        # of nothing else goes, as whitespace does. Each word keeps its offset and its width.
        # (Only in words: a joiner inside an emoji sequence belongs to it.)
        words = [_INVISIBLE.sub("", t.text) if hidden and _INVISIBLE.search(t.text) and any(ch.isalnum() for ch in t.text)
                 or (hidden and not _INVISIBLE.sub("", t.text)) else t.text for t in doc]
        # An emoji between two words ("some \U0001F4DA historians argue") is dropped as well, so that
        # the phrase around it still matches.
        keep = [bool(w) and not (t.is_space and t.text.count("\n") < 2) and not (pictures and _is_picture(t.text))
                for t, w in zip(doc, words)]
        if all(keep) and not hidden:
            return doc, None, None
        from spacy.tokens import Doc

        kept = [t for t, k in zip(doc, keep) if k]
        # A word keeps a space after it when it had one, or when the dropped token followed it.
        spaces = [bool(t.whitespace_) or (t.i + 1 < len(doc) and not keep[t.i + 1]) for t in kept]
        solid = Doc(doc.vocab, words=[words[t.i] for t in kept], spaces=spaces)
        for _name, proc in self.nlp.pipeline:
            solid = proc(solid)
        # Where each word's visible characters start and end: an invisible character before a
        # word ("\u200bHowever") is not part of it.
        starts = [t.idx + len(t.text) - len(t.text.lstrip(_INVISIBLE_CHARS)) if words[t.i] != t.text else t.idx
                  for t in kept]
        widths = [len(t.text.strip(_INVISIBLE_CHARS)) if words[t.i] != t.text else len(t.text) for t in kept]
        return solid, np.array(starts, dtype=np.int64), np.array(widths, dtype=np.int64) if hidden else None

    def _opens_with_narrative(self, a: int, b: int, word_l: list[bool], lemma_l: list[int]) -> bool:
        first = [lemma_l[i] for i in range(a, min(b, a + 2 * self._max_opener)) if word_l[i]][: self._max_opener]
        if not first:
            return False
        for opener in self._openers_by_first.get(first[0], ()):
            if tuple(first[: len(opener)]) == opener:
                return True
        return False


def focus_terms(rubric: Rubric, rubrics: dict[str, Rubric] | None = None) -> dict[str, list[str]]:
    """The focus terms of the rubric's own question ("own") and of each other question it names.

    An other question may borrow another rubric's focus terms (`rubric = "q2"`), looked up in
    `rubrics` (the Engine's); its own terms are used when that rubric is not there."""
    out: dict[str, list[str]] = {}
    if rubric.focus is not None:
        out[OWN_FOCUS] = list(rubric.focus.terms)
    for oq in rubric.other_questions:
        terms = list(oq.terms)
        if oq.rubric:
            other = (rubrics or {}).get(oq.rubric)
            if other is not None and other.focus is not None:
                terms = list(other.focus.terms) + terms
        if terms:
            out[oq.id] = terms
    return out


def _letters(word: str, other: str) -> int:
    """Letters dropped and added between two words (Indel distance), two letters swapped ("teh",
    "adn") counting as one slip like a letter dropped: "adn" is as near "and" as "an"."""
    from rapidfuzz.distance import Indel

    if len(word) == len(other) and sorted(word) == sorted(other) and \
            sum(a != b for a, b in zip(word, other)) == 2:
        return 1
    return Indel.distance(word, other)


def _spelling(word: str) -> str:
    """One form for the spellings `variants` counts alike ("-ization" as "-isation", no hyphens)."""
    return _IZE.sub(r"is\1", word.replace("-", ""))


def _gapped_phrases(docs) -> tuple[dict, dict, frozenset[str]]:
    """For reading a slip inside a phrase (RubricMatcher._in_phrase): each phrase of two words or
    more with one short word (six letters at most) left out, keyed by (length, position, the
    other tokens' lemma hashes) -> {the word left out: its lemma}; where each such word stands in
    phrases, by the word and its neighbour ({(word, +1 or -1, the next or previous token's lemma
    hash): {(length, position)}}); and every word of the phrases. Only phrases with a word of
    four letters or more besides the one left out."""
    gapped: dict[tuple, dict[str, str]] = {}
    positions: dict[str, set[tuple[int, int]]] = {}
    words: set[str] = set()
    for d in docs:
        toks = list(d)
        words.update(t.lower_ for t in toks if t.is_alpha)
        if len(toks) < 2:
            continue
        for k, t in enumerate(toks):
            if not t.is_alpha or len(t) > 6:
                continue
            if not any(o.is_alpha and len(o) >= 4 for j, o in enumerate(toks) if j != k):
                continue
            key = (len(toks), k, tuple(o.lemma for j, o in enumerate(toks) if j != k))
            gapped.setdefault(key, {})[t.lower_] = t.lemma_
            # Found by the word and its neighbour: the next token's lemma (or the one before, last in the phrase).
            side = 1 if k + 1 < len(toks) else -1
            positions.setdefault((t.lower_, side, toks[k + side].lemma), set()).add((len(toks), k))
    return gapped, positions, frozenset(words)


class Speller:
    """Reads a misspelt word as the word meant: a rubric word or a common one (edit distance, rapidfuzz).

    Only words that are not English words and not already rubric words are looked at. A word of
    five letters or more may be a slip for a rubric word or for one of the stop list ("whiich",
    "thrugh"): one edit for words of 5-7 letters, two from 8. A shorter one ("tthe", "oof",
    "hiim", "oone") is read only as a word one edit away, and a two-letter one only when it
    doubles a letter ("aa"): most short slips are a letter away from several words ("iz", "waz"),
    and are then left as they are. The nearest reading must be the only one: measured by edits
    (OSA), then by letters dropped or added, two letters swapped counting as one ("thrugh" is
    "through" rather than "though"). Two words as near, an English word nearer than every reading,
    or a word that is an English word with an ending added ("news", "secondly", "restless": the
    word list holds lemmas), and the word is left as it is. A slip for a stop word counts as one
    (RubricMatcher.analyse). Each word form's answer is kept, so an essay costs a few dictionary
    lookups once the common slips have been seen.
    """

    MIN_LEN = 5  # rubric words this long or longer are what `words` lists
    SHORT_LEN = 3  # shorter slips are read only when they double a letter

    def __init__(self, nlp, phrases, english, docs: dict | None = None):
        """`docs`: phrases already processed by `nlp` (phrase -> Doc), not processed again."""
        self.nlp = nlp
        self.english = english
        lemma_of: dict[str, str] = {}
        short_of: dict[str, str] = {}  # every alphabetic word of the phrases, with its lemma
        phrases = sorted(set(phrases))
        known = docs if docs is not None else {}
        todo = [p for p in phrases if p not in known]
        made = dict(zip(todo, nlp.pipe(todo)))
        for p in phrases:
            d = known[p] if p in known else made[p]
            for t in d:
                if t.is_alpha and len(t) >= self.MIN_LEN:
                    lemma_of.setdefault(t.lower_, t.lemma_)
                if t.is_alpha:
                    short_of.setdefault(t.lower_, t.lemma_)
        self.lemma_of = lemma_of
        self.words = sorted(lemma_of)
        # The readings a slip may have: the rubric's words and the stop list, with their lemmas.
        stops = sorted(w for w in nlp.Defaults.stop_words if w.isalpha() and w not in short_of)
        for w, d in zip(stops, nlp.pipe(stops)):
            short_of[w] = d[0].lemma_ if len(d) else w
        self.reading_of = short_of
        self.readings = sorted(short_of)
        self._english_words: dict[int, list[str]] | None = None  # by length, loaded when first needed
        self._near_lists: dict[int, list[str]] = {}  # word length -> _english_near's list for it
        self._seen: dict[str, str | None] = {}
        self._seen_hash: dict[int, str | None] = {}  # lower-case form's hash -> what correct() reads it as
        self._lock = threading.Lock()

    def _english_near(self, n: int) -> list[str]:
        """English words of n-2 to n+2 letters that are not readings (for the check that no
        English word is nearer than the reading found)."""
        if self._english_words is None:
            by_len: dict[int, list[str]] = {}
            for w in english_words(self.nlp):
                if w.isalpha() and w not in self.reading_of:
                    by_len.setdefault(len(w), []).append(w)
            self._english_words = by_len
        near = self._near_lists.get(n)
        if near is None:  # (made once per length: listing ~20,000 words cost more than the search in them)
            near = self._near_lists[n] = [w for k in range(max(1, n - 2), n + 3) for w in self._english_words.get(k, ())]
        return near

    # Endings that make a word from a word: the word list holds lemmas, so "secondly",
    # "generally", "restless" and "news" are not in it, and are not slips for "second", "general"...
    _ENDINGS = ("ally", "ily", "ly", "less", "ness", "ful", "fully", "ment", "ments", "ist", "ists", "ism",
                "s", "es", "ed", "ing", "er", "ers", "est")

    def _derived(self, word: str) -> bool:
        """Whether `word` is an English word (or a rubric word) with one of _ENDINGS added."""
        known = self._known
        for ending in self._ENDINGS:
            if word.endswith(ending) and len(word) - len(ending) >= 3:
                stem = word[: -len(ending)]
                if stem in known or (ending == "ily" and stem + "y" in known):
                    return True
        return False

    @cached_property
    def _known(self) -> frozenset[str]:
        return frozenset(english_words(self.nlp)) | frozenset(self.reading_of)

    def nearest(self, word: str) -> str | None:
        """The word `word` is a slip for (a rubric word or a stop word), or None."""
        hit = self._seen.get(word, False)
        if hit is not False:
            return hit
        out = self._nearest(word)
        with self._lock:
            if len(self._seen) > 100_000:
                self._seen.clear()
            self._seen[word] = out
        return out

    def _nearest(self, word: str) -> str | None:
        from rapidfuzz import process
        from rapidfuzz.distance import OSA

        n = len(word)
        if n < self.SHORT_LEN and not (n == 2 and word[0] == word[1]) or self._derived(word):
            return None
        limit = 1 if n < 8 else 2
        found = process.extract(word, self.readings, scorer=OSA.distance, score_cutoff=limit, limit=None)
        if not found:
            return None
        # Slips rarely change the first letter; when they do, accept only a single letter dropped
        # or added in a long word.
        scored = sorted((d, _letters(word, w), w) for w, d, _i in found)
        scored = [(d, i, w) for d, i, w in scored if w[0] == word[0] or (d == 1 and i == 1 and n >= 7)]
        if not scored:
            return None
        best = scored[0][:2]
        tied = {_spelling(self.reading_of[w]) for d, i, w in scored if (d, i) == best}
        meant = scored[0][2]
        # Two readings as near (different words, not two spellings of one): the slip is not legible.
        if len(tied) > 1:
            return None
        # An English word nearer than the reading (or, for a short slip for a word of the rubric's
        # own, as near): the slip was for that word, or may have been ("sht" for "shut" as well as
        # "shot"). A stop word is so much commoner than most words that a tie is its ("tthe", "oone").
        common = meant in self.nlp.Defaults.stop_words
        for w, d, _i in process.extract(word, self._english_near(n), scorer=OSA.distance, score_cutoff=best[0],
                                        limit=None):
            if (d, _letters(word, w)) < best or (n < self.MIN_LEN and not common and (d, _letters(word, w)) == best):
                return None
        return meant

    def correct(self, doc, candidates, lemma_h, idx=None, widths=None, fixed: list | None = None, lower=None
                ) -> list[tuple[int, int, str]]:
        """Give misspelt rubric words the lemma of the word meant, in the doc and in `lemma_h`
        (the doc's lemma hashes); `candidates` are the indexes of tokens that are not English
        words. Returns (start, end, word meant) of each word read differently, at the offsets
        `idx` gives the tokens (the doc's own when None), `widths` their lengths in the text;
        (index, word meant) of each token read differently is added to `fixed` when given.
        `lower`: the tokens' lower-case forms' hashes: then what each form is read as is kept by
        its hash, and no Token is made for a word read as written (almost all of them)."""
        out = []
        reading_of = self.reading_of
        strings = doc.vocab.strings
        by_hash = self._seen_hash
        if len(by_hash) > 100_000:
            by_hash.clear()
        lowers = lower[candidates].tolist() if lower is not None else None
        for k, i in enumerate(candidates.tolist()):
            if lowers is not None:
                meant = by_hash.get(lowers[k], False)
                if meant is False:
                    low = strings[lowers[k]]
                    meant = by_hash[lowers[k]] = None if low in reading_of else self.nearest(low)
                if meant is None:
                    continue
                t = doc[i]
            else:
                t = doc[i]
                low = t.lower_
                if low in reading_of:
                    continue
                meant = self.nearest(low)
            if meant is not None:
                t.lemma_ = reading_of[meant]
                lemma_h[i] = strings[reading_of[meant]]
                if fixed is not None:
                    fixed.append((i, meant))
                at = t.idx if idx is None else idx[i]
                out.append((at, at + (len(t) if widths is None else widths[i]), meant))
        return out


# Columns of a LexemeTable row.
_LEN, _ALPHA, _STOP, _PUNCT, _SPACE, _NUM, _LOWER_KNOWN, _BREAK, _LOWER = range(9)
_COLUMNS = 9  # (_LOWER: the lower-case form's string-store hash, its 64 bits held as an int64)


class LexemeTable:
    """What analyse needs to know about each word form, worked out once per pipeline.

    Everything but a token's position, lemma and sentence start belongs to its word form (its
    lexeme): length, the is_alpha/is_stop/is_punct/is_space/like_num flags, whether its lower-case
    form is in the English word list, and whether it is clause punctuation. Asking doc.to_array
    for those flags costs about as much as the rest of analyse, and an essay repeats most of its
    word forms, so each form's row is computed the first time it is seen and then looked up by
    its orth hash.
    """

    def __init__(self, nlp):
        import numpy as np

        self.vocab = nlp.vocab
        self.english = english_hashes(nlp)
        # Sorted orth hashes and, row for row, their features: looking a whole essay up with one
        # np.searchsorted is cheaper than a dict lookup per token.
        # Kept as one (keys, table) pair so that a reader on another thread never sees the keys of
        # one version with the table of another.
        self._state = (np.zeros(0, dtype="uint64"), np.zeros((0, _COLUMNS), dtype=np.int64))
        self._lock = threading.Lock()

    def rows(self, orths):
        """The feature rows (one per token, columns _LEN...) of an array of orth hashes."""
        import numpy as np

        keys, table = self._state
        pos = np.searchsorted(keys, orths)
        found = pos < len(keys)
        found[found] = keys[pos[found]] == orths[found]
        if not found.all():
            keys, table = self._add(orths[~found])
            pos = np.searchsorted(keys, orths)
        return table[pos]

    def _add(self, orths):
        """Add rows for new word forms; return the grown (keys, table), published together."""
        import numpy as np
        from spacy.attrs import IS_ALPHA, IS_PUNCT, IS_SPACE, IS_STOP, LIKE_NUM

        with self._lock:
            keys, table = self._state
            new = np.unique(orths)
            new = new[~member(new, keys)]  # another thread may have added some meanwhile
            lexemes = [self.vocab[h] for h in new.tolist()]
            listed = member(np.array([lx.lower for lx in lexemes], dtype="uint64"), self.english).tolist()
            lowers = np.array([lx.lower for lx in lexemes], dtype=np.uint64).view(np.int64)
            rows = np.array([(len(lx.orth_), *(lx.check_flag(f) for f in (IS_ALPHA, IS_STOP, IS_PUNCT, IS_SPACE,
                                                                              LIKE_NUM)), known,
                              lx.is_punct and lx.orth_ in _CLAUSE_BREAKS, 0)
                             for lx, known in zip(lexemes, listed)], dtype=np.int64).reshape(-1, _COLUMNS)
            rows[:, _LOWER] = lowers
            # Each new form put in its place: the keys stay sorted without sorting them all again
            # (np.setdiff1d and np.argsort over the whole table cost ~3 ms an essay at 20,000 forms).
            at = np.searchsorted(keys, new)
            keys, table = np.insert(keys, at, new), np.insert(table, at, rows, axis=0)
            self._state = (keys, table)
            return keys, table


def member(values, sorted_array):
    """Elementwise membership in a sorted array (np.isin is far slower on 64-bit hashes)."""
    import numpy as np

    if len(sorted_array) == 0 or len(values) == 0:
        return np.zeros(len(values), dtype=bool)
    pos = np.minimum(np.searchsorted(sorted_array, values), len(sorted_array) - 1)
    return sorted_array[pos] == values


def english_hashes(nlp):
    """The English word list as a sorted numpy array of string-store hashes (for member).

    Read from the list build_pipeline saved beside the pipeline; listed afresh for any other one.
    Worked out once per LexemeTable, which the Engine owns.
    """
    import numpy as np
    from spacy.strings import hash_string

    return np.array(sorted({hash_string(w) for w in english_words(nlp)}), dtype="uint64")


def english_words(nlp) -> list[str]:
    """The English word list: read from the list build_pipeline saved beside the pipeline, or
    listed afresh for any other one."""
    saved = PIPELINE_DIR / ENGLISH_WORDS_FILE
    if getattr(nlp, "_path", None) == PIPELINE_DIR and saved.is_file():
        return saved.read_text(encoding="utf-8").split()
    return english_word_list(nlp)
