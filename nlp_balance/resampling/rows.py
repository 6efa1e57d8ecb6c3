"""Rows of a split gathered by position with one Arrow ``take``, as an in-memory ``Dataset``.

``Dataset.select`` followed by ``add_column`` (or ``map``) flattens the selection through
``datasets``' row-by-row gather: one Arrow chunk, and one cast, per selected row. Gathering whole
columns with ``pyarrow.Table.take`` gives the same values at a small fraction of the cost, which is
what the Balancer's rounds, new rows and duplicates need.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import datasets
import numpy as np
import pyarrow as pa
from datasets.table import InMemoryTable

__all__ = ["in_memory_dataset", "take_rows"]


def take_rows(ds: datasets.Dataset, rows: np.ndarray, columns: Sequence[str] | None = None) -> pa.Table:
    """Rows ``rows`` (positions in ``ds``, any order, repeats allowed) of ``columns`` (default: all)."""
    rows = np.asarray(rows, dtype=np.int64)
    if ds._indices is not None:  # a selection: map positions to rows of the underlying table
        rows = ds._indices.column(0).to_numpy()[rows].astype(np.int64, copy=False)
    table = ds.data.table
    if columns is not None:
        table = table.select(list(columns))
    return table.take(pa.array(rows))


def in_memory_dataset(
    table: pa.Table, like: datasets.Dataset, features: Mapping[str, Any], fingerprint: str, *, keep_format: bool = True
) -> datasets.Dataset:
    """``table`` as a ``Dataset`` with ``like``'s info, split and (``keep_format``) format; each
    column's feature is taken from ``features``, else from ``like``, else inferred from its Arrow type.

    The format carries over as ``datasets``' own transforms carry it: columns ``like`` formats, and
    new ones, are formatted.
    """
    inferred = datasets.Features.from_arrow_schema(table.schema)
    chosen = datasets.Features(
        {name: features.get(name, like.features.get(name, inferred[name])) for name in table.column_names}
    )
    info = like.info.copy()
    info.features = chosen
    out = datasets.Dataset(InMemoryTable(table), info=info, split=like.split, fingerprint=fingerprint)
    fmt = like.format
    if not keep_format or (fmt["type"] is None and fmt["columns"] is None and not fmt["format_kwargs"]):
        return out
    columns = fmt["columns"]
    if columns is not None:
        unformatted = set(like.column_names) - set(columns)
        columns = sorted(set(table.column_names) - unformatted)
    out.set_format(fmt["type"], columns=columns, output_all_columns=fmt["output_all_columns"], **fmt["format_kwargs"])
    return out
