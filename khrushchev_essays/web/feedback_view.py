"""What the feedback page shows beyond the raw report: the argument as the engine read it, and
the steps from the criteria to the final mark.

Both work from a stored report alone. Reports stored before the engine read arguments have no
`argument` or `deductions`: they give an empty argument (the page says it could not find one)
and a mark breakdown without those steps, never an error.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..scoring import Rubric, ScoreReport, Span
from ..scoring.feedback import hedge

# Why a sentence earned nothing, in words for the student (claims.py's `excluded` notes).
EXCLUDED_REASONS = {
    "repeat": "This repeats a point made earlier in the essay. A point earns credit once, however often it is made.",
    "incoherent": "We could not find a clear connection between the ideas this sentence joins, so it cannot be "
    "credited as argument. Say how one thing led to the other and why it matters for the question.",
    "word_order": "The words of this sentence are not in an order that makes sense, so we could not read a point "
    "in it. Write each point as a full sentence: what happened, and why it matters for the question.",
    "copied": "This matches a registered source{source}. Copied words earn nothing: put the point in your own words.",
    "question": "This is the question itself, so it is not marked as part of your answer (there is no need to copy "
    "it out: start with your answer to it).",
    "references": "This is your list of sources: it is not marked, because the marks are for the argument you make "
    "in your own words.",
    "unfinished": "This sentence breaks off before its point is made, so it could not be credited. In the exam, "
    "leave time to finish the conclusion: a short verdict that is complete earns more than a long one cut off.",
    "list": "This lists factors as leading to the outcome without saying anything about any of them, so there is "
    "nothing in it to credit yet. As a plan it is fine: the marks come where each factor is explained and weighed.",
    "restatement": "This says that the paragraph answers the question, in the question's own words, without saying "
    "how. The paragraph is credited for what it explains: end it with what this evidence shows, in your words.",
}
EXCLUDED_TITLES = {"repeat": "Repeated", "incoherent": "Ideas not connected", "word_order": "Words out of order",
                   "copied": "Copied", "question": "The question", "references": "List of sources",
                   "unfinished": "Unfinished", "restatement": "Restates the question",
                   "list": "A list of factors"}
FALLBACK_EXCLUDED = "This sentence earned no credit."

STATUS_TEXT = {
    "developed": ("Explained", "We found claims that explain how this bore on the question, with evidence."),
    "mentioned": ("Named, not explained", "We found this named, but could not find a sentence that explains how "
                  "it bore on the question."),
    "missing": ("Not found", "We could not find a clear paragraph on this."),
}

# The mark scheme's limits in the student's words: why each one holds a mark down.
CAP_WHY = {
    "too_short": "the essay is shorter than the mark scheme expects at the higher levels (counting only the "
    "words that can earn credit)",
    "no_judgement": "we could not find a clear overall judgement answering the question",
    "mostly_narrative": "most of the essay tells the story instead of analysing it",
    "one_sided": "we could not find a counter-argument",
    "inaccurate": "more of the essay's dates are wrong than right",
    "thin_evidence": "we found little specific evidence (dates, names, figures) for the points made",
    "ignores_named_factor": "we could not find a clear paragraph on the factor the question names",
    "only_named_factor": "the essay weighs only the factor the question names",
    "narrative_structure": "most paragraphs begin with what happened rather than with a point",
    "irrelevant": "much of the essay does not bear on the question",
    "keyword_list": "it reads as a list of terms rather than sentences that argue",
    "notes": "it reads as notes (headings, bullet points or short paragraphs of facts) rather than an essay that argues",
    "off_topic": "most of it is not about the question set",
    "copied_question": "much of it repeats the question",
    "incoherent": "many sentences join ideas that have no clear connection",
    "answers_other_question": "it seems to answer a different question",
    "not_english": "it does not appear to be written in English",
}


STATUS_WORDS = {"developed": "explained", "mentioned": "named only", "missing": "not found"}


def status_word(status: str) -> str:
    """A factor's status in the essay's key: never "missing", which the marker cannot know."""
    return STATUS_WORDS.get(status, hedge(status))


# The incoherent hold has two causes the student should hear apart: joins of unconnected ideas,
# and sentences that do not follow on (an order that looks shuffled).
_OUT_OF_ORDER = "the sentences do not seem to follow on from one another, as if they were not in the order you wrote them"


def cap_why(cap: dict) -> str | None:
    """Why a cap of the mark scheme holds, in the student's words (None: say its reason)."""
    rule = str(cap.get("rule", ""))
    if rule == "incoherent" and "follow on" in str(cap.get("reason", "")):
        return _OUT_OF_ORDER
    return CAP_WHY.get(rule)


