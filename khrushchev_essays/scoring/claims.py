"""What the essay argues, read off the Analysis before anything is credited.

The engine's stages run in this order (engine.py): analyse (matching.py) -> claims (here) ->
findings -> criteria -> mark scheme -> calibration -> feedback. This stage decides which
sentences can earn credit at all and finds the argument's skeleton:

- **Repeats.** A sentence whose content words are (nearly) those of an earlier sentence is a
  repeat: it is credited once, at its first appearance.
- **Coherence.** A sentence that joins factors the rubric's knowledge does not connect
  (`[[links]]`), with no weighing to make sense of the join, asserts nothing an examiner could
  credit ("the Virgin Lands undermined the Berlin Wall"). Such sentences earn nothing.
- **Focus.** Each sentence's use of the question's key concept (`[focus]`) and of the other
  questions' (`[[other_questions]]`): an essay that mostly speaks to another question answers it.
- **Thesis and verdict.** A claim in the question's own concept that takes a position (stance,
  judgement, evaluation or comparison), found by where it stands: in the introduction (thesis)
  and in the conclusion (verdict). Stock phrases are not needed: "the way the USSR was ruled
  changed; what ruled it did not" is a verdict.
- **Order.** Whether the sentences follow on from one another as written (an essay's paragraphs
  hold together; shuffled sentences do not), measured by a small model in khrushchev_essays/models/order_model.json.

Sentences that earn nothing are marked `excluded` (with the reason) and stop being `real`, so
every later stage credits them nowhere; the report explains each exclusion.
"""

from __future__ import annotations

import json
import math
import re
import sys
from bisect import bisect_right
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType

from ..resources import data
from .matching import OWN_FOCUS, Analysis, Sentence
from .paragraph_order import CONTINUES, OPENING_CUES, Judgement, ParagraphOrderModel, Sentences, opening_cues, paragraph_order_model
from .phrasing import prose, read_phrasing
from .rubric import OtherQuestion, Rubric

# What makes a sentence on the question's key concept a claim: it takes a position (stance,
# judgement, evaluation, comparison), concludes, or gives a reason ("he fell because...").
_POSITION = frozenset({"stance", "judgement", "evaluative", "comparison", "conclusion", "causal", "counter"})
_WEIGHING = frozenset({"comparison", "judgement"})
# What makes a closing sentence the essay's answer: it judges, takes a stance or weighs.
_ANSWERING = frozenset({"judgement", "stance", "comparison"})
# Language that asserts a relation between the things a sentence names ("undermined", "because",
# "more significant than"): only a sentence that relates factors can relate unconnected ones.
# "A strike at Novocherkassk was put down by the army" names two factors and relates neither.
_RELATING = frozenset({"causal", "comparison", "judgement", "evaluative"})
# Words that open a sentence by pointing back at the one before it.
ANAPHORIC_OPENERS = frozenset({
    "this", "these", "that", "those", "it", "its", "they", "their", "such", "but", "however", "also", "so",
    "yet", "instead", "nevertheless", "therefore", "thus", "moreover", "furthermore", "similarly", "likewise",
    "even", "and", "then", "here", "both", "again", "consequently",
})
# Package data; `make order-model` (scripts/train_order_model.py) writes it, nothing at run time.
ORDER_MODEL_FILE = data("models", "order_model.json")
ORDER_FEATURES = ("para_ratio", "adj_ratio", "para_first_anaphora", "dangling_anaphora", "thesis_first", "verdict_last",
                  "years_forward", "opening_frames", "topic_sentences", "factor_unity", "misplaced",
                  "factor_dominance", "year_spread", "ends_dated", "ends_claims",
                  "topic_claims", "precedence", "openers_after", "paragraph_close")
# What a sentence is like, for telling which of two sentences of a paragraph a writer puts first
# (the precedence model, fitted on the order of real essays' sentences): a topic sentence names
# its factor before the dated detail under it, a sentence opening "However" or "This" follows
# something, a paragraph closes on the link to the question. The last figure compares a pair:
# whether the second one's years come later.
PRECEDENCE_FEATURES = ("dated", "figure", "topic", "opens_back", "opens_contrast", "opens_result",
                       "opens_additive", "outcome", "claim", "concludes", "causal", "counter", "length",
                       "focus", "narrative", "evaluative", "years_later")
_OPENS = {
    "opens_back": frozenset({"he", "she", "it", "they", "this", "these", "that", "those", "his", "its", "their", "such"}),
    "opens_contrast": frozenset({"however", "but", "yet", "although", "though", "nevertheless", "nonetheless",
                                 "despite", "still", "instead", "whereas", "conversely"}),
    "opens_result": frozenset({"therefore", "thus", "so", "consequently", "hence", "accordingly"}),
    "opens_additive": frozenset({"also", "furthermore", "moreover", "additionally", "similarly", "likewise",
                                 "another", "besides", "again", "then"}),
}
# Sentence openings that belong at one end of an essay: a conclusion's opening anywhere but the
# last paragraph, or an introduction's anywhere but the first, means the order is not the writer's.
_CLOSING_OPENERS = ("in conclusion", "to conclude", "to sum up", "in summary", "overall", "all in all", "ultimately",
                    "on balance", "taken together", "finally")
_OPENING_OPENERS = ("this essay", "in this essay", "i will argue", "i will look", "i will consider", "firstly",
                    "to begin", "first of all")


@dataclass(frozen=True)
class Argument:
    """The argument as read: what can earn credit, and the skeleton the criteria judge."""

    repeats: dict[int, int]  # sentence index -> the earlier sentence it repeats
    incoherent: tuple[int, ...]  # sentences that join unconnected factors
    focus: dict[int, frozenset[str]]  # sentence index -> focus keys ("own" or other question ids)
    focus_counts: dict[str, int]  # sentences using each question's key concept
    thesis: tuple[int, ...]  # claims on the question in the introduction
    verdict: tuple[int, ...]  # claims on the question in the conclusion
    other_question: OtherQuestion | None  # the question the essay answers instead, if any
    factor_sentences: int  # real sentences that name a factor (before exclusions)
    order: dict[str, float] = field(default_factory=dict)  # the order model's features
    disorder: float = 0.0  # probability that the sentences are not in the writer's order
    term_density: float = 0.0  # mean share of a sentence's content words that are the rubric's terms
    stuffed_share: float = 0.0  # share of sentences made almost wholly of the rubric's terms
    dense: bool = False  # the essay is mostly key terms strung together (its stuffed sentences excluded)
    # Its words are not in an order English allows (Analysis.word_order): every sentence excluded.
    scrambled: float | None = None  # the figure, when it passed the rubric's line
    # Sentence index -> why it earns nothing ("copied", "repeat", "incoherent", "word_order",
    # "background", "other_question", "question" (the question copied out), "references",
    # "unfinished", "restatement", "list" (factors listed as leading to the outcome, judging nothing)). The Analysis is never changed: what is credited is read through here.
    excluded: Mapping[int, str] = field(default_factory=lambda: MappingProxyType({}))
    # Not written in sentences (phrasing.py): the sentences' mean gain, when under the model's line.
    unphrased: float | None = None
    # The order inside the paragraphs (paragraph_order.py), when the essay has paragraphs to judge,
    # and the disorder the other figures give (`disorder` is the larger of the two).
    paragraph_order: Judgement | None = None
    disorder_across: float = 0.0
    # The share of the other orders of its sentences that the essay's own order beats, read as
    # one run (paragraph_order.py, role "essay"), when it has enough sentences to be judged so.
    run_order: float | None = None
    # Sentence index -> the paragraph it is read in (paragraphs_as_read), for an essay laid out a
    # sentence to a paragraph: the run of sentences it belongs to. (Empty: its own paragraph.)
    paragraph_of: Mapping[int, int] = field(default_factory=lambda: MappingProxyType({}))

    def credits(self, s: Sentence) -> bool:
        """Whether a sentence can earn credit: a real sentence (matching.py) not excluded here."""
        return s.real and s.index not in self.excluded

    def credited(self, analysis: Analysis) -> list[Sentence]:
        """The essay's sentences that can earn credit, in order."""
        return [s for s in analysis.sentences if s.real and s.index not in self.excluded]

    @property
    def repeated_share(self) -> float:
        return len(self.repeats) / max(1, self.factor_sentences + len(self.repeats))

    @property
    def incoherent_share(self) -> float:
        return len(self.incoherent) / max(1, self.factor_sentences)



# Words no finished English sentence ends on: conjunctions, some prepositions (not those that
# end phrasal verbs, "what they relied on"), articles and possessives, subject pronouns. A sentence that stops on one, without its full stop, was broken
# off (the writer ran out of time: "...because it was closer to 1964 and it").
_DANGLING = frozenset({
    "and", "but", "or", "nor", "because", "so", "although", "though", "while", "whereas", "since", "as", "if",
    "unless", "until", "whereby", "which", "whose", "than", "of", "from", "into", "between", "during", "the", "a",
    "an", "his", "their", "its", "our", "my", "your", "he", "she", "they", "we", "i", "very",
})
_PRONOUN_OBJECTS = frozenset({"it", "this", "there"})
_TAIL_WORDS = re.compile(r"[A-Za-z’']+")


def unfinished(text: str) -> bool:
    """A sentence broken off mid-clause: no closing punctuation, and its last word one that cannot
    end a sentence ("and", "because", "the") or "it"/"this" straight after a conjunction ("...and
    it"). A sentence a writer left without its full stop but finished ("the party was still in
    charge") is not one."""
    body = text.rstrip()
    if not body or body[-1] in ".!?;:\"\u201d\u2019')]\u2026-\u2013\u2014*":
        return False
    words = [w.lower() for w in _TAIL_WORDS.findall(body[-60:])]
    if len(words) < 3 or not body[-1].isalpha():
        return False
    if words[-1] in _DANGLING:
        return True
    return words[-1] in _PRONOUN_OBJECTS and words[-2] in {"and", "but", "because", "so", "as", "while", "since"}


