"""Loading text-classification data from any source into ``datasets`` objects with a ``ClassLabel``.

:func:`load_text_dataset` accepts a Hub dataset id, local csv/tsv/json/jsonl/parquet files or folders,
a ``save_to_disk`` folder, or an in-memory ``Dataset``/``DatasetDict``, and returns the same kind of
object with the label column encoded as a :class:`datasets.ClassLabel` and every row validated.
Errors name the split, the row and the column, so a bad row in a million is found at once.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import datasets
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

logger = logging.getLogger(__name__)

__all__ = [
    "DataValidationError",
    "LoadReport",
    "encode_labels",
    "get_class_label",
    "load_text_dataset",
    "validate_text_dataset",
]

#: File suffix -> ``datasets`` builder name (and extra builder kwargs).
_BUILDERS: dict[str, tuple[str, dict[str, Any]]] = {
    ".csv": ("csv", {}),
    ".tsv": ("csv", {"delimiter": "\t"}),
    ".json": ("json", {}),
    ".jsonl": ("json", {}),
    ".parquet": ("parquet", {}),
}
#: Split names recognised from file names inside a data folder (``train.jsonl``, ``dev.csv``...).
_SPLIT_ALIASES = {
    "train": "train",
    "training": "train",
    "test": "test",
    "testing": "test",
    "validation": "validation",
    "valid": "validation",
    "val": "validation",
    "dev": "validation",
}


class DataValidationError(ValueError):
    """A row or column of the input does not fit a text-classification dataset."""


@dataclass
class LoadReport:
    """What :func:`load_text_dataset` did: rows dropped per split and why, and the label order."""

    dropped: dict[str, dict[str, int]] = field(default_factory=dict)
    label_names: list[str] = field(default_factory=list)
    source: str = ""

    @property
    def total_dropped(self) -> int:
        return sum(sum(reasons.values()) for reasons in self.dropped.values())


def load_text_dataset(
    source: str | os.PathLike[str] | datasets.Dataset | datasets.DatasetDict,
    text_column: str = "text",
    label_column: str = "label",
    *,
    split: str | None = None,
    name: str | None = None,
    label_names: Sequence[str] | None = None,
    drop_invalid: bool = False,
    revision: str | None = None,
    trust_remote_code: bool = False,
    return_report: bool = False,
    **load_kwargs: Any,
) -> Any:
    """Load a text-classification dataset and make its label column a ``ClassLabel``.

    Args:
        source: a Hub dataset id (``"SetFit/sst2"``), a local file (csv, tsv, json, jsonl, parquet),
            a folder of such files named by split (``train.jsonl``, ``test.csv``...), a folder written
            by ``save_to_disk``, or an in-memory ``Dataset``/``DatasetDict``.
        text_column: column holding the text.
        label_column: column holding the label (strings, integers or an existing ``ClassLabel``).
        split: return only this split as a ``Dataset``.
        name: the Hub dataset configuration name.
        label_names: the label order to use for string labels. Default: the sorted set of labels over
            all splits (the order ``Dataset.class_encode_column`` uses), so ids are stable across runs.
        drop_invalid: drop rows whose text is missing or blank, or whose label is missing, and log how
            many were dropped per split, instead of raising.
        revision: the Hub revision (branch, tag or commit) to load.
        trust_remote_code: passed to ``load_dataset`` for Hub datasets; off unless you turn it on.
        return_report: also return a :class:`LoadReport` with the drop counts and label order.
        **load_kwargs: passed to ``datasets.load_dataset`` (e.g. ``data_dir``, ``cache_dir``).

    Returns:
        A ``DatasetDict`` (or a ``Dataset`` when ``source`` is one or ``split`` is given), plus the
        :class:`LoadReport` when ``return_report`` is true.
    """
    raw, source_name = _load_raw(
        source, split=split, name=name, revision=revision, trust_remote_code=trust_remote_code, **load_kwargs
    )
    single = isinstance(raw, datasets.Dataset)
    dd = datasets.DatasetDict({split or "train": raw}) if single else raw
    report = LoadReport(source=source_name)
    dd = validate_text_dataset(dd, text_column, label_column, drop_invalid=drop_invalid, report=report)
    for split_name, part in dd.items():
        if len(part) == 0:
            dropped = report.dropped.get(split_name)
            why = f" after dropping every row as invalid ({dropped})" if dropped else ""
            raise DataValidationError(f"{split_name}: the split has no rows{why}; there is nothing to classify")
    dd = encode_labels(dd, label_column, label_names=label_names)
    report.label_names = list(get_class_label(dd, label_column).names)
    out = dd[split or "train"] if single else dd
    return (out, report) if return_report else out


def _load_raw(
    source: Any,
    *,
    split: str | None,
    name: str | None,
    revision: str | None,
    trust_remote_code: bool,
    **load_kwargs: Any,
) -> tuple[datasets.Dataset | datasets.DatasetDict, str]:
    if isinstance(source, (datasets.Dataset, datasets.DatasetDict)):
        obj = source
        if split is not None and isinstance(obj, datasets.DatasetDict):
            obj = _pick_split(obj, split, "the given DatasetDict")
        return obj, f"<in-memory {type(source).__name__}>"
    if isinstance(source, (datasets.IterableDataset, datasets.IterableDatasetDict)):
        raise TypeError(
            "load_text_dataset needs a map-style Dataset; for streaming input use "
            "the augmenters directly on the IterableDataset (dataset.map(...))."
        )
    if not isinstance(source, (str, os.PathLike)):
        raise TypeError(f"source must be a path, a Hub dataset id or a datasets object, got {type(source).__name__}")
    path = Path(source).expanduser()
    if path.exists():
        return _read_files(path, split=split, **load_kwargs), str(path)
    text = os.fspath(source)
    if text.startswith((".", "/", "~")) or text.endswith(tuple(_BUILDERS)) or os.sep + os.sep in text:
        raise FileNotFoundError(f"no such file or folder: {text!r}")
    # Anything else is a Hub dataset id: the real code path, which needs the network or a warm cache.
    kwargs: dict[str, Any] = dict(load_kwargs)
    if trust_remote_code:
        kwargs["trust_remote_code"] = True
    obj = datasets.load_dataset(text, name, split=split, revision=revision, **kwargs)
    return obj, text


def _pick_split(dd: datasets.DatasetDict, split: str, where: str) -> datasets.Dataset:
    if split not in dd:
        raise KeyError(f"split {split!r} not found in {where}; available splits: {sorted(dd)}")
    return dd[split]


def _read_files(path: Path, *, split: str | None, **load_kwargs: Any) -> datasets.Dataset | datasets.DatasetDict:
    """:func:`_load_local`, with the readers' own failures (bad JSON, an empty file) named by the path."""
    try:
        return _load_local(path, split=split, **load_kwargs)
    except (KeyError, FileNotFoundError, ValueError):
        raise
    except (datasets.exceptions.DatasetGenerationError, StopIteration, pa.ArrowException) as err:
        cause = err.__cause__ or err.__context__ or err
        detail = f"{type(cause).__name__}: {cause}" if str(cause) else type(cause).__name__
        if isinstance(err, StopIteration) or "StopIteration" in detail:
            detail = "the file holds no rows"
        raise DataValidationError(f"could not read {str(path)!r} as a dataset ({detail})") from err


