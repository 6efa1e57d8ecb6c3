"""Tests for nlp_balance.reporting.hub_cards: dataset and model cards, written locally (no Hub needed)."""

from __future__ import annotations

import collections
import json
import re
import shlex
from pathlib import Path

import datasets
import pytest
from hub_fixtures import (
    BASE_MODEL,
    DATASET,
    LABELS,
    RUN_INFO,
    SEED,
    label_counts,
    make_balanced,
    make_model_run,
    make_trec_subset,
    markdown_table,
    metrics_reference,
    to_int,
)
from huggingface_hub import DatasetCard, ModelCard

from nlp_balance import Balancer, class_distribution
from nlp_balance.reporting.hub_cards import (
    dataset_card,
    model_card,
    model_card_info,
    size_category,
    write_dataset_card,
    write_model_card,
)


@pytest.fixture(scope="module")
def trec_subset(tmp_path_factory) -> Path:
    return make_trec_subset(tmp_path_factory.mktemp("trec_subset"))


@pytest.fixture(scope="module")
def balanced_run(trec_subset):
    return make_balanced(trec_subset)


@pytest.fixture
def model_dir(tmp_path) -> Path:
    return make_model_run(tmp_path / "run")


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
    assert sorted(p.name for p in path.parent.iterdir()) == ["README.md"]  # written atomically, nothing left over
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
    table = markdown_table(card.text, "class")
    header, rows = table[0], {r[0]: r for r in table[1:]}
    want_before = label_counts(original["train"])
    want_after = label_counts(balanced["train"])
    for name in original["train"].features["label"].names:
        assert to_int(rows[name][header.index("before")]) == want_before.get(name, 0)
        assert to_int(rows[name][header.index("after")]) == want_after[name]
    kinds = collections.Counter(balanced["train"]["augmentation"])
    assert to_int(rows["**total**"][header.index("new (augmented)")]) == kinds["hub_test_suffix"]
    assert len(set(want_after.values())) == 1  # "auto" brings every class to the majority count

    body = card.text
    assert f"Seed: `{SEED}`" in body
    assert "`hub_test_suffix`" in body and '"alpha"' in body
    assert "`source_index`" in body and "`augmentation`" in body
    assert "untouched" in body and "`test`" in body
    assert "nlp_balance" in body and re.search(r"\d+\.\d+\.\d+", body)
    split_rows = {r[0]: r for r in markdown_table(body, "split")[1:]}
    assert to_int(split_rows["test"][1]) == len(original["test"]) and split_rows["test"][2] == "unchanged"
    # A .md path is used as it is.
    assert write_dataset_card(tmp_path / "card.md", balanced, source="x", balancer=balancer,
                              before=before) == tmp_path / "card.md"


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
    assert "balancer = Balancer(augmenter, 'auto'" in card.text  # and the Python recipe


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
# model cards
def test_model_card_of_a_run_folder_model_reads_the_run(model_dir):
    ref = metrics_reference()
    training = {"learning_rate": 5e-5, "num_train_epochs": 3, "per_device_train_batch_size": 32}
    path = write_model_card(model_dir, {"license": "apache-2.0", "training": training})
    assert path == model_dir / "README.md"
    card = ModelCard.load(path)
    data = card.data
    assert data.pipeline_tag == "text-classification" and data.library_name == "transformers"
    # From the run's run_info.json ("model", "source"), one folder up from model/.
    assert data.base_model == BASE_MODEL and data.datasets == [DATASET]
    assert data.license == "apache-2.0"
    results = {r.metric_type: r.metric_value for r in data.eval_results}
    assert results["macro_f1"] == pytest.approx(ref["macro_f1"])  # from the run's metrics.json, test section
    assert results["balanced_accuracy"] == pytest.approx(ref["balanced_accuracy"])

    metrics = {r[0]: float(r[1]) for r in markdown_table(card.text, "metric")[1:]}
    assert metrics["macro-F1"] == pytest.approx(ref["macro_f1"], abs=1e-4)
    assert metrics["balanced accuracy"] == pytest.approx(ref["balanced_accuracy"], abs=1e-4)
    counts = markdown_table(card.text, "class")  # first "class" table: the balancing counts
    assert [r[0] for r in counts[1:]] == LABELS
    assert [to_int(r[1]) for r in counts[1:]] == [c["before"] for c in RUN_INFO["balance_report"]["classes"]]
    f1_rows = {r[0]: r for r in markdown_table(card.text.split("Per class:")[1], "class")[1:]}
    for name in LABELS:
        assert float(f1_rows[name][1]) == pytest.approx(ref[f"f1_{name}"], abs=1e-4)
        assert to_int(f1_rows[name][4]) == int(ref[f"support_{name}"])
    text = card.text
    assert "Seed: `11`" in text and "`hub_test_suffix`" in text
    assert "Loss: **`focal`**" in text and '"gamma": 2.0' in text  # loss and loss_params
    assert '"method": "balanced"' in text and '"scam": 3.333' in text  # class weighting and its weights
    assert "| learning_rate | 5e-05 |" in text
    # The post-hoc offsets come from the model folder's posthoc.json.
    assert "logit_adjustment" in text and "0.9" in text.split("## Post-hoc adjustment")[1]


