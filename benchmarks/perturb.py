"""Perturbations of essays for `make robustness`: seeded, varied, and free of the engine.

Every generator takes the essay text and a `random.Random` and returns the perturbed text, or None
when the perturbation does not apply to that essay (too few paragraphs, too few dated events).
Each picks one of several strategies at random, so that a rule tuned to one shape of perturbation
does not pass the benchmark by accident. Nothing here imports the scoring engine: the tests run
these functions on fixtures and check their structure (tests/scoring/test_robustness_generators.py).

The vocabulary (key terms, markers, people, dated events) is read at run time from the rubric
TOML files and, when present, ../shared/reference/keywords.json (`load_vocabulary`).
"""

from __future__ import annotations

import bisect
import json
import random
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

# The strategies of each generator; pass one as `strategy=` or let the generator pick at random.
STRATEGIES = {
    "keyword_salad": ["random", "crosswired", "echo", "chained"],
    "shuffled": ["uniform", "inverted", "dealt", "run_together"],
    "shuffled_within": ["within"],
    "truncated": ["word", "sentence_before", "sentence_nearest"],
    "repeated": ["each", "block", "reshuffled", "reworded"],
    "padding": ["after_intro", "before_conclusion", "anywhere", "after_period"],
    "wrong_dates": ["per_event", "per_year", "same"],
    "misspelt": ["uniform", "long", "terms"],
    "surface": ["sentence_end", "any_word", "paragraph_start", "mac_line_ends", "separators", "spacing",
                "ellipses", "wrapped"],
    "layout": ["split", "merged", "one_body", "run_together", "one_per_paragraph", "halved", "random_sizes"],
    "tagged": ["each", "some"],
}

# --- text helpers --------------------------------------------------------------------------------

_PARA_SPLIT = re.compile(r"\n[ \t]*\n+")
# A sentence ends at . ! or ? (optionally followed by a closing quote or bracket) before whitespace
# and an upper-case letter, digit or opening quote; "1.2 million" and "e.g. the" stay whole.
_SENT_SPLIT = re.compile(r"(?:(?<=[.!?])|(?<=[.!?][\"”’')]))\s+(?=[\"“‘'(]?[A-Z0-9])")
_WORD = re.compile(r"[A-Za-z][A-Za-z'’]*[A-Za-z]|[A-Za-z]")
_YEAR = re.compile(r"\b(1[89]\d\d)\b")


def paragraphs(text: str) -> list[str]:
    """The essay's paragraphs (blocks between blank lines), stripped, empty ones dropped."""
    return [p.strip() for p in _PARA_SPLIT.split(text.replace("\r\n", "\n")) if p.strip()]


def sentences(paragraph: str) -> list[str]:
    """A paragraph's sentences; each line of a bulleted block is split on its own."""
    out: list[str] = []
    for line in paragraph.split("\n"):
        out += [s.strip() for s in _SENT_SPLIT.split(line.strip()) if s.strip()]
    return out


def word_count(text: str) -> int:
    """Words as the project counts them: whitespace-separated tokens."""
    return len(text.split())


def join(paras: list[str]) -> str:
    """Paragraphs back into an essay, one blank line between them."""
    return "\n\n".join(paras) + "\n"


# --- vocabulary ----------------------------------------------------------------------------------


@dataclass
class Event:
    """A dated event: the phrases that name it and the years it belongs to."""

    name: str
    phrases: list[str]
    years: set[int]


@dataclass
class Vocabulary:
    """Key terms of the period and the language of analysis, read from the project's data."""

    terms: dict[str, list[str]] = field(default_factory=dict)  # question id -> key terms
    groups: dict[str, list[list[str]]] = field(default_factory=dict)  # question id -> terms per factor
    markers: dict[str, list[str]] = field(default_factory=dict)  # causal, evaluative, counter, ...
    people: list[str] = field(default_factory=list)
    historians: list[str] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    questions: dict[str, str] = field(default_factory=dict)  # question id -> question text
    casing: dict[str, str] = field(default_factory=dict)  # lower-case word -> as usually written

    def cased(self, phrase: str) -> str:
        """A phrase with its proper nouns capitalised as the project's texts write them."""
        return " ".join(self.casing.get(w.lower(), w) for w in phrase.split(" "))


_ADJECTIVE_ENDS = ("ic", "ive", "ous", "able", "ible", "ed", "al", "ary", "ish", "ful", "less", "ent", "ant", "ist")


def _nouns(items) -> list[str]:
    """Terms that can follow "the": single adjectives (erratic, vocational) and dates dropped."""
    out = []
    for t in items or []:
        if not isinstance(t, str) or len(t) <= 3 or t[0].isdigit():
            continue
        if " " not in t and t.lower().endswith(_ADJECTIVE_ENDS):
            continue
        out.append(t)
    return out


def _merge(into: list[str], items) -> None:
    for item in items or []:
        if isinstance(item, str) and item.strip() and item not in into:
            into.append(item.strip())


