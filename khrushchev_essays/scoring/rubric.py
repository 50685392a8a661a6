"""Rubric files: pydantic models of the TOML format, loading, and validation that lists every problem.

A rubric is data (khrushchev_essays/rubrics/*.toml, package data). Everything the engine rewards is named here: the factors and
their phrases, the event-year pairs it checks, the language of analysis and judgement, the
criterion weights, the level bands and the caps. `load_rubric` raises `RubricError` carrying
every problem found, each as "[file] field.path: message", not just the first.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Annotated, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, create_model, field_validator, model_validator

from ..resources import data

# The shipped rubrics, package data (khrushchev_essays/rubrics/*.toml): a Traversable, so an
# installed wheel (even a zipped one) reads them as a source checkout does.
RUBRICS_DIR = data("rubrics")


NonEmptyStr = Annotated[str, Field(min_length=1)]
Phrase = Annotated[str, Field(min_length=1, max_length=120)]
WordSet = Annotated[str, Field(min_length=1, max_length=400)]  # key words of an event (Event.terms)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Level(_Strict):
    """One band of the levels-of-response scheme, described in the project's own words."""

    level: int = Field(ge=0, le=5)
    min_mark: int = Field(ge=0)
    max_mark: int = Field(ge=0)
    label: NonEmptyStr
    descriptor: NonEmptyStr  # what an answer at this level does, for students

    @model_validator(mode="after")
    def _ordered(self) -> "Level":
        if self.min_mark > self.max_mark:
            raise ValueError(f"min_mark {self.min_mark} is above max_mark {self.max_mark}")
        return self


# --- criteria: each kind with its params (the function that measures it is in criteria.py) ------
class FactorsParams(_Strict):
    """Range and depth of factors."""

    target_developed: float = Field(7, gt=0)  # developed factors for full credit
    mentioned_value: float = Field(0.25, ge=0, le=1)  # a mentioned factor counts as this much of a developed one


class EvidenceParams(_Strict):
    """Precise and accurate evidence."""

    target: float = Field(16, gt=0)  # evidence value for full credit
    date_value: float = Field(1.0, ge=0)  # a correctly dated event
    person_value: float = Field(0.5, ge=0)  # a named person
    figure_value: float = Field(0.6, ge=0)  # a figure (at most six count)
    inaccuracy_penalty: float = Field(0.08, ge=0)  # share of the criterion lost per wrong date
    factor_date_value: float = Field(0.6, ge=0)  # a year of a factor's events beside the factor, in own words


class AnalysisParams(_Strict):
    """Analysis rather than narrative: claims on the question and the language of explanation."""

    target_share: float = Field(0.45, gt=0, le=1)  # share of sentences with causal/evaluative language
    target_links: float = Field(5, gt=0)  # sentences linking factors
    target_variety: float = Field(16, gt=0)  # different words of explanation and evaluation
    target_argued: float = Field(0.6, gt=0, le=1)  # share of body paragraphs opening with a point
    narrative_free: float = Field(0.3, ge=0, le=1)  # share of story sentences that costs nothing
    narrative_weight: float = Field(0.6, ge=0)  # credit lost per unit of story share above that
    # Share of sentences that are claims on the question, for full credit; a claim counts in full
    # with claim_substance content words or more besides the language that makes it a claim and
    # the question's own words (criteria.claim_substance), in proportion below (0: all in full).
    target_claims: float = Field(0.40, gt=0, le=1)
    claim_substance: float = Field(6, ge=0)
    claims_weight: float = Field(0.5, ge=0, le=1)  # the claims' share of the criterion
    # Body paragraphs that argue (a claim on the question, backed by specific evidence, and weighed):
    # their share of the criterion, and the share of body paragraphs for full credit.
    body_weight: float = Field(0.0, ge=0, le=1)
    target_body: float = Field(0.7, gt=0, le=1)
    # Body paragraphs that carry their point through (two claims on the question or more: the point
    # and what it shows, not a story with one comment at its end): their share of the criterion,
    # and the share of body paragraphs for full credit.
    sustained_weight: float = Field(0.15, ge=0, le=1)
    target_sustained: float = Field(0.7, gt=0, le=1)


class BalanceParams(_Strict):
    """Balance and counter-argument."""

    target_paragraphs: float = Field(3, gt=0)  # paragraphs that weigh the other side
    # For a question with focus.other_side: the share of the criterion that comes from body
    # paragraphs arguing that side, and the share of body paragraphs for full credit.
    other_side_weight: float = Field(0.7, ge=0, le=1)
    target_other_side: float = Field(0.6, gt=0, le=1)
    named_rivals: float = Field(3, gt=0)  # other factors a question's named factor is weighed against


class JudgementParams(_Strict):
    """Substantiated judgement (thesis and verdict are found in claims.py)."""

    # A verdict is substantiated by the body: the share of the criterion that follows the share of
    # body paragraphs that argue (target_support of them for full credit).
    support_weight: float = Field(0.6, ge=0, le=1)
    target_support: float = Field(0.7, gt=0, le=1)


class OrganisationParams(_Strict):
    """Organisation and length."""

    target_paragraphs: float = Field(5, gt=1)  # paragraphs for full credit


