"""Provenance columns: which input row each output row of the Balancer came from, and how it was made."""

from __future__ import annotations

import datasets
import numpy as np
import pyarrow as pa
from datasets.fingerprint import Hasher

from nlp_balance.resampling.rows import in_memory_dataset, take_rows

__all__ = ["AUGMENTATION_COLUMN", "SOURCE_INDEX_COLUMN", "add_provenance", "with_provenance_everywhere"]

#: Provenance column: the row (in the input split) each output row was made from.
SOURCE_INDEX_COLUMN = "source_index"

#: Provenance column: "original", "duplicate", or the name of the augmenter that wrote the row.
AUGMENTATION_COLUMN = "augmentation"

_PROVENANCE_FEATURES = {SOURCE_INDEX_COLUMN: datasets.Value("int64"), AUGMENTATION_COLUMN: datasets.Value("string")}


def add_provenance(
    ds: datasets.Dataset,
    sources: np.ndarray,
    kind: str,
    *,
    texts: tuple[str, pa.Array, str] | None = None,
) -> datasets.Dataset:
    """Rows with the two provenance columns: ``sources`` as source index, ``kind`` as augmentation.

    For ``kind="original"`` the rows are ``ds`` itself and ``sources`` are their row numbers in the
    input split; for any other kind they are the rows ``sources`` of ``ds``, gathered into memory.
    ``texts`` is ``(column, new values, fingerprint)``: those rows with that column replaced (the
    Balancer's augmented rows; the fingerprint names the values). The fingerprints are derived from
    the input's, so ``datasets``' cache is reused across runs.
    """
    sources = np.asarray(sources, dtype=np.int64)
    if kind == "original" and ds._indices is None and texts is None:  # no copy: two columns beside ds
        picked = ds.add_column(
            SOURCE_INDEX_COLUMN, sources, new_fingerprint=Hasher.hash((ds._fingerprint, "src", kind))
        )
        return picked.add_column(
            AUGMENTATION_COLUMN, [kind] * len(picked), new_fingerprint=Hasher.hash((picked._fingerprint, "aug", kind))
        )
    rows = sources if kind != "original" else np.arange(len(ds))
    if texts is None:
        table = take_rows(ds, rows)
    else:  # every column but the replaced one, which goes back to its place
        column, values, _ = texts
        table = take_rows(ds, rows, [c for c in ds.column_names if c != column])
        table = table.add_column(ds.column_names.index(column), column, values)
    table = table.append_column(SOURCE_INDEX_COLUMN, pa.array(sources)).append_column(
        AUGMENTATION_COLUMN, pa.array([kind] * len(sources), type=pa.string())
    )
    fingerprint = Hasher.hash((ds._fingerprint, "rows", kind, sources.tobytes(), texts and texts[2]))
    return in_memory_dataset(table, ds, _PROVENANCE_FEATURES, fingerprint)


def with_provenance_everywhere(balanced: datasets.DatasetDict, split: str = "train") -> datasets.DatasetDict:
    """A copy where every split has the provenance columns (eval rows: ``original``, their own index).

    ``DatasetDict.push_to_hub`` needs one schema for all splits; the eval splits' text and labels stay
    untouched, they only gain the two columns that say so.
    """
    features = balanced[split].features
    out = {}
    for name, ds in balanced.items():
        if name != split and SOURCE_INDEX_COLUMN not in ds.column_names and AUGMENTATION_COLUMN not in ds.column_names:
            ds = ds.add_column(SOURCE_INDEX_COLUMN, np.arange(len(ds), dtype=np.int64),
                               new_fingerprint=Hasher.hash((ds._fingerprint, "hub-src")))
            ds = ds.add_column(AUGMENTATION_COLUMN, ["original"] * len(ds),
                               new_fingerprint=Hasher.hash((ds._fingerprint, "hub-aug")))
            if set(ds.column_names) == set(features):
                ds = ds.select_columns(list(features)).cast(features)
        out[name] = ds
    return datasets.DatasetDict(out)