def load_vocabulary(rubric_dir: Path | None = None, keywords: Path | None = None, corpus: list[str] = ()) -> Vocabulary:
    """Terms, markers and dated events from the rubric TOMLs (and keywords.json when given).

    `rubric_dir` None reads the shipped rubrics (package data, khrushchev_essays/rubrics).

    Read defensively (`.get` everywhere): the rubric format may gain or rename sections, and a
    missing section only makes the generated text less varied. `corpus` (essay texts) teaches the
    capitalisation of names that the data lists in lower case.
    """
    from khrushchev_essays.scoring.rubric import rubric_paths

    voc = Vocabulary()
    for path in rubric_paths(rubric_dir):
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        qid = data.get("id") or path.name.removesuffix(".toml")
        voc.questions[qid] = data.get("question", "")
        terms = voc.terms.setdefault(qid, [])
        for factor in data.get("factors", []):
            _merge(terms, factor.get("phrases"))
            if factor.get("phrases"):
                voc.groups.setdefault(qid, []).append(_nouns(factor["phrases"]))
        for kind, items in (data.get("markers") or {}).items():
            if kind in ("people", "historians"):
                _merge(getattr(voc, kind), items)
            else:
                _merge(voc.markers.setdefault(kind, []), items)
        for ev in data.get("events", []):
            if ev.get("phrases") and ev.get("years"):
                voc.events.append(Event(ev.get("name", ev["phrases"][0]), list(ev["phrases"]), set(ev["years"])))
        corpus = [*corpus, data.get("topic_text", ""), data.get("question", "")]
    if keywords is not None and keywords.is_file():
        kw = json.loads(keywords.read_text(encoding="utf-8"))
        for key, qid in (("Q1_transformation", "q1"), ("Q2_fall", "q2")):
            for cat, items in (kw.get(key) or {}).items():
                if "judgement" not in cat and isinstance(items, list):
                    _merge(voc.terms.setdefault(qid, []), items)
                    voc.groups.setdefault(qid, []).append(_nouns(items))
        for key, kind in (("analytical_markers", "causal"), ("counter_argument_markers", "counter"),
                          ("conclusion_markers", "conclusion")):
            _merge(voc.markers.setdefault(kind, []), kw.get(key))
        _merge(voc.historians, kw.get("historians"))
        for phrase, years in (kw.get("date_event_checks") or {}).items():
            voc.events.append(Event(phrase, [phrase], set(years)))
    lower_seen: set[str] = set()
    for text in corpus:
        lower_seen |= set(re.findall(r"\b[a-z]+\b", text or ""))
        for m in re.finditer(r"(?<=[a-z,;] )([A-Z][a-z]+)", text or ""):
            voc.casing.setdefault(m.group(1).lower(), m.group(1))
    voc.casing = {k: v for k, v in voc.casing.items() if k not in lower_seen}
    for name in voc.people + voc.historians:
        for w in name.split():
            voc.casing.setdefault(w, w.capitalize())
    return voc


# --- keyword salad -------------------------------------------------------------------------------

_OUTCOMES = {
    "q1": ["the transformation of the USSR by 1964", "how far the Soviet Union changed", "the extent of change by 1964",
           "continuity in the Soviet system", "the reforms of the period"],
    "q2": ["Khrushchev's fall from power in 1964", "his removal in October 1964", "the plot against Khrushchev",
           "the weakening of his position", "the decision of the Presidium"],
}
_VERBS = ["undermined", "strengthened", "transformed", "weakened", "alienated", "reinforced", "accelerated",
          "outweighed", "provoked", "encouraged", "limited", "shaped", "destabilised", "legitimised"]
_SHOWS = ["demonstrates", "suggests", "indicates", "shows", "proves", "reveals"]
_EVAL = ["most significant", "most important", "decisive", "crucial", "fundamental", "key", "underlying",
         "long-term", "short-term", "deciding"]
_COMPARE = ["more significant than", "less important than", "far more decisive than", "interlinked with",
            "outweighed by", "combined with"]

# Sentence patterns; slots: {A}-{D} key terms, {V}/{W} verbs, {S} "shows", {E} evaluation, {C}
# comparison, {O} the question's outcome, {Y} a year, {K} a causal/counter connective, {H} a historian.
_BODY = [
    "{K}, the {A} {V} the {B}, which {S} that the {C} was the {E} factor in {O}.",
    "The {A} of {Y} {V} the {B} because the {C} {W} the {D}.",
    "It could be argued that the {A} was {C2} the {B}, since the {C} {V} {O}.",
    "This {S} that {O} was shaped by the {A} and the {B}, which {V} the {C}.",
    "As a result of the {A}, the {B} {V} the {C} in {Y}, and therefore the {D} {W} {O}.",
    "{H} argues that the {A} {V} the {B}, whereas the {C} {W} the {D}.",
    "Because the {A} {V} the {B}, the {C} became the {E} cause of {O}.",
    "The {E} consequence of the {A} was that the {B} {V} the {C}, which led to {O}.",
    "{K}, the {A} and the {B} were {C2} the {C}, so the {D} {V} {O} by {Y}.",
    "Although the {A} {V} the {B}, the {C} {W} the {D}, demonstrating that the {A} was {E}.",
    "The impact of the {A} on the {B} {S} how the {C} {V} {O}.",
    "In {Y} the {A} {V} the {B}; consequently the {C} {W} the {D} and {O} followed.",
]
_INTRO = [
    "{Q} This essay will argue that the {A} was the {E} factor, because the {B} {V} the {C}.",
    "To a large extent, {O} depended on the {A}, although the {B} and the {C} also {V} the {D}.",
    "Historians such as {H} have debated {O}, and the {A} {V} the {B} in {Y}.",
    "The {A}, the {B} and the {C} all {V} {O}, but the {D} was the {E}.",
]
_CONCLUSION = [
    "In conclusion, the {A} was the {E} factor in {O}, because it {V} the {B} and the {C}.",
    "Overall, the {A} {V} the {B}, which {S} that {O} was determined by the {C}.",
    "On balance, the {A} was {C2} the {B}, and therefore {O} was the result of the {C}.",
    "Ultimately, {O} was caused by the {A}, which {V} the {B} more than the {D} did.",
]
_HISTORIANS_FALLBACK = ["McCauley", "Service", "Taubman", "Hosking"]