# The one list of criterion kinds: a kind here needs a function registered in criteria.py (a test
# checks both ways).
CRITERION_PARAMS: dict[str, type[_Strict]] = {
    "factors": FactorsParams, "evidence": EvidenceParams, "analysis": AnalysisParams,
    "balance": BalanceParams, "judgement": JudgementParams, "organisation": OrganisationParams,
}
CRITERION_KINDS = tuple(CRITERION_PARAMS)


class _CriterionBase(_Strict):
    """A criterion of the mark: its kind picks the function that measures it (criteria.py)."""

    id: NonEmptyStr
    name: NonEmptyStr
    weight: float = Field(gt=0, le=1)  # share of the total mark; weights sum to 1
    description: NonEmptyStr  # what it rewards, for the guidance page


def _criterion_model(kind: str, params: type[_Strict]) -> type[_CriterionBase]:
    """The rubric model of one criterion kind: the common fields, `kind`, and its params."""
    return create_model(f"{kind.capitalize()}Criterion", __base__=_CriterionBase,
                        kind=(Literal[kind], ...), params=(params, Field(default_factory=params)))


CRITERION_MODELS = tuple(_criterion_model(kind, params) for kind, params in CRITERION_PARAMS.items())


# Discriminated on `kind`, so a misspelt param ("target_develped") is an error at
# criteria[0].factors.params.target_develped, not a silent no-op.
Criterion = Annotated[Union[CRITERION_MODELS], Field(discriminator="kind")]  # noqa: UP007 (a tuple of types)


class Detection(_Strict):
    """Thresholds of the junk and structure checks (gaming.py), set against the marked essays and
    the project's junk fixtures."""

    off_topic_similarity: float = Field(0.15, ge=0, le=1)  # below this, with no factor developed: off topic
    # Dates (findings.py): how many tokens a year may stand from an event's name to be read as its
    # date (and twice that from a factor's phrase), and how close after the name a wrong year must
    # be to be called wrong.
    year_window: int = Field(6, ge=1, le=30)
    wrong_after: int = Field(6, ge=0, le=30)
    keyword_stop_ratio: float = Field(0.22, ge=0, le=1)  # prose runs at 40-50% function words, lists under 20%
    # The same, over the sentences that name something of the period (a factor, an event, a person,
    # a year): a list padded with sentences of general prose ("History is a very important
    # subject...") has prose's share of function words overall, but not where its terms are. Real
    # essays run at 0.36 and over (most 0.5+), term lists at 0.2-0.29 (words less content words).
    keyword_topical_stop_ratio: float = Field(0.29, ge=0, le=1)
    keyword_fragment_share: float = Field(0.5, ge=0, le=1)  # share of lines that are fragments, for a list
    # ...which the two ratios above need too, unless function words are fewer than this share (a
    # bare list of terms, whatever its lines: the junk list fixture is at 0.1).
    keyword_bare_ratio: float = Field(0.15, ge=0, le=1)
    not_english_known: float = Field(0.55, ge=0, le=1)  # share of words that are English words, below: not English
    copied_share: float = Field(0.6, ge=0, le=1)  # share of content words from the question: copied question
    copy_remainder_words: int = Field(60, ge=0)  # words left once the question is taken out
    story_narrative_share: float = Field(0.4, ge=0, le=1)  # narrative_structure: share of story sentences...
    story_argued_share: float = Field(0.15, ge=0, le=1)  # ...body paragraphs opening with a point under this...
    story_analytic_share: float = Field(0.28, ge=0, le=1)  # ...analytic sentences under this...
    story_claim_share: float = Field(0.18, ge=0, le=1)  # ...and claims on the question under this
    analytic_floor: float = Field(0.25, ge=0, le=1)  # mostly_narrative needs analytic sentences under this share
    irrelevant_share: float = Field(0.5, ge=0, le=1)  # under this share of sentences on the question: irrelevant


class Factor(_Strict):
    """A factor an answer should weigh: the phrases that name it and the cues that develop it."""

    id: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]
    name: NonEmptyStr
    phrases: list[Phrase] = Field(min_length=3)  # variants that name the factor (matched on lemmas)
    development: list[Phrase] = Field(default_factory=list)  # cues that show it is explained, not named
    hint: NonEmptyStr  # names the idea to write about, without giving away the scoring phrases
    named: bool = False  # the factor the question itself names (q2: de-Stalinisation)

    @field_validator("phrases", "development")
    @classmethod
    def _no_duplicates(cls, v: list[str]) -> list[str]:
        seen: set[str] = set()
        dupes = [p for p in v if p.lower() in seen or seen.add(p.lower())]
        if dupes:
            raise ValueError(f"repeated phrase(s): {', '.join(sorted(set(dupes)))}")
        return v


