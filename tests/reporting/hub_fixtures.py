"""Inputs for the Hub card and push tests: a balanced TREC-6 subset, a model saved in a run folder, card readers.

Expected values in the tests come from these inputs (label counts, sklearn metrics, the files
written), never from the implementation under test. The run folder is written by hand in the
layout ``nlp-balance train`` leaves (``run_dir/run_info.json``, ``metrics.json``, ``model/``).
"""

from __future__ import annotations

import collections
import json
import random
from pathlib import Path
from typing import Any

import datasets
import numpy as np
from conftest import shared_dataset_path

from nlp_balance import Balancer, class_distribution, load_text_dataset
from nlp_balance.augment.base import Augmenter, register_augmenter
from nlp_balance.evaluation.decision_rules import PosthocAdjustment

SEED = 7
LABELS = ["ham", "spam", "scam"]
BASE_MODEL = "google/bert_uncased_L-2_H-128_A-2"
DATASET = "ucirvine/sms_spam"


@register_augmenter
class HubTestSuffix(Augmenter):
    """A deterministic toy augmenter (appends a drawn word and number), so these tests own their augmenter."""

    name = "hub_test_suffix"
    version = "1"

    def __init__(self, words: tuple[str, ...] | list[str] = ("alpha", "beta", "gamma"), p: float = 1.0) -> None:
        super().__init__(p=p)
        self.words = list(words)

    def augment_one(self, text: str, rng: random.Random) -> str | None:
        return f"{text} {rng.choice(self.words)} {rng.randrange(10**6)}"


def make_trec_subset(out: Path) -> Path:
    """The first 300 train and 60 test rows of the shared trec6 data, as a jsonl folder (all 6 classes)."""
    src = shared_dataset_path("trec6")
    for split, n in (("train", 300), ("test", 60)):
        lines = (src / f"{split}.jsonl").read_text(encoding="utf-8").splitlines()[:n]
        (out / f"{split}.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return out


def make_balanced(trec_subset: Path) -> tuple[Any, Any, Balancer, Any]:
    """``(original, balanced, fitted balancer, train distribution before)`` of the subset."""
    dataset = load_text_dataset(trec_subset)
    before = class_distribution(dataset["train"])
    balancer = Balancer(HubTestSuffix(words=["alpha", "beta"]), "auto", seed=SEED)
    balanced = balancer.fit_resample(dataset)
    return dataset, balanced, balancer, before


def metrics_reference() -> dict[str, float]:
    """Test metrics of fixed predictions, computed with sklearn (the independent reference), flat keys."""
    from sklearn.metrics import balanced_accuracy_score, f1_score, precision_recall_fscore_support

    rng = np.random.default_rng(0)
    y = rng.choice(3, size=200, p=[0.7, 0.2, 0.1])
    pred = np.where(rng.random(200) < 0.75, y, rng.choice(3, size=200))
    p, r, f, s = precision_recall_fscore_support(y, pred, labels=[0, 1, 2], zero_division=0)
    out = {"macro_f1": f1_score(y, pred, average="macro"), "balanced_accuracy": balanced_accuracy_score(y, pred),
           "accuracy": float((y == pred).mean())}
    for i, name in enumerate(LABELS):
        out |= {f"f1_{name}": f[i], f"precision_{name}": p[i], f"recall_{name}": r[i], f"support_{name}": int(s[i])}
    return {k: float(v) for k, v in out.items()}


RUN_INFO = {
    "name": "spam-focal", "kind": "balanced", "seed": 11, "source": DATASET, "label_names": LABELS,
    "model": BASE_MODEL, "loss": "focal", "loss_params": {"gamma": 2.0}, "class_weighting": "balanced",
    "class_weights": [0.476, 1.667, 3.333], "sampler": None, "sampling_strategy": "auto",
    "augmenters": [{"name": "hub_test_suffix", "version": "1", "config": {"p": 1.0}}],
    "balance_report": {"augmenter": {"name": "hub_test_suffix", "version": "1", "config": {"p": 1.0}},
                       "sampling_strategy": "auto", "seed": 11, "rounds": 1,
                       "classes": [{"label": n, "before": b, "after": 700} for n, b in zip(LABELS, [700, 200, 100])]},
    "posthoc": None, "train_rows": 2100, "train_time_s": 12.5,
}


def make_model_run(run_dir: Path) -> Path:
    """A run folder as ``nlp-balance train`` leaves it, with a tiny random BERT in ``model/``; returns ``model/``.

    The model folder also holds a ``posthoc.json`` and Trainer leftovers that must not be uploaded.
    """
    from transformers import BertConfig, BertForSequenceClassification, BertTokenizerFast

    run_dir.mkdir(parents=True)
    vocab = run_dir / "vocab.txt"
    vocab.write_text("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "free", "win", "hi"]) + "\n")
    tok = BertTokenizerFast(vocab_file=str(vocab))
    vocab.unlink()
    cfg = BertConfig(vocab_size=len(tok), hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                     intermediate_size=32, max_position_embeddings=32, num_labels=3,
                     id2label=dict(enumerate(LABELS)), label2id={n: i for i, n in enumerate(LABELS)})
    model_dir = run_dir / "model"
    BertForSequenceClassification(cfg).save_pretrained(model_dir)
    tok.save_pretrained(model_dir)
    PosthocAdjustment([-0.3, 0.4, 0.9], "logit_adjustment", {"tau": 1.0}).save(model_dir)
    (run_dir / "run_info.json").write_text(json.dumps(RUN_INFO))
    (run_dir / "metrics.json").write_text(json.dumps({"test": metrics_reference(), "validation": {"macro_f1": 0.1}}))
    (model_dir / "checkpoint-5").mkdir()
    (model_dir / "checkpoint-5" / "optimizer.pt").write_bytes(b"\0" * 64)
    (model_dir / "optimizer.pt").write_bytes(b"\0" * 64)
    return model_dir


def markdown_table(body: str, first_header: str) -> list[list[str]]:
    """Rows (as cell strings) of the first markdown table whose first header cell is ``first_header``."""
    lines = body.splitlines()
    for i, line in enumerate(lines):
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("|") and cells[0] == first_header:
            rows = []
            for row in lines[i + 2:]:
                if not row.startswith("|"):
                    break
                rows.append([c.strip() for c in row.strip().strip("|").split("|")])
            return [cells, *rows]
    raise AssertionError(f"no table with header {first_header!r} in:\n{body}")


def to_int(cell: str) -> int:
    """A table cell with thousands separators as an int."""
    return int(cell.replace(",", ""))


def label_counts(ds: datasets.Dataset) -> dict[str, int]:
    """Rows per class name of a dataset with a ClassLabel ``label`` column."""
    names = ds.features["label"].names
    return {names[k]: v for k, v in collections.Counter(ds["label"]).items()}
