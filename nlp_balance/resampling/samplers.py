"""Target class counts with imbalanced-learn's ``sampling_strategy`` rules, and the random samplers.

:func:`resolve_sampling_strategy` is the one place that turns a ``sampling_strategy`` (float, named
strategy, dict or callable) into per-class target counts; :class:`RandomOverSampler`,
:class:`RandomUnderSampler` and the :class:`~nlp_balance.Balancer` all use it, so every sampler in
the package reads the parameter the same way imbalanced-learn does (ties between equally large
classes go to the smaller label id, as ``np.unique`` orders them there).

The samplers take and return ``datasets.Dataset`` objects and work through Arrow indices
(``Dataset.select``): no row is copied into Python.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal

import datasets
import numpy as np

from nlp_balance.data.labels import get_class_label, label_array

__all__ = [
    "RandomOverSampler",
    "RandomUnderSampler",
    "SamplingStrategy",
    "label_array",
    "resolve_sampling_strategy",
]

SamplingStrategy = float | str | Mapping[Any, int] | Callable[[np.ndarray], Mapping[Any, int]]
SamplingType = Literal["over-sampling", "under-sampling"]

_NAMED = ("minority", "majority", "not minority", "not majority", "all", "auto")


def _class_key(key: Any, label_names: Sequence[str] | None) -> int:
    """Map a dict key given as a label id or a label name to the id."""
    if isinstance(key, (numbers.Integral, np.integer)) and not isinstance(key, bool):
        return int(key)
    if isinstance(key, str) and label_names is not None and key in label_names:
        return list(label_names).index(key)
    known = list(label_names) if label_names is not None else "label ids"
    raise ValueError(f"sampling_strategy names class {key!r}, which is not a known class ({known})")


def resolve_sampling_strategy(
    labels: np.ndarray | Sequence[int],
    sampling_strategy: SamplingStrategy,
    sampling_type: SamplingType,
    *,
    label_names: Sequence[str] | None = None,
) -> dict[int, int]:
    """Return the final count wanted for each class present in ``labels``.

    The rules are imbalanced-learn's ``check_sampling_strategy`` for over- and under-samplers:

    * ``float`` (binary only, in ``(0, 1]``): over-sampling makes the minority
      ``int(n_majority * ratio)``; under-sampling makes the majority ``int(n_minority / ratio)``.
    * ``"minority"`` (over only), ``"majority"`` (under only), ``"not minority"``, ``"not majority"``,
      ``"all"``; ``"auto"`` is ``"not majority"`` for over- and ``"not minority"`` for under-sampling.
      Over-sampling brings the targeted classes to the majority count, under-sampling to the
      minority count.
    * ``dict``: class (id or label name) -> wanted count; over-sampling may not ask for fewer than
      the class has, under-sampling not for more.
    * callable: called with the label array, returns such a dict.

    Classes that are not targeted keep their count. Classes absent from ``labels`` are left out.
    """
    y = np.asarray(labels, dtype=np.int64)
    if sampling_type not in ("over-sampling", "under-sampling"):
        raise ValueError(f"sampling_type must be 'over-sampling' or 'under-sampling', got {sampling_type!r}")
    classes, counts_arr = np.unique(y, return_counts=True)
    if classes.size <= 1:
        raise ValueError(
            f"resampling needs at least 2 classes in the data; found {classes.size} ({[int(c) for c in classes]})"
        )
    counts = {int(c): int(n) for c, n in zip(classes, counts_arr)}
    n_max, n_min = int(counts_arr.max()), int(counts_arr.min())
    majority = int(classes[int(np.argmax(counts_arr))])  # first of ties, as in imbalanced-learn
    minority = int(classes[int(np.argmin(counts_arr))])
    over = sampling_type == "over-sampling"
    targets = dict(counts)

    if isinstance(sampling_strategy, bool):
        raise ValueError(
            f"sampling_strategy must be a float, a string, a dict or a callable, got {sampling_strategy!r}"
        )
    if isinstance(sampling_strategy, numbers.Real):
        ratio = float(sampling_strategy)
        if not 0.0 < ratio <= 1.0:
            raise ValueError(f"a float sampling_strategy must be in (0, 1], got {sampling_strategy!r}")
        if classes.size != 2:
            raise ValueError(
                f"a float sampling_strategy ({ratio}) is only defined for binary data; this data has "
                f"{classes.size} classes. Use a dict for multi-class targets."
            )
        if over:
            for c, n in counts.items():
                if c != majority:
                    new = int(n_max * ratio - n)
                    if new <= 0:
                        raise ValueError(
                            f"sampling_strategy={ratio} would remove minority examples (it asks for "
                            f"{int(n_max * ratio)} of class {c}, which has {n}); increase the ratio"
                        )
                    targets[c] = n + new
        else:
            for c, n in counts.items():
                if c != minority:
                    keep = int(n_min / ratio)
                    if keep > n:
                        raise ValueError(
                            f"sampling_strategy={ratio} would add examples to class {c} (it asks for {keep}, "
                            f"the class has {n}); increase the ratio"
                        )
                    targets[c] = keep
        return targets

    if isinstance(sampling_strategy, str):
        name = sampling_strategy
        if name not in _NAMED:
            import difflib

            close = difflib.get_close_matches(name, _NAMED, n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise ValueError(
                f"unknown sampling_strategy {name!r}; expected one of {list(_NAMED)}, a float, "
                f"a dict or a callable.{hint}"
            )
        if name == "auto":
            name = "not majority" if over else "not minority"
        if over and name == "majority":
            raise ValueError("sampling_strategy='majority' cannot be used with an over-sampler")
        if not over and name == "minority":
            raise ValueError("sampling_strategy='minority' cannot be used with an under-sampler")
        chosen = {
            "minority": [minority],
            "majority": [majority],
            "not minority": [c for c in counts if c != minority],
            "not majority": [c for c in counts if c != majority],
            "all": list(counts),
        }[name]
        for c in chosen:
            targets[c] = n_max if over else n_min
        return targets

    if callable(sampling_strategy) and not isinstance(sampling_strategy, Mapping):
        result = sampling_strategy(y)
        if not isinstance(result, Mapping):
            raise ValueError(f"a callable sampling_strategy must return a dict, got {type(result).__name__}")
        sampling_strategy = result

    if isinstance(sampling_strategy, Mapping):
        for key, wanted in sampling_strategy.items():
            c = _class_key(key, label_names)
            if c not in counts:
                raise ValueError(f"sampling_strategy names class {key!r}, which is not present in the data")
            if not isinstance(wanted, (numbers.Integral, np.integer)) or isinstance(wanted, bool):
                raise ValueError(f"sampling_strategy[{key!r}] must be an integer count, got {wanted!r}")
            wanted = int(wanted)
            if wanted < 0:
                raise ValueError(f"sampling_strategy[{key!r}] is negative ({wanted}); counts must be >= 0")
            if over and wanted < counts[c]:
                raise ValueError(
                    f"sampling_strategy[{key!r}]={wanted} is below the {counts[c]} examples the class has; "
                    "an over-sampler cannot remove examples"
                )
            if not over and wanted > counts[c]:
                raise ValueError(
                    f"sampling_strategy[{key!r}]={wanted} is above the {counts[c]} examples the class has; "
                    "an under-sampler cannot add examples"
                )
            targets[c] = wanted
        return targets

    raise ValueError(f"sampling_strategy must be a float, a string, a dict or a callable, got {sampling_strategy!r}")


def _train_split(dataset: Any, allow_eval_split: bool, split: str = "train") -> datasets.Dataset:
    if isinstance(dataset, datasets.DatasetDict):
        if split not in dataset:
            raise KeyError(f"no {split!r} split to resample; splits are {sorted(dataset)}")
        return dataset[split]
    return dataset


def _random_state(random_state: int | np.random.Generator | None) -> np.random.Generator:
    if isinstance(random_state, np.random.Generator):
        return random_state
    if random_state is None:
        return np.random.default_rng()
    if isinstance(random_state, (numbers.Integral, np.integer)) and not isinstance(random_state, bool):
        return np.random.default_rng(int(random_state))
    raise ValueError(f"random_state must be an int, a numpy Generator or None, got {random_state!r}")


class _RandomSampler:
    """Shared fit/resample plumbing: validation, target counts, index selection, DatasetDict handling."""

    _sampling_type: SamplingType

    def __init__(
        self,
        sampling_strategy: SamplingStrategy = "auto",
        *,
        random_state: int | None = None,
        label_column: str = "label",
    ) -> None:
        self.sampling_strategy = sampling_strategy
        self.random_state = random_state
        self.label_column = label_column

    def _select_indices(self, y: np.ndarray, targets: dict[int, int], rng: np.random.Generator) -> np.ndarray:
        raise NotImplementedError

    def fit_resample(self, dataset: datasets.Dataset | datasets.DatasetDict) -> Any:
        """Resample ``dataset`` (or the train split of a ``DatasetDict``, other splits untouched)."""
        if isinstance(dataset, datasets.DatasetDict):
            out = datasets.DatasetDict(dict(dataset))
            out["train"] = self.fit_resample(_train_split(dataset, False))
            return out
        names = get_class_label(dataset, self.label_column).names
        y = label_array(dataset, self.label_column)
        targets = resolve_sampling_strategy(y, self.sampling_strategy, self._sampling_type, label_names=names)
        rng = _random_state(self.random_state)
        indices = self._select_indices(y, targets, rng)
        self.target_counts_ = targets
        self.sample_indices_ = indices
        return dataset.select(indices)


class RandomOverSampler(_RandomSampler):
    """Duplicate randomly chosen examples of the targeted classes (imbalanced-learn semantics).

    The result holds every original row, in order, followed by the drawn duplicates.
    ``sample_indices_`` gives the source row of each output row.
    """

    _sampling_type = "over-sampling"

    def _select_indices(self, y: np.ndarray, targets: dict[int, int], rng: np.random.Generator) -> np.ndarray:
        parts = [np.arange(y.size, dtype=np.int64)]
        for c in sorted(targets):
            need = targets[c] - int((y == c).sum())
            if need > 0:
                members = np.flatnonzero(y == c)
                parts.append(members[rng.integers(0, members.size, size=need)])
        return np.concatenate(parts)


class RandomUnderSampler(_RandomSampler):
    """Keep a random subset of each targeted class (imbalanced-learn semantics).

    Kept rows stay in their original order. With ``replacement=True`` rows are drawn with
    replacement, as in imbalanced-learn.
    """

    _sampling_type = "under-sampling"

    def __init__(
        self,
        sampling_strategy: SamplingStrategy = "auto",
        *,
        random_state: int | None = None,
        replacement: bool = False,
        label_column: str = "label",
    ) -> None:
        super().__init__(sampling_strategy, random_state=random_state, label_column=label_column)
        self.replacement = replacement

    def _select_indices(self, y: np.ndarray, targets: dict[int, int], rng: np.random.Generator) -> np.ndarray:
        keep = np.ones(y.size, dtype=bool)
        extra: list[np.ndarray] = []
        for c in sorted(targets):
            members = np.flatnonzero(y == c)
            if targets[c] >= members.size and not self.replacement:
                continue
            keep[members] = False
            chosen = rng.choice(members, size=targets[c], replace=self.replacement)
            if self.replacement:
                extra.append(chosen)
            else:
                keep[chosen] = True
        kept = np.flatnonzero(keep)
        if extra:
            kept = np.sort(np.concatenate([kept, *extra]), kind="stable")
        return kept.astype(np.int64)