def read_argument(analysis: Analysis, rubric: Rubric, copied=(), order: OrderModel | None = None,
                  paragraph_model: ParagraphOrderModel | None = None,
                  question_lemmas: frozenset[int] | None = None) -> Argument:
    """Read the argument and mark copied, repeated and incoherent sentences as excluded from credit.

    `copied` are the passages found in registered sources (copying.Overlap, with start/end): a
    sentence mostly inside them is the source's work, not the student's. `order`: the order model
    (the Engine's; the shipped one when not given). `question_lemmas`: the question's own content
    words (gaming.TopicModel.question_lemmas), for the comments tagged on to paragraphs that only
    restate it (`tagged_restatements`); without them none is looked for."""
    rules = rubric.argument
    sents = analysis.sentences
    shared = _shared_words(analysis)
    question_words = _words_of(rubric.question)
    # The question copied out above the answer (in the first paragraph): not a sentence of the
    # essay, so not one that an answer in the question's own words repeats either.
    first = next((s.paragraph for s in sents if s.real), 0)
    restated = frozenset(s.index for s in sents if s.real and s.paragraph == first
                         and _restates(analysis.read(s.start, s.end), question_words))
    sources_from = _references_start(analysis.text)
    # (Nor is a list of sources after it: the conclusion stays the last paragraph of the essay.)
    aside = restated | {s.index for s in sents if s.real and s.start >= sources_from}
    repeats = _repeats(sents, shared, rules.repeat_similarity, rules.repeat_min_words, analysis.text, aside)
    # (The conclusion, which may run over two paragraphs, restates the argument by design.)
    written = [s for s in sents if s.real and s.index not in aside]
    concl_from = conclusion_start(analysis, written) if written and len(analysis.paragraphs) >= 3 else None
    repeats.update(_repeated_paragraphs(sents, shared, repeats, aside, conclusion=concl_from))
    linked = {frozenset(link.factors) for link in rubric.links}
    incoherent: list[int] = []
    excluded: dict[int, str] = {}  # sentence index -> why it earns nothing
    factor_sentences = 0
    copied_chars = _covered(sents, copied)
    for s in sents:
        if not s.real:
            continue
        if s.start >= sources_from:
            excluded[s.index] = "references"  # the list of sources after the essay
            continue
        if s.index in restated:
            excluded[s.index] = "question"  # the question copied out above the answer
            continue
        if copied_chars.get(s.index, 0) * 2 >= max(1, s.end - s.start):
            excluded[s.index] = "copied"
            continue
        if s.index in repeats:
            excluded[s.index] = "repeat"
            continue
        if unfinished(analysis.read(s.start, s.end)):
            excluded[s.index] = "unfinished"  # broken off mid-clause: the point it began is not made
            continue
        fs = s.factors()
        if fs:
            factor_sentences += 1
        if linked and len(fs) >= 2 and not s.kinds().isdisjoint(_RELATING) \
                and not _coherent(fs, s, linked, rules.words_per_factor, analysis):
            if len(fs) >= 3 and enumerated(s, analysis) == len(fs):
                # Its factors are one list that "led to" the outcome, judging nothing: the
                # essay's plan. It earns nothing, but joins nothing unconnected either.
                excluded[s.index] = "list"
            else:
                incoherent.append(s.index)
                excluded[s.index] = "incoherent"
        elif len(s.years) >= 2 and s.has("causal") and _effect_before_cause(analysis, s):
            incoherent.append(s.index)
            excluded[s.index] = "incoherent"
    background = _background(analysis, rubric, excluded)
    for s in sents:
        if s.real and s.index not in excluded and s.index in background:
            excluded[s.index] = "background"
    real = [s for s in sents if s.real and s.index not in excluded]
    scored = _term_density(analysis, real)
    density = [d for _s, d in scored]
    mean_density = sum(density) / len(density) if density else 0.0
    stuffed = sum(1 for d in density if d >= rules.stuffed_sentence) / len(density) if density else 0.0
    # Judged only on an essay's worth of sentences (counting those already found incoherent): a
    # note of three dense sentences is not salad.
    judged = len(density) + len(incoherent)
    # Of the factor sentences judged (those found incoherent included), those that join two or more.
    judged_at = {s.index for s in real} | set(incoherent)
    joined = [len(s.factors()) >= 2 for s in sents if s.index in judged_at and s.factors()] \
        if mean_density >= rules.term_density - rules.dense_margin else []
    # Bullet points and arrows (notes, below) are terse by nature: a page of them is as dense with
    # the rubric's terms as a salad, and says what it knows. Notes earn their knowledge and are held
    # by the caps on notes and narrative, not set aside as terms strung together.
    prose_of = real  # (the sentences `in_prose` holds the lines of prose of, kept for the notes below)
    in_prose = prose(analysis.text, [(s.index, s.start, s.end) for s in real])
    bulleted = 2 * len(in_prose) < len(real)
    dense = not bulleted and judged >= rules.incoherent_min * 2 and (
        mean_density >= rules.term_density or stuffed >= rules.stuffed_share
        or (mean_density >= rules.term_density - rules.dense_margin
            and (len(incoherent) / max(1, factor_sentences) >= rules.dense_incoherent_share
                 or (joined and sum(joined) >= rules.dense_joined_share * len(joined)))))
    if dense:
        # Key terms strung together: the sentences made of them earn nothing either.
        for s, d in scored:
            if d >= rules.stuffed_sentence:
                excluded[s.index] = "incoherent"
                incoherent.append(s.index)
        real = [s for s in sents if s.real and s.index not in excluded]
    # Words shuffled inside their sentences ("reforms the of Khrushchev transformed USSR"): the
    # key terms are all there, the sentences say nothing. Every sentence is set aside.
    dets, det_bad, ends, end_bad = analysis.word_order
    scrambled = round(det_bad / dets + end_bad / max(1, ends), 4) if dets >= rules.scrambled_min else 0.0
    if scrambled >= rules.scrambled_words:
        for s in sents:
            if s.real and excluded.get(s.index, "incoherent") in ("incoherent", "list"):
                if s.index not in excluded:
                    incoherent.append(s.index)
                excluded[s.index] = "word_order"  # the reason the student is given, for them all
        real = []
    focus = {s.index: frozenset(h.key for h in s.hits if h.kind == "focus") for s in real if s.has("focus")}
    if rules.weighing_focus:
        # Weighing two of the question's factors against each other is a claim in its key concept
        # whatever words it uses: both questions ask "how far", and "agriculture counted for less
        # than the attack on the apparatus" answers that without naming his fall.
        for s in real:
            if len(s.factors()) >= 2 and OWN_FOCUS not in focus.get(s.index, ()) and (
                    not s.kinds().isdisjoint(_WEIGHING) or weighs(analysis.read(s.start, s.end))):
                focus[s.index] = focus.get(s.index, frozenset()) | {OWN_FOCUS}
    counts: dict[str, int] = {}
    for keys in focus.values():
        for k in keys:
            counts[k] = counts.get(k, 0) + 1
    start = conclusion_start(analysis, real) if real and len(analysis.paragraphs) >= 3 else None
    intro, concl = ends_of(analysis, real, start, focus)  # (the conclusion's start worked out once)
    thesis = tuple(s.index for s in intro if is_claim(s, focus) and not signpost(analysis.read(s.start, s.end)))
    verdict = tuple(s.index for s in concl if is_claim(s, focus) and not signpost(analysis.read(s.start, s.end))) \
        if _concludes(analysis, concl, focus, excluded, start) else ()
    if question_lemmas is not None:
        for i in tagged_restatements(analysis, real, focus, intro, concl, question_lemmas):
            excluded[i] = "restatement"
    other = _other_question(rubric, focus, sents)
    # (Judged from the last paragraph alone: an "Overall" opening the one before it, which joins
    # it to the conclusion for the verdict, does not bring an answer to another question back.)
    # (A sentence to a paragraph: the ends are read from the run of sentences, and whether they
    # speak to the question from its first and last quarters, the stretch an introduction and a
    # conclusion of a writer's paragraphs would take up.)
    quarter = max(ends_size(real), len(real) // 4) if real else 0
    if other is None and not (_names_outcome(rubric, analysis, real[:quarter], real[-quarter:])
                              if sentence_paragraphed(real) else
                              _names_outcome(rubric, analysis, intro,
                                             [s for s in concl if real and s.paragraph == real[-1].paragraph])):
        other = _closest_other(rubric, focus, sents)
    if other is None and not sentence_paragraphed(real):
        other = _set_out_otherwise(rubric, analysis, focus, intro, concl, real)
    if other is None:
        other = _told_before(rubric, focus, intro, concl, real)
    order = order or order_model()
    # The order model reads paragraphs: an essay without them (fewer than three, or a sentence to
    # each) is not judged by it, since its paragraph figures would call any such essay shuffled
    # (Level 5 scripts run into one paragraph were held at Level 1). A model fitted on essays laid
    # out so could not tell them from their shuffles without calling strong ones shuffled too.
    flat = flat_layout(analysis, real)
    # Mostly bullet points and arrows: notes, whose points need not follow on from one another
    # (the order model, fitted on prose, read a page of them as shuffled). Held by the notes caps.
    # (The same sentences as for `bulleted` above unless some were set aside since.)
    lines = in_prose if real is prose_of else prose(analysis.text, [(s.index, s.start, s.end) for s in real])
    notes = 2 * len(lines) < len(real)
    opened = _openings(analysis, real, focus)
    read = paragraph_sentences(real, shared, opened) if real else None
    order_feats = _order_features(analysis, real, shared, thesis, verdict, focus, order.precedence, opened, start)
    # Signs that need no paragraphs ("In conclusion" early, an opening "However") settle it either
    # way: for an essay without paragraphs they are all there is.
    ends_disorder = _ends_out_of_place(analysis, real)
    # How much more neighbouring sentences share factors and words than any two do (z-scores).
    z = _cohesion(real, shared, rules.cohesion_min, rules.cohesion_orders, rules.cohesion_ceiling)
    # Run together (or the body in one paragraph), not notes: a page of headings and one-line
    # points has many paragraphs, its points need not follow on, and it is held for being notes.
    run_together = flat and not notes and len(real) >= 1.5 * max(1, len({s.paragraph for s in real}))
    if run_together and ends_disorder < rules.cohesion_disorder and z is not None and (
            (z[0] < rules.cohesion_factors and z[1] < rules.cohesion_words)
            or (z[0] < rules.cohesion_factors_ends
                and z[0] + rules.cohesion_ends_weight * _ends_argue(real, intro, concl, focus) < rules.cohesion_line)):
        ends_disorder = rules.cohesion_disorder
    # The order model reads paragraphs, and a writer's paragraphs come in many sizes: split in
    # two or merged, genuine essays looked shuffled to it. When neighbouring sentences stay on a
    # factor far more often than chance (`cohesion_ordered`), the order is the writer's whatever
    # the paragraphs look like, and the model is not asked: if its ends are in place too, a thesis
    # in the first paragraph and a verdict in the last. (A shuffle of whole paragraphs keeps each
    # one's sentences together, so its neighbours follow on: a known gap.)
    ends_in_place = bool(thesis) and bool(verdict)
    model = 0.0 if flat or notes or (z is not None and z[0] >= rules.cohesion_ordered and ends_in_place) \
        else order.predict(order_feats)
    # Inside the paragraphs: a writer's sentences beat most orders they could have had, shuffled
    # ones about half (paragraph_order.py). Judged only with enough paragraphs to show it; below
    # the line, the argument loses its credit as a shuffle across the essay's would, but the
    # essay is not held as incoherent: its paragraphs are still on their factors.
    paragraphs = paragraph_model or paragraph_order_model()
    within = None if flat or notes or read is None else paragraphs.judge(read, paragraph_roles(real, read))
    within_disorder = paragraph_disorder(rules, within)
    # The essay as one run of sentences, paragraphs or not (the same model's "essay" weights: it
    # opens on the question, closes on the verdict, each sentence follows on from the last): a
    # writer's order beats nearly all the orders its sentences could have had (cross-validated,
    # every marked essay beat 82% or more); a shuffled one, any share. Under the line it is read as
    # shuffled across the essay, whatever its paragraphs look like.
    run = paragraphs.judge(read, [(0, list(range(len(real))), "essay")]) if len(real) >= rules.run_order_min else None
    run_share = run.shares[0][1] if run is not None else None
    # Only an essay with an ending somewhere (a verdict, or a sentence that concludes) is judged
    # so, or by the order model: one its writer did not finish is in order, but lacks the
    # conclusion that both read the shape of an essay by. Cut to their first 40% and scored, 28 of
    # 222 marked essays and fixtures were held as incoherent for their order, 9 now (6% of them
    # read as shuffled by the run alone); shuffles without any ending are caught by the rest.
    ends = bool(verdict) or any(s.has("conclusion") for s in real)
    if (ends and not flat and not notes and ends_disorder < rules.cohesion_disorder and z is not None
            and z[0] < rules.cohesion_factors and z[1] < rules.cohesion_words
            and len(real) >= rules.cohesion_kept * sum(1 for s in analysis.sentences if s.real)):
        # The same signs in paragraphs: the figures read the run of sentences, whatever the
        # paragraphs, and shuffled across the essay its neighbours are any two sentences. Read
        # only while the sentences credited are nearly all the essay's: with repeats or copied
        # passages taken out, sentences that stand side by side here did not in the essay (a
        # Level 2 script that says one thing over and over falls under both lines once its
        # repeats are gone). Notes have no paragraphs to speak of (flat) and are not read so, nor
        # an essay without an ending: cut short, a writer's essay can fall under both lines.
        ends_disorder = rules.cohesion_disorder
    if run_share is not None and ends and run_share < rules.run_order_line:
        ends_disorder = max(ends_disorder, rules.cohesion_disorder)
    elif (run_share is not None and ends and z is not None and run_share < rules.run_loose_line
          and z[0] < rules.run_loose_factors):
        # Two weaker signs together: the run beats fewer orders than any writer's did, and its
        # neighbours share factors hardly more than chance. Cross-validated, one marked essay of
        # 52 (calibration q1/04, a writer who weaves factors together) is under the run's line
        # here, but not under the factors' one; each alone would catch a third of the shuffles
        # the run's own line misses at the cost of genuine essays, both together do without.
        # The argument loses its credit, but the essay is not held as incoherent on this alone.
        ends_disorder = max(ends_disorder, rules.run_loose_disorder)
    if not ends:
        model = min(model, rules.disorder_threshold)
    if within_disorder > rules.disorder_threshold and ends and (
            model >= rules.confirm_model or (run_share is not None and run_share < rules.confirm_run)):
        # Out of order inside the paragraphs, and across the essay by a second sign: the paragraphs
        # are not the writer's either (a shuffle across the essay, its sentences dealt out into
        # paragraphs), so the floor kept for a shuffle inside them does not apply. (With the run read
        # from 8 sentences, shuffles across the essay that lose two levels: 96.8% at seeds 1956 and
        # 2024; no marked essay or fixture is out of order inside its paragraphs past the line.)
        ends_disorder = max(ends_disorder, rules.cohesion_disorder)
    disorder = max(ends_disorder, model, within_disorder) if len(real) >= 8 else 0.0
    # Text stitched from word pairs or cut-up runs of words (phrasing.py): its sentences that do
    # not run as sentences earn nothing, and the essay is held as incoherent (gaming.py).
    # Notes are not judged so: in a script written mostly as bullet points and arrows, the lines
    # between them (a heading, "Intro - K in power 1953-64", a conclusion in shorthand) are notes
    # too, and shorthand does not run as sentences do. (Such a script is held by the caps on notes.)
    lines = [(i, t) for i, t in lines if i not in excluded]
    phrased = read_phrasing([] if notes else lines)
    if phrased.broken:
        for i in phrased.sentences:
            excluded[i] = "word_order"
        real = [s for s in real if s.index not in excluded]
    if other is not None:
        # An answer to another question earns credit only for what bears on the question set:
        # the paragraphs that speak to its key concept somewhere.
        on_question = {s.paragraph for s in real if OWN_FOCUS in focus.get(s.index, ())}
        for s in real:
            if s.paragraph not in on_question:
                excluded[s.index] = "other_question"
        focus = {i: keys for i, keys in focus.items() if i not in excluded}
        counts = {}
        for keys in focus.values():
            for k in keys:
                counts[k] = counts.get(k, 0) + 1
    return Argument(repeats, tuple(sorted(incoherent)), focus, counts, thesis, verdict, other, factor_sentences,
                    order_feats, disorder,
                    round(mean_density, 4), round(stuffed, 4), dense,
                    scrambled if scrambled >= rules.scrambled_words else None,
                    MappingProxyType(dict(sorted(excluded.items()))),
                    phrased.mean_gain if phrased.broken else None, within,
                    max(ends_disorder, model) if len(real) >= 8 else 0.0, run_share,
                    MappingProxyType(paragraphs_as_read(real)))


def paragraph_disorder(rules, within: Judgement | None) -> float:
    """The paragraph order model's judgement as a probability that the order is not the writer's:
    0 with fewer than `paragraph_order_min` paragraphs judged; from the disorder threshold (no
    credit lost) at `paragraph_order_line` + `paragraph_order_band` of evidence up to
    `paragraph_disorder` at the line and under it."""
    if within is None or len(within.shares) < rules.paragraph_order_min:
        return 0.0
    over = (within.evidence - rules.paragraph_order_line) / rules.paragraph_order_band
    if over >= 1.0:
        return 0.0
    t = rules.disorder_threshold
    return round(t + (rules.paragraph_disorder - t) * min(1.0, 1.0 - over), 4)


# Hits whose words are not terms for the density below: "but", "not", "only" (stance) are the words
# of any prose, and the question's own key concept (focus: "his fall from power", "transformed")
# is what an answer talks about. A weak answer that echoes the question in every paragraph ("This
# was a significant factor in his fall from power") is not a string of terms; counted as terms,
# such an answer crossed the salad line and lost every sentence.
_NOT_TERMS = frozenset({"stance", "focus"})


def _term_density(analysis: Analysis, real: list[Sentence]) -> list[tuple[Sentence, float]]:
    """For each sentence with four or more content words, the share of them inside a phrase of the
    rubric (a factor, a cue, an event, a marker), but not of the question's key concept.

    Real answers, however dense with knowledge, spend most of their words saying something about
    the terms: 25-60% of a sentence's content words are terms. Strings of terms joined by
    connectives ("Consequently the Virgin Lands undermined the sovnarkhozy") run at 75% and over."""
    import numpy as np

    content = analysis.token_content
    if content is None:
        return []
    # Tokens covered by a sentence's own hits, marked for the whole essay at once (a running count
    # of hits open at each token); each hit is cut at its sentence's end so that only the
    # sentence's own hits count for its words. Then words and covered words per sentence are
    # differences of running totals, where a set per sentence cost a Python step per token.
    opens, closes = [], []
    for s in real:
        for h in s.hits:
            if h.kind not in _NOT_TERMS:
                opens.append(h.tok_start)
                closes.append(min(h.tok_end, s.tok_end))
    n = len(content)
    inside = np.cumsum(np.bincount(np.array(opens, dtype=np.int64), minlength=n + 1)
                       - np.bincount(np.array(closes, dtype=np.int64), minlength=n + 1))[:n] > 0
    words = np.concatenate(([0], np.cumsum(content))).tolist()
    covered = np.concatenate(([0], np.cumsum(content & inside))).tolist()
    out = []
    for s in real:
        w = words[s.tok_end] - words[s.tok_start]
        if w < 4:
            continue
        out.append((s, (covered[s.tok_end] - covered[s.tok_start]) / w))
    return out


def _background(analysis: Analysis, rubric: Rubric, excluded: dict[int, str]) -> set[int]:
    """Sentences of background from another period: the paragraphs whose sentences are mostly
    set before the period (Stalin's rule, the war, the Tsars) or after it (Brezhnev,
    Gorbachev), whatever words of the question they use ("transformed", "new", "removed" are
    words of any history). Such a paragraph earns nothing and counts as irrelevant; one that
    sets another time against the period stays.

    A sentence's signs of another time are its years and decades outside the period and the
    rubric's terms for what came before (`background_terms`) and after (`later_terms`); its
    signs of the period are its years inside it, the rubric's events (all of the period) and its
    terms for the period (`period_terms`), none counted inside a later term ("after 1964",
    "after Khrushchev was removed"). In a sentence that opens with a later term the events it
    names are the later time's too ("After Khrushchev was removed, Kosygin became Premier"),
    while a year or a term of the period still links it back ("Brezhnev's regime abolished the
    sovnarkhozy of 1957": an outcome, on the question).
    A year just after the end (`period_grace`) is the aftermath or a slip ("the 1965 plot"):
    half a sign of the later time. The sentence is set in another time when those signs
    outweigh the period's, and in the period when it has a sign of it and no more of another.

    A paragraph is background when its signs of another time add up to two or more, more than
    twice as many of its sentences are set in another time as in the period, and those are at
    least half of its sentences (or most of its years lie outside the period). Each sentence
    votes once, so a sentence listing Stalin's crimes in the Secret Speech paragraph ("the purges
    of 1937 and 1938, the war in 1941") outweighs no more than one on the speech itself, and a
    paragraph that weighs Stalin's time against Khrushchev's ("Under Stalin ...; by 1964 ...")
    keeps its credit."""
    rules = rubric.argument
    start, end = rules.period_start, rules.period_end
    later_from = None if end is None else end + rules.period_grace
    counted = [s for s in analysis.sentences if s.real and s.index not in excluded]
    if not counted:
        return set()
    text = analysis.text
    starts = [s.start for s in counted]

    def owner(pos: int) -> int | None:  # the counted sentence a character belongs to
        i = bisect_right(starts, pos) - 1
        return i if i >= 0 and pos < counted[i].end else None

    first, last = counted[0].start, counted[-1].end
    kinds, elsewhen_scan = _time_terms(tuple(rules.background_terms), tuple(rules.later_terms))
    n = len(counted)
    other, own = [0.0] * n, [0.0] * n  # signs of another time and of the period, per sentence
    years_out, years_all = [0] * n, [0] * n
    framed = [False] * n  # opens with a later term
    later_spans: list[tuple[int, int]] = []
    # (Each scan once over the essay's counted stretch; the lower-cased text for ASCII: see TermScan.)
    lowered = text.lower() if text.isascii() else None
    if elsewhen_scan is not None:
        for a, b in elsewhen_scan.spans(text, lowered, first, last):
            i = owner(a)
            if i is None:
                continue
            other[i] += 1
            if kinds.get(" ".join(text[a:b].lower().split())) == "later":
                later_spans.append((a, b))
                framed[i] = framed[i] or len(text[counted[i].start:a].split()) <= 1

    def in_later(a: int, b: int) -> bool:  # inside a later term, as its point of reference
        # (The spans are a scan's matches, in order and apart, so their ends rise too: only the
        # first one ending after `a` can begin before `b`, if any does.)
        k = bisect_right(later_ends, a)
        return k < len(later_spans) and later_spans[k][0] < b

    later_ends = [y for _x, y in later_spans]
    for a0, b0 in _decades(text, lowered, first, last):
        i = owner(a0)
        if i is not None and not any(a <= a0 < b for _y, a, b, _t in counted[i].years):
            y = _decade(text[a0:b0])
            # One over before the period began, or begun after it ended ("the 1950s" is neither).
            if y + 9 < start or (later_from is not None and y > later_from):
                other[i] += 1
                years_out[i] += 1
                years_all[i] += 1
    paragraphs: dict[int, list[int]] = {}
    for i, s in enumerate(counted):
        paragraphs.setdefault(s.paragraph, []).append(i)
        if s.years or s.figures:
            ys = [(y, a, b) for y, a, b, _t in s.years]
            if s.figures:
                # The matcher reads years from 1890 to 1975 only; an earlier or a later one ("in 1861",
                # "in 1986") is a figure to it.
                ys.extend((int(text[a:b]), a, b) for a, b in s.figures if b - a == 4 and text[a:b].isdigit()
                          and (1700 <= int(text[a:b]) < min(1890, start)
                               or (later_from is not None and later_from < int(text[a:b]) <= 2030)))
            for y, a, b in ys:
                years_all[i] += 1
                if y < start or (later_from is not None and y > later_from):
                    years_out[i] += 1
                    other[i] += 1
                elif end is not None and y > end:
                    other[i] += 0.5  # just after the end: the aftermath, or a slip ("the 1965 plot")
                elif not later_spans or not in_later(a, b):
                    own[i] += 1
        # (The events of a sentence set later are the later time's.)
        if not framed[i] and s.has("event"):
            own[i] += sum(1 for h in s.hits if h.kind == "event" and not (later_spans and in_later(h.start, h.end)))
    # Signs of another time per paragraph (`other` is complete here; the period's terms add to `own`).
    weights = [(members, sum(other[i] for i in members)) for members in paragraphs.values()]
    # The period's terms, searched for only where another time has signs enough to matter (a
    # search of every sentence cost more than the rest of this stage).
    period_scan = _term_scan(tuple(rules.period_terms))
    for members, weight in weights:
        if period_scan is None or weight < 2:
            continue
        for a, b in period_scan.spans(text, lowered, counted[members[0]].start, counted[members[-1]].end):
            i = owner(a)
            if i is not None and not in_later(a, b):
                own[i] += 1
    out: set[int] = set()
    closing = weights[-1][0] if weights else []
    for members, weight in weights:
        if weight < 2:
            continue
        if members is closing and counted[members[0]].has("conclusion") and any(counted[i].has("outcome") for i in members):
            # A conclusion that says so and answers the question sets the period against the times
            # either side by its nature ("not the same as under Stalin"; "undone after 1964"), in
            # the question's terms rather than the period's names and dates.
            continue
        elsewhen = sum(1 for i in members if other[i] > own[i])
        in_period = sum(1 for i in members if own[i] >= max(1, other[i]))
        dated, dated_out = sum(years_all[i] for i in members), sum(years_out[i] for i in members)
        if elsewhen > 2 * in_period and (elsewhen >= 0.5 * len(members) or (dated >= 2 and dated_out >= 0.6 * dated)):
            out.update(counted[i].index for i in members)
    return out


_DECADE_YEARS = re.compile(r"1(?<!\w.)[89]\d0['\u2019]?s\b", re.IGNORECASE)  # "\b1": the character before is not \w
_DECADE_NAMED = re.compile(r"\bthe (?:twenties|thirties|forties|seventies|eighties|nineties)\b", re.IGNORECASE)
_DECADE_NAMED_LOWER = re.compile(r"the (?<!\w.{4})(?:twenties|thirties|forties|seventies|eighties|nineties)\b")
_DECADE_WORDS = {"twenties": 1920, "thirties": 1930, "forties": 1940, "seventies": 1970, "eighties": 1980,
                 "nineties": 1990}


def _decade(token: str) -> int:
    t = token.lower()
    return int(t[:4]) if t[:1].isdigit() else _DECADE_WORDS[t.split()[-1]]


@lru_cache(maxsize=8)
def _time_terms(before: tuple[str, ...], later: tuple[str, ...]) -> tuple[dict[str, str], TermScan | None]:
    """Each term of another time with its kind ("before", "later"), and one scan for them all."""
    kinds = {" ".join(t.lower().split()): "before" for t in before}
    kinds.update({" ".join(t.lower().split()): "later" for t in later})
    return kinds, _term_scan(tuple(kinds))


def _trie(terms: tuple[str, ...]) -> str | None:
    """Any of the terms (as a pattern, to be matched ignoring case). Built as a trie (the terms
    sharing a first letter share a branch), which runs several times faster than a list of
    alternatives; at each place the longest term that fits is matched."""
    if not terms:
        return None
    trie: dict = {}
    for term in terms:
        node = trie
        for ch in " ".join(term.lower().split()):
            node = node.setdefault(ch, {})
        node[""] = {}

    def branch(node: dict) -> str:
        alts = [re.escape(ch) + branch(node[ch]) for ch in sorted(k for k in node if k)]
        if not alts:
            return ""
        body = alts[0] if len(alts) == 1 else "(?:" + "|".join(alts) + ")"
        return f"(?:{body})?" if "" in node else body

    return branch(trie)


class TermScan:
    r"""Any of the terms as whole words, any case: the spans that the plain pattern
    (`\b` + the trie + `\b`, ignoring case) finds with finditer, found faster.

    The plain pattern is tried at every character (sre has no first character to look for in it),
    and, ignoring case, each of the trie's branches is tried in turn. Every term begins with a
    letter or a digit, and these, whatever the case, match only letters and digits (a test checks
    every character), so a match at p has a word boundary before it only when p is the start or
    the character before p is not a word character. The quick pattern takes that character as its
    first: sre skips to the spaces and punctuation and tries the trie only after each. A match at
    `pos` itself has its character before `pos`: the plain pattern is asked there. On ASCII text
    lower-cased (for ASCII that is what ignoring case means) a branch is refused at its first letter
    at once."""

    def __init__(self, terms: tuple[str, ...]):
        body = _trie(terms)
        self.plain = re.compile(r"\b" + body + r"\b", re.IGNORECASE)
        # (A term beginning otherwise, say with a quote, leaves the plain pattern to do it all.)
        self._quick = all(" ".join(t.lower().split())[:1].isalnum() for t in terms)
        self._folded = re.compile(r"\W(" + body + r")\b", re.IGNORECASE)
        self._cased = re.compile(r"\W(" + body + r")\b")

    def spans(self, text: str, lowered: str | None, pos: int, endpos: int) -> list[tuple[int, int]]:
        """The spans the plain pattern finds from `pos` to `endpos`; `lowered`: text.lower() when
        the text is ASCII (None otherwise)."""
        if not self._quick:
            return [m.span() for m in self.plain.finditer(text, pos, endpos)]
        out = []
        m = self.plain.match(text, pos, endpos)
        if m is not None:
            out.append(m.span())
            pos = m.end()
        if lowered is not None:
            out.extend(m.span(1) for m in self._cased.finditer(lowered, pos, endpos))
        else:
            out.extend(m.span(1) for m in self._folded.finditer(text, pos, endpos))
        return out


@lru_cache(maxsize=8)
def _term_scan(terms: tuple[str, ...]) -> TermScan | None:
    return TermScan(terms) if terms else None


def _decades(text: str, lowered: str | None, pos: int, endpos: int) -> list[tuple[int, int]]:
    r"""The decades ("the 1930s", "the twenties") from `pos` to `endpos`, as the plain pattern
    `\b1[89]\d0['\u2019]?s\b|\bthe (?:twenties|...)\b` (ignoring case) finds them, found
    by what each kind begins with: a "1" (a digit is rare in prose, and sre looks for a known first
    character at C speed), or "the " on lower-cased ASCII text. (The two kinds begin with
    different characters and cannot overlap, so the two lists merged by place are the one.)"""
    years = [m.span() for m in _DECADE_YEARS.finditer(text, pos, endpos)]
    if lowered is None:
        words = [m.span() for m in _DECADE_NAMED.finditer(text, pos, endpos)]
    else:
        words = [m.span() for m in _DECADE_NAMED_LOWER.finditer(lowered, pos, endpos)]
    return sorted(years + words) if words else years


# Openings that only an essay's last or first stretch uses: a conclusion's "In conclusion" or an
# introduction's "This essay will" ("Overall" and "Firstly" are used inside essays too).
_ENDING = ("in conclusion", "to conclude", "to sum up", "in summary", "to summarise", "to summarize")
_BEGINNING = ("this essay will", "in this essay", "i will argue", "this essay argues")


# Words a sentence opens with only when something came before it: no essay begins with them.
_FOLLOWS = frozenset({"however", "therefore", "this", "these", "also", "furthermore", "moreover", "thus",
                      "consequently", "nevertheless", "nonetheless", "additionally", "similarly", "likewise",
                      "instead", "but", "and", "so", "yet", "hence", "secondly", "thirdly", "lastly"})
_ORDINALS = ("firstly", "secondly", "thirdly", "fourthly", "fifthly")


def _ends_out_of_place(analysis: Analysis, real: list[Sentence]) -> float:
    """For an essay without paragraphs, the signs of order that do not need them: its
    conclusion's opening ("In conclusion") before its last third, or its introduction's ("This
    essay will") after its first; a first sentence that opens as if something came before it
    ("However", "This meant", "Secondly"); "Secondly" before "Firstly". A writer does not put them
    there; a shuffle does. Read as a probability of 0.9 that the order is not the writer's, and 0
    otherwise (not judged)."""
    n = len(real)
    if not n:
        return 0.0
    heads = [_head(analysis, s, 40).lower() for s in real]
    first = _word_at_start(heads[0])
    if first in _FOLLOWS and not re.match(r"th(is|ese) (essay|question)", heads[0]) \
            or heads[0].startswith(_ENDING):
        return 0.9
    seen = -1
    for k, head in enumerate(heads):
        if (head.startswith(_ENDING) and k < 0.67 * n) or (head.startswith(_BEGINNING) and k >= 0.33 * n):
            return 0.9
        word = _word_at_start(head)
        if word in _ORDINALS:
            rank = _ORDINALS.index(word)
            if rank < seen:
                return 0.9
            seen = rank
    return 0.0


def _ends_argue(real: list[Sentence], intro: list[Sentence], concl: list[Sentence],
                focus: dict[int, frozenset[str]]) -> float:
    """How much more often the opening and closing sentences make claims on the question than the
    essay's sentences do: a writer frames the question first and answers it last; shuffled, the
    ends are any sentences (about 0)."""
    ends = intro + [s for s in concl if s not in intro]
    if not real or not ends:
        return 0.0
    claims = sum(1 for s in real if is_claim(s, focus))
    return sum(1 for s in ends if is_claim(s, focus)) / len(ends) - claims / len(real)


def _cohesion(real: list[Sentence], shared, minimum: int, orders: int,
              ceiling: float = 1.0) -> tuple[float, float] | None:
    """How much more a sentence shares with the one before it than with any sentence of the essay:
    (factors, words), each a z-score of the share of neighbouring pairs that have a factor (or
    any content word or factor) in common, against the same essay's sentences in `orders` random
    orders (a fixed seed: the same essay always gets the same figure). A writer stays on a factor
    for a few sentences and picks up the last sentence's words; shuffled, neighbours are any two
    sentences. None (not judged) with fewer than `minimum` sentences that name a factor, fewer
    than two factors, or when two sentences at random share a word more often than `ceiling`."""
    import numpy as np

    named = [s.factors() for s in real]
    if sum(1 for f in named if f) < minimum or len(set().union(*named)) < 2:
        return None
    n = len(real)
    sizes, common = shared
    at = np.array([s.index for s in real], dtype=np.intp)
    words = (common.take(at, 0).take(at, 1) > 0).astype(np.float64)  # (as common[np.ix_(at, at)], faster)
    column: dict[str, int] = {}
    cells = [(row, column.setdefault(f, len(column))) for row, fs in enumerate(named) for f in fs]
    incidence = np.zeros((n, len(column)), dtype=np.int64)
    incidence[tuple(np.array(cells).T)] = 1
    factors = ((incidence @ incidence.T) > 0).astype(np.float64)
    steps = _order_steps(n, orders)
    out = []
    for m in (factors, words):
        seen = float(m[np.arange(n - 1), np.arange(1, n)].mean())
        chance = m.ravel().take(steps).mean(axis=1)  # m[perms[:, :-1], perms[:, 1:]], a quarter of the cost
        if m is words and float(chance.mean()) > ceiling:
            return None
        out.append((seen - float(chance.mean())) / max(float(chance.std()), 1e-9))
    return out[0], out[1]


@lru_cache(maxsize=256)
def _orders(n: int, orders: int):
    """`orders` random orders of n sentences, the same for every essay of n sentences (seeded)."""
    import numpy as np

    rng = np.random.default_rng(n)
    return np.argsort(rng.random((orders, n)), axis=1)


@lru_cache(maxsize=256)
def _order_steps(n: int, orders: int):
    """For each of the `_orders(n, orders)`, where each sentence and the next one stand in an
    n x n matrix read flat (row * n + column): `m.ravel().take(steps)` is
    `m[perms[:, :-1], perms[:, 1:]]`. Read only."""
    perms = _orders(n, orders)
    steps = perms[:, :-1] * n + perms[:, 1:]
    steps.flags.writeable = False
    return steps


_SOURCES_HEADING = re.compile(r"(?im)^[ \t]*(?:bibliography|references|sources(?: used)?|works cited|reading list|"
                              r"further reading)[ \t]*:?[ \t]*$")
_WORD_RE = re.compile(r"[a-z0-9]+")


def _references_start(text: str) -> int:
    """Where a list of sources after the essay begins (a line "Bibliography", "References"...,
    in the last third of the text), or past the end when there is none."""
    for m in _SOURCES_HEADING.finditer(text):
        if m.start() >= 0.67 * len(text):
            return m.start()
    return len(text) + 1


def _words_of(text: str) -> set[str]:
    return set(_WORD_RE.findall(text.lower()))


def _restates(sentence: str, question_words: set[str]) -> bool:
    """Whether a sentence is the question copied out: a question, nearly all its words the set
    question's, no longer than it by more than a few words. (An answer in the question's words,
    "De-Stalinisation was the most significant factor...", is not a question.)"""
    if not sentence.rstrip().rstrip("\"'\u201d\u2019)").endswith("?"):
        return False
    words = _WORD_RE.findall(sentence.lower())
    if not words or not question_words or len(words) > len(question_words) + 4:
        return False
    return sum(w in question_words for w in words) >= 0.85 * len(words) and \
        len(set(words) & question_words) >= 0.7 * len(question_words)


def flat_layout(analysis: Analysis, real: list[Sentence]) -> bool:
    """Whether an essay has no paragraphs to speak of: fewer than three, hardly more than a
    sentence to each (one sentence a line), or one paragraph holding half its sentences or more
    (an introduction, the whole body in one, a conclusion): the order model, which reads
    paragraphs, called such essays shuffled (a Level 5 script so laid out fell to Level 1)."""
    sizes: dict[int, int] = {}
    for s in real:
        sizes[s.paragraph] = sizes.get(s.paragraph, 0) + 1
    return len(analysis.paragraphs) < 3 or len(real) < 1.5 * max(1, len(sizes)) \
        or max(sizes.values(), default=0) >= 0.5 * len(real)


def _covered(sents: list[Sentence], passages) -> dict[int, int]:
    """Characters of each sentence inside the passages (sentence index -> count)."""
    out: dict[int, int] = {}
    for p in passages:
        for s in sents:
            lo, hi = max(s.start, p.start), min(s.end, p.end)
            if lo < hi:
                out[s.index] = out.get(s.index, 0) + hi - lo
    return out


# Causal connectives by the way they point: from a cause before them to an effect after ("as a
# result", "therefore", "led to"), or from an effect before them to a cause after ("because").
_FORWARD = frozenset({"as a result", "consequently", "therefore", "thus", "hence", "led to", "leading to",
                      "which meant", "this meant", "meant that", "resulted in", "resulting in", "caused",
                      "so that", "which led to"})
_BACKWARD = frozenset({"because", "because of", "due to", "owing to", "as a result of"})


def _effect_before_cause(analysis: Analysis, s: Sentence) -> bool:
    """Whether a sentence makes something the result of what came after it: a year before a
    forward connective and an earlier one after it ("The harvest failed in 1963, and as a result
    Hungary was crushed in 1956"), or the other way round for "because" ("...in 1956 because ...
    in 1961"). Events joined at random by connectives do this half the time; a writer's never."""
    text = analysis.text
    years = s.years
    for h in s.hits:
        if h.kind != "causal":
            continue
        said = analysis.read(h.start, h.end).lower()
        forward = said in _FORWARD
        if not forward and said not in _BACKWARD:
            continue
        before = [(y, b) for y, _a, b, _t in years if b <= h.start]
        after = [(y, a) for y, a, _b, _t in years if a >= h.end]
        if not before or not after:
            continue
        (y0, end0), (y1, start1) = before[-1], after[0]
        # Both years in the clauses the connective joins: nothing between them starts another
        # ("..., and after Beria's arrest in 1953", "..., whose support had been vital in 1957").
        if start1 - h.end > 100 or _CLAUSE_BREAK.search(text, h.end, start1) or ";" in text[end0:h.start]:
            continue
        if (forward and y1 < y0) or (not forward and y1 > y0):
            return True
    return False


# What starts another clause, or sets a time before the sentence's own ("had been").
_CLAUSE_BREAK = re.compile(r"[;:]|,\s*(?:and|but|although|though|while|whereas|which|who|whose|when|where|before|"
                           r"after|until|since|so|yet|as|if|unlike|then)\b|\bhad\b", re.IGNORECASE)


def _coherent(fs: frozenset[str], s: Sentence, linked: set[frozenset[str]], words_per_factor: float,
              analysis: Analysis | None = None) -> bool:
    """Whether a sentence that joins factors can make sense.

    Each factor it names must connect to another it names (a `[[links]]` pair), or the sentence
    must weigh them against each other. And it must have room to say something
    about them: a sentence of key terms strung together with connectives ("the sovnarkhozy
    undermined the Virgin Lands, so the Berlin Wall was decisive") has only a few words per
    factor, where even a dense real sentence explains each one. In a sentence that judges, the
    factors it names, all in one list, take the room of one ("transformed the USSR to a large extent
    because he changed de-Stalinisation, agriculture, housing and education"): the list is the
    reasons for its verdict, and says nothing of each item that would need room. (A list that only
    "led to" the outcome, judging nothing, is the essay's plan, and earns nothing as a claim.)"""
    def compares() -> bool:  # (the regular expressions run only where the answer is needed)
        return s.has("comparison") or (analysis is not None and weighs(analysis.read(s.start, s.end)))

    in_words = not s.kinds().isdisjoint(_WEIGHING)
    if s.words < words_per_factor * len(fs):
        weighed = compares()
        # (Only when the list holds every factor it names: a list joined to another factor is joined.)
        listed = (weighed or in_words) and analysis is not None and enumerated(s, analysis) == len(fs)
        # Set against each other, factors share the room the comparison takes: "De-Stalinisation
        # mattered, but the failure of farming and the anger of the officials mattered more" says
        # its one thing of the three in 19 words.
        if s.words < words_per_factor * (1 if listed else len(fs) - 1 if weighed else len(fs)):
            return False
        if weighed or in_words:
            return True
    elif in_words or compares():
        # Weighing them against each other is itself the link: in the rubric's words ("mattered
        # more than") or in the writer's own ("did more harm than", "a bigger threat than").
        return True
    if len(fs) == 2:
        return fs in linked
    return all(any(frozenset((a, b)) in linked for b in fs if b != a) for a in fs)


# A comparison in the writer's own words: a comparative ("more", "less", "worse", "bigger", any
# word in -er) up to five words before "than" ("did more harm than", "hurt him far less than",
# "a bigger threat than", "rather than"). Not a comparison of time or a difference ("earlier
# than", "later than", "other than"): those weigh nothing.
_COMPARATIVE = re.compile(
    r"\b(more|less|fewer|worse|better|\w{2,}er)\b(?:\s+\w+){0,5}?\s+than\b(?!\s+(?:\d|half\b|twice\b|double\b|"
    r"(?:a|an|one|two|three|four|five|ten|twenty|fifty|a\s+few)\s+(?:\w+\s+)?"
    r"(?:million|thousand|hundred|percent|per\s+cent|tons?|tonnes?|years?|hectares?)\b))", re.IGNORECASE)
_NOT_WEIGHING = frozenset({"earlier", "later", "sooner", "longer", "older", "newer", "other", "never"})


# Ranking one thing against another without "than": "ranks below both", "came second to",
# "secondary to", "set beside 1957", "paled next to", "overshadowed".
_RANKING = re.compile(
    r"\b(?:rank(?:s|ed|ing)?\s+(?:\w+\s+)?(?:below|above|behind|after|ahead\s+of|first|second|third|last|higher|lower)"
    r"|c(?:ome|omes|ame|oming)\s+(?:a\s+)?(?:\w+\s+)?(?:second|third|last|behind|after|before|first)"
    r"|(?:second|secondary|subordinate|inferior|superior)\s+to|set\s+(?:beside|against|alongside)"
    r"|(?:pale[sd]?|paling)\s+(?:beside|next\s+to|in\s+comparison)|overshadow\w*|eclips\w*|dwarf(?:s|ed|ing)?)\b",
    re.IGNORECASE)


# Weighing with the comparison left implicit: "X mattered, but Y mattered more", "counted for
# less", "did most to bring him down", "weighed most heavily".
_MATTERED_MORE = re.compile(
    r"\b(?:matter(?:s|ed|ing)?|count(?:s|ed|ing)?(?:\s+for)?|weigh(?:s|ed|ing)?|did|mean(?:s|t)?)"
    r"\s+(?:far\s+|much\s+|even\s+|still\s+)?(?:more|most|less|least)\b", re.IGNORECASE)


def weighs(read: str) -> bool:
    """Whether a sentence (as read) compares two things in its own words (see _COMPARATIVE,
    _RANKING and _MATTERED_MORE)."""
    return any(m.group(1).lower() not in _NOT_WEIGHING for m in _COMPARATIVE.finditer(read)) \
        or _RANKING.search(read) is not None or _MATTERED_MORE.search(read) is not None


# What may stand between two items of a list: separators, and at most a few words of an item
# the rubric has no term for ("agriculture, industry, housing").
_LIST_SEPARATOR = re.compile(r",|;|\band\b|\bor\b|&|\bas well as\b", re.IGNORECASE)


# The words that make a sentence a claim (the question's concept, a position, a reason): what a
# claim says besides them is its substance.
CLAIM_WORDS = frozenset({"causal", "evaluative", "comparison", "judgement", "stance", "counter", "conclusion",
                         "focus", "outcome"})


def substance(analysis: Analysis, s: Sentence, question_lemmas: frozenset[int]) -> int:
    """How many content words a sentence has besides the language that makes it a claim
    (CLAIM_WORDS) and the question's own words. "Therefore de-Stalinisation transformed the USSR
    to a large extent" has one (the factor's name): it restates the question over a factor. "It
    changed how ordinary people lived, because a careless word no longer meant a camp" says what
    the change was. Names, events and facts count: they are what a claim is about."""
    if analysis.token_lemmas is None or analysis.token_content is None:
        return 0
    said = set()
    for h in s.hits:
        if h.kind in CLAIM_WORDS:
            said.update(range(h.tok_start, h.tok_end))
    lemmas = analysis.token_lemmas[s.tok_start:s.tok_end].tolist()
    content = analysis.token_content[s.tok_start:s.tok_end].tolist()
    return sum(1 for k, (lemma, c) in enumerate(zip(lemmas, content))
               if c and lemma not in question_lemmas and s.tok_start + k not in said)


# A sentence that points back at what came before it in its first words ("This shows that...",
# "Therefore this was...", "As a result, it...").
_POINTS_BACK = re.compile(r"^\W*(?:[\w'-]+\W+){0,3}?(?:this|that|it|these|those)\b", re.IGNORECASE)


def tagged_restatements(analysis: Analysis, real: list[Sentence], focus: dict[int, frozenset[str]],
                        intro: list[Sentence], concl: list[Sentence], question_lemmas: frozenset[int]) -> list[int]:
    """Comments tagged on to the end of body paragraphs that only restate the question over what
    came before ("This shows that Khrushchev's reforms transformed the USSR to a large extent",
    "Therefore this was the most significant factor in his fall from power in 1964"): the last
    sentence of a body paragraph of three sentences or more, a claim on the question that points
    back at the paragraph, in two of the question's words or more and at most one word of
    substance besides them (`substance`: "real", "part"). It asserts the link the paragraph
    should have explained, and earns nothing itself: the paragraph is credited for what it
    explains. A claim that says anything besides the question's words, one that weighs or limits
    ("was not enough on its own"), a paragraph's own point where it stands first, and the
    introduction and conclusion, where the position is stated, are all read as before.

    (In 86 marked scripts and the fixtures: 3 such sentences, two in Level 2 scripts. Five such
    comments, one after each body paragraph, raised 13 of 41 marked essays of Levels 2-4 by a
    level before this rule, and 7 after; five worded otherwise, 8 before and 2 after. Read
    anywhere after a paragraph's first sentence, the rule also caught comments put in the middle
    of paragraphs (13 of 41 raised a level -> 3), but set aside own-words points of two Level 4-5
    scripts whose words of substance are the rubric's ("It created the conditions in which
    Khrushchev could be removed at all"), so it reads the last sentence only.)"""
    if len(analysis.paragraphs) < 3:
        return []
    ends = {s.index for s in intro} | {s.index for s in concl}
    last: dict[int, Sentence] = {}
    size: dict[int, int] = {}
    for s in real:
        last[s.paragraph] = s
        size[s.paragraph] = size.get(s.paragraph, 0) + 1
    return [s.index for p, s in last.items()
            if size[p] >= 3 and s.index not in ends and is_claim(s, focus)
            and _POINTS_BACK.match(analysis.read(s.start, s.end)) and not _weighs_or_denies(analysis, s)
            and substance(analysis, s, question_lemmas) <= 1 and _question_words(analysis, s, question_lemmas) >= 2]


_DENIES = re.compile(r"\b(?:not|n't|never|no|nor|neither|hardly|only)\b", re.IGNORECASE)


def _weighs_or_denies(analysis: Analysis, s: Sentence) -> bool:
    """Whether a sentence weighs or limits what it says ("was not enough on its own", "was not the
    main reason", "mattered more than"): a judgement of the paragraph's factor, not its echo."""
    read = analysis.read(s.start, s.end)
    return s.has("comparison") or s.has("counter") or weighs(read) or _DENIES.search(read) is not None


def _question_words(analysis: Analysis, s: Sentence, question_lemmas: frozenset[int]) -> int:
    """How many of the question's words a sentence uses, each counted once: its own content words
    and the rubric's words for what it asks about (focus and outcome: "removed", "his downfall")."""
    if analysis.token_lemmas is None:
        return 0
    lemmas = analysis.token_lemmas[s.tok_start:s.tok_end].tolist()
    asked = {k for h in s.hits if h.kind in ("focus", "outcome") for k in range(h.tok_start, h.tok_end)}
    return len({lemma for k, lemma in enumerate(lemmas) if lemma in question_lemmas or s.tok_start + k in asked})


def enumerated(s: Sentence, analysis: Analysis) -> int:
    """The most factors a sentence names in one list: three or more factor names in a row with
    nothing between them but separators (commas, "and", "or") and items of at most three words,
    none of them a word that relates (a list joins nothing: "because of de-Stalinisation,
    agriculture and Cuba"). 0 when it has no such list."""
    names = sorted((h for h in s.hits if h.kind == "factor"), key=lambda h: h.start)
    if len(names) < 3:
        return 0
    relating = [(h.start, h.end) for h in s.hits if h.kind in _RELATING]
    best, run = 0, [names[0]]
    for prev, h in zip(names, names[1:]):
        if h.start < prev.end:  # one phrase read as two factors: still one item
            run.append(h)
            continue
        gap = analysis.text[prev.end:h.start]
        parts = _LIST_SEPARATOR.split(gap)
        listed = len(parts) >= 2 and not parts[0].strip() and all(len(p.split()) <= 3 for p in parts) \
            and not any(prev.end <= a and b <= h.start for a, b in relating)
        if listed:
            run.append(h)
        else:
            best, run = max(best, len({x.key for x in run}) if len(run) >= 3 else 0), [h]
    best = max(best, len({x.key for x in run}) if len(run) >= 3 else 0)
    return best if best >= 3 else 0


def lists_factors(s: Sentence, words_per_factor: float) -> bool:
    """Whether a sentence names three factors or more, relates none of them and has little room to
    say anything of each (fewer than `words_per_factor` words a factor): a list or a signpost ("The
    reasons were de-Stalinisation, the harvests, Cuba and the party reforms"). It names them (each
    is mentioned), but develops none, and does not deal with the question's named factor. A word
    of the language that relates inside a factor's own name ("agricultural failure") relates
    nothing; a sentence of fact that touches three factors in passing has the words of one."""
    fs = s.factors()
    if len(fs) < 3 or s.words >= words_per_factor * len(fs):
        return False
    names = [(h.start, h.end) for h in s.hits if h.kind == "factor"]
    return not any(h.kind in _RELATING and not any(a <= h.start and h.end <= b for a, b in names) for h in s.hits)


# The essay's plan rather than its position: "This essay will look at each area to decide how far
# the reforms transformed the USSR", "In this essay I will discuss whether...". It names the
# question's concept (often in the question's own words, "how far") and takes no side on it. A
# plan that states what it will show ("I will argue that...") is a position.
_PLAN = re.compile(
    r"\b(?:(?:(?:this|my)\s+essay\s+(?:will|shall|is\s+going\s+to|aims\s+to|attempts\s+to|tries\s+to|has)"
    r"|(?:i|we)\s+(?:will|shall|am\s+going\s+to|are\s+going\s+to|'m\s+going\s+to|want\s+to|intend\s+to|have)"
    r"|(?:i|we)'ll)(?:\s+\w+){0,3}?\s+(?:look\w*|examin\w*|consider\w*|discuss\w*|explor\w*|assess\w*|evaluat\w*"
    r"|analy[sz]\w*|decid\w*|explain\w*|investigat\w*|weigh\w*|judg\w*|go\s+through|talk\w*|writ\w*|see|find\s+out"
    r"|answer\w*)"
    r"|will\s+be\s+(?:discussed|examined|considered|looked\s+at|explored|assessed|explained|evaluated|analy[sz]ed))\b",
    re.IGNORECASE)
_PLAN_POSITION = re.compile(r"\b(?:argu\w*|show\w*|shown|suggest\w*|contend\w*|prov\w*|demonstrat\w*|claim\w*|conclud\w*|establish\w*)\s+that\b",
                            re.IGNORECASE)


def signpost(read: str) -> bool:
    """Whether a sentence (as read) sets out the essay's plan without taking a position (_PLAN)."""
    return _PLAN.search(read) is not None and _PLAN_POSITION.search(read) is None


# Counter-argument words that concede inside the writer's own sentence, as against those that
# report another view ("some historians", "critics", "it could be argued").
_CONCESSIVE = frozenset({"however", "although", "though", "even though", "nevertheless", "nonetheless", "yet",
                         "despite", "in spite of", "in contrast", "by contrast", "conversely", "whereas",
                         "admittedly", "but", "while", "whilst"})


# Someone else's view reported: "some people think", "historians such as Medvedev argue", "it
# could be argued", "according to".
_REPORTED = re.compile(
    r"\b(?:(?:some|many|other|others|critics|historians|people|writers|scholars|commentators|they)\b(?:\s+[\w'-]+){0,3}?"
    r"\s+(?:think|thinks|thought|argue|argues|argued|say|says|said|believe|believes|believed|claim|claims|claimed"
    r"|suggest|suggests|suggested|see|sees|saw|maintain|maintains|contend|contends)"
    r"|it\s+(?:could|can|might|may)\s+(?:also\s+)?be\s+(?:argued|said|claimed|suggested)|according\s+to)\b",
    re.IGNORECASE)


def reports_view(analysis: Analysis, s: Sentence) -> bool:
    """Whether a sentence's counter-argument reports a view other than the writer's."""
    if not s.has("counter"):
        return False
    read = analysis.read
    return any(h.kind == "counter" and " ".join(read(h.start, h.end).lower().split()) not in _CONCESSIVE
               for h in s.hits) or _REPORTED.search(read(s.start, s.end)) is not None


def is_claim(s: Sentence, focus: dict[int, frozenset[str]]) -> bool:
    """A claim on the question: its key concept, with a position taken on it."""
    return OWN_FOCUS in focus.get(s.index, ()) and not s.kinds().isdisjoint(_POSITION)


def ends_of(analysis: Analysis, real: list[Sentence], start: int | None = None,
            focus: dict[int, frozenset[str]] | None = None) -> tuple[list[Sentence], list[Sentence]]:
    """The introduction's and the conclusion's sentences: the first and last paragraphs (the
    conclusion from `conclusion_start`, or `start` when the caller has it already), or the first
    and last 12% of the sentences (at least two) of an essay with fewer than three paragraphs.
    A sentence to a paragraph, the ends are read from the run of sentences (`sentence_paragraphed`);
    and a first paragraph of a sentence or two without a claim on the question (`focus`), followed
    by a short one (three sentences at most) that makes one, opens the introduction that goes on
    there: a writer who sets the scene in a line and states the position in the next paragraph."""
    if not real:
        return [], []
    if len(analysis.paragraphs) >= 3:
        first = real[0].paragraph
        if sentence_paragraphed(real):  # the opening run: the paragraphs its first sentences fill
            first = real[min(len(real), ends_size(real)) - 1].paragraph
        elif focus is not None:
            opening = [s for s in real if s.paragraph == first]
            after = next((s.paragraph for s in real if s.paragraph > first), None)
            then = [s for s in real if s.paragraph == after]
            if len(opening) <= 2 and 0 < len(then) <= 3 and not any(is_claim(s, focus) for s in opening) \
                    and any(is_claim(s, focus) for s in then) and (start is None or after < start):
                first = after
        if start is None:
            start = conclusion_start(analysis, real)
        return [s for s in real if s.paragraph <= first], [s for s in real if s.paragraph >= start]
    k = ends_size(real)
    return real[:k], real[-k:] if len(real) > k else []


def ends_size(real: list[Sentence]) -> int:
    """How many sentences an introduction or a conclusion read from the run of sentences holds:
    12% of them, at least two."""
    return max(2, round(0.12 * len(real)))


def sentence_paragraphed(real: list[Sentence]) -> bool:
    """Whether an essay of three paragraphs or more has hardly more than a sentence to each (one
    sentence a paragraph, as some writers lay an essay out): its first and last paragraphs are a
    sentence, not an introduction and a conclusion, so its ends are read from the run of its
    sentences, the paragraphs its first and last `ends_size` sentences fill."""
    paras = {s.paragraph for s in real}
    return len(paras) >= 3 and len(real) < 1.5 * len(paras)


def paragraphs_as_read(real: list[Sentence]) -> dict[int, int]:
    """Each sentence's paragraph as the criteria read the essay's shape (sentence index -> the
    paragraph's number): its own; in an essay laid out a sentence to a paragraph
    (`sentence_paragraphed`), the opening run (`ends_of`), the closing run, and between them runs
    of sentences on one topic: a sentence that names factors, none of them named since the run
    began, starts a new one once the run has three sentences (a writer's paragraph stays on its
    factor). Each run is numbered by its first sentence's paragraph. Empty when the paragraphs are
    read as written."""
    if not sentence_paragraphed(real):
        return {}
    k = min(len(real), ends_size(real))
    opening, closing = real[k - 1].paragraph, real[-k].paragraph
    out: dict[int, int] = {}
    unit, named, size = real[0].paragraph, set(), 0
    for s in real:
        if s.paragraph <= opening:
            unit = real[0].paragraph
        elif s.paragraph >= closing:
            unit = closing
        elif unit == real[0].paragraph or (size >= 3 and s.factors() and named.isdisjoint(s.factors())):
            unit, named, size = s.paragraph, set(), 0
        out[s.index] = unit
        named |= s.factors()
        size += 1
    return out


def conclusion_start(analysis: Analysis, real: list[Sentence]) -> int:
    """The paragraph a paragraphed essay's conclusion begins with: its last, or an earlier one of
    its last three that opens "In conclusion" (or "Overall") and brings in little dated evidence
    (at most half its sentences), for a conclusion written in two or three paragraphs. The
    sentence that opens it may itself earn nothing (a list of the factors it sums up): paragraphs
    are read from every sentence of the essay, not only those that earn credit."""
    first, last = real[0].paragraph, real[-1].paragraph
    if sentence_paragraphed(real):
        return real[-min(len(real), ends_size(real))].paragraph
    paras = sorted({s.paragraph for s in analysis.sentences if s.real and first < s.paragraph <= last})
    members: dict[int, list[Sentence]] = {p: [] for p in paras[-3:] + [last]}
    for s in analysis.sentences:  # (one pass for the four paragraphs)
        if s.real and s.paragraph in members:
            members[s.paragraph].append(s)

    def undated(p: int) -> bool:
        return sum(1 for s in members[p] if s.years or s.figures) <= len(members[p]) / 2

    earlier = paras[-3:-1] if paras and paras[-1] == last else paras[-2:]
    # (A conclusion cut into paragraphs of a sentence or two: its "Overall" sentence sums up even
    # when it names a year.)
    short = len(members[last]) <= 2
    for p in reversed(earlier):
        if _head(analysis, members[p][0], 40).lower().startswith(_ENDING + ("overall",)) and (
                undated(p) or (short and len(members[p]) <= 2)):
            return p
        short = short and len(members[p]) <= 2
    # Unsignposted: a last paragraph of a sentence or two takes in the undated one before it (and
    # the one before that while it is still under three sentences); an undated paragraph of one
    # sentence just before the last (its opening verdict, split off) is part of it too.
    # Either makes a claim on the question and opens with no counter-argument or "In 1964 ...".
    # Only where paragraphs are otherwise of three sentences and more (a writer of short paragraphs
    # writes a short conclusion, and the paragraph before it is a body paragraph).
    counts: dict[int, int] = {}
    for s in real:
        counts[s.paragraph] = counts.get(s.paragraph, 0) + 1
    sizes = sorted(c for p, c in counts.items() if p != last)
    if len(sizes) < 5 or sizes[len(sizes) // 2] < 3:
        return last  # (and in an essay of six paragraphs or more: a short essay's last is its end)
    def opens_with_claim(p: int) -> bool:  # a position on the question, not the other side's
        o = members[p][0]
        return not o.narrative_opener and not o.has("counter") and any(
            OWN_FOCUS in {h.key for h in t.hits if h.kind == "focus"} and not t.kinds().isdisjoint(_POSITION)
            for t in members[p])

    # (And only when the last paragraph reads as part of a conclusion itself, undated and with a
    # claim: a body paragraph cut short, an essay stopped mid-way, does not.)
    if last not in members or not undated(last) or not opens_with_claim(last):
        return last
    start, size = last, len(members.get(last, ()))
    for p in reversed(earlier):
        if not undated(p) or not opens_with_claim(p) or (size >= 3 and len(members[p]) > 1):
            break
        start, size = p, size + len(members[p])
    return start


_CONCLUSION_HEADING = re.compile(r"(?im)^[ \t]*(?:\d{1,2}[.)][ \t]*)?(?:in[ \t]+)?(?:conclusion|summary|verdict|overall)"
                                 r"[ \t]*[:.\-\u2013\u2014]?[ \t]*$")


def _concludes(analysis: Analysis, concl: list[Sentence], focus: dict[int, frozenset[str]],
               excluded: dict[int, str] | None = None, start: int | None = None) -> bool:
    """Whether the last paragraph reads as a conclusion rather than one more body paragraph: it
    says so ("Overall", "In conclusion"), or it draws the threads together (several factors, or
    more than one claim on the question) without bringing in new dated evidence."""
    if len(analysis.paragraphs) < 3 or any(s.has("conclusion") for s in concl):
        return True
    if concl:
        # Headed so: a line "Conclusion" (or "Summary", "Verdict") above it, as notes and plans
        # have, says what the paragraph is; the heading is too short to be a sentence of its own.
        opens = next(s for s in analysis.sentences if s.real and s.paragraph == concl[0].paragraph)
        before = max((s.end for s in analysis.sentences[:opens.index] if s.real), default=0)
        if _CONCLUSION_HEADING.search(analysis.text, before, opens.start):
            return True
    # The paragraph says it concludes even when the sentence saying so was set aside as a join of
    # unconnected factors (a closing sentence that lists two of them), or as a list of them. A
    # repeat says nothing new.
    if start is None:
        start = min((s.paragraph for s in concl), default=len(analysis.paragraphs))
    if any(s.real and s.paragraph >= start and s.has("conclusion") and (excluded or {}).get(s.index) in ("incoherent", "list")
           for s in analysis.sentences):
        return True
    # A claim that weighs two factors or more again, recalling years the essay has given before
    # ("so de-Stalinisation made a peaceful removal possible, but it was farming that turned the
    # men who saved him in 1957 into those who voted him out in 1964"), is a verdict drawing the
    # body together, not new dated evidence.
    first = min((s.index for s in concl), default=0)
    seen = {y[0] for s in analysis.sentences[:first] if s.real for y in s.years}
    dated = sum(1 for s in concl if s.figures or (s.years and not (
        len(s.factors()) >= 2 and is_claim(s, focus) and all(y[0] in seen for y in s.years)))) / max(1, len(concl))
    factors = set().union(*(s.factors() for s in concl)) if concl else set()
    # A paragraph that reports another view ("some historians think...") is weighing, not the
    # writer's verdict: its counter-arguments do not count as claims of a conclusion.
    # A concession inside the writer's own verdict ("he did not transform the system, but he did
    # transform ..., whereas most of his reforms did not last") is balance, not another view.
    claims = sum(1 for s in concl if is_claim(s, focus) and not reports_view(analysis, s))
    # (A closing line of one sentence needs only two factors: "So he did change the USSR quite a
    # lot, especially by building houses and sending people into space, but some things stayed the
    # same" closes an essay. Three had been asked for, and such plain verdicts, common in weaker
    # scripts, were read as no judgement. A longer last paragraph on two factors is more often one
    # more body point, or an essay cut short in the middle of one.)
    least = 2 if len(concl) == 1 else 3
    # (Or it ends on the answer: an essay's last sentence an undated claim on the question that
    # takes a side, "It was not the trigger, but it was the cause", after a paragraph drawing the
    # threads together in the body's own years.)
    last = concl[-1] if concl else None
    answers = last is not None and is_claim(last, focus) and not last.years and not reports_view(analysis, last) \
        and not last.kinds().isdisjoint(_ANSWERING)
    return dated <= 0.5 and (claims >= 2 or (len(factors) >= least and claims >= 1) or answers)


def _told_before(rubric: Rubric, focus: dict[int, frozenset[str]], intro: list[Sentence],
                 concl: list[Sentence], real: list[Sentence]) -> OtherQuestion | None:
    """The other question about part of the period (OtherQuestion.until) whose years the body keeps
    to, when it also speaks to that question: an account of how he beat Beria, Malenkov and the
    Anti-Party Group, 1953-57, answers how he came to power, whatever its ends say about 1964.

    Only the years of the period are counted (Stalin's are background), at least
    `told_before_years` of them, with at most `told_before_share` after the other question's
    last year; and at least two of the essay's sentences must be in that question's own terms
    ("rivals", "power struggle"). An essay on the question set tells of the 1960s too."""
    rules = rubric.argument
    ends = {s.index for s in intro} | {s.index for s in concl}
    years = [y[0] for s in real if s.index not in ends for y in s.years
             if rules.period_start <= y[0] <= rules.period_end]
    if len(years) < rules.told_before_years:
        return None
    for oq in rubric.other_questions:
        if oq.until is None:
            continue
        later = sum(1 for y in years if y > oq.until)
        speaks = sum(1 for keys in focus.values() if oq.id in keys)
        if later <= rules.told_before_share * len(years) and speaks >= 2:
            return oq
    return None


ANOTHER_QUESTION = OtherQuestion(id="other", question="a question other than the one set (neither the introduction "
                                  "nor the conclusion speaks to what it asks)",
                                  terms=["-", "-", "-", "-", "-"])


def _names_outcome(rubric: Rubric, analysis: Analysis, intro: list[Sentence], concl: list[Sentence]) -> bool:
    """Whether an essay with an introduction and a conclusion names the outcome the question asks
    about ([focus] outcome: his fall, the USSR transformed) in either. An essay that never does,
    at either end, is answering something else ("how did he emerge as leader by 1956?")."""
    if rubric.focus is None or not rubric.focus.outcome or len(analysis.paragraphs) < 3 or not intro or not concl:
        return True
    return any(s.has("outcome") for s in (*intro, *concl))


def _set_out_otherwise(rubric: Rubric, analysis: Analysis, focus: dict[int, frozenset[str]],
                       intro: list[Sentence], concl: list[Sentence], real: list[Sentence]) -> OtherQuestion | None:
    """The other question an essay sets out to answer, when only its conclusion speaks to its own.

    An introduction that speaks to another question ("how he became leader by 1956") in two
    sentences or more, more than to the question set, and never names its outcome, over a body
    that hardly names it either (under `set_out_body_share` of its sentences), answers that
    question: a closing paragraph on the question set, pasted under it, does not bring it back.
    (An essay that names the outcome at the start, or argues it in the body, is on the question;
    and one whose opening paragraphs were set aside as background, a life story told from the
    start, did not set out to answer another question in what is read as its introduction.)"""
    rules = rubric.argument
    if rubric.focus is None or not rubric.focus.outcome or not intro or not concl:
        return None
    if intro[0].paragraph != next((s.paragraph for s in analysis.sentences if s.real), intro[0].paragraph):
        return None
    if any(s.has("outcome") for s in intro):
        return None
    ends = {s.index for s in intro} | {s.index for s in concl}
    body = [s for s in real if s.index not in ends]
    if not body or sum(1 for s in body if s.has("outcome")) >= rules.set_out_body_share * len(body):
        return None
    own = sum(1 for s in intro if focus.get(s.index) == {OWN_FOCUS})
    # The body's years: a story of the whole period that opens on the power struggle of 1953 does
    # not answer how he became leader by 1956 (its body runs on to 1964).
    years = [y[0] for s in body for y in s.years]
    best, most = None, 1
    for oq in rubric.other_questions:
        if oq.until is not None and 2 * sum(1 for y in years if y > oq.until) > len(years):
            continue
        n = sum(1 for s in intro if oq.id in focus.get(s.index, ()))
        if n > most and n > own:
            best, most = oq, n
    return best


def _closest_other(rubric: Rubric, focus: dict[int, frozenset[str]], sents: list[Sentence]) -> OtherQuestion | None:
    """For an essay whose ends do not speak to the question set: the other question whose terms it
    uses most, 'another question' when it uses none, or None when it speaks to its own question's
    key concept in as many sentences as to the closest other.

    Most sentences first; between questions level on those, the one more of whose terms are used
    (an essay on his rise with "power struggle", "rivals" and "patronage" in five sentences is not
    an answer to q1 because "still" and "reform" come up in as many). A story of the reforms that
    never says what they changed, with "removed" in two sentences, is a narrative on the question
    set (held by the narrative caps), not an answer to why he fell: the markers gave such a
    biography Level 2, and calling it an answer to another question had held it at Level 1."""
    counts = {oq.id: sum(1 for keys in focus.values() if oq.id in keys) for oq in rubric.other_questions}
    terms = {oq.id: sum(1 for i in focus for h in sents[i].hits if h.kind == "focus" and h.key == oq.id)
             for oq in rubric.other_questions}
    best = max(rubric.other_questions, key=lambda oq: (counts[oq.id], terms[oq.id]), default=None)
    if best is None or counts[best.id] < 2:
        return ANOTHER_QUESTION
    own = sum(1 for keys in focus.values() if OWN_FOCUS in keys)
    return best if counts[best.id] > own else None


_ANCHORS = frozenset({"factor", "dev", "event", "people"})


def _other_question(rubric: Rubric, focus: dict[int, frozenset[str]], sents: list[Sentence]) -> OtherQuestion | None:
    """The other question the essay speaks to far more than to its own, if any.

    A sentence in both questions' terms ("the reasons he emerged as leader") speaks to neither
    clearly, so only sentences in one question's terms alone are counted. For the question set,
    only sentences about the period count (a factor, an event, a person or a year): a general
    sentence that happens to use a word of its key concept ("historians hold different opinions")
    does not bring an answer to another question back to this one."""
    counts: dict[str, int] = {}
    for i, keys in focus.items():
        if keys == {OWN_FOCUS} and not (sents[i].years or not sents[i].kinds().isdisjoint(_ANCHORS)):
            continue
        if len(keys) == 1:
            k = next(iter(keys))
            counts[k] = counts.get(k, 0) + 1
    rules = rubric.argument
    real = [s for s in sents if s.real]
    least = rules.other_question_min
    if real and sum(s.words for s in real) / len(real) >= 40:
        # An essay of a few very long sentences has nearly every sentence in both questions'
        # terms, so its sentences say nothing: the terms themselves are counted instead.
        counts = {}
        for i in focus:
            for h in sents[i].hits:
                if h.kind == "focus":
                    counts[h.key] = counts.get(h.key, 0) + 1
    own = counts.get(OWN_FOCUS, 0)
    # (Two questions level on sentences in their terms alone: the one the essay speaks to in more
    # sentences overall. A word or two of q1's ("still", "reform") in an essay on his rise does not
    # make it an answer to q1 because q1 comes first in the rubric.)
    overall = {oq.id: sum(1 for keys in focus.values() if oq.id in keys) for oq in rubric.other_questions}
    best = None
    for oq in rubric.other_questions:
        n = counts.get(oq.id, 0)
        if n >= least and n >= rules.other_question_ratio * max(own, 1):
            if best is None or (n, overall[oq.id]) > (counts.get(best.id, 0), overall[best.id]):
                best = oq
    return best


def _shared_words(analysis: Analysis):
    """(sizes, common): how many distinct content lemmas and factors each sentence has, and for
    each pair of sentences how many they have in common (numpy integer arrays indexed by sentence
    index; common[i, i] is sizes[i]).

    The repeats and the order features compare every pair of sentences, and Python set
    intersections per pair cost most of the argument stage. Here each word shared by k sentences
    adds one to the k x k pairs of them, all counted in one np.bincount (a matrix product would
    hand the work to a multi-threaded BLAS, which is slower for matrices this small)."""
    import numpy as np

    sents = analysis.sentences
    m = len(sents)
    lem, content = analysis.token_lemmas, analysis.token_content
    if lem is None or not m:  # no lemmas: every sentence has nothing to share, factors included
        return np.zeros(m, dtype=np.int64), np.zeros((m, m), dtype=np.int64)
    starts = np.array([s.tok_start for s in sents], dtype=np.int64)
    ends = np.array([s.tok_end for s in sents], dtype=np.int64)
    pos = np.arange(len(lem))
    sent = np.searchsorted(starts, pos, side="right") - 1
    take = content & (sent >= 0)
    take[take] = pos[take] < ends[sent[take]]
    words, cols = np.unique(lem[take], return_inverse=True)
    # A sentence's factors count as words of it (one more column per factor the essay names).
    factor_col: dict[str, int] = {}
    f_rows, f_cols = [], []
    for s in sents:
        for f in s.factors():
            f_rows.append(s.index)
            f_cols.append(factor_col.setdefault(f, len(words) + len(factor_col)))
    # (column, sentence) of each distinct word of each sentence, sorted by column.
    keys = np.unique(np.concatenate([cols.reshape(-1).astype(np.int64) * m + sent[take],
                                     np.array(f_cols, dtype=np.int64) * m + np.array(f_rows, dtype=np.int64)]))
    col_of, sent_of = keys // m, keys % m
    sizes = np.bincount(sent_of, minlength=m)
    # The columns' runs in the sorted keys: where each starts, and its length.
    g_start = np.flatnonzero(np.concatenate(([True], col_of[1:] != col_of[:-1])))
    g_size = np.diff(np.append(g_start, len(keys)))
    # Every entry is paired with every entry of its column: entry e of a column of k entries
    # repeats k times, against the column's entries in turn.
    k = np.repeat(g_size, g_size)
    first = np.repeat(np.arange(len(keys)), k)
    second = np.repeat(np.repeat(g_start, g_size), k) + np.arange(len(first)) - np.repeat(np.cumsum(k) - k, k)
    common = np.bincount(sent_of[first] * m + sent_of[second], minlength=m * m).reshape(m, m)
    return sizes, common


def _repeated_paragraphs(sents: list[Sentence], shared, repeats: dict[int, int], skip: frozenset[int],
                         similarity: float = 0.5, share: float = 0.6, conclusion: int | None = None) -> dict[int, int]:
    """Body paragraphs that say again what an earlier one said, reworded a little (a word changed
    or dropped in each sentence): most of their sentences are close (`similarity` of their
    content words) to sentences of that one paragraph. Each such sentence repeats its closest.
    Sentence by sentence a reworded repeat falls under repeat_similarity; a whole paragraph of
    them does not happen by chance. The introduction and the conclusion, which restate the
    argument by design, are left alone."""
    import numpy as np

    sizes, common = shared
    by_para: dict[int, list[int]] = {}
    for s in sents:
        if s.real and s.index not in skip:
            by_para.setdefault(s.paragraph, []).append(s.index)
    order = sorted(by_para)
    if len(order) < 4:
        return {}
    out: dict[int, int] = {}
    body = order[1:-1] if conclusion is None else [p for p in order[1:] if p < conclusion]
    # Every earlier body paragraph's sentences side by side, in paragraph order: a paragraph's
    # similarities to all of them are one array, and each earlier paragraph a run of its columns.
    earlier: list[int] = []
    runs: list[int] = []  # where each earlier paragraph's columns start
    for k, p in enumerate(body):
        allp = by_para[p]
        if k:
            runs.append(len(earlier))
            earlier += by_para[body[k - 1]]
        mine = [i for i in allp if i not in repeats]
        if len(allp) < 2 or not mine or not k:
            continue
        rows, cols = np.array(mine, dtype=np.intp), np.array(earlier, dtype=np.intp)
        sim = common.take(rows, 0).take(cols, 1) / np.maximum(1, np.maximum.outer(sizes[rows], sizes[cols]))
        # How many of mine are close to some sentence of each earlier paragraph.
        near = (np.maximum.reduceat(sim, runs, axis=1) >= similarity).sum(axis=0).tolist()
        for r, q in enumerate(body[:k]):
            theirs = set(by_para[q])
            # (The sentences already found to repeat that paragraph count towards it.)
            again = sum(1 for i in allp if i in repeats and repeats[i] in theirs)
            if near[r] + again >= share * len(allp) and near[r] + again >= 2:
                lo = runs[r]
                block = sim[:, lo : lo + len(by_para[q])]
                j = block.argmax(axis=1)  # each sentence's closest there (the first, if tied)
                best = block[np.arange(len(mine)), j] >= similarity
                out.update((i, by_para[q][jj]) for i, jj, ok in zip(mine, j.tolist(), best.tolist()) if ok)
                break
    return out


def _repeats(sents: list[Sentence], shared, similarity: float, min_words: int, text: str = "",
             skip: frozenset[int] = frozenset()) -> dict[int, int]:
    """Sentences that repeat an earlier one: most of either's content words are the other's, or
    (for a sentence too short to compare so) the same words exactly. Sentences in `skip` neither
    repeat nor are repeated."""
    import numpy as np

    sizes, common = shared
    # close[i, j]: sentences i and j share enough words, whatever their order (as len(a & b) >=
    # similarity * max(len(a), len(b)) on the sets).
    close = common >= similarity * np.maximum.outer(sizes, sizes)
    out: dict[int, int] = {}
    seen = np.zeros(len(sents), dtype=bool)  # first appearances so far
    size_l = sizes.tolist()
    # Most sentences are close to no earlier sentence at all: those need no look at which are seen.
    # (A comparison of positions, not np.tril: that looks integer limits up, slowly, every call.)
    pos = np.arange(len(sents))
    near_earlier = (close & (pos[:, None] > pos[None, :])).any(axis=1).tolist()
    short: dict[str, int] = {}  # a short sentence's words -> where they first stand
    for s in sents:
        if not s.real or s.index in skip:
            continue
        if size_l[s.index] < min_words:
            if text:
                key = " ".join(text[s.start:s.end].lower().split())
                if key in short:
                    out[s.index] = short[key]
                else:
                    short[key] = s.index
            continue
        earlier = np.flatnonzero(close[s.index] & seen) if near_earlier[s.index] else ()
        if len(earlier):
            out[s.index] = int(earlier[0])  # the first of them, as a scan of the earlier ones finds
        else:
            seen[s.index] = True
    return out


@lru_cache(maxsize=256)
def _upper_pairs(n: int):
    """(i, j) index arrays of the pairs i < j of n sentences, row by row (np.triu_indices, which
    costs more than the rest of the pair arithmetic, kept per n). Read only."""
    import numpy as np

    i_of, j_of = np.triu_indices(n, 1)
    i_of.flags.writeable = j_of.flags.writeable = False
    return i_of, j_of


def _running_sum(values) -> float:
    """values summed left to right, as `total += v` in a loop would (np.sum adds pairwise, which
    can differ in the last bit)."""
    import numpy as np

    return float(np.add.accumulate(values)[-1]) if len(values) else 0.0


def _order_features(analysis: Analysis, real: list[Sentence], shared,
                    thesis: tuple[int, ...], verdict: tuple[int, ...],
                    focus: dict[int, frozenset[str]] | None = None,
                    precedence: dict[str, float] | None = None, opened=None,
                    conclusion_from: int | None = None) -> dict[str, float]:
    """Figures that tell an essay's own order from a shuffled one, each self-normalised so that
    essays of any style compare: how much more sentences of one paragraph (and neighbours) share
    their words than any two sentences of the essay do, and how often a sentence that points back
    ("This meant...") opens a paragraph or follows a sentence it shares nothing with.
    `conclusion_from`: the paragraph the conclusion begins with (`conclusion_start`), when known."""
    import numpy as np

    n = len(real)
    sizes, common = shared
    at = np.array([s.index for s in real], dtype=np.intp)
    # Each pair's overlap, the share of the smaller sentence's words the two have in common (0
    # when either has none), for the pairs i < j in the order a double loop visits them.
    size = sizes[at]
    smaller = np.minimum.outer(size, size)
    both = common.take(at, 0).take(at, 1)  # (as common[np.ix_(at, at)], faster)
    overlap = np.where(smaller > 0, both / np.maximum(smaller, 1), 0.0)
    i_of, j_of = _upper_pairs(n)
    o = overlap.ravel().take(i_of * n + j_of)  # overlap[i_of, j_of], a fifth of the cost
    paras = np.array([s.paragraph for s in real], dtype=np.int64)
    in_para = paras[i_of] == paras[j_of]
    next_to = in_para & (j_of == i_of + 1)
    pairs, same, adj = _running_sum(o), _running_sum(o[in_para]), _running_sum(o[next_to])
    n_pairs, n_same, n_adj = len(o), int(in_para.sum()), int(next_to.sum())
    base = pairs / n_pairs if n_pairs else 0.0
    ratio = (lambda t, k: math.log((t / k + 0.02) / (base + 0.02)) if k else 0.0)
    firsts: dict[int, Sentence] = {}
    first_at: dict[int, int] = {}  # paragraph -> position in real of its first sentence
    for k, s in enumerate(real):
        firsts.setdefault(s.paragraph, s)
        first_at.setdefault(s.paragraph, k)
    # Each sentence's opening, read once: its first word here, its opening phrase below.
    # (`opened`: (heads, first words, traits), when the caller has read them already.)
    heads, first_words, traits = opened if opened is not None else _openings(analysis, real, focus or {})
    points_back = [w in ANAPHORIC_OPENERS for w in first_words]
    dangling = sum(1 for k in range(1, n) if points_back[k] and real[k].paragraph == real[k - 1].paragraph
                   and not common[real[k].index, real[k - 1].index])
    para_first = sum(1 for k in first_at.values() if points_back[k])
    # Within a paragraph a historian's dates mostly run forward; shuffled, half run back.
    steps = [b[0] - a[0] for k in range(1, n) if real[k].paragraph == real[k - 1].paragraph
             for a in real[k - 1].years[-1:] for b in real[k].years[:1] if b[0] != a[0]]
    forward = (sum(1 for d in steps if d > 0) - sum(1 for d in steps if d < 0)) / len(steps) if steps else 0.0
    # An essay opens by framing the question, not with a dated detail.
    opening = real[0] if real else None
    frames = float(opening is not None and not opening.years and (opening.has("focus") or bool(opening.factors())))
    # Topic sentences (paragraph openers) carry fewer dates and figures than the sentences under them.
    dated = [bool(s.years or s.figures) for s in real]
    first_dated = [bool(s.years or s.figures) for s in firsts.values()]
    topic = (sum(dated) / max(1, n)) - (sum(first_dated) / max(1, len(first_dated)))
    # Sentences of one paragraph share its main factor more often than chance would give.
    unity_num = unity_den = 0
    by_para: dict[int, list[frozenset[str]]] = {}
    for s in real:
        by_para.setdefault(s.paragraph, []).append(s.factors())
    for fsets in by_para.values():
        for k in range(1, len(fsets)):
            if fsets[k] and fsets[k - 1]:
                unity_den += 1
                unity_num += bool(fsets[k] & fsets[k - 1])
    # ...measured against chance: how often any two of the essay's factor sentences share one.
    named = [s.factors() for s in real if s.factors()]
    chance = _sharing_pairs(named) if len(named) >= 2 else 0.5
    # A paragraph is about one thing: most of its factor sentences share its commonest factor. Shuffled,
    # a paragraph mixes them. Only paragraphs with three or more factor sentences say anything.
    dominance = []
    for fsets in by_para.values():
        named = [f for f in fsets if f]
        if len(named) >= 3:
            counts: dict[str, int] = {}
            for f in named:
                for x in f:
                    counts[x] = counts.get(x, 0) + 1
            dominance.append(max(counts.values()) / len(named))
    # A paragraph's dates sit closer together than the essay's: the spread of years inside
    # paragraphs over the spread across the essay (about 1 when shuffled).
    by_years: dict[int, list[int]] = {}
    for s in real:
        by_years.setdefault(s.paragraph, []).extend(y[0] for y in s.years)
    every = [y for ys in by_years.values() for y in ys]
    within = [abs(y - sum(ys) / len(ys)) for ys in by_years.values() if len(ys) >= 2 for y in ys]
    overall = [abs(y - sum(every) / len(every)) for y in every] if len(every) >= 4 else []
    spread = (sum(within) / len(within)) / (sum(overall) / len(overall)) \
        if within and overall and sum(overall) > 0 else 0.7
    first_para, last_para = (real[0].paragraph, real[-1].paragraph) if real else (0, 0)
    # An introduction and a conclusion argue more and date less than the paragraphs between them;
    # shuffled, they are like any other paragraph.
    ends = [s for s in real if s.paragraph in (first_para, last_para)]
    middle = [s for s in real if s.paragraph not in (first_para, last_para)]

    def share(group, test) -> float:
        return sum(1 for s in group if test(s)) / len(group) if group else 0.0

    if ends and middle and first_para != last_para:
        ends_dated = share(ends, lambda s: bool(s.years or s.figures)) - share(middle, lambda s: bool(s.years or s.figures))
        claim = (lambda s: is_claim(s, focus)) if focus is not None else (lambda s: False)
        ends_claims = share(ends, claim) - share(middle, claim)
    else:
        ends_dated, ends_claims = 0.0, 0.0
    # A body paragraph opens with its point: its first sentence is a claim or names its factor
    # more often than the sentences under it do.
    body_firsts = [s for k, s in firsts.items() if k not in (first_para, last_para)]
    body_rest = [s for s in middle if firsts.get(s.paragraph) is not s]
    point = (lambda s: is_claim(s, focus) or (bool(s.factors()) and not s.years)) if focus is not None \
        else (lambda s: bool(s.factors()) and not s.years)
    topic_claims = share(body_firsts, point) - share(body_rest, point) if body_firsts and body_rest else 0.0
    # Which of each two sentences of a paragraph comes first, as the precedence model would put
    # them: the mean of its scores over the pairs in the essay's order (about 0 when shuffled).
    weights = [(precedence or {}).get(k, 0.0) for k in PRECEDENCE_FEATURES]
    ahead = precedence_score(analysis, real, focus or {}, weights, first_words, traits) if any(weights) else 0.0
    # Openings that follow on ("However", "This", "Also") stand inside paragraphs, not at their
    # head; and a body paragraph closes on the question more often than its middle sentences do.
    opens_on = [w in _FOLLOWS_ON for w in first_words]
    starts, inside, closes, middles = [], [], [], []
    for p, members in by_position(real).items():
        if len(members) < 3:
            continue
        starts.append(opens_on[members[0]])
        inside.extend(opens_on[k] for k in members[1:])
        if p not in (first_para, last_para):
            on_question = [real[k].has("outcome") or (focus is not None and is_claim(real[k], focus)) for k in members]
            closes.append(on_question[-1])
            middles.extend(on_question[1:-1])
    mean = (lambda xs: sum(xs) / len(xs) if xs else 0.0)
    misplaced = 0
    # (A conclusion cut in two short paragraphs may open on the first: `conclusion_from`.)
    count = {p: len(m) for p, m in by_position(real).items()}
    cut = conclusion_from if conclusion_from is not None and count.get(conclusion_from, 3) <= 2 \
        and count.get(last_para, 3) <= 2 else last_para
    for s, head in zip(real, heads):
        head = head.lower()
        if head.startswith(_CLOSING_OPENERS) and (s.paragraph not in (last_para, cut)
                                                  or firsts.get(s.paragraph) is not s):
            misplaced += 1  # "In conclusion" anywhere but at the start of the conclusion's (first) paragraph
        elif s.paragraph != first_para and head.startswith(_OPENING_OPENERS[:5]):
            misplaced += 1
        elif head.startswith(_OPENING_OPENERS[5:]) and firsts.get(s.paragraph) is not s:
            misplaced += 1  # "Firstly" in the middle of a paragraph
    return {
        "misplaced": float(min(misplaced, 3)),
        "para_ratio": round(ratio(same, n_same), 4),
        "adj_ratio": round(ratio(adj, n_adj), 4),
        "para_first_anaphora": round(para_first / max(1, len(firsts)), 4),
        "dangling_anaphora": round(dangling / max(1, n - 1), 4),
        "thesis_first": float(bool(thesis)),
        "verdict_last": float(bool(verdict)),
        "years_forward": round(forward, 4),
        "opening_frames": frames,
        "topic_sentences": round(topic, 4),
        "factor_unity": round(unity_num / unity_den - chance, 4) if unity_den else 0.0,
        "factor_dominance": round(sum(dominance) / len(dominance), 4) if dominance else 0.6,
        "year_spread": round(min(spread, 2.0), 4),
        "ends_dated": round(ends_dated, 4),
        "ends_claims": round(ends_claims, 4),
        "topic_claims": round(topic_claims, 4),
        "precedence": round(ahead, 4),
        "openers_after": round(mean(inside) - mean(starts), 4) if starts else 0.0,
        "paragraph_close": round(mean(closes) - mean(middles), 4) if closes else 0.0,
    }


_FOLLOWS_ON = frozenset().union(*_OPENS.values())


def _openings(analysis: Analysis, real: list[Sentence], focus: dict[int, frozenset[str]]):
    """Each sentence's opening (40 characters), its first word and its traits (sentence_traits,
    a numpy array): read once for the order features and the paragraph order model."""
    import numpy as np

    heads = [_head(analysis, s, 40) for s in real]
    words = [_word_at_start(h[:24]) for h in heads]
    traits = np.array([sentence_traits(analysis, s, focus, w) for s, w in zip(real, words)],
                      dtype=float).reshape(len(real), len(PRECEDENCE_FEATURES) - 1)
    return heads, words, traits


def paragraph_sentences(real: list[Sentence], shared, opened) -> Sentences:
    """What the paragraph order model reads of `real` (paragraph_order.Sentences), from the
    shared words of the essay (`_shared_words`) and the openings read by `_openings`."""
    import numpy as np

    heads, words, traits = opened
    sizes, common = shared
    at = np.array([s.index for s in real], dtype=np.intp)
    cues = np.hstack([traits, np.array([opening_cues(h) for h in heads], dtype=float).reshape(len(real), len(OPENING_CUES))])
    column: dict[str, int] = {}
    cells = [(row, column.setdefault(f, len(column))) for row, s in enumerate(real) for f in s.factors()]
    incidence = np.zeros((len(real), max(1, len(column))), dtype=np.int64)
    if cells:
        incidence[tuple(np.array(cells).T)] = 1
    years = np.array([(s.years[0][0], s.years[-1][0]) if s.years else (0, 0) for s in real],
                     dtype=np.int64).reshape(len(real), 2)
    return Sentences(cues, np.array([w in ANAPHORIC_OPENERS for w in words], dtype=bool),
                     common.take(at, 0).take(at, 1), sizes[at], (incidence @ incidence.T) > 0, years)


def paragraph_roles(real: list[Sentence], read: Sentences | None = None) -> list[tuple[int, list[int], str]]:
    """The essay's paragraphs as the paragraph order model judges them (paragraph_units); with
    `read` (what the model reads of the sentences), an essay of short paragraphs has its
    continuations joined to the paragraph they go on from (`continuations`)."""
    groups = list(by_position(real).values())
    if read is None:
        return paragraph_units(real, groups)
    joined = continuations(groups, read)
    if len(joined) == len(groups):
        return paragraph_units(real, groups)
    number = {g[0]: p for p, g in enumerate(groups)}  # (numbered as before: by their first paragraph)
    last = len(joined) - 1
    return [(number[g[0]], g, "intro" if k == 0 else "conclusion" if k == last else "body")
            for k, g in enumerate(joined)]


def continuations(groups: list[list[int]], read: Sentences, short: int = 3, most: int = 8,
                  many: int = 8) -> list[list[int]]:
    """Paragraphs of an essay written in many short ones (`many` paragraphs or more, half of them
    `short` sentences or fewer) as
    its writer's points run: a paragraph that follows on from the one before it (its first
    sentence points back or goes on, "This meant...", "However", "As a result", "Also", or names a
    factor of the sentence before it) is joined to it when either is short and the two hold `most`
    sentences at most; each paragraph joins one other at most. A writer who breaks a paragraph in two does not start a new point at the break; judged
    alone, the second half has no topic sentence and read as shuffled to the paragraph order model."""
    sizes = sorted(len(g) for g in groups)
    if len(groups) < many or sizes[len(sizes) // 2] > short:
        return groups
    out = [list(groups[0])]
    joined = False  # (a paragraph cut in two is joined again once: two pieces, not a chain)
    for g in groups[1:]:
        prev = out[-1]
        a, b = prev[-1], g[0]
        follows = bool(read.back[b]) or any(read.cues[b, k] for k in CONTINUES) or bool(read.factors[a, b])
        if not joined and follows and (len(g) <= short or len(prev) <= short) and len(prev) + len(g) <= most:
            prev.extend(g)
            joined = True
        else:
            out.append(list(g))
            joined = False
    return out


def paragraph_units(real: list[Sentence], groups: list[list[int]]) -> list[tuple[int, list[int], str]]:
    """(paragraph number, positions in `real` of its sentences, role) for each group of sentences
    (a paragraph), its role in paragraph_order.ROLES: the first paragraph is the introduction,
    the last the conclusion."""
    last = len(groups) - 1
    return [(p, list(members), "intro" if p == 0 else "conclusion" if p == last else "body")
            for p, members in enumerate(groups)]


def by_position(real: list[Sentence]) -> dict[int, list[int]]:
    """paragraph -> the positions in `real` of its sentences, in order."""
    out: dict[int, list[int]] = {}
    for k, s in enumerate(real):
        out.setdefault(s.paragraph, []).append(k)
    return out


def sentence_traits(analysis: Analysis, s: Sentence, focus: dict[int, frozenset[str]],
                    word: str | None = None) -> list[float]:
    """The first PRECEDENCE_FEATURES of one sentence (all but the pair's `years_later`); `word`, its
    first word as _order_features reads it, when already known."""
    if word is None:
        word = _word_at_start(_head(analysis, s, 24))
    dated = bool(s.years)
    kinds = s.kinds()
    return [float(dated), float(bool(s.figures)), float(bool(s.factors()) and not dated),
            float(word in _OPENS_BACK), float(word in _OPENS_CONTRAST), float(word in _OPENS_RESULT),
            float(word in _OPENS_ADDITIVE),
            float("outcome" in kinds), float(is_claim(s, focus)), float("conclusion" in kinds), float("causal" in kinds),
            float("counter" in kinds), min(s.words, 40) / 40, float("focus" in kinds), float(s.narrative_opener),
            float("evaluative" in kinds)]


_OPENS_BACK, _OPENS_CONTRAST, _OPENS_RESULT, _OPENS_ADDITIVE = (
    _OPENS[k] for k in ("opens_back", "opens_contrast", "opens_result", "opens_additive"))


def _sharing_pairs(named: list[frozenset[str]]) -> float:
    """The share of the pairs of these (non-empty) factor sets that have a factor in common,
    counted for all pairs at once (a set intersection per pair cost more than the rest of it)."""
    import numpy as np

    column: dict[str, int] = {}
    cells = [(row, column.setdefault(f, len(column))) for row, fs in enumerate(named) for f in fs]
    incidence = np.zeros((len(named), len(column)), dtype=np.int64)
    incidence[tuple(np.array(cells).T)] = 1
    i_of, j_of = _upper_pairs(len(named))
    shared = (incidence @ incidence.T)[i_of, j_of] > 0
    return int(shared.sum()) / len(i_of)


def precedence_pairs(analysis: Analysis, real: list[Sentence], focus: dict[int, frozenset[str]]) -> list[list[float]]:
    """For every two sentences of one paragraph, the earlier first: the difference of their traits
    and whether the later one's years come later (+1), earlier (-1) or cannot be compared (0).
    The precedence model scores a row above 0 when it reads the pair as in the writer's order."""
    traits = [sentence_traits(analysis, s, focus) for s in real]
    rows = []
    for members in by_position(real).values():
        for x, i in enumerate(members):
            a = real[i]
            for j in members[x + 1:]:
                b = real[j]
                later = 0.0
                if a.years and b.years and b.years[0][0] != a.years[-1][0]:
                    later = 1.0 if b.years[0][0] > a.years[-1][0] else -1.0
                rows.append([u - v for u, v in zip(traits[i], traits[j])] + [later])
    return rows


def precedence_score(analysis: Analysis, real: list[Sentence], focus: dict[int, frozenset[str]],
                     weights: list[float], words: list[str] | None = None, traits=None) -> float:
    """The precedence model's mean score over the pairs of `precedence_pairs`, to the same bits
    as `_running_sum([sum(w * x for w, x in zip(weights, row)) for row in rows]) / len(rows)`.

    An essay has a hundred or more such pairs of seventeen figures each, and building and summing
    them as lists cost a third of the argument stage. Here each pair's differences and products
    are taken for all pairs at once (numpy's float arithmetic is Python's, element by element);
    each row is then added up as sum() adds it (_row_sums) and the rows in their order by
    _running_sum, as before."""
    import numpy as np

    # The pairs (i, j), i before j, of each paragraph's sentences in turn, row by row as a double
    # loop over its members visits them (_upper_pairs' order).
    groups = [np.array(members, dtype=np.intp) for members in by_position(real).values() if len(members) > 1]
    if not groups:
        return 0.0
    first_a = np.concatenate([members[_upper_pairs(len(members))[0]] for members in groups])
    second_a = np.concatenate([members[_upper_pairs(len(members))[1]] for members in groups])
    if traits is None:
        traits = np.array([sentence_traits(analysis, s, focus, words[k] if words is not None else None)
                           for k, s in enumerate(real)], dtype=float)
    # Whether the later sentence's first year comes after (+1) or before (-1) the earlier one's
    # last, 0 when either has none or they are the same year: np.sign of the difference.
    dated = np.array([bool(s.years) for s in real], dtype=bool)
    ends = np.array([(s.years[0][0], s.years[-1][0]) if s.years else (0, 0) for s in real],
                    dtype=np.int64).reshape(len(real), 2)
    later = np.where(dated[first_a] & dated[second_a],
                     np.sign(ends[second_a, 0] - ends[first_a, 1]), 0).astype(float)
    rows = np.column_stack([traits[first_a] - traits[second_a], later])
    scores = _row_sums(rows * np.array(weights, dtype=float))
    return _running_sum(scores) / len(first_a)


def _row_sums(products) -> list[float]:
    """Each row of a 2-D float array added up as sum() adds up the list of it, to the same bits.

    Python 3.11's sum() of floats adds them one after the other from 0.0, which adding the
    columns in turn for all rows at once does too (a list and a sum() per row cost most of
    precedence_score). Python 3.12's sum() compensates for rounding: there each row is still
    summed by sum() itself."""
    import numpy as np

    if sys.version_info >= (3, 12):
        return [sum(row) for row in products.tolist()]
    total = np.zeros(len(products))
    for k in range(products.shape[1]):
        total += products[:, k]
    return total.tolist()


def _head(analysis: Analysis, s: Sentence, n: int) -> str:
    """The first n characters of a sentence from its first letter or digit (past quotes, brackets,
    bullets and emoji), as read: misspelt words as meant, any spaces as one (Analysis.opening)."""
    return analysis.opening(s, n)


def _word_at_start(head: str) -> str:
    """A sentence's first word, lower-cased: the letters its head (from _head) starts with."""
    word = ""
    for ch in head:
        if not ch.isalpha():
            break
        word += ch
    return word.lower()


class OrderModel:
    """A logistic model over ORDER_FEATURES: the probability that an essay's sentences are not
    in the order the writer gave them. Plain coefficients in JSON, applied with math alone."""

    def __init__(self, coef: dict[str, float], intercept: float, mean: dict[str, float], scale: dict[str, float],
                 meta: dict | None = None, precedence: dict[str, float] | None = None):
        self.coef, self.intercept, self.mean, self.scale = coef, intercept, mean, scale
        self.meta = {k: v for k, v in (meta or {}).items() if k != "precedence"}
        # The precedence model's weights over PRECEDENCE_FEATURES (its feature `precedence`).
        self.precedence = precedence or {}

    def predict(self, feats: dict[str, float]) -> float:
        if not self.coef:
            return 0.0
        z = self.intercept + sum(self.coef[k] * (feats.get(k, 0.0) - self.mean[k]) / (self.scale[k] or 1.0)
                                 for k in self.coef)
        return round(1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z)))), 4)



    @classmethod
    def load(cls, path: Path) -> "OrderModel":
        data = json.loads(path.read_text(encoding="utf-8"))
        if list(data["features"]) != list(ORDER_FEATURES):
            raise ValueError(f"{path}: the order model was fitted on other features")
        prec = data.get("precedence") or {}
        if prec and list(prec.get("features", ())) != list(PRECEDENCE_FEATURES):
            raise ValueError(f"{path}: the precedence model was fitted on other features")
        return cls(dict(zip(data["features"], data["coef"])), data["intercept"],
                   dict(zip(data["features"], data["mean"])), dict(zip(data["features"], data["scale"])), data,
                   dict(zip(prec.get("features", ()), prec.get("coef", ()))))

    def to_json(self) -> dict:
        feats = list(ORDER_FEATURES)
        out = {**self.meta, "features": feats, "coef": [self.coef[k] for k in feats], "intercept": self.intercept,
               "mean": [self.mean[k] for k in feats], "scale": [self.scale[k] for k in feats]}
        if self.precedence:
            out["precedence"] = {"features": list(PRECEDENCE_FEATURES),
                                 "coef": [self.precedence.get(k, 0.0) for k in PRECEDENCE_FEATURES]}
        return out


@lru_cache(maxsize=1)
def order_model() -> OrderModel:
    """The shipped order model, or one that never calls an essay disordered when it is missing."""
    try:
        return OrderModel.load(ORDER_MODEL_FILE)
    except (OSError, ValueError, KeyError):
        return OrderModel({}, 0.0, {}, {})
