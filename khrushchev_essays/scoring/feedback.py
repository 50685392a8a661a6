"""Strengths, the three most valuable next steps, and what separates a strong essay from full marks.

Next steps are ranked by what they would gain: a cap holding the mark down comes first (lifting
it is worth most), then wrong dates, then the criteria with the most marks still to win.

The wording is honest about what a marker can know. The engine finds paragraphs and claims by
their words and their place; when it finds nothing on a factor, the student may still have
written about it in words it did not recognise. So feedback never says "you left out X" or "X is
missing": it says "we could not find a clear paragraph on X". `hedge` applies the same rule to
wording written elsewhere (criterion comments, flag explanations, reports stored before this
module changed), for the pages that show it.
"""

from __future__ import annotations

import re
from functools import lru_cache

from .criteria import Context, join_names
from .report import ScoreReport
from .rubric import Rubric

__all__ = ["CAP_ADVICE", "hedge", "to_full_marks", "write_feedback"]

CAP_ADVICE = {
    "no_judgement": "We could not find a conclusion that answers the question. Finish with one that answers it "
    "in its own words ({terms}) and says why, and state that answer in your introduction too.",
    "mostly_narrative": "Turn story into argument: after each event, add a sentence explaining what it shows "
    "about the question, using words such as 'because', 'this meant' or 'this was significant since'.",
    "thin_evidence": "Back each point with specific evidence: the date of the event, who was involved, a "
    "figure (how many, how much). 'Agriculture failed' is a claim; 'the 1963 harvest was so poor that grain "
    "had to be bought from Canada' is evidence for it.",
    "inaccurate": "Check your dates: more of the dates in the essay are wrong than right (each wrong one is "
    "marked in the essay). Knowledge that is mostly accurate is what Level 3 and above ask for.",
    "one_sided": "We could not find a counter-argument. In at least two paragraphs, give the other side (for "
    "example 'On the other hand...') and say why your view still stands.",
    "ignores_named_factor": "The question names {named}, and we could not find a clear paragraph on it: give it "
    "a paragraph of its own and weigh it against the other factors.",
    "only_named_factor": "Weigh {named} against at least three other factors, saying which mattered more and why.",
    "narrative_structure": "Organise by argument, not by date: open each paragraph with a point that "
    "answers the question, then use the events as evidence for it.",
    "irrelevant": "Cut the background that does not answer the question and use the space to explain "
    "the factors that do.",
    "keyword_list": "Write in full sentences and paragraphs: explain each point rather than listing terms.",
    "notes": "Turn your notes into an essay: an introduction that answers the question, a paragraph for each "
    "argument that explains why it matters, and a conclusion that weighs them.",
    "off_topic": "Answer the question that was set: \u201c{question}\u201d",
    "copied_question": "Do not copy the question out: answer it in your own words with evidence and argument.",
    "too_short": "Write more: aim for at least {lo} words, with a paragraph for each factor you weigh.",
    "incoherent": "Make every sentence say one thing that follows from the last: a cause, what it led to, and "
    "why that matters for the question. Strings of key terms earn nothing.",
    "answers_other_question": "Answer the question that was set, \u201c{question}\u201d: use what you know only "
    "where it bears on that question.",
    "repetition": "Make each point once, then move on to a new one: a point repeated earns nothing more.",
    "copied_source": "Write in your own words: passages copied from notes or articles earn nothing.",
}
# A length cap reached because words were set aside, not because the essay is short.
CREDITED_TOO_SHORT = ("Make your words count: only about {n} of your {words} words could earn credit (the "
                      "sentences marked in your essay say why). Aim for at least {lo} words of your own argument.")

# Wording that states as fact what the marker could only fail to find, and how to say it honestly.
# Applied in order, case-sensitively, to whole phrases of the engine's (and older reports') text.
_HEDGES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(p), r) for p, r in [
        (r"None of the question's main factors is discussed yet\.",
         "We could not find a clear paragraph on any of the question's main factors yet."),
        (r"but do not yet explain how any of them mattered",
         "but we could not find where you explain how any of them mattered"),
        (r"but no sentence links one factor to another", "but we could not find a sentence that links one factor to another"),
        (r"The essay argues one side only: ", "We could not find a counter-argument: "),
        (r"The essay argues one side only, with no counter-argument,",
         "We could not find a counter-argument, so the essay seems to argue one side only,"),
        (r"There is no counter-argument\.", "We could not find a counter-argument."),
        (r"There is no clear overall judgement", "We could not find a clear overall judgement"),
        (r", and the essay does not deal with it,", ", and we could not find where the essay deals with it,"),
        (r"but the essay does not deal with it\.", "but we could not find a clear paragraph on it."),
        (r"It needs a concluding paragraph\.", "We could not find a concluding paragraph."),
        (r"to the points that have none\.", "to the points where we could not find any."),
        (r"There is little precise evidence", "We found little precise evidence"),
        (r"you name (them|it) but do not explain the consequences",
         r"we found \1 named, but could not find where you explain the consequences"),
        (r"(?<![\w-])[Mm]issing(?![\w-])", "not found"),
        (r"you left out ", "we could not find "),
    ]
]


