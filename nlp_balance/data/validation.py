"""Row checks of a text-classification dataset: every text a string, every label a usable class value.

:func:`validate_text_dataset` checks each split for its columns, for invalid UTF-8, for missing,
blank or non-string text, and (through :mod:`~nlp_balance.data.label_checks`) for missing, blank,
mixed-type and whitespace-variant labels. It raises one :class:`DataValidationError` naming the
split (and file), the row, the column and the value, or, with ``drop_invalid=True``, drops those rows
and counts them by reason in a :class:`LoadReport`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import datasets
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from nlp_balance.data._columns import (
    arrow_column,
    first_index,
    first_invalid_utf8,
    first_python_index,
    to_numpy_mask,
)
from nlp_balance.data.errors import DataValidationError
from nlp_balance.data.label_checks import (
    MIXED_LABEL,
    VARIANT_LABEL,
    label_problems,
    label_variants,
    normalise_label_column,
    variant_keeper,
    variant_message,
)

logger = logging.getLogger(__name__)

__all__ = ["DataValidationError", "LoadReport", "check_labels", "describe_split", "validate_text_dataset"]

_DROP_HINT = "Fix the data or pass drop_invalid=True (CLI: --drop-invalid) to drop them and report the count."


@dataclass
class LoadReport:
    """What :func:`load_text_dataset` did: rows dropped per split and why, and the label order."""

    dropped: dict[str, dict[str, int]] = field(default_factory=dict)
    label_names: list[str] = field(default_factory=list)
    source: str = ""

    @property
    def total_dropped(self) -> int:
        """Rows dropped over all splits and reasons (each row counted once, under its first reason)."""
        return sum(sum(reasons.values()) for reasons in self.dropped.values())


def validate_text_dataset(
    dataset: datasets.Dataset | datasets.DatasetDict,
    text_column: str = "text",
    label_column: str = "label",
    *,
    drop_invalid: bool = False,
    report: LoadReport | None = None,
    split_sources: Mapping[str, str] | None = None,
) -> Any:
    """Check every split's text and label values, and give the label column one plain type.

    Raises :class:`DataValidationError` naming the split, row, column and value of the first bad
    row, or, with ``drop_invalid=True``, drops such rows and logs (and records in ``report``) how
    many per reason. ``split_sources`` (split -> file names) adds the files to the messages. The
    checks run on Arrow columns, so they cost little on large data.
    """
    single = not isinstance(dataset, datasets.DatasetDict)
    dd = datasets.DatasetDict({"dataset": dataset}) if single else dataset
    where = {name: describe_split(name, split_sources) for name in dd}
    out = {name: _validate_split(ds, where[name], text_column, label_column, drop_invalid) for name, ds in dd.items()}
    checked = {name: ds for name, (ds, _) in out.items()}
    dropped = {name: counts for name, (_, counts) in out.items()}
    checked = _check_label_variants(checked, label_column, where, drop_invalid, dropped)
    for name, counts in dropped.items():
        if counts:
            logger.warning("%s: dropped %d invalid row(s): %s", where[name], sum(counts.values()), counts)
            if report is not None:
                report.dropped[name] = counts
    checked = {name: normalise_label_column(ds, label_column) for name, ds in checked.items()}
    return checked["dataset"] if single else datasets.DatasetDict(checked)


def check_labels(
    splits: Mapping[str, datasets.Dataset],
    label_column: str,
    split_sources: Mapping[str, str] | None = None,
) -> None:
    """Raise the first label problem of any split (missing, blank, mixed type, whitespace variants)."""
    where = {name: describe_split(name, split_sources) for name in splits}
    for name, ds in splits.items():
        if len(ds) == 0:
            continue
        for reason, mask in label_problems(ds, label_column).items():
            if mask.any():
                row = int(np.flatnonzero(mask)[0])
                value = ds[row][label_column]
                raise DataValidationError(_row_message(where[name], row, reason, label_column, value, int(mask.sum())))
    groups = label_variants(splits, label_column)
    if groups:
        places = _first_places(splits, label_column, groups[0], where)
        raise DataValidationError(variant_message(groups[0], places, label_column, hint=False))


def describe_split(split: str, split_sources: Mapping[str, str] | None) -> str:
    """How errors name a split: ``"train"``, or ``"train ('data/train.jsonl')"`` when its files are known."""
    source = (split_sources or {}).get(split)
    return f"{split} ({source})" if source else split


def _validate_split(
    ds: datasets.Dataset, where: str, text_column: str, label_column: str, drop_invalid: bool
) -> tuple[datasets.Dataset, dict[str, int]]:
    """Check one split; return it (bad rows dropped when asked) and the drop counts by reason."""
    for col, role in ((text_column, "text"), (label_column, "label")):
        if col not in ds.column_names:
            close = [c for c in ds.column_names if c.lower() == col.lower()]
            hint = f" (did you mean {close[0]!r}?)" if close else f"; pass {role}_column= to name it"
            raise DataValidationError(f"{where}: {role} column {col!r} not found; columns are {ds.column_names}{hint}")
    if len(ds) == 0:
        return ds, {}
    for col in (text_column, label_column):
        bad = first_invalid_utf8(arrow_column(ds, col))
        if bad is not None:
            raise DataValidationError(
                f"{where}: row {bad[0]} has invalid UTF-8 in column {col!r} (bytes {bad[1][:80]!r}); the data is "
                "not UTF-8 text: decode it first, or for a file name its encoding with encoding="
            )
    ds = _require_string_text(ds, where, text_column)
    texts = arrow_column(ds, text_column)
    null_text = to_numpy_mask(pc.is_null(texts))
    if pa.types.is_null(texts.type):  # a column with no value at all: every text is missing
        blank_text = np.zeros(len(ds), dtype=bool)
    else:
        blank_text = to_numpy_mask(pc.equal(pc.utf8_length(pc.utf8_trim_whitespace(pc.fill_null(texts, "x"))), 0))
    problems = {"missing text": null_text, "blank text": blank_text, **label_problems(ds, label_column)}
    if not any(mask.any() for mask in problems.values()):
        return ds, {}
    if not drop_invalid:
        reason, mask = next((r, m) for r, m in problems.items() if m.any())
        row = int(np.flatnonzero(mask)[0])
        column = label_column if "label" in reason else text_column
        raise DataValidationError(
            _row_message(where, row, reason, column, ds[row][column], int(mask.sum())) + " " + _DROP_HINT
        )
    return _drop(ds, problems)


def _row_message(where: str, row: int, reason: str, column: str, value: Any, count: int) -> str:
    if reason == MIXED_LABEL:
        head = (
            f"{where}: row {row} has label {value!r} in column {column!r}; labels must all be strings or all be "
            "integers (0..K-1)"
        )
    else:
        head = f"{where}: row {row} has {reason} in column {column!r} (value {value!r})"
    return f"{head}; {count} row(s) in this split have this problem."


def _drop(ds: datasets.Dataset, problems: Mapping[str, np.ndarray]) -> tuple[datasets.Dataset, dict[str, int]]:
    """Drop every row flagged in ``problems``; each dropped row is counted once, under its first reason."""
    taken = np.zeros(len(ds), dtype=bool)
    counts: dict[str, int] = {}
    for reason, mask in problems.items():
        new = mask & ~taken
        if new.any():
            counts[reason] = int(new.sum())
        taken |= new
    return ds.select(np.flatnonzero(~taken)), counts


def _require_string_text(ds: datasets.Dataset, where: str, text_column: str) -> datasets.Dataset:
    """Return ``ds`` with a string text column, or name the first row whose text is not a string."""
    text_type = ds.features[text_column]
    if isinstance(text_type, datasets.Value) and text_type.dtype in ("string", "large_string"):
        return ds
    col = arrow_column(ds, text_column)
    bad = first_index(pc.invert(pc.is_null(col)))
    if not isinstance(text_type, datasets.Value):  # e.g. Json: a file mixing strings and other values
        bad = first_python_index(ds, text_column, lambda v: v is not None and not isinstance(v, str))
        if bad is None:  # every value is a string or missing: rebuild it as a plain string column
            features = ds.features.copy()
            features[text_column] = datasets.Value("string")
            return ds.map(
                lambda batch: {text_column: batch[text_column]}, batched=True, features=features, desc="Reading texts"
            )
    if text_type == datasets.Value("null") and bad is None:
        return ds  # every text is missing: reported as missing text
    row = bad if bad is not None else 0
    raise DataValidationError(
        f"{where}: text column {text_column!r} must hold strings, but it is {text_type!r} "
        f"(row {row}: {ds[row][text_column]!r})"
    )


def _check_label_variants(
    splits: dict[str, datasets.Dataset],
    label_column: str,
    where: Mapping[str, str],
    drop_invalid: bool,
    dropped: dict[str, dict[str, int]],
) -> dict[str, datasets.Dataset]:
    """Refuse (or drop all but the most common of) string labels that differ only in whitespace."""
    groups = label_variants(splits, label_column)
    if not groups:
        return splits
    if not drop_invalid:
        places = _first_places(splits, label_column, groups[0], where)
        raise DataValidationError(variant_message(groups[0], places, label_column))
    losers = [v for group in groups for v in group if v != variant_keeper(group)]
    out = {}
    for name, ds in splits.items():
        if len(ds) == 0:
            out[name] = ds
            continue
        mask = to_numpy_mask(pc.is_in(arrow_column(ds, label_column), value_set=pa.array(losers)))
        if mask.any():
            dropped[name] = {**dropped[name], VARIANT_LABEL: int(mask.sum())}
            ds = ds.select(np.flatnonzero(~mask))
        out[name] = ds
    return out


def _first_places(
    splits: Mapping[str, datasets.Dataset], label_column: str, group: Mapping[str, int], where: Mapping[str, str]
) -> dict[str, str]:
    """Where each value of ``group`` first occurs: ``"train row 3"``."""
    places: dict[str, str] = {}
    for name, ds in splits.items():
        if len(ds) == 0:
            continue
        col = arrow_column(ds, label_column)
        for value in group:
            if value not in places:
                row = first_index(pc.equal(col, pa.scalar(value, type=col.type)))
                if row is not None:
                    places[value] = f"{where[name]} row {row}"
    return places
