"""TF-IDF weights with numpy alone, as scikit-learn's `TfidfVectorizer(sublinear_tf=True)` computes them.

The topic model (gaming.TopicModel) is fitted on a rubric's own text when an engine first meets
the rubric, so this runs on the path of scoring the first essay; scikit-learn takes a second or
more to import, far longer than the arithmetic. The same formulas, to the same bits (a test
compares them with scikit-learn's on every rubric):

- the vocabulary is every term, in sorted order (`vocabulary_`: term -> column);
- smooth idf: ln((1 + n) / (1 + df)) + 1, with n documents and df those holding the term;
- sublinear tf: 1 + ln(count); each row is tf * idf divided by its L2 norm. The squares are
  summed in the order scikit-learn's sparse rows hold the terms (first met in the corpus first),
  since floating-point addition depends on the order.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence

import numpy as np


class SublinearTfidf:
    """Fit on pre-tokenised documents (lists of terms); `fit_transform` returns dense L2-normalised rows."""

    def __init__(self) -> None:
        self.vocabulary_: dict[str, int] = {}
        self.idf_ = np.zeros(0)

    def fit_transform(self, documents: Sequence[Sequence[str]]) -> np.ndarray:
        counts = [Counter(doc) for doc in documents]
        first_seen: dict[str, int] = {}
        for doc in documents:
            for term in doc:
                first_seen.setdefault(term, len(first_seen))
        terms = sorted(first_seen)
        self.vocabulary_ = {t: i for i, t in enumerate(terms)}
        df = np.zeros(len(terms))
        for c in counts:
            for t in c:
                df[self.vocabulary_[t]] += 1
        idf = np.full(len(terms), float(len(documents) + 1))
        idf /= df + 1.0
        np.log(idf, out=idf)
        idf += 1.0
        self.idf_ = idf
        rows = np.zeros((len(documents), len(terms)))
        for r, c in enumerate(counts):
            order = sorted(c, key=first_seen.__getitem__)
            cols = np.array([self.vocabulary_[t] for t in order], dtype=np.intp)
            values = np.log(np.array([float(c[t]) for t in order]))
            values += 1.0
            values *= idf[cols]
            total = 0.0
            for v in values.tolist():
                total += v * v
            if total:
                values /= math.sqrt(total)
            rows[r, cols] = values
        return rows


__all__ = ["SublinearTfidf"]