_CHAIN_JOINS = [" led to ", " because of ", ", and as a result ", ", which meant ", "; therefore ",
                " caused ", ", whereas ", "; however "]


def keyword_salad(voc: Vocabulary, question: str, rng: random.Random, words: tuple[int, int] = (600, 800),
                  strategy: str | None = None) -> str:
    """Grammatical nonsense from the period's key terms and connectives, in essay shape.

    Strategies: 'random' draws every term from the whole pool; 'crosswired' keeps one factor's
    terms per paragraph but joins them to terms of unrelated factors and wrong years; 'echo' leans
    on the question's own words and on judgement language; 'chained' joins the period's real
    events, each with one of its own years, by connectives at random ("The Secret Speech of 1956
    led to the Virgin Lands scheme of 1954, and consequently..."): every fact true, no link.
    """
    strategy = strategy or rng.choice(STRATEGIES["keyword_salad"])
    own = [g for g in voc.groups.get(question, []) if g] or [g for gs in voc.groups.values() for g in gs if g]
    other = [g for q, gs in voc.groups.items() if q != question for g in gs if g]
    own = own or [["reform", "party", "economy"]]
    years = sorted({y for ev in voc.events for y in ev.years}) or [1956, 1957, 1961, 1962]
    adverbs = {"thus", "hence", "nevertheless", "nonetheless", "conversely", "alternatively", "admittedly",
               "in contrast", "by contrast", "on the other hand", "as a result"}
    listed = [m for kind in ("causal", "counter") for m in voc.markers.get(kind, []) if m in adverbs]
    connectives = [c[0].upper() + c[1:] for c in dict.fromkeys(
        ["consequently", "therefore", "furthermore", "moreover", "however", *listed])]
    historians = [voc.cased(h) for h in voc.historians] or _HISTORIANS_FALLBACK
    outcomes = _OUTCOMES.get(question, ["the question"])
    target = rng.randint(words[0] + 20, words[1] - 30)

    def fill(pattern: str, focus: list[str] | None = None) -> str:
        def term() -> str:
            if focus and rng.random() < 0.4:
                return voc.cased(rng.choice(focus))
            groups = other if other and rng.random() < 0.25 else own
            return voc.cased(rng.choice(rng.choice(groups)))
        vals = {"A": term(), "B": term(), "C": term(), "D": term(), "V": rng.choice(_VERBS),
                "W": rng.choice(_VERBS), "S": rng.choice(_SHOWS), "E": rng.choice(_EVAL),
                "C2": rng.choice(_COMPARE), "O": rng.choice(outcomes), "Y": str(rng.choice(years)),
                "K": rng.choice(connectives), "H": rng.choice(historians),
                "Q": voc.questions.get(question, "")}
        if strategy == "echo" and rng.random() < 0.5:
            vals["A"] = rng.choice(["transformation", "de-Stalinisation", "continuity", "reform", "change"])
        s = pattern.replace("{C2}", vals["C2"])
        for k, v in vals.items():
            s = s.replace("{" + k + "}", v)
        s = s.strip()
        return s[0].upper() + s[1:]

    dated = [(ev.name, max(ev.years)) for ev in voc.events if ev.years]

    def chained() -> str:
        (a, ya), (b, yb), (c, yc) = rng.sample(dated, 3)
        first, second = rng.sample(_CHAIN_JOINS, 2)
        return f"{a} ({ya}){first}{b} ({yb}){second}{c} ({yc})."

    intro = " ".join(fill(p) for p in rng.sample(_INTRO, 2))
    conclusion = " ".join(fill(p) for p in rng.sample(_CONCLUSION, 2))
    body: list[str] = []
    count = word_count(intro) + word_count(conclusion)
    while count < target or len(body) < 3:
        focus = None
        if strategy == "crosswired":
            focus = rng.choice(own)
        if strategy == "chained" and dated:
            sents = [chained() for _ in range(rng.randint(4, 7))]
        else:
            sents = [fill(rng.choice(_BODY), focus) for _ in range(rng.randint(4, 7))]
        body.append(" ".join(sents))
        count += word_count(body[-1])
    # Trim sentence by sentence from the end of the body until it fits the upper bound.
    while count > words[1]:
        last = sentences(body[-1])
        if len(last) <= 2 and len(body) > 3:
            count -= word_count(body.pop())
            continue
        count -= word_count(last[-1])
        body[-1] = " ".join(last[:-1])
    while count < words[0]:  # trimming overshot: one more short sentence
        extra = fill(rng.choice(_BODY))
        body[-1] += " " + extra
        count += word_count(extra)
    return join([intro, *body, conclusion])


