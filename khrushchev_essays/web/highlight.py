"""The essay with its evidence highlighted: HTML built safely from the original text and span offsets.

Every piece of the student's text goes through `markupsafe.escape` on its own, and only the
tags this module writes are markup, so nothing an essay contains can become HTML. Spans may
overlap (a sentence can be evidence for two factors and hold a wrong date): the text is cut at
every span boundary and each piece is wrapped once, with the classes of all spans covering it.

With the argument the engine read (feedback_view.ArgumentView), the essay also shows the thesis and
verdict, each credited claim (numbered, anchored so the argument map can link to it, with a link
back), the sentences that earned nothing (numbered, linked to why) and passages copied from a
registered source.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass, field

from markupsafe import Markup, escape

from ..scoring.report import ScoreReport
from .feedback_view import ArgumentView

PALETTE_SIZE = 10  # colour classes f1..f10 in app.css; numbers repeat the colour past that


@dataclass(frozen=True, slots=True)
class _Mark:
    start: int
    end: int
    kind: str  # "factor" | "inaccuracy" | "thesis" | "verdict" | "claim" | "excluded" | "copied"
    number: int  # the factor's number in the legend, or the inaccuracy's note number
    label: str  # the factor's name, or the inaccuracy's note


@dataclass(slots=True)
class HighlightedEssay:
    """The essay as HTML, the legend entries for the factors it shows, and the inaccuracy notes."""

    html: Markup
    legend: list[dict] = field(default_factory=list)  # {"number", "name", "status", "count", "colour"}
    notes: list[dict] = field(default_factory=list)  # {"number", "text", "note"}


def colour_class(number: int) -> str:
    """The CSS class of a factor's colour (f1..f10)."""
    return f"f{(number - 1) % PALETTE_SIZE + 1}"


# Where a clause ends: after . ! ? or ; (and any closing quote or bracket) and a space, or at a line break.
_CLAUSE_END = re.compile(r"(?<=[.!?;])[\"'\u201d\u2019)\]]*\s+|\n+")


def clauses(text: str) -> list[tuple[int, int]]:
    """The essay cut into sentences and clauses (split at ; too), as (start, end) offsets without the
    spaces between them: the units the student's page highlights, rather than single words."""
    out, start = [], 0
    for m in _CLAUSE_END.finditer(text):
        end = m.start() if m.group().isspace() else m.start() + len(m.group().rstrip())
        if text[start:end].strip():
            out.append((start, end))
        start = m.end()
    if text[start:].strip():
        out.append((start, len(text.rstrip())))
    return out


def _clause_runs(text: str, units: list[tuple[int, int]], starts: list[int], spans: list[tuple[int, int]]
                 ) -> tuple[list[tuple[int, int]], int]:
    """One factor's evidence as runs of whole clauses: clauses next to each other in one paragraph make
    one run (one number in the essay, not one per sentence). Returns the runs and how many clauses."""
    touched: set[int] = set()
    for a, b in spans:
        first = max(0, bisect_right(starts, a) - 1)
        last = max(first, bisect_right(starts, max(a, b - 1)) - 1)
        touched.update(range(first, last + 1))
    runs: list[tuple[int, int]] = []
    previous = None
    for i in sorted(touched):
        if previous is not None and i == previous + 1 and "\n" not in text[units[previous][1]:units[i][0]]:
            runs[-1] = (runs[-1][0], units[i][1])
        else:
            runs.append(units[i])
        previous = i
    return runs, len(touched)


def _collect(text: str, report: ScoreReport, argument: ArgumentView | None = None, by_clause: bool = False
             ) -> tuple[list[_Mark], list[dict], list[dict]]:
    """Every usable span, clamped to the text; spans that fall outside it or are empty are dropped.
    With `by_clause`, a factor's evidence marks the whole clause or sentence it stands in."""
    n = len(text)
    units = clauses(text) if by_clause else []
    unit_starts = [u[0] for u in units]
    marks: list[_Mark] = []
    seen: set[tuple[int, int, str, int]] = set()

    def add(start: int, end: int, kind: str, number: int, label: str) -> bool:
        start, end = max(0, min(start, n)), max(0, min(end, n))
        key = (start, end, kind, number)
        if start >= end or key in seen:
            return False
        seen.add(key)
        marks.append(_Mark(start, end, kind, number, label))
        return True

    legend = []
    for number, factor in enumerate(report.factors, 1):
        spans = [(ev.start, ev.end) for ev in factor.evidence if 0 <= ev.start < ev.end <= n]
        if units:
            spans, count = _clause_runs(text, units, unit_starts, spans)
            for a, b in spans:
                add(a, b, "factor", number, factor.name)
        else:
            count = sum(add(a, b, "factor", number, factor.name) for a, b in spans)
        if count:
            legend.append(
                {"number": number, "name": factor.name, "status": factor.status, "count": count,
                 "colour": colour_class(number)}
            )
    notes = []
    for span in sorted(report.inaccuracies, key=lambda s: s.start):
        number = len(notes) + 1
        note = span.note or "This date or fact looks wrong: check it."
        if add(span.start, span.end, "inaccuracy", number, note):
            notes.append({"number": number, "text": text[max(0, span.start):span.end], "note": note})
    if argument is not None:
        for kind, spans in (("thesis", argument.thesis), ("verdict", argument.verdict)):
            for i, sp in enumerate(spans, 1):
                add(sp.start, sp.end, kind, i, kind.capitalize())
        for claim in argument.claims:
            add(claim.start, claim.end, "claim", claim.number, f"Claim {claim.number}")
        for ex in argument.excluded:
            add(ex["start"], ex["end"], "excluded", ex["number"], ex["title"])
        for i, sp in enumerate(argument.copied, 1):
            add(sp.start, sp.end, "copied", i, sp.note or "Copied from a registered source")
    return marks, legend, notes