def _load_local(path: Path, *, split: str | None, **load_kwargs: Any) -> datasets.Dataset | datasets.DatasetDict:
    if path.is_dir():
        if (path / "dataset_dict.json").exists() or (path / "state.json").exists():
            obj = datasets.load_from_disk(str(path))
            if split is not None and isinstance(obj, datasets.DatasetDict):
                return _pick_split(obj, split, str(path))
            return obj
        files: dict[str, list[str]] = {}
        suffixes = set()
        for child in sorted(path.iterdir()):
            suffix = child.suffix.lower()
            if not child.is_file() or suffix not in _BUILDERS:
                continue
            split_name = _SPLIT_ALIASES.get(child.stem.lower().split(".")[0], None)
            if split_name is None:
                split_name = _SPLIT_ALIASES.get(child.stem.lower().split("-")[0], child.stem)
            files.setdefault(split_name, []).append(str(child))
            suffixes.add(suffix)
        if not files:
            raise FileNotFoundError(
                f"folder {str(path)!r} holds no data files ({', '.join(sorted(_BUILDERS))}) and is not a "
                "save_to_disk folder"
            )
        if len({(_BUILDERS[s][0], tuple(_BUILDERS[s][1].items())) for s in suffixes}) > 1:
            raise ValueError(f"folder {str(path)!r} mixes file types {sorted(suffixes)}; use one format per folder")
        builder, extra = _BUILDERS[next(iter(suffixes))]
        order = {"train": 0, "validation": 1, "test": 2}
        files = dict(sorted(files.items(), key=lambda kv: (order.get(kv[0], 3), kv[0])))
        dd = datasets.load_dataset(builder, data_files=files, **extra, **load_kwargs)
        if split is not None:
            return _pick_split(dd, split, str(path))
        return dd
    suffix = path.suffix.lower()
    if suffix not in _BUILDERS:
        raise ValueError(f"unsupported file type {suffix!r} for {str(path)!r}; expected one of {sorted(_BUILDERS)}")
    builder, extra = _BUILDERS[suffix]
    split_name = split or "train"
    dd = datasets.load_dataset(builder, data_files={split_name: str(path)}, **extra, **load_kwargs)
    return dd[split_name] if split is not None else dd


