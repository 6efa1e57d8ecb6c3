"""encode_labels on its own: the same label checks as loading, and one label kind for all splits."""

from __future__ import annotations

import datasets
import pytest

from nlp_balance import DataValidationError
from nlp_balance.data.labels import encode_labels


def _ds(labels) -> datasets.Dataset:
    return datasets.Dataset.from_dict({"text": [f"t{i}" for i in range(len(labels))], "label": labels})


@pytest.mark.parametrize(
    ("labels", "match"),
    [
        (["a", "b", "a "], r"labels 'a' \(dataset row 0, 1 row\(s\)\) and 'a ' \(dataset row 2, 1 row\(s\)\)"),
        (["a", " ", "b"], r"dataset: row 1 has blank label in column 'label' \(value ' '\)"),
        ([0, 1, 2.5], r"dataset: row 2 has label 2\.5 in column 'label'; labels must all be strings or all be"),
        ([0.0, None], r"dataset: row 1 has missing label"),
    ],
)
def test_encode_labels_refuses_what_loading_refuses(labels, match):
    with pytest.raises(DataValidationError, match=match):
        encode_labels(_ds(labels))


def test_integral_floats_become_class_ids():
    out = encode_labels(_ds([1.0, 0.0, 2.0]))
    assert out.features["label"].names == ["0", "1", "2"] and out["label"] == [1, 0, 2]


def test_splits_must_share_one_label_kind():
    dd = datasets.DatasetDict({"train": _ds(["a", "b"]), "test": _ds([0, 1])})
    with pytest.raises(DataValidationError, match=r"test: row 0 has label 0 .*split 'train' holds string labels"):
        encode_labels(dd)


@pytest.mark.parametrize(
    ("names", "match"),
    [(["a", ""], r"label_names has a blank"), (["a", "a "], r"label_names has 'a ' and 'a'")],
)
def test_label_names_are_checked(names, match):
    with pytest.raises(DataValidationError, match=match):
        encode_labels(_ds(["a", "a"]), label_names=names)


def test_an_existing_class_label_with_unusable_names_is_refused():
    features = datasets.Features({"text": datasets.Value("string"), "label": datasets.ClassLabel(names=["x", "x "])})
    ds = datasets.Dataset.from_dict({"text": ["a"], "label": [0]}, features=features)
    with pytest.raises(DataValidationError, match=r"the ClassLabel of column 'label' has 'x ' and 'x'"):
        encode_labels(ds)


def test_a_huge_integer_id_is_refused_before_any_class_is_made():
    with pytest.raises(DataValidationError, match=r"dataset: row 1 has label id 123456789012 .*would make"):
        encode_labels(_ds([0, 123456789012, 1]))
    out = encode_labels(_ds([0, 2, 5]))  # a few unused ids stay empty classes, as before
    assert out.features["label"].names == ["0", "1", "2", "3", "4", "5"]


def test_errors_name_the_split_files_when_given():
    with pytest.raises(DataValidationError, match=r"^train \('t\.jsonl'\): row 1 has label id -1"):
        encode_labels(datasets.DatasetDict({"train": _ds([0, -1])}), split_sources={"train": "'t.jsonl'"})
