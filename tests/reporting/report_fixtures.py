"""Run folders for the reporting tests, built from real TREC-6 labels and random predictions.

The fake runs are consistent the way the pipeline's are: metrics come from
``compute_imbalance_metrics`` on the written predictions, distributions from ``ClassDistribution``.
The files are written here by hand, in the documented run-folder format, so that the readers under
test are checked against an independent writer. Expected figures are read back from those JSON files
(or recomputed with scikit-learn), never copied from the report code.
"""

from __future__ import annotations

import json
from collections import Counter
from functools import cache
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from conftest import BENCH_DATA

from nlp_balance.data.distribution import ClassDistribution
from nlp_balance.evaluation.metrics import compute_imbalance_metrics

TREC_NAMES = ["ABBR", "DESC", "ENTY", "HUM", "LOC", "NUM"]


def read_jsonl(path: Path) -> list[dict]:
    """Rows of a JSON-lines file."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


@cache
def trec_data() -> dict[str, Any]:
    """Real TREC-6 test texts/labels (as indices) and train counts, read straight from the files."""
    train = read_jsonl(BENCH_DATA / "trec6" / "train.jsonl")
    test = read_jsonl(BENCH_DATA / "trec6" / "test.jsonl")
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


def _run_info(name: str, kind: str, names: list[str], train_before: list[int], train_after: list[int] | None,
              seed: int, rng: np.random.Generator) -> dict[str, Any]:
    k = len(names)
    return {
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


def _log_history(rng: np.random.Generator) -> list[dict[str, Any]]:
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
    return history


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
    info = _run_info(name, kind, names, train_before, train_after, seed, rng)
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
        (folder / "log_history.json").write_text(json.dumps(_log_history(rng)))
    with (folder / "predictions.jsonl").open("w", encoding="utf-8") as handle:
        for text, y, p, pr in zip(texts, test_labels, preds, probs):
            # Class names, as the pipeline writes them (indices are accepted too).
            row = {"text": text, "label": names[y], "prediction": names[p], "probabilities": pr.tolist()}
            handle.write(json.dumps(row) + "\n")
    return folder


def make_runs(tmp_path: Path) -> dict[str, Path]:
    """A standalone baseline and a balanced run with its own nested baseline, on TREC-6 labels."""
    trec = trec_data()
    before = trec["train_counts"]
    after = [max(before)] * len(before)
    common = {"names": trec["names"], "train_before": before, "test_labels": trec["labels"], "texts": trec["texts"]}
    baseline = make_run(tmp_path / "baseline_run", name="trec6-baseline", kind="baseline", skill=0.5, seed=1, **common)
    balanced = make_run(tmp_path / "balanced_run", name="trec6-balanced", kind="balanced", train_after=after,
                        skill=0.7, seed=2, **common)
    make_run(balanced / "baseline", name="trec6-balanced-baseline", kind="baseline", skill=0.5, seed=3, **common)
    return {"baseline": baseline, "balanced": balanced, "nested": balanced / "baseline"}


def metrics_of(folder: Path) -> dict:
    """The test metrics of a run folder, read straight from its metrics.json."""
    return json.loads((folder / "metrics.json").read_text())["test"]


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


def parse_html(text: str) -> StrictHTML:
    """Parse an HTML page strictly (every element closed in order) and return what it holds."""
    parser = StrictHTML()
    parser.feed(text)
    parser.close()
    assert parser.stack == [], f"unclosed elements {parser.stack}"
    return parser
