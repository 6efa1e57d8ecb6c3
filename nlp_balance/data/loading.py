"""Loading text-classification data from any source into ``datasets`` objects with a ``ClassLabel``.

:func:`load_text_dataset` accepts a Hub dataset id, local csv/tsv/json/jsonl/parquet files or folders,
a ``save_to_disk`` folder, or an in-memory ``Dataset``/``DatasetDict``, and returns the same kind of
object with the label column encoded as a :class:`datasets.ClassLabel` and every row validated.
Errors name the file, the split, the row and the column, so a bad row in a million is found at once.
Local text files are decoded strictly (UTF-8, or the ``encoding`` the caller names) before
``datasets`` reads them: see :mod:`~nlp_balance.data.encoding`.
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import datasets

from nlp_balance.data.encoding import resolve_encoding, utf8_files
from nlp_balance.data.errors import DataValidationError
from nlp_balance.data.json_rows import check_json_rows
from nlp_balance.data.labels import encode_labels, get_class_label
from nlp_balance.data.validation import LoadReport, describe_split, validate_text_dataset

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
    encoding: str | None = None,
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
        drop_invalid: drop rows whose text is missing or blank, or whose label is missing, blank, of
            another type than the rest, or a whitespace variant of another label, and log how many
            were dropped per split and reason, instead of raising.
        encoding: the text encoding of local csv/tsv/json/jsonl files (a Python codec name such as
            ``"latin-1"``). ``None``: strict UTF-8; a byte that does not decode is an error naming
            the file, line and byte offset.
        revision: the Hub revision (branch, tag or commit) to load.
        trust_remote_code: passed to ``load_dataset`` for Hub datasets; off unless you turn it on.
        return_report: also return a :class:`LoadReport` with the drop counts and label order.
        **load_kwargs: passed to ``datasets.load_dataset`` (e.g. ``data_dir``, ``cache_dir``).

    Returns:
        A ``DatasetDict`` (or a ``Dataset`` when ``source`` is one or ``split`` is given), plus the
        :class:`LoadReport` when ``return_report`` is true.
    """
    resolve_encoding(encoding)  # an unknown name fails before any file is read
    raw, source_name, sources = _load_raw(
        source,
        split=split,
        name=name,
        encoding=encoding,
        revision=revision,
        trust_remote_code=trust_remote_code,
        **load_kwargs,
    )
    single = isinstance(raw, datasets.Dataset)
    dd = datasets.DatasetDict({split or "train": raw}) if single else raw
    report = LoadReport(source=source_name)
    dd = validate_text_dataset(
        dd, text_column, label_column, drop_invalid=drop_invalid, report=report, split_sources=sources
    )
    for split_name, part in dd.items():
        if len(part) == 0:
            dropped = report.dropped.get(split_name)
            why = f" after dropping every row as invalid ({dropped})" if dropped else ""
            raise DataValidationError(
                f"{describe_split(split_name, sources)}: the split has no rows{why}; there is nothing to classify"
            )
    dd = encode_labels(dd, label_column, label_names=label_names, split_sources=sources)
    report.label_names = list(get_class_label(dd, label_column).names)
    out = dd[split or "train"] if single else dd
    return (out, report) if return_report else out


def _load_raw(
    source: Any,
    *,
    split: str | None,
    name: str | None,
    encoding: str | None,
    revision: str | None,
    trust_remote_code: bool,
    **load_kwargs: Any,
) -> tuple[datasets.Dataset | datasets.DatasetDict, str, dict[str, str]]:
    """The raw data, a name for it, and the file names behind each split (for messages)."""
    if isinstance(source, (datasets.Dataset, datasets.DatasetDict)):
        _unused_encoding(encoding, "an in-memory dataset")
        obj = source
        if split is not None and isinstance(obj, datasets.DatasetDict):
            obj = _pick_split(obj, split, "the given DatasetDict")
        return obj, f"<in-memory {type(source).__name__}>", {}
    if isinstance(source, (datasets.IterableDataset, datasets.IterableDatasetDict)):
        raise TypeError(
            "load_text_dataset needs a map-style Dataset; for streaming input use "
            "the augmenters directly on the IterableDataset (dataset.map(...))."
        )
    if not isinstance(source, (str, os.PathLike)):
        raise TypeError(f"source must be a path, a Hub dataset id or a datasets object, got {type(source).__name__}")
    path = Path(source).expanduser()
    if path.exists():
        obj, sources = _load_local(path, split=split, encoding=encoding, **load_kwargs)
        return obj, str(path), sources
    text = os.fspath(source)
    if text.startswith((".", "/", "~")) or text.endswith(tuple(_BUILDERS)) or os.sep + os.sep in text:
        raise FileNotFoundError(f"no such file or folder: {text!r}")
    # Anything else is a Hub dataset id: the real code path, which needs the network or a warm cache.
    _unused_encoding(encoding, "a Hub dataset")
    kwargs: dict[str, Any] = dict(load_kwargs)
    if trust_remote_code:
        kwargs["trust_remote_code"] = True
    obj = datasets.load_dataset(text, name, split=split, revision=revision, **kwargs)
    return obj, text, {}


