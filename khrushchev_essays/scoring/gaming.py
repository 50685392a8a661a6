"""Flags and caps: junk and gaming (keyword lists, off-topic text, copying the question, too short,
not English) and the mark scheme's structural ceilings (no judgement, narrative, one-sided...).

Off-topic detection uses a TF-IDF model (tfidf.py) fitted on the rubric's own text (its topic
description, question, factor phrases, cues and hints), with cosine similarity between an essay
and that text, read together with how many of the rubric's factors the essay covers.
"""

from __future__ import annotations

import math
import re

from .criteria import (
    Context,
    analytic_sentences,
    argued_paragraphs,
    claim_sentences,
    counter_paragraphs,
    has_judgement,
    named_factor_weighing,
    narrative_sentences,
    relevance,
)
from .matching import member
from .rubric import Rubric
from .tfidf import SublinearTfidf

# Every threshold is the rubric's (`[detection]` and `[caps]`), so a department can tune them.


_DATE_HEADING = re.compile(r"^\s*(?:\d{4}\b|(?:in|from|after|before)\s+\d{4}\b)", re.IGNORECASE)



def date_headings(text: str, paragraphs: list[tuple[int, int]]) -> int:
    """Headings that organise the essay by period ("1953-1956: the struggle for power")."""
    count = 0
    for a, b in paragraphs:
        para = text[a:b].strip()
        # (Cheapest test first: counting a paragraph's words makes a string per word.)
        if para[-1:] not in ".!?" and _DATE_HEADING.match(para) and len(para.split()) <= 12:
            count += 1
    return count


class TopicModel:
    """TF-IDF vocabulary of one rubric's topic, for similarity between an essay and the question."""

    def __init__(self, rubric: Rubric, nlp):
        docs = [rubric.topic_text + " " + rubric.question + " " + rubric.summary]
        docs += [" ".join([f.name, *f.phrases, *f.development, f.hint]) for f in rubric.factors]
        lemmatised = [[t.lemma_ for t in d if t.is_alpha and not t.is_stop and len(t) > 2] for d in nlp.pipe(docs)]
        self.vectorizer = SublinearTfidf()
        matrix = self.vectorizer.fit_transform(lemmatised)
        centroid = matrix.sum(axis=0)
        norm = (centroid ** 2).sum() ** 0.5
        self.centroid = centroid / norm if norm else centroid
        # The fitted vocabulary as plain dicts, so one essay's similarity is a few dict lookups
        # rather than a sparse-matrix round trip (transform() costs about a millisecond a call).
        from spacy.strings import hash_string

        # Keyed by string-store hash, the form in which the Analysis holds an essay's lemmas.
        self._idf = {hash_string(t): float(self.vectorizer.idf_[i]) for t, i in self.vectorizer.vocabulary_.items()}
        self._weight = {hash_string(t): float(self.centroid[i]) for t, i in self.vectorizer.vocabulary_.items()}
        self._oov_idf = float(max(self.vectorizer.idf_)) if len(self.vectorizer.idf_) else 1.0
        # The same, as arrays sorted by hash, for similarity() to look a whole essay up at once.
        import numpy as np

        self._keys = np.array(sorted(self._idf), dtype="uint64")
        self._idfs = np.array([self._idf[k] for k in self._keys.tolist()], dtype=float)
        self._weights = np.array([self._weight[k] for k in self._keys.tolist()], dtype=float)
        self.question_lemmas = {t.lemma for t in nlp(rubric.question) if t.is_alpha and not t.is_stop}
        self.question_lemma_array = np.array(sorted(self.question_lemmas), dtype="uint64")  # for member
        self.question_lemma_set = frozenset(self.question_lemmas)  # for claims.substance
        self.question_norm = _squash(rubric.question)
        self._log_table = None

    def _logs(self, upto: int):
        """math.log(c) for c up to at least `upto` as a numpy array (index 0 unused), grown as
        needed; np.log may differ from math.log in the last bit. Replaced whole, never changed in
        place, so a reader on another thread always sees a complete table."""
        import numpy as np

        table = self._log_table
        if table is None or len(table) <= upto:
            table = self._log_table = np.array([0.0] + [math.log(c) for c in range(1, 2 * upto + 64)])
        return table

    def similarity(self, lemma_hashes) -> float:
        """Cosine similarity (0-1) between an essay's content lemmas (as hashes) and the topic."""
        import numpy as np

        if len(lemma_hashes) == 0:
            return 0.0
        values, freq = np.unique(lemma_hashes, return_counts=True)
        # The same weighting as TfidfVectorizer(sublinear_tf=True): (1 + log tf) * idf, L2-normalised.
        # Words outside the topic vocabulary still count in the norm, with the rarest idf. Worked
        # out with numpy, but to the same bits as a Python loop over the sorted lemmas: the logs
        # come from math.log, and np.cumsum adds in order (np.sum would add pairwise).
        keys = self._keys
        if len(keys):
            pos = np.minimum(np.searchsorted(keys, values), len(keys) - 1)
            known = keys[pos] == values
            idf, weight = np.where(known, self._idfs[pos], self._oov_idf), np.where(known, self._weights[pos], 0.0)
        else:
            idf, weight = np.full(len(values), self._oov_idf), np.zeros(len(values))
        w = (1.0 + self._logs(int(freq.max()))[freq]) * idf
        norm = float(np.cumsum(w * w)[-1])
        dot = float(np.cumsum(w * weight)[-1])
        return dot / math.sqrt(norm) if norm else 0.0




