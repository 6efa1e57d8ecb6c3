"""TODO docstring."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np

from nlp_balance.data.distribution import ClassDistribution, as_split_mapping, format_ratio


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

    dists = as_split_mapping(dists)
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
    ratios = ", ".join(f"{s}: {format_ratio(d.imbalance_ratio)}" for s, d in dists.items())
    ax.set_title(title or f"Class distribution (imbalance ratio {ratios})", fontsize=10)
    if len(splits) > 1:
        ax.legend(fontsize=8)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path
