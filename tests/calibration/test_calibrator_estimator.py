"""scikit-learn's own estimator checks on the calibrator's regressor (issue 9): fitting, predicting,
input validation, cloning, pickling, idempotence... as any scikit-learn estimator must behave.

The checks that need pandas are skipped by scikit-learn itself when it is not installed."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from khrushchev_essays.calibration.model import RuleResidualRegressor


@parametrize_with_checks([RuleResidualRegressor(), RuleResidualRegressor(alphas=(0.1, 1.0))])
def test_scikit_learn_estimator_checks(estimator, check):
    check(estimator)


def test_the_named_base_feature_is_the_rule_mark_the_correction_starts_from():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 3))
    X[:, 1] = rng.integers(0, 20, size=40)  # the rule mark
    y = X[:, 1] + 2.0  # markers: always two marks above the rules
    est = RuleResidualRegressor(feature_names=("a", "rule_mark", "b"), alphas=(1e-6, 1e-5)).fit(X, y)
    assert est.base_index_ == 1
    assert np.allclose(est.predict(X), y)


def test_feature_names_that_do_not_fit_x_are_refused():
    X, y = np.ones((5, 2)), np.arange(5.0)
    with pytest.raises(ValueError, match="2 columns"):
        RuleResidualRegressor(feature_names=("rule_mark",)).fit(X, y)
    with pytest.raises(ValueError, match="base feature"):
        RuleResidualRegressor(feature_names=("a", "b")).fit(X, y)
