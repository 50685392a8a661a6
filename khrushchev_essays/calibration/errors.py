"""The error training and retraining raise when the data (or the calibrators folder) cannot be used."""

from __future__ import annotations

class TrainingError(ValueError):
    """The training data cannot be used; `problems` lists each reason."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


__all__ = ["TrainingError"]