def get_class_label(
    dataset: datasets.Dataset | datasets.DatasetDict,
    label_column: str = "label",
) -> datasets.ClassLabel:
    """Return the ``ClassLabel`` feature of ``label_column`` or raise an error that says how to get one."""
    ds = next(iter(dataset.values())) if isinstance(dataset, datasets.DatasetDict) else dataset
    if label_column not in ds.column_names:
        raise DataValidationError(f"label column {label_column!r} not found; columns are {ds.column_names}")
    feature = ds.features[label_column]
    if not isinstance(feature, datasets.ClassLabel):
        raise DataValidationError(
            f"column {label_column!r} is {feature!r}, not a ClassLabel; load the data with "
            "nlp_balance.load_text_dataset (or call encode_labels) first"
        )
    return feature


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


def encode_labels(
    dataset: datasets.Dataset | datasets.DatasetDict,
    label_column: str = "label",
    *,
    label_names: Sequence[str] | None = None,
) -> Any:
    """Make ``label_column`` a ``ClassLabel`` in every split, with one label order for all splits.

    * An existing ``ClassLabel`` is kept as it is (``label_names``, if given, must match it).
    * String labels map to ids in ``label_names`` order, or in sorted order of all labels seen in any
      split when ``label_names`` is not given (stable across runs and machines).
    * Integer labels are kept as ids when they are ``0..K-1``; names are their string form unless
      ``label_names`` is given.

    A label outside the given names, or an integer outside ``0..K-1``, is an error that names the
    split, the row and the value.
    """
    dd = dataset if isinstance(dataset, datasets.DatasetDict) else datasets.DatasetDict({"dataset": dataset})
    first = next(iter(dd.values()))
    feature = first.features[label_column]
    if isinstance(feature, datasets.ClassLabel):
        for split, ds in dd.items():
            if ds.features[label_column] != feature:
                raise DataValidationError(
                    f"split {split!r} has ClassLabel {ds.features[label_column].names} but another split has "
                    f"{feature.names}; all splits must share one label order"
                )
        if label_names is not None and list(label_names) != list(feature.names):
            raise DataValidationError(
                f"label_names {list(label_names)} differ from the dataset's ClassLabel names {feature.names}"
            )
        for split, ds in dd.items():
            _check_ids_in_range(ds, split, label_column, feature.num_classes, feature.names)
        return dataset
    values: set[Any] = set()
    kinds: set[str] = set()
    for ds in dd.values():
        col = _arrow_column(ds, label_column)
        kinds.add(str(col.type))
        if _is_alias(str(col.type)):
            values.update(v for v in pc.unique(col).to_pylist() if v is not None)
    if not all(
        k in ("string", "large_string") or pa.types.is_integer(pa.type_for_alias(k)) for k in kinds if _is_alias(k)
    ) or not all(_is_alias(k) for k in kinds):
        _raise_mixed_labels(dd, label_column, kinds)
    is_string = all(k in ("string", "large_string") for k in kinds)
    is_int = all(
        pa.types.is_integer(pa.type_for_alias(k)) if k not in ("string", "large_string") else False for k in kinds
    )
    if not (is_string or is_int):
        raise DataValidationError(
            f"label column {label_column!r} has type {sorted(kinds)}; expected strings, integers or a ClassLabel"
        )
    if is_string:
        names = list(label_names) if label_names is not None else sorted(values)
        unknown = sorted(values - set(names))
        if unknown:
            split, row = _find_value(dd, label_column, unknown[0])
            raise DataValidationError(
                f"{split}: row {row} has label {unknown[0]!r} in column {label_column!r}, which is not among "
                f"label_names {names}"
            )
        if len(set(names)) != len(names):
            raise DataValidationError(f"label_names has duplicates: {names}")
        class_label = datasets.ClassLabel(names=names)
        mapping = {n: i for i, n in enumerate(names)}
        out = datasets.DatasetDict(
            {split: _cast_string_labels(ds, label_column, mapping, class_label) for split, ds in dd.items()}
        )
    else:
        num = len(label_names) if label_names is not None else (max(values) + 1 if values else 0)
        names = list(label_names) if label_names is not None else [str(i) for i in range(num)]
        for split, ds in dd.items():
            _check_ids_in_range(ds, split, label_column, num, names)
        class_label = datasets.ClassLabel(names=names)
        out = datasets.DatasetDict({split: ds.cast_column(label_column, class_label) for split, ds in dd.items()})
        missing = sorted(set(range(num)) - values)
        if missing and label_names is None:
            logger.warning(
                "label ids %s never occur; they are kept as empty classes %s", missing, [names[i] for i in missing]
            )
    return out if isinstance(dataset, datasets.DatasetDict) else out["dataset"]


