"""How imbalanced is it? Class counts, shares and the imbalance ratio per split, as a table or a plot."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import datasets
import numpy as np

from .data import get_class_label
from .sampling import label_array

__all__ = ["ClassDistribution", "class_distribution", "format_distribution", "plot_class_distribution"]


@dataclass(frozen=True)
class ClassDistribution:
    """Counts per class of one split, in ``ClassLabel`` order, with derived shares and ratio."""

    split: str
    label_names: tuple[str, ...]
    counts: tuple[int, ...]

    @property
    def total(self) -> int:
        return int(sum(self.counts))

    @property
    def shares(self) -> tuple[float, ...]:
        total = self.total
        return tuple(c / total if total else 0.0 for c in self.counts)

    @property
    def imbalance_ratio(self) -> float:
        """Largest class count over smallest non-empty class count (``inf`` if a class is empty)."""
        if not self.counts or self.total == 0:
            return float("nan")
        smallest = min(self.counts)
        return float("inf") if smallest == 0 else max(self.counts) / smallest

    @property
    def minority(self) -> str:
        return self.label_names[int(np.argmin(self.counts))]

    @property
    def majority(self) -> str:
        return self.label_names[int(np.argmax(self.counts))]

    def as_dict(self) -> dict[str, int]:
        return dict(zip(self.label_names, self.counts))

    def to_json(self) -> dict[str, Any]:
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


def _as_mapping(dists: ClassDistribution | Mapping[str, ClassDistribution]) -> dict[str, ClassDistribution]:
    return {dists.split: dists} if isinstance(dists, ClassDistribution) else dict(dists)


def format_distribution(dists: ClassDistribution | Mapping[str, ClassDistribution]) -> str:
    """A plain-text table: one row per class, count and share per split, and the ratio per split."""
    dists = _as_mapping(dists)
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
    ratio_row = ["imbalance ratio"] + [_fmt_ratio(dists[s].imbalance_ratio) for s in splits] + [""] * len(splits)
    rows.append(ratio_row)
    widths = [max(len(str(r[j])) for r in [header, *rows]) for j in range(len(header))]
    lines = ["  ".join(h.ljust(w) if j == 0 else h.rjust(w) for j, (h, w) in enumerate(zip(header, widths)))]
    lines.append("  ".join("-" * w for w in widths))
    for r in rows:
        lines.append(
            "  ".join(str(v).ljust(w) if j == 0 else str(v).rjust(w) for j, (v, w) in enumerate(zip(r, widths)))
        )
    return "\n".join(lines)


def _fmt_ratio(ratio: float) -> str:
    if np.isnan(ratio):
        return "n/a"
    if np.isinf(ratio):
        return "inf"
    return f"{ratio:.2f}"


def plot_class_distribution(
    dists: ClassDistribution | Mapping[str, ClassDistribution],
    path: str | Path,
    *,
    title: str | None = None,
    log_scale: bool | None = None,
) -> Path:
    """Draw grouped bars of class counts per split (log scale when the ratio exceeds 20) to ``path``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    dists = _as_mapping(dists)
    splits = list(dists)
    names = list(next(iter(dists.values())).label_names)
    first = dists[splits[0]]
    order = sorted(range(len(names)), key=lambda i: -first.counts[i])
    x = np.arange(len(names))
    width = 0.8 / len(splits)
    fig, ax = plt.subplots(figsize=(max(5.0, 1.0 + 0.9 * len(names)), 3.8), dpi=110)
    for k, split in enumerate(splits):
        values = [dists[split].counts[i] for i in order]
        bars = ax.bar(x + (k - (len(splits) - 1) / 2) * width, values, width, label=split)
        ax.bar_label(bars, labels=[f"{v:,}" for v in values], fontsize=7, padding=1)
    ratio = max((d.imbalance_ratio for d in dists.values() if np.isfinite(d.imbalance_ratio)), default=1.0)
    if log_scale if log_scale is not None else ratio > 20:
        ax.set_yscale("log")
    ax.set_xticks(
        x, [names[i] for i in order], rotation=30 if len(names) > 5 else 0, ha="right" if len(names) > 5 else "center"
    )
    ax.set_ylabel("examples")
    ratios = ", ".join(f"{s}: {_fmt_ratio(d.imbalance_ratio)}" for s, d in dists.items())
    ax.set_title(title or f"Class distribution (imbalance ratio {ratios})", fontsize=10)
    if len(splits) > 1:
        ax.legend(fontsize=8)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path
