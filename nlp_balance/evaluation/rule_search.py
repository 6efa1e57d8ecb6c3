"""The searches behind the decision rules: validation metrics from counts, and offsets that maximise them.

Every rule is a vector of per-class additive logit offsets ``b``: the prediction is
``argmax(logits + b)``. This module finds ``b`` on validation logits and labels, with numpy only:

* :class:`Objective` scores many candidate decisions at once from their confusion counts
  (macro-F1, balanced accuracy, or one class's F1 subject to a precision floor);
* :func:`coordinate_ascent` moves one class's offset at a time over a grid (any number of classes);
* :func:`threshold_search` tries every cut point between validation margins (two classes, exact);
* :func:`tau_search` picks the logit-adjustment strength ``tau`` from a grid.

The guards against over-fitting small validation classes, which wrap these searches, are in
:mod:`nlp_balance.evaluation.rule_guards`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np

__all__ = [
    "DECISION_METRICS",
    "Objective",
    "argmax_with_offsets",
    "coordinate_ascent",
    "default_grid",
    "tau_search",
    "threshold_search",
]

#: The metrics a decision rule can maximise on validation, with what each one needs.
DECISION_METRICS: dict[str, str] = {
    "macro_f1": "mean F1 over all classes (a class never predicted and absent scores 0)",
    "balanced_accuracy": "mean recall over the classes present in the validation labels",
    "class_f1": "F1 of target_class, subject to its precision >= min_precision",
}

#: Scores closer than this are ties (they differ only by float rounding of the same counts).
_TIE = 1e-12


@dataclasses.dataclass(frozen=True)
class Objective:
    """A validation metric computed from per-class counts, vectorised over candidate decisions.

    ``class_f1`` scores the F1 of ``target_class`` when its precision reaches ``min_precision``;
    below the floor the score is ``precision - 1`` (always below any feasible score), so a search
    that cannot reach the floor still climbs towards it. A class that is never predicted has
    precision 0.
    """

    metric: str
    num_classes: int
    target_class: int | None = None
    min_precision: float = 0.0

    def __post_init__(self) -> None:
        if self.metric not in DECISION_METRICS:
            raise ValueError(f"metric must be one of {sorted(DECISION_METRICS)}, got {self.metric!r}")
        if self.metric == "class_f1":
            if not isinstance(self.target_class, (int, np.integer)) or isinstance(self.target_class, bool) \
                    or not 0 <= int(self.target_class) < self.num_classes:
                raise ValueError(f"metric 'class_f1' needs target_class, a class id in range(0, "
                                 f"{self.num_classes}), got {self.target_class!r}")
            if not 0.0 <= float(self.min_precision) <= 1.0:
                raise ValueError(f"min_precision must be in [0, 1], got {self.min_precision!r}")
        elif self.target_class is not None or self.min_precision:
            raise ValueError(f"target_class and min_precision apply to metric 'class_f1' only, not {self.metric!r}")

    def from_counts(self, tp: np.ndarray, predicted: np.ndarray, true: np.ndarray) -> np.ndarray:
        """Scores of candidates whose true positives and prediction counts are ``[..., C]``; ``true`` is ``[C]``."""
        tp = np.asarray(tp, dtype=np.float64)
        predicted = np.asarray(predicted, dtype=np.float64)
        true = np.asarray(true, dtype=np.float64)
        if self.metric == "macro_f1":
            denom = predicted + true
            return (2.0 * tp / np.maximum(denom, 1.0)).mean(axis=-1)
        if self.metric == "balanced_accuracy":
            present = true > 0
            return (tp[..., present] / true[present]).mean(axis=-1)
        t = int(self.target_class)  # type: ignore[arg-type]
        tp_t, pred_t = tp[..., t], predicted[..., t]
        precision = tp_t / np.maximum(pred_t, 1.0)
        f1 = 2.0 * tp_t / np.maximum(pred_t + true[t], 1.0)
        return np.where(precision >= self.min_precision, f1, precision - 1.0)

    def score(self, predictions: np.ndarray, labels: np.ndarray) -> np.ndarray:
        """Scores of the rows of ``predictions`` (``[G, n]`` or ``[n]`` class ids) against ``labels`` (``[n]``)."""
        pred = np.asarray(predictions, dtype=np.int64)
        single = pred.ndim == 1
        pred = np.atleast_2d(pred)
        tp, predicted = confusion_counts(pred, labels, self.num_classes)
        true = np.bincount(labels, minlength=self.num_classes)
        out = self.from_counts(tp, predicted, true)
        return out[0] if single else out


def confusion_counts(predictions: np.ndarray, labels: np.ndarray, num_classes: int) -> tuple[np.ndarray, np.ndarray]:
    """``(true positives, prediction counts)``, each ``[G, C]``, of ``G`` candidate prediction rows ``[G, n]``."""
    g = predictions.shape[0]
    flat = predictions + (np.arange(g, dtype=np.int64) * num_classes)[:, None]
    size = g * num_classes
    predicted = np.bincount(flat.ravel(), minlength=size).reshape(g, num_classes)
    tp = np.bincount(flat[predictions == labels[None, :]], minlength=size).reshape(g, num_classes)
    return tp, predicted


def argmax_with_offsets(logits: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Class ids ``argmax(logits + offsets)`` (ties go to the lower class id, as ``numpy.argmax``)."""
    return np.argmax(logits + offsets, axis=-1)


