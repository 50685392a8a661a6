"""The score report: what the engine returns, what the CLI writes and the API answers.

The shape is a published contract (see the README, "Score report"): other people's scripts read
it. Add fields freely; rename or remove one only with SCHEMA_VERSION bumped.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

SCHEMA_VERSION = 1

# json.dumps(..., ensure_ascii=False) without its check for circular references: a report is a
# tree of fresh dicts and lists, and looking each one up in a table of those open cost a tenth of
# writing it out. The same text.
_JSON = json.JSONEncoder(ensure_ascii=False, check_circular=False)

# Every flag the engine can raise, with the words a student sees for it.
FLAG_EXPLANATIONS: dict[str, str] = {
    "too_short": "The essay is too short for the higher levels: a 45-minute answer is usually "
    "800 words or more, and under 150 words cannot get past Level 1.",
    "keyword_list": "This reads as a list of names and terms rather than sentences that argue. "
    "Examiners credit knowledge only when it is used to make a point, so the mark is held at Level 1.",
    "notes": "This reads as revision notes (headings and short paragraphs of facts) rather than an essay. "
    "Notes show knowledge, but the higher levels need an argument that answers the question, so the mark "
    "is held at Level 2.",
    "off_topic": "Most of this essay is not about the question that was set, so little of it "
    "can earn credit.",
    "copied_question": "Much of the text repeats the question itself. Restating the question "
    "earns nothing: answer it in your own words.",
    "not_english": "The essay does not appear to be written in English, so it could not be marked.",
    "needs_review": "The automatic marker is unsure of this level, so a teacher should check it.",
    "no_judgement": "There is no clear overall judgement answering the question, which holds the "
    "mark at Level 3 at most.",
    "mostly_narrative": "Most of the essay tells the story instead of analysing it, which holds the "
    "mark at Level 2 at most.",
    "thin_evidence": "The points are backed by little specific evidence (dates, names, figures): Level 4 "
    "needs a range of clear, specific evidence, so the mark is held at Level 3 at most.",
    "inaccurate": "More of the essay's dates are wrong than right: Level 3 needs knowledge that is mostly "
    "accurate, so the mark is held at Level 2 at most.",
    "one_sided": "The essay argues one side only, with no counter-argument, which holds the mark "
    "at Level 3 at most.",
    "ignores_named_factor": "The question names a factor, and the essay does not deal with it, "
    "which holds the mark at Level 2 at most.",
    "narrative_structure": "The essay is organised as a story told in order: most paragraphs begin "
    "with what happened rather than with a point about the question, which holds the mark at Level 3 at most.",
    "irrelevant": "Much of the essay is background that does not answer the question (early life, "
    "events before 1953, or a different question), which holds the mark at Level 2 at most.",
    "only_named_factor": "The essay deals only with the factor the question names. To judge how far it "
    "was the most significant, weigh it against other factors; this holds the mark at Level 3 at most.",
    "inaccuracy": "Some dates or facts are wrong; they are marked in the essay.",
    "incoherent": "Many sentences join ideas that have no connection, string key terms together, have their "
    "words out of order, or do not follow on from one another, so they cannot be credited as argument; this holds the mark at Level 1.",
    "answers_other_question": "The essay seems to answer a different question from the one set, so only "
    "what bears on the set question earns credit; this holds the mark at Level 2 at most.",
    "repetition": "Some sentences or paragraphs repeat earlier ones; a point earns credit once, however "
    "often it is made.",
    "copied_source": "Long passages match a registered source (revision notes, a handout or an article); "
    "copied words earn nothing and are marked in the essay.",
}


@dataclass(slots=True)
class Span:
    """A stretch of the submitted text: character offsets into the text exactly as submitted."""

    start: int
    end: int
    text: str
    label: str | None = None  # factor id, "inaccuracy", "analysis", ...; used for highlighting
    note: str | None = None  # why the span counted, or what is wrong with it

    def to_dict(self) -> dict[str, Any]:
        d = {"start": self.start, "end": self.end, "text": self.text}
        if self.label is not None:
            d["label"] = self.label
        if self.note is not None:
            d["note"] = self.note
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Span":
        return cls(int(d["start"]), int(d["end"]), str(d.get("text", "")), d.get("label"), d.get("note"))


@dataclass(slots=True)
class CriterionResult:
    """One criterion's mark, the comment that explains it, and the spans that earned it."""

    id: str
    name: str
    mark: float
    max_mark: float
    comment: str
    evidence: list[Span] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)  # measured figures behind the mark

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "mark": self.mark,
            "max_mark": self.max_mark,
            "comment": self.comment,
            "evidence": [s.to_dict() for s in self.evidence],
            "details": self.details,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "CriterionResult":
        return cls(
            d["id"], d["name"], float(d["mark"]), float(d["max_mark"]), d.get("comment", ""),
            [Span.from_dict(s) for s in d.get("evidence", [])], dict(d.get("details", {})),
        )


@dataclass(slots=True)
class FactorResult:
    """Whether one factor of the question is missing, mentioned or developed, and where."""

    id: str
    name: str
    status: str  # "missing" | "mentioned" | "developed"
    evidence: list[Span] = field(default_factory=list)
    hint: str | None = None  # shown when the factor is missing or only mentioned

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "status": self.status,
            "evidence": [s.to_dict() for s in self.evidence],
            "hint": self.hint,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "FactorResult":
        return cls(d["id"], d["name"], d["status"], [Span.from_dict(s) for s in d.get("evidence", [])], d.get("hint"))


