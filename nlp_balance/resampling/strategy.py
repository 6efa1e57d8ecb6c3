"""imbalanced-learn's ``sampling_strategy`` rules: from a strategy and the labels to per-class target counts.

:func:`resolve_sampling_strategy` is the one place that turns a ``sampling_strategy`` (float, named
strategy, dict or callable) into per-class target counts; the random samplers, the
:class:`~nlp_balance.resampling.Balancer`, :class:`~nlp_balance.resampling.EmbeddingSMOTE` and the
EasyEnsemble estimator all use it, so every sampler in the package reads the parameter the same way
imbalanced-learn's ``check_sampling_strategy`` does. The named strategies are declared once, in
:data:`NAMED_STRATEGIES`. Ties between equally large classes go to the smaller label id, as
``np.unique`` orders them in imbalanced-learn.
"""

from __future__ import annotations

import difflib
import numbers
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Literal

import numpy as np

__all__ = [
    "NAMED_STRATEGIES",
    "SAMPLING_TYPES",
    "NamedStrategy",
    "SamplingStrategy",
    "SamplingType",
    "resolve_sampling_strategy",
]

SamplingStrategy = float | str | Mapping[Any, int] | Callable[[np.ndarray], Mapping[Any, int]]
SamplingType = Literal["over-sampling", "under-sampling"]
#: The sampling types, in imbalanced-learn's spelling.
SAMPLING_TYPES: tuple[SamplingType, ...] = ("over-sampling", "under-sampling")

#: The sets of classes a named strategy can target.
ClassSet = Literal["minority", "majority", "not minority", "not majority", "all"]


@dataclass(frozen=True)
class NamedStrategy:
    """The classes one named ``sampling_strategy`` targets for over- and for under-sampling.

    ``None`` means the name is refused for that sampling type. Targeted classes go to the majority
    count when over-sampling and to the minority count when under-sampling.
    """

    over: ClassSet | None
    under: ClassSet | None

    def targets(self, sampling_type: SamplingType) -> ClassSet | None:
        """The class set targeted under ``sampling_type``, or ``None`` when the name is refused there."""
        return self.over if sampling_type == "over-sampling" else self.under


#: Every named strategy: which sampling type allows it and which classes it targets there.
NAMED_STRATEGIES: Mapping[str, NamedStrategy] = MappingProxyType(
    {
        "minority":     NamedStrategy(over="minority",     under=None),
        "majority":     NamedStrategy(over=None,           under="majority"),
        "not minority": NamedStrategy(over="not minority", under="not minority"),
        "not majority": NamedStrategy(over="not majority", under="not majority"),
        "all":          NamedStrategy(over="all",          under="all"),
        "auto":         NamedStrategy(over="not majority", under="not minority"),
    }
)


@dataclass(frozen=True)
class _Classes:
    """The class counts of a label array, with the names to use for them in error messages."""

    counts: dict[int, int]  # class id -> count, in ascending id order
    majority: int  # first of ties, as in imbalanced-learn
    minority: int
    label_names: Sequence[str] | None

    @classmethod
    def of(cls, y: np.ndarray, label_names: Sequence[str] | None) -> _Classes:
        """Count the classes of ``y``; fewer than two is an error naming the classes found."""
        ids, counts = np.unique(y, return_counts=True)
        by_class = {int(c): int(n) for c, n in zip(ids, counts)}
        if ids.size <= 1:
            raise ValueError(
                f"resampling needs at least 2 classes in the data; found {ids.size} "
                f"(class counts: {_describe(by_class, label_names)})"
            )
        return cls(
            counts=by_class,
            majority=int(ids[np.argmax(counts)]),
            minority=int(ids[np.argmin(counts)]),
            label_names=label_names,
        )

    @property
    def n_max(self) -> int:
        """The majority class's count."""
        return self.counts[self.majority]

    @property
    def n_min(self) -> int:
        """The minority class's count."""
        return self.counts[self.minority]

    def name(self, c: int) -> str:
        """Class ``c`` as a user knows it: its label name when known, else its id."""
        return _class_name(c, self.label_names)

    def describe(self) -> str:
        """Every class with its count, e.g. ``{'ham': 40, 'spam': 5}``."""
        return _describe(self.counts, self.label_names)

    def select(self, class_set: ClassSet) -> list[int]:
        """The classes in ``class_set``."""
        if class_set == "minority":
            return [self.minority]
        if class_set == "majority":
            return [self.majority]
        if class_set == "not minority":
            return [c for c in self.counts if c != self.minority]
        if class_set == "not majority":
            return [c for c in self.counts if c != self.majority]
        return list(self.counts)