def default_grid(logits: np.ndarray, grid_size: int = 41, span: float | None = None) -> np.ndarray:
    """A symmetric grid of ``grid_size`` offsets in ``[-span, span]`` that contains 0.

    ``span`` defaults to the 90th percentile of the gap between each row's two largest logits: an
    offset that large already flips most rows whose runner-up is that class, so larger ones are
    not worth searching. The scale follows the model's logits, whatever their temperature.
    """
    if not isinstance(grid_size, (int, np.integer)) or isinstance(grid_size, bool) or grid_size < 3:
        raise ValueError(f"grid_size must be an integer >= 3, got {grid_size!r}")
    if span is None:
        top2 = np.sort(logits, axis=1)[:, -2:]
        span = float(np.quantile(top2[:, 1] - top2[:, 0], 0.9))
    if not np.isfinite(span) or span < 0:
        raise ValueError(f"span must be a finite number >= 0, got {span!r}")
    span = max(float(span), 1e-3)
    half = int(grid_size) // 2
    grid = np.linspace(-span, span, 2 * half + 1)
    grid[half] = 0.0  # exactly, whatever the rounding of linspace
    return grid


def _class_step(logits: np.ndarray, labels: np.ndarray, offsets: np.ndarray, c: int, grid: np.ndarray,
                objective: Objective, true: np.ndarray) -> np.ndarray:
    """Scores of every value of the ascending ``grid`` as class ``c``'s offset, the others held fixed (``[G]``).

    Row ``i`` goes to ``c`` once the offset passes ``gap_i`` (its best other shifted logit minus its
    logit of ``c``; at equality ``c`` wins when its id is lower, as in ``argmax``), else it stays with
    its runner-up. So the first grid index at which each row moves is found by ``searchsorted``, and
    every grid value's counts are cumulative sums: O(n log G + G C), not O(n G).
    """
    n, k = logits.shape
    g = grid.size
    shifted = logits + offsets
    shifted[:, c] = -np.inf
    runner_up = shifted.argmax(axis=1)
    gap = shifted[np.arange(n), runner_up] - logits[:, c]
    first = np.where(c < runner_up, np.searchsorted(grid, gap, side="left"), np.searchsorted(grid, gap, side="right"))
    hit = labels == runner_up
    cell = first * k + runner_up  # rows moving to c at grid index `first`, leaving `runner_up`
    left = np.bincount(cell, minlength=(g + 1) * k).reshape(g + 1, k)[:g].cumsum(axis=0)
    left_tp = np.bincount(cell[hit], minlength=(g + 1) * k).reshape(g + 1, k)[:g].cumsum(axis=0)
    predicted = np.bincount(runner_up, minlength=k)[None, :] - left
    tp = np.bincount(runner_up[hit], minlength=k)[None, :] - left_tp
    predicted[:, c] = np.bincount(first, minlength=g + 1)[:g].cumsum()
    tp[:, c] = np.bincount(first[labels == c], minlength=g + 1)[:g].cumsum()
    return objective.from_counts(tp, predicted, true)


