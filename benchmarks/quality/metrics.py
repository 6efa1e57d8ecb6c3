"""Scores written to every results row (scikit-learn, computed from test predictions only)."""

from __future__ import annotations

from typing import Any

import numpy as np


def scores(y_true: np.ndarray, y_pred: np.ndarray, names: list[str], smallest: int) -> dict[str, Any]:
    """Macro-F1, balanced accuracy, accuracy, each class's F1, and the F1 of class ``smallest``.

    ``smallest`` is the class with the fewest *training* examples of the variant (before any
    rebalancing), so "smallest-class F1" means the same class for every method of a dataset.
    """
    from sklearn.metrics import accuracy_score, balanced_accuracy_score, f1_score

    k = len(names)
    per = f1_score(y_true, y_pred, labels=np.arange(k), average=None, zero_division=0)
    return {
        "macro_f1": float(np.mean(per)),
        "balanced_accuracy": float(balanced_accuracy_score(y_true, y_pred)),
        "accuracy": float(accuracy_score(y_true, y_pred)),
        "per_class_f1": {names[c]: float(per[c]) for c in range(k)},
        "smallest_class": names[smallest],
        "smallest_class_f1": float(per[smallest]),
    }
