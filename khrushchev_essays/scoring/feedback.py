"""Strengths and the three most valuable next steps, in plain words a student can act on.

Next steps are ranked by what they would gain: a cap holding the mark down comes first (lifting
it is worth most), then wrong dates, then the criteria with the most marks still to win.
"""

from __future__ import annotations

from .criteria import Context, join_names
from .report import ScoreReport

CAP_ADVICE = {
    "no_judgement": "Finish with a conclusion that answers the question in its own words ({terms}) and says why, "
    "and state that answer in your introduction too.",
    "mostly_narrative": "Turn story into argument: after each event, add a sentence explaining what it shows "
    "about the question, using words such as 'because', 'this meant' or 'this was significant since'.",
    "one_sided": "Add the other side: in at least two paragraphs, give a counter-argument (start with "
    "'However' or 'On the other hand') and say why your view still stands.",
    "ignores_named_factor": "The question names {named}: give it its own paragraph and weigh it against the "
    "other factors.",
    "only_named_factor": "Weigh {named} against at least three other factors, saying which mattered more and why.",
    "narrative_structure": "Organise by argument, not by date: open each paragraph with a point that "
    "answers the question, then use the events as evidence for it.",
    "irrelevant": "Cut the background that does not answer the question and use the space to explain "
    "the factors that do.",
    "keyword_list": "Write in full sentences and paragraphs: explain each point rather than listing terms.",
    "off_topic": "Answer the question that was set: \u201c{question}\u201d",
    "copied_question": "Do not copy the question out: answer it in your own words with evidence and argument.",
    "too_short": "Write more: aim for at least {lo} words, with a paragraph for each factor you weigh.",
}


def write_feedback(ctx: Context, report: ScoreReport) -> dict[str, list[str]]:
    """The report's feedback: {"strengths": [...], "next_steps": [...]} (at most three steps)."""
    r = ctx.rubric
    fmt = {
        "terms": ", ".join(f"\u2018{t}\u2019" for t in r.markers.judgement[:2]),
        "named": r.named_factor.name if r.named_factor else "",
        "question": r.question,
        "lo": r.suggested_words[0],
    }
    if "not_english" in report.flags:
        return {"strengths": [], "next_steps": ["Write your answer in English so that it can be marked."]}

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

    steps: list[tuple[float, str]] = []
    # A rule of the mark scheme that the essay breaks comes first, whether or not it is the one
    # holding the mark down today: it will be as soon as the rest improves.
    for c in report.caps:
        advice = CAP_ADVICE.get(c["rule"])
        if advice:
            steps.append((100 - c["max_level"] + 0.5 * bool(c.get("applied")), advice.format(**fmt)))
    for sp in report.inaccuracies[:2]:
        steps.append((40, f"Check your facts: {sp.note}"))
    for c, res in zip(r.criteria, report.criteria):
        gain = res.max_mark - res.mark
        if gain <= 0.25 * res.max_mark:
            continue
        advice = _criterion_advice(c.kind, ctx, report)
        if advice:
            steps.append((gain, advice))
    seen: set[str] = set()
    next_steps = []
    for _gain, text in sorted(steps, key=lambda s: -s[0]):
        if text not in seen:
            seen.add(text)
            next_steps.append(text)
        if len(next_steps) == 3:
            break
    return {"strengths": strengths[:4], "next_steps": next_steps}


def _criterion_advice(kind: str, ctx: Context, report: ScoreReport) -> str | None:
    r = ctx.rubric
    if kind == "factors":
        missing = [f for f in report.factors if f.status == "missing"]
        mentioned = [f for f in report.factors if f.status == "mentioned"]
        if mentioned:
            names = join_names([f.name for f in mentioned[:2]])
            return (f"Develop {names}: you name {'them' if len(mentioned) > 1 else 'it'} but do not explain "
                    "the consequences. Add a reason and a precise example for each.")
        if missing:
            f = missing[0]
            return f"Bring in {f.name}. {f.hint}"
        return None
    if kind == "evidence":
        return ("Support each point with precise evidence: the year of the event, the people involved and a "
                "figure where you know one.")
    if kind == "analysis":
        return ("Link factors together and explain causes: say how one development led to another, and which "
                "mattered more.")
    if kind == "balance":
        if r.named_factor is not None:
            return (f"Compare {r.named_factor.name} directly with the other factors in the same sentences, "
                    "saying which was more significant and why.")
        return "Give counter-arguments in more of your paragraphs, and explain why your view still holds."
    if kind == "judgement":
        return ("Say what you will argue in the introduction, and end with a conclusion that answers "
                f"\u201c{r.question}\u201d directly, with your reasons.")
    if kind == "organisation":
        return (f"Organise the essay into an introduction, a paragraph for each argument and a conclusion, "
                f"aiming for {r.suggested_words[0]}\u2013{r.suggested_words[1]} words.")
    return None
