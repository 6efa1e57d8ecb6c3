"""dataset_labels: every label of a training set, column-wise for datasets, item by item only when allowed."""

from __future__ import annotations

import numpy as np
import torch
from datasets import Dataset

from nlp_balance.training.dataset_labels import dataset_labels


class _Rows(torch.utils.data.Dataset):
    def __init__(self, rows):
        self.rows, self.reads = rows, 0

    def __len__(self):
        return len(self.rows)

    def __getitem__(self, i):
        self.reads += 1
        return self.rows[i]


class _Stream(torch.utils.data.IterableDataset):
    def __iter__(self):
        yield {"labels": 0}


def test_datasets_are_read_by_column_labels_before_label():
    both = Dataset.from_dict({"labels": [2, 0, -100], "label": [9, 9, 9]})
    assert dataset_labels(both).tolist() == [2, 0, -100]
    assert dataset_labels(Dataset.from_dict({"label": [1, 1]}), allow_iterate=False).tolist() == [1, 1]
    multi = Dataset.from_dict({"labels": [[1.0, 0.0], [0.0, 1.0]]})
    assert dataset_labels(multi).shape == (2, 2)
    assert dataset_labels(Dataset.from_dict({"text": ["a"]})) is None
    assert dataset_labels(None) is None


def test_other_datasets_are_read_item_by_item_only_when_allowed():
    rows = _Rows([{"input_ids": [1], "labels": torch.tensor(1)}, {"input_ids": [2], "labels": torch.tensor(0)}])
    assert dataset_labels(rows, allow_iterate=False) is None and rows.reads == 0
    np.testing.assert_array_equal(dataset_labels(rows), [1, 0])
    assert dataset_labels(_Rows([{"input_ids": [1]}])) is None  # no label key
    assert dataset_labels(_Rows([(1, 2)])) is None  # items that are not mappings
    assert dataset_labels(_Stream()) is None  # no length: never iterated