def coordinate_ascent(logits: np.ndarray, labels: np.ndarray, objective: Objective, grid: np.ndarray,
                      max_sweeps: int = 10) -> tuple[np.ndarray, int]:
    """Offsets (centred to mean 0) that maximise ``objective``, one class at a time; returns ``(offsets, sweeps)``.

    Starts from zero offsets. Each step sets one class's offset to the grid value with the best
    score; it changes only for a strict improvement, and among equal best values it takes the one
    closest to 0, so the result is deterministic and the search stops. A sweep visits every class;
    the search ends after a sweep that changed nothing or after ``max_sweeps``.
    """
    if not np.any(grid == 0.0) or np.any(np.diff(grid) <= 0):
        raise ValueError("the offset grid must be ascending and contain 0 (the start of the search)")
    k = logits.shape[1]
    true = np.bincount(labels, minlength=k)
    offsets = np.zeros(k)
    order = np.argsort(np.abs(grid), kind="stable")  # among ties, the value closest to 0 comes first
    sweeps = 0
    for sweeps in range(1, max_sweeps + 1):  # noqa: B007 - the count is returned
        changed = False
        for c in range(k):
            scores = _class_step(logits, labels, offsets, c, grid, objective, true)
            current = scores[int(np.flatnonzero(grid == offsets[c])[0])]
            top = scores.max()
            if top > current + _TIE:
                offsets[c] = grid[order[np.flatnonzero(scores[order] >= top - _TIE)[0]]]
                changed = True
        if not changed:
            break
    return offsets - offsets.mean(), sweeps


def threshold_search(logits: np.ndarray, labels: np.ndarray, objective: Objective) -> tuple[np.ndarray, int]:
    """Exact best offset of class 1 on a two-logit model, over every cut point; returns ``(offsets, cuts)``.

    Class 1 is predicted when ``logit_1 - logit_0 + o > 0``. The candidates are ``o`` just above
    every row's margin and midway between consecutive distinct margins, so every distinct decision
    is tried once. Ties go to the offset closest to 0 (a threshold closest to 0.5).
    """
    if logits.shape[1] != 2:
        raise ValueError(f"the 'threshold' rule needs two classes, the logits have {logits.shape[1]}")
    margin = logits[:, 1] - logits[:, 0]
    distinct = np.unique(margin)[::-1]  # descending
    # Cut j predicts class 1 for the rows whose margin is among distinct[:j] (j = 0 .. len).
    cuts = np.concatenate([[-(distinct[0] + 1.0)], -(distinct[:-1] + distinct[1:]) / 2, [-(distinct[-1] - 1.0)]])
    positives_at = margin.size - np.searchsorted(np.sort(margin), distinct, side="left")  # rows with margin >= value
    is_pos = labels == 1
    pos_sorted = np.cumsum(is_pos[np.argsort(-margin, kind="stable")])
    predicted1 = np.concatenate([[0], positives_at])
    tp1 = np.concatenate([[0], pos_sorted[positives_at - 1]])
    n, n_pos = labels.size, int(is_pos.sum())
    tp0 = (n - n_pos) - (predicted1 - tp1)
    tp = np.stack([tp0, tp1], axis=1)
    predicted = np.stack([n - predicted1, predicted1], axis=1)
    scores = objective.from_counts(tp, predicted, np.array([n - n_pos, n_pos]))
    order = np.argsort(np.abs(cuts), kind="stable")
    best = order[np.flatnonzero(scores[order] >= scores.max() - _TIE)[0]]
    return np.array([0.0, float(cuts[best])]), int(cuts.size)


def tau_search(logits: np.ndarray, labels: np.ndarray, objective: Objective, log_priors: np.ndarray,
               tau_grid: Sequence[float]) -> tuple[float, np.ndarray]:
    """The ``tau`` of ``tau_grid`` whose offsets ``-tau * log_priors`` score best; ties go to the tau closest to 0.

    Returns ``(tau, scores)`` with one score per grid value, in grid order.
    """
    grid = np.asarray(tau_grid, dtype=np.float64)
    preds = np.stack([argmax_with_offsets(logits, -tau * log_priors) for tau in grid])
    scores = objective.score(preds, labels)
    order = np.lexsort((grid, np.abs(grid)))  # by |tau|, then by tau
    best = order[np.flatnonzero(scores[order] >= scores.max() - _TIE)[0]]
    return float(grid[best]), scores
