"""A fitted calibrator as plain numbers: applied with numpy, stored as JSON, never unpickled.

`RuleResidualRegressor` (model.py, scikit-learn) is what training fits; what scoring needs of it
is linear: standardise the features, take a dot product, add the rule mark. `LinearCalibrator`
holds exactly those numbers (means, scales, coefficients, intercept, which column is the rule
mark) and predicts the same values as the fitted estimator, to the bit: JSON keeps every float
exactly (Python writes the shortest repr that reads back the same). Loading one runs no code, and
scoring imports no scikit-learn.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

MODEL_KIND = "rule_residual_ridge"  # the "kind" of a model file: mark = rule mark + ridge(standardised X)


@dataclass(frozen=True)
class LinearCalibrator:
    """mark = X[:, base_index] + ((X - mean) / scale) @ coef + intercept."""

    feature_names: tuple[str, ...]
    base_index: int
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float
    alpha: float | None = None

    def predict(self, X) -> np.ndarray:
        """The predicted (unrounded, unclipped) mark for each row of X (columns in `feature_names` order)."""
        X = np.asarray(X, dtype=float)
        if X.ndim != 2 or X.shape[1] != len(self.feature_names):
            raise ValueError(f"expected rows of {len(self.feature_names)} features, got shape {X.shape}")
        z = (X - self.mean) / self.scale
        return X[:, self.base_index] + z @ self.coef + self.intercept

    @classmethod
    def from_estimator(cls, estimator) -> LinearCalibrator:
        """The numbers of a fitted model.RuleResidualRegressor."""
        scaler, ridge = estimator.model_[0], estimator.model_[-1]
        return cls(tuple(estimator.feature_names), int(estimator.base_index_), np.array(scaler.mean_, dtype=float),
                   np.array(scaler.scale_, dtype=float), np.array(ridge.coef_, dtype=float), float(ridge.intercept_),
                   getattr(estimator, "alpha_", None))

    def to_dict(self) -> dict[str, Any]:
        return {"kind": MODEL_KIND, "feature_names": list(self.feature_names),
                "base_feature": self.feature_names[self.base_index], "mean": self.mean.tolist(),
                "scale": self.scale.tolist(), "coef": self.coef.tolist(), "intercept": self.intercept, "alpha": self.alpha}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=1) + "\n"

    @classmethod
    def from_json(cls, text: str) -> LinearCalibrator:
        """Read a model file; raise ValueError saying what is wrong with it."""
        data = json.loads(text)
        if not isinstance(data, dict) or data.get("kind") != MODEL_KIND:
            raise ValueError(f"not a {MODEL_KIND} model")
        names = data.get("feature_names")
        if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
            raise ValueError("feature_names must be a list of names")
        if data.get("base_feature") not in names:
            raise ValueError("base_feature is not among feature_names")
        arrays = {}
        for key in ("mean", "scale", "coef"):
            value = data.get(key)
            if not isinstance(value, list) or len(value) != len(names) or not all(_finite(v) for v in value):
                raise ValueError(f"{key} must be {len(names)} finite numbers")
            arrays[key] = np.array(value, dtype=float)
        if not np.all(arrays["scale"] > 0):
            raise ValueError("every scale must be positive")
        if not _finite(data.get("intercept")) or not (data.get("alpha") is None or _finite(data["alpha"])):
            raise ValueError("intercept and alpha must be finite numbers")
        return cls(tuple(names), names.index(data["base_feature"]), arrays["mean"], arrays["scale"], arrays["coef"],
                   float(data["intercept"]), None if data.get("alpha") is None else float(data["alpha"]))


def _finite(x: object) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


__all__ = ["MODEL_KIND", "LinearCalibrator"]
