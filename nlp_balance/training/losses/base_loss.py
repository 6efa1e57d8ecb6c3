"""Shared machinery of the loss classes: parameter checks and the two base classes.

:class:`ImbalanceLoss` does the input checks, the float32 computation with autocast off and the
reductions for every loss in :mod:`nlp_balance.training.losses`; :class:`CrossEntropyFamily` adds
cross-entropy on (optionally adjusted) logits with PyTorch's weight and mean semantics.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from nlp_balance.training.class_weights import class_name, resolve_class_weights

__all__ = [
    "REDUCTIONS",
    "TINY",
    "CrossEntropyFamily",
    "ImbalanceLoss",
    "autocast_off",
    "check_non_negative",
    "check_number",
    "check_positive",
    "check_reduction",
    "check_unit_interval",
    "positive_counts",
]

#: Values of every loss's ``reduction``.
REDUCTIONS = ("none", "sum", "mean")
#: Floor of ``1 - p`` before ``** gamma``: keeps it differentiable at 0 for ``gamma < 1``.
TINY = torch.finfo(torch.float32).tiny


# --------------------------------------------------------------------------------------------------
# parameter checks
# --------------------------------------------------------------------------------------------------
def check_number(name: str, value: Any) -> float:
    """``value`` as a finite float; a bool, non-number or inf/NaN raises an error naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ValueError(f"{name} must be a number, got {value!r}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return value


def check_non_negative(name: str, value: Any) -> float:
    """``value`` as a finite float >= 0, else an error naming ``name``."""
    v = check_number(name, value)
    if v < 0:
        raise ValueError(f"{name} must be >= 0, got {value!r}")
    return v


def check_positive(name: str, value: Any) -> float:
    """``value`` as a finite float > 0, else an error naming ``name``."""
    v = check_number(name, value)
    if v <= 0:
        raise ValueError(f"{name} must be > 0, got {value!r}")
    return v


def check_unit_interval(name: str, value: Any, *, closed_right: bool = True) -> float:
    """``value`` as a float in [0, 1] (or [0, 1) when not ``closed_right``), else an error naming ``name``."""
    v = check_number(name, value)
    if not (0.0 <= v <= 1.0 if closed_right else 0.0 <= v < 1.0):
        raise ValueError(f"{name} must be in [0, 1{']' if closed_right else ')'}, got {value!r}")
    return v


def check_reduction(reduction: Any) -> str:
    """``reduction`` when it is one of :data:`REDUCTIONS`, else an error listing them."""
    if reduction not in REDUCTIONS:
        raise ValueError(f"reduction must be one of {list(REDUCTIONS)}, got {reduction!r}")
    return reduction


def positive_counts(
    class_counts: Any, name: str = "class_counts", label_names: Sequence[str] | None = None
) -> np.ndarray:
    """Per-class counts (or priors) as float64, each finite and > 0; an empty class is named in the error.

    Losses built on log priors or count powers (logit adjustment, balanced softmax, LDAM) have no value
    for a class without examples, so such a class is an error, named through ``label_names`` when given.
    """
    if isinstance(class_counts, torch.Tensor):
        class_counts = class_counts.detach().cpu().numpy()
    try:
        arr = np.asarray(class_counts, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{name} must be a 1-D sequence of numbers, got {class_counts!r}") from err
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D sequence, got shape {arr.shape}")
    for c, v in enumerate(arr.tolist()):
        if not math.isfinite(v) or v < 0 or (v == 0 and name != "class_counts"):
            raise ValueError(f"{name}[{c}] = {v}: each class needs a positive count (or prior) here")
    empty = [class_name(int(c), label_names) for c in np.flatnonzero(arr == 0)]
    if empty:
        raise ValueError(
            f"{name}: class(es) {', '.join(empty)} have no examples; each class needs a positive count (or prior) here"
        )
    return arr


def autocast_off(device_type: str) -> contextlib.AbstractContextManager:
    """A context that turns autocast off on ``device_type`` (a no-op where autocast does not exist)."""
    try:
        return torch.autocast(device_type=device_type, enabled=False)
    except (RuntimeError, ValueError):  # a device type without autocast support
        return contextlib.nullcontext()


# --------------------------------------------------------------------------------------------------
# base classes
# --------------------------------------------------------------------------------------------------
class ImbalanceLoss(nn.Module):
    """Input checks, float32 computation without autocast, and the reductions."""

    multi_label: ClassVar[bool] = False
    weight: torch.Tensor | None

    def __init__(self, reduction: str = "mean", num_classes: int | None = None) -> None:
        super().__init__()
        self.reduction = check_reduction(reduction)
        self.num_classes = num_classes

    # -- class weights (used by subclasses that take them) ---------------------------------------
    def _init_weight(self, weight: Any, buffer: str = "weight") -> None:
        tensor = None
        if weight is not None:
            k = self.num_classes if self.num_classes is not None else len(weight)
            tensor = resolve_class_weights(weight, k)
            self.num_classes = k
        self.register_buffer(buffer, tensor, persistent=False)

    def set_class_weights(self, weights: Any, label_names: Sequence[str] | None = None) -> None:
        """Replace the per-class weights (``None`` removes them); used for deferred re-weighting."""
        if weights is None:
            self.weight = None
            return
        k = self.num_classes
        if k is None:
            k = len(label_names) if label_names is not None else len(weights)
        tensor = resolve_class_weights(weights, k, label_names)
        assert tensor is not None
        # keep the weights on the module's device (another buffer tells it when there was no weight)
        ref = self.weight if self.weight is not None else next(self.buffers(), None)
        self.weight = tensor.to(ref.device) if ref is not None else tensor
        self.num_classes = k

    # -- forward -------------------------------------------------------------------------------------
    def _check(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        name = type(self).__name__
        if not isinstance(logits, torch.Tensor) or not isinstance(target, torch.Tensor):
            kinds = f"{type(logits).__name__} and {type(target).__name__}"
            raise ValueError(f"{name} expects tensors for logits and target, got {kinds}")
        if logits.dim() != 2:
            raise ValueError(f"{name} expects logits of shape [N, C], got {tuple(logits.shape)}")
        if not logits.is_floating_point():
            raise ValueError(f"{name} expects floating-point logits, got {logits.dtype}")
        c = logits.shape[1]
        if self.num_classes is not None and c != self.num_classes:
            raise ValueError(f"{name} was built for {self.num_classes} classes but logits have {c} columns")
        if self.multi_label:
            if target.shape != logits.shape:
                raise ValueError(
                    f"{name} expects a multi-hot target of the logits' shape {tuple(logits.shape)}, "
                    f"got {tuple(target.shape)}"
                )
            target = target.to(device=logits.device, dtype=torch.float32)
            if target.numel() and bool(((target < 0) | (target > 1) | torch.isnan(target)).any()):
                bad = target[(target < 0) | (target > 1) | torch.isnan(target)][0].item()
                raise ValueError(f"{name} expects targets in [0, 1], got {bad}")
            return target
        if target.dim() != 1 or target.shape[0] != logits.shape[0]:
            raise ValueError(
                f"{name} expects a target of shape [N] = [{logits.shape[0]}] with class ids, "
                f"got {tuple(target.shape)}"
            )
        if target.is_floating_point() or target.is_complex() or target.dtype == torch.bool:
            raise ValueError(f"{name} expects integer class ids as target, got dtype {target.dtype}")
        target = target.to(device=logits.device, dtype=torch.long)
        if target.numel():
            bad_mask = (target < 0) | (target >= c)
            if bool(bad_mask.any()):
                bad = int(target[bad_mask][0].item())
                hint = " (-100 labels must be masked out before the loss)" if bad == -100 else ""
                raise ValueError(f"{name}: target class id {bad} is out of range for {c} classes{hint}")
        return target

    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """The loss of ``logits`` against ``target``, checked, in float32 with autocast off."""
        target = self._check(logits, target)
        with autocast_off(logits.device.type):
            return self._loss(logits.float(), target)

    def _loss(self, x: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return self._reduce(self._per_example(x, target))

    def _per_example(self, x: torch.Tensor, target: torch.Tensor) -> torch.Tensor:  # pragma: no cover
        raise NotImplementedError

    def _reduce(self, per: torch.Tensor) -> torch.Tensor:
        if self.reduction == "none":
            return per
        if self.reduction == "sum":
            return per.sum()
        return per.mean()

    def _weight_on(self, x: torch.Tensor, name: str = "weight") -> torch.Tensor | None:
        w = getattr(self, name)
        if w is None:
            return None
        if w.shape[0] != x.shape[1]:
            raise ValueError(
                f"{type(self).__name__} has {w.shape[0]} class weights but logits have {x.shape[1]} columns"
            )
        return w.to(device=x.device, dtype=torch.float32)

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}"


class CrossEntropyFamily(ImbalanceLoss):
    """Cross-entropy on (optionally adjusted) logits with PyTorch's weight and mean semantics."""

    def __init__(
        self,
        weight: Any = None,
        label_smoothing: float = 0.0,
        reduction: str = "mean",
        num_classes: int | None = None,
    ) -> None:
        super().__init__(reduction, num_classes)
        self.label_smoothing = check_unit_interval("label_smoothing", label_smoothing)
        self._init_weight(weight)

    def _adjust(self, x: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return x

    def _loss(self, x: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        weight = self._weight_on(x)
        if weight is not None and self.reduction == "mean":
            # PyTorch's weighted mean, sum(w_y l) / sum(w_y), except that a batch made only of
            # zero-weight classes gives 0 (with a gradient path) instead of 0/0 = NaN.
            per = F.cross_entropy(self._adjust(x, target), target, weight=weight,
                                  label_smoothing=self.label_smoothing, reduction="none")
            denom = weight[target].sum()
            return per.sum() / denom if bool(denom > 0) else per.sum() * 0.0
        return F.cross_entropy(
            self._adjust(x, target),
            target,
            weight=weight,
            label_smoothing=self.label_smoothing,
            reduction=self.reduction,
        )
