"""The run report: ``report.md`` and a self-contained ``report.html`` with plots, and the headline numbers.

:func:`render_report` reads a run folder (it trains nothing), draws the plots into ``plots/`` and
writes both report files from one :class:`Document`, so they always say the same. :func:`headline`
returns the few numbers worth printing. Every table leads with macro-F1, balanced accuracy and the
smallest class's F1, so accuracy (which a majority-class predictor wins) never appears alone.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from nlp_balance.data.distribution import format_ratio, imbalance_ratio
from nlp_balance.reporting.document import Block, BulletList, Document, Heading, Image, Paragraph, Table
from nlp_balance.reporting.examples_section import SECTION_TITLE, example_sections, intro
from nlp_balance.reporting.formatting import fmt, fmt_count, fmt_delta, fmt_seconds, json_compact, num
from nlp_balance.reporting.plots import plot_run_confusion, plot_run_distribution, plot_run_per_class, plot_run_training
from nlp_balance.reporting.run_folder import (
    CLASS_DISTRIBUTION_PLOT,
    CONFUSION_MATRIX_PLOT,
    DISTRIBUTION_FILENAME,
    PER_CLASS_METRICS_PLOT,
    PLOTS_DIRNAME,
    REPORT_HTML_FILENAME,
    REPORT_MD_FILENAME,
    TRAINING_CURVES_PLOT,
    RunData,
    baseline_run_dir,
    check_same_labels,
    load_run,
)
from nlp_balance.utils.atomic import atomic_write_text

__all__ = ["headline", "render_report"]

_MAX_ERROR_EXAMPLES = 5
_MAX_EXAMPLE_CHARS = 200


def _headline(run: RunData) -> dict[str, Any]:
    label, _ = run.smallest_class()
    return {
        "macro_f1": num(run.test.get("macro_f1")),
        "balanced_accuracy": num(run.test.get("balanced_accuracy")),
        "smallest_class": label,
        "smallest_class_f1": run.class_metric("f1", label),
        "accuracy": num(run.test.get("accuracy")),
    }


def headline(run_dir: str | Path) -> dict[str, Any]:
    """Test-split headline of a run: macro_f1, balanced_accuracy, smallest_class, smallest_class_f1, accuracy.

    The smallest class is the one with the fewest train examples before balancing (from
    ``distribution.json``; the smallest test support when that file is missing).
    """
    return _headline(load_run(run_dir))


# --------------------------------------------------------------------------------------------------
# The report's sections, in reading order
# --------------------------------------------------------------------------------------------------


def _headline_blocks(run: RunData, baseline: RunData | None) -> list[Block]:
    head = _headline(run)
    label, basis = run.smallest_class()
    rows = [
        ["macro-F1", fmt(head["macro_f1"])],
        ["balanced accuracy", fmt(head["balanced_accuracy"])],
        [f"F1 of the smallest class ({label})", fmt(head["smallest_class_f1"])],
        ["accuracy", fmt(head["accuracy"])],
    ]
    header = ["test metric", "this run"]
    if baseline is not None:
        base = _headline(baseline)
        base["smallest_class_f1"] = baseline.class_metric("f1", label)
        keys = ("macro_f1", "balanced_accuracy", "smallest_class_f1", "accuracy")
        header += ["baseline", "change"]
        for row, key in zip(rows, keys):
            row += [fmt(base[key]), fmt_delta(head[key] - base[key])]
    val = num(run.metrics.get("validation", {}).get("macro_f1"))
    text = (
        f"Smallest class: {label} ({basis}). Accuracy is listed last on purpose: a model that always "
        "predicts the majority class scores well on it."
    )
    if not math.isnan(val):
        text += f" Validation macro-F1 of the best checkpoint: {val:.4f}."
    rule = run.info.get("posthoc")
    if isinstance(rule, Mapping) and rule.get("kind"):
        text += f" Test metrics are with the decision rule ({rule['kind']}) applied; see \"Decision rule\"."
    return [Heading("Headline"), Table(header, rows), Paragraph(text)]


def _balancing_settings(info: Mapping[str, Any]) -> BulletList:
    """Augmenters (name, version, configuration), sampling strategy and sampler, one item each."""
    items = []
    for aug in info.get("augmenters") or []:
        if isinstance(aug, Mapping):
            config = aug.get("config")
            version = f" v{aug['version']}" if aug.get("version") is not None else ""
            items.append(f"{aug.get('name', '?')}{version}" + (f" {json_compact(config)}" if config else ""))
        else:
            items.append(str(aug))
    strategy = info.get("sampling_strategy")
    return BulletList((
        *(f"augmenter {i}: {item}" for i, item in enumerate(items, 1)),
        *(["augmenters: none"] if not items else []),
        "sampling strategy: " + ("none" if strategy is None else strategy if isinstance(strategy, str)
                                 else json_compact(strategy)),
        f"sampler: {info.get('sampler') or 'none'}",
    ))


def _balancing_blocks(run: RunData) -> list[Block]:
    blocks: list[Block] = [Heading("Balancing"), _balancing_settings(run.info)]
    before = run.train_counts("before")
    if before is None:
        blocks.append(Paragraph(f"No {DISTRIBUTION_FILENAME} in this run folder: class counts were not recorded."))
        return blocks
    after = run.rebalanced_counts()
    blocks.append(_counts_table(run, before, after))
    if after is None:
        blocks.append(Paragraph("The train split was not rebalanced (no 'after' counts, or the same as before)."))
    return blocks


def _counts_table(run: RunData, before: dict[str, int], after: dict[str, int] | None) -> Table:
    """Train counts and shares before/after balancing, synthetic vs duplicated rows, test counts, ratios."""
    test = run.split_counts("test")
    names = run.label_names
    made = _balance_sources(run) if after is not None else {}
    header = ["class", "train before", "share before"]
    if after is not None:
        header += ["train after", "share after", "change"]
    if made:
        header += ["synthetic", "duplicated"]
    if test is not None:
        header += ["test"]
    total_before = sum(before.get(n, 0) for n in names)
    total_after = sum(after.get(n, 0) for n in names) if after is not None else 0
    smallest, _ = run.smallest_class()
    rows = []
    for n in names:
        b = before.get(n, 0)
        row = [n, f"{b:,}", _share(b, total_before)]
        if after is not None:
            a = after.get(n, 0)
            row += [f"{a:,}", _share(a, total_after), f"{a - b:+,}"]
        if made:
            row += [fmt_count(made.get(n, {}).get("synthetic")), fmt_count(made.get(n, {}).get("duplicated"))]
        if test is not None:
            row += [fmt_count(test.get(n))]
        rows.append(row)
    total = ["total", f"{total_before:,}", "100.0%"]
    ratio = ["imbalance ratio", format_ratio(imbalance_ratio([before.get(n, 0) for n in names])), ""]
    if after is not None:
        total += [f"{total_after:,}", "100.0%", f"{total_after - total_before:+,}"]
        ratio += [format_ratio(imbalance_ratio([after.get(n, 0) for n in names])), "", ""]
    if made:
        total += [fmt_count(sum(_int0(made.get(n, {}).get(k)) for n in names)) for k in ("synthetic", "duplicated")]
        ratio += ["", ""]
    if test is not None:
        total += [f"{sum(test.get(n, 0) for n in names):,}"]
        ratio += [format_ratio(imbalance_ratio([test.get(n, 0) for n in names]))]
    return Table(header, [*rows, total, ratio], bold_rows=frozenset({names.index(smallest)}))


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


def _augmentation_blocks(run: RunData) -> list[Block]:
    """Per augmented class, a few synthetic texts beside their sources; nothing when the run augmented none."""
    sections = example_sections(run.augmentation_examples)
    if not sections:
        return []
    blocks: list[Block] = [Heading(SECTION_TITLE), Paragraph(intro())]
    for section in sections:
        blocks.append(Paragraph(section.caption))
        if section.rows:
            blocks.append(Table(["source", "synthetic"], section.rows, align_left=2))
    return blocks


def _setup_blocks(run: RunData) -> list[Block]:
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
        rows.append(["class weights", ", ".join(f"{n} {fmt(w, 3)}" for n, w in zip(run.label_names, weights))])
    if info.get("posthoc"):
        rows.append(["decision rule", _rule_summary(info["posthoc"])])
    rows += [
        ["seed", str(info.get("seed", "n/a"))],
        ["train time", fmt_seconds(info.get("train_time_s"))],
        ["wall time", fmt_seconds(info.get("wall_time_s"))],
    ]
    return [Heading("Training setup"), Table(["setting", "value"], rows, align_left=2)]


def _auto_blocks(run: RunData) -> list[Block]:
    """``method: auto``: every candidate with its validation score and cost, the winner and why it won."""
    auto = run.info.get("auto")
    if not isinstance(auto, Mapping) or not isinstance(auto.get("candidates"), list):
        return []
    winner = auto.get("winner") if isinstance(auto.get("winner"), Mapping) else {}
    rows = []
    total = 0.0
    for c in auto["candidates"]:
        if not isinstance(c, Mapping):
            continue
        won = all(c.get(k) == winner.get(k) for k in ("data", "candidate")) and bool(winner)
        total += num(c.get("seconds"))
        rows.append([str(c.get("data", "?")), str(c.get("candidate", "?")) + (" (winner)" if won else ""),
                     fmt(c.get("validation")), f"{num(c.get('epochs')):g}", fmt_seconds(c.get("seconds")),
                     fmt_count(c.get("train_rows"))])
    text = (f"method: auto tried {len(rows)} candidates on the validation split, each with the same budget "
            f"({num(auto.get('epochs_per_trial')):g} epochs, best epoch kept), for {fmt_seconds(total)} of "
            "training in all.")
    if winner:
        text += f" Winner: {winner.get('candidate')} on the {winner.get('data')} data."
    if auto.get("why"):
        text += f" Why: {auto['why']}."
    other = auto.get("within_one_standard_error") if auto.get("select") == "best" else auto.get("highest")
    if isinstance(other, Mapping) and auto.get("standard_error") is not None and \
            not all(other.get(k) == winner.get(k) for k in ("data", "candidate")):
        rule = "one_standard_error" if auto.get("select") == "best" else "best"
        text += (f" With auto.select: {rule} (bootstrap standard error {fmt(auto['standard_error'])}) it would "
                 f"have kept {other.get('candidate')} on the {other.get('data')} data.")
    final = auto.get("final")
    if isinstance(final, Mapping):
        text += (f" The winner was then trained again with the full budget ({num(final.get('epochs')):g} "
                 f"epochs, {fmt_seconds(final.get('seconds'))}).")
    header = ["data", "candidate", "validation score", "epochs", "train time", "train rows"]
    return [Heading("How method: auto chose"), Paragraph(text), Table(header, rows, align_left=2)]


def _rule_summary(rule: Any) -> str:
    """One line: the rule's kind, the metric and guard it was fitted with, and what it chose."""
    if not isinstance(rule, Mapping):
        return json_compact(rule)
    params = rule.get("params") if isinstance(rule.get("params"), Mapping) else {}
    bits = [str(rule.get("kind", "?"))]
    if params.get("metric"):
        bits.append(f"maximising validation {params['metric']}")
    if params.get("guard"):
        bits.append(f"guard {params['guard']}")
    guard_result = params.get("guard_result")
    shrink = guard_result.get("shrink") if isinstance(guard_result, Mapping) else None
    if shrink is not None and str(params.get("guard", "")).endswith("gate"):
        bits.append("kept by the cross-fit check" if num(shrink) > 0 else "switched off by the cross-fit check")
    elif shrink is not None:
        bits.append(f"shrink factor {fmt(shrink, 2)}")
    for key, label in (("tau", "tau"), ("threshold", "threshold")):
        if params.get(key) is not None:
            bits.append(f"{label} {fmt(params[key], 3)}")
    return ", ".join(bits)