class Event(_Strict):
    """An event with the year(s) it belongs to, for checking the accuracy of dates."""

    name: NonEmptyStr
    phrases: list[Phrase] = Field(min_length=1)
    years: list[int] = Field(min_length=1)
    # The factors the event belongs to; when left out, those whose phrases share one of the
    # event's (e.g. "secret speech" under De-Stalinisation). A year of one of a factor's events,
    # written beside the factor in the student's own words ("the 1956 speech"), is dated evidence.
    factors: list[str] = Field(default_factory=list)
    # Other ways a student refers to the event, each a set of key words that must all stand in the
    # year's clause, a few words either side of it, in any order ("Hungary in 1956", "the 1962
    # split of the party"). A word is matched on its lemma (spelling slips read as meant, as for
    # phrases); "a|b" is a choice of words for one place. `terms` name the event: with a year that
    # is not its own, standing tight against them, they are a wrong date. `cues` only point to it
    # (a place, a person, a thing also known for other years: "Hungary", "the harvest"): a cue
    # with one of the event's years is dated evidence, with another year nothing at all.
    terms: list[WordSet] = Field(default_factory=list)
    cues: list[WordSet] = Field(default_factory=list)

    @field_validator("terms", "cues")
    @classmethod
    def _word_sets(cls, v: list[str]) -> list[str]:
        for t in v:
            for slot in t.split():
                if any(not w or not re.fullmatch(r"[a-z][a-z0-9'-]*", w) for w in slot.split("|")):
                    raise ValueError(f"{t!r}: key words are lower-case words, choices joined by '|'")
        return v

    def word_sets(self) -> list[tuple[tuple[frozenset[str], ...], bool]]:
        """Each term and cue as its places (the words that may fill each) and whether it names the
        event (a term) rather than points to it (a cue)."""
        return [(tuple(frozenset(slot.split("|")) for slot in t.split()), named)
                for named, ts in ((True, self.terms), (False, self.cues)) for t in ts]

    @field_validator("years")
    @classmethod
    def _in_period(cls, v: list[int]) -> list[int]:
        bad = [y for y in v if not 1890 <= y <= 1975]
        if bad:
            raise ValueError(f"year(s) {bad} are outside 1890-1975")
        return v


class Markers(_Strict):
    """Words and phrases that signal the kinds of writing the criteria look for."""

    causal: list[Phrase] = Field(min_length=3)  # because, led to, as a result ...
    evaluative: list[Phrase] = Field(min_length=3)  # significant, decisive, superficial ...
    counter: list[Phrase] = Field(min_length=3)  # however, on the other hand ...
    conclusion: list[Phrase] = Field(min_length=2)  # in conclusion, overall ...
    judgement: list[Phrase] = Field(min_length=3)  # the question's own terms: transform, most significant ...
    comparison: list[Phrase] = Field(min_length=3)  # more important than, outweighed ...
    narrative_openers: list[Phrase] = Field(default_factory=list)  # then, after this, in 1957 ...
    people: list[Phrase] = Field(default_factory=list)  # named people, credited as precise evidence
    historians: list[Phrase] = Field(default_factory=list)
    # Plain English that takes a position (rather than, more than, mattered, in my view ...): with
    # the question's focus terms it marks a thesis or a verdict written in a student's own words.
    stance: list[Phrase] = Field(default_factory=list)


class Focus(_Strict):
    """The question's key concept: words that make a sentence about *this* question, not the topic.

    q1 asks about change and continuity, q2 about why Khrushchev fell; an essay on his rise or his
    foreign policy uses the same period's facts but not these words. `yes` and `no` are the words
    of a strong yes and of a qualified or negative answer, for checking that an introduction and
    a conclusion take the same line."""

    terms: list[Phrase] = Field(min_length=5)
    # The outcome the question asks about (q2: his fall; q1: transformation): an answer to this
    # question names it in its introduction or its conclusion. Empty: not checked.
    outcome: list[Phrase] = Field(default_factory=list)
    yes: list[Phrase] = Field(default_factory=lambda: ["transform", "fundamental", "great extent", "large extent",
                                                        "genuine", "most significant", "most important",
                                                        "main reason", "decisive"])
    no: list[Phrase] = Field(default_factory=lambda: ["limited", "superficial", "little", "not transform", "partial",
                                                       "less significant", "not the most", "some extent"])
    # When the question sets one side of its key concept against another (q1: what stayed the
    # same against what changed), the words of that other side, and what to call it in feedback:
    # a body paragraph that argues it weighs the question (the balance criterion). Empty: not used.
    other_side: list[Phrase] = Field(default_factory=list)
    other_side_name: str = "the other side"


class OtherQuestion(_Strict):
    """Another question on the period that an essay might answer instead of this one."""

    id: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]
    question: NonEmptyStr
    rubric: str | None = None  # the id of another rubric: its focus terms are this question's
    terms: list[Phrase] = Field(default_factory=list)  # or the terms given here
    # The last year the question is about, when it asks about part of the period ("by 1956"): an
    # essay whose body tells mostly of later years is not an answer to it.
    until: int | None = Field(None, ge=1900, le=2100)

    @model_validator(mode="after")
    def _has_terms(self) -> "OtherQuestion":
        if not self.rubric and len(self.terms) < 5:
            raise ValueError("give either rubric (another rubric's id) or at least 5 terms")
        return self


class Link(_Strict):
    """Two factors that bear on each other: a sentence joining them can make sense."""

    factors: tuple[str, str]
    why: NonEmptyStr  # the connection, for the rubric's reader


