"""write_split: a split written as class names, atomically, reads back as the same classes."""

from __future__ import annotations

import json
import shutil

import datasets
import numpy as np
import pytest
from conftest import shared_dataset_path

from nlp_balance import load_text_dataset
from nlp_balance.data.export import labels_as_names, write_split


def _balanced_like(train: datasets.Dataset, seed: int = 0) -> datasets.Dataset:
    """Oversample every class to the largest one's count and add a provenance column, as balancing does."""
    labels = np.asarray(train["label"])
    target = np.bincount(labels).max()
    rng = np.random.default_rng(seed)
    rows = np.concatenate([rng.choice(np.flatnonzero(labels == c), target) for c in np.unique(labels)])
    out = train.select(rows.tolist())
    return out.add_column("source_row", rows.tolist())


def test_a_balanced_train_jsonl_reads_back_beside_the_original_test_file(tmp_path, trec6):
    folder = tmp_path / "trec6_balanced"
    folder.mkdir()
    shutil.copy(shared_dataset_path("trec6") / "test.jsonl", folder / "test.jsonl")
    balanced = _balanced_like(trec6["train"])
    assert write_split(balanced, folder / "train.jsonl") == folder / "train.jsonl"
    first = json.loads((folder / "train.jsonl").read_text(encoding="utf-8").splitlines()[0])
    assert isinstance(first["label"], str)  # a class name, not an id
    reloaded = load_text_dataset(folder)
    names = trec6["train"].features["label"].names
    assert reloaded["train"].features["label"].names == names == reloaded["test"].features["label"].names
    assert reloaded["train"]["label"] == balanced["label"]
    assert reloaded["train"]["text"] == balanced["text"]
    assert reloaded["test"]["label"] == trec6["test"]["label"]
    assert reloaded["train"]["source_row"] == balanced["source_row"]


@pytest.mark.parametrize("suffix", [".csv", ".tsv", ".json", ".parquet"])
def test_every_format_round_trips_names(tmp_path, sms_spam, suffix):
    part = sms_spam["train"].select(range(40))
    path = write_split(part, tmp_path / f"train{suffix}")
    back = load_text_dataset(path, split="train")
    assert back.features["label"].names == part.features["label"].names
    assert back["label"] == part["label"] and back["text"] == part["text"]
    if suffix == ".tsv":
        assert "\t" in path.read_text(encoding="utf-8").splitlines()[0]


def test_integer_class_names_stay_ids(tmp_path):
    ds = load_text_dataset(datasets.Dataset.from_dict({"text": ["a", "b", "c"], "label": [2, 0, 1]}))
    write_split(ds, tmp_path / "ints.jsonl")
    rows = [json.loads(line) for line in (tmp_path / "ints.jsonl").read_text().splitlines()]
    assert [r["label"] for r in rows] == [2, 0, 1]
    assert labels_as_names(ds).features["label"] == datasets.Value("int64")


def test_an_unknown_suffix_or_a_dataset_dict_is_refused_before_writing(tmp_path, sms_spam):
    with pytest.raises(ValueError, match=r"cannot write '.*out\.txt': unknown file type '\.txt'; use one of"):
        write_split(sms_spam["train"], tmp_path / "out.txt")
    with pytest.raises(ValueError, match=r"unknown file type '\(none\)'"):
        write_split(sms_spam["train"], tmp_path / "out")
    with pytest.raises(TypeError, match=r"writes one split"):
        write_split(sms_spam, tmp_path / "out.jsonl")
    assert list(tmp_path.iterdir()) == []


def test_an_id_without_a_name_is_refused():
    features = datasets.Features({"text": datasets.Value("string"), "label": datasets.ClassLabel(names=["a", "b"])})
    ds = datasets.Dataset.from_dict({"text": ["x", "y"], "label": [0, -1]}, features=features)
    with pytest.raises(ValueError, match=r"row 1 has label id -1 in column 'label'.*no name to write"):
        labels_as_names(ds)


def test_an_interrupted_write_leaves_the_old_file(tmp_path, sms_spam, monkeypatch):
    path = tmp_path / "train.jsonl"
    path.write_text("old content\n", encoding="utf-8")

    def broken_to_json(self, fh, **kwargs):
        fh.write(b'{"text": "half a row')
        raise KeyboardInterrupt

    monkeypatch.setattr(datasets.Dataset, "to_json", broken_to_json)
    with pytest.raises(KeyboardInterrupt):
        write_split(sms_spam["train"].select(range(5)), path)
    assert path.read_text(encoding="utf-8") == "old content\n"
    assert [p.name for p in tmp_path.iterdir()] == ["train.jsonl"]  # no temporary sibling left behind
