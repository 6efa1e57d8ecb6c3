"""Run reports and run comparisons: plots, ``report.md`` and a self-contained ``report.html``.

A *run folder* is what the training pipeline writes (``run_info.json``, ``distribution.json``,
``metrics.json``, ``confusion_matrix.json``, ``log_history.json``, ``predictions.jsonl`` and,
optionally, a nested ``baseline/`` run folder). This module only reads those files: it trains
nothing. :func:`render_report` draws the plots and writes the two report files,
:func:`compare_runs` puts several runs side by side, and :func:`headline` returns the few numbers
worth printing. Every table leads with macro-F1, balanced accuracy and the smallest class's F1, so
accuracy (which a majority-class predictor wins) never appears alone.
"""

from __future__ import annotations

import base64
import html
import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from nlp_balance.data.distribution import format_ratio, imbalance_ratio
from nlp_balance.evaluation.metrics import sanitize_label_names

__all__ = [
    "PLOT_FILES",
    "CompareResult",
    "RunData",
    "compare_runs",
    "headline",
    "load_run",
    "render_report",
]

#: Plot files that :func:`render_report` writes under ``run_dir/plots`` (when the data for them exists).
PLOT_FILES: tuple[str, ...] = (
    "class_distribution.png",
    "per_class_metrics.png",
    "confusion_matrix.png",
    "training_curves.png",
)

_LOG_SCALE_RATIO = 20.0
_MAX_ERROR_EXAMPLES = 5
_MAX_EXAMPLE_CHARS = 200


# --------------------------------------------------------------------------------------------------
# Reading a run folder
# --------------------------------------------------------------------------------------------------


@dataclass
class RunData:
    """The parsed contents of one run folder; optional files that are absent are ``None`` / empty."""

    path: Path
    info: dict[str, Any]
    metrics: dict[str, dict[str, Any]]
    distribution: dict[str, Any] | None = None
    confusion: np.ndarray | None = None
    log_history: list[dict[str, Any]] = field(default_factory=list)

    @property
    def name(self) -> str:
        return str(self.info.get("name") or self.path.name)

    @property
    def kind(self) -> str:
        return str(self.info.get("kind") or "unknown")

    @property
    def label_names(self) -> list[str]:
        return [str(n) for n in self.info["label_names"]]

    @property
    def label_keys(self) -> list[str]:
        """Metric-key fragments of the labels (``f1_<key>``), as :func:`sanitize_label_names` makes them."""
        return sanitize_label_names(self.label_names)

    @property
    def test(self) -> dict[str, Any]:
        return self.metrics.get("test", {})

    def class_metric(self, metric: str, label: str, split: str = "test") -> float:
        """``metric`` (``f1``, ``precision``, ``recall``, ``support``) of class ``label`` on ``split``."""
        key = self.label_keys[self.label_names.index(label)]
        return _num(self.metrics.get(split, {}).get(f"{metric}_{key}"))

    def train_counts(self, when: str = "before") -> dict[str, int] | None:
        """Train-split class counts ``before`` or ``after`` balancing, or ``None`` if not recorded."""
        try:
            counts = self.distribution[when]["train"]["counts"]  # type: ignore[index]
        except (TypeError, KeyError):
            return None
        return {str(k): int(v) for k, v in counts.items()}

    def rebalanced_counts(self) -> dict[str, int] | None:
        """Train counts after balancing, or ``None`` when none were recorded or they equal the counts before."""
        after = self.train_counts("after")
        return None if after is None or after == self.train_counts("before") else after

    def split_counts(self, split: str) -> dict[str, int] | None:
        """Class counts of ``split`` before balancing (``train``, ``validation``, ``test``), if recorded."""
        try:
            counts = self.distribution["before"][split]["counts"]  # type: ignore[index]
        except (TypeError, KeyError):
            return None
        return {str(k): int(v) for k, v in counts.items()}

    def smallest_class(self) -> tuple[str, str]:
        """``(label, basis)``: the class with the fewest train examples before balancing.

        Falls back to the smallest test support when ``distribution.json`` is missing; ``basis`` says
        which was used. Ties go to the first class in label order.
        """
        counts = self.train_counts("before")
        if counts is not None and all(n in counts for n in self.label_names):
            values = [counts[n] for n in self.label_names]
            label = self.label_names[int(np.argmin(values))]
            return label, f"{counts[label]:,} train examples before balancing"
        support = [self.class_metric("support", n) for n in self.label_names]
        if all(math.isnan(s) for s in support):
            return self.label_names[0], "no class counts recorded"
        label = self.label_names[int(np.nanargmin(support))]
        return label, f"{int(self.class_metric('support', label)):,} test examples (no train counts recorded)"