# --- order ---------------------------------------------------------------------------------------


def shuffled(text: str, rng: random.Random, strategy: str | None = None) -> str | None:
    """The essay's sentences shuffled across the essay, with as many paragraphs as before.

    Strategies: 'uniform' (any order), 'inverted' (the conclusion's sentences first and the
    introduction's last, the rest shuffled), 'dealt' (sentences dealt round-robin from the
    paragraphs, so each new paragraph mixes every old one), 'run_together' (any order, and no
    paragraph breaks at all).
    """
    paras = [sentences(p) for p in paragraphs(text)]
    flat = [s for p in paras for s in p]
    if len(flat) < 3:
        return None
    strategy = strategy or rng.choice(STRATEGIES["shuffled"])
    for _ in range(10):
        if strategy in ("uniform", "run_together"):
            order = flat[:]
            rng.shuffle(order)
        elif strategy == "inverted" and len(paras) >= 3:
            middle = [s for p in paras[1:-1] for s in p]
            rng.shuffle(middle)
            order = paras[-1][::-1] + middle + paras[0][::-1]
        else:
            order = []
            queues = [p[:] for p in paras]
            rng.shuffle(queues)
            while any(queues):
                for q in queues:
                    if q:
                        order.append(q.pop(rng.randrange(len(q))))
        if order != flat:
            break
        strategy = "uniform"
    if strategy == "run_together":  # and the paragraph breaks lost as well
        return " ".join(order)
    sizes = [len(p) for p in paras]
    rng.shuffle(sizes)
    out, i = [], 0
    for n in sizes:
        out.append(" ".join(order[i:i + n]))
        i += n
    return join(out)


def shuffled_within(text: str, rng: random.Random, strategy: str | None = None) -> str | None:
    """Each paragraph's sentences shuffled among themselves: the paragraphs, their sizes and their
    order kept (a harder disorder to see than a shuffle across the essay)."""
    paras = [sentences(p) for p in paragraphs(text)]
    if sum(len(p) >= 3 for p in paras) < 2:
        return None
    for _ in range(10):
        out = [rng.sample(p, len(p)) for p in paras]
        if out != paras:
            return join([" ".join(p) for p in out])
    return None


def layout(text: str, rng: random.Random, strategy: str | None = None) -> str | None:
    """The same sentences in the same order, paragraphed as another writer would: 'split' (each
    paragraph of four sentences or more cut in two at a random sentence), 'merged' (neighbouring
    paragraphs joined at random, introduction and conclusion included), 'one_body' (the
    introduction, the whole body in one paragraph, the conclusion), 'run_together' (no
    paragraph breaks at all), 'one_per_paragraph' (every sentence a paragraph of its own),
    'halved' (every paragraph of two sentences or more cut in two at a random sentence, the
    introduction and the conclusion too, so that pieces of one sentence stand at the ends),
    'random_sizes' (the sentences cut into paragraphs of two to six at random, wherever the
    writer's own breaks were: a writer who paragraphs by length, not by point).
    Needs five paragraphs."""
    paras = [sentences(p) for p in paragraphs(text)]
    if len(paras) < 5:
        return None
    strategy = strategy or rng.choice(STRATEGIES["layout"])
    if strategy == "split":
        out = []
        for p in paras:
            if len(p) >= 4:
                k = rng.randrange(2, len(p) - 1)
                out += [p[:k], p[k:]]
            else:
                out.append(p)
    elif strategy == "merged":
        out, i = [], 0
        while i < len(paras):
            if i + 1 < len(paras) and rng.random() < 0.5:
                out.append(paras[i] + paras[i + 1])
                i += 2
            else:
                out.append(paras[i])
                i += 1
        if len(out) == len(paras):  # at least one pair joined
            k = rng.randrange(len(paras) - 1)
            out = paras[:k] + [paras[k] + paras[k + 1]] + paras[k + 2:]
    elif strategy == "one_body":
        out = [paras[0], [s for p in paras[1:-1] for s in p], paras[-1]]
    elif strategy == "one_per_paragraph":
        out = [[s] for p in paras for s in p]
    elif strategy == "random_sizes":
        flat, out = [s for p in paras for s in p], []
        while flat:
            k = rng.randint(2, 6)
            out.append(flat[:k])
            flat = flat[k:]
    elif strategy == "halved":
        out = []
        for p in paras:
            if len(p) >= 2:
                k = rng.randrange(1, len(p))
                out += [p[:k], p[k:]]
            else:
                out.append(p)
    else:
        return " ".join(s for p in paras for s in p) + "\n"
    return join([" ".join(p) for p in out])


def scrambled(text: str, rng: random.Random) -> str:
    """Keyword salad made from a real essay: the words of every sentence shuffled among themselves,
    so each key term, date and name is still there and no sentence says anything."""
    out = []
    for p in paragraphs(text):
        sents = []
        for sent in sentences(p):
            words = sent.rstrip(".!?").split()
            rng.shuffle(words)
            if words:
                words[0] = words[0][:1].upper() + words[0][1:]
            sents.append(" ".join(words) + ".")
        out.append(" ".join(sents))
    return join(out)


