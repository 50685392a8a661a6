"""The scoring engine: rubric files in, explained score reports out.

Pure Python + spaCy + scikit-learn; it imports no Flask and no database, so the CLI, the web app
and other people's scripts can all use it alone.

    from khrushchev_essays.scoring import Engine, score
    report = score(text, "q2")          # the default Engine of this process
    report.to_dict()                    # the published JSON contract
    engine = Engine()                   # or one of your own (another pipeline, other rubrics)
    engine.score(text, "q1")
"""

from .engine import (
    MAX_CHARS,
    MAX_WORDS,
    Engine,
    InputError,
    check_text,
    default_engine,
    detect_question,
    score,
    score_many,
)
from .nlp import PipelineMissing, build_pipeline, get_nlp
from .report import (
    FLAG_EXPLANATIONS,
    SCHEMA_VERSION,
    CriterionResult,
    FactorResult,
    ScoreReport,
    Span,
)
from .rubric import Rubric, RubricError, load_all_rubrics, load_rubric, load_rubric_file, parse_rubric

__all__ = [
    "FLAG_EXPLANATIONS",
    "MAX_CHARS",
    "MAX_WORDS",
    "SCHEMA_VERSION",
    "CriterionResult",
    "Engine",
    "FactorResult",
    "InputError",
    "PipelineMissing",
    "Rubric",
    "RubricError",
    "ScoreReport",
    "Span",
    "build_pipeline",
    "check_text",
    "default_engine",
    "detect_question",
    "get_nlp",
    "load_all_rubrics",
    "load_rubric",
    "load_rubric_file",
    "parse_rubric",
    "score",
    "score_many",
]
