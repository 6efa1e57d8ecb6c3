"""How imbalanced is it? Class counts, shares and the imbalance ratio per split, as a table or a plot."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import datasets
import numpy as np

from nlp_balance.data.errors import DataValidationError
from nlp_balance.data.labels import get_class_label, label_array

__all__ = [
    "ClassDistribution",
    "as_split_mapping",
    "class_distribution",
    "format_distribution",
    "format_ratio",
    "imbalance_ratio",
    "require_classes",
]


@dataclass(frozen=True)
class ClassDistribution:
    """Counts per class of one split, in ``ClassLabel`` order, with derived shares and ratio."""

    split: str
    label_names: tuple[str, ...]
    counts: tuple[int, ...]

    @property
    def total(self) -> int:
        """Rows in the split."""
        return int(sum(self.counts))

    @property
    def shares(self) -> tuple[float, ...]:
        """Each class's fraction of the rows (all 0.0 for an empty split)."""
        total = self.total
        return tuple(c / total if total else 0.0 for c in self.counts)

    @property
    def imbalance_ratio(self) -> float:
        """Largest class count over smallest (see :func:`imbalance_ratio`)."""
        return imbalance_ratio(self.counts)

    @property
    def minority(self) -> str:
        """Name of the smallest class (the first one, on a tie)."""
        return self.label_names[int(np.argmin(self.counts))]

    @property
    def majority(self) -> str:
        """Name of the largest class (the first one, on a tie)."""
        return self.label_names[int(np.argmax(self.counts))]

    def as_dict(self) -> dict[str, int]:
        """Class name -> count, in class order."""
        return dict(zip(self.label_names, self.counts))

    def to_json(self) -> dict[str, Any]:
        """The counts, shares and ratio as JSON-ready values (an infinite ratio as ``None``)."""
        ratio = self.imbalance_ratio
        return {
            "split": self.split,
            "rows": self.total,
            "counts": self.as_dict(),
            "shares": {n: round(s, 6) for n, s in zip(self.label_names, self.shares)},
            "imbalance_ratio": None if not np.isfinite(ratio) else round(ratio, 4),
            "majority": self.majority,
            "minority": self.minority,
        }


def class_distribution(
    dataset: datasets.Dataset | datasets.DatasetDict,
    label_column: str = "label",
) -> ClassDistribution | dict[str, ClassDistribution]:
    """Count the classes of a ``Dataset`` (one result) or of every split of a ``DatasetDict``."""
    if isinstance(dataset, datasets.DatasetDict):
        return {name: _distribution(ds, name, label_column) for name, ds in dataset.items()}
    return _distribution(dataset, str(dataset.split) if dataset.split else "dataset", label_column)


def _distribution(ds: datasets.Dataset, split: str, label_column: str) -> ClassDistribution:
    names = get_class_label(ds, label_column).names
    y = label_array(ds, label_column)
    counts = np.bincount(y, minlength=len(names)) if y.size else np.zeros(len(names), dtype=np.int64)
    return ClassDistribution(split=split, label_names=tuple(names), counts=tuple(int(c) for c in counts))


def require_classes(
    dataset: datasets.Dataset | datasets.DatasetDict,
    label_column: str = "label",
    *,
    split: str = "train",
    minimum: int = 2,
) -> ClassDistribution:
    """Refuse a split in which fewer than ``minimum`` classes have an example, and return its counts.

    A classifier trained on one class learns nothing and scores perfectly on data of that class, so
    this is checked before training. The error names the split and each class present with its count.
    """
    if isinstance(dataset, datasets.DatasetDict):
        if split not in dataset:
            raise DataValidationError(f"split {split!r} not found; the dataset has splits {list(dataset)}")
        dataset = dataset[split]
    dist = _distribution(dataset, split, label_column)
    present = [(name, count) for name, count in zip(dist.label_names, dist.counts) if count]
    if len(present) < minimum:
        listed = ", ".join(f"{name!r} ({count} row(s))" for name, count in present) or "none"
        raise DataValidationError(
            f"{split}: {len(present)} class(es) have examples ({listed}) out of {len(dist.label_names)} "
            f"{list(dist.label_names)}; training needs at least {minimum} classes with examples"
        )
    return dist


def imbalance_ratio(counts: Sequence[int]) -> float:
    """Largest class count over smallest: ``inf`` when a class has no example, ``nan`` when there is no data.

    The one definition the package uses (inspection, reports, dataset cards).
    """
    counts = [int(c) for c in counts if c is not None]
    if not counts or sum(counts) == 0:
        return float("nan")
    smallest = min(counts)
    return float("inf") if smallest == 0 else max(counts) / smallest


def format_ratio(ratio: float) -> str:
    """``15.20``; ``inf`` when a class has no example; ``n/a`` when there is no data."""
    if math.isnan(ratio):
        return "n/a"
    return "inf" if math.isinf(ratio) else f"{ratio:.2f}"


def as_split_mapping(dists: ClassDistribution | Mapping[str, ClassDistribution]) -> dict[str, ClassDistribution]:
    """One distribution or several, as ``{split: distribution}``."""
    return {dists.split: dists} if isinstance(dists, ClassDistribution) else dict(dists)


def format_distribution(dists: ClassDistribution | Mapping[str, ClassDistribution]) -> str:
    """A plain-text table: one row per class, count and share per split, and the ratio per split."""
    dists = as_split_mapping(dists)
    splits = list(dists)
    names = list(next(iter(dists.values())).label_names)
    header = ["class"] + [f"{s} n" for s in splits] + [f"{s} %" for s in splits]
    rows = []
    # Classes from largest to smallest by the first split, so the minority is at the bottom.
    first = dists[splits[0]]
    order = sorted(range(len(names)), key=lambda i: -first.counts[i])
    for i in order:
        row = [names[i]]
        row += [f"{dists[s].counts[i]:,}" for s in splits]
        row += [f"{100 * dists[s].shares[i]:.1f}" for s in splits]
        rows.append(row)
    rows.append(["total"] + [f"{dists[s].total:,}" for s in splits] + ["100.0"] * len(splits))
    ratio_row = ["imbalance ratio"] + [format_ratio(dists[s].imbalance_ratio) for s in splits] + [""] * len(splits)
    rows.append(ratio_row)
    widths = [max(len(str(r[j])) for r in [header, *rows]) for j in range(len(header))]
    lines = ["  ".join(h.ljust(w) if j == 0 else h.rjust(w) for j, (h, w) in enumerate(zip(header, widths)))]
    lines.append("  ".join("-" * w for w in widths))
    for r in rows:
        lines.append(
            "  ".join(str(v).ljust(w) if j == 0 else str(v).rjust(w) for j, (v, w) in enumerate(zip(r, widths)))
        )
    return "\n".join(lines)