def _squash(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", text.lower()).strip()


_TOPICAL = frozenset({"factor", "dev", "event", "people"})


def _topical_stop_ratio(a) -> float:
    """The share of words that are not content words, in the sentences that name something of the
    period (a factor, an event, a person, a year); 1.0 (prose) when there are none to judge."""
    content = a.token_content
    if content is None:
        return 1.0
    import numpy as np

    running = np.concatenate(([0], np.cumsum(content))).tolist()
    words = other = 0
    for s in a.sentences:
        if s.words and (s.years or not s.kinds().isdisjoint(_TOPICAL)):
            words += s.words
            other += s.words - (running[s.tok_end] - running[s.tok_start])
    return other / words if words >= 12 else 1.0


def gaming_flags(ctx: Context, topic: TopicModel, credited: bool = False,
                 evidence: float | None = None) -> tuple[list[str], list[dict]]:
    """Flags raised for the essay, and the caps (max levels) they and the mark scheme impose.
    `evidence`: the share of its criterion the essay's evidence earned (as shown to the student)."""
    a, f, r = ctx.analysis, ctx.findings, ctx.rubric
    d = r.detection
    flags: list[str] = []
    caps: list[dict] = []

    def cap(rule: str, max_level: int, reason: str, flag: bool = True) -> None:
        if flag and rule not in flags:
            flags.append(rule)
        caps.append({"rule": rule, "max_level": max_level, "reason": reason})

    covered = [x for x in f.factors.values() if x.status != "missing"]
    alpha = max(1, a.alpha_tokens)

    # Not English: most words are not English words.
    if a.alpha_tokens >= 8 and a.known_tokens / alpha < d.not_english_known:
        cap("not_english", 0, "the essay is not in English")
        return flags, caps

    # Length: of what can earn credit. Repeated, copied, incoherent and background sentences add
    # words but no room to argue, so they cannot lift an essay over a length cap.
    length = a.words - sum(a.sentences[i].words for i in ctx.argument.excluded)
    for rule in sorted(r.caps.length, key=lambda c: c.below_words):
        if length < rule.below_words:
            # Said of the words that can earn credit when the essay itself is long enough, so
            # that a long essay whose sentences were set aside is not told it is short.
            reason = f"under {rule.below_words} words" if a.words < rule.below_words else \
                f"under {rule.below_words} words that can earn credit ({length} of its {a.words})"
            cap("too_short", rule.max_level, reason, flag=rule is min(
                r.caps.length, key=lambda c: c.below_words))
            break

    # A list of keywords: few function words, or most lines fragments with no sentence to them.
    stop_ratio = a.stop_tokens / alpha
    real_words = sum(s.words for s in ctx.real)
    # Few function words make a list of terms only when most lines are fragments too, or when there
    # are hardly any (`keyword_bare_ratio`): notes whose points say something ("MTS abolished -
    # farms had to buy tractors") run at 22-28% and are sentences as often as not; they earn their
    # knowledge and are held by the caps on notes and narrative, not at Level 1 as a term list.
    sparse = stop_ratio < d.keyword_stop_ratio or _topical_stop_ratio(a) < d.keyword_topical_stop_ratio
    bullets = _bullet_notes(a)
    if a.words >= 12 and not bullets and (
        (sparse and (f.fragment_share >= d.keyword_fragment_share or stop_ratio < d.keyword_bare_ratio))
        or (len(a.lines) >= 5 and f.fragment_share >= d.keyword_fragment_share and real_words < 0.5 * a.words)
    ):
        cap("keyword_list", r.caps.keyword_list, "a list of terms, not sentences")
    elif bullets:
        cap("notes", r.caps.notes, "notes (bullet points of facts), not an essay that argues")
    elif _reads_as_notes(a):
        cap("notes", r.caps.notes, "notes (headings and short paragraphs), not an essay that argues")
    elif _glued_list(a):
        cap("notes", r.caps.notes, "notes (points strung together with dashes), not an essay that argues")

    # Copying the question.
    content = a.lemma_hashes
    in_q = int(member(content, topic.question_lemma_array).sum())
    remainder = None
    if a.words < len(topic.question_norm.split()) * 4 + d.copy_remainder_words:
        # Only a short text can be "mostly the question"; skip the string work for real essays.
        squashed = _squash(a.text)
        if topic.question_norm in squashed:
            remainder = len(squashed.replace(topic.question_norm, " ").split())
    if (len(content) and in_q / len(content) >= d.copied_share) or (remainder is not None and remainder < d.copy_remainder_words):
        cap("copied_question", r.caps.copied_question, "the text mostly repeats the question")

    # Off topic: unlike the rubric's topic, and touching at most one of its factors.
    sim = topic.similarity(a.lemma_hashes)
    developed = [x for x in covered if x.status == "developed"]
    if not developed and len(covered) <= 2 and sim < d.off_topic_similarity and "copied_question" not in flags:
        # Level 0 only for an essay nothing was credited in: the mark is never 0 when a criterion gave credit.
        cap("off_topic", 0 if not covered and sim < d.off_topic_similarity / 2 and not credited else r.caps.off_topic,
            f"little to do with the question (topic similarity {sim:.2f})")

    # What the argument stage found (claims.py): sentences that join unconnected ideas, the other
    # question answered, repeats.
    arg = ctx.argument
    rules = r.argument
    if arg.dense:
        cap("incoherent", r.caps.incoherent,
            f"most sentences string the mark scheme's terms together ({round(100 * arg.term_density)}% of their "
            "words) instead of explaining them")
    elif arg.scrambled is not None:
        cap("incoherent", r.caps.incoherent,
            "the words of most sentences are not in an order that makes sense (\"the of\", sentences ending "
            "in \"the\"), so no sentence could be credited")
    elif arg.unphrased is not None:
        cap("incoherent", r.caps.incoherent,
            "most sentences do not run as English sentences do (their words follow on in pairs, not as a "
            "sentence), as text stitched together from other sentences does")
    elif len(arg.incoherent) >= rules.incoherent_min and arg.incoherent_share >= rules.incoherent_share:
        cap("incoherent", r.caps.incoherent,
            f"{len(arg.incoherent)} of {arg.factor_sentences} sentences join ideas that have no connection")
    elif arg.disorder >= rules.disorder_incoherent and arg.other_question is None:
        # (An essay on another question has its own cap: the order model, which reads where claims
        # on this question stand, would call its order the writer's mistake.)
        cap("incoherent", r.caps.incoherent, "the sentences do not follow on from one another")
    if arg.other_question is not None and "off_topic" not in flags:  # off topic says it better
        cap("answers_other_question", r.caps.answers_other_question,
            f"answers another question: \u201c{arg.other_question.question}\u201d")
    if arg.repeated_share >= rules.repetition_share and len(arg.repeats) >= 2:
        flags.append("repetition")
    copied_words = sum(a.sentences[i].words for i, why in ctx.argument.excluded.items() if why == "copied")
    if copied_words >= rules.copied_min_words or copied_words >= rules.copied_share * max(1, a.words):
        flags.append("copied_source")

    # The mark scheme's structural ceilings.
    if not has_judgement(ctx):
        cap("no_judgement", r.caps.no_judgement, "no overall judgement")
    n = max(1, len(ctx.real))
    narrative = len(narrative_sentences(ctx))
    if narrative / n >= r.caps.narrative_share and len(analytic_sentences(ctx)) / n < d.analytic_floor:
        cap("mostly_narrative", r.caps.mostly_narrative, "mostly narrative")
    elif (len(a.paragraphs) >= 5 and narrative / n >= d.story_narrative_share
          and len(analytic_sentences(ctx)) / n < d.story_analytic_share
          and argued_paragraphs(ctx) < d.story_argued_share
          and len(claim_sentences(ctx)) / n < d.story_claim_share) or date_headings(a.text, a.paragraphs) >= 2:
        cap("narrative_structure", r.caps.narrative_structure, "paragraphs tell the story in order instead of making points")
    if len(ctx.real) >= 4 and relevance(ctx) < d.irrelevant_share:
        cap("irrelevant", r.caps.irrelevant, "most sentences do not address the question")
    if not counter_paragraphs(ctx):
        cap("one_sided", r.caps.one_sided, "no counter-argument")
    if evidence is not None and evidence < r.caps.thin_evidence_share:
        specifics = (len({y[0] for s in ctx.real for y in s.years}) + len(f.people) + min(len(f.figures), 6))
        if specifics < r.caps.thin_evidence_specifics:
            # Checked on five marked sets (144 scripts): every script the rules put at Level 4 or 5
            # under both lines was Level 3 to its markers.
            cap("thin_evidence", r.caps.thin_evidence,
                f"little specific evidence for the points made (dates, names and figures: {specifics} in all)")
    wrong, right = len(f.inaccuracies), len(f.correct_dates) + len(f.factor_dates)
    if wrong >= r.caps.inaccurate_min and wrong > right:
        # Checked on six marked sets (168 scripts): none has more than two dates found wrong.
        cap("inaccurate", r.caps.inaccurate, f"more dates wrong than right ({wrong} wrong, {right} right)")
    if r.named_factor is not None:
        covered_named, rivals, _w = named_factor_weighing(ctx)
        if not covered_named:
            cap("ignores_named_factor", r.caps.ignores_named_factor, f"we could not find where it deals with {r.named_factor.name}")
        elif rivals == 0:
            cap("only_named_factor", r.caps.one_sided, f"writes only about {r.named_factor.name}")
    return flags, caps


def _is_heading(line: str, words: int) -> bool:
    return words <= 8 and line[-1:] not in ".!?\"'\u201d\u2019"


def _bullet_notes(a) -> bool:
    """Revision notes in bullet points: six or more bullets, most of the lines, saying something
    each (five words or more a bullet on average: "Virgin Lands 1954 Kazakhstan - record 1956 BUT
    erosion"). Such notes are sparse in function words and made of fragments, like a list of
    terms, but they hold knowledge: they are held at the notes' level, not as a term list. A list
    of terms set out as bullets ("- Secret Speech 1956") has two or three words a line, and notes
    stripped of their function words are terms however many to a line."""
    from spacy.lang.en.stop_words import STOP_WORDS

    from .matching import is_bullet

    text = a.text
    lines = [text[start:end] for start, end, _words in a.lines if is_bullet(text[start:end])]
    if len(lines) < 6 or len(lines) < 0.5 * len(a.lines):
        return False
    words = [w.lower() for line in lines for w in _WORD.findall(line)]
    # (Words that relate, a tenth of them or more, "so terror at the top ended": terms stripped of
    # them are a list of terms however many to a line.)
    return len(words) >= 5 * len(lines) and sum(w in STOP_WORDS for w in words) >= 0.1 * len(words)


_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9']*")


def _reads_as_notes(a) -> bool:
    """Revision notes rather than an essay: six or more headings and bullet points, a quarter of
    the lines or more, and ten or more short paragraphs of text (under 35 words on average,
    headings aside). An essay with a heading over each of its paragraphs has long paragraphs."""
    from .matching import is_bullet

    text = a.text
    marked = 0
    for start, end, words in a.lines:
        line = text[start:end].strip()
        if is_bullet(text[start:end]) or _is_heading(line, words):
            marked += 1
    if marked < 6 or marked < 0.25 * len(a.lines):
        return False
    sizes = []
    for start, end in a.paragraphs:
        body = [ln for ln in text[start:end].split("\n") if ln.strip() and not _is_heading(ln.strip(), len(ln.split()))]
        if body:
            sizes.append(sum(len(ln.split()) for ln in body))
    return len(sizes) >= 10 and sum(sizes) / len(sizes) < 35


_LIST_MARK = re.compile(r"(?:^|\s)(?:[*\u2022\u2013\u2014]|--?)(?=\s)")


def _glued_list(a) -> bool:
    """Notes with their line breaks lost (pasted into a box that keeps none): most of the words in
    "sentences" of 40 words or more strung together with bullets and dashes, four or more to one,
    most of the pieces between them six words or fewer ("Secret Speech - 1956 - 20th Congress *
    made enemies - Molotov..."). A writer who uses dashes sets off clauses with them."""
    text = a.text
    glued = total = 0
    for s in a.sentences:
        if not s.real:
            continue
        total += s.words
        if s.words < 40:
            continue
        pieces = [len(piece.split()) for piece in _LIST_MARK.split(text[s.start:s.end])]
        # Points are short (a name, a date, a few words); a writer's dashes set off clauses.
        if len(pieces) >= 5 and sorted(pieces)[len(pieces) // 2] <= 6:
            glued += s.words
    return total > 0 and glued >= 0.5 * total

