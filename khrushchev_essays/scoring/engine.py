"""score(text, rubric) -> ScoreReport: criteria, weighted total, the mark scheme's caps, level.

Order of work for one essay: check the text; run the spaCy pipeline; match the rubric's phrases
(matching.py); read off factor coverage and dated evidence (findings.py); measure each criterion
(criteria.py); raise flags for junk and gaming (gaming.py); total the weighted criteria; apply the
caps; place the mark in its level's band; write the feedback (feedback.py).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator

from . import criteria as crit
from .calibrator import apply_calibration
from .claims import read_argument
from .copying import Overlap, SourceIndex, copied_from
from .feedback import write_feedback
from .findings import find
from .gaming import TopicModel, gaming_flags
from .mark_scheme import apply_mark_scheme, confidence, deductions, order_credit
from .matching import Analysis, RubricMatcher, normalise
from .nlp import get_nlp
from .report import CriterionResult, FactorResult, ScoreReport, Span
from .rubric import Rubric, load_all_rubrics, load_rubric

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


# --- per-process caches --------------------------------------------------------------------------
_lock = threading.Lock()
_matchers: dict[tuple[int, str], RubricMatcher] = {}
_topics: dict[tuple[int, str], TopicModel] = {}


def _cached(cache: dict, rubric: Rubric, nlp, build):
    """One compiled object per rubric and pipeline, built once per process even across threads."""
    key = (id(nlp), rubric.fingerprint())
    obj = cache.get(key)
    if obj is None:
        with _lock:
            obj = cache.get(key)
            if obj is None:
                obj = cache[key] = build(rubric, nlp)
    return obj


def _matcher(rubric: Rubric, nlp) -> RubricMatcher:
    return _cached(_matchers, rubric, nlp, RubricMatcher)


def _topic_model(rubric: Rubric, nlp) -> TopicModel:
    return _cached(_topics, rubric, nlp, TopicModel)


def _resolve(rubric: Rubric | str, doc, text: str, nlp, copied=()) -> tuple[Rubric, float | None, tuple | None]:
    """The rubric to score against, the confidence when it was picked automatically, and (when
    it was) the analysis and findings already made for it, so they are not worked out twice."""
    if isinstance(rubric, Rubric):
        return rubric, None, None
    if rubric == "auto":
        rubrics = load_all_rubrics()
        qid, conf, done = _detect(doc, text, nlp, rubrics, copied)
        return rubrics[qid], conf, done[qid]
    return load_rubric(rubric), None, None


# --- public API ----------------------------------------------------------------------------------
def score(text: str, rubric: Rubric | str, *, source: str = "", sources: SourceIndex | None = None) -> ScoreReport:
    """Score one essay against a rubric, a rubric id ("q1"), or "auto" (the rubric it answers).

    `sources` is the deployment's index of registered source texts (copying.py): passages copied
    from them are marked and earn nothing. Input problems (empty, too long, binary) give a report
    with status "error" and the reason; an unknown rubric id raises KeyError.
    """
    return next(score_many([(source, rubric, text)], sources=sources))


def score_many(items: Iterable[tuple[str, Rubric | str, str]], *, batch_size: int = 64,
               sources: SourceIndex | None = None) -> Iterator[ScoreReport]:
    """Score (source, rubric or id or "auto", text) triples, in order, batching the NLP work."""
    nlp = get_nlp()
    pending: list[tuple[str, Rubric | str, str]] = []

    def flush() -> Iterator[ScoreReport]:
        ok = []
        for src, rub, txt in pending:
            try:
                ok.append((src, rub, check_text(txt)))
            except InputError as exc:
                ok.append((src, rub, exc))
        texts = [normalise(t) for _s, _r, t in ok if isinstance(t, str)]
        docs = iter(nlp.pipe(texts, batch_size=batch_size))
        for src, rub, txt in ok:
            if isinstance(txt, InputError):
                qid = rub.id if isinstance(rub, Rubric) else (None if rub == "auto" else rub)
                yield ScoreReport.failed(src, str(txt), qid)
                continue
            yield _score_doc(next(docs), txt, rub, src, nlp, sources)
        pending.clear()

    for item in items:
        pending.append(item)
        if len(pending) >= batch_size:
            yield from flush()
    if pending:
        yield from flush()


def detect_question(text: str) -> tuple[str, float]:
    """Which rubric an essay answers, and how sure (0.5-1 for two questions)."""
    text = check_text(text)
    nlp = get_nlp()
    qid, conf, _done = _detect(nlp(normalise(text)), text, nlp, load_all_rubrics())
    return qid, conf


def _detect(doc, text: str, nlp, rubrics: dict[str, Rubric], copied=()) -> tuple[str, float, dict]:
    """The best-fitting rubric, the confidence, and each rubric's (analysis, findings)."""
    fits, done = {}, {}
    for qid, r in rubrics.items():
        a = _matcher(r, nlp).analyse(doc, text)
        arg = read_argument(a, r, copied)
        f = find(a, r, arg)
        done[qid] = (a, arg, f)
        cover = sum(1.0 if x.status == "developed" else 0.5 for x in f.factors.values() if x.status != "missing")
        judge = sum(1 for s in a.sentences for h in s.hits if h.kind == "judgement")
        # Topic similarity weighs most: factor phrases overlap between the questions, vocabulary less.
        fits[qid] = cover / max(1, len(r.factors)) + 0.05 * min(judge, 6) + 2 * _topic_model(r, nlp).similarity(a.lemma_hashes)
    total = sum(fits.values())
    best = max(fits, key=fits.get)
    conf = fits[best] / total if total > 0 else 1.0 / len(fits)
    return best, round(conf, 3), done


