"""Dataset/model cards and pushes to the Hub, offline: only the HTTP boundary is fake (tests/fake_hub.py).

``datasets`` and ``huggingface_hub`` run their real upload and download code against a local server;
expected values come from the inputs (label counts, sklearn metrics, the files written), never from
the implementation under test.
"""

from __future__ import annotations

import collections
import io
import json
import random
import re
import shlex
import sys
from pathlib import Path

import datasets
import numpy as np
import pyarrow.parquet as pq
import pytest
from huggingface_hub import DatasetCard, ModelCard

from nlp_balance import Balancer, class_distribution, load_text_dataset
from nlp_balance.augment.base import Augmenter, register_augmenter
from nlp_balance.reporting.hub import (
    dataset_card,
    model_card,
    push_balanced_dataset,
    push_trained_model,
    size_category,
    write_dataset_card,
    write_model_card,
)

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from conftest import shared_dataset_path
from fake_hub import FakeHub

SEED = 7


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


# ---------------------------------------------------------------------------------------------------------
# fixtures
@pytest.fixture(scope="module")
def trec_subset(tmp_path_factory) -> Path:
    """The first 300 train and 60 test rows of the shared trec6 data, as a jsonl folder (all 6 classes)."""
    src = shared_dataset_path("trec6")
    out = tmp_path_factory.mktemp("trec_subset")
    for split, n in (("train", 300), ("test", 60)):
        lines = (src / f"{split}.jsonl").read_text(encoding="utf-8").splitlines()[:n]
        (out / f"{split}.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return out


@pytest.fixture(scope="module")
def balanced_run(trec_subset):
    dataset = load_text_dataset(trec_subset)
    before = class_distribution(dataset["train"])
    balancer = Balancer(HubTestSuffix(words=["alpha", "beta"]), "auto", seed=SEED)
    balanced = balancer.fit_resample(dataset)
    return dataset, balanced, balancer, before


@pytest.fixture
def fake_hub(tmp_path, monkeypatch):
    """Start the fake Hub and point huggingface_hub and datasets at it (constants are read at import)."""
    import datasets.config as dconfig
    import huggingface_hub.constants as hconst

    hub = FakeHub()
    endpoint = hub.start()
    try:
        monkeypatch.setattr(hconst, "ENDPOINT", endpoint)
        template = endpoint + "/{repo_id}/resolve/{revision}/{filename}"
        monkeypatch.setattr(hconst, "HUGGINGFACE_CO_URL_TEMPLATE", template)
        monkeypatch.setattr(hconst, "HF_HUB_DISABLE_XET", True)  # plain LFS uploads (the fake has no Xet CAS)
        monkeypatch.setattr(hconst, "HF_HUB_OFFLINE", False)
        monkeypatch.setattr(hconst, "HF_HUB_CACHE", str(tmp_path / "hub_cache"))
        monkeypatch.setattr(dconfig, "HF_ENDPOINT", endpoint)
        monkeypatch.setattr(dconfig, "HUB_DATASETS_URL", endpoint + "/datasets/{repo_id}/resolve/{revision}/{path}")
        monkeypatch.setattr(dconfig, "HF_HUB_OFFLINE", False)
        monkeypatch.setenv("HF_TOKEN", hub.token)
        monkeypatch.setenv("HF_HUB_DISABLE_IMPLICIT_TOKEN", "0")
        yield hub
    finally:
        hub.stop()
    assert hub.unknown == [], f"requests the fake Hub does not implement: {hub.unknown}"


# ---------------------------------------------------------------------------------------------------------
# helpers that read cards independently of the code under test
def _markdown_table(body: str, first_header: str) -> list[list[str]]:
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


def _int(cell: str) -> int:
    return int(cell.replace(",", ""))


def _label_counts(ds: datasets.Dataset) -> dict[str, int]:
    names = ds.features["label"].names
    return {names[k]: v for k, v in collections.Counter(ds["label"]).items()}


# ---------------------------------------------------------------------------------------------------------
# dataset cards
@pytest.mark.parametrize("rows,expected", [(0, "n<1K"), (999, "n<1K"), (1_000, "1K<n<10K"), (9_999, "1K<n<10K"),
                                           (10_000, "10K<n<100K"), (250_000, "100K<n<1M"), (2_000_000, "1M<n<10M")])
def test_size_category_matches_hub_buckets(rows, expected):
    assert size_category(rows) == expected


def test_size_category_rejects_negative():
    with pytest.raises(ValueError, match="-1"):
        size_category(-1)


def test_dataset_card_written_locally_records_how_data_was_made(tmp_path, balanced_run, trec_subset):
    original, balanced, balancer, before = balanced_run
    path = write_dataset_card(tmp_path / "out", balanced, source=str(trec_subset), balancer=balancer, before=before)
    assert path == tmp_path / "out" / "README.md"
    card = DatasetCard.load(path)
    meta = card.data.to_dict()
    assert meta["task_categories"] == ["text-classification"]
    assert {"nlp_balance", "imbalanced-classification", "data-augmentation"} <= set(meta["tags"])
    assert "license" not in meta  # unknown: omitted rather than guessed
    total = sum(len(s) for s in balanced.values())
    assert meta["size_categories"] == ["n<1K" if total < 1000 else "1K<n<10K"]
    assert meta["nlp_balance"]["balancer"]["seed"] == SEED
    assert meta["nlp_balance"]["balancer"]["augmenter"]["config"] == {"words": ["alpha", "beta"], "p": 1.0}

    # class table: before = counts in the source rows, after = counts in the balanced split
    table = _markdown_table(card.text, "class")
    header, rows = table[0], {r[0]: r for r in table[1:]}
    want_before = _label_counts(original["train"])
    want_after = _label_counts(balanced["train"])
    for name in original["train"].features["label"].names:
        assert _int(rows[name][header.index("before")]) == want_before.get(name, 0)
        assert _int(rows[name][header.index("after")]) == want_after[name]
    kinds = collections.Counter(balanced["train"]["augmentation"])
    assert _int(rows["**total**"][header.index("new (augmented)")]) == kinds["hub_test_suffix"]
    assert len(set(want_after.values())) == 1  # "auto" brings every class to the majority count

    body = card.text
    assert f"Seed: `{SEED}`" in body
    assert "`hub_test_suffix`" in body and '"alpha"' in body
    assert "`source_index`" in body and "`augmentation`" in body
    assert "untouched" in body and "`test`" in body
    assert "nlp_balance" in body and re.search(r"\d+\.\d+\.\d+", body)
    split_rows = {r[0]: r for r in _markdown_table(body, "split")[1:]}
    assert _int(split_rows["test"][1]) == len(original["test"]) and split_rows["test"][2] == "unchanged"


def test_dataset_card_reproduce_command_rebuilds_the_same_data(tmp_path, balanced_run, trec_subset):
    """Run the card's CLI command (output path swapped for a temp folder): it must rebuild identical rows."""
    from nlp_balance.cli.main import main

    _, balanced, balancer, before = balanced_run
    card = dataset_card(balanced, source=str(trec_subset), balancer=balancer, before=before)
    command = re.search(r"```bash\n(.+?)\n```", card.text, flags=re.S).group(1)
    argv = shlex.split(command)
    assert argv[:2] == ["nlp-balance", "balance"] and argv[-2] == "--out"
    out = tmp_path / "rebuilt"
    assert main([*argv[1:-1], str(out)]) == 0
    rebuilt = datasets.load_from_disk(str(out))
    for split in balanced:
        assert rebuilt[split].to_dict() == balanced[split].to_dict(), split


def test_dataset_card_errors_name_the_problem(balanced_run, trec_subset):
    original, balanced, balancer, before = balanced_run
    with pytest.raises(ValueError, match="not been fitted"):
        dataset_card(balanced, source="x", balancer=Balancer(seed=1), before=before)
    other = class_distribution(original["train"].rename_column("label", "y").cast_column(
        "y", datasets.ClassLabel(names=[f"c{i}" for i in range(6)])), "y")
    with pytest.raises(ValueError, match="classes"):
        dataset_card(balanced, source="x", balancer=balancer, before=other)
    with pytest.raises(KeyError, match="train"):
        dataset_card(datasets.DatasetDict({"test": balanced["test"]}), source="x", balancer=balancer, before=before)
    with pytest.raises(TypeError, match="DatasetDict"):
        dataset_card(balanced["train"], source="x", balancer=balancer, before=before)


# ---------------------------------------------------------------------------------------------------------
# pushing a dataset
def test_push_balanced_dataset_stores_parquet_and_merged_card(fake_hub, balanced_run, trec_subset, tmp_path):
    _, balanced, balancer, before = balanced_run
    # token=None on purpose: the CLI passes none, so it must come from HF_TOKEN like for any huggingface_hub call
    url = push_balanced_dataset(balanced, "tester/trec-balanced", balancer=balancer, source=str(trec_subset),
                                before=before, private=True)
    assert url == f"{fake_hub.endpoint}/datasets/tester/trec-balanced"
    repo = fake_hub.repo("tester/trec-balanced", "dataset")
    assert repo.private
    files = repo.head.files
    parquet = {name: f for name, f in files.items() if name.endswith(".parquet")}
    assert {n.split("/")[1].split("-")[0] for n in parquet} == {"train", "test"}
    assert all(n.startswith("data/") and f.lfs for n, f in parquet.items())
    assert fake_hub.lfs_uploads == len(parquet)
    # the card was committed on top of the datasets commit, after it had been read
    assert [c.title for c in repo.commits][-1].startswith("Dataset card")
    assert repo.commits[-1].parent == repo.commits[-2].oid

    # parquet bytes as stored on the "Hub" give back exactly the pushed rows (pyarrow, not datasets); the
    # test split is untouched and only gains trivial provenance columns (one schema for all splits)
    n_test = len(balanced["test"])
    expected = {"train": balanced["train"].to_dict(),
                "test": {**balanced["test"].to_dict(), "source_index": list(range(n_test)),
                         "augmentation": ["original"] * n_test}}
    for split in balanced:
        tables = [pq.read_table(io.BytesIO(f.data)) for n, f in sorted(parquet.items()) if f"/{split}-" in n]
        rows = {k: [v for t in tables for v in t.column(k).to_pylist()] for k in tables[0].column_names}
        assert rows == expected[split], split

    card = DatasetCard(files["README.md"].data.decode())
    meta = card.data.to_dict()
    # what datasets wrote is kept ...
    assert meta["configs"][0]["config_name"] == "default"
    assert {d["split"] for d in meta["configs"][0]["data_files"]} == {"train", "test"}
    splits = {s["name"]: s["num_examples"] for s in meta["dataset_info"]["splits"]}
    assert splits == {s: len(balanced[s]) for s in balanced}
    label_feature = next(f for f in meta["dataset_info"]["features"] if f["name"] == "label")
    assert list(label_feature["dtype"]["class_label"]["names"].values()) == balanced["train"].features["label"].names
    # ... and ours is added
    assert meta["task_categories"] == ["text-classification"] and "nlp_balance" in meta["tags"]
    assert f"Seed: `{SEED}`" in card.text and "`hub_test_suffix`" in card.text
    table = _markdown_table(card.text, "class")
    after = {r[0]: _int(r[table[0].index("after")]) for r in table[1:] if r[0] != "**total**"}
    assert after == _label_counts(balanced["train"])

    # and the real loader reads it back through the fake Hub with the same rows and ClassLabel
    back = datasets.load_dataset("tester/trec-balanced", cache_dir=str(tmp_path / "ds_cache"))
    for split in balanced:
        assert back[split].features == balanced["train"].features
        assert back[split].to_dict() == expected[split]


def test_cli_balance_push_to_hub_goes_through_push_balanced_dataset(fake_hub, trec_subset, tmp_path, capsys):
    from nlp_balance.cli.main import main

    code = main(["balance", str(trec_subset), "--augmenter", "hub_test_suffix", "--seed", "3",
                 "--out", str(tmp_path / "out"), "--push-to-hub", "tester/from-cli", "--private"])
    assert code == 0
    assert f"{fake_hub.endpoint}/datasets/tester/from-cli" in capsys.readouterr().out
    repo = fake_hub.repo("tester/from-cli", "dataset")
    assert repo.private
    local = datasets.load_from_disk(str(tmp_path / "out"))
    meta = DatasetCard(repo.head.files["README.md"].data.decode()).data.to_dict()
    assert meta["nlp_balance"]["balancer"]["seed"] == 3
    assert {s["name"]: s["num_examples"] for s in meta["dataset_info"]["splits"]} == {s: len(local[s]) for s in local}


def test_push_balanced_dataset_twice_replaces_card_and_keeps_metadata(fake_hub, balanced_run, trec_subset):
    _, balanced, balancer, before = balanced_run
    for _ in range(2):
        push_balanced_dataset(balanced, "trec-twice", balancer=balancer, source=str(trec_subset), before=before,
                              token=fake_hub.token)  # no namespace: resolved with whoami
    text = fake_hub.files("tester/trec-twice", "dataset")["README.md"].data.decode()
    assert text.count("## Class counts") == 1
    meta = DatasetCard(text).data.to_dict()
    assert meta["tags"].count("nlp_balance") == 1 and "dataset_info" in meta and "configs" in meta


def test_push_balanced_dataset_with_bad_token_fails_before_any_upload(fake_hub, balanced_run, trec_subset):
    from huggingface_hub.errors import HfHubHTTPError

    _, balanced, balancer, before = balanced_run
    with pytest.raises(HfHubHTTPError):
        push_balanced_dataset(balanced, "tester/nope", balancer=balancer, source=str(trec_subset), before=before,
                              token="hf_wrong")
    assert fake_hub.repos == {} and fake_hub.lfs_blobs == {}


# ---------------------------------------------------------------------------------------------------------
# model cards and pushing a model
LABELS = ["ham", "spam", "scam"]


def _metrics_reference() -> dict[str, float]:
    """Test metrics of fixed predictions, computed with sklearn (the independent reference)."""
    from sklearn.metrics import balanced_accuracy_score, f1_score, precision_recall_fscore_support

    rng = np.random.default_rng(0)
    y = rng.choice(3, size=200, p=[0.7, 0.2, 0.1])
    pred = np.where(rng.random(200) < 0.75, y, rng.choice(3, size=200))
    p, r, f, s = precision_recall_fscore_support(y, pred, labels=[0, 1, 2], zero_division=0)
    out = {"test_macro_f1": f1_score(y, pred, average="macro"),
           "test_balanced_accuracy": balanced_accuracy_score(y, pred),
           "test_accuracy": float((y == pred).mean()), "eval_macro_f1": 0.123}
    for i, name in enumerate(LABELS):
        out |= {f"test_f1_{name}": f[i], f"test_precision_{name}": p[i], f"test_recall_{name}": r[i],
                f"test_support_{name}": int(s[i])}
    return {k: float(v) for k, v in out.items()}


@pytest.fixture
def model_dir(tmp_path) -> Path:
    """A folder as the trainer leaves it: tiny random BERT + tokenizer, run files, and leftovers to skip."""
    from transformers import BertConfig, BertForSequenceClassification, BertTokenizerFast

    vocab = tmp_path / "vocab.txt"
    vocab.write_text("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "free", "win", "hi"]) + "\n")
    tok = BertTokenizerFast(vocab_file=str(vocab))
    cfg = BertConfig(vocab_size=len(tok), hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                     intermediate_size=32, max_position_embeddings=32, num_labels=3,
                     id2label=dict(enumerate(LABELS)), label2id={n: i for i, n in enumerate(LABELS)})
    out = tmp_path / "run"
    BertForSequenceClassification(cfg).save_pretrained(out)
    tok.save_pretrained(out)
    (out / "metrics.json").write_text(json.dumps(_metrics_reference()))
    (out / "posthoc.json").write_text(json.dumps({"method": "logit_adjustment", "offsets": [-0.3, 0.4, 0.9]}))
    (out / "nlp_balance_run.json").write_text(json.dumps({
        "base_model": "google/bert_uncased_L-2_H-128_A-2", "dataset": "ucirvine/sms_spam", "seed": 11,
        "loss": {"name": "focal", "gamma": 2.0}, "class_weights": "balanced",
        "training": {"learning_rate": 5e-5, "num_train_epochs": 3, "per_device_train_batch_size": 32},
        "balance": {"augmenter": {"name": "hub_test_suffix", "version": "1", "config": {"p": 1.0}},
                    "sampling_strategy": "auto", "seed": 11,
                    "classes": [{"label": n, "before": b, "after": 700} for n, b in zip(LABELS, [700, 200, 100])]},
    }))
    (out / "checkpoint-5").mkdir()
    (out / "checkpoint-5" / "optimizer.pt").write_bytes(b"\0" * 64)
    (out / "optimizer.pt").write_bytes(b"\0" * 64)
    return out


def test_model_card_written_locally_records_the_run(model_dir):
    ref = _metrics_reference()
    path = write_model_card(model_dir, {"license": "apache-2.0"})
    card = ModelCard.load(path)
    data = card.data
    assert data.pipeline_tag == "text-classification" and data.library_name == "transformers"
    assert data.base_model == "google/bert_uncased_L-2_H-128_A-2" and data.datasets == ["ucirvine/sms_spam"]
    assert data.license == "apache-2.0"
    results = {r.metric_type: r.metric_value for r in data.eval_results}
    assert results["macro_f1"] == pytest.approx(ref["test_macro_f1"])  # test_ wins over eval_
    assert results["balanced_accuracy"] == pytest.approx(ref["test_balanced_accuracy"])

    metrics = {r[0]: float(r[1]) for r in _markdown_table(card.text, "metric")[1:]}
    assert metrics["macro-F1"] == pytest.approx(ref["test_macro_f1"], abs=1e-4)
    assert metrics["balanced accuracy"] == pytest.approx(ref["test_balanced_accuracy"], abs=1e-4)
    per_class = _markdown_table(card.text, "class")  # first "class" table: the balancing counts
    assert [r[0] for r in per_class[1:]] == LABELS
    f1_rows = {r[0]: r for r in _markdown_table(card.text.split("Per class:")[1], "class")[1:]}
    for name in LABELS:
        assert float(f1_rows[name][1]) == pytest.approx(ref[f"test_f1_{name}"], abs=1e-4)
        assert _int(f1_rows[name][4]) == int(ref[f"test_support_{name}"])
    text = card.text
    assert "Seed: `11`" in text and "`focal`" in text and "balanced" in text
    assert "| learning_rate | 5e-05 |" in text and "logit_adjustment" in text and "`hub_test_suffix`" in text


def test_model_card_from_minimal_info_and_bad_input(tmp_path):
    card = model_card({"base_model": str(tmp_path)})  # a local path is not Hub metadata
    assert card.data.base_model is None and str(tmp_path) in card.text
    assert "No test metrics were recorded." in card.text
    with pytest.raises(TypeError, match="mapping"):
        model_card(["not", "a", "dict"])  # type: ignore[arg-type]
    with pytest.raises(FileNotFoundError, match=r"config\.json"):
        push_trained_model(tmp_path, "tester/m", card_info={})


def test_push_trained_model_uploads_folder_with_card(fake_hub, model_dir, tmp_path):
    from huggingface_hub import hf_hub_download
    from transformers import AutoModelForSequenceClassification

    url = push_trained_model(model_dir, "tester/spam-model", card_info={"seed": 11})
    assert url == f"{fake_hub.endpoint}/tester/spam-model"
    files = fake_hub.files("tester/spam-model")
    assert {"config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json", "README.md",
            "metrics.json", "posthoc.json", "nlp_balance_run.json"} <= set(files)
    assert not any(n.startswith("checkpoint-") or n == "optimizer.pt" for n in files)
    assert files["model.safetensors"].lfs and not files["README.md"].lfs
    assert files["model.safetensors"].data == (model_dir / "model.safetensors").read_bytes()
    card = ModelCard(files["README.md"].data.decode())
    assert card.data.base_model == "google/bert_uncased_L-2_H-128_A-2" and "Seed: `11`" in card.text

    # what was pushed loads back through the real download path, with the label names
    readme = hf_hub_download("tester/spam-model", "README.md", cache_dir=str(tmp_path / "c"))
    assert Path(readme).read_text(encoding="utf-8") == files["README.md"].data.decode()
    model = AutoModelForSequenceClassification.from_pretrained("tester/spam-model", cache_dir=str(tmp_path / "c"))
    assert [model.config.id2label[i] for i in range(3)] == LABELS
