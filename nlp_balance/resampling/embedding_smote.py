"""SMOTE over fixed sentence embeddings, drawing exactly the points imbalanced-learn's ``SMOTE`` draws.

Text cannot be interpolated, but its embeddings can: encode the texts once (e.g. with a
sentence-transformers model), oversample the minority classes in that space, and train a light
classifier (logistic regression, an MLP head) on the result. :class:`EmbeddingSMOTE` follows
imbalanced-learn's rules to the bit, so published SMOTE baselines can be reproduced without
depending on imbalanced-learn at run time:

* target counts come from :func:`nlp_balance.resampling.strategy.resolve_sampling_strategy` (imbalanced-learn's
  ``sampling_strategy`` rules), and classes are processed in sorted label order;
* for each class, the ``k_neighbors`` nearest same-class neighbours (Euclidean, scikit-learn's
  ``NearestNeighbors``, the point itself dropped) are found; ``n`` draws of a flat index into that
  ``[n_class, k]`` neighbour table and ``n`` uniform steps come from a ``RandomState`` that is
  **re-created from the seed for every class** when ``random_state`` is an int (imbalanced-learn calls
  ``check_random_state`` per class), shared when it is a ``RandomState``, and numpy's global state
  when it is ``None``;
* a synthetic point is ``x_i + u * (x_nn - x_i)``, cast back to the input dtype; the output is the
  original rows followed by each class's synthetic rows.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from nlp_balance.resampling.strategy import resolve_sampling_strategy

__all__ = ["EmbeddingSMOTE"]


def _check_random_state(seed: int | np.random.RandomState | None) -> np.random.RandomState:
    """A ``RandomState`` for ``seed`` with scikit-learn's ``check_random_state`` semantics."""
    if seed is None:
        return np.random.mtrand._rand  # numpy's global RandomState, as scikit-learn uses it
    if isinstance(seed, (numbers.Integral, np.integer)) and not isinstance(seed, bool):
        return np.random.RandomState(int(seed))
    if isinstance(seed, np.random.RandomState):
        return seed
    raise ValueError(f"random_state must be an int, a numpy RandomState or None, got {seed!r}")


class EmbeddingSMOTE:
    """SMOTE over numpy embeddings: ``fit_resample(X, y) -> (X_res, y_res)``.

    Args:
        sampling_strategy: imbalanced-learn's over-sampling ``sampling_strategy`` (``"auto"``, a
            float for binary data, a dict ``{class: wanted count}`` or a callable on ``y``).
        k_neighbors: neighbours per point among its own class (needs ``k_neighbors + 1`` points in
            every class that is oversampled).
        random_state: int seed (same points as ``imblearn.over_sampling.SMOTE(random_state=seed)``),
            a ``numpy.random.RandomState``, or ``None`` (numpy's global state).

    After ``fit_resample``: ``sampling_strategy_`` (class -> number of synthetic points),
    ``sample_indices_`` (source row of every synthetic point) and ``neighbor_indices_`` (its partner).
    """

    def __init__(
        self,
        sampling_strategy: float | str | Mapping[Any, int] | Callable[[np.ndarray], Mapping[Any, int]] = "auto",
        k_neighbors: int = 5,
        random_state: int | np.random.RandomState | None = None,
    ) -> None:
        if isinstance(k_neighbors, bool) or not isinstance(k_neighbors, (numbers.Integral, np.integer)) \
                or k_neighbors < 1:
            raise ValueError(f"k_neighbors must be an integer >= 1, got {k_neighbors!r}")
        self.sampling_strategy = sampling_strategy
        self.k_neighbors = int(k_neighbors)
        self.random_state = random_state
        _check_random_state(random_state)  # validates the type now, not at fit time

    def _targets(self, y: np.ndarray) -> tuple[np.ndarray, dict[Any, int]]:
        """Sorted classes and class -> number of synthetic points to make."""
        classes, codes = np.unique(y, return_inverse=True)
        strategy = self.sampling_strategy
        if callable(strategy) and not isinstance(strategy, Mapping):
            strategy = strategy(y)
            if not isinstance(strategy, Mapping):
                raise ValueError(f"a callable sampling_strategy must return a dict, got {type(strategy).__name__}")
        if isinstance(strategy, Mapping):
            translated = {}
            for key, wanted in strategy.items():
                hits = np.flatnonzero(classes == key)
                if hits.size == 0:
                    raise ValueError(f"sampling_strategy names class {key!r}, which is not present in y "
                                     f"(classes: {classes.tolist()})")
                translated[int(hits[0])] = wanted
            strategy = translated
        targets = resolve_sampling_strategy(codes, strategy, "over-sampling")
        counts = np.bincount(codes, minlength=classes.size)
        return classes, {classes[c].item(): int(targets[c] - counts[c]) for c in sorted(targets)}

    def fit_resample(self, X: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
        """Original rows followed by the synthetic rows of each oversampled class (sorted label order)."""
        from sklearn.neighbors import NearestNeighbors

        X = np.asarray(X)
        y = np.asarray(y)
        if X.ndim != 2:
            raise ValueError(f"X must be a 2-D array [n_samples, n_features], got shape {X.shape}")
        if y.ndim != 1 or y.shape[0] != X.shape[0]:
            raise ValueError(f"y must be 1-D with one label per row of X ({X.shape[0]}), got shape {y.shape}")
        if not np.issubdtype(X.dtype, np.floating):
            if not np.issubdtype(X.dtype, np.number):
                raise ValueError(f"X must hold numbers, got dtype {X.dtype}")
            X = X.astype(np.float64)
        if not np.all(np.isfinite(X)):
            raise ValueError("X contains NaN or infinite values")
        classes, plan = self._targets(y)
        self.sampling_strategy_ = plan
        X_parts, y_parts, src_parts, nn_parts = [X.copy()], [y.copy()], [], []
        for cls, n_new in plan.items():
            if n_new == 0:
                continue
            members = np.flatnonzero(y == cls)
            if members.size < self.k_neighbors + 1:
                raise ValueError(
                    f"class {cls!r} has {members.size} examples; k_neighbors={self.k_neighbors} needs at least "
                    f"{self.k_neighbors + 1} (lower k_neighbors or leave that class out of sampling_strategy)")
            X_class = X[members]
            knn = NearestNeighbors(n_neighbors=self.k_neighbors + 1).fit(X_class)
            neighbours = knn.kneighbors(X_class, return_distance=False)[:, 1:]
            rng = _check_random_state(self.random_state)  # per class, as imbalanced-learn does
            flat = rng.randint(low=0, high=neighbours.size, size=n_new)
            steps = rng.uniform(size=n_new)[:, np.newaxis]
            rows, cols = np.floor_divide(flat, neighbours.shape[1]), np.mod(flat, neighbours.shape[1])
            partners = neighbours[rows, cols]
            X_new = X_class[rows] + steps * (X_class[partners] - X_class[rows])
            X_parts.append(X_new.astype(X.dtype))
            y_parts.append(np.full(n_new, cls, dtype=y.dtype))
            src_parts.append(members[rows])
            nn_parts.append(members[partners])
        empty = np.zeros(0, dtype=np.int64)
        self.sample_indices_ = np.concatenate(src_parts) if src_parts else empty
        self.neighbor_indices_ = np.concatenate(nn_parts) if nn_parts else empty
        self.classes_ = classes
        return np.vstack(X_parts), np.concatenate(y_parts)
