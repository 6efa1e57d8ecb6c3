"""imbalanced-learn's random over- and under-samplers for ``datasets.Dataset`` (one verb: ``fit_resample``).

Target counts come from :func:`~nlp_balance.resampling.strategy.resolve_sampling_strategy`. The
samplers take and return ``datasets.Dataset`` objects and work through Arrow indices
(``Dataset.select``): no row is copied into Python. :func:`over_sample_indices` and
:func:`under_sample_indices` are their index rules on a bare label array, for callers that already
hold the labels (the EasyEnsemble estimator draws one subset per member).
"""

from __future__ import annotations

import numbers
from typing import Any

import datasets
import numpy as np

from nlp_balance.data.labels import get_class_label, label_array
from nlp_balance.resampling.strategy import SamplingStrategy, SamplingType, resolve_sampling_strategy

__all__ = ["RandomOverSampler", "RandomUnderSampler", "over_sample_indices", "under_sample_indices"]


RandomStateLike = int | np.random.Generator | None


def over_sample_indices(
    labels: np.ndarray, targets: dict[int, int], random_state: RandomStateLike = None
) -> np.ndarray:
    """:class:`RandomOverSampler`'s rows: every row in order, then each class's random duplicates.

    Classes are taken in ascending id order; a class gets ``targets[c]`` minus its count rows drawn
    with replacement from its own rows.
    """
    y = np.asarray(labels, dtype=np.int64)
    rng = _random_state(random_state)
    parts = [np.arange(y.size, dtype=np.int64)]
    for c in sorted(targets):
        need = targets[c] - int((y == c).sum())
        if need > 0:
            members = np.flatnonzero(y == c)
            parts.append(members[rng.integers(0, members.size, size=need)])
    return np.concatenate(parts)


def under_sample_indices(
    labels: np.ndarray, targets: dict[int, int], random_state: RandomStateLike = None, *, replacement: bool = False
) -> np.ndarray:
    """:class:`RandomUnderSampler`'s rows: ``targets[c]`` random rows of each class, in their original order.

    Classes are drawn in ascending id order. Without replacement, a class whose target is not below
    its count keeps every row and uses no random draws; with replacement every class is drawn.
    """
    y = np.asarray(labels, dtype=np.int64)
    rng = _random_state(random_state)
    keep = np.ones(y.size, dtype=bool)
    extra: list[np.ndarray] = []
    for c in sorted(targets):
        members = np.flatnonzero(y == c)
        if targets[c] >= members.size and not replacement:
            continue
        keep[members] = False
        chosen = rng.choice(members, size=targets[c], replace=replacement)
        if replacement:
            extra.append(chosen)
        else:
            keep[chosen] = True
    kept = np.flatnonzero(keep)
    if extra:
        kept = np.sort(np.concatenate([kept, *extra]), kind="stable")
    return kept.astype(np.int64)


def _random_state(random_state: RandomStateLike) -> np.random.Generator:
    """A NumPy ``Generator`` for an int seed, the given ``Generator`` itself, or fresh entropy for ``None``."""
    if isinstance(random_state, np.random.Generator):
        return random_state
    if random_state is None:
        return np.random.default_rng()
    if isinstance(random_state, (numbers.Integral, np.integer)) and not isinstance(random_state, bool):
        return np.random.default_rng(int(random_state))
    raise ValueError(f"random_state must be an int, a numpy Generator or None, got {random_state!r}")


def _train_split(dataset: datasets.DatasetDict, split: str = "train") -> datasets.Dataset:
    """The split a sampler resamples; a missing split is an error naming the splits there are."""
    if split not in dataset:
        raise KeyError(f"no {split!r} split to resample; splits are {sorted(dataset)}")
    return dataset[split]


class _RandomSampler:
    """What both samplers share: target counts, the seeded index rule, ``DatasetDict`` handling."""

    _sampling_type: SamplingType

    def __init__(
        self,
        sampling_strategy: SamplingStrategy = "auto",
        *,
        random_state: RandomStateLike = None,
        label_column: str = "label",
    ) -> None:
        self.sampling_strategy = sampling_strategy
        self.random_state = random_state
        self.label_column = label_column

    def _select_indices(self, y: np.ndarray, targets: dict[int, int], rng: np.random.Generator) -> np.ndarray:
        raise NotImplementedError

    def fit_resample(self, dataset: datasets.Dataset | datasets.DatasetDict) -> Any:
        """Resample ``dataset`` (or the train split of a ``DatasetDict``, other splits untouched).

        Sets ``target_counts_`` (class id -> count after resampling) and ``sample_indices_`` (the
        input row of every output row).
        """
        if isinstance(dataset, datasets.DatasetDict):
            out = datasets.DatasetDict(dict(dataset))
            out["train"] = self.fit_resample(_train_split(dataset))
            return out
        names = get_class_label(dataset, self.label_column).names
        y = label_array(dataset, self.label_column)
        targets = resolve_sampling_strategy(y, self.sampling_strategy, self._sampling_type, label_names=names)
        indices = self._select_indices(y, targets, _random_state(self.random_state))
        self.target_counts_ = targets
        self.sample_indices_ = indices
        return dataset.select(indices)


class RandomOverSampler(_RandomSampler):
    """Duplicate randomly chosen examples of the targeted classes (imbalanced-learn semantics).

    Args:
        sampling_strategy: imbalanced-learn's over-sampling ``sampling_strategy`` (see
            :func:`~nlp_balance.resampling.strategy.resolve_sampling_strategy`).
        random_state: an int seed, a NumPy ``Generator``, or ``None`` for fresh entropy.
        label_column: the ``ClassLabel`` column to balance.

    The result holds every original row, in order, followed by the drawn duplicates.
    """

    _sampling_type = "over-sampling"

    def _select_indices(self, y: np.ndarray, targets: dict[int, int], rng: np.random.Generator) -> np.ndarray:
        return over_sample_indices(y, targets, rng)


class RandomUnderSampler(_RandomSampler):
    """Keep a random subset of each targeted class (imbalanced-learn semantics).

    Args:
        sampling_strategy: imbalanced-learn's under-sampling ``sampling_strategy`` (see
            :func:`~nlp_balance.resampling.strategy.resolve_sampling_strategy`).
        random_state: an int seed, a NumPy ``Generator``, or ``None`` for fresh entropy.
        replacement: draw rows with replacement, as imbalanced-learn's option of that name.
        label_column: the ``ClassLabel`` column to balance.

    Kept rows stay in their original order.
    """

    _sampling_type = "under-sampling"

    def __init__(
        self,
        sampling_strategy: SamplingStrategy = "auto",
        *,
        random_state: RandomStateLike = None,
        replacement: bool = False,
        label_column: str = "label",
    ) -> None:
        super().__init__(sampling_strategy, random_state=random_state, label_column=label_column)
        self.replacement = replacement

    def _select_indices(self, y: np.ndarray, targets: dict[int, int], rng: np.random.Generator) -> np.ndarray:
        return under_sample_indices(y, targets, rng, replacement=self.replacement)
