"""load_text_dataset: every source kind, label encoding, and a clear error for each kind of bad input."""

from __future__ import annotations

import json

import datasets
import pytest
from conftest import shared_dataset_path

from nlp_balance import DataValidationError, load_text_dataset
from nlp_balance.data.labels import encode_labels


def _rows(name: str, split: str = "train") -> list[dict]:
    with open(shared_dataset_path(name) / f"{split}.jsonl", encoding="utf-8") as fh:
        return [json.loads(line) for line in fh]


def test_loads_shared_folder_with_splits_and_sorted_label_order(trec6):
    assert list(trec6) == ["train", "test"]
    assert trec6["train"].num_rows == 5371 and trec6["test"].num_rows == 500
    feature = trec6["train"].features["label"]
    assert isinstance(feature, datasets.ClassLabel)
    assert feature.names == sorted({r["label"] for r in _rows("trec6")})
    # Ids follow the names: row 0's string label maps back exactly.
    first = _rows("trec6")[0]
    assert feature.int2str(trec6["train"][0]["label"]) == first["label"]
    assert trec6["train"][0]["text"] == first["text"]


def test_davidson_and_sms_counts_match_the_files(davidson, sms_spam):
    from collections import Counter

    for ds, name in ((davidson, "davidson_hate"), (sms_spam, "sms_spam")):
        expected = Counter(r["label"] for r in _rows(name))
        names = ds["train"].features["label"].names
        got = Counter(names[i] for i in ds["train"]["label"])
        assert got == expected


@pytest.mark.parametrize("fmt", ["csv", "tsv", "jsonl", "json", "parquet"])
def test_single_files_of_every_format(tmp_path, fmt):
    rows = _rows("sms_spam", "test")[:200]
    ds = datasets.Dataset.from_list(rows)
    path = tmp_path / f"data.{fmt}"
    if fmt == "csv":
        ds.to_csv(str(path), index=False)
    elif fmt == "tsv":
        ds.to_csv(str(path), index=False, sep="\t")
    elif fmt in ("jsonl", "json"):
        ds.to_json(str(path), lines=True)
    else:
        ds.to_parquet(str(path))
    out = load_text_dataset(path)
    assert list(out) == ["train"]
    train = out["train"]
    assert train["text"] == [r["text"] for r in rows]
    assert [train.features["label"].int2str(i) for i in train["label"]] == [r["label"] for r in rows]


def test_save_to_disk_folder_and_in_memory_objects_and_split(tmp_path, sms_spam):
    sms_spam.save_to_disk(str(tmp_path / "saved"))
    loaded = load_text_dataset(tmp_path / "saved")
    assert loaded["train"]["text"][:5] == sms_spam["train"]["text"][:5]
    assert loaded["train"].features == sms_spam["train"].features
    only_test = load_text_dataset(tmp_path / "saved", split="test")
    assert isinstance(only_test, datasets.Dataset) and only_test.num_rows == 1032
    same = load_text_dataset(sms_spam["train"])  # an existing ClassLabel is kept
    assert same.features["label"] == sms_spam["train"].features["label"]


def test_explicit_label_order_and_integer_labels():
    ds = datasets.Dataset.from_dict({"text": ["a", "b", "c"], "label": ["spam", "ham", "spam"]})
    out = load_text_dataset(ds, label_names=["spam", "ham"])
    assert out.features["label"].names == ["spam", "ham"]
    assert out["label"] == [0, 1, 0]
    ints = datasets.Dataset.from_dict({"text": ["a", "b", "c"], "label": [2, 0, 1]})
    out = load_text_dataset(ints)
    assert out.features["label"].names == ["0", "1", "2"] and out["label"] == [2, 0, 1]


def test_hub_id_goes_to_load_dataset(monkeypatch):
    seen = {}

    def fake_load_dataset(path, name=None, split=None, revision=None, **kwargs):
        seen.update(path=path, name=name, split=split, revision=revision, **kwargs)
        return datasets.DatasetDict({"train": datasets.Dataset.from_dict({"text": ["x", "y"], "label": ["a", "b"]})})

    monkeypatch.setattr(datasets, "load_dataset", fake_load_dataset)
    out = load_text_dataset("someone/some-dataset", name="cfg", revision="main")
    assert seen == {"path": "someone/some-dataset", "name": "cfg", "split": None, "revision": "main"}
    assert out["train"].features["label"].names == ["a", "b"]


def test_missing_local_path_is_not_sent_to_the_hub():
    with pytest.raises(FileNotFoundError, match="no such file"):
        load_text_dataset("./does/not/exist.jsonl")


@pytest.mark.parametrize(
    ("column", "match"),
    [
        ("text_column", r"text column 'body' not found; columns are \['text', 'label'\]"),
        ("label_column", r"label column 'y' not found"),
    ],
)
def test_missing_column_is_named(column, match):
    ds = datasets.Dataset.from_dict({"text": ["a"], "label": ["x"]})
    kwargs = {"text_column": "body"} if column == "text_column" else {"label_column": "y"}
    with pytest.raises(DataValidationError, match=match):
        load_text_dataset(ds, **kwargs)


@pytest.mark.parametrize(
    ("texts", "labels", "match"),
    [
        (["ok", None, "fine"], ["a", "b", "a"], r"row 1 has missing text in column 'text'"),
        (["ok", "fine", "   \n"], ["a", "b", "a"], r"row 2 has blank text in column 'text'"),
        (["ok", "fine", "x"], ["a", None, "a"], r"row 1 has missing label in column 'label'"),
    ],
)
def test_bad_rows_are_named_and_can_be_dropped(texts, labels, match):
    ds = datasets.DatasetDict({"train": datasets.Dataset.from_dict({"text": texts, "label": labels})})
    with pytest.raises(DataValidationError, match=match):
        load_text_dataset(ds)
    out, report = load_text_dataset(ds, drop_invalid=True, return_report=True)
    assert out["train"].num_rows == 2
    assert report.total_dropped == 1


def test_non_string_text_is_an_error():
    ds = datasets.Dataset.from_dict({"text": [1, 2], "label": ["a", "b"]})
    with pytest.raises(DataValidationError, match=r"text column 'text' must hold strings"):
        load_text_dataset(ds)


def test_labels_outside_the_class_label_are_named():
    ds = datasets.Dataset.from_dict({"text": ["a", "b", "c"], "label": ["x", "y", "z"]})
    with pytest.raises(DataValidationError, match=r"row 2 has label 'z' .* not among label_names \['x', 'y'\]"):
        load_text_dataset(ds, label_names=["x", "y"])
    ints = datasets.Dataset.from_dict({"text": ["a", "b", "c"], "label": [0, 5, 1]})
    with pytest.raises(DataValidationError, match=r"row 1 has label id 5 .* outside the 2 classes"):
        load_text_dataset(ints, label_names=["neg", "pos"])
    with pytest.raises(DataValidationError, match=r"row 0 has label id -1"):
        encode_labels(datasets.Dataset.from_dict({"text": ["a"], "label": [-1]}))


def test_splits_share_one_label_order_even_if_a_class_is_missing_in_one():
    dd = datasets.DatasetDict(
        {
            "train": datasets.Dataset.from_dict({"text": ["a", "b"], "label": ["x", "y"]}),
            "test": datasets.Dataset.from_dict({"text": ["c"], "label": ["z"]}),
        }
    )
    out = load_text_dataset(dd)
    assert out["train"].features["label"].names == ["x", "y", "z"] == out["test"].features["label"].names
    assert out["test"]["label"] == [2]