# Where several spans start at one place, their tags come in this order.
_TAG_ORDER = {"thesis": 0, "verdict": 0, "claim": 1, "excluded": 1, "copied": 2, "factor": 3, "inaccuracy": 4}
# The class a piece of text gets for each sentence-level kind covering it.
_SENTENCE_CLASS = {"thesis": "hl-thesis", "verdict": "hl-thesis", "claim": "hl-claim", "excluded": "hl-excl",
                   "copied": "hl-copied"}


def _tag(mark: _Mark) -> Markup:
    """The number shown where a span starts: the cue that does not rely on colour."""
    if mark.kind in ("thesis", "verdict"):
        return Markup('<a class="tag tag-thesis" id="{k}-{n}" href="#{k}">{label}</a>').format(
            k=mark.kind, n=mark.number, label=mark.label)
    if mark.kind == "claim":
        return Markup(
            '<a class="tag tag-claim" id="claim-{n}" href="#map-claim-{n}">'
            '<span class="visually-hidden">Claim </span>C{n}</a>'
        ).format(n=mark.number)
    if mark.kind == "excluded":
        return Markup(
            '<a class="tag tag-excl" id="excl-{n}" href="#excl-note-{n}">'
            '<span class="visually-hidden">No credit, note </span>\u2715{n}</a>'
        ).format(n=mark.number)
    if mark.kind == "copied":
        return Markup("")
    if mark.kind == "inaccuracy":
        return Markup(
            '<a class="tag tag-inacc" href="#inacc-{n}" id="inacc-ref-{n}">'
            '<span class="visually-hidden">Inaccuracy </span>!{n}</a>'
        ).format(n=mark.number)
    return Markup(
        '<span class="tag {c}" data-factor="{n}"><span class="visually-hidden">factor </span>{n}</span>'
    ).format(c=colour_class(mark.number), n=mark.number)


def highlight(text: str, report: ScoreReport, argument: ArgumentView | None = None,
              by_clause: bool = False) -> HighlightedEssay:
    """Build the highlighted essay from the text exactly as submitted and the report's spans
    (and, when given, the argument the engine read). With `by_clause` (the student's page), each
    factor marks the clauses and sentences its evidence stands in, numbered once each, instead of
    the single words the marker matched."""
    marks, legend, notes = _collect(text, report, argument, by_clause)
    if not marks:
        return HighlightedEssay(escape(text), legend, notes)

    cuts = sorted({0, len(text), *(m.start for m in marks), *(m.end for m in marks)})
    starts: dict[int, list[_Mark]] = {}
    for m in sorted(marks, key=lambda m: (_TAG_ORDER[m.kind], m.number)):
        starts.setdefault(m.start, []).append(m)

    out: list[Markup] = []
    for a, b in zip(cuts, cuts[1:]):
        out.extend(_tag(m) for m in starts.get(a, ()))
        piece = escape(text[a:b])
        covering = [m for m in marks if m.start <= a and m.end >= b]
        if not covering:
            out.append(piece)
            continue
        factors = sorted({m.number for m in covering if m.kind == "factor"})
        wrong = [m for m in covering if m.kind == "inaccuracy"]
        sentence = [m for m in covering if m.kind in _SENTENCE_CLASS]
        extra = sorted({_SENTENCE_CLASS[m.kind] for m in sentence})
        about = [m.label if m.kind != "excluded" else f"No credit: {m.label}" for m in
                 sorted(sentence, key=lambda m: _TAG_ORDER[m.kind])]
        if not factors and not wrong:
            out.append(Markup('<span class="{c}" title="{t}">{p}</span>').format(
                c=" ".join(extra), t="; ".join(about), p=piece))
            continue
        classes = ["hl"]
        if factors:
            classes.append(colour_class(factors[0]))
        if len(factors) > 1:
            classes.append("hl-overlap")
        if wrong:
            classes.append("hl-inacc")
        classes.extend(extra)
        names = {m.number: m.label for m in covering if m.kind == "factor"}
        title = "; ".join(
            about + [f"Factor {num}: {names[num]}" for num in factors] + [f"Inaccuracy: {m.label}" for m in wrong]
        )
        out.append(Markup('<mark class="{c}" title="{t}" data-factors="{f}">{p}</mark>').format(
            c=" ".join(classes), t=title, f=" ".join(map(str, factors)), p=piece))
    return HighlightedEssay(Markup("").join(out), legend, notes)