class ArgumentRules(_Strict):
    """Thresholds of the claims stage (claims.py): coherence, focus, repetition."""

    repeat_similarity: float = Field(0.8, gt=0, le=1)  # content-word overlap that makes a sentence a repeat
    repeat_min_words: int = Field(4, ge=1)  # sentences with fewer content words are never repeats
    repetition_share: float = Field(0.1, gt=0, le=1)  # share of sentences repeated that raises the flag
    incoherent_share: float = Field(0.3, gt=0, le=1)  # share of factor sentences that join unconnected factors
    incoherent_min: int = Field(4, ge=1)
    words_per_factor: float = Field(7.0, ge=0)  # a sentence joining n factors needs n times this many words
    # A sentence naming three factors or more, relating none, in fewer than this many words a factor,
    # lists them (claims.lists_factors): each is mentioned, none developed there. Sentences of fact
    # that touch three factors in passing run at 14 words a factor and more in the fixtures.
    list_words_per_factor: float = Field(10.0, ge=0)
    # A verdict over a body of which fewer than this share of paragraphs argue (criteria.py,
    # body_argument_share; an explained paragraph counts half) is asserted, not earned: the
    # conclusion's sentences earn it judgement, not analysis or balance as well. (A stock closing
    # paragraph pasted under a narrative lifted 38 of 87 weak scripts a level.)
    asserted_support: float = Field(0.5, ge=0, le=1)
    # An introduction on another question over a body that names the question's outcome in under this
    # share of its sentences answers that question, whatever the conclusion says (claims.py).
    set_out_body_share: float = Field(0.15, ge=0, le=1)
    # An essay whose body's years (of the period) fall almost all within another question's years
    # (OtherQuestion.until): at most this share later, of at least `told_before_years` of them.
    told_before_share: float = Field(0.2, ge=0, le=1)
    # A sentence that weighs two of the question's factors against each other speaks to its key
    # concept (claims.py): for "how far" and "to what extent" questions.
    weighing_focus: bool = True
    told_before_years: int = Field(5, ge=1)
    # Key terms strung together: the mean share of a sentence's content words that are rubric terms,
    # and the share of sentences made almost wholly of them (at least stuffed_sentence of their words).
    term_density: float = Field(0.70, gt=0, le=1)
    stuffed_sentence: float = Field(0.75, gt=0, le=1)
    stuffed_share: float = Field(0.55, gt=0, le=1)
    # Nearly that dense (within dense_margin) AND with this share of incoherent factor sentences.
    dense_margin: float = Field(0.08, ge=0, le=1)
    dense_incoherent_share: float = Field(0.15, gt=0, le=1)
    # ...or nearly that dense with nearly all of its factor sentences joining two factors or more
    # ("It is clear that X was very important because it meant that Y had to change the way Z
    # worked"): salads join in 0.89-1.0 of them. Real essays that dense join in under 0.45, and an
    # essay that weighs factors against each other in every sentence in about 0.6-0.65.
    dense_joined_share: float = Field(0.8, gt=0, le=1)
    # Words out of the order English allows (matching.Analysis.word_order): the share of articles
    # and possessives followed by a function word or punctuation, plus the share of sentences
    # ending in a word no sentence ends in. Real essays, the worst-spelt included, stay under
    # 0.07; words shuffled within their sentences reach 0.33 and more. Judged from this many
    # articles and possessives.
    scrambled_words: float = Field(0.2, gt=0)
    scrambled_min: int = Field(12, ge=1)
    other_question_ratio: float = Field(1.5, gt=0)  # the other question's focus over this one's
    other_question_min: int = Field(6, ge=1)  # sentences about the other question, at least
    # Probability (order model) that the order is not the writer's, above which the argument's
    # criteria start to lose credit (all of it once disorder_window above); at 0.4 above it the
    # essay is held as incoherent.
    disorder_threshold: float = Field(0.5, gt=0, lt=1)
    disorder_window: float = Field(0.3, gt=0, le=1)
    disorder_incoherent: float = Field(0.8, gt=0, le=1)  # from this probability the essay is held as incoherent
    # The confidence of an essay the order model took credit from: under the needs_review line
    # (0.6), so a teacher looks at it.
    disorder_confidence: float = Field(0.55, ge=0, le=1)
    # An essay without paragraphs has no paragraph figures for the order model, but its neighbours
    # still tell: a writer's next sentence shares the factor and the words of the last one more
    # often than a sentence drawn at random from the essay does. Measured as a z-score against
    # the essay's own sentences in random orders (`cohesion_orders` of them, a fixed seed), and
    # judged from `cohesion_min` sentences that name a factor. Under both lines (neighbours share
    # a factor less often than chance, words hardly more) the order is read as not the writer's,
    # at `cohesion_disorder`. The lines sit below every genuine Level 3+ essay of the marked sets
    # run together, with a sentence taken out or a line of fact added at the end. Not judged
    # when nearly any two sentences share a word (`cohesion_ceiling`): long sentences that weigh
    # every factor leave chance no room to be beaten.
    cohesion_factors: float = -0.5
    cohesion_words: float = 0.5
    # The same two lines judge an essay in paragraphs (its run of sentences is what they read)
    # while this share of its sentences or more is still credited: with repeats or copies taken
    # out, the sentences left side by side were not neighbours in the essay. The lowest genuine
    # Level 3+ essay of the marked sets and fixtures is at z 0.15 for factors (calibration2 q2/11).
    cohesion_kept: float = Field(0.9, gt=0, le=1)
    cohesion_ceiling: float = Field(0.85, gt=0, le=1)
    # ...or when neighbours share factors no more than chance (`cohesion_factors_ends`) and the
    # ends do not make up for it: the factor z-score plus `cohesion_ends_weight` times how much
    # more the first and last 12% of sentences make claims on the question than the rest
    # (claims.py `_ends_argue`; a writer frames the question first and answers it last) is under
    # `cohesion_line`. Both lines sit under every genuine Level 3+ essay of the marked sets and
    # the fixtures run together, with its first, last or any sentence taken out or two sentences
    # of fact added at the end, with a margin (the first genuine ones fall at 0.5 and 0.8).
    cohesion_factors_ends: float = 0.0
    cohesion_ends_weight: float = Field(5.0, ge=0)
    cohesion_line: float = 0.3
    # Neighbours that stay on a factor this far above chance (z) mark the order as the writer's:
    # the paragraph-reading order model is then not asked (genuine essays with their paragraphs
    # split in two, merged or run into one body sit at a median of 3; shuffles at -0.4 to -0.7).
    cohesion_ordered: float = 1.5
    cohesion_min: int = Field(8, ge=2)
    cohesion_orders: int = Field(200, ge=20, le=2000)
    cohesion_disorder: float = Field(0.9, ge=0, le=1)
    # The order inside the paragraphs (paragraph_order.py): its evidence that the order is the
    # writer's (a log-likelihood ratio, about -0.2 a paragraph when every paragraph's sentences are
    # shuffled) is judged from `paragraph_order_min` paragraphs of three or more sentences. Under
    # `paragraph_order_line` + `paragraph_order_band` the argument starts to lose credit, as for
    # the order model's probability, up to `paragraph_disorder` at the line: under the
    # incoherent line, since the paragraphs are still on their factors and earn knowledge. In
    # cross-validation the lowest genuine Level 3+ essay's evidence is -0.62 (calibration q1/21).
    paragraph_order_min: int = Field(4, ge=1)
    paragraph_order_line: float = -1.0
    paragraph_order_band: float = Field(1.0, gt=0)
    paragraph_disorder: float = Field(0.75, ge=0, le=1)
    # The essay read as one run of sentences by the same model (its "essay" weights): an order
    # that beats fewer than `run_order_line` of the other orders of its sentences is read as not
    # the writer's, at `cohesion_disorder`, from `run_order_min` sentences. In cross-validation
    # every marked essay and fixture beat 82% or more (the lowest, calibration q2/14 and q1/04);
    # about half of the shuffles of them beat fewer than half. (From 8 sentences, not 12: an essay of
    # ten long sentences shuffled kept Level 5. Every marked essay and fixture of 8 to 11 sentences
    # beats 94% or more.)
    run_order_line: float = Field(0.45, ge=0, le=1)
    run_order_min: int = Field(8, ge=3)
    # ...and read as not the writer's, at `run_loose_disorder` (the argument loses its credit,
    # the essay is not held as incoherent), when it beats fewer than `run_loose_line` of them
    # while its neighbours share factors hardly more than chance (the cohesion z-score under
    # `run_loose_factors`). Cross-validated, one genuine Level 3+ essay of 52 is under the first
    # (calibration q1/04, at 0.67 with a factor z of 0.93) and two under the second (z 0.15 and
    # 0.41, both beating 99% of orders); shuffles are mostly under both.
    run_loose_line: float = Field(0.9, ge=0, le=1)
    run_loose_factors: float = 0.8
    run_loose_disorder: float = Field(0.75, ge=0, le=1)
    # The order inside the paragraphs judged out of place *and* a second sign that the sentences are
    # not the writer's across the essay (the order model's probability from `confirm_model`, or the
    # run of sentences beating fewer than `confirm_run` of its other orders): read as a shuffle
    # across the essay, held as incoherent (`cohesion_disorder`), not as a shuffle inside its
    # paragraphs, which keeps the paragraphs' knowledge. No marked essay or fixture meets both.
    confirm_model: float = Field(0.5, ge=0, le=1)
    confirm_run: float = Field(0.95, ge=0, le=1)
    # ...and the order inside paragraphs alone does not take an essay below this level (0: it may):
    # its paragraphs are still each on their factor, which is what a Level 2 answer shows.
    paragraph_order_floor: int = Field(2, ge=0, le=5)
    # ...while its evidence is above this line: under it no marked essay of any level falls when
    # judged by a model fitted without it (cross-validated, the lowest is a Level 2 script at
    # -1.73; Level 3 and above, -0.52), so the order is beyond doubt not the writer's and the
    # essay is marked as a shuffle, floor or not (Level 3 essays shuffled so fell to Level 2 only).
    paragraph_order_floor_line: float = -2.5
    # A relevant answer of essay length is Level 2 at least (the mark scheme's Level 1 is "very
    # little relevant information"): this many words that earn credit (the length caps' Level 2
    # line), on this many of the question's factors, one of them developed, with its sentences in
    # the writer's order and no cap at Level 1. 0 words: no such floor. Marked so on both sets:
    # every uncapped script of 250 words or more given Level 1 by the rules was Level 2 to the
    # markers (five of them, at 5-7 marks to the rules' 3-5), none Level 1.
    relevant_floor_words: int = Field(250, ge=0)
    relevant_floor_factors: int = Field(2, ge=1)
    # Copied from a registered source: the flag is raised at this many copied words, or this share
    # of the essay; shorter passages are still marked and earn nothing.
    copied_min_words: int = Field(25, ge=1)
    # The question's period begins: a paragraph whose signs of time (claims._background) point
    # mostly before it is background and earns nothing, whatever words of the question it uses.
    period_start: int = Field(1953, ge=1800, le=2100)
    # ...and ends (None: no end is checked); a paragraph mostly on what came after is background too.
    period_end: int | None = Field(None, ge=1800, le=2100)
    # Years after period_end that are the aftermath or a slip ("the 1965 plot"): half a sign of the later time.
    period_grace: int = Field(3, ge=0, le=50)
    # Signs of what came before the period, besides its years ("the Red Army lost millions in the war")...
    background_terms: list[str] = Field(default_factory=list)
    # ...and of what came after it ("under Brezhnev", "perestroika", "after Khrushchev was removed")...
    later_terms: list[str] = Field(default_factory=list)
    # ...and signs of the period itself, besides its years and the rubric's events ("the Thaw",
    # "de-Stalinisation"): a paragraph that weighs another time against the period uses them.
    period_terms: list[str] = Field(default_factory=list)
    copied_share: float = Field(0.1, gt=0, le=1)
    # Words that qualify or weigh a claim ("it changed how people lived, but not who ruled"): a
    # body paragraph whose claim carries one (or a counter-argument marker) weighs its point.
    qualifiers: list[str] = Field(default_factory=lambda: ["but", "not", "only", "still", "yet", "never",
                                                           "no longer", "rather than", "more than", "less than"])


