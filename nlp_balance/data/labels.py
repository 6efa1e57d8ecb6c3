"""Class labels: turn a label column into one ``ClassLabel`` shared by all splits, and read it back.

:func:`encode_labels` refuses label values that cannot be classes (the checks live in
:mod:`~nlp_balance.data.label_checks`), :func:`get_class_label` and :func:`label_array` read the
encoded column, and :func:`model_label_names` reads a model's class names.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

import datasets
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from nlp_balance.data._columns import arrow_column, first_index
from nlp_balance.data.errors import DataValidationError
from nlp_balance.data.label_checks import check_label_names, normalise_label_column
from nlp_balance.data.validation import check_labels, describe_split

logger = logging.getLogger(__name__)


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


def encode_labels(
    dataset: datasets.Dataset | datasets.DatasetDict,
    label_column: str = "label",
    *,
    label_names: Sequence[str] | None = None,
    split_sources: Mapping[str, str] | None = None,
) -> Any:
    """Make ``label_column`` a ``ClassLabel`` in every split, with one label order for all splits.

    * An existing ``ClassLabel`` is kept as it is (``label_names``, if given, must match it).
    * String labels map to ids in ``label_names`` order, or in sorted order of all labels seen in any
      split when ``label_names`` is not given (stable across runs and machines).
    * Integer labels (integral floats included) are kept as ids when they are ``0..K-1``; names are
      their string form unless ``label_names`` is given.

    Missing, blank or mixed-type labels, labels that differ only in whitespace, a label outside the
    given names, or an integer outside ``0..K-1``, are an error that names the split, row and value
    (and the split's files, given ``split_sources``: split -> file names).
    """
    dd = dataset if isinstance(dataset, datasets.DatasetDict) else datasets.DatasetDict({"dataset": dataset})
    if label_names is not None:
        check_label_names(list(label_names), "label_names")
    where = {split: describe_split(split, split_sources) for split in dd}
    feature = next(iter(dd.values())).features[label_column]
    if isinstance(feature, datasets.ClassLabel):
        _check_class_label(dd, label_column, feature, label_names, where)
        return dataset
    check_labels(dd, label_column, split_sources)
    dd = datasets.DatasetDict({split: normalise_label_column(ds, label_column) for split, ds in dd.items()})
    is_string = _label_kind(dd, label_column, where) == "string"
    values: set[Any] = set()
    for ds in dd.values():
        if len(ds):
            values.update(v for v in pc.unique(arrow_column(ds, label_column)).to_pylist() if v is not None)
    if is_string:
        names = list(label_names) if label_names is not None else sorted(values)
        unknown = sorted(values - set(names))
        if unknown:
            split, row = _find_value(dd, label_column, unknown[0])
            raise DataValidationError(
                f"{where.get(split, split)}: row {row} has label {unknown[0]!r} in column {label_column!r}, "
                f"which is not among label_names {names}"
            )
        class_label = datasets.ClassLabel(names=names)
        mapping = {n: i for i, n in enumerate(names)}
        out = datasets.DatasetDict(
            {split: _cast_string_labels(ds, label_column, mapping, class_label) for split, ds in dd.items()}
        )
    else:
        if label_names is None:
            _check_id_span(dd, label_column, values, where)
        num = len(label_names) if label_names is not None else (max(values) + 1 if values else 0)
        names = list(label_names) if label_names is not None else [str(i) for i in range(num)]
        for split, ds in dd.items():
            _check_ids_in_range(ds, where[split], label_column, num, names)
        class_label = datasets.ClassLabel(names=names)
        out = datasets.DatasetDict({split: ds.cast_column(label_column, class_label) for split, ds in dd.items()})
        missing = sorted(set(range(num)) - values)
        if missing and label_names is None:
            logger.warning(
                "label ids %s never occur; they are kept as empty classes %s", missing, [names[i] for i in missing]
            )
    return out if isinstance(dataset, datasets.DatasetDict) else out["dataset"]


def _check_class_label(
    dd: datasets.DatasetDict,
    label_column: str,
    feature: datasets.ClassLabel,
    label_names: Sequence[str] | None,
    where: Mapping[str, str],
) -> None:
    """An existing ``ClassLabel``: one for all splits, usable names, matching ``label_names``, ids in range."""
    for split, ds in dd.items():
        if ds.features[label_column] != feature:
            raise DataValidationError(
                f"split {split!r} has ClassLabel {ds.features[label_column].names} but another split has "
                f"{feature.names}; all splits must share one label order"
            )
    check_label_names(feature.names, f"the ClassLabel of column {label_column!r}")
    if label_names is not None and list(label_names) != list(feature.names):
        raise DataValidationError(
            f"label_names {list(label_names)} differ from the dataset's ClassLabel names {feature.names}"
        )
    for split, ds in dd.items():
        _check_ids_in_range(ds, where[split], label_column, feature.num_classes, feature.names)


#: Integer labels may leave this many ids (or as many as occur, if more) unused as empty classes.
_MAX_EMPTY_CLASSES = 1000


def _check_id_span(dd: datasets.DatasetDict, label_column: str, values: set[Any], where: Mapping[str, str]) -> None:
    """Refuse integer labels whose largest id would make mostly empty classes (``{0, 1, 10**12}``)."""
    if not values or min(values) < 0:
        return  # no data, or a negative id, which _check_ids_in_range names
    top = max(values)
    empty = top + 1 - len(values)
    if empty > max(_MAX_EMPTY_CLASSES, len(values)):
        split, row = _find_value(dd, label_column, top)
        raise DataValidationError(
            f"{where.get(split, split)}: row {row} has label id {top} in column {label_column!r}; integer labels "
            f"are class ids 0..K-1, and {len(values)} distinct ids up to {top} would make {top + 1} classes, "
            f"{empty} of them empty. Map the labels to 0..K-1, store them as strings, or pass label_names"
        )


def _label_kind(dd: datasets.DatasetDict, label_column: str, where: Mapping[str, str]) -> str:
    """``"string"`` or ``"int"``: the one kind every non-empty split's (checked) label column has."""
    kinds: dict[str, str] = {}
    for split, ds in dd.items():
        if len(ds) == 0:
            continue
        kind = arrow_column(ds, label_column).type
        if pa.types.is_string(kind) or pa.types.is_large_string(kind):
            kinds[split] = "string"
        elif pa.types.is_integer(kind):
            kinds[split] = "int"
        else:
            raise DataValidationError(
                f"{where[split]}: label column {label_column!r} has type {kind}; expected strings, integers or "
                "a ClassLabel"
            )
    if len(set(kinds.values())) > 1:
        first = next(iter(kinds))
        other = next(split for split, kind in kinds.items() if kind != kinds[first])
        value = dd[other][0][label_column]
        raise DataValidationError(
            f"{where[other]}: row 0 has label {value!r} in column {label_column!r}; labels must all be strings or "
            f"all be integers (0..K-1), and split {first!r} holds {kinds[first]} labels"
        )
    return next(iter(kinds.values()), "string")


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
        col = arrow_column(ds, column)
        row = first_index(pc.equal(col, pa.scalar(value, type=col.type)))
        if row is not None:
            return split, row
    return "?", -1


def _check_ids_in_range(ds: datasets.Dataset, where: str, column: str, num: int, names: Sequence[str]) -> None:
    if len(ds) == 0:
        return
    col = arrow_column(ds, column)
    bad = pc.or_(pc.less(col, 0), pc.greater_equal(col, num))
    row = first_index(bad)
    if row is not None:
        value = arrow_column(ds, column)[row].as_py()
        raise DataValidationError(
            f"{where}: row {row} has label id {value} in column {column!r}, outside the {num} classes {list(names)}"
        )


def label_array(dataset: datasets.Dataset, label_column: str = "label") -> np.ndarray:
    """The label column as an int64 numpy array, read from Arrow without Python objects."""
    if label_column not in dataset.column_names:
        raise ValueError(f"label column {label_column!r} not found; columns are {dataset.column_names}")
    # One Arrow read. (In datasets 5, ``ds.with_format("numpy")[col]`` is a lazy column that numpy
    # converts row by row through the formatter: 197 s for 200,000 rows.)
    col = dataset.with_format("arrow", columns=[label_column])[:][label_column]
    return np.asarray(col.to_numpy(zero_copy_only=False), dtype=np.int64)


def model_label_names(config: Any) -> list[str]:
    """Class names of a ``*ForSequenceClassification`` config in id order.

    ``id2label`` keys may be ints or, after a JSON round trip, strings; a missing name falls back to
    the id's string form.
    """
    num = int(getattr(config, "num_labels", 0) or 0)
    id2label = getattr(config, "id2label", None) or {}
    return [str(id2label.get(i, id2label.get(str(i), i))) for i in range(num)]
