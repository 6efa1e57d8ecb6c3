"""Tests for nlp_balance.reporting.report: run folders built from real TREC-6 labels and random predictions.

The fake runs are consistent the way the pipeline's are: metrics come from
``compute_imbalance_metrics`` on the written predictions, distributions from ``ClassDistribution``.
Expected figures are read back from those JSON files (or recomputed with scikit-learn), never
copied from the report code.
"""

from __future__ import annotations

import base64
import json
import re
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path
from typing import ClassVar

import numpy as np
import pytest
from conftest import BENCH_DATA
from PIL import Image
from sklearn.metrics import confusion_matrix

from nlp_balance.data.distribution import ClassDistribution
from nlp_balance.evaluation.metrics import compute_imbalance_metrics
from nlp_balance.reporting.report import (
    PLOT_FILES,
    _split_history,
    _use_log_scale,
    compare_runs,
    headline,
    load_run,
    main,
    render_report,
)

TREC_NAMES = ["ABBR", "DESC", "ENTY", "HUM", "LOC", "NUM"]


def _jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.fixture(scope="module")
def trec() -> dict:
    """Real TREC-6 test texts/labels (as indices) and train counts, read straight from the files."""
    train = _jsonl(BENCH_DATA / "trec6" / "train.jsonl")
    test = _jsonl(BENCH_DATA / "trec6" / "test.jsonl")
    counts = Counter(row["label"] for row in train)
    return {
        "names": TREC_NAMES,
        "train_counts": [counts[n] for n in TREC_NAMES],
        "texts": [row["text"] for row in test],
        "labels": [TREC_NAMES.index(row["label"]) for row in test],
    }


def _predict(labels: list[int], k: int, skill: float, rng: np.random.Generator) -> tuple[list[int], np.ndarray]:
    """Random predictions that are right with probability ``skill``, plus probabilities that agree."""
    preds = []
    for y in labels:
        preds.append(y if rng.random() < skill else int(rng.integers(k)))
    probs = rng.dirichlet(np.ones(k), size=len(labels))
    for i, p in enumerate(preds):  # make the predicted class the arg-max
        probs[i, p] = probs[i].max() + 0.5
    probs /= probs.sum(axis=1, keepdims=True)
    return preds, probs