class LengthCap(_Strict):
    below_words: int = Field(gt=0)
    max_level: int = Field(ge=0, le=5)


class Caps(_Strict):
    """The mark scheme's ceilings, applied after the weighted total."""

    no_judgement: int = Field(3, ge=0, le=5)
    mostly_narrative: int = Field(2, ge=0, le=5)
    narrative_share: float = Field(0.6, gt=0, le=1)  # share of narrative sentences that is "mostly"
    one_sided: int = Field(3, ge=0, le=5)
    ignores_named_factor: int = Field(2, ge=0, le=5)
    keyword_list: int = Field(1, ge=0, le=5)
    notes: int = Field(2, ge=0, le=5)  # revision notes (headings, short paragraphs): knowledge, no argument
    off_topic: int = Field(1, ge=0, le=5)
    copied_question: int = Field(1, ge=0, le=5)
    incoherent: int = Field(1, ge=0, le=5)  # mostly sentences that join unconnected ideas, or shuffled
    answers_other_question: int = Field(2, ge=0, le=5)
    irrelevant: int = Field(2, ge=0, le=5)
    narrative_structure: int = Field(3, ge=0, le=5)
    # Level 4 asks for "a range of clear, specific evidence", Level 3 allows "sometimes generalised"
    # knowledge: an essay whose evidence criterion earns under this share is held at thin_evidence.
    # Only when the text itself is short of particulars too (`thin_evidence_specifics`: distinct
    # years, named people and figures, in the sentences credited): an answer in its own words
    # ("the leader's long address to a closed session of the congress in February 1956") gives
    # its evidence in words the rubric's list of events may not know.
    thin_evidence: int = Field(3, ge=0, le=5)
    thin_evidence_share: float = Field(0.7, ge=0, le=1)
    thin_evidence_specifics: int = Field(15, ge=0)
    # Level 3 asks for knowledge that is "mostly accurate", Level 2 allows "some inaccuracy": an
    # essay with `inaccurate_min` wrong dates or more, and more of them wrong than right, is held
    # at `inaccurate`. (The deduction for wrong dates stops at its limit; this does not.)
    inaccurate: int = Field(2, ge=0, le=5)
    inaccurate_min: int = Field(4, ge=1)
    # Marks taken off the final mark (after the caps) for each wrong date, up to a limit: AO1
    # rewards accurate knowledge, and a capped essay should still lose something for errors.
    # Whole marks (the total is rounded down): at half a mark a date, one wrong date cost nothing
    # while the report said it did.
    inaccuracy_marks: float = Field(1.0, ge=0)
    inaccuracy_max: float = Field(2.0, ge=0)
    length: list[LengthCap] = Field(default_factory=list)


