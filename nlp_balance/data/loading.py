"""Loading text-classification data from any source into ``datasets`` objects with a ``ClassLabel``.

:func:`load_text_dataset` accepts a Hub dataset id, local csv/tsv/json/jsonl/parquet files or folders,
a ``save_to_disk`` folder, or an in-memory ``Dataset``/``DatasetDict``, and returns the same kind of
object with the label column encoded as a :class:`datasets.ClassLabel` and every row validated.
Errors name the split, the row and the column, so a bad row in a million is found at once.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import datasets
import pyarrow as pa

from nlp_balance.data.labels import encode_labels, get_class_label
from nlp_balance.data.validation import DataValidationError, LoadReport, validate_text_dataset

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