def test_model_card_info_sources_and_precedence(model_dir, tmp_path):
    info = model_card_info(model_dir, {"seed": 99})
    assert info["seed"] == 99  # card_info wins
    assert info["model"] == BASE_MODEL and info["metrics"] == metrics_reference()
    assert info["posthoc"]["offsets"] == [-0.3, 0.4, 0.9]
    # A model saved outside a run folder: label names from config.json, whose id2label keys are strings.
    alone = tmp_path / "alone"
    alone.mkdir()
    config = json.loads((model_dir / "config.json").read_text())
    assert set(config["id2label"]) == {"0", "1", "2"}
    (alone / "config.json").write_text(json.dumps({**config, "id2label": {"2": "scam", "0": "ham", "1": "spam"}}))
    assert model_card_info(alone) == {"label_names": LABELS}
    with pytest.raises(FileNotFoundError, match="does not exist"):
        model_card_info(tmp_path / "nowhere")


def test_model_card_takes_run_info_as_the_runner_passes_it():
    """The runner hands run_info.json's dict (plus test metrics): its names fill the card's fields."""
    card = model_card(RUN_INFO | {"metrics": {f"test_{k}": v for k, v in metrics_reference().items()}})
    assert card.data.base_model == BASE_MODEL and card.data.datasets == [DATASET]
    assert "Loss: **`focal`**" in card.text and '"weights"' in card.text
    # The card's own fields win over run_info's names.
    card = model_card(RUN_INFO | {"base_model": "someone/else", "class_weights": "inverse_sqrt"})
    assert card.data.base_model == "someone/else" and "Class weighting: `inverse_sqrt`." in card.text


def test_model_card_metric_prefixes_and_sanitized_class_keys():
    metrics = {"test_macro_f1": 0.61, "eval_macro_f1": 0.123, "eval_accuracy": 0.9, "test_f1_promo_offer": 0.25,
               "test_support_promo_offer": 12}
    card = model_card({"metrics": metrics, "label_names": ["ham", "Promo Offer!"]})
    rows = {r[0]: r[1] for r in markdown_table(card.text, "metric")[1:]}
    assert rows["macro-F1"] == "0.6100" and rows["accuracy"] == "0.9000"  # test_ wins over eval_
    per_class = markdown_table(card.text.split("Per class:")[1], "class")[1:]
    assert per_class == [["Promo Offer!", "0.2500", "–", "–", "12"]]  # the class's name, not its metric key


def test_model_card_from_minimal_info_and_bad_input(tmp_path):
    card = model_card({"base_model": str(tmp_path)})  # a local path is not Hub metadata
    assert card.data.base_model is None and str(tmp_path) in card.text
    assert "No test metrics were recorded." in card.text
    assert "Class weighting: not recorded." in card.text and "not rebalanced" in card.text
    with pytest.raises(TypeError, match="mapping"):
        model_card(["not", "a", "dict"])  # type: ignore[arg-type]