class Rubric(_Strict):
    """A whole rubric file."""

    id: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]
    title: NonEmptyStr
    question: NonEmptyStr
    max_mark: int = Field(25, gt=0)
    suggested_minutes: int = Field(45, gt=0)
    suggested_words: tuple[int, int] = (800, 1400)
    summary: NonEmptyStr  # what examiners reward, in a sentence or two, for the question list
    structure: list[NonEmptyStr] = Field(min_length=3)  # a suggested plan, paragraph by paragraph
    levels: list[Level] = Field(min_length=2)
    criteria: list[Criterion] = Field(min_length=1)
    factors: list[Factor] = Field(min_length=2)
    events: list[Event] = Field(default_factory=list)
    markers: Markers
    caps: Caps = Field(default_factory=Caps)
    focus: Focus | None = None
    other_questions: list[OtherQuestion] = Field(default_factory=list)
    links: list[Link] = Field(default_factory=list)
    argument: ArgumentRules = Field(default_factory=ArgumentRules)
    detection: Detection = Field(default_factory=Detection)
    # The weighted total (0-1 of max_mark) is raised to this power before it becomes a mark: the
    # criteria saturate well before a top answer, so the curve keeps middling essays in the middle.
    mark_curve: float = Field(1.0, ge=0.5, le=3.0)
    _fingerprint: str | None = PrivateAttr(default=None)
    _factor_years: dict[str, frozenset[int]] | None = PrivateAttr(default=None)
    # Text that describes the topic, besides the factors, for recognising off-topic essays.
    topic_text: str = ""

    @model_validator(mode="after")
    def _consistent(self) -> "Rubric":
        problems = consistency_problems(self.model_dump())
        if problems:
            raise ValueError("; ".join(f"{loc}: {msg}" for loc, msg in problems))
        return self

    # --- conveniences -------------------------------------------------------------------------
    def level_for_mark(self, mark: float) -> int:
        """The level whose band holds `mark` (rounded to a whole mark)."""
        m = int(round(mark))
        for lv in self.levels:
            if lv.min_mark <= m <= lv.max_mark:
                return lv.level
        return max(self.levels, key=lambda lv: lv.max_mark).level if m > 0 else 0

    def band(self, level: int) -> Level:
        """The band of a level."""
        for lv in self.levels:
            if lv.level == level:
                return lv
        raise KeyError(level)

    @property
    def top_level(self) -> int:
        return max(lv.level for lv in self.levels)

    @property
    def named_factor(self) -> Factor | None:
        return next((f for f in self.factors if f.named), None)

    def factor(self, factor_id: str) -> Factor:
        return next(f for f in self.factors if f.id == factor_id)

    def event_factors(self, event: Event) -> list[str]:
        """The factors an event belongs to: as listed, or those sharing one of its phrases."""
        if event.factors:
            return list(event.factors)
        mine = {p.lower() for p in event.phrases}
        return [f.id for f in self.factors if mine & {p.lower() for p in f.phrases}]

    def factor_years(self) -> dict[str, frozenset[int]]:
        """Each factor's years: those of the events that belong to it."""
        if self._factor_years is None:  # frozen model: worked out once
            out: dict[str, set[int]] = {}
            for e in self.events:
                for fid in self.event_factors(e):
                    out.setdefault(fid, set()).update(e.years)
            self._factor_years = {k: frozenset(v) for k, v in out.items()}
        return self._factor_years

    def fingerprint(self) -> str:
        """A stable hash of the rubric's content (trained models record the rubric they fit)."""
        if self._fingerprint is None:  # the model is frozen, so the hash never goes stale
            self._fingerprint = hashlib.sha256(self.model_dump_json().encode()).hexdigest()[:16]
        return self._fingerprint


