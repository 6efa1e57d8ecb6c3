"""Read every label of a training dataset, before any sharding, to count classes and weight them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import torch
from transformers.trainer_utils import has_length

__all__ = ["LABEL_COLUMNS", "dataset_labels"]

#: Columns (or item keys) read as labels, in order of preference.
LABEL_COLUMNS = ("labels", "label")


def dataset_labels(dataset: Any, allow_iterate: bool = True) -> np.ndarray | None:
    """All labels of a dataset (``labels`` or ``label`` column), or ``None`` when it has no such column.

    A ``datasets.Dataset`` is read column-wise; another map-style dataset is read item by item, which
    only happens when ``allow_iterate`` (its ``__getitem__`` may be expensive).
    """
    if dataset is None:
        return None
    column_names = getattr(dataset, "column_names", None)
    if isinstance(column_names, list):
        for col in LABEL_COLUMNS:
            if col in column_names:
                values = dataset[col]
                return np.asarray(values.to_pylist() if hasattr(values, "to_pylist") else list(values))
        return None
    if not allow_iterate or not has_length(dataset) or isinstance(dataset, torch.utils.data.IterableDataset):
        return None
    rows = []
    for i in range(len(dataset)):
        item = dataset[i]
        if not isinstance(item, Mapping):
            return None
        key = next((c for c in LABEL_COLUMNS if c in item), None)
        if key is None:
            return None
        value = item[key]
        rows.append(value.tolist() if hasattr(value, "tolist") else value)
    return np.asarray(rows)
