"""Render docs/benchmarks/quality.md (tables, plots) from the committed JSONL results.

    python -m benchmarks.quality.render            # reads benchmarks/quality/results/*.jsonl

Nothing is trained here: the document is a pure function of the results files.
"""

from __future__ import annotations

import argparse
import math
import sys
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .methods import METHODS, NOT_RUN
from .results_io import read_rows

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
RESULTS = HERE / "results"
DOC = REPO / "docs" / "benchmarks" / "quality.md"
BASELINE = "ce"
HAND = "ce_weighted_by_hand"
DATASET_ORDER = ("sms_spam", "trec6", "davidson_hate", "trec6_lt10", "trec6_lt100")
METRICS = (("macro_f1", "macro-F1"), ("smallest_class_f1", "smallest-class F1"))


# ------------------------------------------------------------------------------------------- stats
def mean_std(values: Sequence[float]) -> tuple[float, float]:
    """Mean and sample standard deviation (ddof=1; 0.0 for a single value)."""
    arr = np.asarray(values, dtype=np.float64)
    if arr.size == 0:
        return math.nan, math.nan
    return float(arr.mean()), float(arr.std(ddof=1)) if arr.size > 1 else 0.0


def pooled_std(a: Sequence[float], b: Sequence[float]) -> float:
    """Pooled standard deviation of two samples: sqrt(((n_a-1)s_a^2 + (n_b-1)s_b^2) / (n_a+n_b-2)).

    NaN when neither sample has two values (no spread to compare against).
    """
    na, nb = len(a), len(b)
    if na + nb - 2 <= 0:
        return math.nan
    va = float(np.var(a, ddof=1)) if na > 1 else 0.0
    vb = float(np.var(b, ddof=1)) if nb > 1 else 0.0
    return math.sqrt(((na - 1) * va + (nb - 1) * vb) / (na + nb - 2))


def compare(method: Sequence[float], base: Sequence[float]) -> tuple[float, bool]:
    """(mean difference, whether |difference| > 2 pooled std). Undefined spread: never marked."""
    if not len(method) or not len(base):
        return math.nan, False
    delta = float(np.mean(method) - np.mean(base))
    sd = pooled_std(method, base)
    return delta, bool(not math.isnan(sd) and abs(delta) > 2 * sd and len(method) > 1 and len(base) > 1)


def fmt_delta(delta: float, marked: bool) -> str:
    if math.isnan(delta):
        return "–"
    s = f"{delta:+.3f}"
    return f"**{s}**" if marked else s


# ------------------------------------------------------------------------------------------ tables
def group(rows: list[dict[str, Any]]) -> dict[tuple[str, str], dict[str, list[dict[str, Any]]]]:
    """(protocol, dataset) -> method -> rows (the newest row wins for a repeated seed)."""
    out: dict[tuple[str, str], dict[str, dict[int, dict[str, Any]]]] = defaultdict(lambda: defaultdict(dict))
    for r in rows:
        out[(r["protocol"], r["dataset"])][r["method"]][int(r["seed"])] = r
    return {k: {m: [s[i] for i in sorted(s)] for m, s in v.items()} for k, v in out.items()}


def values(rows: list[dict[str, Any]], metric: str) -> list[float]:
    """The metric over rows; rows without it (e.g. no validation score) are left out."""
    if metric == "val_macro_f1":
        # The full protocol's posthoc_la row reuses the CE model and has no score of its own on validation
        # (rows written before run.py cleared the copied CE value carry it; it is not this method's).
        rows = [r for r in rows if not (r.get("protocol") == "full" and r.get("method") == "posthoc_la")]
    return [float(r[metric]) for r in rows if r.get(metric) is not None]


def method_label(method: str, rows: list[dict[str, Any]]) -> str:
    p = rows[0].get("params") or {}
    if p.get("kind") == "combo":
        return f"{method} ({p.get('augment_method')} + {p.get('loss_method')})"
    if p.get("kind") == "posthoc" and p.get("tau") == "val":
        taus = sorted({r.get("tau_used") for r in rows})
        return f"{method} (tau {', '.join(str(t) for t in taus)})"
    return method


