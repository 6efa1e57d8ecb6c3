"""Label values: the one place that decides which label values can become classes.

A label is usable when it is present (not ``None``, not NaN), not blank, and of the column's one
kind: all strings or all integers. Integral floats count as integers, because a CSV integer column
with an empty cell is read as floats. Two strings that differ only in surrounding whitespace or in
Unicode normalisation (``"a"`` and ``"a "``) would silently split one class in two, so they are
found across all splits. :mod:`~nlp_balance.data.validation` drops or reports what is found here, and
:func:`~nlp_balance.data.labels.encode_labels` refuses it.
"""

from __future__ import annotations

import math
import unicodedata
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

import datasets
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from nlp_balance.data._columns import arrow_column, python_values, to_numpy_mask
from nlp_balance.data.errors import DataValidationError

__all__ = [
    "BLANK_LABEL",
    "LABEL_REASONS",
    "MISSING_LABEL",
    "MIXED_LABEL",
    "VARIANT_LABEL",
    "check_label_names",
    "label_key",
    "label_problems",
    "label_variants",
    "normalise_label_column",
    "variant_keeper",
    "variant_message",
]

MISSING_LABEL = "missing label"
BLANK_LABEL = "blank label"
MIXED_LABEL = "mixed label type"
VARIANT_LABEL = "whitespace variant of a label"
#: Every reason a label row is refused, in the order the checks report them.
LABEL_REASONS = (MISSING_LABEL, BLANK_LABEL, MIXED_LABEL, VARIANT_LABEL)


def label_key(value: str) -> str:
    """The form two labels are compared in: Unicode NFC, surrounding whitespace removed."""
    return unicodedata.normalize("NFC", value).strip()


def label_problems(ds: datasets.Dataset, label_column: str) -> dict[str, np.ndarray]:
    """Boolean row masks of ``ds`` for each label problem found in one split: missing, blank, mixed type.

    Arrow kernels judge plain string, integer and float columns; only a column that holds mixed
    JSON values (or booleans) is read row by row.
    """
    feature = ds.features[label_column]
    col = arrow_column(ds, label_column)
    kind = col.type
    if isinstance(feature, datasets.ClassLabel) or pa.types.is_integer(kind) or pa.types.is_null(kind):
        return {MISSING_LABEL: to_numpy_mask(pc.is_null(col)) if not pa.types.is_null(kind) else _all(len(ds))}
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        missing = to_numpy_mask(pc.is_null(col))
        blank = to_numpy_mask(pc.equal(pc.utf8_length(pc.utf8_trim_whitespace(pc.fill_null(col, "x"))), 0))
        return {MISSING_LABEL: missing, BLANK_LABEL: blank}
    if pa.types.is_floating(kind):
        missing = to_numpy_mask(pc.or_kleene(pc.is_null(col), pc.is_nan(col)))
        # An integer is a float with no fraction that int64 holds exactly (|x| <= 2**53).
        exact = pc.and_(pc.is_finite(col), pc.less_equal(pc.abs(col), float(2**53)))
        whole = pc.and_(exact, pc.equal(col, pc.floor(col)))
        return {MISSING_LABEL: missing, MIXED_LABEL: ~missing & ~to_numpy_mask(whole)}
    return _python_label_problems(ds, label_column)


def _all(n: int) -> np.ndarray:
    return np.ones(n, dtype=bool)


