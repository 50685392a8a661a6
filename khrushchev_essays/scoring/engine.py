"""The Engine: a text and a rubric in, one explained ScoreReport out.

`Engine` owns everything an essay is scored with and runs the stages in one visible order (see
its docstring). The module-level `score()`, `score_many()` and `detect_question()` use one
default Engine per process.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator

from . import criteria as crit
from ..calibration.apply import apply_calibration
from .claims import Argument, order_model, read_argument
from .copying import Overlap, SourceIndex, copied_from
from .feedback import hedge, write_feedback
from .findings import Findings, find
from .gaming import TopicModel, gaming_flags
from .mark_scheme import apply_mark_scheme, confidence, credited, deductions, order_credit
from .matching import Analysis, LexemeTable, RubricMatcher, normalise
from .nlp import get_nlp
from .paragraph_order import paragraph_order_model
from .report import CriterionResult, FactorResult, ScoreReport, Span
from .rubric import Rubric, load_all_rubrics

MAX_WORDS = 6000
MAX_CHARS = 60_000


class InputError(ValueError):
    """The text cannot be scored (empty, too large, binary...); the message says why, for a person."""


def check_text(text: object) -> str:
    """Return the text if it can be scored, else raise InputError with a clear message."""
    if isinstance(text, bytes):
        raise InputError("The essay must be text, not bytes.")
    if not isinstance(text, str):
        raise InputError("The essay must be text.")
    if "\x00" in text:
        raise InputError("This looks like a binary file, not text.")
    if not text.strip():
        raise InputError("The essay is empty.")
    if len(text) > MAX_CHARS:
        raise InputError(f"The essay is too long: {len(text):,} characters, and the limit is {MAX_CHARS:,}.")
    try:  # a lone surrogate (from JSON's "\ud800", or a broken decoder) makes spaCy raise
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise InputError("The text contains characters that are not valid Unicode (a lone surrogate); "
                         "copy the essay again from where it was written, or save it as UTF-8 text.") from None
    # Each word but the last needs a character and a space after it, so a text this short cannot
    # be over the word limit, and splitting it (a string per word) can be skipped.
    if (len(text) + 1) // 2 > MAX_WORDS:
        words = len(text.split())
        if words > MAX_WORDS:
            raise InputError(f"The essay is too long: {words:,} words, and the limit is {MAX_WORDS:,}.")
    return text


class Engine:
    """The scoring engine: owns the spaCy pipeline, the rubrics compiled for it (phrase matchers
    and topic models, built once per rubric), the word-form table they share and the order model,
    as spaCy's Language owns its pipes. Build one per process and share it: it is thread-safe
    (compiling a rubric is done under a lock; scoring reads only).

    One essay goes through these stages, in this order (`_score_doc`):

    1. analyse (matching.py): sentences, paragraphs, every phrase hit, misspellings read as meant;
    2. claims (claims.py): what earns nothing (copied, repeated, incoherent, background), focus,
       thesis and verdict, the other question answered, the order;
    3. findings (findings.py): factor statuses, dated evidence and its accuracy;
    4. criteria (criteria.py): each criterion's score, comment, evidence and details;
    5. mark scheme (gaming.py's flags and caps, then mark_scheme.py): raw mark -> mark and level;
    6. calibration (calibrator.py): a trained correction, if one is installed and valid;
    7. feedback (feedback.py): strengths and next steps for the final level.
    """

    def __init__(self, nlp=None, rubrics: dict[str, Rubric] | None = None):
        self.nlp = nlp if nlp is not None else get_nlp()
        self.rubrics = dict(rubrics) if rubrics is not None else load_all_rubrics()
        self.lexemes = LexemeTable(self.nlp)
        self.order = order_model()
        self.paragraph_order = paragraph_order_model()
        self._compiled: dict[str, tuple[RubricMatcher, TopicModel]] = {}
        self._lock = threading.Lock()

    # --- rubrics ----------------------------------------------------------------------------------
    def rubric(self, rubric: Rubric | str) -> Rubric:
        """A rubric given as itself or by id; KeyError for an unknown id."""
        if isinstance(rubric, Rubric):
            return rubric
        if rubric not in self.rubrics:
            raise KeyError(f"unknown question {rubric!r} (known: {', '.join(sorted(self.rubrics)) or 'none'})")
        return self.rubrics[rubric]

    def compiled(self, rubric: Rubric) -> tuple[RubricMatcher, TopicModel]:
        """The rubric's phrase matcher and topic model for this pipeline, built once."""
        key = rubric.fingerprint()
        done = self._compiled.get(key)
        if done is None:
            with self._lock:
                done = self._compiled.get(key)
                if done is None:
                    done = self._compiled[key] = (RubricMatcher(rubric, self.nlp, self.lexemes, self.rubrics),
                                                  TopicModel(rubric, self.nlp))
        return done

    def warm_up(self) -> None:
        """Build now what the first essay of each question would: the rubric's matcher and topic
        model, and what the stages load or compile at their first use (the phrasing model's
        tables, the calibrators, per-rubric patterns), by marking a made-up essay on each
        (`warm_up_text`). A process that forks workers does this first, so that they share it
        all rather than each building its own. The reports are thrown away; memos it fills hold
        what any essay would work out the same way, so no later mark depends on it."""
        for rubric in self.rubrics.values():
            self.compiled(rubric)
            self.score(warm_up_text(rubric), rubric)

    def read(self, doc, text: str, rubric: Rubric, copied=()) -> tuple[Analysis, Argument, Findings]:
        """Stages 1-3 for one processed essay: its analysis, argument and findings."""
        matcher, topic = self.compiled(rubric)
        analysis = matcher.analyse(doc, text)
        argument = read_argument(analysis, rubric, copied, self.order, self.paragraph_order,
                                 question_lemmas=topic.question_lemma_set)
        return analysis, argument, find(analysis, rubric, argument)

    def analyse_text(self, text: str, rubric: Rubric | str) -> tuple[Analysis, Argument, Findings]:
        """Stages 1-3 for a text (for tools that study the engine, e.g. the order model's training)."""
        return self.read(self.nlp(normalise(text)), text, self.rubric(rubric))

    # --- scoring ----------------------------------------------------------------------------------
    def score(self, text: str, rubric: Rubric | str, *, source: str = "",
              sources: SourceIndex | None = None) -> ScoreReport:
        """Score one essay against a rubric, a rubric id ("q1"), or "auto" (the rubric it answers).

        `sources` is the deployment's index of registered source texts (copying.py): passages
        copied from them are marked and earn nothing. Input problems (empty, too long, binary)
        give a report with status "error" and the reason; an unknown rubric id raises KeyError.
        """
        return next(self.score_many([(source, rubric, text)], sources=sources))

    def score_many(self, items: Iterable[tuple[str, Rubric | str, str]], *, batch_size: int = 64,
                   sources: SourceIndex | None = None) -> Iterator[ScoreReport]:
        """Score (source, rubric or id or "auto", text) triples, in order, batching the NLP work."""
        pending: list[tuple[str, Rubric | str, str]] = []

        def flush() -> Iterator[ScoreReport]:
            ok = []
            for src, rub, txt in pending:
                try:
                    ok.append((src, rub, check_text(txt)))
                except InputError as exc:
                    ok.append((src, rub, exc))
            texts = [normalise(t) for _s, _r, t in ok if isinstance(t, str)]
            docs = iter(self.nlp.pipe(texts, batch_size=batch_size))
            for src, rub, txt in ok:
                if isinstance(txt, InputError):
                    qid = rub.id if isinstance(rub, Rubric) else (None if rub == "auto" else rub)
                    yield ScoreReport.failed(src, str(txt), qid)
                    continue
                yield self._score_doc(next(docs), txt, rub, src, sources)
            pending.clear()

        for item in items:
            pending.append(item)
            if len(pending) >= batch_size:
                yield from flush()
        if pending:
            yield from flush()

    def detect_question(self, text: str) -> tuple[str, float]:
        """Which rubric an essay answers, and how sure (0.5-1 for two questions)."""
        text = check_text(text)
        qid, conf, _done = self._detect(self.nlp(normalise(text)), text)
        return qid, conf

    def _detect(self, doc, text: str, copied=()) -> tuple[str, float, dict]:
        """The best-fitting rubric, the confidence, and each rubric's (analysis, argument, findings)."""
        fits, done = {}, {}
        for qid, r in self.rubrics.items():
            a, arg, f = done[qid] = self.read(doc, text, r, copied)
            # (A factor told in detail without a word of explanation counts as named here: the
            # two questions share their events, and a story of them fits both.)
            cover = sum(1.0 if x.status == "developed" and not x.told else 0.5
                        for x in f.factors.values() if x.status != "missing")
            judge = sum(1 for s in a.sentences for h in s.hits if h.kind == "judgement")
            # Topic similarity weighs most: factor phrases overlap between the questions, vocabulary less.
            fits[qid] = cover / max(1, len(r.factors)) + 0.05 * min(judge, 6) \
                + 2 * self.compiled(r)[1].similarity(a.lemma_hashes)
        total = sum(fits.values())
        best = max(fits, key=fits.get)
        conf = fits[best] / total if total > 0 else 1.0 / len(fits)
        return best, round(conf, 3), done

    def _score_doc(self, doc, text: str, rubric: Rubric | str, source: str,
                   sources: SourceIndex | None = None) -> ScoreReport:
        """The stages of the class docstring, in order, for one processed essay."""
        copied = sources.overlaps(text) if sources else []
        qconf = None
        if rubric == "auto":  # the rubric it fits best; its reading is kept, not redone
            qid, qconf, done = self._detect(doc, text, copied)
            rubric = self.rubrics[qid]
            analysis, argument, findings = done[qid]
        else:
            rubric = self.rubric(rubric)
            analysis, argument, findings = self.read(doc, text, rubric, copied)
        return _mark(rubric, analysis, argument, findings, self.compiled(rubric)[1], copied, source, qconf)


def _mark(rubric: Rubric, analysis: Analysis, argument: Argument, findings: Findings, topic: TopicModel,
          copied: list[Overlap], source: str, qconf: float | None) -> ScoreReport:
    """Stages 4-7: criteria, mark scheme, calibration and feedback, into the one ScoreReport."""
    ctx = crit.Context(rubric, analysis, findings, argument, question_lemmas=topic.question_lemma_set)

    results: list[CriterionResult] = []
    raw = 0.0
    # Sentences out of the writer's order cannot be credited for how they argue: the criteria of
    # argument lose credit as the order model grows sure the order is not the writer's.
    # (Not for an essay on another question: the order model reads where claims on *this*
    # question stand, and such an essay has few anywhere, so it would look shuffled.)
    kept = order_credit(rubric, argument.disorder) if argument.other_question is None else 1.0
    # When the order inside the paragraphs is what took the credit: the paragraphs it read so.
    inside = _paragraphs_out_of_order(analysis, argument) if kept < 1.0 else []
    why = (f" Inside {_paragraph_list(inside)} the sentences do not follow on from one another (a paragraph's "
           "point, then its evidence, then what it shows for the question), so the argument is hard to follow."
           if inside else " The sentences do not follow on from one another, so the argument is hard to follow.")
    whole = lost = 0.0  # the raw mark with the order in place; of it, what the order can take
    for c in rubric.criteria:
        m = crit.REGISTRY[c.kind](ctx, c.params.model_dump())
        whole += m.score * c.weight * rubric.max_mark
        if c.kind in ORDER_DEPENDENT:
            lost += m.score * c.weight * rubric.max_mark
        if kept < 1.0 and c.kind in ORDER_DEPENDENT:
            m.score *= kept
            m.comment += why
        max_mark = round(c.weight * rubric.max_mark, 2)
        mark = round(m.score * max_mark * 2) / 2  # half marks, as examiners' annotations would
        raw += m.score * c.weight * rubric.max_mark
        # Worded as what the marker found or could not find, never as a fact about the essay
        # ("we could not find a counter-argument", not "there is no counter-argument").
        results.append(CriterionResult(c.id, c.name, mark, max_mark, hedge(m.comment), m.evidence, m.details))

    raw = rubric.max_mark * (raw / rubric.max_mark) ** rubric.mark_curve
    floor = rubric.argument.paragraph_order_floor
    curved = raw
    within = argument.paragraph_order
    if inside and floor and not (within is not None and within.evidence < rubric.argument.paragraph_order_floor_line):
        # Shuffled inside its paragraphs, an essay's paragraphs are still each on its factor:
        # what its knowledge earns stands, so the order inside them does not take it below this
        # level (what the other order figures took, they still take).
        across = order_credit(rubric, argument.disorder_across)
        rest = rubric.max_mark * (max(0.0, whole - (1.0 - across) * lost) / rubric.max_mark) ** rubric.mark_curve
        raw = max(raw, min(rest, float(rubric.band(floor).min_mark)))
    relevant = _relevant_floor(rubric, analysis, argument, results, raw, kept)
    if relevant is not None:
        relevant["before"] = round(raw, 2)
        raw = float(rubric.band(relevant["level"]).min_mark)
    evidence = next((res.mark / res.max_mark for c, res in zip(rubric.criteria, results)
                     if c.kind == "evidence" and res.max_mark), None)
    flags, caps = gaming_flags(ctx, topic, credited(rubric, results), evidence)
    caps = [{**cap, "reason": hedge(cap["reason"])} for cap in caps]
    deducted = deductions(rubric, len(findings.inaccuracies))
    mark, level, caps = apply_mark_scheme(rubric, raw, caps, credited=credited(rubric, results),
                                          deducted=deducted, flags=flags, floored=relevant is not None)
    report = ScoreReport(
        source=source, question=rubric.id, mark=mark, max_mark=rubric.max_mark, level=level,
        word_count=analysis.words, criteria=results, factors=_factor_results(analysis, findings, rubric),
        flags=flags, inaccuracies=findings.inaccuracies, caps=caps, raw_mark=round(raw, 2), deductions=deducted,
        argument=_argument_report(analysis, argument, findings, copied),
        question_confidence=qconf,
    )
    if relevant is not None:
        report.argument["relevant_floor"] = relevant
    if inside:
        report.argument["out_of_order"] = [
            Span(a.start, b.end, analysis.text[a.start:b.end], "out_of_order", f"paragraph {number}")
            for number, a, b in inside]
        if raw > curved:
            report.argument["order_floor"] = {"level": floor, "before": round(curved, 2)}
    report.confidence = confidence(rubric, raw, mark, caps, flags)
    if kept < 1.0:
        # The order model, a judgement of probability and not a rule, took credit away: route the
        # essay to a teacher rather than let it stand unseen.
        report.confidence = min(report.confidence, rubric.argument.disorder_confidence)
    # A matching trained calibrator may move the level; the caps still hold, and low confidence
    # routes the essay to a teacher (needs_review). The feedback then speaks of the final level.
    apply_calibration(report, rubric)
    report.feedback = write_feedback(ctx, report)
    return report




def _relevant_floor(rubric: Rubric, analysis: Analysis, argument, results: list[CriterionResult], raw: float,
                    kept: float) -> dict | None:
    """{"level": 2, "words": N, "factors": N} when the essay is held up to Level 2 as the relevant
    answer of essay length it is (ArgumentRules.relevant_floor_words); else None. Not for sentences
    out of the writer's order (the order model doubted them), nor an answer to another question;
    the caps still hold it lower after this (incoherent, off topic, too short...)."""
    rules = rubric.argument
    if not rules.relevant_floor_words or argument.other_question is not None or kept < 1.0:
        return None
    floor = rubric.band(2).min_mark
    if raw >= floor:
        return None
    words = analysis.words - sum(analysis.sentences[i].words for i in argument.excluded)
    factors = next((r for c, r in zip(rubric.criteria, results) if c.kind == "factors"), None)
    developed = int((factors.details or {}).get("developed", 0)) if factors else 0
    named = developed + (int((factors.details or {}).get("mentioned", 0)) if factors else 0)
    if words < rules.relevant_floor_words or developed < 1 or named < rules.relevant_floor_factors:
        return None
    return {"level": 2, "words": words, "factors": named}


# --- the module-level API: a default Engine per process -------------------------------------------
_default: Engine | None = None
_default_lock = threading.Lock()


def default_engine() -> Engine:
    """This process's Engine (the pipeline from get_nlp() and the project's rubrics), built once."""
    global _default
    if _default is None:
        with _default_lock:
            if _default is None:
                _default = Engine()
    return _default


def warm_up_text(rubric) -> str:
    """A made-up essay of a few hundred words on the rubric's own factors (never stored or shown)."""
    paragraphs = [f"{rubric.question} This essay argues that {rubric.factors[0].name.lower()} mattered most."]
    for factor in rubric.factors:
        paragraphs.append(f"{factor.name} was important because it changed how the USSR was governed. However, "
                          f"historians disagree about how far it mattered, which suggests that its effect was limited. "
                          f"For example, in 1956 and again in 1961 the results were mixed.")
    paragraphs.append("In conclusion, the changes were significant but they did not transform the USSR by 1964.")
    return "\n\n".join(paragraphs)


def score(text: str, rubric: Rubric | str, *, source: str = "", sources: SourceIndex | None = None) -> ScoreReport:
    """Score one essay with the default Engine (see Engine.score)."""
    return default_engine().score(text, rubric, source=source, sources=sources)


def score_many(items: Iterable[tuple[str, Rubric | str, str]], *, batch_size: int = 64,
               sources: SourceIndex | None = None) -> Iterator[ScoreReport]:
    """Score many essays with the default Engine (see Engine.score_many)."""
    return default_engine().score_many(items, batch_size=batch_size, sources=sources)


def detect_question(text: str) -> tuple[str, float]:
    """Which rubric an essay answers, with the default Engine (see Engine.detect_question)."""
    return default_engine().detect_question(text)


def _argument_report(analysis: Analysis, argument, findings, copied: list[Overlap]) -> dict:
    """The argument as the engine read it, for the feedback page: every part a span of the text."""
    text = analysis.text
    sents = analysis.sentences

    def span(i: int, label: str, note: str | None = None) -> Span:
        s = sents[i]
        return Span(s.start, s.end, text[s.start:s.end], label, note)

    other = argument.other_question
    return {
        "thesis": [span(i, "thesis") for i in argument.thesis],
        "verdict": [span(i, "verdict") for i in argument.verdict],
        "claims": {fid: [span(i, "claim", fid) for i in ff.claims[:4]] for fid, ff in findings.factors.items()
                   if ff.claims and ff.status != "missing"},
        "excluded": [span(i, "excluded", why) for i, why in argument.excluded.items()],
        "other_question": {"id": other.id, "question": other.question} if other else None,
        "copied": [o.to_span(text) for o in copied],
        "copied_from": [{"source": name, "words": n} for name, n in copied_from(copied)],
        "disorder": argument.disorder,
        "term_density": argument.term_density,
    }


ORDER_DEPENDENT = frozenset({"analysis", "balance", "judgement", "organisation"})


def _paragraphs_out_of_order(analysis: Analysis, argument) -> list[tuple[int, object, object]]:
    """(paragraph number as the student counts them, its first and last sentence) of each
    paragraph the paragraph order model read as out of order, when it is what judged the essay
    out of order (its share of the orders beaten under a half)."""
    j = argument.paragraph_order
    if j is None or argument.disorder <= argument.disorder_across:
        return []
    out = []
    for p, share in j.shares:
        members = [s for s in analysis.sentences if s.paragraph == p and argument.credits(s)]
        if share < 0.5 and members:
            out.append((p + 1, members[0], members[-1]))
    return out


def _paragraph_list(inside: list[tuple[int, object, object]]) -> str:
    numbers = [str(n) for n, _a, _b in inside]
    if len(numbers) == 1:
        return f"paragraph {numbers[0]}"
    return f"paragraphs {', '.join(numbers[:-1])} and {numbers[-1]}"








def _factor_results(analysis: Analysis, findings, rubric: Rubric) -> list[FactorResult]:
    out = []
    text = analysis.text
    for f in rubric.factors:
        ff = findings.factors[f.id]
        spans = [Span(h.start, h.end, text[h.start:h.end], f.id, "named") for h in ff.mentions]
        spans += [Span(h.start, h.end, text[h.start:h.end], f.id, "developed by") for h in ff.cues]
        spans.sort(key=lambda s: s.start)
        out.append(FactorResult(f.id, f.name, ff.status, spans, None if ff.status == "developed" else f.hint))
    return out