def consistency_problems(data: dict) -> list[tuple[str, str]]:
    """Checks across fields (weights, ids, level bands), as (field path, message) pairs.

    Written against the raw dict, defensively, so that it can run even when some fields failed
    their own validation: a rubric author then sees every problem at once, not one per attempt.
    """
    problems: list[tuple[str, str]] = []
    criteria = [c for c in data.get("criteria") or [] if isinstance(c, dict)]
    weights = [c.get("weight") for c in criteria]
    if weights and all(isinstance(w, (int, float)) for w in weights):
        total = sum(weights)
        if abs(total - 1.0) > 1e-6:
            problems.append(("criteria", f"weights add up to {total:g}, not 1"))
    for what, items in (("criteria", criteria), ("factors", data.get("factors") or [])):
        ids = [i.get("id") for i in items if isinstance(i, dict)]
        dupes = sorted({str(i) for i in ids if ids.count(i) > 1})
        if dupes:
            problems.append((what, f"repeated id(s): {', '.join(dupes)}"))
    levels = [lv for lv in data.get("levels") or [] if isinstance(lv, dict)]
    try:
        levels = sorted(levels, key=lambda lv: int(lv["min_mark"]))
        max_mark = int(data.get("max_mark", 25))
        if levels and int(levels[0]["min_mark"]) != 0:
            problems.append(("levels", "the bands must start at mark 0"))
        if levels and int(levels[-1]["max_mark"]) != max_mark:
            problems.append(("levels", f"the top band ends at {levels[-1]['max_mark']}, not at max_mark {max_mark}"))
        for a, b in zip(levels, levels[1:]):
            if int(b["min_mark"]) != int(a["max_mark"]) + 1:
                problems.append(("levels", f"levels {a.get('level')} and {b.get('level')} leave a gap or overlap "
                                           f"({a['max_mark']} -> {b['min_mark']})"))
            if isinstance(a.get("level"), int) and isinstance(b.get("level"), int) and b["level"] <= a["level"]:
                problems.append(("levels", f"level {b['level']} has higher marks than level {a['level']}"))
    except (KeyError, TypeError, ValueError):
        pass  # a band with missing or non-numeric marks is reported by its own field check
    factors = [f for f in data.get("factors") or [] if isinstance(f, dict)]
    factor_ids = {f.get("id") for f in factors}
    for i, link in enumerate(data.get("links") or []):
        pair = link.get("factors") if isinstance(link, dict) else None
        if isinstance(pair, (list, tuple)):
            unknown = [str(x) for x in pair if x not in factor_ids]
            if unknown:
                problems.append((f"links[{i}].factors", f"unknown factor id(s): {', '.join(unknown)}"))
    for i, event in enumerate(data.get("events") or []):
        ids = event.get("factors") if isinstance(event, dict) else None
        if isinstance(ids, (list, tuple)):
            unknown = [str(x) for x in ids if x not in factor_ids]
            if unknown:
                problems.append((f"events[{i}].factors", f"unknown factor id(s): {', '.join(unknown)}"))
    if sum(1 for f in factors if f.get("named") is True) > 1:
        problems.append(("factors", "at most one factor can be the question's named factor"))
    words = data.get("suggested_words")
    if isinstance(words, (list, tuple)) and len(words) == 2 and all(isinstance(w, int) for w in words) \
            and words[0] > words[1]:
        problems.append(("suggested_words", f"{words[0]}-{words[1]} is backwards"))
    return problems