def _class_name(c: int, label_names: Sequence[str] | None) -> str:
    """Class ``c`` by its quoted label name when the names are known, else by its id."""
    if label_names is not None and 0 <= c < len(label_names):
        return repr(label_names[c])
    return str(c)


def _describe(counts: Mapping[int, int], label_names: Sequence[str] | None) -> str:
    """Class counts as a dict literal keyed by label name when the names are known."""
    return "{" + ", ".join(f"{_class_name(c, label_names)}: {n}" for c, n in counts.items()) + "}"


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
    * a name from :data:`NAMED_STRATEGIES` (``"auto"``, ``"minority"``, ``"majority"``,
      ``"not minority"``, ``"not majority"``, ``"all"``): over-sampling brings the targeted classes
      to the majority count, under-sampling to the minority count.
    * ``dict``: class (id or label name) -> wanted count; over-sampling may not ask for fewer than
      the class has, under-sampling not for more.
    * callable: called with the label array, returns such a dict.

    Classes that are not targeted keep their count. Classes absent from ``labels`` are left out.
    A bad strategy is one ``ValueError`` naming the value and the classes (by label name when
    ``label_names`` is given).
    """
    y = np.asarray(labels, dtype=np.int64)
    if sampling_type not in SAMPLING_TYPES:
        raise ValueError(f"sampling_type must be 'over-sampling' or 'under-sampling', got {sampling_type!r}")
    classes = _Classes.of(y, label_names)
    if isinstance(sampling_strategy, bool):
        raise _not_a_strategy(sampling_strategy)
    if isinstance(sampling_strategy, numbers.Real):
        return _from_ratio(sampling_strategy, classes, sampling_type)
    if isinstance(sampling_strategy, str):
        return _from_name(sampling_strategy, classes, sampling_type)
    if callable(sampling_strategy) and not isinstance(sampling_strategy, Mapping):
        sampling_strategy = _call(sampling_strategy, y)
    if isinstance(sampling_strategy, Mapping):
        return _from_mapping(sampling_strategy, classes, sampling_type)
    raise _not_a_strategy(sampling_strategy)


def _not_a_strategy(value: Any) -> ValueError:
    return ValueError(f"sampling_strategy must be a float, a string, a dict or a callable, got {value!r}")


def _from_ratio(value: numbers.Real, classes: _Classes, sampling_type: SamplingType) -> dict[int, int]:
    """A float strategy: the minority/majority ratio wanted after resampling (binary data only)."""
    ratio = float(value)
    if not 0.0 < ratio <= 1.0:
        raise ValueError(f"a float sampling_strategy must be in (0, 1], got {value!r}")
    if len(classes.counts) != 2:
        raise ValueError(
            f"a float sampling_strategy ({ratio}) is only defined for binary data; this data has "
            f"{len(classes.counts)} classes (class counts: {classes.describe()}). Use a dict for multi-class targets."
        )
    targets = dict(classes.counts)
    for c, n in classes.counts.items():
        if sampling_type == "over-sampling" and c != classes.majority:
            new = int(classes.n_max * ratio - n)
            if new <= 0:
                raise ValueError(
                    f"sampling_strategy={ratio} would remove minority examples (it asks for "
                    f"{int(classes.n_max * ratio)} of class {classes.name(c)}, which has {n}); increase the ratio"
                )
            targets[c] = n + new
        elif sampling_type == "under-sampling" and c != classes.minority:
            keep = int(classes.n_min / ratio)
            if keep > n:
                raise ValueError(
                    f"sampling_strategy={ratio} would add examples to class {classes.name(c)} (it asks for "
                    f"{keep}, the class has {n}); increase the ratio"
                )
            targets[c] = keep
    return targets


def _from_name(name: str, classes: _Classes, sampling_type: SamplingType) -> dict[int, int]:
    """A named strategy from :data:`NAMED_STRATEGIES`."""
    if name not in NAMED_STRATEGIES:
        close = difflib.get_close_matches(name, list(NAMED_STRATEGIES), n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ValueError(
            f"unknown sampling_strategy {name!r}; expected one of {list(NAMED_STRATEGIES)}, a float, "
            f"a dict or a callable.{hint}"
        )
    class_set = NAMED_STRATEGIES[name].targets(sampling_type)
    if class_set is None:
        sampler = "an over-sampler" if sampling_type == "over-sampling" else "an under-sampler"
        allowed = [n for n, rule in NAMED_STRATEGIES.items() if rule.targets(sampling_type) is not None]
        raise ValueError(f"sampling_strategy={name!r} cannot be used with {sampler}; use one of {allowed}")
    count = classes.n_max if sampling_type == "over-sampling" else classes.n_min
    targets = dict(classes.counts)
    targets.update(dict.fromkeys(classes.select(class_set), count))
    return targets


def _call(strategy: Callable[[np.ndarray], Any], y: np.ndarray) -> Mapping[Any, Any]:
    """A callable strategy: its result on the label array, which must be a dict."""
    result = strategy(y)
    if not isinstance(result, Mapping):
        raise ValueError(f"a callable sampling_strategy must return a dict, got {type(result).__name__}")
    return result


def _from_mapping(wanted: Mapping[Any, Any], classes: _Classes, sampling_type: SamplingType) -> dict[int, int]:
    """A dict strategy: class (id or label name) -> the count wanted for it."""
    targets = dict(classes.counts)
    for key, count in wanted.items():
        c = _class_id(key, classes)
        targets[c] = _checked_count(key, count, classes.counts[c], sampling_type)
    return targets


def _class_id(key: Any, classes: _Classes) -> int:
    """The class id a dict key names (a label id, or a label name when the names are known)."""
    names = classes.label_names
    if isinstance(key, (numbers.Integral, np.integer)) and not isinstance(key, bool):
        c = int(key)
    elif isinstance(key, str) and names is not None and key in names:
        c = list(names).index(key)
    else:
        known = f"known classes: {list(names)}" if names is not None else "without label names, give class ids"
        raise ValueError(f"sampling_strategy names class {key!r}, which is not a known class ({known})")
    if c not in classes.counts:
        raise ValueError(
            f"sampling_strategy names class {key!r}, which is not present in the data "
            f"(class counts: {classes.describe()})"
        )
    return c


def _checked_count(key: Any, wanted: Any, have: int, sampling_type: SamplingType) -> int:
    """``wanted`` as an int, refused when it is not a count the sampling type can reach from ``have``."""
    if not isinstance(wanted, (numbers.Integral, np.integer)) or isinstance(wanted, bool):
        raise ValueError(f"sampling_strategy[{key!r}] must be an integer count, got {wanted!r}")
    wanted = int(wanted)
    if wanted < 0:
        raise ValueError(f"sampling_strategy[{key!r}] is negative ({wanted}); counts must be >= 0")
    if sampling_type == "over-sampling" and wanted < have:
        raise ValueError(
            f"sampling_strategy[{key!r}]={wanted} is below the {have} examples the class has; "
            "an over-sampler cannot remove examples"
        )
    if sampling_type == "under-sampling" and wanted > have:
        raise ValueError(
            f"sampling_strategy[{key!r}]={wanted} is above the {have} examples the class has; "
            "an under-sampler cannot add examples"
        )
    return wanted