@lru_cache(maxsize=4096)  # comments repeat from essay to essay: each is reworded once
def hedge(text: str) -> str:
    """`text` with certain-sounding absences ("missing", "there is no counter-argument") worded as
    what they are: things the marker could not find."""
    for pattern, replacement in _HEDGES:
        text = pattern.sub(replacement, text)
    return text


def write_feedback(ctx: Context, report: ScoreReport) -> dict[str, list[str]]:
    """The report's feedback: {"strengths", "next_steps" (at most three), "to_full_marks"}.

    `to_full_marks` is filled for Level 4 and 5: each criterion with marks still to win, in plain
    words, so a strong essay learns what separates it from 25 rather than "keep going".
    """
    r = ctx.rubric
    fmt = {
        "terms": ", ".join(f"\u2018{t}\u2019" for t in r.markers.judgement[:2]),
        "named": r.named_factor.name if r.named_factor else "",
        "question": r.question,
        "lo": r.suggested_words[0],
    }
    if "not_english" in report.flags:
        return {"strengths": [], "next_steps": ["Write your answer in English so that it can be marked."],
                "to_full_marks": []}

    strengths: list[str] = []
    by_kind = {c.kind: res for c, res in zip(r.criteria, report.criteria)}
    developed = [f.name for f in report.factors if f.status == "developed"]
    if developed:
        strengths.append("You explain " + join_names(developed[:4]) + " with evidence and reasons.")
    praise = {
        "evidence": "Your evidence is precise: dates, names and figures back up your points.",
        "analysis": "You analyse rather than tell the story: most points say why they matter.",
        "balance": "You weigh the other side of the argument.",
        "judgement": "You reach a clear judgement that answers the question.",
        "organisation": "The essay is well organised, with an introduction, paragraphs and a conclusion.",
    }
    for kind, text in praise.items():
        res = by_kind.get(kind)
        if res and res.max_mark and res.mark / res.max_mark >= 0.7:
            strengths.append(text)
    if "incoherent" in report.flags:
        # Praise for analysis or judgement would be untrue of sentences that do not hold together.
        strengths = []

    steps: list[tuple[float, str]] = []
    # A rule of the mark scheme that the essay breaks comes first, whether or not it is the one
    # holding the mark down today: it will be as soon as the rest improves.
    a = ctx.analysis
    credited_words = a.words - sum(a.sentences[i].words for i in ctx.argument.excluded)  # as gaming.py counts
    for c in report.caps:
        advice = CAP_ADVICE.get(c["rule"])
        if c["rule"] == "too_short" and "can earn credit" in c["reason"]:
            # Long enough, but much of it earns nothing (repeated, copied, out of order): the
            # reason for that comes first, and "write more" would be the wrong lesson.
            steps.append((100 - c["max_level"] - 0.25, CREDITED_TOO_SHORT.format(
                n=credited_words, words=report.word_count, **fmt)))
        elif c["rule"] == "thin_evidence" and not c.get("applied"):
            # Below Level 4 anyway, general evidence is what the evidence criterion's own advice is for.
            continue
        elif advice:
            steps.append((100 - c["max_level"] + 0.5 * bool(c.get("applied")), advice.format(**fmt)))
    for flag in ("repetition", "copied_source"):
        if flag in report.flags and not any(c["rule"] == flag for c in report.caps):
            steps.append((50, CAP_ADVICE[flag]))
    for sp in report.inaccuracies[:2]:
        steps.append((40, f"Check your facts: {sp.note}"))
    # The cap's advice is the evidence criterion's, said for the level: not given twice.
    evidence_held = any(c["rule"] == "thin_evidence" and c.get("applied") for c in report.caps)
    for c, res in zip(r.criteria, report.criteria):
        gain = res.max_mark - res.mark
        if gain <= 0.25 * res.max_mark or (evidence_held and c.kind == "evidence"):
            continue
        advice = _criterion_advice(c.kind, r, report)
        if advice:
            steps.append((gain, advice))
    full = to_full_marks(r, report)
    next_steps = _top_three(steps)
    if not next_steps and full:
        # A strong essay: every criterion is close to its maximum, so the steps are the last marks.
        next_steps = [_advice_of(line) for line in full[:3]]
    return {"strengths": strengths[:4], "next_steps": next_steps, "to_full_marks": full}