class RubricError(ValueError):
    """A rubric file could not be loaded; `problems` lists each as "[file] field.path: message"."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


def _loc(loc: tuple) -> str:
    parts: list[str] = []
    for p in loc:
        if isinstance(p, int):
            parts.append(f"[{p}]")
        else:
            parts.append(("." if parts else "") + str(p))
    return "".join(parts) or "(top level)"


def parse_rubric(data: dict, source: str = "<rubric>") -> Rubric:
    """Validate a rubric already read into a dict; raise RubricError listing every problem."""
    try:
        return Rubric.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            if not err["loc"]:
                continue  # the whole-rubric checks: listed one by one below
            msg = err["msg"].removeprefix("Value error, ")
            problems.append(f"[{source}] {_loc(err['loc'])}: {msg}")
        if isinstance(data, dict):
            problems += [f"[{source}] {loc}: {msg}" for loc, msg in consistency_problems(data)]
        raise RubricError(problems or [f"[{source}] (top level): not a valid rubric"]) from None


def load_rubric_file(path: str | Path | Traversable) -> Rubric:
    """Read and validate one TOML rubric file (a path, or a Traversable from importlib.resources).

    The file is read every time; what it says is parsed and validated once for the same bytes
    (the Rubric is frozen, so one object serves every caller): the CLI checks the rubrics before
    grading and the engine loads them again (parsing the two TOML files in Python: ~2.5% of
    start-up's instructions)."""
    path = path if isinstance(path, Traversable) else Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise RubricError([f"[{path}] cannot be read: {exc.strerror or exc}"]) from None
    key = (str(path), raw)
    done = _PARSED.get(key)
    if done is not None:
        return done
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise RubricError([f"[{path}] is not UTF-8 text: {exc.reason} at byte {exc.start}"]) from None
    except tomllib.TOMLDecodeError as exc:
        raise RubricError([f"[{path}] is not valid TOML: {exc}"]) from None
    rubric = parse_rubric(data, str(path))
    if len(_PARSED) > 64:
        _PARSED.clear()
    _PARSED[key] = rubric
    return rubric


# (file path, its bytes) -> the Rubric they make (load_rubric_file).
_PARSED: dict[tuple[str, bytes], Rubric] = {}


_CACHE: dict[str, Rubric] = {}


def rubric_paths(directory: str | Path | None = None) -> list[Path | Traversable]:
    """The rubric files in a folder (the shipped ones, package data, by default)."""
    folder = RUBRICS_DIR if directory is None else directory
    folder = folder if isinstance(folder, Traversable) else Path(folder)
    if not folder.is_dir():
        return []
    return sorted((p for p in folder.iterdir() if p.name.endswith(".toml") and p.is_file()), key=lambda p: p.name)


def load_rubric(question: str, directory: str | Path | None = None) -> Rubric:
    """The rubric with id `question` (e.g. "q1"), loaded once per process and folder."""
    key = f"{directory or RUBRICS_DIR}::{question}"
    if key not in _CACHE:
        for path in rubric_paths(directory):
            rubric = load_rubric_file(path)
            _CACHE[f"{directory or RUBRICS_DIR}::{rubric.id}"] = rubric
        if key not in _CACHE:
            known = ", ".join(sorted(k.split("::")[1] for k in _CACHE if k.startswith(f"{directory or RUBRICS_DIR}::")))
            raise KeyError(f"unknown question {question!r} (known: {known or 'none'})")
    return _CACHE[key]


def load_all_rubrics(directory: str | Path | None = None) -> dict[str, Rubric]:
    """Every rubric in the folder, by id."""
    out = {}
    for path in rubric_paths(directory):
        r = load_rubric_file(path)
        out[r.id] = r
        _CACHE[f"{directory or RUBRICS_DIR}::{r.id}"] = r
    return out
