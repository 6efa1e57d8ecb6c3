"""Where class weighting helps: its macro-F1 gain over plain CE against imbalance ratio and training budget.

    python -m benchmarks.quality.boundary      # writes docs/benchmarks/quality_boundary.md and its plot

Issue #17 asks where the line lies between imbalance that costs plain CE macro-F1 and imbalance
that a converged fine-tune absorbs. This page puts every (protocol, dataset) cell that has plain CE
and a class-weighted CE (the hand-written bar, the library's, or both) side by side: the imbalance
ratio of its training split, the budget, and the gain of each weighted CE over CE with its pooled
standard deviation. Nothing is trained here; the page is a function of the committed results
(``results/fast.jsonl``, ``full.jsonl``, ``converged.jsonl``), newest row per seed.
"""

from __future__ import annotations

import argparse
import math
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from .render import DATASET_ORDER, compare, mean_std, pooled_std
from .results_io import read_rows

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
DOC = HERE.parents[1] / "docs" / "benchmarks" / "quality_boundary.md"
PLOT = "quality/boundary.png"
PROTOCOLS = ("fast", "full", "converged")
WEIGHTED = (("ce_weighted_by_hand", "hand-weighted CE"), ("weighted_ce_balanced", "library weighted CE"))


def newest_per_seed(rows: list[dict[str, Any]]) -> dict[tuple[str, str, str], list[dict[str, Any]]]:
    """``(protocol, dataset, method) -> rows``, one per seed: the last written (file order)."""
    latest: dict[tuple[str, str, str, int], dict[str, Any]] = {}
    for r in rows:
        latest[(r["protocol"], r["dataset"], r["method"], int(r["seed"]))] = r
    out: dict[tuple[str, str, str], list[dict[str, Any]]] = defaultdict(list)
    for (protocol, dataset, method, _), r in sorted(latest.items()):
        out[(protocol, dataset, method)].append(r)
    return out


def budget(protocol: str, rows: list[dict[str, Any]]) -> str:
    """The training budget of a cell, in words."""
    r = rows[0]
    if protocol == "fast":
        return f"frozen encoder, linear head, {r.get('epochs', '?')} full-batch steps"
    params = r.get("params") or {}
    if protocol == "full":
        return f"fine-tune {params.get('epochs', '?')} epoch(s), best epoch on validation"
    kept = ", ".join(f"{float(x.get('best_epoch', math.nan)):g}" for x in rows)
    return f"fine-tune up to {params.get('max_epochs', '?')} epochs, best on validation (CE kept {kept})"