def _decision_rule_blocks(run: RunData) -> list[Block]:
    """The decision rule, its offsets, and validation/test metrics before and after it, when recorded."""
    rule = run.info.get("posthoc")
    effect = run.rule_effect()
    if not rule and not effect:
        return []
    blocks: list[Block] = [Heading("Decision rule")]
    if isinstance(rule, Mapping):
        text = f"Rule: {_rule_summary(rule)}."
        offsets = rule.get("offsets")
        if isinstance(offsets, list) and len(offsets) == len(run.label_names):
            text += " Offsets added to the logits: " + ", ".join(
                f"{n} {num(o):+.3f}" for n, o in zip(run.label_names, offsets)) + "."
        params = rule.get("params") if isinstance(rule.get("params"), Mapping) else {}
        if params.get("validation_rows"):
            text += f" Fitted on {int(params['validation_rows']):,} validation rows."
        blocks.append(Paragraph(text))
    if not effect:
        blocks.append(Paragraph("This run folder does not record the metrics before the rule, so its effect "
                                "cannot be shown; the test metrics above are with the rule applied."))
        return blocks
    smallest, _ = run.smallest_class()
    key = run.label_keys[run.label_names.index(smallest)]
    metrics = [("macro-F1", "macro_f1"), ("balanced accuracy", "balanced_accuracy"),
               (f"F1 of the smallest class ({smallest})", f"f1_{key}"), ("accuracy", "accuracy")]
    header = ["metric"]
    for split in effect:
        header += [f"{split} before", f"{split} after", f"{split} change"]
    rows = []
    for label, metric in metrics:
        row = [label]
        for before, after in effect.values():
            b, a = num(before.get(metric)), num(after.get(metric))
            row += [fmt(b), fmt(a), fmt_delta(a - b)]
        rows.append(row)
    note = ("The rule was fitted on the validation split, so its validation gain is optimistic; "
            "the test columns are the check.") if "validation" in effect else "Change = after minus before."
    return [*blocks, Table(header, rows), Paragraph(note)]