def _read_json(path: Path, *, required: bool) -> Any:
    if not path.exists():
        if required:
            raise FileNotFoundError(f"run folder {str(path.parent)!r} has no {path.name}")
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise ValueError(f"{str(path)!r} is not valid JSON: {err}") from err


def load_run(run_dir: str | Path) -> RunData:
    """Read a run folder; ``run_info.json`` and ``metrics.json`` are required, the rest optional."""
    path = Path(run_dir)
    if not path.is_dir():
        raise FileNotFoundError(f"run folder {str(path)!r} does not exist")
    info = _read_json(path / "run_info.json", required=True)
    if not isinstance(info, dict) or not isinstance(info.get("label_names"), list) or not info["label_names"]:
        raise ValueError(f"{str(path / 'run_info.json')!r} must be an object with a non-empty 'label_names' list")
    metrics = _read_json(path / "metrics.json", required=True)
    if not isinstance(metrics, dict) or not isinstance(metrics.get("test"), dict):
        raise ValueError(f"{str(path / 'metrics.json')!r} must be an object with a 'test' section")
    run = RunData(path=path, info=info, metrics={k: _unprefixed(v) for k, v in metrics.items() if isinstance(v, dict)})
    run.distribution = _read_json(path / "distribution.json", required=False)
    history = _read_json(path / "log_history.json", required=False)
    run.log_history = [h for h in history if isinstance(h, dict)] if isinstance(history, list) else []
    run.confusion = _load_confusion(path, run.label_names)
    return run


def _unprefixed(section: dict[str, Any]) -> dict[str, Any]:
    """Accept ``Trainer.evaluate``/``predict`` output as well: drop an ``eval_``/``test_`` key prefix."""
    if "macro_f1" in section:
        return section
    for prefix in ("test_", "eval_", "validation_"):
        if f"{prefix}macro_f1" in section:
            return {k[len(prefix):] if k.startswith(prefix) else k: v for k, v in section.items()}
    return section


def _load_confusion(path: Path, label_names: list[str]) -> np.ndarray | None:
    """The test confusion matrix in ``label_names`` order; rebuilt from predictions.jsonl if needed."""
    data = _read_json(path / "confusion_matrix.json", required=False)
    k = len(label_names)
    if data is not None:
        matrix = np.asarray(data.get("matrix"), dtype=np.int64)
        labels = [str(n) for n in data.get("labels", label_names)]
        if matrix.shape != (k, k) or sorted(labels) != sorted(label_names):
            raise ValueError(
                f"{str(path / 'confusion_matrix.json')!r}: labels {labels} / shape {matrix.shape} do not match "
                f"the run's label_names {label_names}"
            )
        order = [labels.index(n) for n in label_names]
        return matrix[np.ix_(order, order)]
    preds_path = path / "predictions.jsonl"
    if not preds_path.exists():
        return None
    matrix = np.zeros((k, k), dtype=np.int64)
    for row in _read_predictions(preds_path):
        true, pred = _label_index(row.get("label"), label_names), _label_index(row.get("prediction"), label_names)
        if true is not None and pred is not None:
            matrix[true, pred] += 1
    return matrix


def _read_predictions(path: Path) -> list[dict[str, Any]]:
    rows = []
    with path.open(encoding="utf-8") as handle:
        for line_no, line in enumerate(handle, 1):
            if line.strip():
                try:
                    rows.append(json.loads(line))
                except json.JSONDecodeError as err:
                    raise ValueError(f"{str(path)!r} line {line_no} is not valid JSON: {err}") from err
    return rows