def dataset_table(protocol: str, by_method: dict[str, list[dict[str, Any]]]) -> list[str]:
    base = by_method.get(BASELINE, [])
    hand = by_method.get(HAND, [])
    order = method_order(by_method)
    head = ("| method | n | macro-F1 | Δ CE | Δ hand-wCE | smallest-class F1 | Δ CE | Δ hand-wCE "
            "| bal. acc. | val macro-F1 | epoch | train s | time × CE |")
    lines = [head, "|" + "---|" * 13]
    base_s = np.mean([r.get("train_seconds", math.nan) for r in base]) if base else math.nan
    for m in order:
        rs = by_method[m]
        cells = [method_label(m, rs), str(len(rs))]
        for metric, _ in METRICS:
            mu, sd = mean_std(values(rs, metric))
            cells.append(f"{mu:.3f} ± {sd:.3f}")
            for ref in (base, hand):
                cells.append(fmt_delta(*compare(values(rs, metric), values(ref, metric))))
        mu, sd = mean_std(values(rs, "balanced_accuracy"))
        cells.append(f"{mu:.3f} ± {sd:.3f}")
        cells.append(f"{mean_std(values(rs, 'val_macro_f1'))[0]:.3f}")
        cells.append(f"{np.mean([r.get('best_epoch') or math.nan for r in rs]):.1f}")
        train_s = np.mean([r.get("train_seconds", math.nan) for r in rs])
        cells.append(f"{train_s:.1f}")
        cells.append(f"{train_s / base_s:.2f}" if base_s > 0 else "-")
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def method_order(by_method: dict[str, list[dict[str, Any]]]) -> list[str]:
    """The fast protocol's method order, then methods only the full protocol has, in their own order."""
    from .full import FULL_METHODS

    known = [m for m in METHODS if m in by_method]
    extra = [m for m in FULL_METHODS if m in by_method and m not in known]
    return known + extra + sorted(m for m in by_method if m not in known and m not in extra)


def per_class_table(by_method: dict[str, list[dict[str, Any]]], names: list[str], methods: list[str]) -> list[str]:
    lines = ["| method | " + " | ".join(names) + " |", "|" + "---|" * (len(names) + 1)]
    for m in methods:
        if m not in by_method:
            continue
        rs = by_method[m]
        cells = [m] + [f"{np.mean([r['per_class_f1'][c] for r in rs]):.3f}" for c in names]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def best_summary(by_method: dict[str, list[dict[str, Any]]]) -> dict[str, Any] | None:
    """The method with the best mean test macro-F1 (descriptive only) and the validation-chosen one."""
    # Hand-weighted CE is a candidate: when it has the best mean, no library method beat that bar.
    cands = {m: rs for m, rs in by_method.items() if m != BASELINE}
    if not cands or BASELINE not in by_method:
        return None

    def mean_of(m: str, metric: str) -> float:
        return float(np.mean(values(by_method[m], metric)))

    best = max(cands, key=lambda m: mean_of(m, "macro_f1"))
    # A practitioner choosing on validation may keep CE or hand-weighted CE, so they are candidates
    # here; methods without a validation score are not.
    with_val = [m for m in by_method if values(by_method[m], "val_macro_f1")]
    val_best = max(with_val, key=lambda m: mean_of(m, "val_macro_f1")) if with_val else "-"
    out = {"best": best, "val_best": val_best}
    for key in ("best", "val_best"):
        m = out[key]
        if m not in by_method:
            continue
        for metric, _ in METRICS:
            for ref in (BASELINE, HAND):
                if ref in by_method:
                    out[f"{key}_{metric}_vs_{ref}"] = compare(values(by_method[m], metric),
                                                              values(by_method[ref], metric))
    return out