def cap_text(cap: dict) -> str:
    """One cap of the mark scheme in the student's words ("We could not find a counter-argument")."""
    rule, reason = str(cap.get("rule", "")), hedge(str(cap.get("reason", "")))
    why = cap_why(cap)
    if why is None:
        text = reason or rule.replace("_", " ")
    elif rule == "too_short" and reason:
        text = f"{why} ({reason})"
    else:
        text = why
    return text[:1].upper() + text[1:]


@dataclass(slots=True)
class HeldBack:
    """One entry of the single list of what held the mark back: a flag, a limit of the mark scheme, or both."""

    name: str
    text: str
    kind: str  # "set": the limit that set the mark | "flag": a finding | "also": a limit that did not lower it
    note: str = ""


_AT_MOST = re.compile(r"Level \d at most")


def held_back(report: ScoreReport, explanations: dict[str, str], fallback: str) -> list[HeldBack]:
    """What held the mark back, as one list: a flag and the limit it triggers are one entry, not two.

    The limit that set the mark comes first, then the other findings, then the limits that apply but
    did not lower the mark this time (they will as the rest improves). `needs_review` is about the
    marker, not the essay, and is left out.
    """
    flags = [f for f in report.flags if f != "needs_review"]
    caps = report.caps or []
    applied = [c for c in caps if c.get("applied", True)]  # older reports list only caps that applied
    other = [c for c in caps if not c.get("applied", True)]
    items: list[HeldBack] = []
    by_rule: dict[str, HeldBack] = {}

    def name_of(rule: str) -> str:
        return rule.replace("_", " ").capitalize()

    def explain(rule: str, cap: dict | None) -> str:
        if rule in flags:
            text = explanations.get(rule, fallback)
            if cap is not None and isinstance(cap.get("max_level"), int):
                # The rubric sets each limit: say the one that applies, not the usual one.
                text = _AT_MOST.sub(f"Level {cap['max_level']} at most", text)
            other_q = (report.argument or {}).get("other_question") if rule == "answers_other_question" else None
            if other_q and other_q.get("id") != "other" and other_q.get("question"):
                text += f" It reads as an answer to \u201c{other_q['question']}\u201d"
                text += "" if text.endswith(("?", "?\u201d")) else "."
            return hedge(text)
        return cap_text(cap) + "." if cap is not None else hedge(fallback)

    for cap in applied:
        rule = str(cap.get("rule", ""))
        level = cap.get("max_level")
        note = f"This set your mark: Level {level} at most." if level is not None else "This set your mark."
        if rule in by_rule:
            continue
        item = HeldBack(name_of(rule), explain(rule, cap), "set", note)
        items.append(item)
        by_rule[rule] = item
    for flag in flags:
        if flag not in by_rule:
            item = HeldBack(name_of(flag), explain(flag, None), "flag")
            items.append(item)
            by_rule[flag] = item
    for cap in other:
        rule = str(cap.get("rule", ""))
        note = (f"This limit (Level {cap.get('max_level')} at most) applies, but your mark is already within it, "
                "so it did not lower it this time; it will matter as the rest improves.")
        if rule in by_rule:
            if by_rule[rule].kind == "flag":
                by_rule[rule].note = note
            continue
        item = HeldBack(name_of(rule), explain(rule, cap), "also", note)
        items.append(item)
        by_rule[rule] = item
    return items


@dataclass(slots=True)
class Claim:
    number: int
    start: int
    end: int
    text: str
    evidence: list[str] = field(default_factory=list)  # dated events, people, figures inside the claim