def _label_index(value: Any, label_names: list[str]) -> int | None:
    """Class index of a label given as an index or as a name (predictions may store either)."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, np.integer)):
        return int(value) if 0 <= int(value) < len(label_names) else None
    text = str(value)
    return label_names.index(text) if text in label_names else None


def _num(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return float("nan")


def _fmt(value: Any, digits: int = 4) -> str:
    x = _num(value)
    return "n/a" if math.isnan(x) else f"{x:.{digits}f}"


def _fmt_delta(value: float) -> str:
    return "n/a" if math.isnan(value) else f"{value:+.4f}"


def _fmt_count(value: Any) -> str:
    return "n/a" if value is None else f"{int(value):,}"


def _fmt_seconds(value: Any) -> str:
    x = _num(value)
    return "n/a" if math.isnan(x) else f"{x:,.1f} s"


# --------------------------------------------------------------------------------------------------
# Headline
# --------------------------------------------------------------------------------------------------


def _headline(run: RunData) -> dict[str, Any]:
    label, _ = run.smallest_class()
    return {
        "macro_f1": _num(run.test.get("macro_f1")),
        "balanced_accuracy": _num(run.test.get("balanced_accuracy")),
        "smallest_class": label,
        "smallest_class_f1": run.class_metric("f1", label),
        "accuracy": _num(run.test.get("accuracy")),
    }


def headline(run_dir: str | Path) -> dict[str, Any]:
    """Test-split headline of a run: macro_f1, balanced_accuracy, smallest_class, smallest_class_f1, accuracy.

    The smallest class is the one with the fewest train examples before balancing (from
    ``distribution.json``; the smallest test support when that file is missing).
    """
    return _headline(load_run(run_dir))


# --------------------------------------------------------------------------------------------------
# A tiny document model rendered to both Markdown and HTML, so the two reports always agree
# --------------------------------------------------------------------------------------------------


@dataclass
class _Table:
    header: list[str]
    rows: list[list[str]]
    bold_rows: frozenset[int] = frozenset()
    bold_cols: frozenset[int] = frozenset()
    align_left: int = 1  # the first n columns are text, the rest numbers


@dataclass
class _Image:
    file: Path  # absolute path of the PNG
    rel: str  # path relative to the report
    alt: str


# A block is ("h2", text) | ("p", text) | ("ul", [items]) | _Table | _Image.
_Block = Any


def _md_inline(text: str) -> str:
    """Make ``text`` safe inside Markdown (and its table cells): no raw HTML, no column breaks."""
    text = str(text).replace("\r", " ").replace("\n", " ")
    text = text.replace("\\", "\\\\").replace("|", "\\|").replace("`", "\\`").replace("*", "\\*")
    # "_" inside a word (hate_speech) never starts emphasis in CommonMark; escape it only at word edges.
    text = re.sub(r"(?<![0-9A-Za-z])_|_(?![0-9A-Za-z])", r"\\_", text)
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _render_markdown(title: str, blocks: list[_Block]) -> str:
    out = [f"# {_md_inline(title)}", ""]
    for block in blocks:
        if isinstance(block, _Table):
            out.append(_md_table(block))
        elif isinstance(block, _Image):
            out.append(f"![{_md_inline(block.alt)}]({block.rel})")
        elif block[0] == "h2":
            out.append(f"## {_md_inline(block[1])}")
        elif block[0] == "p":
            out.append(_md_inline(block[1]))
        elif block[0] == "ul":
            out.extend(f"- {_md_inline(item)}" for item in block[1])
        out.append("")
    return "\n".join(out).rstrip() + "\n"


def _md_table(table: _Table) -> str:
    def cell(text: str, bold: bool) -> str:
        text = _md_inline(text)
        return f"**{text}**" if bold and text else text

    lines = ["| " + " | ".join(cell(h, j in table.bold_cols) for j, h in enumerate(table.header)) + " |"]
    lines.append("|" + "|".join("---" if j < table.align_left else "---:" for j in range(len(table.header))) + "|")
    for i, row in enumerate(table.rows):
        cells = [cell(v, i in table.bold_rows or j in table.bold_cols) for j, v in enumerate(row)]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;max-width:1000px;margin:2em auto;
padding:0 1em;color:#1f2328;line-height:1.45}
h1{font-size:1.6em;border-bottom:1px solid #d0d7de;padding-bottom:.3em}
h2{font-size:1.25em;margin-top:1.6em;border-bottom:1px solid #eaeef2;padding-bottom:.2em}
table{border-collapse:collapse;margin:.6em 0;font-size:.92em}
th,td{border:1px solid #d0d7de;padding:.25em .6em}
th{background:#f6f8fa}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
tr.hl td{background:#fff8c5}
img{max-width:100%;height:auto;border:1px solid #eaeef2;margin:.4em 0}
""".strip()


def _render_html(title: str, blocks: list[_Block]) -> str:
    esc = html.escape
    out = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{esc(title)}</title>",
        f"<style>\n{_CSS}\n</style>",
        "</head>",
        "<body>",
        f"<h1>{esc(title)}</h1>",
    ]
    for block in blocks:
        if isinstance(block, _Table):
            out.append(_html_table(block))
        elif isinstance(block, _Image):
            data = base64.b64encode(block.file.read_bytes()).decode("ascii")
            out.append(f'<figure><img src="data:image/png;base64,{data}" alt="{esc(block.alt)}"></figure>')
        elif block[0] == "h2":
            out.append(f"<h2>{esc(block[1])}</h2>")
        elif block[0] == "p":
            out.append(f"<p>{esc(block[1])}</p>")
        elif block[0] == "ul":
            out.append("<ul>" + "".join(f"<li>{esc(item)}</li>" for item in block[1]) + "</ul>")
    out += ["</body>", "</html>", ""]
    return "\n".join(out)