def truncated(text: str, rng: random.Random, keep: float = 0.4, strategy: str | None = None) -> str:
    """The first `keep` share of the essay's words (at a word, sentence or nearest sentence end)."""
    spans = [m.span() for m in re.finditer(r"\S+", text)]
    n = max(1, round(len(spans) * keep))
    cut = spans[n - 1][1]
    strategy = strategy or rng.choice(STRATEGIES["truncated"])
    if strategy != "word":
        # The sentence end closest to the cut, within a few per cent of the words either side.
        lo = spans[max(0, round(len(spans) * (keep - 0.08)) - 1)][1]
        hi = spans[min(len(spans), round(len(spans) * (keep + 0.05))) - 1][1]
        if strategy == "sentence_before":
            hi = cut
        ends = [m.end() for m in re.finditer(r"[.!?][\"”’')]?(?=\s)", text) if lo <= m.end() <= hi]
        if ends:
            cut = min(ends, key=lambda e: abs(e - cut))
    return text[:cut].rstrip() + "\n"


# --- more of the same ----------------------------------------------------------------------------


def repeated(text: str, rng: random.Random, strategy: str | None = None) -> str | None:
    """Every body paragraph (all but the first and last) repeated once.

    Strategies: 'each' (every paragraph straight after itself), 'block' (the whole body twice),
    'reshuffled' (the body, then its paragraphs again in another order), 'reworded' (the body
    again with about one word in ten of each sentence dropped or swapped for another: a
    near-exact repeat).
    """
    paras = paragraphs(text)
    if len(paras) < 3:
        return None
    intro, body, end = paras[0], paras[1:-1], paras[-1]
    strategy = strategy or rng.choice(STRATEGIES["repeated"])
    if strategy == "each":
        new_body = [p for para in body for p in (para, para)]
    elif strategy == "block":
        new_body = body + body
    elif strategy == "reworded":
        new_body = body + [_reworded(para, rng) for para in body]
    else:
        again = body[:]
        rng.shuffle(again)
        new_body = body + again
    return join([intro, *new_body, end])


_SWAPS = {"important": "significant", "significant": "important", "because": "as", "showed": "proved",
          "however": "but", "many": "lots of", "big": "large", "very": "really", "also": "as well",
          "caused": "brought about", "people": "citizens", "changed": "altered", "weakened": "undermined",
          "main": "key", "major": "big", "reforms": "changes"}


def _reworded(para: str, rng: random.Random, rate: float = 0.1) -> str:
    """A paragraph said again a little differently: some words swapped for near-synonyms, about
    `rate` of the rest dropped (never a name or a number)."""
    out = []
    for word in para.split(" "):
        bare = word.strip(".,;:!?").lower()
        if bare in _SWAPS and word.islower() and rng.random() < 0.6:
            out.append(word.replace(bare, _SWAPS[bare]))
        elif rng.random() < rate and len(bare) > 3 and word[:1].islower() and not any(c.isdigit() for c in word) \
                and not word.endswith((".", "!", "?")):
            continue
        else:
            out.append(word)
    return " ".join(out)


# Background an essay does not need, in the project's own words (facts only from the period).
# After the period: what a student might add about the Soviet Union after Khrushchev.
_LATER = [
    "Brezhnev led the Soviet Union from 1964 until he died in 1982.",
    "Historians later called his years in power the era of stagnation, when growth slowed right down.",
    "In 1968 Warsaw Pact tanks entered Czechoslovakia and ended the Prague Spring.",
    "Relations with the United States eased in the 1970s, and the SALT treaty was signed in 1972.",
    "At the end of 1979 the Soviet army went into Afghanistan, a war that lasted almost ten years.",
    "Gorbachev became General Secretary in 1985 and began glasnost and perestroika.",
    "The explosion at Chernobyl in 1986 showed how much the state still kept secret.",
    "By the end of 1991 the Soviet Union had broken up into fifteen separate countries.",
]