@dataclass(slots=True)
class ScoreReport:
    """Everything the engine concluded about one essay. `to_dict()` is the published JSON."""

    source: str
    question: str | None
    status: str = "scored"  # "scored" | "error"
    error: str | None = None
    mark: int | None = None
    max_mark: int = 25
    level: int | None = None
    word_count: int = 0
    criteria: list[CriterionResult] = field(default_factory=list)
    factors: list[FactorResult] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)
    feedback: dict[str, list[str]] = field(default_factory=lambda: {"strengths": [], "next_steps": []})
    confidence: float | None = None
    calibration: dict[str, Any] | None = None
    inaccuracies: list[Span] = field(default_factory=list)
    caps: list[dict[str, Any]] = field(default_factory=list)  # caps that applied: {"rule", "max_level", "reason"}
    raw_mark: float | None = None  # weighted total before caps
    deductions: list[dict[str, Any]] = field(default_factory=list)  # marks taken off after the caps: {"rule", "marks", "reason"}
    # The argument as read (claims.py): thesis and verdict, each factor's claims, what earned nothing.
    argument: dict[str, Any] | None = None
    question_confidence: float | None = None  # set when the question was picked automatically
    schema_version: int = SCHEMA_VERSION

    @classmethod
    def failed(cls, source: str, message: str, question: str | None = None) -> "ScoreReport":
        """A report for an input that could not be scored: status "error" and the reason."""
        return cls(source=source, question=question, status="error", error=message)

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "question": self.question,
            "status": self.status,
            "error": self.error,
            "mark": self.mark,
            "max_mark": self.max_mark,
            "level": self.level,
            "word_count": self.word_count,
            "criteria": [c.to_dict() for c in self.criteria],
            "factors": [f.to_dict() for f in self.factors],
            "flags": list(self.flags),
            "feedback": {k: list(v) for k, v in self.feedback.items()},
            "confidence": self.confidence,
            "calibration": self.calibration,
            "inaccuracies": [s.to_dict() for s in self.inaccuracies],
            "caps": list(self.caps),
            "raw_mark": self.raw_mark,
            "deductions": list(self.deductions),
            "argument": _argument_dict(self.argument),
            "question_confidence": self.question_confidence,
            "schema_version": self.schema_version,
        }

    def to_json(self) -> str:
        """The published JSON form as one line of text (UTF-8 characters as they are), as the CLI
        writes it in json and jsonl output."""
        return _JSON.encode(self.to_dict())

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "ScoreReport":
        """Rebuild a report from its JSON form (as stored in the database or read from a file)."""
        return cls(
            source=d.get("source", ""),
            question=d.get("question"),
            status=d.get("status", "scored"),
            error=d.get("error"),
            mark=d.get("mark"),
            max_mark=d.get("max_mark", 25),
            level=d.get("level"),
            word_count=d.get("word_count", 0),
            criteria=[CriterionResult.from_dict(c) for c in d.get("criteria", [])],
            factors=[FactorResult.from_dict(f) for f in d.get("factors", [])],
            flags=list(d.get("flags", [])),
            feedback={k: list(v) for k, v in d.get("feedback", {}).items()} or {"strengths": [], "next_steps": []},
            confidence=d.get("confidence"),
            calibration=d.get("calibration"),
            inaccuracies=[Span.from_dict(s) for s in d.get("inaccuracies", [])],
            caps=list(d.get("caps", [])),
            raw_mark=d.get("raw_mark"),
            deductions=list(d.get("deductions", [])),
            argument=_argument_from(d.get("argument")),
            question_confidence=d.get("question_confidence"),
            schema_version=d.get("schema_version", SCHEMA_VERSION),
        )


_SPAN_LISTS = ("thesis", "verdict", "excluded", "copied")
# Lists of spans a report has only when they apply: the paragraphs read as out of order.
_OPTIONAL_SPAN_LISTS = ("out_of_order",)


def _argument_dict(arg: dict[str, Any] | None) -> dict[str, Any] | None:
    """The argument's JSON form: spans as dicts, everything else as it is."""
    if arg is None:
        return None
    out = dict(arg)
    for k in _SPAN_LISTS:
        out[k] = [sp.to_dict() for sp in arg.get(k, [])]
    for k in _OPTIONAL_SPAN_LISTS:
        if k in arg:
            out[k] = [sp.to_dict() for sp in arg[k]]
    out["claims"] = {f: [sp.to_dict() for sp in spans] for f, spans in arg.get("claims", {}).items()}
    return out


def _argument_from(d: dict[str, Any] | None) -> dict[str, Any] | None:
    if d is None:
        return None
    out = dict(d)
    for k in _SPAN_LISTS:
        out[k] = [Span.from_dict(sp) for sp in d.get(k, [])]
    for k in _OPTIONAL_SPAN_LISTS:
        if k in d:
            out[k] = [Span.from_dict(sp) for sp in d[k]]
    out["claims"] = {f: [Span.from_dict(sp) for sp in spans] for f, spans in d.get("claims", {}).items()}
    return out