def _unused_encoding(encoding: str | None, what: str) -> None:
    if encoding is not None:
        logger.warning("encoding=%r applies to local text files; %s is read as it is", encoding, what)


def _pick_split(dd: datasets.DatasetDict, split: str, where: str) -> datasets.Dataset:
    if split not in dd:
        raise KeyError(f"split {split!r} not found in {where}; available splits: {sorted(dd)}")
    return dd[split]


def _load_local(
    path: Path, *, split: str | None, encoding: str | None, **load_kwargs: Any
) -> tuple[datasets.Dataset | datasets.DatasetDict, dict[str, str]]:
    """Read a local file or folder; every failure of the readers is an error naming the file."""
    if path.is_dir() and ((path / "dataset_dict.json").exists() or (path / "state.json").exists()):
        _unused_encoding(encoding, "a save_to_disk folder")
        try:
            obj = datasets.load_from_disk(str(path))
        except Exception as err:  # any reader failure becomes one error naming the folder
            raise _read_error(repr(str(path)), err) from err
        names = [split or "train"] if isinstance(obj, datasets.Dataset) else list(obj)
        sources = dict.fromkeys(names, repr(str(path)))
        if split is not None and isinstance(obj, datasets.DatasetDict):
            return _pick_split(obj, split, str(path)), sources
        return obj, sources
    builder, extra, files = _data_files(path, split)
    if split is not None and split not in files:
        raise KeyError(f"split {split!r} not found in {str(path)!r}; available splits: {sorted(files)}")
    if split is not None:
        files = {split: files[split]}
    sources = {name: ", ".join(repr(f) for f in group) for name, group in files.items()}
    with utf8_files(files, encoding) as readable:
        if builder == "json" and "field" not in load_kwargs:  # with ``field``, datasets parses it in Python
            for split_name, group in readable.items():
                for readable_file, original in zip(group, files[split_name]):
                    check_json_rows(readable_file, name=original)
        dd = _read_files(builder, extra, readable, files, **load_kwargs)
    return (dd[split] if split is not None else dd), sources


def _data_files(path: Path, split: str | None) -> tuple[str, dict[str, Any], dict[str, list[str]]]:
    """The ``datasets`` builder, its extra arguments, and split -> files for a file or a folder of files."""
    if not path.is_dir():
        suffix = path.suffix.lower()
        if suffix not in _BUILDERS:
            raise ValueError(f"unsupported file type {suffix!r} for {str(path)!r}; expected one of {sorted(_BUILDERS)}")
        builder, extra = _BUILDERS[suffix]
        return builder, extra, {split or "train": [str(path)]}
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
    return builder, extra, dict(sorted(files.items(), key=lambda kv: (order.get(kv[0], 3), kv[0])))


def _read_files(
    builder: str,
    extra: Mapping[str, Any],
    readable: Mapping[str, list[str]],
    originals: Mapping[str, list[str]],
    **load_kwargs: Any,
) -> datasets.DatasetDict:
    """``datasets.load_dataset`` on checked UTF-8 files; its failures name the original file."""
    try:
        return datasets.load_dataset(builder, data_files=dict(readable), **extra, **load_kwargs)
    except Exception as err:  # any reader failure becomes one error naming the file
        culprit = _culprit(builder, extra, readable, originals, err)
        raise _read_error(culprit, err) from err


def _culprit(
    builder: str,
    extra: Mapping[str, Any],
    readable: Mapping[str, list[str]],
    originals: Mapping[str, list[str]],
    err: Exception,
) -> str:
    """The original file (quoted) that made the reader fail: by the split it names, or by reading each alone."""
    pairs = [(split, r, o) for split in readable for r, o in zip(readable[split], originals[split])]
    if len(pairs) == 1:
        return repr(pairs[0][2])
    named = [o for split, _, o in pairs if f'"{split}"' in str(err)]
    if len(named) == 1:
        return repr(named[0])
    with tempfile.TemporaryDirectory() as cache:  # one-off reads: keep them out of the real cache
        for _, readable_file, original in pairs:
            try:
                datasets.load_dataset(builder, data_files=[readable_file], cache_dir=cache, **extra)
            except Exception:  # the first file that fails on its own is the culprit
                return repr(original)
    return ", ".join(repr(o) for _, _, o in pairs)


def _read_error(where: str, err: BaseException) -> DataValidationError:
    """One error for a reader failure: the file, and the reader's own cause in a line."""
    cause: BaseException = err
    if isinstance(err, datasets.exceptions.DatasetGenerationError):
        cause = err.__cause__ or err.__context__ or err
    detail = f"{type(cause).__name__}: {cause}" if str(cause) else type(cause).__name__
    if isinstance(cause, StopIteration) or "corresponds to no data" in detail:
        return DataValidationError(f"{where}: the file holds no rows")
    detail = " ".join(detail.split())
    if len(detail) > 300:
        detail = detail[:300] + "..."
    return DataValidationError(f"could not read {where} as a dataset ({detail})")