def _value_kind(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "missing"
    if isinstance(value, str):
        return "str"
    if isinstance(value, int) and not isinstance(value, bool):
        return "int"
    if isinstance(value, float) and value.is_integer() and abs(value) <= 2**53:
        return "int"
    return "other"


def _python_label_problems(ds: datasets.Dataset, label_column: str) -> dict[str, np.ndarray]:
    """Judge a column of mixed values one by one; the kind (string or integer) most rows have wins."""
    kinds = []
    blank = np.zeros(len(ds), dtype=bool)
    for row, value in enumerate(python_values(ds, label_column)):
        kinds.append(_value_kind(value))
        blank[row] = kinds[-1] == "str" and not value.strip()
    kind_array = np.asarray(kinds, dtype=object)
    counts = Counter(k for k in kinds if k in ("str", "int"))
    # The most common kind is the column's kind; on a tie, the kind of the first such row.
    majority = max(counts, key=lambda k: (counts[k], -kinds.index(k))) if counts else None
    missing = kind_array == "missing"
    mixed = ~missing & (kind_array != majority)
    return {MISSING_LABEL: missing, BLANK_LABEL: blank & ~mixed, MIXED_LABEL: mixed}


def normalise_label_column(ds: datasets.Dataset, label_column: str) -> datasets.Dataset:
    """Give a label column that passed :func:`label_problems` a plain type: integral floats as int64,
    a mixed JSON column as strings or int64 (whichever its values now all are)."""
    feature = ds.features[label_column]
    if isinstance(feature, datasets.ClassLabel) or len(ds) == 0:
        return ds
    kind = arrow_column(ds, label_column).type
    if pa.types.is_floating(kind):
        return ds.cast_column(label_column, datasets.Value("int64"))
    if isinstance(feature, datasets.Value):
        return ds
    # A JSON column: cast through Python values, because Arrow's cast would write strings as JSON ('"a"').
    kinds = {_value_kind(v) for v in python_values(ds, label_column)}
    if kinds - {"str", "int"} or len(kinds) != 1:
        return ds  # still mixed: encode_labels names the row
    target = datasets.Value("string" if kinds == {"str"} else "int64")
    features = ds.features.copy()
    features[label_column] = target
    convert = str if target.dtype == "string" else int

    def plain(batch: dict[str, list[Any]]) -> dict[str, list[Any]]:
        return {label_column: [convert(v) for v in batch[label_column]]}

    return ds.map(plain, batched=True, batch_size=10_000, features=features, desc="Reading labels")


def label_variants(splits: Mapping[str, datasets.Dataset], label_column: str) -> list[dict[str, int]]:
    """Groups of distinct string labels, over all splits, that are equal under :func:`label_key`.

    Each group maps its values to their row counts over all splits. Blank labels are not grouped
    (they are a problem of their own).
    """
    counts: Counter[str] = Counter()
    for ds in splits.values():
        col = arrow_column(ds, label_column)
        if len(ds) == 0 or not (pa.types.is_string(col.type) or pa.types.is_large_string(col.type)):
            continue
        for entry in pc.value_counts(col).to_pylist():
            if entry["values"] is not None:
                counts[entry["values"]] += entry["counts"]
    groups: dict[str, list[str]] = {}
    for value in counts:
        key = label_key(value)
        if key:
            groups.setdefault(key, []).append(value)
    return [{v: counts[v] for v in sorted(vs)} for _, vs in sorted(groups.items()) if len(vs) > 1]


def variant_keeper(group: Mapping[str, int]) -> str:
    """The spelling of a group of variants that drop_invalid keeps: the most common, then the trimmed one."""
    return min(group, key=lambda v: (-group[v], v != label_key(v), v))


def variant_message(group: Mapping[str, int], places: Mapping[str, str], column: str, *, hint: bool = True) -> str:
    """One error naming every spelling in ``group`` with where it first occurs (``places``: value -> place)."""
    named = [f"{v!r} ({places.get(v, '?')}, {n} row(s))" for v, n in group.items()]
    listed = ", ".join(named[:-1]) + " and " + named[-1]
    text = (
        f"labels {listed} in column {column!r} differ only in whitespace or Unicode form, so they would "
        "become separate classes"
    )
    if hint:
        text += (
            f". Fix the data, or pass drop_invalid=True (CLI: --drop-invalid) to keep only {variant_keeper(group)!r} "
            "and drop the other rows"
        )
    return text


def check_label_names(names: Sequence[Any], what: str) -> None:
    """Refuse blank names, duplicates, and names that differ only in whitespace, in a list of class names."""
    seen: dict[str, str] = {}
    for position, name in enumerate(names):
        if not isinstance(name, str) or not name.strip():
            raise DataValidationError(f"{what} has a blank or non-string name at position {position}: {name!r}")
        key = label_key(name)
        if key in seen:
            other = seen[key]
            why = "twice" if other == name else f"and {other!r}, which differ only in whitespace or Unicode form"
            raise DataValidationError(f"{what} has {name!r} {why}: {list(names)}")
        seen[key] = name