def _html_table(table: _Table) -> str:
    esc = html.escape

    def cell(tag: str, text: str, j: int, bold: bool) -> str:
        cls = "" if j < table.align_left else ' class="num"'
        body = f"<strong>{esc(text)}</strong>" if bold and text else esc(text)
        return f"<{tag}{cls}>{body}</{tag}>"

    head = "".join(cell("th", h, j, j in table.bold_cols) for j, h in enumerate(table.header))
    rows = []
    for i, row in enumerate(table.rows):
        cls = ' class="hl"' if i in table.bold_rows else ""
        cells = "".join(cell("td", v, j, i in table.bold_rows or j in table.bold_cols) for j, v in enumerate(row))
        rows.append(f"<tr{cls}>{cells}</tr>")
    return f"<table>\n<thead><tr>{head}</tr></thead>\n<tbody>\n" + "\n".join(rows) + "\n</tbody>\n</table>"


# --------------------------------------------------------------------------------------------------
# Plots (matplotlib, Agg backend)
# --------------------------------------------------------------------------------------------------


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig: Any, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    # No "Software" entry: the PNG bytes then depend only on the data and the matplotlib drawing.
    fig.savefig(path, format="png", metadata={"Software": None})
    _pyplot().close(fig)
    return path


def _rotate(ax: Any, labels: Sequence[str], x: np.ndarray) -> None:
    long = len(labels) > 5 or max((len(s) for s in labels), default=0) > 12
    ax.set_xticks(x, list(labels), rotation=30 if long else 0, ha="right" if long else "center", fontsize=8)


def _tick_labels(run: RunData) -> list[str]:
    """Class names for an axis, the smallest class marked so a reader finds it at a glance."""
    smallest, _ = run.smallest_class()
    return [f"{n} (smallest)" if n == smallest else n for n in run.label_names]


def _use_log_scale(*count_lists: Sequence[int]) -> bool:
    """Log axis when any of the distributions has an imbalance ratio over 20 (or an empty class)."""
    ratios = [imbalance_ratio(list(c)) for c in count_lists if c]
    return any(r > _LOG_SCALE_RATIO for r in ratios if not math.isnan(r))


def _plot_distribution(run: RunData, path: Path) -> Path | None:
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


def _plot_per_class(run: RunData, baseline: RunData | None, path: Path) -> Path:
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
            ax.bar_label(bars, labels=[_fmt(v, 2) for v in values], fontsize=7, padding=1)
        ax.set_ylim(0, 1.12)
        _rotate(ax, ticks, x)
        ax.set_title("F1 per class: baseline vs this run", fontsize=10)
        ax.legend(fontsize=7, loc="upper center", ncol=2)
    return _save(fig, path)


def _plot_confusion(run: RunData, path: Path) -> Path | None:
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
        value = _num(entry.get(key))
        if key in entry and not math.isnan(value):
            steps.append(_num(entry.get("step", i)))
            values.append(value)
    return steps, values