def to_full_marks(rubric: Rubric, report: ScoreReport) -> list[str]:
    """For Level 4-5: each criterion with marks still to win, most first, in plain words, e.g.
    "Analysis rather than narrative: 0.5 of 5 marks still to win. Link ...". Empty below Level 4.

    Works from the report alone (and its rubric), so reports stored before this existed get it too.
    """
    if report.status != "scored" or (report.level or 0) < 4:
        return []
    kinds = {c.id: c.kind for c in rubric.criteria}
    gaps = [(res.max_mark - res.mark, res) for res in report.criteria if res.max_mark - res.mark > 0]
    out = []
    for gain, res in sorted(gaps, key=lambda g: -g[0]):
        advice = _criterion_advice(kinds.get(res.id, res.id), rubric, report, strong=True) or hedge(res.comment)
        out.append(f"{res.name}: {_marks(gain)} of {_marks(res.max_mark)} mark{'s' if res.max_mark != 1 else ''} "
                   f"still to win. {advice}")
    if report.inaccuracies:
        out.append(f"Accuracy: correct the {len(report.inaccuracies)} date{'s' if len(report.inaccuracies) != 1 else ''} "
                   "marked in your essay; a wrong date can cost a mark of its own.")
    return out


def _advice_of(line: str) -> str:
    """The advice part of a to_full_marks line (after "... still to win. ")."""
    head, sep, advice = line.partition(" still to win. ")
    return advice if sep else line


def _marks(x: float) -> str:
    return f"{x:g}"


def _top_three(steps: list[tuple[float, str]]) -> list[str]:
    seen: set[str] = set()
    out = []
    for _gain, text in sorted(steps, key=lambda s: -s[0]):
        if text not in seen:
            seen.add(text)
            out.append(text)
        if len(out) == 3:
            break
    return out


def _criterion_advice(kind: str, r: Rubric, report: ScoreReport, strong: bool = False) -> str | None:
    """What to do about one criterion, worded for what the marker found (or could not find)."""
    if kind == "factors":
        not_found = [f for f in report.factors if f.status == "missing"]
        mentioned = [f for f in report.factors if f.status == "mentioned"]
        if mentioned:
            names = join_names([f.name for f in mentioned[:2]])
            them = "them" if len(mentioned) > 1 else "it"
            return (f"Develop {names}: we found {them} named, but could not find where you explain the "
                    f"consequences. Add a reason and a precise example for each.")
        if not_found:
            f = not_found[0]
            return (f"We could not find a clear paragraph on {f.name}. If you wrote about it, make the link to "
                    f"the question explicit; if not, consider adding it. {f.hint or ''}").strip()
        return ("Give each factor a paragraph that says how it bore on the question, with a precise example."
                if strong else None)
    if kind == "evidence":
        return ("Support each point with precise evidence: the year of the event, the people involved and a "
                "figure where you know one.")
    if kind == "analysis":
        if strong:
            return ("Link more of your factors to each other: say how one led to another, and which mattered "
                    "more, in the same sentence.")
        return ("Link factors together and explain causes: say how one development led to another, and which "
                "mattered more.")
    if kind == "balance":
        if r.named_factor is not None:
            return (f"Compare {r.named_factor.name} directly with the other factors in the same sentences, "
                    "saying which was more significant and why.")
        return "Give counter-arguments in more of your paragraphs, and explain why your view still holds."
    if kind == "judgement":
        if strong:
            return ("Make the verdict follow from the body: state it in the introduction, come back to it at "
                    "the end of each paragraph, and say in the conclusion why the other view is weaker.")
        return ("Say what you will argue in the introduction, and end with a conclusion that answers "
                f"\u201c{r.question}\u201d directly, with your reasons.")
    if kind == "organisation":
        return (f"Organise the essay into an introduction, a paragraph for each argument and a conclusion, "
                f"aiming for {r.suggested_words[0]}\u2013{r.suggested_words[1]} words.")
    return None
