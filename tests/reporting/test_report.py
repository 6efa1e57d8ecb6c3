"""Tests for nlp_balance.reporting.report: render_report and headline on run folders of TREC-6 labels."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import pytest
from PIL import Image
from report_fixtures import make_run, make_runs, metrics_of, parse_html, trec_data

from nlp_balance.reporting.report import headline, render_report
from nlp_balance.reporting.run_folder import PLOT_FILES


@pytest.fixture()
def runs(tmp_path: Path) -> dict[str, Path]:
    return make_runs(tmp_path)


def _html(path: Path):
    return parse_html(path.read_text(encoding="utf-8"))


def test_render_report_with_baseline(runs: dict[str, Path]) -> None:
    run = runs["balanced"]
    out = render_report(run)
    assert out == run / "report.html"
    # Every plot exists, is a real PNG and has a sensible size.
    for name in PLOT_FILES:
        png = run / "plots" / name
        with Image.open(png) as im:
            im.verify()
        with Image.open(png) as im:
            assert im.format == "PNG"
            assert im.width >= 400 and im.height >= 250, (name, im.size)
    parsed = _html(out)
    assert parsed.tags["script"] == 0 and parsed.tags["link"] == 0  # self-contained: no external CSS/JS
    # The four PNGs are embedded byte for byte.
    assert len(parsed.images) == len(PLOT_FILES)
    embedded = {base64.b64decode(src.split(",", 1)[1]) for src in parsed.images}
    assert all(src.startswith("data:image/png;base64,") for src in parsed.images)
    assert embedded == {(run / "plots" / name).read_bytes() for name in PLOT_FILES}
    text = " ".join(parsed.text)
    m, b = metrics_of(run), metrics_of(runs["nested"])
    # Headline numbers, the smallest class (ABBR: 84 train rows) and the baseline deltas.
    for key in ("macro_f1", "balanced_accuracy", "accuracy", "f1_abbr"):
        assert f"{m[key]:.4f}" in text
    assert "Smallest class: ABBR" in text
    assert f"{m['macro_f1'] - b['macro_f1']:+.4f}" in text
    assert f"{m['f1_abbr'] - b['f1_abbr']:+.4f}" in text
    assert "trec6-balanced-baseline" in text
    md = (run / "report.md").read_text()
    for name in PLOT_FILES:
        assert f"](plots/{name})" in md
    assert f"{m['macro_f1']:.4f}" in md and "Baseline vs this run" in md
    # Balancing summary: augmenter and strategy from run_info, before/after counts from distribution.json.
    assert "eda v1" in text and "not majority" in text
    dist = json.loads((run / "distribution.json").read_text())
    added = dist["after"]["train"]["counts"]["ABBR"] - dist["before"]["train"]["counts"]["ABBR"]
    assert f"{added:+,}" in text
    assert f"{added // 2:,}" in text and f"{added - added // 2:,}" in text  # synthetic vs duplicated rows
    weights = json.loads((run / "run_info.json").read_text())["class_weights"]
    assert f"ABBR {weights[0]:.3f}" in text
    assert "transformers" in text and "5.24.0" in text


def test_render_baseline_only_run(runs: dict[str, Path]) -> None:
    run = runs["baseline"]
    # The pipeline records "after" for every run; for a baseline it equals "before": not a rebalancing.
    dist = json.loads((run / "distribution.json").read_text())
    dist["after"] = {"train": dist["before"]["train"]}
    (run / "distribution.json").write_text(json.dumps(dist))
    render_report(run)
    md = (run / "report.md").read_text()
    assert "Baseline vs this run" not in md
    assert "not rebalanced" in md and "train after" not in md
    parsed = _html(run / "report.html")
    assert len(parsed.images) == len(PLOT_FILES)
    with Image.open(run / "plots" / "per_class_metrics.png") as im:
        im.verify()


def test_render_explicit_baseline_and_missing_parts(tmp_path: Path, runs: dict[str, Path]) -> None:
    trec = trec_data()
    bare = make_run(tmp_path / "bare", name="bare", kind="balanced", names=trec["names"],
                    train_before=trec["train_counts"], test_labels=trec["labels"], seed=5,
                    with_distribution=False, with_history=False)
    render_report(bare, baseline_dir=runs["baseline"])
    assert not (bare / "plots" / "class_distribution.png").exists()
    assert not (bare / "plots" / "training_curves.png").exists()
    parsed = _html(bare / "report.html")
    assert len(parsed.images) == 2  # per-class metrics and confusion matrix
    md = (bare / "report.md").read_text()
    assert "not drawn" in md and "trec6-baseline" in md
    assert "No distribution.json in this run folder" in md


def test_a_plot_without_data_is_removed_on_rerender(runs: dict[str, Path]) -> None:
    run = runs["baseline"]
    render_report(run)
    assert (run / "plots" / "training_curves.png").exists()
    (run / "log_history.json").unlink()
    render_report(run)
    assert not (run / "plots" / "training_curves.png").exists()  # a stale plot would describe another run
    assert len(_html(run / "report.html").images) == len(PLOT_FILES) - 1


def test_rendering_is_deterministic(runs: dict[str, Path]) -> None:
    run = runs["balanced"]
    render_report(run)
    first = {name: (run / "plots" / name).read_bytes() for name in PLOT_FILES}
    html_first = (run / "report.html").read_text()
    md_first = (run / "report.md").read_text()
    render_report(run)
    assert first == {name: (run / "plots" / name).read_bytes() for name in PLOT_FILES}
    assert html_first == (run / "report.html").read_text()
    assert md_first == (run / "report.md").read_text()


def test_headline_uses_train_counts_not_test_support(tmp_path: Path) -> None:
    names = ["ham", "spam", "Promo Offer!"]
    # Train: "Promo Offer!" is smallest; test: spam has the smallest support.
    labels = [0] * 50 + [1] * 5 + [2] * 30
    run = make_run(tmp_path / "r", name="r", kind="balanced", names=names, train_before=[3000, 500, 40],
                   test_labels=labels, train_after=[3000, 3000, 3000], seed=7)
    m = metrics_of(run)
    head = headline(run)
    assert head == {
        "macro_f1": m["macro_f1"],
        "balanced_accuracy": m["balanced_accuracy"],
        "smallest_class": "Promo Offer!",
        "smallest_class_f1": m["f1_promo_offer"],
        "accuracy": m["accuracy"],
    }
    (run / "distribution.json").unlink()  # without train counts it falls back to the test support
    assert headline(run)["smallest_class"] == "spam"


def test_differing_label_sets_are_rejected(tmp_path: Path, runs: dict[str, Path]) -> None:
    other = make_run(tmp_path / "other", name="sms-run", kind="balanced", names=["ham", "spam"],
                     train_before=[3614, 514], test_labels=[0, 1] * 10, seed=4)
    with pytest.raises(ValueError, match=r"different label sets.*sms-run.*trec6-baseline"):
        render_report(other, baseline_dir=runs["baseline"])


def test_missing_files_give_clear_errors(tmp_path: Path, runs: dict[str, Path]) -> None:
    with pytest.raises(FileNotFoundError, match="does not exist"):
        render_report(tmp_path / "nowhere")
    (runs["baseline"] / "metrics.json").unlink()
    with pytest.raises(FileNotFoundError, match=r"metrics\.json"):
        headline(runs["baseline"])


def test_untrusted_text_is_escaped(tmp_path: Path) -> None:
    names = ["ok", "bad|<i>class</i>"]
    evil = '<script>alert("x")</script> & | name'
    labels = [0] * 30 + [1] * 10
    texts = ["<img src=x onerror=alert(1)> | text"] * len(labels)
    run = make_run(tmp_path / "evil", name=evil, kind="balanced", names=names, train_before=[300, 10],
                   test_labels=labels, texts=texts, skill=0.2, seed=9)
    render_report(run)
    parsed = _html(run / "report.html")
    assert parsed.tags["script"] == 0 and parsed.tags["i"] == 0
    # The only <img> elements are the four embedded plots; the <img> in the texts stays text.
    assert len(parsed.images) == len(PLOT_FILES)
    assert all(src.startswith("data:image/png;base64,") for src in parsed.images)
    assert evil in " ".join(parsed.text)  # shown literally
    assert "<img src=x onerror=alert(1)> | text" in parsed.text  # a misclassified example, as text
    md = (run / "report.md").read_text()
    assert "<script>" not in md and "<img" not in md
    # Every Markdown table keeps one column count although cells contain '|'.
    tables: list[list[int]] = []
    previous = False
    for line in md.splitlines():
        is_row = line.startswith("|")
        if is_row:
            if not previous:
                tables.append([])
            tables[-1].append(len(re.findall(r"(?<!\\)\|", line)))
        previous = is_row
    assert tables and all(len(set(t)) == 1 for t in tables), tables
    assert any("bad" in line and line.startswith("|") for line in md.splitlines())


def _add_rule(run: Path, *, with_effect: bool) -> dict:
    """Record a fitted decision rule in run_info.json and, optionally, its effect in metrics.json."""
    info = json.loads((run / "run_info.json").read_text())
    info["posthoc"] = {"kind": "class_offsets", "offsets": [0.9, -0.1, 0.0, -0.2, -0.3, -0.3],
                       "params": {"method": "class_offsets", "metric": "macro_f1", "guard": "shrink",
                                  "guard_result": {"shrink": 0.6}, "validation_rows": 805}}
    (run / "run_info.json").write_text(json.dumps(info))
    metrics = json.loads((run / "metrics.json").read_text())
    if with_effect:
        shifted = {k: (v - 0.05 if isinstance(v, float) else v) for k, v in metrics["test"].items()}
        metrics["test_before_rule"] = shifted
        metrics["validation_before_rule"] = {k: (v - 0.08 if isinstance(v, float) else v)
                                             for k, v in metrics["validation"].items()}
        metrics["validation_after_rule"] = metrics["validation"]
    (run / "metrics.json").write_text(json.dumps(metrics))
    return metrics


def test_report_shows_the_decision_rule_before_and_after(runs: dict[str, Path]) -> None:
    run = runs["balanced"]
    metrics = _add_rule(run, with_effect=True)
    render_report(run)
    md = (run / "report.md").read_text()
    section = md.split("## Decision rule", 1)[1].split("\n## ", 1)[0]
    assert "class_offsets, maximising validation macro_f1, guard shrink, shrink factor 0.60" in section
    assert "ABBR +0.900" in section and "805 validation rows" in section
    header = next(line for line in section.splitlines() if line.startswith("| metric"))
    assert "validation before" in header and "test after" in header and "test change" in header
    test, before = metrics["test"], metrics["test_before_rule"]
    row = next(line for line in section.splitlines() if line.startswith("| macro-F1"))
    assert f"{before['macro_f1']:.4f}" in row and f"{test['macro_f1']:.4f}" in row
    assert f"{test['macro_f1'] - before['macro_f1']:+.4f}" in row
    smallest = next(line for line in section.splitlines() if "smallest class (ABBR)" in line)
    assert f"{test['f1_abbr'] - before['f1_abbr']:+.4f}" in smallest
    assert "with the decision rule (class_offsets) applied" in md  # the headline says what its numbers are
    assert "Decision rule" in " ".join(_html(run / "report.html").text)


def test_report_of_a_rule_without_recorded_effect_and_of_no_rule(runs: dict[str, Path]) -> None:
    run = runs["balanced"]
    render_report(run)
    assert "## Decision rule" not in (run / "report.md").read_text()  # no rule: no section
    _add_rule(run, with_effect=False)
    render_report(run)
    md = (run / "report.md").read_text()
    assert "## Decision rule" in md and "does not record the metrics before the rule" in md
    assert "| metric | validation before" not in md
    info = json.loads((run / "run_info.json").read_text())
    info["posthoc"]["params"].update({"guard": "bootstrap_gate", "guard_result": {"shrink": 0.0}})
    info["posthoc"]["offsets"] = [0.0] * 6
    (run / "run_info.json").write_text(json.dumps(info))
    render_report(run)
    assert "guard bootstrap_gate, switched off by the cross-fit check" in (run / "report.md").read_text()


def test_report_says_what_method_auto_tried_and_why_the_winner_won(runs: dict[str, Path]) -> None:
    run = runs["balanced"]
    render_report(run)
    assert "How method: auto chose" not in (run / "report.md").read_text()  # not an auto run: no section
    info = json.loads((run / "run_info.json").read_text())
    candidates = [
        {"data": "original", "candidate": "ce", "validation": 0.9412, "epochs": 3.0, "seconds": 61.5,
         "train_rows": 4833},
        {"data": "original", "candidate": "weighted_ce_balanced", "validation": 0.9587, "epochs": 3.0, "seconds": 63.0,
         "train_rows": 4833},
        {"data": "augment_floor", "candidate": "ce", "validation": 0.9501, "epochs": 3.0, "seconds": 60.2,
         "train_rows": 4857},
    ]
    info["auto"] = {"winner": {"data": "original", "candidate": "weighted_ce_balanced", "validation": 0.9587},
                    "why": "highest validation macro_f1 (0.9587) of 3 candidates trained with the same budget",
                    "candidates": candidates, "trials": 3, "epochs_per_trial": 3.0, "floor": 100,
                    "final": {"epochs": 6.0, "seconds": 130.0, "validation": 0.96},
                    "select": "best", "standard_error": 0.0123,
                    "highest": {"data": "original", "candidate": "weighted_ce_balanced", "validation": 0.9587},
                    "within_one_standard_error": {"data": "augment_floor", "candidate": "ce", "validation": 0.9501}}
    (run / "run_info.json").write_text(json.dumps(info))
    render_report(run)
    md = (run / "report.md").read_text()
    section = md.split("## How method: auto chose", 1)[1].split("\n## ", 1)[0]
    assert ("With auto.select: one_standard_error (bootstrap standard error 0.0123) it would have kept ce on the "
            "augment_floor data.") in section
    assert "tried 3 candidates" in section and "Winner: weighted_ce_balanced on the original data" in section
    assert "Why: highest validation macro_f1 (0.9587) of 3 candidates" in section
    assert "trained again with the full budget (6 epochs" in section
    rows = [line for line in section.splitlines() if line.startswith("| original") or line.startswith("| augment")]
    assert len(rows) == 3 and "weighted_ce_balanced (winner)" in rows[1] and "0.9587" in rows[1]
    assert "(winner)" not in rows[0] + rows[2] and "4,857" in rows[2]
    assert "How method: auto chose" in " ".join(_html(run / "report.html").text)