# ------------------------------------------------------------------------------------------- plots
def plot_dataset(protocol: str, dataset: str, by_method: dict[str, list[dict[str, Any]]], folder: Path) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    order = [m for m in METHODS if m in by_method] + sorted(m for m in by_method if m not in METHODS)
    fig, axes = plt.subplots(1, 2, figsize=(12, 0.32 * len(order) + 1.6), sharey=True)
    y = np.arange(len(order))
    for ax, (metric, label) in zip(axes, METRICS):
        stats = [mean_std(values(by_method[m], metric)) for m in order]
        colors = ["#555555" if m in (BASELINE, HAND) else "#3b75af" for m in order]
        ax.barh(y, [s[0] for s in stats], xerr=[s[1] for s in stats], color=colors, capsize=2)
        for ref, style in ((BASELINE, "--"), (HAND, ":")):
            if ref in by_method:
                ax.axvline(np.mean(values(by_method[ref], metric)), color="black", linestyle=style, linewidth=1,
                           label=f"{ref} mean")
        lo = min(s[0] - s[1] for s in stats)
        ax.set_xlim(max(0.0, lo - 0.05), min(1.0, max(s[0] + s[1] for s in stats) + 0.02))
        ax.set_xlabel(f"{label} (mean ± std over seeds)")
        ax.legend(loc="lower right", fontsize=7)
    axes[0].set_yticks(y)
    axes[0].set_yticklabels(order, fontsize=8)
    axes[0].invert_yaxis()
    fig.suptitle(f"{dataset} — {protocol} protocol", fontsize=10)
    fig.tight_layout()
    folder.mkdir(parents=True, exist_ok=True)
    name = f"{protocol}_{dataset}.png"
    fig.savefig(folder / name, dpi=90)
    plt.close(fig)
    return name


# ------------------------------------------------------------------------------------------ document
def sessions_table(rows: list[dict[str, Any]]) -> list[str]:
    by: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        by[(r["protocol"], r.get("session", "?"))].append(r)
    lines = ["| protocol | session (UTC start) | rows | wall time | embedding time (new texts) | 1-min load avg "
             "(min–max) | CPUs |", "|---|---|---|---|---|---|---|"]
    for (proto, sess), rs in sorted(by.items()):
        wall = max(r.get("session_elapsed_s", 0) for r in rs)
        loads = [r.get("loadavg_1m", math.nan) for r in rs]
        emb = max((r.get("session_embed_s", 0) for r in rs), default=0)
        ntexts = max((r.get("session_embedded_texts", 0) for r in rs), default=0)
        lines.append(f"| {proto} | {sess} | {len(rs)} | {wall / 60:.1f} min | {emb / 60:.1f} min ({ntexts}) | "
                     f"{np.mean(loads):.1f} ({np.min(loads):.1f}–{np.max(loads):.1f}) | {rs[0].get('cpu_count')} |")
    return lines