def _is_alias(kind: str) -> bool:
    try:
        pa.type_for_alias(kind)
    except (ValueError, KeyError):
        return False
    return True


class _LabelTypeCheck:
    """True for a label that is not a str/int, or whose type differs from the first label seen."""

    def __init__(self) -> None:
        self.first: type | None = None

    def __call__(self, value: Any) -> bool:
        if value is None:
            return False
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            return True
        if self.first is None:
            self.first = type(value)
        return type(value) is not self.first


def _raise_mixed_labels(dd: datasets.DatasetDict, label_column: str, kinds: set[str]) -> None:
    """Name the first row whose label is not a string or an integer (or differs in type from row 0)."""
    for split, ds in dd.items():
        row = _first_python_index(ds, label_column, _LabelTypeCheck())
        if row is not None:
            raise DataValidationError(
                f"{split}: row {row} has label {ds[row][label_column]!r} in column {label_column!r}; labels must "
                "all be strings or all be integers (0..K-1)"
            )
    raise DataValidationError(
        f"label column {label_column!r} has type {sorted(kinds)}; expected strings, integers or a ClassLabel"
    )


def _cast_string_labels(
    ds: datasets.Dataset,
    label_column: str,
    mapping: Mapping[str, int],
    class_label: datasets.ClassLabel,
) -> datasets.Dataset:
    features = ds.features.copy()
    features[label_column] = class_label

    def to_ids(batch: dict[str, list[Any]]) -> dict[str, list[int]]:
        return {label_column: [mapping[v] for v in batch[label_column]]}

    return ds.map(to_ids, batched=True, batch_size=10_000, features=features, desc="Encoding labels")


def _find_value(dd: datasets.DatasetDict, column: str, value: Any) -> tuple[str, int]:
    for split, ds in dd.items():
        col = _arrow_column(ds, column)
        row = _first_index(pc.equal(col, pa.scalar(value, type=col.type)))
        if row is not None:
            return split, row
    return "?", -1


def _check_ids_in_range(ds: datasets.Dataset, split: str, column: str, num: int, names: Sequence[str]) -> None:
    if len(ds) == 0:
        return
    col = _arrow_column(ds, column)
    bad = pc.or_(pc.less(col, 0), pc.greater_equal(col, num))
    row = _first_index(bad)
    if row is not None:
        value = _arrow_column(ds, column)[row].as_py()
        raise DataValidationError(
            f"{split}: row {row} has label id {value} in column {column!r}, outside the {num} classes {list(names)}"
        )
