"""Tests for nlp_balance.reporting.hub_push, offline: only the HTTP boundary is fake (tests/fake_hub.py).

``datasets`` and ``huggingface_hub`` run their real upload and download code against a local server;
expected values come from the inputs (label counts, the files written), never from the code under test.
"""

from __future__ import annotations

import io
import sys
from pathlib import Path

import datasets
import pyarrow.parquet as pq
import pytest
from hub_fixtures import BASE_MODEL, LABELS, SEED, label_counts, make_balanced, make_model_run, make_trec_subset
from hub_fixtures import markdown_table as _markdown_table
from hub_fixtures import to_int as _int
from huggingface_hub import DatasetCard, ModelCard

from nlp_balance.reporting.hub_push import push_balanced_dataset, push_trained_model

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from fake_hub import FakeHub


@pytest.fixture(scope="module")
def trec_subset(tmp_path_factory) -> Path:
    return make_trec_subset(tmp_path_factory.mktemp("trec_subset"))


@pytest.fixture(scope="module")
def balanced_run(trec_subset):
    return make_balanced(trec_subset)


@pytest.fixture
def model_dir(tmp_path) -> Path:
    return make_model_run(tmp_path / "run")


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
        monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)  # CI runs offline; the fake Hub is local
        monkeypatch.setenv("HF_TOKEN", hub.token)
        monkeypatch.setenv("HF_HUB_DISABLE_IMPLICIT_TOKEN", "0")
        yield hub
    finally:
        hub.stop()
    assert hub.unknown == [], f"requests the fake Hub does not implement: {hub.unknown}"


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
    assert after == label_counts(balanced["train"])

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
# pushing a model
def test_push_trained_model_uploads_folder_with_card(fake_hub, model_dir, tmp_path):
    from huggingface_hub import hf_hub_download
    from transformers import AutoModelForSequenceClassification

    url = push_trained_model(model_dir, "tester/spam-model", card_info={"seed": 12})
    assert url == f"{fake_hub.endpoint}/tester/spam-model"
    files = fake_hub.files("tester/spam-model")
    assert {"config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json", "README.md",
            "posthoc.json"} <= set(files)
    # Trainer leftovers stay home; the run's own files live beside model/, not in it.
    assert not any(n.startswith("checkpoint-") or n in ("optimizer.pt", "run_info.json") for n in files)
    assert files["model.safetensors"].lfs and not files["README.md"].lfs
    assert files["model.safetensors"].data == (model_dir / "model.safetensors").read_bytes()
    card = ModelCard(files["README.md"].data.decode())
    # base_model from the run folder's run_info.json, the seed from card_info (which wins).
    assert card.data.base_model == BASE_MODEL and "Seed: `12`" in card.text

    # what was pushed loads back through the real download path, with the label names
    readme = hf_hub_download("tester/spam-model", "README.md", cache_dir=str(tmp_path / "c"))
    assert Path(readme).read_text(encoding="utf-8") == files["README.md"].data.decode()
    model = AutoModelForSequenceClassification.from_pretrained("tester/spam-model", cache_dir=str(tmp_path / "c"))
    assert [model.config.id2label[i] for i in range(3)] == LABELS


def test_push_trained_model_needs_a_saved_model(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"config\.json"):
        push_trained_model(tmp_path, "tester/m", card_info={})
    assert not (tmp_path / "README.md").exists()  # no card for a folder that is not a model