def _per_class_blocks(run: RunData) -> list[Block]:
    names = run.label_names
    before = run.train_counts("before") or {}
    smallest, _ = run.smallest_class()
    rows = []
    for n in names:
        support = run.class_metric("support", n)
        rows.append([
            n,
            fmt_count(before.get(n)),
            "n/a" if math.isnan(support) else f"{int(support):,}",
            fmt(run.class_metric("precision", n)),
            fmt(run.class_metric("recall", n)),
            fmt(run.class_metric("f1", n)),
        ])
    header = ["class", "train n (before)", "test support", "precision", "recall", "F1"]
    test = run.test
    rows.append(["macro average", "", "", fmt(test.get("macro_precision")), fmt(test.get("macro_recall")),
                 fmt(test.get("macro_f1"))])
    return [
        Heading("Per-class results (test)"),
        Table(header, rows, bold_rows=frozenset({names.index(smallest)})),
        Paragraph(f"The smallest class ({smallest}) is highlighted. Weighted F1 {fmt(test.get('weighted_f1'))}, "
                  f"geometric mean of the class recalls {fmt(test.get('g_mean'))}."),
    ]


def _baseline_blocks(run: RunData, baseline: RunData) -> list[Block]:
    metrics = [
        ("macro-F1", "macro_f1"),
        ("balanced accuracy", "balanced_accuracy"),
        ("G-mean", "g_mean"),
        ("weighted F1", "weighted_f1"),
        ("accuracy", "accuracy"),
    ]
    rows = []
    for label, key in metrics:
        r, b = num(run.test.get(key)), num(baseline.test.get(key))
        rows.append([label, fmt(b), fmt(r), fmt_delta(r - b)])
    smallest, _ = run.smallest_class()
    bold = set()
    for n in run.label_names:
        r, b = run.class_metric("f1", n), baseline.class_metric("f1", n)
        if n == smallest:
            bold.add(len(rows))
        rows.append([f"F1 {n}", fmt(b), fmt(r), fmt_delta(r - b)])
    header = ["test metric", f"baseline ({baseline.name})", f"this run ({run.name})", "change"]
    return [
        Heading("Baseline vs this run"),
        Paragraph(f"Baseline: {baseline.name} (loss {baseline.info.get('loss', 'n/a')}, "
                  f"{baseline.path!s}). Change = this run minus baseline."),
        Table(header, rows, bold_rows=frozenset(bold)),
    ]