@dataclass(slots=True)
class FactorMap:
    id: str
    name: str
    status: str
    status_title: str
    status_text: str
    claims: list[Claim]
    terms: list[str]  # the words that named or developed it, first few, as found
    hint: str | None


@dataclass(slots=True)
class ArgumentView:
    """The argument the engine read, ready for the template and for highlight()."""

    thesis: list[Span]
    verdict: list[Span]
    factors: list[FactorMap]
    claims: list[Claim]  # every distinct claim sentence, numbered in essay order
    excluded: list[dict]  # {"number", "start", "end", "text", "kind", "title", "why"}
    copied: list[Span]
    copied_from: list[dict]
    other_question: dict | None
    read: bool  # False for a report stored before arguments were read
    # Paragraphs whose sentences did not seem to follow on: {"number", "start", "end", "opening"}.
    out_of_order: list[dict] = field(default_factory=list)


def _spans(items) -> list[Span]:
    out = []
    for sp in items or []:
        if isinstance(sp, Span):
            out.append(sp)
        elif isinstance(sp, dict) and "start" in sp and "end" in sp:
            out.append(Span.from_dict(sp))
    return out


def _inside(sp: Span, start: int, end: int) -> bool:
    return start <= sp.start and sp.end <= end


def argument_view(text: str, report: ScoreReport, rubric: Rubric) -> ArgumentView:
    """The thesis, verdict, argument map per factor and excluded sentences of one report."""
    arg = report.argument or {}
    n = len(text)

    def usable(spans: list[Span]) -> list[Span]:
        return [s for s in spans if 0 <= s.start < s.end <= n]

    thesis = usable(_spans(arg.get("thesis")))
    verdict = usable(_spans(arg.get("verdict")))
    by_factor = {fid: usable(_spans(spans)) for fid, spans in (arg.get("claims") or {}).items()}

    # Number each distinct claim sentence once, in the order it comes in the essay.
    numbers: dict[tuple[int, int], Claim] = {}
    evidence = [sp for c in report.criteria if c.id == "evidence" for sp in c.evidence]
    for sp in sorted({(s.start, s.end): s for spans in by_factor.values() for s in spans}.values(),
                     key=lambda s: s.start):
        claim = Claim(len(numbers) + 1, sp.start, sp.end, text[sp.start:sp.end])
        for ev in sorted(evidence, key=lambda e: e.start):
            if _inside(ev, sp.start, sp.end):
                label = ev.note if ev.label == "date" and ev.note else text[ev.start:ev.end]
                if label not in claim.evidence:
                    claim.evidence.append(label)
        numbers[(sp.start, sp.end)] = claim

    factors = []
    for f in report.factors:
        title, status_text = STATUS_TEXT.get(f.status, (f.status.capitalize(), ""))
        if f.status == "mentioned" and by_factor.get(f.id):
            status_text = ("We found claims that touch on it, but could not find where you explain it with "
                           "evidence: say what happened, what it led to, and why that matters for the question.")
        if f.status == "developed" and not by_factor.get(f.id) and report.argument is not None:
            status_text = ("We found it explained with evidence, but could not find one sentence that ties it "
                           "directly to the question: say what it led to and why that matters for your answer.")
        terms: list[str] = []
        for ev in f.evidence:
            word = text[ev.start:ev.end] if 0 <= ev.start < ev.end <= n else ev.text
            if word and word.lower() not in {t.lower() for t in terms}:
                terms.append(word)
        hint = f.hint or next((rf.hint for rf in rubric.factors if rf.id == f.id), None)
        factors.append(FactorMap(
            f.id, f.name, f.status, title, status_text,
            [numbers[(s.start, s.end)] for s in sorted(by_factor.get(f.id, []), key=lambda s: s.start)],
            terms[:6], None if f.status == "developed" else hint,
        ))

    copied = usable(_spans(arg.get("copied")))
    excluded = []
    for sp in sorted(usable(_spans(arg.get("excluded"))), key=lambda s: s.start):
        kind = sp.note or ""
        source = ""
        if kind == "copied":
            hit = next((c for c in copied if c.start < sp.end and sp.start < c.end), None)
            name = _source_name(hit.note) if hit and hit.note else None
            source = f" ({name})" if name else ""
        why = EXCLUDED_REASONS.get(kind, FALLBACK_EXCLUDED).format(source=source)
        excluded.append({"number": len(excluded) + 1, "start": sp.start, "end": sp.end,
                         "text": text[sp.start:sp.end], "kind": kind,
                         "title": EXCLUDED_TITLES.get(kind, "No credit"), "why": why})
    out_of_order = []
    for sp in sorted(usable(_spans(arg.get("out_of_order"))), key=lambda s: s.start):
        number = (sp.note or "").removeprefix("paragraph ").strip()
        words = text[sp.start:sp.end].split()
        opening = " ".join(words[:10]) + (" \u2026" if len(words) > 10 else "")
        out_of_order.append({"number": number, "start": sp.start, "end": sp.end, "opening": opening})
    return ArgumentView(
        thesis=thesis, verdict=verdict, factors=factors, out_of_order=out_of_order,
        claims=sorted(numbers.values(), key=lambda c: c.number), excluded=excluded, copied=copied,
        copied_from=[c for c in arg.get("copied_from") or [] if isinstance(c, dict) and c.get("source")],
        other_question=arg.get("other_question") if isinstance(arg.get("other_question"), dict) else None,
        read=report.argument is not None,
    )


