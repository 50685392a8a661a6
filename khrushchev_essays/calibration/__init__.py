"""Learning from marks: per-question calibrators that nudge the rule-based mark towards markers'.

The rules explain every mark; a calibrator only moves the level and mark, and only when a model
the project itself trained is present, intact and made for the rubric and features in use. Its
input is the engine's own report (criterion marks, the figures behind them, factor statuses,
length, flags: `features`), so the explanation stays exactly what the rules found, and the caps
of the mark scheme still hold over whatever it predicts.

The model (`model.RuleResidualRegressor`) predicts how far the markers' mark lies from the rule
mark, with a ridge regression on standardised features whose penalty is chosen by leave-one-out
inside the training data. With two dozen essays a question the honest answer is usually "the
rules, give or take a constant", and a heavy penalty says exactly that.

- `features`: the declared, versioned feature schema;
- `store`: where calibrators live (instance folder first, then the shipped package data), the
  sidecar's checks before a file is used, saving, and the lock retraining holds;
- `apply`: a calibrator applied to a report (`apply_calibration`, the engine's calibration stage)
  or to stored reports (`relevel`);
- `training`, `retraining`, `evaluation`: training from marked essays, retraining from teachers'
  reviews in the database, and agreement figures (QWK, exact, adjacent).

scikit-learn is imported only to train or evaluate, never to score.
"""

# The engine applies calibrators (apply.py), and the modules here read the engine's reports and
# rubrics: importing the engine first lets it import `apply` whole, whichever package is imported
# first.
from .. import scoring as _scoring  # noqa: F401
from .apply import NEEDS_REVIEW_BELOW, apply_calibration, capped, confidence, flag_review, relevel
from .errors import TrainingError
from .evaluation import LEVELS, EvaluationError, agreement, evaluate, format_evaluation, labelled_items, read_labels
from .features import (
    EXTRA_FEATURES,
    FEATURE_DETAILS,
    FEATURES_SCHEMA_HASH,
    FEATURES_VERSION,
    feature_matrix,
    feature_problems,
    feature_schema,
    feature_schema_hash,
    features,
    rule_mark_level,
)
from .retraining import Retraining, format_retraining, retrain_from_reviews, retrain_question, train_from_db
from .store import (
    CALIBRATORS_DIR,
    ENV_SWITCH,
    LOCK_TIMEOUT,
    Calibrator,
    CalibratorStatus,
    calibration_enabled,
    calibrator_status,
    calibrators_lock,
    instance_calibrators_dir,
    save_calibrator,
)
from .training import (
    MIN_ESSAYS,
    calibration_off,
    cross_validate,
    evaluate_both,
    format_training,
    labelled_reports,
    train_from_labels,
    train_question,
)

__all__ = [
    "CALIBRATORS_DIR",
    "ENV_SWITCH",
    "EXTRA_FEATURES",
    "FEATURES_SCHEMA_HASH",
    "FEATURES_VERSION",
    "FEATURE_DETAILS",
    "LEVELS",
    "LOCK_TIMEOUT",
    "MIN_ESSAYS",
    "NEEDS_REVIEW_BELOW",
    "Calibrator",
    "CalibratorStatus",
    "EvaluationError",
    "Retraining",
    "TrainingError",
    "agreement",
    "apply_calibration",
    "calibration_enabled",
    "calibration_off",
    "calibrator_status",
    "calibrators_lock",
    "capped",
    "confidence",
    "cross_validate",
    "evaluate",
    "evaluate_both",
    "feature_matrix",
    "feature_problems",
    "feature_schema",
    "feature_schema_hash",
    "features",
    "flag_review",
    "format_evaluation",
    "format_retraining",
    "format_training",
    "instance_calibrators_dir",
    "labelled_items",
    "labelled_reports",
    "read_labels",
    "relevel",
    "retrain_from_reviews",
    "retrain_question",
    "rule_mark_level",
    "save_calibrator",
    "train_from_db",
    "train_from_labels",
    "train_question",
]
