"""The essay with its evidence highlighted: HTML built safely from the original text and span offsets.

Every piece of the student's text goes through `markupsafe.escape` on its own, and only the
tags this module writes are markup, so nothing an essay contains can become HTML. Spans may
overlap (a sentence can be evidence for two factors and hold a wrong date): the text is cut at
every span boundary and each piece is wrapped once, with the classes of all spans covering it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from markupsafe import Markup, escape

from ..scoring.report import ScoreReport

PALETTE_SIZE = 10  # colour classes f1..f10 in app.css; numbers repeat the colour past that


@dataclass(frozen=True, slots=True)
class _Mark:
    start: int
    end: int
    kind: str  # "factor" | "inaccuracy"
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


def _collect(text: str, report: ScoreReport) -> tuple[list[_Mark], list[dict], list[dict]]:
    """Every usable span, clamped to the text; spans that fall outside it or are empty are dropped."""
    n = len(text)
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
        count = sum(add(ev.start, ev.end, "factor", number, factor.name) for ev in factor.evidence)
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
    return marks, legend, notes


def _tag(mark: _Mark) -> Markup:
    """The number shown where a span starts: the cue that does not rely on colour."""
    if mark.kind == "inaccuracy":
        return Markup(
            '<a class="tag tag-inacc" href="#inacc-{n}" id="inacc-ref-{n}">'
            '<span class="visually-hidden">Inaccuracy </span>!{n}</a>'
        ).format(n=mark.number)
    return Markup(
        '<span class="tag {c}"><span class="visually-hidden">factor </span>{n}</span>'
    ).format(c=colour_class(mark.number), n=mark.number)


def highlight(text: str, report: ScoreReport) -> HighlightedEssay:
    """Build the highlighted essay from the text exactly as submitted and the report's spans."""
    marks, legend, notes = _collect(text, report)
    if not marks:
        return HighlightedEssay(escape(text), legend, notes)

    cuts = sorted({0, len(text), *(m.start for m in marks), *(m.end for m in marks)})
    starts: dict[int, list[_Mark]] = {}
    for m in sorted(marks, key=lambda m: (m.kind != "factor", m.number)):
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
        classes = ["hl"]
        if factors:
            classes.append(colour_class(factors[0]))
        if len(factors) > 1:
            classes.append("hl-overlap")
        if wrong:
            classes.append("hl-inacc")
        names = {m.number: m.label for m in covering if m.kind == "factor"}
        title = "; ".join(
            [f"Factor {num}: {names[num]}" for num in factors] + [f"Inaccuracy: {m.label}" for m in wrong]
        )
        out.append(Markup('<mark class="{c}" title="{t}">{p}</mark>').format(c=" ".join(classes), t=title, p=piece))
    return HighlightedEssay(Markup("").join(out), legend, notes)