def _source_name(note: str) -> str | None:
    """"40 words copied from Week 3 handout" -> "Week 3 handout" (copying.Overlap.to_span's note)."""
    head, sep, name = note.partition(" copied from ")
    return name.strip() or None if sep else None


# --- from the criteria to the final mark ---------------------------------------------------------
@dataclass(slots=True)
class Step:
    label: str
    value: str
    note: str = ""
    kind: str = "step"  # "criterion" | "total" | "step" | "final"


def _one_decimal(x: float, towards: int) -> str:
    """x to one decimal, nudged so that it reads as rounding to `towards` (the engine rounded the
    exact value, and the stored one has only two decimals)."""
    d = round(x, 1)
    if towards < x:
        d = min(d, towards + 0.4)
    elif towards > x:
        d = max(d, towards - 0.5)
    return f"{d:.1f}"


def _after_scheme(rubric: Rubric, start: int, report: ScoreReport) -> tuple[int, list[Step]]:
    """The mark scheme's steps after rounding (mark_scheme.apply_mark_scheme), as rows."""
    steps: list[Step] = []
    mark = start
    caps = report.caps or []
    if caps:
        lowest = min(int(c.get("max_level", 5)) for c in caps)
        try:
            ceiling = rubric.band(lowest).max_mark if lowest > 0 else 0
        except KeyError:
            ceiling = mark
        if ceiling < mark:
            holding = [c for c in caps if int(c.get("max_level", 5)) == lowest]
            why = "; ".join(cap_why(c) or hedge(str(c.get("reason", ""))) for c in holding)
            steps.append(Step(f"Held at Level {lowest} at most", str(ceiling),
                              f"A rule of the mark scheme: {why}.", "cap"))
            mark = ceiling
    deducted = report.deductions or []
    if deducted:
        owed = sum(float(d.get("marks", 0)) for d in deducted)
        taken = int(owed)
        reasons = "; ".join(str(d.get("reason", "")) for d in deducted)
        if taken and mark > 1:
            new = max(1, mark - taken)
            steps.append(Step(f"Taken off: {reasons}", f"\u2212{mark - new}",
                              "Wrong facts cost marks of their own.", "deduction"))
            mark = new
        else:
            steps.append(Step(f"Taken off: {reasons}", "0",
                              f"{owed:g} mark owed; marks are taken off only in whole marks, so nothing this time."
                              if not taken else "The mark is already as low as it goes.", "deduction"))
    credited = any(c.mark > 0 for c in report.criteria)
    if mark == 0 and credited and "not_english" not in report.flags:
        steps.append(Step("Raised to the lowest mark for an essay that earned credit", "1",
                          "Parts of the essay earned credit, so the mark is at least 1.", "floor"))
        mark = 1
    if "not_english" in report.flags and mark != 0:
        steps.append(Step("Not written in English", "0", "The mark scheme marks answers in English.", "cap"))
        mark = 0
    return mark, steps


