"""Every plot nlp_balance draws (matplotlib, Agg backend), written as PNG files.

:func:`plot_class_distribution` draws a dataset's class counts per split (``nlp-balance inspect``);
the ``plot_run_*`` functions draw the figures of a run report from a :class:`RunData`, and
:func:`plot_run_comparison` the per-class F1 of several runs. The PNGs carry no ``Software`` entry,
so their bytes depend only on the data and matplotlib's drawing: the same run gives the same files.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from nlp_balance.data.distribution import ClassDistribution, as_split_mapping, format_ratio, imbalance_ratio
from nlp_balance.reporting.formatting import fmt, num
from nlp_balance.reporting.run_folder import RunData
from nlp_balance.utils.atomic import atomic_file

__all__ = [
    "plot_class_distribution",
    "plot_run_comparison",
    "plot_run_confusion",
    "plot_run_distribution",
    "plot_run_per_class",
    "plot_run_training",
]

#: A count axis switches to log scale when a distribution's imbalance ratio exceeds this.
LOG_SCALE_RATIO = 20.0


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig: Any, path: str | Path) -> Path:
    """Write ``fig`` atomically in the format of ``path``'s suffix (PNG when it has none), then close it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    kind = path.suffix.lstrip(".").lower() or "png"
    # No "Software" entry in a PNG: its bytes then depend only on the data and the matplotlib drawing.
    metadata = {"Software": None} if kind == "png" else None
    with atomic_file(path, "wb") as fh:
        fig.savefig(fh, format=kind, metadata=metadata)
    _pyplot().close(fig)
    return path


def _rotate(ax: Any, labels: Sequence[str], x: np.ndarray) -> None:
    long = len(labels) > 5 or max((len(s) for s in labels), default=0) > 12
    ax.set_xticks(x, list(labels), rotation=30 if long else 0, ha="right" if long else "center", fontsize=8)


def _use_log_scale(*count_lists: Sequence[int]) -> bool:
    """Log axis when any of the distributions has an imbalance ratio over 20 (or an empty class)."""
    ratios = [imbalance_ratio(list(c)) for c in count_lists if c]
    return any(r > LOG_SCALE_RATIO for r in ratios if not math.isnan(r))


def plot_class_distribution(
    dists: ClassDistribution | Mapping[str, ClassDistribution],
    path: str | Path,
    *,
    title: str | None = None,
    log_scale: bool | None = None,
) -> Path:
    """Draw grouped bars of class counts per split (log scale when the ratio exceeds 20) to ``path``."""
    plt = _pyplot()
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
    if log_scale if log_scale is not None else ratio > LOG_SCALE_RATIO:
        ax.set_yscale("log")
    ax.set_xticks(
        x, [names[i] for i in order], rotation=30 if len(names) > 5 else 0, ha="right" if len(names) > 5 else "center"
    )
    ax.set_ylabel("examples")
    ratios = ", ".join(f"{s}: {format_ratio(d.imbalance_ratio)}" for s, d in dists.items())
    ax.set_title(title or f"Class distribution (imbalance ratio {ratios})", fontsize=10)
    if len(splits) > 1:
        ax.legend(fontsize=8)
    return _save(fig, path)


def _tick_labels(run: RunData) -> list[str]:
    """Class names for an axis, the smallest class marked so a reader finds it at a glance."""
    smallest, _ = run.smallest_class()
    return [f"{n} (smallest)" if n == smallest else n for n in run.label_names]


