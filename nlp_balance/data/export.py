"""Write one split to a file that :func:`~nlp_balance.data.loading.load_text_dataset` reads back as the same classes.

Class ids mean nothing outside the ``ClassLabel`` that holds their names, and csv/jsonl files have no
place for it, so the label column is written as class names. A balanced ``train.jsonl`` written
next to the original ``test.jsonl`` then loads as one dataset with the same classes. Every file is
written to a temporary sibling and renamed into place (:mod:`nlp_balance.utils.atomic`).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import datasets
import numpy as np

from nlp_balance.data.labels import label_array
from nlp_balance.utils.atomic import atomic_file

__all__ = ["WRITE_SUFFIXES", "labels_as_names", "write_split"]

#: File suffix -> (``datasets`` writer, its arguments). ``.json`` is written as JSON lines, like ``.jsonl``.
WRITE_SUFFIXES: dict[str, tuple[str, dict[str, Any]]] = {
    ".jsonl": ("json", {"lines": True, "force_ascii": False}),
    ".json": ("json", {"lines": True, "force_ascii": False}),
    ".csv": ("csv", {"index": False}),
    ".tsv": ("csv", {"index": False, "sep": "\t"}),
    ".parquet": ("parquet", {"batch_size": 50_000}),  # bounded memory: the default batch can be the whole split
}


def labels_as_names(dataset: datasets.Dataset, label_column: str = "label") -> datasets.Dataset:
    """``dataset`` with its ``ClassLabel`` column turned into the class names (strings).

    Names that are exactly ``"0".."K-1"`` stay integer ids, so integer-labelled data keeps its type.
    A column that is not a ``ClassLabel`` is returned as it is.
    """
    if label_column not in dataset.column_names:
        raise ValueError(f"label column {label_column!r} not found; columns are {dataset.column_names}")
    feature = dataset.features[label_column]
    if not isinstance(feature, datasets.ClassLabel):
        return dataset
    names = list(feature.names)
    if names == [str(i) for i in range(len(names))]:
        return dataset.cast_column(label_column, datasets.Value("int64"))
    ids = label_array(dataset, label_column)
    bad = np.flatnonzero((ids < 0) | (ids >= len(names)))
    if bad.size:
        raise ValueError(
            f"row {int(bad[0])} has label id {int(ids[bad[0]])} in column {label_column!r}, which is not one of "
            f"the {len(names)} classes {names}; there is no name to write for it"
        )
    lookup = np.asarray(names, dtype=object)
    features = dataset.features.copy()
    features[label_column] = datasets.Value("string")

    def to_names(batch: dict[str, list[Any]]) -> dict[str, list[str]]:
        return {label_column: lookup[np.asarray(batch[label_column], dtype=np.int64)].tolist()}

    return dataset.map(to_names, batched=True, batch_size=10_000, features=features, desc="Writing label names")


def write_split(
    dataset: datasets.Dataset,
    path: str | os.PathLike[str],
    *,
    label_column: str = "label",
) -> Path:
    """Write ``dataset`` to ``path`` as .jsonl/.json (JSON lines), .csv, .tsv or .parquet, by suffix.

    The label column is written as class names (:func:`labels_as_names`), and the file appears
    complete under its name or not at all. An unknown suffix is refused before anything is written.
    Returns the path written.
    """
    target = Path(path)
    suffix = target.suffix.lower()
    if suffix not in WRITE_SUFFIXES:
        raise ValueError(
            f"cannot write {str(target)!r}: unknown file type {suffix or '(none)'!r}; "
            f"use one of {', '.join(WRITE_SUFFIXES)}"
        )
    if not isinstance(dataset, datasets.Dataset):
        raise TypeError(f"write_split writes one split (a Dataset), got {type(dataset).__name__}")
    if target.is_dir():
        raise ValueError(f"cannot write {str(target)!r}: it is a folder")
    writer, kwargs = WRITE_SUFFIXES[suffix]
    named = labels_as_names(dataset, label_column)
    target.parent.mkdir(parents=True, exist_ok=True)
    with atomic_file(target, "wb") as fh:
        if writer == "json":
            named.to_json(fh, **kwargs)
        elif writer == "csv":
            named.to_csv(fh, **kwargs)
        else:
            named.to_parquet(fh, **kwargs)
    return target