def render(rows: list[dict[str, Any]], doc: Path = DOC, intro: str = "") -> str:
    folder = doc.parent / doc.stem
    groups = group(rows)
    out = [intro.rstrip(), ""]
    for protocol in ("fast", "full"):
        keys = [(protocol, d) for d in DATASET_ORDER if (protocol, d) in groups]
        if not keys:
            out += [f"## Protocol `{protocol}`", "", "No results yet.", ""]
            continue
        out += [f"## Protocol `{protocol}`", ""]
        summary = ["| dataset | baseline CE macro-F1 | best method (test, descriptive) | its macro-F1 | Δ CE | "
                   "Δ hand-wCE | its smallest-class F1 | Δ CE | Δ hand-wCE | val-chosen method | Δ CE (macro-F1) |",
                   "|" + "---|" * 11]
        for key in keys:
            bm = groups[key]
            s = best_summary(bm)
            if s is None:
                continue
            b = s["best"]
            cells = [key[1], "{:.3f} ± {:.3f}".format(*mean_std(values(bm[BASELINE], "macro_f1"))), b]
            for metric, _ in METRICS:
                cells.append("{:.3f} ± {:.3f}".format(*mean_std(values(bm[b], metric))))
                for ref in (BASELINE, HAND):
                    cells.append(fmt_delta(*s.get(f"best_{metric}_vs_{ref}", (math.nan, False))))
            cells.append(s["val_best"])
            cells.append(fmt_delta(*s.get(f"val_best_macro_f1_vs_{BASELINE}", (math.nan, False))))
            summary.append("| " + " | ".join(cells) + " |")
        findings = []
        for key in keys:
            bm = groups[key]
            for metric, label in METRICS:
                for ref, ref_label in ((BASELINE, "plain CE"), (HAND, "hand-weighted CE")):
                    if ref not in bm:
                        continue
                    up = [m for m in bm if m not in (BASELINE, HAND)
                          and compare(values(bm[m], metric), values(bm[ref], metric))[1]
                          and compare(values(bm[m], metric), values(bm[ref], metric))[0] > 0]
                    findings.append(f"- {key[1]}, {label}, above {ref_label} by > 2 pooled std: "
                                    + (", ".join(f"`{m}`" for m in up) if up else "**none**"))
        out += ["### Summary", "", *summary, "", *findings, "",
                "Δ: difference of means from plain CE / from hand-written class-weighted CE in the same protocol; "
                "**bold** = larger than twice the pooled standard deviation over seeds. The 'best method' column "
                "picks the highest mean *test* macro-F1 and is descriptive only; the 'val-chosen' column is what "
                "a practitioner would pick from the validation split.", ""]
        for key in keys:
            bm = groups[key]
            any_row = next(iter(bm.values()))[0]
            names = list(any_row["per_class_f1"])
            counts = any_row.get("original_train_counts")
            out += [f"### {key[1]} ({protocol})", ""]
            if counts:
                out += ["Training counts: " + ", ".join(f"{n} {c}" for n, c in zip(names, counts))
                        + f"; smallest class: `{any_row['smallest_class']}`.", ""]
            out += [*dataset_table(protocol, bm), ""]
            png = plot_dataset(protocol, key[1], bm, folder)
            out += [f"![{key[1]} {protocol}]({folder.name}/{png})", "", "Per-class test F1 (mean over seeds):", ""]
            out += [*per_class_table(bm, names, method_order(bm)), ""]
    out += ["## Not run", ""]
    for m, why in NOT_RUN.items():
        out.append(f"- `{m}`: {why}.")
    out += ["", "## Wall time and machine load", "", *sessions_table(rows), ""]
    vers = sorted({tuple(sorted(r.get("versions", {}).items())) for r in rows})
    if vers:
        out += ["Versions recorded in the rows: " + "; ".join(", ".join(f"{k} {v}" for k, v in v_) for v_ in vers), ""]
    text = "\n".join(out).rstrip() + "\n"
    doc.parent.mkdir(parents=True, exist_ok=True)
    doc.write_text(text, encoding="utf-8")
    return text


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    # fast and full only: decision_rules.jsonl and converged.jsonl have pages of their own
    ap.add_argument("--results", type=Path, nargs="+", default=[RESULTS / "fast.jsonl", RESULTS / "full.jsonl"])
    ap.add_argument("--doc", type=Path, default=DOC)
    args = ap.parse_args(argv)
    rows = [r for p in args.results for r in read_rows(p)]
    intro_path = HERE / "doc_intro.md"
    intro = intro_path.read_text(encoding="utf-8") if intro_path.exists() else "# Quality benchmark\n"
    findings = HERE / "doc_findings.md"  # hand-written reading of the results, kept beside the data
    if findings.exists():
        intro = intro.rstrip() + "\n\n" + findings.read_text(encoding="utf-8")
    render(rows, args.doc, intro)
    print(f"wrote {args.doc} from {len(rows)} rows")
    return 0


if __name__ == "__main__":
    sys.exit(main())