def make_run(
    folder: Path,
    *,
    name: str,
    kind: str,
    names: list[str],
    train_before: list[int],
    test_labels: list[int],
    texts: list[str] | None = None,
    train_after: list[int] | None = None,
    skill: float = 0.6,
    seed: int = 0,
    with_distribution: bool = True,
    with_confusion: bool = True,
    with_history: bool = True,
) -> Path:
    """Write a consistent run folder in the pipeline's format and return it."""
    rng = np.random.default_rng(seed)
    k = len(names)
    folder.mkdir(parents=True, exist_ok=True)
    texts = texts or [f"example {i}" for i in range(len(test_labels))]
    preds, probs = _predict(test_labels, k, skill, rng)
    test_metrics, cm = compute_imbalance_metrics(preds, test_labels, names)
    val_labels = [int(v) for v in rng.integers(k, size=60)]
    val_preds, _ = _predict(val_labels, k, skill, rng)
    val_metrics, _ = compute_imbalance_metrics(val_preds, val_labels, names)
    info = {
        "name": name, "seed": seed, "source": "shared/data/trec6", "label_names": names,
        "model": "tiny-bert", "loss": "focal" if kind == "balanced" else "cross_entropy",
        "class_weighting": "inverse_sqrt" if kind == "balanced" else None,
        "sampler": "balanced" if kind == "balanced" else None,
        "augmenters": [] if kind != "balanced" else [
            {"name": "eda", "version": "1", "config": {"p": 0.1, "ops": ["swap", "delete"]}}],
        "sampling_strategy": "not majority" if kind == "balanced" else None,
        "class_weights": [round(sum(train_before) / (k * c), 6) for c in train_before] if kind == "balanced" else None,
        "balance_report": None if train_after is None else {"classes": [
            {"label": n, "before": b, "after": a, "synthetic": (a - b) // 2, "duplicated": (a - b) - (a - b) // 2}
            for n, b, a in zip(names, train_before, train_after)]},
        "versions": {"transformers": "5.24.0", "torch": "2.13.0+cpu", "nlp_balance": "0.1.0"},
        "train_time_s": float(rng.uniform(10, 100)), "wall_time_s": float(rng.uniform(100, 200)),
        "kind": kind,
    }
    (folder / "run_info.json").write_text(json.dumps(info))
    (folder / "metrics.json").write_text(json.dumps({"test": test_metrics, "validation": val_metrics}))
    if with_distribution:
        test_counts = np.bincount(test_labels, minlength=k)
        dist = {
            "before": {
                "train": ClassDistribution("train", tuple(names), tuple(train_before)).to_json(),
                "validation": ClassDistribution(
                    "validation", tuple(names), tuple(np.bincount(val_labels, minlength=k).tolist())
                ).to_json(),
                "test": ClassDistribution("test", tuple(names), tuple(int(c) for c in test_counts)).to_json(),
            },
        }
        if train_after is not None:
            dist["after"] = {"train": ClassDistribution("train", tuple(names), tuple(train_after)).to_json()}
        (folder / "distribution.json").write_text(json.dumps(dist))
    if with_confusion:
        (folder / "confusion_matrix.json").write_text(json.dumps({"labels": names, "matrix": cm.tolist()}))
    if with_history:
        history = []
        for step in range(10, 101, 10):
            history.append({"loss": 1.8 * np.exp(-step / 60) + rng.uniform(0, 0.1), "learning_rate": 5e-5,
                            "epoch": step / 50, "step": step})
            if step % 50 == 0:
                history.append({"eval_loss": 1.5 * np.exp(-step / 80), "eval_macro_f1": min(1.0, step / 120),
                                "eval_accuracy": 0.5, "epoch": step / 50, "step": step})
        history.append({"train_runtime": 12.0, "train_loss": 0.9, "epoch": 2.0, "step": 100})
        # The pipeline's trainer.evaluate() of the reloaded best checkpoint, logged after training.
        history.append({"eval_loss": 1.5 * np.exp(-50 / 80), "eval_macro_f1": 50 / 120, "epoch": 2.0, "step": 100})
        (folder / "log_history.json").write_text(json.dumps(history))
    with (folder / "predictions.jsonl").open("w", encoding="utf-8") as handle:
        for text, y, p, pr in zip(texts, test_labels, preds, probs):
            # Class names, as the pipeline writes them (indices are accepted too).
            row = {"text": text, "label": names[y], "prediction": names[p], "probabilities": pr.tolist()}
            handle.write(json.dumps(row) + "\n")
    return folder


@pytest.fixture()
def runs(tmp_path: Path, trec: dict) -> dict[str, Path]:
    """A standalone baseline and a balanced run with its own nested baseline, on TREC-6 labels."""
    before = trec["train_counts"]
    after = [max(before)] * len(before)
    common = {"names": trec["names"], "train_before": before, "test_labels": trec["labels"], "texts": trec["texts"]}
    baseline = make_run(tmp_path / "baseline_run", name="trec6-baseline", kind="baseline", skill=0.5, seed=1, **common)
    balanced = make_run(tmp_path / "balanced_run", name="trec6-balanced", kind="balanced", train_after=after,
                        skill=0.7, seed=2, **common)
    make_run(balanced / "baseline", name="trec6-balanced-baseline", kind="baseline", skill=0.5, seed=3, **common)
    return {"baseline": baseline, "balanced": balanced, "nested": balanced / "baseline"}


class StrictHTML(HTMLParser):
    """Fails on any end tag that does not close the innermost open element; collects tags and img srcs."""

    VOID: ClassVar[set[str]] = {"meta", "img", "br", "hr", "link", "input", "source", "col", "area", "base", "wbr"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.tags: Counter = Counter()
        self.images: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self.tags[tag] += 1
        if tag == "img":
            self.images.append(dict(attrs)["src"])
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.stack and self.stack[-1] == tag, f"</{tag}> closes {self.stack[-1:]}"
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse_html(path: Path) -> StrictHTML:
    parser = StrictHTML()
    parser.feed(path.read_text(encoding="utf-8"))
    parser.close()
    assert parser.stack == [], f"unclosed elements {parser.stack}"
    return parser


def metrics_of(folder: Path) -> dict:
    return json.loads((folder / "metrics.json").read_text())["test"]


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
    parsed = parse_html(out)
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
    parsed = parse_html(run / "report.html")
    assert len(parsed.images) == len(PLOT_FILES)
    with Image.open(run / "plots" / "per_class_metrics.png") as im:
        im.verify()


def test_render_explicit_baseline_and_missing_parts(tmp_path: Path, runs: dict[str, Path], trec: dict) -> None:
    bare = make_run(tmp_path / "bare", name="bare", kind="balanced", names=trec["names"],
                    train_before=trec["train_counts"], test_labels=trec["labels"], seed=5,
                    with_distribution=False, with_history=False)
    render_report(bare, baseline_dir=runs["baseline"])
    assert not (bare / "plots" / "class_distribution.png").exists()
    assert not (bare / "plots" / "training_curves.png").exists()
    parsed = parse_html(bare / "report.html")
    assert len(parsed.images) == 2  # per-class metrics and confusion matrix
    md = (bare / "report.md").read_text()
    assert "not drawn" in md and "trec6-baseline" in md


def test_rendering_is_deterministic(runs: dict[str, Path]) -> None:
    run = runs["balanced"]
    render_report(run)
    first = {name: (run / "plots" / name).read_bytes() for name in PLOT_FILES}
    html_first = (run / "report.html").read_text()
    render_report(run)
    assert first == {name: (run / "plots" / name).read_bytes() for name in PLOT_FILES}
    assert html_first == (run / "report.html").read_text()


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


def test_compare_runs_values_match_folders(tmp_path: Path, runs: dict[str, Path]) -> None:
    result = compare_runs([runs["baseline"], runs["balanced"], runs["balanced"]], out=tmp_path / "cmp")
    # The repeated folder counts once; the nested baseline is expanded after its run.
    assert [r["path"] for r in result.table] == [str(runs["baseline"]), str(runs["balanced"]), str(runs["nested"])]
    assert [r["kind"] for r in result.table] == ["baseline", "balanced", "baseline"]
    assert result.label_names == TREC_NAMES
    assert result.smallest_class == "ABBR"
    for row in result.table:
        folder = Path(row["path"])
        m = metrics_of(folder)
        info = json.loads((folder / "run_info.json").read_text())
        assert row["name"] == info["name"]
        assert row["macro_f1"] == m["macro_f1"]
        assert row["balanced_accuracy"] == m["balanced_accuracy"]
        assert row["accuracy"] == m["accuracy"]
        assert row["train_time_s"] == info["train_time_s"]
        assert list(row["class_f1"]) == TREC_NAMES
        assert row["class_f1"] == {n: m[f"f1_{n.lower()}"] for n in TREC_NAMES}
    text = result.to_text()
    assert "F1 ABBR*" in text and "smallest class: ABBR (84 train examples" in text
    assert text.count("*") == 1 + len(result.table) + 1  # header, one cell per row, the note
    md = result.to_markdown()
    assert "**F1 ABBR**" in md
    for row in result.table:
        assert f"**{row['class_f1']['ABBR']:.4f}**" in md
        assert f"| {row['macro_f1']:.4f} |" in md
    assert md.splitlines()[1].count("|") == md.splitlines()[0].count("|")
    assert "compare.png" in (tmp_path / "cmp" / "compare.md").read_text()
    with Image.open(tmp_path / "cmp" / "compare.png") as im:
        im.verify()
    only = compare_runs([runs["balanced"]], include_baselines=False)
    assert [r["kind"] for r in only.table] == ["balanced"]


def test_compare_runs_reorders_columns_to_first_run(tmp_path: Path) -> None:
    labels = [0, 1, 2] * 20
    a = make_run(tmp_path / "a", name="a", kind="baseline", names=["x", "y", "z"], train_before=[100, 10, 50],
                 test_labels=labels, seed=1)
    b = make_run(tmp_path / "b", name="b", kind="balanced", names=["z", "x", "y"], train_before=[50, 100, 10],
                 test_labels=labels, seed=2)
    result = compare_runs([a, b])
    assert result.label_names == ["x", "y", "z"] and result.smallest_class == "y"
    mb = metrics_of(b)
    assert result.table[1]["class_f1"] == {"x": mb["f1_x"], "y": mb["f1_y"], "z": mb["f1_z"]}


def test_differing_label_sets_are_rejected(tmp_path: Path, runs: dict[str, Path]) -> None:
    other = make_run(tmp_path / "other", name="sms-run", kind="balanced", names=["ham", "spam"],
                     train_before=[3614, 514], test_labels=[0, 1] * 10, seed=4)
    with pytest.raises(ValueError, match=r"different label sets.*trec6-baseline.*sms-run"):
        compare_runs([runs["baseline"], other])
    with pytest.raises(ValueError, match="different label sets"):
        render_report(other, baseline_dir=runs["baseline"])


def test_trainer_prefixed_metric_keys_are_accepted(tmp_path: Path) -> None:
    run = make_run(tmp_path / "p", name="p", kind="baseline", names=["ham", "spam"], train_before=[90, 10],
                   test_labels=[0] * 18 + [1] * 6, seed=6)
    plain = json.loads((run / "metrics.json").read_text())
    prefixed = {"test": {f"test_{k}": v for k, v in plain["test"].items()},
                "validation": {f"eval_{k}": v for k, v in plain["validation"].items()}}
    (run / "metrics.json").write_text(json.dumps(prefixed))
    assert headline(run)["smallest_class_f1"] == plain["test"]["f1_spam"]
    assert load_run(run).metrics["validation"]["macro_f1"] == plain["validation"]["macro_f1"]


def test_missing_files_give_clear_errors(tmp_path: Path, runs: dict[str, Path]) -> None:
    with pytest.raises(FileNotFoundError, match="does not exist"):
        render_report(tmp_path / "nowhere")
    (runs["baseline"] / "metrics.json").unlink()
    with pytest.raises(FileNotFoundError, match=r"metrics\.json"):
        headline(runs["baseline"])
    with pytest.raises(TypeError, match="sequence"):
        compare_runs(runs["balanced"])  # type: ignore[arg-type]


def test_untrusted_text_is_escaped(tmp_path: Path) -> None:
    names = ["ok", "bad|<i>class</i>"]
    evil = '<script>alert("x")</script> & | name'
    labels = [0] * 30 + [1] * 10
    texts = ["<img src=x onerror=alert(1)> | text"] * len(labels)
    run = make_run(tmp_path / "evil", name=evil, kind="balanced", names=names, train_before=[300, 10],
                   test_labels=labels, texts=texts, skill=0.2, seed=9)
    render_report(run)
    parsed = parse_html(run / "report.html")
    assert parsed.tags["script"] == 0 and parsed.tags["i"] == 0
    # The only <img> elements are the four embedded plots; the <img> in the texts stays text.
    assert len(parsed.images) == len(PLOT_FILES)
    assert all(src.startswith("data:image/png;base64,") for src in parsed.images)
    assert evil in " ".join(parsed.text)  # shown literally
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


def test_confusion_rebuilt_from_predictions_and_log_scale_rule(tmp_path: Path, trec: dict) -> None:
    run = make_run(tmp_path / "r", name="r", kind="balanced", names=trec["names"], train_before=trec["train_counts"],
                   test_labels=trec["labels"], with_confusion=False, seed=11)
    rows = _jsonl(run / "predictions.jsonl")
    expected = confusion_matrix([r["label"] for r in rows], [r["prediction"] for r in rows], labels=trec["names"])
    np.testing.assert_array_equal(load_run(run).confusion, expected)
    # Index-valued labels give the same matrix.
    idx = {n: i for i, n in enumerate(trec["names"])}
    (run / "predictions.jsonl").write_text("".join(
        json.dumps({**r, "label": idx[r["label"]], "prediction": idx[r["prediction"]]}) + "\n" for r in rows))
    np.testing.assert_array_equal(load_run(run).confusion, expected)
    assert _use_log_scale([84, 1245]) is False  # ratio 14.8
    assert _use_log_scale([100, 2001]) is True  # ratio 20.01
    assert _use_log_scale([500, 500], [10, 1000]) is True


def test_history_after_training_is_not_part_of_the_curves() -> None:
    history = [{"loss": 1.0, "step": 10}, {"eval_loss": 0.9, "eval_macro_f1": 0.5, "step": 20},
               {"train_runtime": 3.0, "step": 20}, {"eval_loss": 0.95, "eval_macro_f1": 0.4, "step": 20}]
    assert _split_history(history) == (history[:2], history[3:])
    assert _split_history(history[:2]) == (history[:2], [])


def test_cli_main(runs: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["render", str(runs["balanced"])]) == 0
    assert capsys.readouterr().out.strip() == str(runs["balanced"] / "report.html")
    assert main(["compare", str(runs["baseline"]), str(runs["balanced"]), "--no-baselines"]) == 0
    out = capsys.readouterr().out
    assert "trec6-baseline" in out and "trec6-balanced" in out and "trec6-balanced-baseline" not in out