_BACKGROUND = {
    "stalin": [
        "Stalin had ruled the Soviet Union since the late 1920s, after he outmanoeuvred Trotsky, Zinoviev "
        "and Bukharin.",
        "From 1928 the Five-Year Plans drove heavy industry forward at enormous human cost.",
        "New industrial towns such as Magnitogorsk were built almost from nothing in a few years.",
        "Collectivisation forced the peasants into collective farms, and millions died in the famine of 1932-33, "
        "above all in Ukraine.",
        "The murder of Kirov in December 1934 was used as the excuse for a wave of arrests.",
        "During the Great Terror of 1936-38 hundreds of thousands were shot and many more were sent to the camps.",
        "The show trials put famous Old Bolsheviks in the dock, where they confessed to crimes they had not committed.",
        "Yezhov ran the NKVD at the height of the purges and was himself arrested and shot in 1940.",
        "The Red Army lost most of its senior commanders in 1937 and 1938, including Marshal Tukhachevsky.",
        "Stalin's propaganda presented him as the wise father of the nation, and his portrait hung in every office.",
        "The Stakhanovite movement of 1935 held up record-breaking workers as models for everyone else.",
        "After 1945 there was a new wave of repression, including the Leningrad Affair and the Doctors' Plot of 1953.",
    ],
    "war": [
        "Germany invaded the Soviet Union in June 1941 in Operation Barbarossa.",
        "In the first months of the war the Red Army lost millions of men killed or captured.",
        "Leningrad was besieged for nearly 900 days, and around a million of its people starved to death.",
        "Whole factories were taken apart and moved east of the Urals so that production could continue.",
        "The battle of Stalingrad in the winter of 1942-43 ended with the surrender of the German Sixth Army.",
        "At Kursk in July 1943 the largest tank battle in history ended Germany's last great offensive in the east.",
        "By the end of the war around 27 million Soviet citizens had died.",
        "The Red Army reached Berlin in April 1945, and the war in Europe ended in May.",
        "At Yalta and Potsdam in 1945 the Allies argued about the future of Germany and Poland.",
        "Lend-Lease supplies from the United States, such as trucks and food, helped the Soviet war effort.",
        "Zhukov became the most famous Soviet commander of the war.",
        "Whole peoples, such as the Chechens and the Crimean Tatars, were deported to Central Asia during the war.",
    ],
    "tsars": [
        "Alexander II freed the serfs in 1861, although the peasants had to pay for their land for decades.",
        "Alexander II was assassinated by revolutionaries in St Petersburg in 1881.",
        "Alexander III answered his father's murder with repression and the Russification of the empire's minorities.",
        "Nicholas II came to the throne in 1894 and believed firmly in autocracy.",
        "Defeat by Japan in 1904-05 exposed the weakness of the Tsarist state.",
        "On Bloody Sunday in January 1905 troops fired on peaceful marchers in St Petersburg.",
        "The October Manifesto of 1905 promised a parliament, the Duma, but the Tsar kept most of his power.",
        "Stolypin tried to create a class of independent peasant farmers before he was shot in 1911.",
        "Rasputin's influence over the royal family damaged the reputation of the monarchy during the war.",
        "Nicholas II abdicated in March 1917 after strikes and mutinies in Petrograd.",
        "The Bolsheviks seized power in October 1917 and the royal family was shot at Ekaterinburg in 1918.",
        "Witte's railway building in the 1890s, including the Trans-Siberian line, sped up industrial growth.",
    ],
}
_LEADINS = [
    "To understand this period it is important to look at what came before.",
    "It is worth remembering the background to all of this.",
    "Some background helps to explain the situation.",
    "",
    "",
]


# --- tagged comments -----------------------------------------------------------------------------

_TAG_OPENERS = ["This shows that ", "Therefore ", "As a result, ", "Clearly, ", "So ", "This proves that ", ""]
_TAG_LINKS = ["was a key reason for", "was a crucial cause of", "was the most significant factor in",
              "played a major part in", "was central to", "was a decisive factor in", "was fundamental to",
              "was very important for"]