def cells(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One record per (protocol, dataset) that has CE and at least one weighted CE."""
    grouped = newest_per_seed(rows)
    out = []
    for protocol in PROTOCOLS:
        for dataset in DATASET_ORDER:
            ce = grouped.get((protocol, dataset, "ce"), [])
            if not ce:
                continue
            counts = np.asarray(ce[0].get("original_train_counts") or ce[0]["train_counts"], dtype=float)
            cell: dict[str, Any] = {
                "protocol": protocol, "dataset": dataset, "ratio": float(counts.max() / counts.min()),
                "budget": budget(protocol, ce), "ce": [r["macro_f1"] for r in ce],
                "ce_small": [r["smallest_class_f1"] for r in ce], "weighted": {}}
            for method, _ in WEIGHTED:
                w = grouped.get((protocol, dataset, method), [])
                if w:
                    cell["weighted"][method] = {"f1": [r["macro_f1"] for r in w],
                                                "small": [r["smallest_class_f1"] for r in w]}
            if cell["weighted"]:
                out.append(cell)
    return out


def _fmt(values: list[float]) -> str:
    m, s = mean_std(values)
    return f"{m:.3f} ± {s:.3f} (n={len(values)})"


def _gain(method: list[float], base: list[float]) -> str:
    delta, marked = compare(method, base)
    sd = pooled_std(method, base)
    verdict = ("beats CE" if delta > 0 else "below CE") if marked else "within noise"
    return f"{delta:+.3f} (pooled std {sd:.3f}; {verdict})"


def plot(records: list[dict[str, Any]], path: Path) -> None:
    """Gain over CE against imbalance ratio (log scale), one marker per protocol, error bar 2 pooled std."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7.5, 4.2))
    markers = {"fast": ("o", "frozen encoder (fast)"), "full": ("s", "fine-tune, 1-2 epochs (full)"),
               "converged": ("D", "fine-tune, converged")}
    for protocol, (marker, label) in markers.items():
        pts = [c for c in records if c["protocol"] == protocol and "ce_weighted_by_hand" in c["weighted"]]
        if not pts:
            continue
        x = [c["ratio"] for c in pts]
        w = [c["weighted"]["ce_weighted_by_hand"]["f1"] for c in pts]
        y = [float(np.mean(v) - np.mean(c["ce"])) for v, c in zip(w, pts)]
        err = [2 * pooled_std(v, c["ce"]) for v, c in zip(w, pts)]
        ax.errorbar(x, y, yerr=err, fmt=marker, capsize=3, label=label)
        for xi, yi, c in zip(x, y, pts):
            ax.annotate(c["dataset"], (xi, yi), textcoords="offset points", xytext=(5, 4), fontsize=7)
    ax.axhline(0.0, color="black", linewidth=0.8)
    ax.set_xscale("log")
    ax.set_xlabel("imbalance ratio of the training split (largest / smallest class)")
    ax.set_ylabel("hand-weighted CE - plain CE, test macro-F1")
    ax.set_title("Gain of class weighting over plain CE (error bars: 2 pooled std)", fontsize=10)
    ax.legend(fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=90)
    plt.close(fig)


def render(records: list[dict[str, Any]]) -> str:
    """The page: the table, the plot and how to read them."""
    lines = [
        "# Where class weighting helps: gain over plain CE by imbalance ratio and budget",
        "",
        "*Generated by `python -m benchmarks.quality.boundary` from `benchmarks/quality/results/"
        "{fast,full,converged}.jsonl` (newest row per seed); edit the script, not this file.*",
        "",
        "Each row is one protocol on one dataset: the imbalance ratio of its training split, the budget, "
        "plain CE's test macro-F1 (mean ± std over seeds), and the gain of each class-weighted CE over it "
        "with the pooled std of the two. *beats CE* / *below CE* means a difference larger than twice the "
        "pooled std. Protocols: [quality.md](quality.md) (fast, full) and "
        "[quality_converged.md](quality_converged.md).",
        "",
        "| protocol | dataset | imbalance ratio | budget | plain CE macro-F1 | hand-weighted CE - CE "
        "| library weighted CE - CE | smallest class F1: CE -> hand-weighted |",
        "|---|---|---:|---|---|---|---|---|",
    ]
    for c in records:
        hand = c["weighted"].get("ce_weighted_by_hand")
        lib = c["weighted"].get("weighted_ce_balanced")
        small = (f"{np.mean(c['ce_small']):.3f} -> {np.mean(hand['small']):.3f}" if hand else "-")
        lines.append(
            f"| {c['protocol']} | {c['dataset']} | {c['ratio']:.1f} | {c['budget']} | {_fmt(c['ce'])} | "
            f"{_gain(hand['f1'], c['ce']) if hand else '-'} | {_gain(lib['f1'], c['ce']) if lib else '-'} | {small} |")
    lines += ["", f"![gain over CE against imbalance ratio]({PLOT})", ""]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--results", type=Path, nargs="+", default=[RESULTS / f"{p}.jsonl" for p in PROTOCOLS])
    ap.add_argument("--doc", type=Path, default=DOC)
    ap.add_argument("--findings", type=Path, default=HERE / "doc_boundary.md",
                    help="hand-written reading of the table, appended to the page")
    args = ap.parse_args(argv)
    rows = [r for path in args.results for r in read_rows(path)]
    records = cells(rows)
    plot(records, args.doc.parent / PLOT)
    text = render(records)
    if args.findings.exists():
        text += "\n" + args.findings.read_text()
    args.doc.write_text(text)
    print(f"wrote {args.doc} ({len(records)} cells)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
