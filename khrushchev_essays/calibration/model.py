"""The calibrator's estimator, a scikit-learn regressor used to train (and cross-validate) only.

What it learns is saved as plain numbers (linear.LinearCalibrator, JSON) and applied with numpy, so
scoring never imports this module or scikit-learn, and nothing is ever unpickled.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin, clone
from sklearn.linear_model import RidgeCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.validation import check_is_fitted, validate_data

ALPHAS = tuple(float(a) for a in np.logspace(0, 4, 17))  # 1 .. 10,000: light to "just the rules"


class RuleResidualRegressor(RegressorMixin, BaseEstimator):
    """Predict a mark as the rule mark plus a regularised correction learnt from markers.

    `base_feature` names the column holding the rule mark (with no `feature_names`, the first
    column is); the correction is a ridge regression on standardised features, its penalty picked
    from `alphas` by efficient leave-one-out. With few essays the penalty grows and the model stays
    close to the rules instead of chasing noise. A scikit-learn estimator in full: its
    `check_estimator` checks pass (tests/calibration/test_calibrator_estimator.py).
    """

    def __init__(self, feature_names: tuple[str, ...] = (), base_feature: str = "rule_mark", alphas: tuple[float, ...] = ALPHAS):
        self.feature_names = feature_names
        self.base_feature = base_feature
        self.alphas = alphas

    def _base_index(self, n_features: int) -> int:
        names = list(self.feature_names)
        if not names:
            return 0
        if len(names) != n_features:
            raise ValueError(f"feature_names lists {len(names)} features, but X has {n_features} columns")
        if self.base_feature not in names:
            raise ValueError(f"the base feature {self.base_feature!r} is not among feature_names")
        return names.index(self.base_feature)

    def fit(self, X, y):
        """Learn the correction (markers' mark minus rule mark) from features X and marks y."""
        X, y = validate_data(self, X, y, y_numeric=True, dtype=float)
        self.base_index_ = self._base_index(X.shape[1])
        model = make_pipeline(StandardScaler(), RidgeCV(alphas=self.alphas))
        self.model_ = clone(model).fit(X, y - X[:, self.base_index_])
        self.alpha_ = float(self.model_[-1].alpha_)
        return self

    def predict(self, X):
        """The predicted (unrounded, unclipped) mark for each row."""
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=float)
        scaler, ridge = self.model_[0], self.model_[-1]
        # Scaler and ridge are linear, so apply them directly (the same numbers as the pipeline's).
        return X[:, self.base_index_] + scaler.transform(X) @ ridge.coef_ + ridge.intercept_


def new_estimator(names: list[str]):
    """The estimator `train` fits (see RuleResidualRegressor), so training and CV use the same one."""
    return RuleResidualRegressor(feature_names=tuple(names))


__all__ = ["ALPHAS", "RuleResidualRegressor", "new_estimator"]