def tagged(text: str, rng: random.Random, question: str, strategy: str | None = None) -> str | None:
    """A comment that only restates the question tagged on to the end of body paragraphs ("This
    shows that this was a crucial cause of his removal in October 1964"): after each one
    ('each'), or after half of them at random ('some'), each comment composed afresh from an
    opener, a link and the question's outcome. Needs three paragraphs; a heading (a paragraph of
    one sentence) is left alone."""
    paras = paragraphs(text)
    if len(paras) < 3:
        return None
    strategy = strategy or rng.choice(STRATEGIES["tagged"])
    body = [i for i in range(1, len(paras) - 1) if len(sentences(paras[i])) >= 2]  # (not headings)
    if not body:
        return None
    chosen = body if strategy == "each" else sorted(rng.sample(body, max(1, len(body) // 2)))
    out = paras[:]
    for i in chosen:
        opener = rng.choice(_TAG_OPENERS)
        subject = "this" if opener else rng.choice(["This", "It"])
        comment = f"{opener}{subject} {rng.choice(_TAG_LINKS)} {rng.choice(_OUTCOMES[question])}."
        out[i] = out[i].rstrip() + " " + comment[0].upper() + comment[1:]
    return join(out)


def padding(text: str, rng: random.Random, strategy: str | None = None) -> str | None:
    """One or two paragraphs of background (Stalin's rule, the war, the Tsars) inserted.

    Strategies vary the topics, the paragraph length, whether a lead-in sentence is used, and
    where the paragraphs go (after the introduction, before the conclusion, anywhere between).
    """
    paras = paragraphs(text)
    if len(paras) < 2:
        return None
    where = strategy or rng.choice(STRATEGIES["padding"])
    if where == "after_period":
        # The years after the question's period instead (Brezhnev to Gorbachev), before the conclusion.
        k = rng.randint(4, 6)
        para = " ".join(_LATER[i] for i in sorted(rng.sample(range(len(_LATER)), k)))
        return join(paras[:-1] + [para] + paras[-1:])
    n_new = rng.choice([1, 2])
    topics = rng.sample(list(_BACKGROUND), n_new)
    new = []
    for topic in topics:
        k = rng.randint(5, 8)
        pick = sorted(rng.sample(range(len(_BACKGROUND[topic])), k))
        lead = rng.choice(_LEADINS)
        sents = ([lead] if lead else []) + [_BACKGROUND[topic][i] for i in pick]
        new.append(" ".join(sents))
    out = paras[:]
    for para in new:
        if where == "after_intro":
            pos = 1
        elif where == "before_conclusion":
            pos = len(out) - 1
        else:
            pos = rng.randint(1, len(out) - 1)
        out.insert(pos, para)
    return join(out)


# --- accuracy ------------------------------------------------------------------------------------


def _event_pattern(phrase: str) -> re.Pattern:
    words = [re.escape(w) for w in re.split(r"[\s-]+", phrase.lower()) if w]
    return re.compile(r"\b" + r"[\s-]*".join(words) + r"\b", re.I)


def dated_events(text: str, events: list[Event]) -> list[tuple[str, int, int]]:
    """(event name, year, offset of the year) for each year in a sentence that names its event."""
    found = []
    compiled = [(ev, [_event_pattern(p) for p in ev.phrases]) for ev in events]
    for m in re.finditer(r"[^.!?\n]+[.!?]?", text):
        sent = m.group(0)
        years = [(int(y.group(1)), m.start() + y.start(1)) for y in _YEAR.finditer(sent)]
        if not years:
            continue
        for ev, pats in compiled:
            if any(p.search(sent) for p in pats):
                found += [(ev.name, y, off) for y, off in years if y in ev.years]
    return found


def wrong_dates(text: str, rng: random.Random, events: list[Event], min_events: int = 2,
                strategy: str | None = None) -> str | None:
    """Every year of a known event (in a sentence naming the event) moved by two to four years.

    Strategies: 'per_event' (one shift per event, used consistently), 'per_year' (each year on its
    own), 'same' (one shift for the whole essay). None when fewer than `min_events` events are dated.
    """
    found = dated_events(text, events)
    if len({name for name, _y, _o in found}) < min_events:
        return None
    valid = {}
    for ev in events:
        valid.setdefault(ev.name, set()).update(ev.years)
    strategy = strategy or rng.choice(STRATEGIES["wrong_dates"])
    shifts = [-4, -3, -2, 2, 3, 4]
    same, per_event, new_years = rng.choice(shifts), {}, {}
    for name, year, off in sorted(found, key=lambda f: f[2]):
        if off in new_years:
            continue
        if strategy == "same":
            delta = same
        elif strategy == "per_event":
            delta = per_event.setdefault(name, rng.choice(shifts))
        else:
            delta = rng.choice(shifts)
        bad = valid[name] | {year}
        options = [delta] + [d for d in shifts if d != delta]
        delta = next(d for d in options if year + d not in bad)
        new_years[off] = str(year + delta)
    out = list(text)
    for off, new in sorted(new_years.items(), reverse=True):
        out[off:off + 4] = new
    return "".join(out)


# --- spelling ------------------------------------------------------------------------------------

_PHONETIC = [("ph", "f"), ("tion", "sion"), ("ie", "ei"), ("ei", "ie"), ("ck", "k"), ("shch", "sh"),
             ("ch", "sh"), ("ss", "s"), ("ll", "l"), ("ea", "ee"), ("ence", "ance"), ("ance", "ence"),
             ("ible", "able"), ("able", "ible"), ("ous", "us"), ("c", "k"), ("k", "c"), ("y", "i"),
             ("ise", "ize"), ("ght", "te"), ("wh", "w"), ("er", "a"), ("ment", "mant"), ("ary", "ery")]
_VOWELS = "aeiou"
_COMMON = {"with", "from", "that", "this", "their", "into", "over", "under", "after", "against", "which"}


def misspell(word: str, rng: random.Random) -> str:
    """One realistic spelling error: a dropped, doubled or swapped letter, or a phonetic swap."""
    lower = word.lower()
    for kind in rng.sample(["drop", "double", "swap", "phonetic", "phonetic", "phonetic"], 6):
        new = lower
        if kind == "drop" and len(lower) > 3:
            i = rng.randrange(1, len(lower))
            new = lower[:i] + lower[i + 1:]
        elif kind == "double":
            # a consonant after a vowel, as in "occured" or "comming"
            cons = [i for i, c in enumerate(lower) if c in "bcdfglmnprst" and i > 0 and lower[i - 1] in _VOWELS]
            if cons:
                i = rng.choice(cons)
                new = lower[:i] + lower[i] + lower[i:]
        elif kind == "swap" and len(lower) > 3:
            pairs = [i for i in range(1, len(lower) - 1) if lower[i] != lower[i + 1] and lower[i + 1].isalpha()]
            if pairs:
                i = rng.choice(pairs)
                new = lower[:i] + lower[i + 1] + lower[i] + lower[i + 2:]
        elif kind == "phonetic":
            subs = [(a, b) for a, b in _PHONETIC if a in lower[1:]]
            if subs:
                a, b = rng.choice(subs)
                i = lower.index(a, 1)
                new = lower[:i] + b + lower[i + len(a):]
        if new != lower and new.replace("'", "").replace("’", "").isalpha():
            return new.capitalize() if word[0].isupper() else new
    return word + word[-1]


def misspelt(text: str, rng: random.Random, rate: float = 0.08, key_terms: list[str] = (),
             strategy: str | None = None) -> str:
    """`rate` of the essay's words misspelt, one edit each.

    Strategies: 'uniform' (any word of three letters or more), 'long' (longer words more often,
    as a dyslexic writer's errors fall), 'terms' (key terms and names first, then any word).
    """
    target = round(rate * word_count(text))
    # At most one edit per whitespace-separated word, so that the share of changed words is the rate.
    starts = [m.start() for m in re.finditer(r"\S+", text)]
    by_word: dict[int, re.Match] = {}
    for m in _WORD.finditer(text):
        if len(m.group(0)) >= 3 and not m.group(0).isupper():
            by_word.setdefault(bisect.bisect_right(starts, m.start()), m)
    cands = list(by_word.values())
    strategy = strategy or rng.choice(STRATEGIES["misspelt"])
    if strategy == "uniform":
        longer = [m for m in cands if len(m.group(0)) >= 4]
        rest = [m for m in cands if len(m.group(0)) < 4]
        chosen = (rng.sample(longer, min(target, len(longer))) + rng.sample(rest, len(rest)))[:target]
    elif strategy == "long":
        weights = [len(m.group(0)) ** 2 for m in cands]
        chosen, pool = [], list(zip(cands, weights, strict=True))
        while pool and len(chosen) < target:
            i = rng.choices(range(len(pool)), weights=[w for _m, w in pool])[0]
            chosen.append(pool.pop(i)[0])
    else:
        keys = {w for t in key_terms for w in re.findall(r"[a-z']+", t.lower()) if len(w) >= 4 and w not in _COMMON}
        first = [m for m in cands if m.group(0).lower() in keys]
        rest = [m for m in cands if m.group(0).lower() not in keys]
        rng.shuffle(first)
        rng.shuffle(rest)
        chosen = (first + rest)[:target]
    out, last = [], 0
    for m in sorted(chosen, key=lambda m: m.start()):
        out += [text[last:m.start()], misspell(m.group(0), rng)]
        last = m.end()
    out.append(text[last:])
    return "".join(out)


# --- surface -------------------------------------------------------------------------------------

EMOJI = ["🙂", "👍", "🔥", "📚", "🚀", "🤔", "✅", "❄️", "👍🏽", "🇷🇺", "👨‍🌾", "💯", "😅"]


def smart_quotes(text: str) -> str:
    """Straight quotes as a word processor writes them: “ ” ‘ ’."""
    out = []
    for i, ch in enumerate(text):
        before = text[i - 1] if i else " "
        if ch == '"':
            out.append("“" if before.isspace() or before in "([{—-" else "”")
        elif ch == "'":
            out.append("‘" if before.isspace() or before in "([{—-" else "’")
        else:
            out.append(ch)
    return "".join(out)


def surface(text: str, rng: random.Random, strategy: str | None = None) -> str:
    """What a word processor, a phone or an old file does to a text; the words themselves unchanged.

    The first three strategies give CRLF line ends, smart quotes and emoji between words, varying
    the number of emoji (3-8), their kinds (single code points, modifiers, flags, ZWJ sequences)
    and where they go (after a sentence, after any word, at a paragraph's start). The others keep
    the smart quotes and give instead: old Mac line ends ("\\r" alone), Unicode paragraph separators
    and no-break spaces, odd spacing (a byte-order mark, doubled spaces, tabs, zero-width spaces),
    ellipses ending some sentences, or prose wrapped by hand at 40-70 characters with soft hyphens
    in long words.
    """
    text = smart_quotes(text.replace("\r\n", "\n"))
    where = strategy or rng.choice(STRATEGIES["surface"])
    if where == "mac_line_ends":  # old Mac files: "\r" alone ends a line
        return text.replace("\n", "\r")
    if where == "separators":  # Unicode paragraph separators, and no-break spaces here and there
        text = re.sub(r"\n[ \t]*\n+", "\u2029", text.strip())
        return re.sub(r" ", lambda m: "\u00a0" if rng.random() < 0.1 else " ", text)
    if where == "spacing":  # a byte-order mark, doubled spaces, tabs and zero-width spaces between words
        text = re.sub(r" (?=\w)", lambda m: rng.choice(["  ", "\t", " \u200b", " ", " ", " "]), text)
        return "\ufeff" + text
    if where == "wrapped":  # prose wrapped by hand at 40-70 characters, soft hyphens in some long words
        import textwrap

        width = rng.randint(40, 70)
        def wrap(para: str) -> str:  # line by line, so that a list keeps its items
            return "\n".join(textwrap.fill(ln, width, break_on_hyphens=False, break_long_words=False)
                             for ln in para.split("\n"))

        text = join([wrap(p) for p in paragraphs(text)])
        return re.sub(r"(?<=[a-z]{5})(?=[a-z]{5})", lambda m: "\u00ad" if rng.random() < 0.3 else "", text)
    if where == "ellipses":  # some sentences end in "..." or the one-character ellipsis
        return re.sub(r"\.(?= [A-Z])", lambda m: rng.choice(["...", "\u2026", ".", "."]), text)
    if where == "paragraph_start":
        slots = [0] + [m.end() for m in re.finditer(r"\n\n", text)]
    elif where == "sentence_end":
        slots = [m.end() for m in re.finditer(r"[.!?][”’)]?(?=\s)", text)]
    else:
        slots = [m.end() for m in re.finditer(r"\S+(?=[ \t])", text)]
    slots = slots or [len(text.rstrip())]
    picks = sorted(set(rng.choice(slots) for _ in range(rng.randint(3, 8))), reverse=True)
    for pos in picks:
        emo = rng.choice(EMOJI)
        text = text[:pos] + (emo + " " if where == "paragraph_start" else " " + emo) + text[pos:]
    return text.replace("\n", "\r\n")