def _split_history(history: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """``(during training, after it)``: the Trainer appends a ``train_runtime`` summary when training ends;
    evaluations logged after it (of the reloaded best checkpoint) are not points of the curve."""
    for i, entry in enumerate(history):
        if "train_runtime" in entry:
            return history[:i], history[i + 1:]
    return history, []


def _plot_training(run: RunData, path: Path) -> Path | None:
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


# --------------------------------------------------------------------------------------------------
# render_report
# --------------------------------------------------------------------------------------------------


def _check_same_labels(runs: Sequence[RunData]) -> None:
    first = runs[0]
    for other in runs[1:]:
        if set(other.label_names) != set(first.label_names):
            raise ValueError(
                f"runs have different label sets: {first.name!r} ({str(first.path)!r}) has "
                f"{first.label_names}, {other.name!r} ({str(other.path)!r}) has {other.label_names}"
            )


def _json_compact(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)


def _headline_blocks(run: RunData, baseline: RunData | None) -> list[_Block]:
    head = _headline(run)
    label, basis = run.smallest_class()
    rows = [
        ["macro-F1", _fmt(head["macro_f1"])],
        ["balanced accuracy", _fmt(head["balanced_accuracy"])],
        [f"F1 of the smallest class ({label})", _fmt(head["smallest_class_f1"])],
        ["accuracy", _fmt(head["accuracy"])],
    ]
    header = ["test metric", "this run"]
    if baseline is not None:
        base = _headline(baseline)
        base["smallest_class_f1"] = baseline.class_metric("f1", label)
        keys = ("macro_f1", "balanced_accuracy", "smallest_class_f1", "accuracy")
        header += ["baseline", "change"]
        for row, key in zip(rows, keys):
            row += [_fmt(base[key]), _fmt_delta(head[key] - base[key])]
    val = _num(run.metrics.get("validation", {}).get("macro_f1"))
    blocks: list[_Block] = [("h2", "Headline"), _Table(header, rows)]
    text = (
        f"Smallest class: {label} ({basis}). Accuracy is listed last on purpose: a model that always "
        "predicts the majority class scores well on it."
    )
    if not math.isnan(val):
        text += f" Validation macro-F1 of the best checkpoint: {val:.4f}."
    blocks.append(("p", text))
    return blocks


def _balancing_blocks(run: RunData) -> list[_Block]:
    info = run.info
    augmenters = info.get("augmenters") or []
    items = []
    for aug in augmenters:
        if isinstance(aug, Mapping):
            config = aug.get("config")
            version = f" v{aug['version']}" if aug.get("version") is not None else ""
            items.append(f"{aug.get('name', '?')}{version}" + (f" {_json_compact(config)}" if config else ""))
        else:
            items.append(str(aug))
    blocks: list[_Block] = [("h2", "Balancing")]
    strategy = info.get("sampling_strategy")
    blocks.append(("ul", [
        *(f"augmenter {i}: {item}" for i, item in enumerate(items, 1)),
        *(["augmenters: none"] if not items else []),
        "sampling strategy: " + ("none" if strategy is None else strategy if isinstance(strategy, str)
                                 else _json_compact(strategy)),
        f"sampler: {info.get('sampler') or 'none'}",
    ]))
    before = run.train_counts("before")
    if before is None:
        blocks.append(("p", "No distribution.json in this run folder: class counts were not recorded."))
        return blocks
    after = run.rebalanced_counts()
    test = run.split_counts("test")
    names = run.label_names
    header = ["class", "train before", "share before"]
    made = _balance_sources(run) if after is not None else {}
    if after is not None:
        header += ["train after", "share after", "change"]
    if made:
        header += ["synthetic", "duplicated"]
    if test is not None:
        header += ["test"]
    total_before = sum(before.get(n, 0) for n in names)
    total_after = sum(after.get(n, 0) for n in names) if after is not None else 0
    smallest, _ = run.smallest_class()
    rows, bold = [], set()
    for i, n in enumerate(names):
        b = before.get(n, 0)
        row = [n, f"{b:,}", _share(b, total_before)]
        if after is not None:
            a = after.get(n, 0)
            row += [f"{a:,}", _share(a, total_after), f"{a - b:+,}"]
        if made:
            row += [_fmt_count(made.get(n, {}).get("synthetic")), _fmt_count(made.get(n, {}).get("duplicated"))]
        if test is not None:
            row += [_fmt_count(test.get(n))]
        rows.append(row)
        if n == smallest:
            bold.add(i)
    total = ["total", f"{total_before:,}", "100.0%"]
    ratio = ["imbalance ratio", format_ratio(imbalance_ratio([before.get(n, 0) for n in names])), ""]
    if after is not None:
        total += [f"{total_after:,}", "100.0%", f"{total_after - total_before:+,}"]
        ratio += [format_ratio(imbalance_ratio([after.get(n, 0) for n in names])), "", ""]
    if made:
        total += [_fmt_count(sum(_int0(made.get(n, {}).get(k)) for n in names)) for k in ("synthetic", "duplicated")]
        ratio += ["", ""]
    if test is not None:
        total += [f"{sum(test.get(n, 0) for n in names):,}"]
        ratio += [format_ratio(imbalance_ratio([test.get(n, 0) for n in names]))]
    rows += [total, ratio]
    blocks.append(_Table(header, rows, bold_rows=frozenset(bold)))
    if after is None:
        blocks.append(("p", "The train split was not rebalanced (no 'after' counts, or the same as before)."))
    return blocks


def _balance_sources(run: RunData) -> dict[str, dict[str, Any]]:
    """Per class, how many added rows were new (augmented) texts and how many were copies (BalanceReport)."""
    report = run.info.get("balance_report")
    classes = report.get("classes") if isinstance(report, Mapping) else None
    if not isinstance(classes, list):
        return {}
    return {str(c["label"]): c for c in classes if isinstance(c, Mapping) and "label" in c}


def _int0(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def _share(n: int, total: int) -> str:
    return f"{100.0 * n / total:.1f}%" if total else "n/a"


def _setup_blocks(run: RunData) -> list[_Block]:
    info = run.info
    rows = [
        ["run", run.name],
        ["kind", run.kind],
        ["data source", str(info.get("source", "n/a"))],
        ["model", str(info.get("model", "n/a"))],
        ["loss", str(info.get("loss", "n/a"))],
        ["class weighting", str(info.get("class_weighting") or "none")],
        ["sampler", str(info.get("sampler") or "none")],
    ]
    weights = info.get("class_weights")
    if isinstance(weights, list) and len(weights) == len(run.label_names):
        rows.append(["class weights", ", ".join(f"{n} {_fmt(w, 3)}" for n, w in zip(run.label_names, weights))])
    if info.get("posthoc"):
        rows.append(["post-hoc adjustment", _json_compact(info["posthoc"])])
    rows += [
        ["seed", str(info.get("seed", "n/a"))],
        ["train time", _fmt_seconds(info.get("train_time_s"))],
        ["wall time", _fmt_seconds(info.get("wall_time_s"))],
    ]
    return [("h2", "Training setup"), _Table(["setting", "value"], rows, align_left=2)]


def _per_class_blocks(run: RunData) -> list[_Block]:
    names = run.label_names
    before = run.train_counts("before") or {}
    smallest, _ = run.smallest_class()
    rows, bold = [], set()
    for i, n in enumerate(names):
        support = run.class_metric("support", n)
        rows.append([
            n,
            _fmt_count(before.get(n)),
            "n/a" if math.isnan(support) else f"{int(support):,}",
            _fmt(run.class_metric("precision", n)),
            _fmt(run.class_metric("recall", n)),
            _fmt(run.class_metric("f1", n)),
        ])
        if n == smallest:
            bold.add(i)
    header = ["class", "train n (before)", "test support", "precision", "recall", "F1"]
    test = run.test
    rows.append(["macro average", "", "", _fmt(test.get("macro_precision")), _fmt(test.get("macro_recall")),
                 _fmt(test.get("macro_f1"))])
    return [
        ("h2", "Per-class results (test)"),
        _Table(header, rows, bold_rows=frozenset(bold)),
        ("p", f"The smallest class ({smallest}) is highlighted. Weighted F1 {_fmt(test.get('weighted_f1'))}, "
              f"geometric mean of the class recalls {_fmt(test.get('g_mean'))}."),
    ]


def _baseline_blocks(run: RunData, baseline: RunData) -> list[_Block]:
    metrics = [
        ("macro-F1", "macro_f1"),
        ("balanced accuracy", "balanced_accuracy"),
        ("G-mean", "g_mean"),
        ("weighted F1", "weighted_f1"),
        ("accuracy", "accuracy"),
    ]
    rows = []
    for label, key in metrics:
        r, b = _num(run.test.get(key)), _num(baseline.test.get(key))
        rows.append([label, _fmt(b), _fmt(r), _fmt_delta(r - b)])
    smallest, _ = run.smallest_class()
    bold = set()
    for n in run.label_names:
        r, b = run.class_metric("f1", n), baseline.class_metric("f1", n)
        if n == smallest:
            bold.add(len(rows))
        rows.append([f"F1 {n}", _fmt(b), _fmt(r), _fmt_delta(r - b)])
    header = ["test metric", f"baseline ({baseline.name})", f"this run ({run.name})", "change"]
    return [
        ("h2", "Baseline vs this run"),
        ("p", f"Baseline: {baseline.name} (loss {baseline.info.get('loss', 'n/a')}, "
              f"{baseline.path!s}). Change = this run minus baseline."),
        _Table(header, rows, bold_rows=frozenset(bold)),
    ]


def _error_examples(run: RunData) -> list[_Block]:
    """A few misclassified test examples of the smallest class, so a reader sees what goes wrong."""
    path = run.path / "predictions.jsonl"
    if not path.exists():
        return []
    names = run.label_names
    smallest, _ = run.smallest_class()
    target = names.index(smallest)
    rows = []
    for row in _read_predictions(path):
        true, pred = _label_index(row.get("label"), names), _label_index(row.get("prediction"), names)
        if true == target and pred is not None and pred != target:
            text = " ".join(str(row.get("text", "")).split())
            if len(text) > _MAX_EXAMPLE_CHARS:
                text = text[: _MAX_EXAMPLE_CHARS - 1] + "…"
            probs = row.get("probabilities")
            conf = _num(probs[pred]) if isinstance(probs, list) and pred < len(probs) else float("nan")
            rows.append([text, names[pred], _fmt(conf, 2)])
            if len(rows) == _MAX_ERROR_EXAMPLES:
                break
    if not rows:
        return []
    return [
        ("h2", f"Misclassified test examples of the smallest class ({smallest})"),
        _Table(["text", "predicted", "probability"], rows, align_left=2),
    ]


def _versions_blocks(run: RunData) -> list[_Block]:
    versions = run.info.get("versions") or {}
    rows = [[str(k), str(v)] for k, v in sorted(versions.items())] if isinstance(versions, Mapping) else []
    blocks: list[_Block] = [("h2", "Reproducibility"), ("p", f"Seed: {run.info.get('seed', 'n/a')}.")]
    if rows:
        blocks.append(_Table(["package", "version"], rows, align_left=2))
    else:
        blocks.append(("p", "No package versions recorded."))
    return blocks


def render_report(run_dir: str | Path, *, baseline_dir: str | Path | None = None) -> Path:
    """Draw the plots into ``run_dir/plots`` and write ``report.md`` and ``report.html``; returns the HTML path.

    ``baseline_dir`` defaults to ``run_dir/baseline`` when that folder exists; with a baseline the
    report adds a baseline-vs-run table with deltas and F1 bars side by side. The HTML embeds the
    PNGs as base64 data URIs and needs no other file; the Markdown links them by relative path.
    """
    run = load_run(run_dir)
    if baseline_dir is None:
        default = run.path / "baseline"
        baseline = load_run(default) if (default / "run_info.json").exists() else None
    else:
        baseline = load_run(baseline_dir)
    if baseline is not None:
        _check_same_labels([run, baseline])

    plots_dir = run.path / "plots"
    drawn: dict[str, Path | None] = {
        "class_distribution.png": _plot_distribution(run, plots_dir / "class_distribution.png"),
        "per_class_metrics.png": _plot_per_class(run, baseline, plots_dir / "per_class_metrics.png"),
        "confusion_matrix.png": _plot_confusion(run, plots_dir / "confusion_matrix.png"),
        "training_curves.png": _plot_training(run, plots_dir / "training_curves.png"),
    }
    for name, made in drawn.items():  # a stale plot from an earlier render must not be mistaken for this one
        if made is None and (plots_dir / name).exists():
            (plots_dir / name).unlink()

    def image(name: str, alt: str) -> list[_Block]:
        path = drawn[name]
        if path is None:
            return [("p", f"({alt}: not drawn, the run folder lacks the data for it.)")]
        return [_Image(path, f"plots/{name}", alt)]

    blocks: list[_Block] = []
    blocks += _headline_blocks(run, baseline)
    blocks += _balancing_blocks(run)
    blocks += image("class_distribution.png", "Train class distribution before and after balancing")
    blocks += _setup_blocks(run)
    blocks += image("training_curves.png", "Training and validation curves")
    blocks += _per_class_blocks(run)
    blocks += image("per_class_metrics.png", "Per-class precision, recall and F1")
    blocks += image("confusion_matrix.png", "Row-normalised confusion matrix")
    if baseline is not None:
        blocks += _baseline_blocks(run, baseline)
    blocks += _error_examples(run)
    blocks += _versions_blocks(run)

    title = f"nlp_balance report: {run.name}"
    (run.path / "report.md").write_text(_render_markdown(title, blocks), encoding="utf-8")
    out = run.path / "report.html"
    out.write_text(_render_html(title, blocks), encoding="utf-8")
    return out


# --------------------------------------------------------------------------------------------------
# compare_runs
# --------------------------------------------------------------------------------------------------


@dataclass
class CompareResult:
    """Several runs side by side on the test split; ``table`` holds one dict per run.

    Each row has ``name, kind, path, macro_f1, balanced_accuracy, accuracy, class_f1`` (a dict in
    ``label_names`` order) and ``train_time_s``. ``smallest_class`` is highlighted in the outputs.
    """

    table: list[dict[str, Any]]
    label_names: list[str]
    smallest_class: str
    smallest_class_basis: str

    def _cells(self) -> tuple[list[str], list[list[str]], int]:
        header = ["run", "kind", "macro-F1", "balanced acc", "accuracy"]
        header += [f"F1 {n}" for n in self.label_names] + ["train time"]
        rows = []
        for row in self.table:
            cells = [row["name"], row["kind"], _fmt(row["macro_f1"]), _fmt(row["balanced_accuracy"]),
                     _fmt(row["accuracy"])]
            cells += [_fmt(row["class_f1"][n]) for n in self.label_names]
            cells.append(_fmt_seconds(row["train_time_s"]))
            rows.append(cells)
        return header, rows, 5 + self.label_names.index(self.smallest_class)

    def note(self) -> str:
        return f"smallest class: {self.smallest_class} ({self.smallest_class_basis})"

    def to_markdown(self) -> str:
        """A Markdown table; the smallest class's column is in bold and named in a note below."""
        header, rows, col = self._cells()
        table = _md_table(_Table(header, rows, bold_cols=frozenset({col}), align_left=2))
        return table + "\n\n" + _md_inline(f"Bold column = {self.note()}.") + "\n"

    def to_text(self) -> str:
        """An aligned plain-text table; the smallest class's column is marked with ``*``."""
        header, rows, col = self._cells()
        header = [h + "*" if j == col else h for j, h in enumerate(header)]
        rows = [[v + "*" if j == col else v for j, v in enumerate(r)] for r in rows]
        widths = [max(len(r[j]) for r in [header, *rows]) for j in range(len(header))]

        def line(cells: list[str]) -> str:
            return "  ".join(c.ljust(w) if j < 2 else c.rjust(w) for j, (c, w) in enumerate(zip(cells, widths)))

        out = [line(header), "  ".join("-" * w for w in widths), *(line(r) for r in rows)]
        return "\n".join(out) + f"\n* {self.note()}\n"

    def __str__(self) -> str:
        return self.to_text()


def _expand(run_dirs: Sequence[str | Path], include_baselines: bool) -> list[RunData]:
    runs: list[RunData] = []
    seen: set[Path] = set()
    for run_dir in run_dirs:
        paths = [Path(run_dir)]
        if include_baselines and (Path(run_dir) / "baseline" / "run_info.json").exists():
            paths.append(Path(run_dir) / "baseline")
        for path in paths:
            key = path.resolve()
            if key not in seen:
                seen.add(key)
                runs.append(load_run(path))
    return runs


def _plot_compare(result: CompareResult, path: Path) -> Path:
    plt = _pyplot()
    groups = [*result.label_names, "macro-F1"]
    x = np.arange(len(groups))
    n = len(result.table)
    width = 0.8 / n
    fig, ax = plt.subplots(figsize=(max(6.0, 1.5 + 0.35 * n * len(groups)), 4.0), dpi=100)
    for k, row in enumerate(result.table):
        values = [row["class_f1"][c] for c in result.label_names] + [row["macro_f1"]]
        ax.bar(x + (k - (n - 1) / 2) * width, np.nan_to_num(values), width, label=f"{row['name']} ({row['kind']})")
    labels = [f"{g} (smallest)" if g == result.smallest_class else g for g in groups]
    _rotate(ax, labels, x)
    ax.axvline(len(result.label_names) - 0.5, color="grey", linewidth=0.8, linestyle="--")
    ax.set_ylim(0, 1.1)
    ax.set_ylabel("F1 (test)")
    ax.set_title("Per-class F1 and macro-F1 per run", fontsize=10)
    ax.legend(fontsize=7, ncol=min(n, 3), loc="upper center")
    return _save(fig, path)


def compare_runs(
    run_dirs: Sequence[str | Path],
    *,
    out: str | Path | None = None,
    include_baselines: bool = True,
) -> CompareResult:
    """Put runs side by side (test split); with ``out`` also write ``out/compare.md`` and ``out/compare.png``.

    Columns follow the first run's label order; every run must have the same label set. With
    ``include_baselines`` a run folder with a ``baseline/`` subfolder contributes both runs (each
    folder only once). The smallest class is the first run's class with the fewest train examples
    before balancing.
    """
    if isinstance(run_dirs, (str, Path)):
        raise TypeError("compare_runs takes a sequence of run folders, not a single path")
    if not run_dirs:
        raise ValueError("compare_runs needs at least one run folder")
    runs = _expand(run_dirs, include_baselines)
    _check_same_labels(runs)
    names = runs[0].label_names
    basis_run = next((r for r in runs if r.train_counts("before") is not None), runs[0])
    smallest, basis = basis_run.smallest_class()
    table = []
    for run in runs:
        table.append({
            "name": run.name,
            "kind": run.kind,
            "path": str(run.path),
            "macro_f1": _num(run.test.get("macro_f1")),
            "balanced_accuracy": _num(run.test.get("balanced_accuracy")),
            "accuracy": _num(run.test.get("accuracy")),
            "class_f1": {n: run.class_metric("f1", n) for n in names},
            "train_time_s": _num(run.info.get("train_time_s")),
        })
    if basis_run is not runs[0]:
        basis += f", from {basis_run.name}"
    result = CompareResult(table=table, label_names=list(names), smallest_class=smallest,
                           smallest_class_basis=basis)
    if out is not None:
        out_dir = Path(out)
        out_dir.mkdir(parents=True, exist_ok=True)
        _plot_compare(result, out_dir / "compare.png")
        text = "# Run comparison (test split)\n\n" + result.to_markdown() + "\n![Per-class F1 per run](compare.png)\n"
        (out_dir / "compare.md").write_text(text, encoding="utf-8")
    return result


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m nlp_balance.reporting.report render RUN [--baseline DIR]`` or ``... compare RUN... [--out DIR]``."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m nlp_balance.reporting.report", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    render = sub.add_parser("render", help="write plots, report.md and report.html into a run folder")
    render.add_argument("run_dir")
    render.add_argument("--baseline", default=None, help="baseline run folder (default: RUN/baseline if present)")
    compare = sub.add_parser("compare", help="print runs side by side")
    compare.add_argument("run_dirs", nargs="+")
    compare.add_argument("--out", default=None, help="folder for compare.md and compare.png")
    compare.add_argument("--no-baselines", action="store_true", help="do not expand RUN/baseline folders")
    args = parser.parse_args(argv)
    if args.command == "render":
        print(render_report(args.run_dir, baseline_dir=args.baseline))
    else:
        print(compare_runs(args.run_dirs, out=args.out, include_baselines=not args.no_baselines).to_text(), end="")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