def _error_examples(run: RunData) -> list[Block]:
    """A few misclassified test examples of the smallest class, so a reader sees what goes wrong."""
    names = run.label_names
    smallest, _ = run.smallest_class()
    target = names.index(smallest)
    rows = []
    for row in run.predictions():
        true, pred = run.label_index(row.get("label")), run.label_index(row.get("prediction"))
        if true == target and pred is not None and pred != target:
            text = " ".join(str(row.get("text", "")).split())
            if len(text) > _MAX_EXAMPLE_CHARS:
                text = text[: _MAX_EXAMPLE_CHARS - 1] + "…"
            probs = row.get("probabilities")
            conf = num(probs[pred]) if isinstance(probs, list) and pred < len(probs) else float("nan")
            rows.append([text, names[pred], fmt(conf, 2)])
            if len(rows) == _MAX_ERROR_EXAMPLES:
                break
    if not rows:
        return []
    return [
        Heading(f"Misclassified test examples of the smallest class ({smallest})"),
        Table(["text", "predicted", "probability"], rows, align_left=2),
    ]


def _versions_blocks(run: RunData) -> list[Block]:
    versions = run.info.get("versions") or {}
    rows = [[str(k), str(v)] for k, v in sorted(versions.items())] if isinstance(versions, Mapping) else []
    blocks: list[Block] = [Heading("Reproducibility"), Paragraph(f"Seed: {run.info.get('seed', 'n/a')}.")]
    if rows:
        blocks.append(Table(["package", "version"], rows, align_left=2))
    else:
        blocks.append(Paragraph("No package versions recorded."))
    return blocks


