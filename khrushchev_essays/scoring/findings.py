"""What an essay shows, read off the Analysis: factor coverage, dated evidence and its accuracy.

These findings are shared by several criteria (factors, evidence, balance, judgement) and by the
gaming checks, so they are worked out once per essay here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .claims import Argument, is_claim, lists_factors
from .matching import Analysis, Hit, Sentence, is_bullet
from .report import Span
from .rubric import Rubric

# A word between an event's name and a later year that hands the year to something else: a range
# ("between Stalin's death and October 1964") or a list ("the Secret Speech and the 1957 crisis").
_JOINED = re.compile(r"\b(?:and|or|to|until|till|than|while|before|after|since)\b", re.IGNORECASE)
# Words of undoing beside an event's name: a year after the event's own is when it was undone
# ("the sovnarkhozy were abolished in 1965", "the abolition of the councils in 1965"), a date the
# rubric does not hold, not a wrong date for the event. (Not "restored" or "reversed": a reform
# restores or reverses something else, "the Secret Speech of 1958 reversed the cult".)
_UNDONE = re.compile(r"\b(?:abolish\w*|abolition|scrap(?:ped|ping|s)?|dissolv\w*|dissolution|disband\w*|"
                     r"dismantl\w*|undone|undid|revok\w*|revocation|repeal\w*|rescind\w*|overturn\w*|"
                     r"replaced|wound up|closed down|got rid of|did away with|done away with)\b", re.IGNORECASE)


def _reversed(text: str, name: Hit, s: Sentence) -> bool:
    """Whether the event named is itself what was reversed or restored ("Brezhnev reversed the
    sovnarkhozy reform", "the councils were reversed"), not something the event reversed."""
    before = text[max(s.start, name.start - 40):name.start].lower()
    after = text[name.end:min(s.end, name.end + 40)].lower()
    return re.search(r"\b(?:revers|restor|undo|undid)\w*\s+(?:the\s+|his\s+|its\s+)?(?:\w+\s+)?$", before) is not None \
        or re.match(r"\W*(?:\w+\s+){0,2}(?:was|were|had been|being)\s+(?:\w+\s+)?(?:reversed|restored|undone)\b", after) is not None


@dataclass
class FactorFinding:
    id: str
    name: str
    status: str  # missing | mentioned | developed
    mentions: list[Hit] = field(default_factory=list)  # phrase hits in real sentences
    cues: list[Hit] = field(default_factory=list)  # development cues near the mentions
    sentences: list[int] = field(default_factory=list)  # indexes of sentences that mention it
    linked: int = 0  # sentences where it is explained (causal/evaluative/comparison language)
    precise: int = 0  # sentences where it is backed by a year, a figure or a named person
    claims: list[int] = field(default_factory=list)  # claims on the question in its paragraphs (claims.py)
    told: bool = False  # developed by detailed knowledge alone, with no word of explanation near it


@dataclass(frozen=True)
class Findings:
    factors: dict[str, FactorFinding]
    correct_dates: list[Span]
    inaccuracies: list[Span]
    people: list[Span]
    figures: list[Span]
    historians: list[Span]
    list_lines: int  # non-empty lines that are fragments rather than sentences
    fragment_share: float
    # Years of a factor's events written beside the factor without the event's name ("the 1956
    # speech", "the 1961 congress"): credited, never called wrong (the event is not named).
    factor_dates: list[Span] = field(default_factory=list)

    def with_status(self, *statuses: str) -> list[FactorFinding]:
        return [f for f in self.factors.values() if f.status in statuses]


_LINK_KINDS = {"causal", "evaluative", "comparison", "judgement"}


_ON_FACTOR = frozenset({"factor", "dev", "event"})


def find(analysis: Analysis, rubric: Rubric, argument: Argument | None = None) -> Findings:
    """Work out factor statuses and the accuracy of dated evidence.

    A factor is developed when it is explained (causal or evaluative language near it) with
    evidence. When the argument has been read, each factor also lists the claims on the question
    made in the paragraphs that deal with it, for the feedback's argument map. (Requiring such a
    claim for "developed" was tried and lowered agreement with the markers on both sets.)"""
    sents = analysis.sentences
    factors: dict[str, FactorFinding] = {f.id: FactorFinding(f.id, f.name, "missing") for f in rubric.factors}
    ok = argument.credits if argument is not None else _is_real  # what can earn credit

    for s in sents:
        if not ok(s) or "factor" not in s.kinds():
            continue  # a phrase only counts where it stands in a sentence that argues
        listed = lists_factors(s, rubric.argument.list_words_per_factor)  # named in a list: mentioned, not developed there
        for h in s.hits:
            if h.kind == "factor":
                ff = factors[h.key]
                ff.mentions.append(h)
                if not listed and (not ff.sentences or ff.sentences[-1] != s.index):
                    ff.sentences.append(s.index)

    # Notes earn knowledge but not analysis: a factor named only in bullet points that carry a
    # fact (a year, or four words and more: "Secret Speech - 1956 - 20th Congress") is mentioned,
    # never developed. A bare list of names ("- sovnarkhozy") still earns nothing.
    text = analysis.text
    for s in sents:
        if s.real or "factor" not in s.kinds() or (argument is not None and s.index in argument.excluded) \
                or not (s.years or s.words >= 4):
            continue
        line = max(text.rfind(c, 0, s.start) for c in "\n\r\u2028\u2029") + 1
        if s.start - line > 6 or not is_bullet(text[line:s.end]):
            continue  # a bullet point: the sentence opens its line, after the bullet
        for h in s.hits:
            if h.kind == "factor" and not factors[h.key].sentences:
                factors[h.key].mentions.append(h)

    # The credited claims on the question, in order, found once: each factor keeps those in its
    # paragraphs (a pass over every sentence per factor cost a tenth of this stage).
    claim_sents = [s for s in sents if ok(s) and is_claim(s, argument.focus)] if argument is not None else []
    # (The paragraph each sentence is read in: for an essay laid out a sentence to a paragraph, the
    # run of sentences it belongs to, claims.paragraphs_as_read.)
    read_in = argument.paragraph_of if argument is not None else {}

    def para(s: Sentence) -> int:
        return read_in.get(s.index, s.paragraph)

    for ff in factors.values():
        if not ff.mentions:
            continue
        zone = _zone(sents, ff.sentences, ok, bool(read_in))
        for s in zone:
            kinds = s.kinds()
            cues = [h for h in s.hits if h.kind == "dev" and h.key == ff.id] if "dev" in kinds else []
            ff.cues.extend(cues)
            # Explained: the language of explanation, or a claim on the question in the student's
            # own words ("so the farms were still run from Moscow").
            if kinds & _LINK_KINDS or (argument is not None and is_claim(s, argument.focus)):
                ff.linked += 1
            if s.years or s.figures or "people" in kinds or cues:
                ff.precise += 1
        explained = (ff.linked >= 1 and (ff.cues or ff.precise >= 1) and len(ff.sentences) >= 2) or (
            ff.linked >= 2 and len(ff.cues) >= 1
        )
        # Told in detail: three sentences or more, two of its own developments, two precise details.
        ff.told = not explained and len(ff.sentences) >= 3 and len(ff.cues) >= 2 and ff.precise >= 2
        developed = explained or ff.told
        if argument is not None:
            # Body paragraphs that deal with it: the introduction and conclusion name every factor.
            if len(analysis.paragraphs) >= 3:
                paras = {para(sents[i]) for i in ff.sentences}
                if len(paras) > 1:
                    paras -= {0, len(analysis.paragraphs) - 1} if not read_in else {min(read_in.values()),
                                                                                   max(read_in.values())}
                ff.claims = [s.index for s in claim_sents if para(s) in paras]
            else:
                # Without paragraphs, every claim would be in every factor's paragraph: a claim
                # belongs to the factors named in it or in the sentence either side of it.
                near = {i + d for i in ff.sentences for d in (-1, 0, 1)}
                ff.claims = [s.index for s in claim_sents if s.index in near]
        ff.status = "developed" if developed else "mentioned"

    correct, wrong, used = _check_dates(analysis, rubric)
    pointed = _term_dates(analysis, rubric, used, correct, wrong)
    factor_dates = _factor_dates(analysis, rubric, used, correct, ok)
    factor_dates += [sp for sp in pointed if not any(s.start <= sp.start < s.end and not ok(s) for s in sents)]
    if argument is not None and argument.excluded:
        # A correct date earns credit only where its sentence can (not in the question copied out,
        # a repeat or the background); a wrong one is wrong wherever it stands.
        aside = sorted((sents[i].start, sents[i].end) for i in argument.excluded)
        correct = [sp for sp in correct if not _in_spans(sp.start, aside)]
    people = _spans(analysis, (h for s in sents if ok(s) and "people" in s.kinds()
                               for h in s.hits if h.kind == "people"), "person")
    historians = _spans(analysis, (h for s in sents if "historians" in s.kinds()
                                   for h in s.hits if h.kind == "historians"), "historian")
    # A figure is evidence for a point: it counts in a paragraph that deals with some factor, not
    # in one that only tells a story off the question ("27 million died in the war").
    on_factors = {para(s) for s in sents if ok(s) and not s.kinds().isdisjoint(_ON_FACTOR)}
    figures = [Span(a, b, analysis.text[a:b], "figure") for s in sents if ok(s) and para(s) in on_factors
               for a, b in s.figures]

    fragments = sum(1 for _a, _b, w in analysis.lines if w < 6)
    return Findings(
        factors=factors,
        correct_dates=correct,
        inaccuracies=wrong,
        people=distinct(people, lambda sp: sp.text.lower()),
        figures=figures,
        historians=distinct(historians, lambda sp: sp.text.lower()),
        list_lines=fragments,
        fragment_share=fragments / max(1, len(analysis.lines)),
        factor_dates=factor_dates,
    )


def _is_real(s: Sentence) -> bool:
    return s.real


def _zone(sents: list[Sentence], idxs: list[int], ok, run: bool = False) -> list[Sentence]:
    """The sentences that mention a factor and the one after each, within the same paragraph:
    an explanation often follows the sentence that names the factor. (`run`: an essay laid out a
    sentence to a paragraph, read as one run of sentences: the one after is the next of the text.)"""
    out: dict[int, Sentence] = {}
    for i in idxs:
        out[i] = sents[i]
        j = i + 1
        while run and j < len(sents) and not sents[j].real:
            j += 1
        if j < len(sents) and (run or sents[j].paragraph == sents[i].paragraph) and ok(sents[j]):
            out[j] = sents[j]
    return [out[k] for k in sorted(out)]


def _check_dates(analysis: Analysis, rubric: Rubric) -> tuple[list[Span], list[Span], set[int]]:
    """Pair each year with the event it dates; a year that is wrong for its event is an inaccuracy.

    A year dates an event when it stands close to the event's name in the same sentence: just
    after it ("the Secret Speech in February 1956", "(1956)") or just before it ("the 1956 Secret
    Speech", "In 1956 the Secret Speech..."). Credit is given generously (within the rubric's
    `detection.year_window` tokens), but a date is called wrong only when the pairing is unmistakable: the year right
    after the name with no comma or dash between, or right before it ("The satellite of 1957 and
    Gagarin's flight" dates the satellite, not the flight), and with no word of undoing beside
    them ("abolished in 1965" is when it ended). A false accusation of error
    would teach a student the wrong fact, so doubtful pairs are left alone.
    """
    correct: list[Span] = []
    wrong: list[Span] = []
    used: set[int] = set()  # start offsets of the years paired with an event
    text = analysis.text
    window, wrong_after = rubric.detection.year_window, rubric.detection.wrong_after
    breaks = analysis.breaks
    for s in analysis.sentences:
        if not s.years or "event" not in s.kinds():
            continue
        events = [h for h in s.hits if h.kind == "event"]
        for year, ys, ye, yi in s.years:
            candidates = []
            for h in events:
                if yi >= h.tok_end:  # year after the name
                    d, between, after = yi - h.tok_end, range(h.tok_end, yi), True
                elif yi < h.tok_start:  # year before the name
                    d, between, after = h.tok_start - yi - 1, range(yi + 1, h.tok_start), False
                else:
                    continue  # the year is part of the event's own name
                if d <= window:
                    clean = not any(i in breaks for i in between)
                    candidates.append((not clean, d, not after, h, clean, after))
            if not candidates:
                continue
            candidates.sort(key=lambda c: c[:3])
            _unclean, d, _before, best, clean, after = candidates[0]
            ev = rubric.events[int(best.key)]
            used.add(ys)
            lo, hi = min(best.start, ys), max(best.end, ye)
            if year in ev.years:
                correct.append(Span(lo, hi, text[lo:hi], "date", f"{ev.name}, {year}"))
            elif clean and ((after and d <= wrong_after and not _JOINED.search(text, best.end, ys))
                            or (not after and d <= 1 and not _JOINED.search(text, ye, best.start))) \
                    and not _year_fits_other_event(year, events, best, rubric) \
                    and not (year > max(ev.years) and (_UNDONE.search(text, max(s.start, lo - 30), min(s.end, hi + 30))
                                                        or _reversed(text, best, s))):
                right = " or ".join(str(y) for y in ev.years)
                wrong.append(Span(lo, hi, text[lo:hi], "inaccuracy", f"{ev.name}: {right}, not {year}."))
    return correct, wrong, used


# A word just before a year that makes it a time frame, not the date of what is beside it ("by
# 1963 the harvest...", "after 1958", "from 1962 to 1964"): such a year is never called wrong.
_FRAME = re.compile(r"(?:\b(?:by|after|since|until|till|before|from|between|to|than|beyond|within|"
                    r"throughout|around|about|c|circa|up to|as late as|as early as)\W*)$", re.IGNORECASE)
_TIGHT = 3  # a term's words stand at most this many words from a year it is wrong for


_WORD_SETS: dict[int, tuple] = {}


def _event_word_sets(rubric: Rubric) -> tuple[list[tuple[int, tuple[frozenset[str], ...], bool]], dict[str, list[int]]]:
    """Every event's terms and cues as (event index, places, named), and for each word that can
    fill a set's first place, the positions of those sets: worked out once per rubric's events
    (an essay asked every set of every event at each year it read)."""
    got = _WORD_SETS.get(id(rubric.events))
    if got is None or got[0] is not rubric.events:
        sets = [(i, places, named) for i, ev in enumerate(rubric.events) for places, named in ev.word_sets()]
        by_first: dict[str, list[int]] = {}
        for k, (_i, places, _named) in enumerate(sets):
            for w in places[0]:
                by_first.setdefault(w, []).append(k)
        got = _WORD_SETS[id(rubric.events)] = (rubric.events, sets, by_first)
    return got[1], got[2]


def _term_dates(analysis: Analysis, rubric: Rubric, used: set[int], correct: list[Span], wrong: list[Span]) -> list[Span]:
    """Dates of events named in the student's own words (Event.terms and cues: "Hungary in 1956",
    "the 1962 split of the party", "the 1963 harvest failed"), for years no event's name took.

    A year dates an event when every place of one of its terms or cues is filled by a word of the
    same clause, within `detection.year_window` words of the year with no clause break and no other
    year between. Several events may be read there: the year goes to the nearest one it fits. A
    year that fits none is wrong only when a term (not a cue) stands tight against it (within
    three words, nothing joining them, "in 1959" rather than "by 1959"), no event it fits is
    named in the sentence, none of the event's own years is in it and the words read as no other
    event; a cue stands for a term when the event's own name is also in the sentence. Years an event's name took but
    found neither right nor surely wrong ("In 1961 the USSR launched Sputnik") are read again.

    A year read through a term joins the correct dates; one read only through a cue is returned
    (once per event and year): it is evidence in the student's own words, valued as the years
    written beside a factor are (`factor_date_value`)."""
    sets, by_first = _event_word_sets(rubric)
    pointed: list[Span] = []
    if not sets:
        return pointed
    seen = {sp.note for sp in correct}
    text, window, breaks = analysis.text, rubric.detection.year_window, analysis.breaks
    decided = [(sp.start, sp.end) for sp in (*correct, *wrong)]  # what the events' names settled
    for s in analysis.sentences:
        if not s.terms or not s.years:
            continue
        year_toks = {yi for _y, _a, _b, yi in s.years}
        named_events = {int(h.key) for h in s.hits if h.kind == "event"}
        sentence_years = {y for y, _a, _b, _t in s.years}
        named_years = {y for ei in named_events for y in rubric.events[ei].years}
        for year, ys, ye, yi in s.years:
            if ys in used and any(lo <= ys < hi for lo, hi in decided):
                continue  # dated (rightly or wrongly) through an event's name
            near: list[tuple[int, int, int, int]] = []  # (distance, token, start, end) of each key word in reach
            reach: dict[int, frozenset[str]] = {}
            for ti, a, b, words in s.terms:
                lo_t, hi_t = (ti, yi) if ti < yi else (yi, ti)
                d = hi_t - lo_t - 1
                if d > window or any(k in breaks or k in year_toks for k in range(lo_t + 1, hi_t)):
                    continue
                near.append((d, ti, a, b))
                reach[ti] = words
            if not near:
                continue
            found = []  # (event index, named, the words chosen: (distance, token, start, end))
            # Only a word set whose first place a word in reach can fill can be found (in the order
            # of `sets`, as a pass over all of them would find them).
            in_reach = set().union(*reach.values())
            for k in sorted({k for w in in_reach for k in by_first.get(w, ())}):
                ei, places, named = sets[k]
                chosen = []
                for place in places:
                    fits = [w for w in near if w[1] not in {c[1] for c in chosen} and not reach[w[1]].isdisjoint(place)]
                    if not fits:
                        break
                    chosen.append(min(fits))
                else:
                    found.append((ei, named, chosen))
            if not found:
                continue
            right = [f for f in found if year in rubric.events[f[0]].years]
            if any(f[1] and f not in right for f in found):
                right = [f for f in right if f[1]]  # "the harvest failed in 1958": not the record harvest's year
            if right:
                ei, named, chosen = min(right, key=lambda f: (not f[1], max(c[0] for c in f[2]), -len(f[2])))
                ev = rubric.events[ei]
                lo, hi = min(ys, *(c[2] for c in chosen)), max(ye, *(c[3] for c in chosen))
                note = f"{ev.name}, {year}"
                if named:
                    correct.append(Span(lo, hi, text[lo:hi], "date", note))
                elif note not in seen:
                    pointed.append(Span(lo, hi, text[lo:hi], "date", note))
                seen.add(note)
                used.add(ys)
                continue
            if year in named_years or _FRAME.search(text, max(s.start, ys - 14), ys):
                continue
            # A cue names the event too when the event's own name is in the sentence ("In 1958 he
            # denounced Stalin at a closed session of the Twentieth Party Congress").
            # Not when one of the event's own years is in the sentence too: "the 1956 pensions law,
            # and in 1964 pensions were extended" tells of two dates.
            tight = [f for f in found if (f[1] or f[0] in named_events) and all(c[0] <= _TIGHT for c in f[2])
                     and not sentence_years & set(rubric.events[f[0]].years)]
            events = {f[0] for f in tight}
            if len(events) != 1 or len({f[0] for f in found}) > 1:
                continue  # the words could be read as another event's
            ei, _named, chosen = tight[0]
            ev = rubric.events[ei]
            lo, hi = min(ys, *(c[2] for c in chosen)), max(ye, *(c[3] for c in chosen))
            if any(_JOINED.search(text, min(ye, c[3]), max(ys, c[2])) for c in chosen):
                continue
            if year > max(ev.years) and _UNDONE.search(text, max(s.start, lo - 30), min(s.end, hi + 30)):
                continue
            right_years = " or ".join(str(y) for y in ev.years)
            wrong.append(Span(lo, hi, text[lo:hi], "inaccuracy", f"{ev.name}: {right_years}, not {year}."))
            used.add(ys)
    return pointed


def _factor_dates(analysis: Analysis, rubric: Rubric, used: set[int], correct: list[Span], ok) -> list[Span]:
    """Years beside a factor's name that belong to one of the factor's events, in sentences where
    no event is named for them: the span runs from the factor's phrase to the year. One per
    factor and year, and none for a year already credited through a named event."""
    years_of = rubric.factor_years()
    text = analysis.text
    names = {f.id: f.name for f in rubric.factors}
    credited = {sp.note.rsplit(", ", 1)[-1] for sp in correct if sp.note}
    seen: set[tuple[str, int]] = set()
    out: list[Span] = []
    for s in analysis.sentences:
        if not ok(s) or not s.years or "factor" not in s.kinds():
            continue
        hits = [h for h in s.hits if h.kind == "factor"]
        for year, ys, ye, yi in s.years:
            if ys in used or str(year) in credited:
                continue
            near = [h for h in hits if year in years_of.get(h.key, ()) and
                    min(abs(h.tok_start - yi), abs(yi - h.tok_end)) <= rubric.detection.year_window * 2]
            if not near:
                continue
            h = min(near, key=lambda h: min(abs(h.tok_start - yi), abs(yi - h.tok_end)))
            if (h.key, year) in seen:
                continue
            seen.add((h.key, year))
            lo, hi = min(h.start, ys), max(h.end, ye)
            out.append(Span(lo, hi, text[lo:hi], "date", f"{names[h.key]}, {year}"))
    return out


def _year_fits_other_event(year: int, events: list[Hit], chosen: Hit, rubric: Rubric) -> bool:
    return any(h is not chosen and year in rubric.events[int(h.key)].years for h in events)


def _spans(analysis: Analysis, hits, label: str) -> list[Span]:
    return [Span(h.start, h.end, analysis.text[h.start:h.end], label) for h in hits]


def distinct(spans: list[Span], key) -> list[Span]:
    """The first span for each value of key(span), in order."""
    seen: set = set()
    out = []
    for sp in spans:
        k = key(sp)
        if k not in seen:
            seen.add(k)
            out.append(sp)
    return out


def _in_spans(pos: int, spans: list[tuple[int, int]]) -> bool:
    """Whether a character offset falls in one of the (sorted, non-overlapping) spans."""
    import bisect

    k = bisect.bisect_right(spans, (pos, float("inf"))) - 1
    return k >= 0 and spans[k][0] <= pos < spans[k][1]
