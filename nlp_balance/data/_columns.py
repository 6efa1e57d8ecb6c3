"""Private helpers of the data layer: read a column as Arrow, find the first row that matches a mask."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import datasets
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


def arrow_column(ds: datasets.Dataset, column: str) -> pa.ChunkedArray:
    """``column`` of ``ds`` as Arrow, in row order (an indices mapping, if any, applied)."""
    table = ds.with_format("arrow")[:] if ds._indices is not None else ds.data.table
    return table.column(column)


def first_index(mask: pa.ChunkedArray | pa.Array | np.ndarray) -> int | None:
    """Position of the first true value of a boolean mask (nulls count as false), or ``None``."""
    if isinstance(mask, np.ndarray):
        found = np.flatnonzero(mask)
        return int(found[0]) if found.size else None
    arr = mask.combine_chunks() if isinstance(mask, pa.ChunkedArray) else mask
    hits = pc.indices_nonzero(pc.fill_null(arr, False))
    return int(hits[0].as_py()) if len(hits) else None


def to_numpy_mask(mask: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """A boolean Arrow mask as a numpy array, nulls as false."""
    return np.asarray(pc.fill_null(mask, False).to_numpy(zero_copy_only=False), dtype=bool)


def python_values(ds: datasets.Dataset, column: str, chunk: int = 10_000) -> Any:
    """Yield the decoded values of ``column`` in chunks; used only where Arrow cannot judge a value."""
    for start in range(0, len(ds), chunk):
        yield from ds[start : start + chunk][column]


def first_python_index(ds: datasets.Dataset, column: str, is_bad: Callable[[Any], bool]) -> int | None:
    """First row whose (decoded) value satisfies ``is_bad``; a Python scan, used only on columns of mixed types."""
    for row, value in enumerate(python_values(ds, column)):
        if is_bad(value):
            return row
    return None


def first_invalid_utf8(column: pa.ChunkedArray) -> tuple[int, bytes] | None:
    """The first row of a string column whose bytes are not valid UTF-8, with those bytes, or ``None``.

    Arrow does not check UTF-8 when it builds a string column, and its string kernels assume it; this
    full validation is one C pass over the bytes.
    """
    if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
        return None
    start = 0
    for chunk in column.chunks:
        try:
            chunk.validate(full=True)
        except pa.ArrowInvalid:
            as_bytes = chunk.cast(pa.large_binary() if pa.types.is_large_string(column.type) else pa.binary())
            for offset, raw in enumerate(as_bytes.to_pylist()):
                if raw is not None:
                    try:
                        raw.decode("utf-8")
                    except UnicodeDecodeError:
                        return start + offset, raw
        start += len(chunk)
    return None
