"""score(text, rubric) -> ScoreReport. (Being written: the signatures below are the contract.)"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from .report import ScoreReport
from .rubric import Rubric

MAX_WORDS = 6000
MAX_CHARS = 60_000


class InputError(ValueError):
    """The text cannot be scored (empty, too large, binary...); the message says why, for a person."""


def check_text(text: str) -> str:
    """Return the text if it can be scored, else raise InputError with a clear message."""
    raise NotImplementedError


def score(text: str, rubric: Rubric | str, *, source: str = "") -> ScoreReport:
    """Score one essay against a rubric (or a rubric id, or "auto")."""
    raise NotImplementedError


def score_many(items: Iterable[tuple[str, str, str]], *, batch_size: int = 64) -> Iterator[ScoreReport]:
    """Score (source, question, text) triples in order, batching the NLP work."""
    raise NotImplementedError


def detect_question(text: str) -> tuple[str, float]:
    """Which rubric an essay answers, and how sure (0-1)."""
    raise NotImplementedError
