"""TODO docstring."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import datasets
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

logger = logging.getLogger(__name__)


class DataValidationError(ValueError):
    """A row or column of the input does not fit a text-classification dataset."""


def _arrow_column(ds: datasets.Dataset, column: str) -> pa.ChunkedArray:
    table = ds.with_format("arrow")[:] if ds._indices is not None else ds.data.table
    return table.column(column)


def _first_index(mask: pa.ChunkedArray | pa.Array) -> int | None:
    arr = mask.combine_chunks() if isinstance(mask, pa.ChunkedArray) else mask
    arr = pc.fill_null(arr, False)
    hits = pc.indices_nonzero(arr) if hasattr(pc, "indices_nonzero") else None
    if hits is not None:
        return int(hits[0].as_py()) if len(hits) else None
    found = np.flatnonzero(arr.to_numpy(zero_copy_only=False))
    return int(found[0]) if found.size else None


def _first_python_index(ds: datasets.Dataset, column: str, is_bad: Any, chunk: int = 10_000) -> int | None:
    """First row whose (decoded) value satisfies ``is_bad``; a Python scan, used only on columns of mixed types."""
    for start in range(0, len(ds), chunk):
        for offset, value in enumerate(ds[start : start + chunk][column]):
            if is_bad(value):
                return start + offset
    return None


def validate_text_dataset(
    dataset: datasets.Dataset | datasets.DatasetDict,
    text_column: str = "text",
    label_column: str = "label",
    *,
    drop_invalid: bool = False,
    report: LoadReport | None = None,
) -> Any:
    """Check every split for the columns, for missing/blank/non-string text and missing labels.

    Raises :class:`DataValidationError` naming the split, row and column of the first bad row, or,
    with ``drop_invalid=True``, drops such rows and logs (and records in ``report``) how many.
    The checks run on Arrow columns, not Python rows, so they cost little on large data.
    """
    if isinstance(dataset, datasets.DatasetDict):
        return datasets.DatasetDict(
            {
                name: _validate_split(ds, name, text_column, label_column, drop_invalid, report)
                for name, ds in dataset.items()
            }
        )
    return _validate_split(dataset, "dataset", text_column, label_column, drop_invalid, report)


def _validate_split(
    ds: datasets.Dataset,
    split: str,
    text_column: str,
    label_column: str,
    drop_invalid: bool,
    report: LoadReport | None,
) -> datasets.Dataset:
    for col, role in ((text_column, "text"), (label_column, "label")):
        if col not in ds.column_names:
            close = [c for c in ds.column_names if c.lower() == col.lower()]
            hint = f" (did you mean {close[0]!r}?)" if close else f"; pass {role}_column= to name it"
            raise DataValidationError(f"{split}: {role} column {col!r} not found; columns are {ds.column_names}{hint}")
    if len(ds) == 0:
        return ds
    text_type = ds.features[text_column]
    if not (isinstance(text_type, datasets.Value) and text_type.dtype in ("string", "large_string")):
        col = _arrow_column(ds, text_column)
        bad = _first_index(pc.invert(pc.is_null(col)))
        if not isinstance(text_type, datasets.Value):  # e.g. Json: a file mixing strings and other values
            bad = _first_python_index(ds, text_column, lambda v: v is not None and not isinstance(v, str))
            if bad is None:  # every value is a string or missing: read it as a plain string column
                ds = ds.cast_column(text_column, datasets.Value("string"))
                return _validate_split(ds, split, text_column, label_column, drop_invalid, report)
        if text_type != datasets.Value("null") or bad is not None:
            example = ds[bad if bad is not None else 0][text_column]
            raise DataValidationError(
                f"{split}: text column {text_column!r} must hold strings, but it is {text_type!r} "
                f"(row {bad if bad is not None else 0}: {example!r})"
            )
    texts = _arrow_column(ds, text_column)
    labels = _arrow_column(ds, label_column)
    null_text = pc.is_null(texts)
    blank_text = pc.equal(pc.utf8_length(pc.utf8_trim_whitespace(pc.fill_null(texts, ""))), 0)
    blank_text = pc.and_(blank_text, pc.invert(null_text))
    null_label = pc.is_null(labels)
    problems = {
        "missing text": null_text,
        "blank text": blank_text,
        "missing label": null_label,
    }
    counts = {reason: int(pc.sum(mask).as_py() or 0) for reason, mask in problems.items()}
    if not any(counts.values()):
        return ds
    if not drop_invalid:
        reason, mask = next((r, m) for r, m in problems.items() if counts[r])
        row = _first_index(mask)
        column = label_column if "label" in reason else text_column
        value = ds[row][column]
        raise DataValidationError(
            f"{split}: row {row} has {reason} in column {column!r} (value {value!r}); "
            f"{counts[reason]} row(s) in this split have this problem. Fix the data or pass "
            "drop_invalid=True (CLI: --drop-invalid) to drop them and report the count."
        )
    bad_mask = pc.or_(pc.or_(null_text, blank_text), null_label)
    keep = np.flatnonzero(~pc.fill_null(bad_mask, False).to_numpy(zero_copy_only=False))
    dropped = {reason: n for reason, n in counts.items() if n}
    logger.warning("%s: dropped %d invalid row(s): %s", split, len(ds) - len(keep), dropped)
    if report is not None:
        report.dropped[split] = dropped
    return ds.select(keep)


@dataclass
class LoadReport:
    """What :func:`load_text_dataset` did: rows dropped per split and why, and the label order."""

    dropped: dict[str, dict[str, int]] = field(default_factory=dict)
    label_names: list[str] = field(default_factory=list)
    source: str = ""

    @property
    def total_dropped(self) -> int:
        return sum(sum(reasons.values()) for reasons in self.dropped.values())