# --------------------------------------------------------------------------------------------------
# render_report
# --------------------------------------------------------------------------------------------------


def _draw_plots(run: RunData, baseline: RunData | None) -> dict[str, Path | None]:
    """Draw every plot into ``plots/``; a plot without data is ``None`` and a stale file of it is removed."""
    plots_dir = run.path / PLOTS_DIRNAME
    drawn: dict[str, Path | None] = {
        CLASS_DISTRIBUTION_PLOT: plot_run_distribution(run, plots_dir / CLASS_DISTRIBUTION_PLOT),
        PER_CLASS_METRICS_PLOT: plot_run_per_class(run, baseline, plots_dir / PER_CLASS_METRICS_PLOT),
        CONFUSION_MATRIX_PLOT: plot_run_confusion(run, plots_dir / CONFUSION_MATRIX_PLOT),
        TRAINING_CURVES_PLOT: plot_run_training(run, plots_dir / TRAINING_CURVES_PLOT),
    }
    for name, made in drawn.items():  # a stale plot from an earlier render must not be mistaken for this one
        if made is None and (plots_dir / name).exists():
            (plots_dir / name).unlink()
    return drawn


def render_report(run_dir: str | Path, *, baseline_dir: str | Path | None = None) -> Path:
    """Draw the plots into ``run_dir/plots`` and write ``report.md`` and ``report.html``; returns the HTML path.

    ``baseline_dir`` defaults to ``run_dir/baseline`` when that folder exists; with a baseline the
    report adds a baseline-vs-run table with deltas and F1 bars side by side. The HTML embeds the
    PNGs as base64 data URIs and needs no other file; the Markdown links them by relative path.
    """
    run = load_run(run_dir)
    if baseline_dir is None:
        nested = baseline_run_dir(run.path)
        baseline = load_run(nested) if nested is not None else None
    else:
        baseline = load_run(baseline_dir)
    if baseline is not None:
        check_same_labels([run, baseline])
    drawn = _draw_plots(run, baseline)

    def image(name: str, alt: str) -> list[Block]:
        path = drawn[name]
        if path is None:
            return [Paragraph(f"({alt}: not drawn, the run folder lacks the data for it.)")]
        return [Image(path, f"{PLOTS_DIRNAME}/{name}", alt)]

    blocks: list[Block] = []
    blocks += _headline_blocks(run, baseline)
    blocks += _balancing_blocks(run)
    blocks += image(CLASS_DISTRIBUTION_PLOT, "Train class distribution before and after balancing")
    blocks += _augmentation_blocks(run)
    blocks += _setup_blocks(run)
    blocks += _auto_blocks(run)
    blocks += _decision_rule_blocks(run)
    blocks += image(TRAINING_CURVES_PLOT, "Training and validation curves")
    blocks += _per_class_blocks(run)
    blocks += image(PER_CLASS_METRICS_PLOT, "Per-class precision, recall and F1")
    blocks += image(CONFUSION_MATRIX_PLOT, "Row-normalised confusion matrix")
    if baseline is not None:
        blocks += _baseline_blocks(run, baseline)
    blocks += _error_examples(run)
    blocks += _versions_blocks(run)

    document = Document(f"nlp_balance report: {run.name}", blocks)
    atomic_write_text(run.path / REPORT_MD_FILENAME, document.to_markdown())
    out = run.path / REPORT_HTML_FILENAME
    atomic_write_text(out, document.to_html())
    return out
