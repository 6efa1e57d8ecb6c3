"""Provenance columns: where each output row came from, and one schema for every split of a DatasetDict."""

from __future__ import annotations

import datasets
import numpy as np
import pyarrow as pa
from resampling_fixtures import split

from nlp_balance.resampling import AUGMENTATION_COLUMN, SOURCE_INDEX_COLUMN, with_provenance_everywhere
from nlp_balance.resampling.provenance import add_provenance

DS = split(["a", "b", "c", "d"], [0, 0, 0, 1])


def test_original_rows_keep_their_rows_and_name_their_input_rows():
    out = add_provenance(DS.select([2, 3]), np.array([2, 3]), "original")
    assert out["text"] == ["c", "d"]
    assert out[SOURCE_INDEX_COLUMN] == [2, 3] and out[AUGMENTATION_COLUMN] == ["original"] * 2
    assert out.features[SOURCE_INDEX_COLUMN] == datasets.Value("int64")


def test_other_kinds_pick_the_source_rows():
    out = add_provenance(DS, np.array([3, 3, 0]), "duplicate")
    assert out["text"] == ["d", "d", "a"] and out["label"] == [1, 1, 0]
    assert out[SOURCE_INDEX_COLUMN] == [3, 3, 0] and set(out[AUGMENTATION_COLUMN]) == {"duplicate"}


def test_fingerprints_follow_the_input_and_the_kind():
    one = add_provenance(DS, np.array([1]), "duplicate")._fingerprint
    assert one == add_provenance(DS, np.array([1]), "duplicate")._fingerprint
    assert one != add_provenance(DS, np.array([1]), "eda")._fingerprint


def test_every_split_gets_the_train_schema_and_eval_rows_are_marked_original():
    train = add_provenance(DS, np.arange(4), "original")
    test = split(["x", "y"], [1, 0])
    out = with_provenance_everywhere(datasets.DatasetDict({"train": train, "test": test}))
    assert out["train"] is train
    assert out["test"].features == train.features
    assert out["test"]["text"] == ["x", "y"] and out["test"][SOURCE_INDEX_COLUMN] == [0, 1]
    assert out["test"][AUGMENTATION_COLUMN] == ["original", "original"]


def test_rows_of_a_selection_and_replaced_texts():
    picked = DS.select([3, 1, 0])  # positions 0, 1, 2 are rows 3, 1, 0
    dup = add_provenance(picked, np.array([2, 2, 0]), "duplicate")
    assert dup["text"] == ["a", "a", "d"] and dup[SOURCE_INDEX_COLUMN] == [2, 2, 0]
    assert dup.features == add_provenance(DS, np.array([0]), "duplicate").features
    originals = add_provenance(picked, np.arange(3), "original")
    assert originals["text"] == ["d", "b", "a"] and originals[AUGMENTATION_COLUMN] == ["original"] * 3
    new = add_provenance(DS, np.array([1, 3]), "eda", texts=("text", pa.array(["B!", "D!"]), "fp"))
    assert new["text"] == ["B!", "D!"] and new["label"] == [0, 1] and new[AUGMENTATION_COLUMN] == ["eda"] * 2
    other = add_provenance(DS, np.array([1, 3]), "eda", texts=("text", pa.array(["B?", "D?"]), "fp2"))
    assert new._fingerprint != other._fingerprint
