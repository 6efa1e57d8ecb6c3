"""Class counts and class weights for imbalanced classification (plain numpy/torch, no Trainer needed).

Every scheme in :func:`compute_class_weights` starts from the per-class counts ``n_c`` of the
training labels (``N = sum(n_c)`` examples over the ``K`` classes present) and a raw formula:

==================== ========================================== ===============================
scheme               raw weight ``w_c``                          source
==================== ========================================== ===============================
``balanced``         ``N / (K * n_c)``                           scikit-learn ``"balanced"``
``inverse``          ``1 / n_c``                                 inverse class frequency
``inverse_sqrt``     ``1 / sqrt(n_c)``                           softened inverse frequency
``effective_number`` ``(1 - beta) / (1 - beta ** n_c)``          Cui et al., CVPR 2019
==================== ========================================== ===============================

The raw weights are then rescaled according to ``normalize``:

* ``"examples"`` (default): ``sum_c w_c * n_c = N``, i.e. the average weight *per training
  example* is 1, so a weighted loss keeps the scale of the unweighted one and learning rates carry
  over. ``"balanced"`` already satisfies this and is returned exactly as scikit-learn computes it;
  ``"inverse"`` normalised this way coincides with ``"balanced"``.
* ``"classes"``: ``sum_c w_c = K``, the average weight *per class* is 1 (the normalisation of the
  class-balanced loss paper).
* ``"none"``: the raw formula.

Labels equal to ``-100`` (the Hugging Face "ignore" label) are skipped everywhere. A class with no
example has no defined weight: it is an error that names the class, unless the caller fixed the
class set explicitly (``num_classes`` or ``label_names``). Then such a class gets weight ``0.0`` and
a warning is emitted: with no examples it contributes no loss term on these labels anyway, and 0
keeps every other weight finite (``inverse`` and ``effective_number`` would give infinity).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal, get_args

import numpy as np
import torch

__all__ = [
    "CLASS_WEIGHTING_SCHEMES",
    "IGNORE_INDEX",
    "class_counts",
    "class_name",
    "compute_class_weights",
    "resolve_class_weights",
    "weights_from_counts",
]

#: Label value that Hugging Face models and the Trainer treat as "no label"; skipped when counting.
IGNORE_INDEX = -100

Scheme = Literal["balanced", "inverse", "inverse_sqrt", "effective_number"]
#: The class-weighting schemes (the names of ``Scheme``): :func:`compute_class_weights` and the
#: ``class_weighting`` option accept these.
CLASS_WEIGHTING_SCHEMES: tuple[str, ...] = get_args(Scheme)
Normalize = Literal["examples", "classes", "none"]
_NORMALIZE = ("examples", "classes", "none")


def class_name(c: int, label_names: Sequence[str] | None) -> str:
    """How messages name class ``c``: ``2 ('tiny')`` when its label name is known, else ``2``."""
    if label_names is not None and 0 <= c < len(label_names):
        return f"{c} ({label_names[c]!r})"
    return str(c)


def _to_label_array(labels: Any, label_names: Sequence[str] | None) -> np.ndarray:
    """Turn labels (list, numpy, torch, or label-name strings) into a 1-D int64 array."""
    if isinstance(labels, torch.Tensor):
        labels = labels.detach().cpu().numpy()
    elif not isinstance(labels, np.ndarray):
        labels = list(labels) if not isinstance(labels, (list, tuple)) else labels
    arr = np.asarray(labels)
    if arr.ndim != 1:
        raise ValueError(f"labels must be a 1-D sequence of class ids, got an array of shape {arr.shape}")
    if arr.size == 0:
        return arr.astype(np.int64)
    if arr.dtype.kind in "USO":  # label names
        if label_names is None:
            raise ValueError(
                f"labels are strings (e.g. {arr[0]!r}); pass label_names=[...] to map them to class ids"
            )
        index = {name: i for i, name in enumerate(label_names)}
        unknown = sorted({str(v) for v in arr.tolist() if v not in index})
        if unknown:
            raise ValueError(f"labels {unknown[:10]} are not in label_names {list(label_names)}")
        return np.fromiter((index[v] for v in arr.tolist()), dtype=np.int64, count=arr.size)
    if arr.dtype.kind == "b":
        raise ValueError("labels must be integer class ids, got booleans")
    if arr.dtype.kind == "f":
        bad = arr[~np.isfinite(arr) | (arr != np.round(arr))]
        if bad.size:
            raise ValueError(f"labels must be integer class ids, got {bad[0]!r}")
    elif arr.dtype.kind not in "iu":
        raise ValueError(f"labels must be integer class ids, got dtype {arr.dtype}")
    return arr.astype(np.int64)


def _resolve_num_classes(num_classes: int | None, label_names: Sequence[str] | None) -> int | None:
    if num_classes is not None:
        if isinstance(num_classes, bool) or not isinstance(num_classes, (int, np.integer)) or num_classes < 1:
            raise ValueError(f"num_classes must be a positive integer, got {num_classes!r}")
        num_classes = int(num_classes)
    if label_names is not None:
        if num_classes is not None and num_classes != len(label_names):
            raise ValueError(
                f"num_classes={num_classes} does not match the {len(label_names)} "
                f"label_names {list(label_names)}"
            )
        return len(label_names)
    return num_classes


def class_counts(
    labels: Iterable[Any] | np.ndarray | torch.Tensor,
    num_classes: int | None = None,
    *,
    label_names: Sequence[str] | None = None,
) -> np.ndarray:
    """Count examples per class (int64, length ``num_classes``), skipping the ignore label ``-100``.

    Without ``num_classes`` (or ``label_names``) the class set is ``0 .. max(label)``. String labels
    are mapped to ids through ``label_names``.
    """
    k = _resolve_num_classes(num_classes, label_names)
    arr = _to_label_array(labels, label_names)
    arr = arr[arr != IGNORE_INDEX]
    if arr.size and arr.min() < 0:
        raise ValueError(f"labels must be class ids >= 0 (or {IGNORE_INDEX} to ignore), got {int(arr.min())}")
    if k is not None and arr.size and arr.max() >= k:
        raise ValueError(f"label {int(arr.max())} is out of range for num_classes={k}")
    if k is None:
        if arr.size == 0:
            raise ValueError("no labels to count (all were empty or -100) and num_classes was not given")
        k = int(arr.max()) + 1
    return np.bincount(arr, minlength=k).astype(np.int64)


def weights_from_counts(
    counts: Sequence[int] | np.ndarray | torch.Tensor,
    scheme: Scheme = "balanced",
    *,
    beta: float = 0.999,
    normalize: Normalize = "examples",
    label_names: Sequence[str] | None = None,
    allow_empty: bool = False,
) -> np.ndarray:
    """Class weights (float64) from per-class counts; see the module docstring for the formulas.

    With ``allow_empty=False`` a zero count raises an error naming the class; with ``True`` the
    class gets weight 0 and a warning.
    """
    if scheme not in CLASS_WEIGHTING_SCHEMES:
        raise ValueError(f"unknown class-weight scheme {scheme!r}; choose one of {list(CLASS_WEIGHTING_SCHEMES)}")
    if normalize not in _NORMALIZE:
        raise ValueError(f"normalize must be one of {list(_NORMALIZE)}, got {normalize!r}")
    if isinstance(counts, torch.Tensor):
        counts = counts.detach().cpu().numpy()
    n = np.asarray(counts)
    if n.ndim != 1 or n.size == 0:
        raise ValueError(f"class counts must be a non-empty 1-D sequence, got shape {n.shape}")
    if n.dtype.kind not in "iuf" or not np.all(np.isfinite(n)) or np.any(n < 0) or np.any(n != np.round(n)):
        raise ValueError(f"class counts must be non-negative integers, got {n.tolist()}")
    n = n.astype(np.int64)
    if scheme == "effective_number":
        if isinstance(beta, bool) or not isinstance(beta, (int, float)) or not 0.0 <= float(beta) < 1.0:
            raise ValueError(f"beta must be a number in [0, 1), got {beta!r}")
    present = n > 0
    if not present.any():
        raise ValueError("every class has zero examples; cannot compute class weights")
    if not present.all():
        empty = [class_name(int(c), label_names) for c in np.flatnonzero(~present)]
        if not allow_empty:
            raise ValueError(
                f"class(es) {', '.join(empty)} have no examples, so their weight is undefined; pass "
                "num_classes (or label_names) explicitly to give them weight 0"
            )
        warnings.warn(
            f"class(es) {', '.join(empty)} have no examples; their class weight is set to 0",
            UserWarning,
            stacklevel=3,
        )
    n_p = n[present]
    total = n_p.sum()
    k_p = n_p.size
    if scheme == "balanced":
        # Same expression and operation order as sklearn.utils.class_weight.compute_class_weight.
        raw = total / (k_p * n_p.astype(np.float64))
    elif scheme == "inverse":
        raw = 1.0 / n_p.astype(np.float64)
    elif scheme == "inverse_sqrt":
        raw = 1.0 / np.sqrt(n_p.astype(np.float64))
    else:
        b = float(beta)
        if b == 0.0:
            raw = np.ones(k_p, dtype=np.float64)
        else:
            # 1 - beta**n computed as -expm1(n log(beta)): accurate when beta is close to 1.
            raw = (1.0 - b) / -np.expm1(n_p.astype(np.float64) * math.log(b))
    if normalize == "examples" and scheme != "balanced":  # "balanced" satisfies it by construction
        raw = raw * (total / np.dot(raw, n_p.astype(np.float64)))
    elif normalize == "classes":
        raw = raw * (k_p / raw.sum())
    out = np.zeros(n.size, dtype=np.float64)
    out[present] = raw
    return out


def compute_class_weights(
    labels: Iterable[Any] | np.ndarray | torch.Tensor,
    scheme: Scheme = "balanced",
    *,
    beta: float = 0.999,
    num_classes: int | None = None,
    label_names: Sequence[str] | None = None,
    normalize: Normalize = "examples",
) -> np.ndarray:
    """Per-class weights (float64, length ``num_classes``) from training labels.

    ``scheme="balanced"`` equals ``sklearn.utils.class_weight.compute_class_weight("balanced",
    classes=np.arange(K), y=labels)``. Formulas, normalisation and the handling of empty classes
    are described in the module docstring. ``beta`` is used only by ``"effective_number"``.
    """
    explicit = num_classes is not None or label_names is not None
    counts = class_counts(labels, num_classes, label_names=label_names)
    return weights_from_counts(
        counts, scheme, beta=beta, normalize=normalize, label_names=label_names, allow_empty=explicit
    )


def resolve_class_weights(
    weights: Any,
    num_classes: int,
    label_names: Sequence[str] | None = None,
) -> torch.Tensor | None:
    """Validate user class weights and return them as a float32 tensor of length ``num_classes``.

    Accepts ``None`` (returned as ``None``), a list/tuple/numpy array/tensor of length
    ``num_classes``, or a Keras-style dict keyed by class id or by label name (names need
    ``label_names``). Every class must be given; weights must be finite, >= 0 and not all zero.
    """
    k = _resolve_num_classes(num_classes, label_names)
    if k is None:
        raise ValueError("num_classes is required to resolve class weights")
    if weights is None:
        return None
    if isinstance(weights, str):
        raise ValueError(
            f"class weights must be numbers, got the string {weights!r}; compute them first with "
            f"compute_class_weights(labels, scheme=...) (schemes: {list(CLASS_WEIGHTING_SCHEMES)})"
        )
    if isinstance(weights, Mapping):
        values = _weights_from_mapping(weights, k, label_names)
    else:
        if isinstance(weights, torch.Tensor):
            arr = weights.detach().cpu().to(torch.float64).numpy()
        else:
            try:
                arr = np.asarray(weights, dtype=np.float64)
            except (TypeError, ValueError) as err:
                raise ValueError(f"class weights must be numbers, got {weights!r}") from err
        if arr.ndim != 1:
            raise ValueError(f"class weights must be 1-D with one weight per class, got shape {arr.shape}")
        if arr.size != k:
            raise ValueError(f"expected {k} class weights (one per class), got {arr.size}: {arr.tolist()}")
        values = arr
    for c, v in enumerate(values.tolist()):
        if not math.isfinite(v):
            raise ValueError(f"class weight for class {class_name(c, label_names)} is {v}, not finite")
        if v < 0:
            raise ValueError(f"class weight for class {class_name(c, label_names)} is negative ({v})")
    if not np.any(values > 0):
        raise ValueError(f"class weights are all zero ({values.tolist()}); at least one must be positive")
    return torch.as_tensor(values, dtype=torch.float32)


def _weights_from_mapping(
    weights: Mapping[Any, Any], k: int, label_names: Sequence[str] | None
) -> np.ndarray:
    name_to_id = {name: i for i, name in enumerate(label_names)} if label_names is not None else {}
    values: dict[int, float] = {}
    unknown: list[Any] = []
    for key, value in weights.items():
        if isinstance(key, str) and key in name_to_id:
            cid = name_to_id[key]
        elif isinstance(key, (int, np.integer)) and not isinstance(key, bool) and 0 <= int(key) < k:
            cid = int(key)
        else:
            unknown.append(key)
            continue
        if cid in values:
            raise ValueError(f"class {class_name(cid, label_names)} is given twice in the class-weight dict")
        try:
            values[cid] = float(value)
        except (TypeError, ValueError) as err:
            raise ValueError(f"class weight for key {key!r} must be a number, got {value!r}") from err
    if unknown:
        hint = "" if label_names is not None else " (string keys need label_names)"
        known = list(label_names) if label_names is not None else list(range(k))
        raise ValueError(f"unknown class-weight keys {unknown}{hint}; classes are {known} or ids 0..{k - 1}")
    missing = [class_name(c, label_names) for c in range(k) if c not in values]
    if missing:
        raise ValueError(f"class-weight dict is missing class(es) {', '.join(missing)}; give every class")
    return np.array([values[c] for c in range(k)], dtype=np.float64)
