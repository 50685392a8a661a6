"""One function per criterion kind, registered by name. Each returns a score in [0, 1], a comment
a student can read, the spans that earned the score, and the measured figures behind it.

Tuning lives in the rubric file (a criterion's `params`, validated with its defaults by the kind's
params model in rubric.py); each function gets them as a dict. Every function reads only the Analysis and the Findings, so the spans it
returns are exactly what counted.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache, partial
from typing import Any

from .claims import Argument, ends_of, is_claim, lists_factors, substance
from .findings import Findings, distinct
from .matching import Analysis, Sentence
from .report import Span
from .rubric import Rubric


@dataclass
class Context:
    rubric: Rubric
    analysis: Analysis
    findings: Findings
    argument: Argument
    memo: dict[str, Any] = field(default_factory=dict)  # per-essay results of the functions below
    # The question's own content words (lemma hashes, gaming.TopicModel.question_lemmas): a claim
    # made of them and the language of argument restates the question (claim_substance).
    question_lemmas: frozenset[int] = frozenset()

    @property
    def real(self) -> list[Sentence]:
        """The sentences that can earn credit: real ones the argument stage did not exclude."""
        if "_real" not in self.memo:
            self.memo["_real"] = self.argument.credited(self.analysis)
        return self.memo["_real"]


@dataclass
class Measure:
    score: float
    comment: str
    evidence: list[Span] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)


CriterionFn = Callable[[Context, dict[str, float]], Measure]
REGISTRY: dict[str, CriterionFn] = {}



def per_essay(fn):
    """Work a sentence classification out once per essay: the criteria and the caps both ask."""
    name = fn.__name__

    def wrapper(ctx: Context):
        if name not in ctx.memo:
            ctx.memo[name] = fn(ctx)
        return ctx.memo[name]

    wrapper.__name__, wrapper.__doc__ = name, fn.__doc__
    return wrapper


def criterion(kind: str) -> Callable[[CriterionFn], CriterionFn]:
    def register(fn: CriterionFn) -> CriterionFn:
        REGISTRY[kind] = fn
        return fn
    return register


def _clip(x: float) -> float:
    return max(0.0, min(1.0, x))


def _sent_span(ctx: Context, s: Sentence, label: str, note: str | None = None) -> Span:
    return Span(s.start, s.end, ctx.analysis.text[s.start:s.end], label, note)


def _hit_spans(ctx: Context, s: Sentence, kinds: set[str], label: str) -> list[Span]:
    text = ctx.analysis.text
    return [Span(h.start, h.end, text[h.start:h.end], label, h.kind) for h in s.hits if h.kind in kinds]


def join_names(items: list[str]) -> str:
    """'a', 'a and b', 'a, b and c'."""
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


# --- factors --------------------------------------------------------------------------------------
@criterion("factors")
def factor_coverage(ctx: Context, p: dict[str, float]) -> Measure:
    """Range and depth: each factor missing / mentioned / developed, credited once."""
    f = ctx.findings
    developed = f.with_status("developed")
    mentioned = f.with_status("mentioned")
    value = len(developed) + p["mentioned_value"] * len(mentioned)
    score = _clip(value / p["target_developed"])
    evidence = [Span(h.start, h.end, ctx.analysis.text[h.start:h.end], ff.id, ff.status)
                for ff in developed + mentioned for h in ff.mentions[:1]]
    total = len(ctx.rubric.factors)
    if developed:
        comment = f"You develop {len(developed)} of the {total} factors ({join_names([x.name for x in developed])})"
        comment += f" and mention {len(mentioned)} more." if mentioned else "."
    elif mentioned:
        comment = (f"You mention {len(mentioned)} factors ({join_names([x.name for x in mentioned])}) but do not yet "
                   "explain how any of them mattered.")
    else:
        comment = "None of the question's main factors is discussed yet."
    if score < 1 and len(developed) < p["target_developed"]:
        comment += f" Top answers develop about {int(p['target_developed'])} factors with explanation and evidence."
    return Measure(score, comment, evidence, {"developed": len(developed), "mentioned": len(mentioned),
                                              "missing": total - len(developed) - len(mentioned)})


# --- evidence -------------------------------------------------------------------------------------
@criterion("evidence")
def precise_evidence(ctx: Context, p: dict[str, float]) -> Measure:
    """Correct event-year pairs, named people and figures; wrong dates cost marks."""
    f = ctx.findings
    dates = distinct(f.correct_dates, lambda sp: sp.note)
    value = (p["date_value"] * len(dates) + p["factor_date_value"] * len(f.factor_dates)
             + p["person_value"] * len(f.people)
             + p["figure_value"] * min(len(f.figures), 6))
    score = _clip(min(1.0, value / p["target"]) - p["inaccuracy_penalty"] * len(f.inaccuracies))
    parts = []
    if dates:
        parts.append(f"{len(dates)} correctly dated event{'s' if len(dates) != 1 else ''}")
    if f.factor_dates and p["factor_date_value"]:
        n = len(f.factor_dates)
        parts.append(f"{n} more date{'s' if n != 1 else ''} that fit{'' if n != 1 else 's'} the developments you describe")
    if f.people:
        parts.append(f"{len(f.people)} named {'people' if len(f.people) != 1 else 'person'}")
    if f.figures:
        parts.append(f"{len(f.figures)} figure{'s' if len(f.figures) != 1 else ''}")
    comment = ("You support your points with " + join_names(parts) + ".") if parts else \
        "There is little precise evidence: dates, names and figures would make your points convincing."
    if f.inaccuracies:
        comment += f" {len(f.inaccuracies)} date{'s are' if len(f.inaccuracies) != 1 else ' is'} wrong (marked in the essay)."
    elif parts and score < 0.7:
        comment += " Add more specific evidence to the points that have none."
    evidence = dates + (f.factor_dates if p["factor_date_value"] else []) + f.people + f.figures[:6]
    return Measure(score, comment, evidence, {"dates": len(dates), "factor_dates": len(f.factor_dates),
                                              "people": len(f.people),
                                              "figures": len(f.figures), "inaccuracies": len(f.inaccuracies),
                                              "historians": len(f.historians)})


# --- analysis -------------------------------------------------------------------------------------
# Kinds of hit that mark a sentence as doing something (sets made once: these are asked per sentence).
_EXPLAINING = frozenset({"causal", "evaluative", "comparison", "judgement", "counter", "conclusion"})
_ANALYTIC = frozenset({"causal", "evaluative", "comparison"})
_LINKING = frozenset({"causal", "comparison", "judgement"})
_POINT = frozenset({"causal", "evaluative", "comparison", "judgement"})
_VARIETY = ("causal", "evaluative", "comparison", "counter")
_RELEVANT = frozenset({"causal", "evaluative", "comparison", "judgement", "counter"})


@per_essay
def narrative_sentences(ctx: Context) -> list[Sentence]:
    """Sentences that tell what happened without saying why it mattered."""
    out = []
    for s in ctx.real:
        k = s.kinds()
        if not k.isdisjoint(_EXPLAINING):
            continue
        if s.narrative_opener or s.years or "event" in k or "people" in k:
            out.append(s)
    return out


@per_essay
def claim_sentences(ctx: Context) -> list[Sentence]:
    """Sentences that make a claim on the question: its key concept, with a position taken."""
    focus = ctx.argument.focus
    return [s for s in ctx.real if is_claim(s, focus)]


@per_essay
def analytic_sentences(ctx: Context) -> list[Sentence]:
    return [s for s in ctx.real if not s.kinds().isdisjoint(_ANALYTIC)]


@per_essay
def claim_substance(ctx: Context) -> dict[int, int]:
    """Claim sentence -> how many content words it has besides the language that makes it a claim
    and the question's own words. "Therefore de-Stalinisation transformed the USSR to a large
    extent" has one (the factor's name): it restates the question over a factor. "It changed how
    ordinary people lived, because a careless word no longer meant a camp" says what the change
    was. Names, events and facts count: they are what a claim is about."""
    question = ctx.question_lemmas
    return {s.index: substance(ctx.analysis, s, question) for s in claim_sentences(ctx)}


def claim_weight(ctx: Context, claims: list[Sentence], words: float) -> float:
    """The claims' credit: each counts in full with `words` words of substance (claim_substance)
    or more, in proportion below that (all in full when `words` is 0)."""
    if words <= 0:
        return float(len(claims))
    substance = claim_substance(ctx)
    return sum(min(1.0, substance[s.index] / words) for s in claims)


@per_essay
def link_sentences(ctx: Context) -> list[Sentence]:
    """Sentences that connect factors: two factors together, or a comparison between things."""
    return [s for s in ctx.real if "comparison" in s.kinds()
            or (not s.kinds().isdisjoint(_LINKING) and len(s.factors()) >= 2)]


@criterion("analysis")
def analysis(ctx: Context, p: dict[str, float]) -> Measure:
    """Analysis rather than narrative: causal and evaluative language, links, little pure story."""
    # A conclusion over a body that does not argue is credited as judgement only (asserted_conclusion).
    closing = asserted_conclusion(ctx)
    n = max(1, len(ctx.real) - len(closing))
    an = [s for s in analytic_sentences(ctx) if s.index not in closing]
    links = [s for s in link_sentences(ctx) if s.index not in closing]
    narr = [s for s in narrative_sentences(ctx) if s.index not in closing]
    share, narr_share = len(an) / n, len(narr) / n
    variety = marker_variety(ctx)
    # Range of analytical language matters as much as its amount: repeating "However" in every
    # sentence is a habit, not analysis.
    argued = argued_paragraphs(ctx)
    # Claims on the question (claims.py): sentences that take a position on its key concept. The
    # language of analysis is a sign of them; the claims are the thing itself.
    claims = [s for s in claim_sentences(ctx) if s.index not in closing]
    signs = (0.3 * _clip(share / p["target_share"]) + 0.2 * _clip(len(links) / p["target_links"])
             + 0.3 * _clip(variety / p["target_variety"]) + 0.2 * _clip(argued / p["target_argued"]))
    body = body_argument_share(ctx)
    base = ((1 - p["claims_weight"] - p["body_weight"]) * signs
            + p["claims_weight"] * _clip(claim_weight(ctx, claims, p["claim_substance"]) / n / p["target_claims"])
            + p["body_weight"] * _clip(body / p["target_body"]))
    penalty = p["narrative_weight"] * max(0.0, narr_share - p["narrative_free"])
    # Part of the credit is for paragraphs that carry their point through, whatever the story
    # around it costs the rest.
    sustained = sustained_paragraphs(ctx)
    score = _clip((1 - p["sustained_weight"]) * _clip(base - penalty)
                  + p["sustained_weight"] * _clip(sustained / p["target_sustained"]))
    if share >= 0.4:
        comment = f"Most of your sentences explain or judge ({len(an)} of {n})"
    elif share >= 0.2:
        comment = f"Some of your sentences explain why things mattered ({len(an)} of {n})"
    else:
        comment = f"Few sentences explain why events mattered ({len(an)} of {n})"
    comment += f", and {len(links)} link{'s' if len(links) != 1 else ''} factors together." if links else \
        ", but no sentence links one factor to another."
    if narr_share > 0.35:
        comment += f" About {round(100 * narr_share)}% of the essay tells the story without analysing it."
    thin = sum(1 for s in claims if claim_substance(ctx)[s.index] <= 2) if p["claim_substance"] > 0 else 0
    if len(claims) >= 3 and thin >= 0.6 * len(claims):
        comment += (f" {thin} of your {len(claims)} points on the question say little besides its own words"
                    " (that something \u201ctransformed the USSR\u201d or \u201cwas very important\u201d): say what"
                    " actually changed, or failed, and what that shows.")
    if sustained < 0.3 and len(body_arguments(ctx)) >= 2:
        comment += (" Most body paragraphs make their point once, if at all, after the story: lead with the point"
                    " and carry it through the evidence to what it shows for the question.")
    if closing and ctx.argument.verdict:
        comment += (" Your conclusion's reasoning is credited as your judgement; what is counted here is the"
                    " body, where few paragraphs argue a point on the question.")
    evidence = []
    for s in an:
        evidence += _hit_spans(ctx, s, _ANALYTIC, "analysis")
    return Measure(score, comment, evidence, {"sentences": len(ctx.real), "analytic": len(an), "links": len(links),
                                              "claims": len(claims),
                                              "claim_weight": round(claim_weight(ctx, claims, p["claim_substance"]), 2),
                                              "narrative": len(narr), "narrative_share": round(narr_share, 3),
                                              "variety": variety, "relevance": round(relevance(ctx), 3),
                                              "argued_paragraphs": round(argued, 3),
                                              "body_argued": round(body, 3),
                                              "sustained_paragraphs": round(sustained, 3)})


_SPECIFIC = frozenset({"factor", "dev", "event", "people"})


def specific(s: Sentence) -> bool:
    """A sentence that says something particular: a factor, an event, a person, a date or a figure."""
    return bool(s.years or s.figures) or not s.kinds().isdisjoint(_SPECIFIC)


@per_essay
def qualifier_pattern(ctx: Context) -> re.Pattern:
    return _qualifier_regex(tuple(ctx.rubric.argument.qualifiers))


@lru_cache(maxsize=32)
def _qualifier_regex(qualifiers: tuple[str, ...], lowered: bool = False) -> re.Pattern:
    # Depends on the rubric alone: built once per list of qualifiers, not once per essay.
    # `lowered`: the same pattern in lower case, matched with case (see case_blind_search).
    words = sorted(qualifiers, key=len, reverse=True)
    # (Any space between a qualifier's words: "not\u00a0only" is "not only".)
    source = r"(?:\b(?:" + "|".join(re.escape(w.lower() if lowered else w).replace("\\ ", r"\s+")
                                    for w in words) + r")\b|n't\b)"
    return re.compile(source) if lowered else re.compile(source, re.IGNORECASE)


@per_essay
def lowered_text(ctx: Context) -> str | None:
    """The essay's text in lower case, when it is ASCII (its offsets are then the text's own)."""
    text = ctx.analysis.text
    return text.lower() if text.isascii() else None


def case_blind_search(ctx: Context, build, words: tuple[str, ...]):
    """`search(start, end)`: whether the pattern `build(words)` makes (any case) matches the
    essay's text from `start` to `end`.

    For an ASCII text and ASCII words the pattern is made in lower case (`build(words, True)`)
    and matched with case against the text in lower case: ASCII letters have no case forms
    outside ASCII, so it matches where the case-blind one does, and sre, comparing each character
    ignoring case, was four times slower (a tenth of the criteria's time)."""
    return text_search(ctx.analysis.text, lowered_text(ctx), build, words)


def text_search(text: str, lowered: str | None, build, words: tuple[str, ...]):
    """case_blind_search for a text and its lower-case form (None when it is not ASCII)."""
    if lowered is not None and all(w.isascii() for w in words):
        return partial(build(words, True).search, lowered)
    return partial(build(words).search, text)


def paragraph_of(ctx: Context, s: Sentence) -> int:
    """The paragraph a sentence is read in (claims.paragraphs_as_read): its own, or for an essay
    laid out a sentence to a paragraph, the run of sentences it belongs to."""
    return ctx.argument.paragraph_of.get(s.index, s.paragraph)


@per_essay
def body_arguments(ctx: Context) -> dict[int, tuple[str, list[Sentence]]]:
    """What each body paragraph does for the argument, with the claims that do it:

    - "argued": a claim on the question that is itself specific (names a factor, an event, a date),
      in a paragraph with more specific evidence, and weighed (qualified in plain words, "but",
      "still", "not", or set against a counter-argument);
    - "explained": a claim on the question with specific evidence around it, not weighed;
    - "described": evidence with no claim on the question; "other": neither.

    The introduction and the conclusion are not body paragraphs (an essay of one or two paragraphs
    is all body). Only credited sentences count (claims.py took out repeats, copies, background)."""
    focus = ctx.argument.focus
    qual = case_blind_search(ctx, _qualifier_regex, tuple(ctx.rubric.argument.qualifiers))
    paras: dict[int, list[Sentence]] = {}
    for s in ctx.real:
        paras.setdefault(paragraph_of(ctx, s), []).append(s)
    keys = sorted(paras)
    body = keys[1:-1] if len(keys) >= 3 else keys
    out: dict[int, tuple[str, list[Sentence]]] = {}
    for k in body:
        ss = paras[k]
        claims = [s for s in ss if is_claim(s, focus)]
        evidence = sum(1 for s in ss if specific(s))
        weighed = [s for s in claims if specific(s) and (s.has("counter") or qual(s.start, s.end))]
        if weighed and evidence >= 2:
            out[k] = ("argued", weighed)
        elif claims and evidence >= 1:
            out[k] = ("explained", claims)
        elif evidence:
            out[k] = ("described", [])
        else:
            out[k] = ("other", [])
    return out


def body_argument_share(ctx: Context) -> float:
    """Share of body paragraphs that argue (an explained paragraph counts half)."""
    roles = body_arguments(ctx)
    if not roles:
        return 0.0
    return sum(1.0 if r == "argued" else 0.5 if r == "explained" else 0.0 for r, _ in roles.values()) / len(roles)


@per_essay
def asserted_conclusion(ctx: Context) -> frozenset[int]:
    """The conclusion's sentences, when its verdict is asserted rather than earned: the essay has
    an introduction, a body and a conclusion, and fewer than the rubric's `asserted_support` share
    of its body paragraphs argue (body_argument_share). Such a conclusion is credited as judgement
    (the judgement criterion, the no-judgement cap) and not also as analysis and balance: a stock
    closing paragraph under a narrative is a judgement asserted in the last lines, not analysis.

    (Not for an essay on another question: what bears on the question set is often only its ends.)"""
    if len(ctx.analysis.paragraphs) < 3 or ctx.argument.other_question is not None:
        return frozenset()
    if body_argument_share(ctx) >= ctx.rubric.argument.asserted_support:
        return frozenset()
    # (Its closing paragraph only: a conclusion read as running back into the paragraph before,
    # which makes a point of its own, leaves that paragraph to be counted as the body it is.)
    concl = intro_and_conclusion(ctx)[1]
    last = paragraph_of(ctx, concl[-1]) if concl else None
    return frozenset(s.index for s in concl if paragraph_of(ctx, s) == last)


@per_essay
def sustained_paragraphs(ctx: Context) -> float:
    """Share of body paragraphs that carry their point through: two claims on the question or
    more (claims.py), and in a paragraph of more than eight sentences one for every four ("The
    clearest break was the end of the terror... That is a difference of kind"), rather than a
    story with one comment tagged on at its end, which is comment more than analysis. (A body run
    into one paragraph needs the claims of the paragraphs it joins; repeats are not credited, so
    saying one claim twice is one.)"""
    focus = ctx.argument.focus
    claims: dict[int, int] = {}
    sizes: dict[int, int] = {}
    for s in ctx.real:
        k = paragraph_of(ctx, s)
        claims[k] = claims.get(k, 0) + is_claim(s, focus)
        sizes[k] = sizes.get(k, 0) + 1
    keys = sorted(claims)
    body = keys[1:-1] if len(keys) >= 3 else keys
    return sum(1 for k in body if claims[k] >= max(2.0, sizes[k] / 4)) / len(body) if body else 0.0


@per_essay
def argued_paragraphs(ctx: Context) -> float:
    """Share of body paragraphs that open with a point (explanation or evaluation), not a story."""
    firsts: dict[int, Sentence] = {}
    for s in ctx.real:
        firsts.setdefault(paragraph_of(ctx, s), s)
    keys = sorted(firsts)
    body = keys[1:-1] if len(keys) >= 3 else keys
    if not body:
        return 0.0
    # (A claim on the question opens with a point in any words: "What the attack on Stalin really
    # changed was the price of losing at the top.")
    focus = ctx.argument.focus
    return sum(1 for k in body if not firsts[k].kinds().isdisjoint(_POINT) or is_claim(firsts[k], focus)) / len(body)


@per_essay
def marker_variety(ctx: Context) -> int:
    """How many different words and phrases of explanation, evaluation and argument are used."""
    read = ctx.analysis.read  # as read: "more\u00a0than" is "more than", "becauze" is "because"
    return len({read(h.start, h.end).lower() for s in ctx.real if not s.kinds().isdisjoint(_VARIETY)
                for h in s.hits if h.kind in _VARIETY})


@per_essay
def relevance(ctx: Context) -> float:
    """Share of sentences that touch the question: a factor, or the language of argument."""
    real = ctx.real
    if not real:
        return 0.0
    # Background paragraphs (claims.py) were taken out of credit; they still count against relevance.
    background = sum(1 for why in ctx.argument.excluded.values() if why == "background")
    relevant = sum(1 for s in real if s.factors() or not s.kinds().isdisjoint(_RELEVANT) or s.has("focus"))
    return relevant / (len(real) + background)


# --- balance --------------------------------------------------------------------------------------
_QUALIFIERS = frozenset({"but"})


@per_essay
def counter_paragraphs(ctx: Context) -> set[int]:
    """Paragraphs that weigh the other side: a counter-argument marker ("however", "although"), or
    a claim on the question that qualifies itself in plain words ("it changed how people lived,
    but not who ruled them")."""
    read = ctx.analysis.read
    focus = ctx.argument.focus
    return {paragraph_of(ctx, s) for s in ctx.real if s.has("counter") or (
        s.has("stance") and is_claim(s, focus)
        and any(h.kind == "stance" and read(h.start, h.end).lower() in _QUALIFIERS for h in s.hits))}


@per_essay
def named_factor_weighing(ctx: Context) -> tuple[bool, int, list[Sentence]]:
    """For a question that names a factor: is it covered, how many others are set against it, and
    in which sentences is it weighed (named with another factor, or with comparison language)."""
    named = ctx.rubric.named_factor
    if named is None:
        return True, 0, []
    ff = ctx.findings.factors[named.id]
    others = [x for x in ctx.findings.factors.values() if x.id != named.id and x.status != "missing"]
    weighed = [s for s in ctx.real if named.id in s.factors()
               and (len(s.factors()) >= 2 or s.kinds() & {"comparison", "judgement"})]
    # Dealt with means in the body: a factor named only in the introduction or the conclusion
    # (a stock verdict that calls it "the most significant factor") has not been treated at all.
    # The ends are the thesis and the verdict, and the first and last paragraphs when they hold
    # them and are an introduction's or a conclusion's length (one run into the body paragraph
    # beside it, as some writers lay an essay out, holds the body's treatment too; and notes that
    # open on the factor's heading have no introduction).
    arg = ctx.argument
    ends = set(arg.thesis) | set(arg.verdict)
    by_para: dict[int, list[int]] = {}
    for s in ctx.real:
        by_para.setdefault(paragraph_of(ctx, s), []).append(s.index)
    paras = sorted(by_para)
    if len(paras) >= 3:
        for p, found in ((paras[0], arg.thesis), (paras[-1], arg.verdict)):
            if len(by_para[p]) <= 4 and set(found) & set(by_para[p]):
                ends.update(by_para[p])
    # (Nor is a list that names every factor: it names them, it deals with none.)
    in_body = any(named.id in s.factors() and not lists_factors(s, ctx.rubric.argument.list_words_per_factor)
                  for s in ctx.real if s.index not in ends)
    return ff.status != "missing" and in_body, len(others), weighed


@per_essay
def other_side_paragraphs(ctx: Context) -> tuple[list[int], int]:
    """For a question that sets one side of its key concept against another (the rubric's
    focus.other_side: q1's continuity against change), the body paragraphs that argue that side
    somewhere in their credited sentences, and how many body paragraphs there are. An essay that
    lists what changed, area by area, and says what stayed the same once has weighed little."""
    focus = ctx.rubric.focus
    if focus is None or not focus.other_side:
        return [], 0
    search = case_blind_search(ctx, _phrase_regex, tuple(focus.other_side))
    paras: dict[int, list[Sentence]] = {}
    for s in ctx.real:
        paras.setdefault(paragraph_of(ctx, s), []).append(s)
    keys = sorted(paras)
    body = keys[1:-1] if len(keys) >= 3 else keys
    return [k for k in body if any(search(s.start, s.end) for s in paras[k])], len(body)


@lru_cache(maxsize=32)
def _phrase_regex(phrases: tuple[str, ...], lowered: bool = False) -> re.Pattern:
    """Whole words and phrases, any case, any run of spaces between their words. `lowered`: the
    same pattern in lower case, matched with case (see case_blind_search)."""
    words = sorted(phrases, key=len, reverse=True)
    source = r"\b(?:" + "|".join(r"\s+".join(map(re.escape, (w.lower() if lowered else w).split()))
                                 for w in words) + r")\b"
    return re.compile(source) if lowered else re.compile(source, re.IGNORECASE)


@criterion("balance")
def balance(ctx: Context, p: dict[str, float]) -> Measure:
    """Counter-arguments spread across paragraphs; for a named factor, weighed against others."""
    paras = counter_paragraphs(ctx)
    # (A counter-argument only in a conclusion over a body that does not argue is part of the
    # asserted verdict: credited as judgement, see asserted_conclusion, and not as balance too.)
    closing = asserted_conclusion(ctx)
    in_closing = {paragraph_of(ctx, s) for s in ctx.real if s.index in closing}
    only_closing = bool(paras) and paras <= in_closing
    paras = paras - in_closing
    counter = _clip(len(paras) / p["target_paragraphs"])
    covered, rivals, weighed = named_factor_weighing(ctx)
    evidence = [sp for s in ctx.real if paragraph_of(ctx, s) in paras and "counter" in s.kinds()
                for sp in _hit_spans(ctx, s, {"counter"}, "counter")]
    sides, body = other_side_paragraphs(ctx)
    if ctx.rubric.named_factor is None:
        score = counter
        comment = (f"You consider the other side in {len(paras)} paragraph{'s' if len(paras) != 1 else ''}."
                   if paras else
                   "The other side comes up only in your conclusion: weigh it in the body, against your points."
                   if only_closing else "The essay argues one side only: weigh the evidence against your view too.")
        # (Judged over three body paragraphs or more: in one or two, any mention is "most".)
        if body >= 3 and ctx.rubric.focus is not None and ctx.rubric.focus.other_side:
            w = p["other_side_weight"]
            score = (1 - w) * counter + w * _clip(len(sides) / body / p["target_other_side"])
            name = ctx.rubric.focus.other_side_name
            comment += (f" We found {name} weighed in {len(sides)} of your {body} body paragraphs"
                        + ("." if len(sides) / body >= p["target_other_side"] else
                           "; top answers weigh it in most of them, not only in one section."))
    else:
        weigh = (0.4 * covered + 0.3 * _clip(rivals / p["named_rivals"]) + 0.3 * _clip(len(weighed) / 2))
        score = 0.5 * counter + 0.5 * weigh
        name = ctx.rubric.named_factor.name
        if not covered:
            comment = f"The question names {name}, but the essay does not deal with it."
        elif rivals < p["named_rivals"]:
            comment = f"{name} is set against only {rivals} other factor{'s' if rivals != 1 else ''}; weigh it against at least {int(p['named_rivals'])}."
        else:
            comment = f"{name} is weighed against {rivals} other factors"
            comment += f" in {len(weighed)} sentence{'s' if len(weighed) != 1 else ''} that compare them." if weighed else \
                ", but no sentence compares them directly."
        if only_closing:
            comment += " The other side comes up only in your conclusion: weigh it in the body too."
        elif not paras:
            comment += " There is no counter-argument."
        evidence += [_sent_span(ctx, s, "weighing") for s in weighed[:4]]
    return Measure(_clip(score), comment, evidence, {"counter_paragraphs": len(paras), "rivals": rivals,
                                                     "weighing_sentences": len(weighed),
                                                     "other_side_paragraphs": len(sides)})


# --- judgement ------------------------------------------------------------------------------------
def stance(text: str, rubric: Rubric) -> int:
    """+1 for a strong yes, -1 for a qualified or negative answer, 0 when no stance is legible
    (the words are the rubric's focus.yes and focus.no)."""
    if rubric.focus is None:
        return 0
    t = text.lower()
    pos = sum(t.count(w) for w in rubric.focus.yes)
    neg = sum(t.count(w) for w in rubric.focus.no)
    return (pos > neg) - (neg > pos)


@per_essay
def intro_and_conclusion(ctx: Context) -> tuple[list[Sentence], list[Sentence]]:
    """The introduction's and the conclusion's sentences: the first and last paragraphs (the
    conclusion from an "In conclusion" that opens one of the last three), or the first and last
    12% of an essay without paragraphs."""
    return ends_of(ctx.analysis, ctx.real, focus=ctx.argument.focus)  # as the argument stage reads them (claims.py)


@criterion("judgement")
def judgement(ctx: Context, p: dict[str, float]) -> Measure:
    """A position in the introduction, a conclusion answering the question in its own terms, the two
    consistent, and the judgement supported.

    Thesis and verdict are claims on the question's key concept that take a position (claims.py),
    found by where they stand; they need no stock phrase."""
    intro, concl = intro_and_conclusion(ctx)
    arg = ctx.argument
    sents = ctx.analysis.sentences
    intro_pos = [sents[i] for i in arg.thesis]
    concl_judge = [sents[i] for i in arg.verdict]
    overall = has_judgement(ctx)
    concl_marked = overall or any(s.has("conclusion") for s in concl)
    supported = [s for s in concl if s.kinds() & {"causal", "comparison", "stance"} or len(s.factors()) >= 1] \
        if overall else []
    # (Read as the engine reads them: "to a large\u00a0extent" or "too a large extent" is the phrase.)
    a = stance(" ".join(ctx.analysis.read(s.start, s.end) for s in intro_pos), ctx.rubric)
    b = stance(" ".join(ctx.analysis.read(s.start, s.end) for s in concl_judge), ctx.rubric)
    consistent = not (a and b and a != b)
    # A verdict the body has argued for is substantiated; one asserted over a description is not.
    support = _clip(body_argument_share(ctx) / p["target_support"]) if concl_judge else 0.0
    score = ((1 - p["support_weight"]) * (0.3 * bool(intro_pos) + 0.2 * concl_marked + 0.3 * bool(concl_judge)
                                          + 0.2 * _clip(len(supported) / 2))
             + p["support_weight"] * support) * (1.0 if consistent else 0.75)
    bits = []
    bits.append("Your introduction sets out a clear position." if intro_pos else
                "We could not find a clear position on the question in your introduction.")
    if concl_judge:
        bits.append("The conclusion answers the question directly" +
                    (" and gives reasons." if supported else ", but without reasons."))
        if support < 0.5:
            bits.append("It looks asserted more than earned: few body paragraphs make a specific claim about "
                        "the question and weigh it, so the verdict has little argument to rest on.")
    elif concl_marked:
        bits.append("There is a conclusion, but we could not find where it answers the question itself.")
    else:
        bits.append("We could not find a concluding judgement on the question.")
    if not consistent:
        bits.append("The conclusion seems to contradict the position in your introduction.")
    evidence = [_sent_span(ctx, s, "judgement", "thesis") for s in intro_pos[:2]]
    evidence += [_sent_span(ctx, s, "judgement", "verdict") for s in concl_judge[:2]]
    return Measure(_clip(score), " ".join(bits), evidence, {
        "intro_position": bool(intro_pos), "conclusion": concl_marked, "conclusion_judgement": bool(concl_judge),
        "consistent": consistent, "support": round(support, 3)})


@per_essay
def has_judgement(ctx: Context) -> bool:
    """Whether the essay reaches an overall judgement at all (for the Level 3 cap): its conclusion
    makes a claim on the question that takes a position (a verdict, claims.py). A body paragraph
    that merely uses the word "transformed" is not a judgement, and neither is a final paragraph
    of new facts."""
    return bool(ctx.argument.verdict)


# --- organisation ---------------------------------------------------------------------------------
@criterion("organisation")
def organisation(ctx: Context, p: dict[str, float]) -> Measure:
    """Paragraphing, an introduction and a conclusion, and a length that gives room to argue."""
    # Paragraphs that earn nothing (background, repeats, copies: claims.py) organise nothing.
    sents, excluded = ctx.analysis.sentences, ctx.argument.excluded
    excluded_only = {sents[i].paragraph for i in excluded} - {s.paragraph for s in ctx.real}
    paras = len(ctx.analysis.paragraphs) - len(excluded_only)
    # Repeated and incoherent sentences (claims.py) add words but no room to argue.
    words = ctx.analysis.words - sum(sents[i].words for i in excluded)
    lo, _hi = ctx.rubric.suggested_words
    intro, concl = intro_and_conclusion(ctx)
    has_concl = bool(ctx.argument.verdict) or any(s.has("conclusion") or s.has("judgement") for s in concl)
    score = (0.35 * _clip((paras - 1) / (p["target_paragraphs"] - 1)) + 0.45 * _clip(words / lo)
             + 0.2 * has_concl)
    comment = f"{words} words in {paras} paragraph{'s' if paras != 1 else ''}."
    if words < lo * 0.6:
        comment += f" A 45-minute answer is usually {lo} words or more."
    if paras < 3:
        comment += " Break the essay into paragraphs: an introduction, one per factor or argument, and a conclusion."
    elif not has_concl:
        comment += " It needs a concluding paragraph."
    return Measure(_clip(score), comment, [], {"paragraphs": paras, "words": words})
