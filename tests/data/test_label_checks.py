"""label_checks: which label values can become classes, judged one way for every source."""

from __future__ import annotations

import json

import datasets
import numpy as np
import pytest

from nlp_balance import DataValidationError
from nlp_balance.data.label_checks import (
    check_label_names,
    label_key,
    label_problems,
    label_variants,
    normalise_label_column,
    variant_keeper,
)


def _ds(labels) -> datasets.Dataset:
    return datasets.Dataset.from_dict({"text": [f"t{i}" for i in range(len(labels))], "label": labels})


def _rows(mask: np.ndarray) -> list[int]:
    return np.flatnonzero(mask).tolist()


def test_string_labels_missing_and_blank():
    found = label_problems(_ds(["a", None, "", " \t", "b"]), "label")
    assert _rows(found["missing label"]) == [1]
    assert _rows(found["blank label"]) == [2, 3]


def test_float_labels_missing_nan_and_fractions():
    found = label_problems(_ds([1.0, None, float("nan"), 2.5, float("inf"), 0.0, 3.9e16, -1e300]), "label")
    assert _rows(found["missing label"]) == [1, 2]
    assert _rows(found["mixed label type"]) == [3, 4, 6, 7]  # beyond 2**53 a float is no exact class id


def test_mixed_json_values_keep_the_majority_kind(tmp_path):
    rows = [{"text": "x", "label": v} for v in [3, "a", 4, ["l"], None, 5, " ", True]]
    path = tmp_path / "m.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    ds = datasets.load_dataset("json", data_files=str(path), split="train", cache_dir=str(tmp_path / "hf"))
    found = label_problems(ds, "label")
    assert _rows(found["missing label"]) == [4]
    assert _rows(found["mixed label type"]) == [1, 3, 6, 7]  # integers are the majority; a bool is no integer
    assert not found["blank label"].any()  # the blank string is already counted as the wrong kind


def test_normalise_reads_json_strings_without_quotes(tmp_path):
    path = tmp_path / "s.jsonl"
    path.write_text('{"text": "x", "label": "a"}\n{"text": "y", "label": 1}\n', encoding="utf-8")
    ds = datasets.load_dataset("json", data_files=str(path), split="train", cache_dir=str(tmp_path / "hf"))
    assert isinstance(ds.features["label"], datasets.Json)
    plain = normalise_label_column(ds.select([0]), "label")
    assert plain.features["label"] == datasets.Value("string") and plain["label"] == ["a"]
    ints = normalise_label_column(ds.select([1]), "label")
    assert ints.features["label"] == datasets.Value("int64") and ints["label"] == [1]
    floats = normalise_label_column(_ds([1.0, 0.0]), "label")
    assert floats.features["label"] == datasets.Value("int64") and floats["label"] == [1, 0]


def test_variants_are_grouped_over_splits_and_the_most_common_is_kept():
    splits = {"train": _ds(["a", "a ", "a", "b", "B"]), "test": _ds([" a", "b\u00a0"])}
    groups = label_variants(splits, "label")
    assert groups == [{" a": 1, "a": 2, "a ": 1}, {"b": 1, "b\u00a0": 1}]  # "B" is another class: case counts
    assert variant_keeper(groups[0]) == "a"
    assert variant_keeper({" x": 1, "x ": 1, "x": 1}) == "x"  # a tie keeps the trimmed spelling
    assert variant_keeper({" x": 3, "x": 1}) == " x"
    assert label_key("cafe\u0301 ") == "caf\u00e9"


@pytest.mark.parametrize(
    ("names", "match"),
    [
        (["a", ""], r"blank or non-string name at position 1: ''"),
        (["a", "b", "a "], r"has 'a ' and 'a', which differ only in whitespace"),
        (["a", "a"], r"has 'a' twice"),
        ([0, 1], r"non-string name at position 0: 0"),
    ],
)
def test_class_names_must_be_distinct_non_blank_strings(names, match):
    with pytest.raises(DataValidationError, match=match):
        check_label_names(names, "label_names")
    check_label_names(["a", "b", "A"], "label_names")