def plot_run_distribution(run: RunData, path: str | Path) -> Path | None:
    """Train class counts before (and after) balancing; ``None`` when the run recorded no counts."""
    before = run.train_counts("before")
    if before is None:
        return None
    after = run.rebalanced_counts()
    names = run.label_names
    ticks = _tick_labels(run)
    series = [("before balancing", [before.get(n, 0) for n in names])]
    if after is not None:
        series.append(("after balancing", [after.get(n, 0) for n in names]))
    plt = _pyplot()
    x = np.arange(len(names))
    width = 0.8 / len(series)
    fig, ax = plt.subplots(figsize=(max(5.5, 1.2 + 1.0 * len(names)), 3.8), dpi=100)
    for k, (label, values) in enumerate(series):
        bars = ax.bar(x + (k - (len(series) - 1) / 2) * width, values, width, label=label)
        ax.bar_label(bars, labels=[f"{v:,}" for v in values], fontsize=7, padding=1)
    log = _use_log_scale(*(v for _, v in series))
    if log:
        ax.set_yscale("log")
    _rotate(ax, ticks, x)
    ax.set_ylabel("train examples" + (" (log scale)" if log else ""))
    ratios = ", ".join(f"{label.split()[0]} {format_ratio(imbalance_ratio(v))}" for label, v in series)
    ax.set_title(f"Train class distribution (imbalance ratio: {ratios})", fontsize=10)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    ax.margins(y=0.12)
    return _save(fig, path)


def plot_run_per_class(run: RunData, baseline: RunData | None, path: str | Path) -> Path:
    """Per-class precision, recall and F1 on test; with a baseline, a second panel of F1 side by side."""
    plt = _pyplot()
    names = run.label_names
    ticks = _tick_labels(run)
    x = np.arange(len(names))
    panels = 2 if baseline is not None else 1
    fig, axes = plt.subplots(
        1, panels, figsize=(max(5.5, 1.2 + 1.0 * len(names)) * (1 if panels == 1 else 0.85) * panels, 3.8),
        dpi=100, squeeze=False,
    )
    ax = axes[0, 0]
    width = 0.27
    for k, metric in enumerate(("precision", "recall", "f1")):
        values = [run.class_metric(metric, n) for n in names]
        ax.bar(x + (k - 1) * width, np.nan_to_num(values), width, label=metric if metric != "f1" else "F1")
    ax.set_ylim(0, 1.08)
    _rotate(ax, ticks, x)
    ax.set_title(f"Per-class scores (test): {run.name}", fontsize=10)
    ax.legend(fontsize=8, ncol=3, loc="upper center")
    if baseline is not None:
        ax = axes[0, 1]
        width = 0.38
        for k, (label, source) in enumerate(((f"baseline: {baseline.name}", baseline), (f"run: {run.name}", run))):
            values = [source.class_metric("f1", n) for n in names]
            bars = ax.bar(x + (k - 0.5) * width, np.nan_to_num(values), width, label=label)
            ax.bar_label(bars, labels=[fmt(v, 2) for v in values], fontsize=7, padding=1)
        ax.set_ylim(0, 1.12)
        _rotate(ax, ticks, x)
        ax.set_title("F1 per class: baseline vs this run", fontsize=10)
        ax.legend(fontsize=7, loc="upper center", ncol=2)
    return _save(fig, path)


def plot_run_confusion(run: RunData, path: str | Path) -> Path | None:
    """The row-normalised test confusion matrix with counts; ``None`` when the run has none."""
    if run.confusion is None:
        return None
    plt = _pyplot()
    counts = run.confusion.astype(np.float64)
    totals = counts.sum(axis=1, keepdims=True)
    shares = np.divide(counts, totals, out=np.zeros_like(counts), where=totals > 0)
    names = run.label_names
    k = len(names)
    side = max(4.2, 1.6 + 0.75 * k)
    fig, ax = plt.subplots(figsize=(side + 1.0, side), dpi=100)
    image = ax.imshow(shares, cmap="Blues", vmin=0.0, vmax=1.0)
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04, label="share of the true class")
    font = 8 if k <= 8 else 6
    for i in range(k):
        for j in range(k):
            colour = "white" if shares[i, j] > 0.6 else "black"
            ax.text(j, i, f"{shares[i, j]:.2f}\n({int(counts[i, j]):,})", ha="center", va="center",
                    fontsize=font, color=colour)
    ax.set_xticks(np.arange(k), names, rotation=30 if k > 3 else 0, ha="right" if k > 3 else "center", fontsize=8)
    ax.set_yticks(np.arange(k), names, fontsize=8)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    ax.set_title(f"Confusion matrix (test, row-normalised): {run.name}", fontsize=10)
    return _save(fig, path)


