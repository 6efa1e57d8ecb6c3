"""validate_text_dataset: label values checked once, every bad row named, or dropped and counted by reason."""

from __future__ import annotations

import json
import math
import re

import datasets
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from nlp_balance import DataValidationError, load_text_dataset
from nlp_balance.data.validation import validate_text_dataset


def _ds(texts, labels) -> datasets.Dataset:
    return datasets.Dataset.from_dict({"text": texts, "label": labels})


def _jsonl(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_labels_that_differ_only_in_whitespace_name_both_values_split_file_and_rows(tmp_path):
    (tmp_path / "train.jsonl").write_text(
        "".join(json.dumps({"text": t, "label": lab}) + "\n" for t, lab in [("x", "a"), ("y", "b"), ("z", "a ")])
    )
    _jsonl(tmp_path / "test.jsonl", [{"text": "u", "label": "b"}, {"text": "v", "label": " a"}])
    with pytest.raises(DataValidationError) as err:
        load_text_dataset(tmp_path)
    message = str(err.value)
    train, test = repr(str(tmp_path / "train.jsonl")), repr(str(tmp_path / "test.jsonl"))
    assert f"' a' (test ({test}) row 1, 1 row(s))" in message
    assert f"'a' (train ({train}) row 0, 1 row(s))" in message
    assert f"'a ' (train ({train}) row 2, 1 row(s))" in message
    assert "differ only in whitespace" in message and "keep only 'a'" in message


def test_unicode_forms_of_one_label_are_variants_too():
    composed, decomposed = "caf\u00e9", "cafe\u0301"
    with pytest.raises(DataValidationError, match="differ only in whitespace or Unicode form"):
        load_text_dataset(_ds(["x", "y", "z"], [composed, decomposed, "b"]))


def test_drop_invalid_keeps_the_most_common_spelling_and_counts_the_rest():
    dd = datasets.DatasetDict(
        {
            "train": _ds(["1", "2", "3", "4", "5"], ["a ", "b", "a", "a", "b "]),
            "test": _ds(["6", "7"], [" a", "b"]),
        }
    )
    out, report = load_text_dataset(dd, drop_invalid=True, return_report=True)
    assert out["train"].features["label"].names == ["a", "b"]
    assert out["train"]["text"] == ["2", "3", "4"] and out["test"]["text"] == ["7"]
    assert report.dropped == {
        "train": {"whitespace variant of a label": 2},
        "test": {"whitespace variant of a label": 1},
    }


@pytest.mark.parametrize("blank", ["", "   ", "\t\n"])
def test_a_blank_label_is_named_and_can_be_dropped(blank):
    ds = _ds(["x", "y", "z"], ["a", blank, "b"])
    expected = f"train: row 1 has blank label in column 'label' (value {blank!r})"
    with pytest.raises(DataValidationError, match="^" + re.escape(expected)):
        load_text_dataset(ds, split="train")
    out, report = load_text_dataset(ds, drop_invalid=True, return_report=True)
    assert out["text"] == ["x", "z"] and out.features["label"].names == ["a", "b"]
    assert report.dropped == {"train": {"blank label": 1}}


def test_a_fraction_in_an_integer_label_column_names_its_own_row():
    ds = _ds(["x", "y", "z"], [1, 0, 1.5])  # Arrow stores the column as float64
    with pytest.raises(DataValidationError, match=r"train: row 2 has label 1\.5 in column 'label'; labels must all be"):
        load_text_dataset(ds, split="train")
    out, report = load_text_dataset(ds, drop_invalid=True, return_report=True)
    assert out["label"] == [1, 0] and out.features["label"].names == ["0", "1"]
    assert report.dropped == {"train": {"mixed label type": 1}}


def test_a_nan_label_is_missing_and_drop_invalid_drops_it():
    ds = _ds(["x", "y", "z"], [1.0, math.nan, 0.0])
    with pytest.raises(DataValidationError, match=r"row 1 has missing label in column 'label' \(value nan\)"):
        load_text_dataset(ds)
    out, report = load_text_dataset(ds, drop_invalid=True, return_report=True)
    assert out["label"] == [1, 0]
    assert report.dropped == {"train": {"missing label": 1}}


def test_a_csv_integer_label_column_with_an_empty_cell_stays_integer(tmp_path):
    path = tmp_path / "ints.csv"
    path.write_text("text,label\na,1\nb,\nc,0\n", encoding="utf-8")
    with pytest.raises(DataValidationError, match=r"row 1 has missing label"):
        load_text_dataset(path)
    out = load_text_dataset(path, drop_invalid=True, split="train")
    assert out["label"] == [1, 0] and out.features["label"].names == ["0", "1"]


def test_a_json_column_mixing_kinds_keeps_the_majority_kind_when_dropping(tmp_path):
    rows = [
        {"text": "x", "label": "a"},
        {"text": "y", "label": "b"},
        {"text": "z", "label": 3},
        {"text": "w", "label": ["a"]},
        {"text": "v", "label": "a"},
    ]
    path = _jsonl(tmp_path / "mixed.jsonl", rows)
    with pytest.raises(DataValidationError, match=r"row 2 has label 3 in column 'label'; labels must all be strings"):
        load_text_dataset(path)
    out, report = load_text_dataset(path, drop_invalid=True, return_report=True, split="train")
    assert out["text"] == ["x", "y", "v"]
    assert out.features["label"].names == ["a", "b"]  # plain strings, not JSON-quoted '"a"'
    assert report.dropped == {"train": {"mixed label type": 2}}


def test_each_dropped_row_is_counted_once_under_its_first_reason():
    ds = _ds(["ok", None, "", "fine"], ["a", None, "  ", "b"])
    out, report = load_text_dataset(ds, drop_invalid=True, return_report=True)
    assert out["text"] == ["ok", "fine"]
    assert report.dropped == {"train": {"missing text": 1, "blank text": 1}}
    assert report.total_dropped == 2


def test_invalid_utf8_inside_arrow_data_is_refused(tmp_path):
    good = pa.array(["fine", "ok"], type=pa.string())
    bad_bytes = pa.array([b"fine", b"caf\xe9"], type=pa.binary())
    bad = pa.Array.from_buffers(pa.string(), 2, bad_bytes.buffers())  # Arrow does not check UTF-8 here
    table = pa.table({"text": bad, "label": good})
    with pytest.raises(DataValidationError, match=r"row 1 has invalid UTF-8 in column 'text' \(bytes b'caf\\xe9'\)"):
        load_text_dataset(datasets.Dataset(table))
    pq.write_table(table, tmp_path / "bad.parquet")
    with pytest.raises(DataValidationError, match=r"bad\.parquet'\): row 1 has invalid UTF-8 in column 'text'"):
        load_text_dataset(tmp_path / "bad.parquet")


def test_a_text_column_with_no_value_at_all_is_missing_text(tmp_path):
    path = _jsonl(tmp_path / "nulls.json", [{"text": None, "label": None}])
    with pytest.raises(DataValidationError, match=r"row 0 has missing text in column 'text'"):
        load_text_dataset(path)


def test_validate_text_dataset_returns_plain_label_types_and_names_files():
    ds = _ds(["x", "y"], [1.0, 0.0])
    out = validate_text_dataset(ds)
    assert out.features["label"] == datasets.Value("int64")
    with pytest.raises(DataValidationError, match=r"^train \('t\.csv'\): row 1 has blank text"):
        validate_text_dataset(
            datasets.DatasetDict({"train": _ds(["x", " "], ["a", "b"])}), split_sources={"train": "'t.csv'"}
        )