def _score_doc(doc, text: str, rubric: Rubric | str, source: str, nlp, sources: SourceIndex | None = None) -> ScoreReport:
    copied = sources.overlaps(text) if sources else []
    rubric, qconf, done = _resolve(rubric, doc, text, nlp, copied)
    analysis, argument, findings = done or (None, None, None)
    if analysis is None:
        analysis = _matcher(rubric, nlp).analyse(doc, text)
        argument = read_argument(analysis, rubric, copied)
        findings = find(analysis, rubric, argument)
    ctx = crit.Context(rubric, analysis, findings, argument)
    topic = _topic_model(rubric, nlp)

    results: list[CriterionResult] = []
    raw = 0.0
    # Sentences out of the writer's order cannot be credited for how they argue: the criteria of
    # argument lose credit as the order model grows sure the order is not the writer's.
    kept = order_credit(rubric, argument.disorder)
    for c in rubric.criteria:
        m = crit.REGISTRY[c.kind](ctx, c.params.model_dump())
        if kept < 1.0 and c.kind in ORDER_DEPENDENT:
            m.score *= kept
            m.comment += " The sentences do not follow on from one another, so the argument is hard to follow."
        max_mark = round(c.weight * rubric.max_mark, 2)
        mark = round(m.score * max_mark * 2) / 2  # half marks, as examiners' annotations would
        raw += m.score * c.weight * rubric.max_mark
        results.append(CriterionResult(c.id, c.name, mark, max_mark, m.comment, m.evidence, m.details))

    raw = rubric.max_mark * (raw / rubric.max_mark) ** rubric.mark_curve
    flags, caps = gaming_flags(ctx, topic)
    deducted = deductions(rubric, len(findings.inaccuracies))
    mark, level, caps = apply_mark_scheme(rubric, raw, caps, credited=any(c.mark > 0 for c in results),
                                          deducted=deducted, flags=flags)
    report = ScoreReport(
        source=source, question=rubric.id, mark=mark, max_mark=rubric.max_mark, level=level,
        word_count=analysis.words, criteria=results, factors=_factor_results(analysis, findings, rubric),
        flags=flags, inaccuracies=findings.inaccuracies, caps=caps, raw_mark=round(raw, 2), deductions=deducted,
        argument=_argument_report(analysis, argument, findings, copied),
        question_confidence=qconf,
    )
    report.confidence = confidence(rubric, raw, mark, caps, flags)
    # A matching trained calibrator may move the level; the caps still hold, and low confidence
    # routes the essay to a teacher (needs_review). The feedback then speaks of the final level.
    apply_calibration(report, rubric)
    report.feedback = write_feedback(ctx, report)
    return report




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
        "excluded": [span(s.index, "excluded", s.excluded) for s in sents if s.excluded],
        "other_question": {"id": other.id, "question": other.question} if other else None,
        "copied": [o.to_span(text) for o in copied],
        "copied_from": [{"source": name, "words": n} for name, n in copied_from(copied)],
        "disorder": argument.disorder,
        "term_density": argument.term_density,
    }


ORDER_DEPENDENT = frozenset({"analysis", "judgement", "organisation"})








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