def _curve(history: list[dict[str, Any]], key: str) -> tuple[list[float], list[float]]:
    steps, values = [], []
    for i, entry in enumerate(history):
        value = num(entry.get(key))
        if key in entry and not math.isnan(value):
            steps.append(num(entry.get("step", i)))
            values.append(value)
    return steps, values


def _split_history(history: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """``(during training, after it)``: the Trainer appends a ``train_runtime`` summary when training ends;
    evaluations logged after it (of the reloaded best checkpoint) are not points of the curve."""
    for i, entry in enumerate(history):
        if "train_runtime" in entry:
            return history[:i], history[i + 1:]
    return history, []


def plot_run_training(run: RunData, path: str | Path) -> Path | None:
    """Train/eval loss and validation macro-F1 over steps; ``None`` when nothing was logged."""
    during, after = _split_history(run.log_history)
    train = _curve(during, "loss")
    evals = _curve(during, "eval_loss")
    macro = _curve(during, "eval_macro_f1")
    final = _curve(after, "eval_macro_f1")[1]
    if not (train[0] or evals[0] or macro[0]):
        return None
    plt = _pyplot()
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.6), dpi=100)
    if train[0]:
        left.plot(*train, label="train loss", linewidth=1.2)
    if evals[0]:
        left.plot(*evals, label="eval loss", marker="o", linewidth=1.2)
    left.set_xlabel("step")
    left.set_ylabel("loss")
    left.set_title("Loss", fontsize=10)
    left.grid(alpha=0.3)
    if train[0] or evals[0]:
        left.legend(fontsize=8)
    if macro[0]:
        right.plot(*macro, marker="o", color="tab:green", label="eval macro-F1")
        best = int(np.argmax(macro[1]))
        right.annotate(f"best {macro[1][best]:.3f}", (macro[0][best], macro[1][best]), fontsize=8,
                       textcoords="offset points", xytext=(0, 6), ha="center")
        if final:
            right.axhline(final[-1], color="grey", linestyle="--", linewidth=1,
                          label=f"final evaluation {final[-1]:.3f}")
        right.legend(fontsize=8)
    else:
        right.text(0.5, 0.5, "no eval macro-F1 logged", ha="center", va="center", transform=right.transAxes)
    right.set_ylim(0, 1.1)
    right.set_xlabel("step")
    right.set_ylabel("macro-F1")
    right.set_title("Validation macro-F1", fontsize=10)
    right.grid(alpha=0.3)
    return _save(fig, path)


def plot_run_comparison(
    table: Sequence[Mapping[str, Any]], label_names: Sequence[str], smallest_class: str, path: str | Path
) -> Path:
    """Per-class F1 and macro-F1 of several runs as grouped bars (rows as in ``CompareResult.table``)."""
    plt = _pyplot()
    groups = [*label_names, "macro-F1"]
    x = np.arange(len(groups))
    n = len(table)
    width = 0.8 / n
    fig, ax = plt.subplots(figsize=(max(6.0, 1.5 + 0.35 * n * len(groups)), 4.0), dpi=100)
    for k, row in enumerate(table):
        values = [row["class_f1"][c] for c in label_names] + [row["macro_f1"]]
        ax.bar(x + (k - (n - 1) / 2) * width, np.nan_to_num(values), width, label=f"{row['name']} ({row['kind']})")
    labels = [f"{g} (smallest)" if g == smallest_class else g for g in groups]
    _rotate(ax, labels, x)
    ax.axvline(len(label_names) - 0.5, color="grey", linewidth=0.8, linestyle="--")
    ax.set_ylim(0, 1.1)
    ax.set_ylabel("F1 (test)")
    ax.set_title("Per-class F1 and macro-F1 per run", fontsize=10)
    ax.legend(fontsize=7, ncol=min(n, 3), loc="upper center")
    return _save(fig, path)