def mark_steps(report: ScoreReport, rubric: Rubric) -> list[Step]:
    """The rows of the "from criteria to mark" table, ending in a row that is the report's mark.

    Each criterion's marks, their sum, the curve (raw_mark), the calibration when one set the
    mark, rounding, the cap that lowered it (which and why), deductions, and the final mark and
    level. The steps are worked again from the stored figures by the mark scheme's rules; if they
    do not reach the stored mark (a report from an older engine), a row says by how much the
    marker adjusted it, so the table always adds up to the mark shown.
    """
    rows = [Step(c.name, f"{c.mark:g} / {c.max_mark:g}", kind="criterion") for c in report.criteria]
    total = sum(c.mark for c in report.criteria)
    rows.append(Step("Total of the criteria", f"{total:g} / {report.max_mark}", kind="total"))
    final = int(report.mark or 0)
    if report.raw_mark is None:
        rows.append(Step("Final mark", f"{final} / {report.max_mark}", f"Level {report.level}", "final"))
        return rows
    cal = report.calibration or {}
    predicted = cal.get("predicted_mark")
    target = final
    exact = float(predicted) if predicted is not None else float(report.raw_mark)
    # The rounded mark the engine used: the nearest whole mark, or its neighbour when the stored
    # value sits on a .5 edge; whichever lets the mark scheme's steps reach the mark shown.
    candidates = [int(round(exact)), int(exact), int(exact) + 1]
    for rounded in candidates:
        end, after = _after_scheme(rubric, max(0, min(rounded, report.max_mark)), report)
        if end == target:
            break
    else:
        rounded = candidates[0]
        end, after = _after_scheme(rubric, max(0, min(rounded, report.max_mark)), report)
    rounded = max(0, min(rounded, report.max_mark))
    curve = rubric.mark_curve
    # A floor the engine raised the mark to (the order model's, or the relevant answer's): the
    # curve's figure is the one from before it.
    floors = [(report.argument or {}).get(key) for key in ("order_floor", "relevant_floor")]
    floors = [f if isinstance(f, dict) and isinstance(f.get("before"), (int, float)) else None for f in floors]
    floor = floors[0] or floors[1]
    curved = float(floor["before"]) if floor else float(report.raw_mark)
    rows.append(Step("After the curve", _one_decimal(curved, rounded if predicted is None and not floor else
                                                     int(round(curved))),
                     "The exact total is curved so that the top levels take a strong answer in every "
                     "part, not a good score in most." if curve != 1 else "No curve for this question."))
    if floor:
        shown = _one_decimal(float(report.raw_mark), rounded if predicted is None else int(round(float(report.raw_mark))))
        if floor is floors[0]:
            rows.append(Step(f"Kept at Level {floor.get('level')} for what the essay knows", shown,
                             "The order of the sentences inside the paragraphs took the marks for argument, but "
                             "each paragraph is still on its factor, so the knowledge keeps its marks.", "floor"))
        else:
            rows.append(Step(f"Raised to Level {floor.get('level')} as a relevant answer", shown,
                             f"{floor.get('words')} words that earn credit, on {floor.get('factors')} of the "
                             "question's factors: an answer of that length that knows the period is Level 2 "
                             "at least, however little of it argues.", "floor"))
    if predicted is not None:
        rows.append(Step("Adjusted to examiners' marking", _one_decimal(float(predicted), rounded),
                         "A model fitted to the marks examiners gave similar essays moves the mark a little; "
                         "the mark scheme's rules below still hold."))
    rows.append(Step("Rounded to a whole mark", str(rounded)))
    rows.extend(after)
    if end != final:
        rows.append(Step("Adjusted when it was marked", f"{final - end:+d}",
                         "This essay was marked by an earlier version of the marker.", "step"))
    band = f"Level {report.level}"
    rows.append(Step("Your mark", f"{final} / {report.max_mark}", band, "final"))
    return rows
