"""Guards against decision rules that over-fit small validation classes.

A validation class with a dozen rows lets a search find offsets that fit those rows and nothing
else. Each guard wraps a *fitter* (validation logits and labels in, per-class offsets out) and
returns steadier offsets:

* ``none``: the fitter's offsets on the whole validation split;
* ``bootstrap``: the mean of the offsets fitted on ``n_bootstrap`` resamples of the validation
  split, drawn with replacement within each class (so every class keeps its size);
* ``shrink``: the offsets fitted on the whole split, times a factor ``lambda`` from
  ``shrink_grid``; ``lambda`` is the value whose *out-of-fold* predictions score best when the
  offsets are fitted on ``n_folds - 1`` stratified folds and applied to the held-out one
  (cross-fitting). ``lambda = 0`` (no rule) is a candidate, and ties go to the smaller factor, so
  the guard switches the rule off when it does not carry over to unseen rows;
* ``bootstrap_shrink``: ``shrink`` around the ``bootstrap`` fitter;
* ``gate`` and ``bootstrap_gate``: ``shrink`` and ``bootstrap_shrink`` with the factors 0 and 1
  only: cross-fitting decides whether the rule is applied at all, and nothing in between.

Every random draw comes from :func:`nlp_balance.utils.seeding.numpy_rng` of the user's seed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from nlp_balance.evaluation.rule_search import Objective, argmax_with_offsets
from nlp_balance.utils.seeding import numpy_rng

__all__ = ["DECISION_GUARDS", "DEFAULT_SHRINK_GRID", "Fitter", "guarded_offsets"]

#: A search: (validation logits ``[n, C]``, labels ``[n]``) -> offsets ``[C]``.
Fitter = Callable[[np.ndarray, np.ndarray], np.ndarray]

#: The guards, each with the parameters it takes and their defaults.
DECISION_GUARDS: dict[str, dict[str, Any]] = {
    "none": {},
    "bootstrap": {"n_bootstrap": 20},
    "shrink": {"n_folds": 5, "shrink_grid": None},
    "bootstrap_shrink": {"n_bootstrap": 20, "n_folds": 5, "shrink_grid": None},
    "gate": {"n_folds": 5},
    "bootstrap_gate": {"n_bootstrap": 20, "n_folds": 5},
}

#: Shrink factors tried by the ``shrink`` guards when ``shrink_grid`` is not given.
DEFAULT_SHRINK_GRID: tuple[float, ...] = tuple(round(0.1 * i, 1) for i in range(11))
#: The factors of the gate guards: the rule off (0) or as fitted (1).
_GATE_GRID = (0.0, 1.0)
_TIE = 1e-12


def _positive_int(name: str, value: Any, minimum: int) -> int:
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def _shrink_grid(value: Sequence[float] | None) -> np.ndarray:
    grid = np.asarray(DEFAULT_SHRINK_GRID if value is None else value, dtype=np.float64).ravel()
    if grid.size == 0 or not np.all(np.isfinite(grid)) or np.any(grid < 0):
        raise ValueError(f"shrink_grid must be a non-empty list of finite factors >= 0, got {value!r}")
    return np.unique(grid)


def _stratified_resample(labels: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Row indices drawn with replacement within each class, every class keeping its size."""
    parts = [rng.choice(rows, size=rows.size, replace=True)
             for rows in (np.flatnonzero(labels == c) for c in np.unique(labels))]
    return np.concatenate(parts)


def _stratified_folds(labels: np.ndarray, n_folds: int, rng: np.random.Generator) -> np.ndarray:
    """A fold id per row; each class is dealt round-robin, continuing where the previous class stopped."""
    folds = np.empty(labels.size, dtype=np.int64)
    start = 0
    for c in np.unique(labels):
        rows = rng.permutation(np.flatnonzero(labels == c))
        folds[rows] = (start + np.arange(rows.size)) % n_folds
        start = (start + rows.size) % n_folds
    return folds


def _bootstrap(fitter: Fitter, n_bootstrap: int, seed: int, info: dict[str, Any]) -> Fitter:
    """The fitter that averages ``fitter`` over stratified bootstrap resamples (records their spread)."""
    calls = [0]

    def fit(logits: np.ndarray, labels: np.ndarray) -> np.ndarray:
        rng = numpy_rng(seed, "decision_rule", "bootstrap", calls[0])
        calls[0] += 1
        fitted = np.stack([fitter(logits[idx], labels[idx])
                           for idx in (_stratified_resample(labels, rng) for _ in range(n_bootstrap))])
        info["bootstrap_std"] = [round(float(v), 6) for v in fitted.std(axis=0)]
        return fitted.mean(axis=0)

    return fit


def _cross_fit_shrink(fitter: Fitter, logits: np.ndarray, labels: np.ndarray, objective: Objective,
                      n_folds: int, grid: np.ndarray, seed: int) -> tuple[float, np.ndarray]:
    """The shrink factor with the best out-of-fold score (ties: the smaller), and every factor's score."""
    folds = _stratified_folds(labels, n_folds, numpy_rng(seed, "decision_rule", "folds"))
    oof = np.empty((grid.size, labels.size), dtype=np.int64)
    for f in range(n_folds):
        held = folds == f
        if not held.any():
            continue
        offsets = fitter(logits[~held], labels[~held])
        for i, factor in enumerate(grid):
            oof[i, held] = argmax_with_offsets(logits[held], factor * offsets)
    scores = objective.score(oof, labels)
    best = int(np.flatnonzero(scores >= scores.max() - _TIE)[0])  # grid is ascending: the smallest factor
    return float(grid[best]), scores


def guarded_offsets(fitter: Fitter, logits: np.ndarray, labels: np.ndarray, objective: Objective, guard: str,
                    *, seed: int = 0, **params: Any) -> tuple[np.ndarray, dict[str, Any]]:
    """Offsets from ``fitter`` under ``guard`` (see the module docstring), and what the guard did.

    ``params`` are the guard's own (``n_bootstrap``, ``n_folds``, ``shrink_grid``); the returned
    dictionary records them with the guard's outcome (the bootstrap spread of each offset, the
    chosen shrink factor and the out-of-fold score of every factor).
    """
    if guard not in DECISION_GUARDS:
        raise ValueError(f"guard must be one of {sorted(DECISION_GUARDS)}, got {guard!r}")
    unknown = sorted(set(params) - set(DECISION_GUARDS[guard]))
    if unknown:
        allowed = sorted(DECISION_GUARDS[guard]) or "none"
        raise ValueError(f"guard {guard!r} takes no parameter {', '.join(map(repr, unknown))} (it takes: {allowed})")
    settings = {**DECISION_GUARDS[guard], **params}
    info: dict[str, Any] = {}
    if "n_bootstrap" in settings:
        n_bootstrap = _positive_int("n_bootstrap", settings["n_bootstrap"], 1)
        info["n_bootstrap"] = n_bootstrap
        fitter = _bootstrap(fitter, n_bootstrap, seed, info)
    if "n_folds" not in settings:
        return fitter(logits, labels), info
    n_folds = _positive_int("n_folds", settings["n_folds"], 2)
    grid = _shrink_grid(_GATE_GRID if guard.endswith("gate") else settings["shrink_grid"])
    factor, scores = _cross_fit_shrink(fitter, logits, labels, objective, n_folds, grid, seed)
    info.update({"n_folds": n_folds, "shrink_grid": [float(v) for v in grid], "shrink": factor,
                 "cross_fit_scores": [round(float(s), 6) for s in scores]})
    return factor * fitter(logits, labels), info
