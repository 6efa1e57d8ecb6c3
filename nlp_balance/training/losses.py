"""Imbalance-aware classification losses as plain ``torch.nn.Module`` s (usable without the Trainer).

Conventions shared by every loss here:

* ``forward(logits, target)``: ``logits`` is ``[N, C]``; ``target`` is ``[N]`` integer class ids
  for single-label losses, or an ``[N, C]`` 0/1 (or soft) matrix for the multi-label ones.
  A wrong shape, dtype or out-of-range class id raises a ``ValueError`` that names it.
* The loss is always computed in float32 from the logits, with autocast disabled inside, whatever
  the input dtype (bf16/fp16) or the surrounding ``torch.autocast`` region. Gradients flow back to
  the logits in their own dtype.
* ``reduction="none"`` returns per-example losses ``[N]`` (single-label) or the elementwise
  ``[N, C]`` matrix (multi-label), so a Trainer can sum them and divide by ``num_items_in_batch``
  (exact under gradient accumulation). ``"sum"`` is the sum of those. ``"mean"`` is:

  - for the cross-entropy family (:class:`WeightedCrossEntropyLoss`, :class:`LogitAdjustedLoss`,
    :class:`BalancedSoftmaxLoss`, :class:`LDAMLoss`): PyTorch's weighted mean
    ``sum_i l_i / sum_i w[y_i]`` (the plain mean without weights), exactly ``F.cross_entropy``;
  - for every other loss: the plain mean of the ``"none"`` output over examples (elements for
    multi-label), as in the focal, class-balanced and dice papers.

* Labels equal to ``-100`` are **not** handled here: mask them out before calling the loss (the
  :mod:`nlp_balance.training.trainer` does). Passing one raises an error instead of silently ignoring it.
* Every loss that uses per-class weights has ``set_class_weights(weights)`` so that deferred
  re-weighting (DRW, Cao et al. 2019) can switch weights on at a chosen epoch. Weights may be a
  sequence, an array, a tensor or a Keras-style dict keyed by class id (or by name, given
  ``label_names``); see :func:`nlp_balance.training.class_weights.resolve_class_weights`.
"""

from __future__ import annotations

import contextlib
import difflib
import inspect
import math
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from nlp_balance.training.class_weights import resolve_class_weights, weights_from_counts

__all__ = [
    "LOSSES",
    "BalancedSoftmaxLoss",
    "ClassBalancedLoss",
    "FocalLoss",
    "LDAMLoss",
    "LogitAdjustedLoss",
    "MultiLabelBCELoss",
    "SelfAdjustingDiceLoss",
    "SigmoidFocalLoss",
    "WeightedCrossEntropyLoss",
    "build_loss",
]

_REDUCTIONS = ("none", "sum", "mean")
_TINY = torch.finfo(torch.float32).tiny  # keeps x**gamma differentiable at x == 0 for gamma < 1


# --------------------------------------------------------------------------------------------------
# parameter checks
# --------------------------------------------------------------------------------------------------
def _number(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ValueError(f"{name} must be a number, got {value!r}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return value


def _non_negative(name: str, value: Any) -> float:
    v = _number(name, value)
    if v < 0:
        raise ValueError(f"{name} must be >= 0, got {value!r}")
    return v


def _positive(name: str, value: Any) -> float:
    v = _number(name, value)
    if v <= 0:
        raise ValueError(f"{name} must be > 0, got {value!r}")
    return v


def _unit_interval(name: str, value: Any, *, closed_right: bool = True) -> float:
    v = _number(name, value)
    if not (0.0 <= v <= 1.0 if closed_right else 0.0 <= v < 1.0):
        raise ValueError(f"{name} must be in [0, 1{']' if closed_right else ')'}, got {value!r}")
    return v


def _check_reduction(reduction: Any) -> str:
    if reduction not in _REDUCTIONS:
        raise ValueError(f"reduction must be one of {list(_REDUCTIONS)}, got {reduction!r}")
    return reduction


def _counts_tensor(class_counts: Any, name: str = "class_counts") -> np.ndarray:
    if isinstance(class_counts, torch.Tensor):
        class_counts = class_counts.detach().cpu().numpy()
    try:
        arr = np.asarray(class_counts, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{name} must be a 1-D sequence of numbers, got {class_counts!r}") from err
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D sequence, got shape {arr.shape}")
    for c, v in enumerate(arr.tolist()):
        if not math.isfinite(v) or v <= 0:
            raise ValueError(f"{name}[{c}] = {v}: each class needs a positive count (or prior) here")
    return arr


def _autocast_off(device_type: str) -> contextlib.AbstractContextManager:
    try:
        return torch.autocast(device_type=device_type, enabled=False)
    except (RuntimeError, ValueError):  # a device type without autocast support
        return contextlib.nullcontext()


# --------------------------------------------------------------------------------------------------
# base classes
# --------------------------------------------------------------------------------------------------
class _ImbalanceLoss(nn.Module):
    """Input checks, float32 computation without autocast, and the reductions."""

    multi_label: ClassVar[bool] = False
    weight: torch.Tensor | None

    def __init__(self, reduction: str = "mean", num_classes: int | None = None) -> None:
        super().__init__()
        self.reduction = _check_reduction(reduction)
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
        target = self._check(logits, target)
        with _autocast_off(logits.device.type):
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


class _CrossEntropyFamily(_ImbalanceLoss):
    """Cross-entropy on (optionally adjusted) logits with PyTorch's weight and mean semantics."""

    def __init__(
        self,
        weight: Any = None,
        label_smoothing: float = 0.0,
        reduction: str = "mean",
        num_classes: int | None = None,
    ) -> None:
        super().__init__(reduction, num_classes)
        self.label_smoothing = _unit_interval("label_smoothing", label_smoothing)
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


# --------------------------------------------------------------------------------------------------
# single-label losses
# --------------------------------------------------------------------------------------------------
class WeightedCrossEntropyLoss(_CrossEntropyFamily):
    """Cross-entropy with optional per-class weights (cost-sensitive learning).

    ``l_i = -w[y_i] * log softmax(z_i)[y_i]``; with label smoothing ``eps`` PyTorch's form
    ``(1 - eps) * w[y_i] * (-log p_{i,y_i}) + eps / C * sum_c w_c * (-log p_{i,c})``.
    ``"none"`` returns these per-example values; ``"mean"`` is ``sum_i l_i / sum_i w[y_i]``.
    """


def _focal_per_example(
    x: torch.Tensor, target: torch.Tensor, gamma: float, alpha: torch.Tensor | None, label_smoothing: float
) -> torch.Tensor:
    logp = F.log_softmax(x, dim=1)
    if label_smoothing == 0.0:
        logp_t = logp.gather(1, target.unsqueeze(1)).squeeze(1)
        loss = -logp_t
        if gamma != 0.0:
            # 1 - p_t as -expm1(log p_t): exact near p_t = 1, where 1 - exp() would cancel.
            loss = torch.clamp(-torch.expm1(logp_t), min=_TINY).pow(gamma) * loss
        if alpha is not None:
            loss = alpha[target] * loss
        return loss
    c = x.shape[1]
    q = torch.full_like(logp, label_smoothing / c)
    q.scatter_add_(1, target.unsqueeze(1), torch.full_like(logp[:, :1], 1.0 - label_smoothing))
    if alpha is not None:
        q = q * alpha.unsqueeze(0)
    terms = -logp
    if gamma != 0.0:
        terms = torch.clamp(-torch.expm1(logp), min=_TINY).pow(gamma) * terms
    return (q * terms).sum(dim=1)


class FocalLoss(_ImbalanceLoss):
    """Focal loss (Lin et al., "Focal Loss for Dense Object Detection", ICCV 2017), softmax form.

    ``l_i = -alpha[y_i] * (1 - p_{i,y_i}) ** gamma * log p_{i,y_i}`` with ``p = softmax(z)``
    computed through ``log_softmax`` (stable for any logit size). ``alpha`` is ``None``, one number
    (a constant factor for every class; for Lin et al.'s binary ``alpha``/``1 - alpha`` pass
    ``[1 - alpha, alpha]``), or per-class weights. With label smoothing ``eps`` the target is the
    smoothed distribution ``q`` and ``l_i = -sum_c q_c alpha_c (1 - p_c) ** gamma log p_c``.
    ``gamma=0`` and ``alpha=None`` give exactly ``F.cross_entropy``. ``"mean"`` averages over examples.
    """

    def __init__(
        self,
        gamma: float = 2.0,
        alpha: float | Sequence[float] | torch.Tensor | dict | None = None,
        label_smoothing: float = 0.0,
        reduction: str = "mean",
        num_classes: int | None = None,
    ) -> None:
        super().__init__(reduction, num_classes)
        self.gamma = _non_negative("gamma", gamma)
        self.label_smoothing = _unit_interval("label_smoothing", label_smoothing)
        self.alpha_scale: float | None = None
        if isinstance(alpha, (int, float, np.integer, np.floating)) and not isinstance(alpha, bool):
            self.alpha_scale = _non_negative("alpha", alpha)
            alpha = None
        self._init_weight(alpha)

    @property
    def alpha(self) -> torch.Tensor | float | None:
        """The per-class weights (a tensor), the constant factor, or ``None``."""
        return self.weight if self.weight is not None else self.alpha_scale

    def set_class_weights(self, weights: Any, label_names: Sequence[str] | None = None) -> None:
        """Replace ``alpha`` with per-class weights (``None`` removes them); used for DRW."""
        self.alpha_scale = None
        super().set_class_weights(weights, label_names)

    def _loss(self, x: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        alpha = self._weight_on(x)
        if self.gamma == 0.0 and alpha is None and self.alpha_scale is None:
            return F.cross_entropy(x, target, label_smoothing=self.label_smoothing, reduction=self.reduction)
        per = _focal_per_example(x, target, self.gamma, alpha, self.label_smoothing)
        if self.alpha_scale is not None:
            per = per * self.alpha_scale
        return self._reduce(per)

    def extra_repr(self) -> str:
        return f"gamma={self.gamma}, label_smoothing={self.label_smoothing}, reduction={self.reduction!r}"


class ClassBalancedLoss(_ImbalanceLoss):
    """Class-balanced loss (Cui et al., "Class-Balanced Loss Based on Effective Number of Samples", 2019).

    Each class is weighted by the inverse of its effective number of samples,
    ``w_c = (1 - beta) / (1 - beta ** n_c)``, normalised so that ``sum_c w_c = C``; the loss is
    ``w[y_i] * L(z_i, y_i)`` with ``L`` softmax cross-entropy (``base="ce"``) or the softmax focal
    loss (``base="focal"``, ``gamma`` default 2). A class with count 0 gets weight 0 (with a
    warning). ``"mean"`` averages over examples.
    """

    def __init__(
        self,
        class_counts: Sequence[int] | np.ndarray | torch.Tensor,
        beta: float = 0.9999,
        base: str = "ce",
        gamma: float | None = None,
        label_smoothing: float = 0.0,
        reduction: str = "mean",
    ) -> None:
        if base not in ("ce", "focal"):
            raise ValueError(f"base must be 'ce' or 'focal', got {base!r}")
        if gamma is None:
            gamma = 2.0 if base == "focal" else 0.0
        gamma = _non_negative("gamma", gamma)
        if base == "ce" and gamma != 0.0:
            raise ValueError(f"gamma={gamma!r} has no effect with base='ce'; use base='focal'")
        beta = _unit_interval("beta", beta, closed_right=False)
        weights = weights_from_counts(
            class_counts, "effective_number", beta=beta, normalize="classes", allow_empty=True
        )
        super().__init__(reduction, len(weights))
        self.beta, self.base, self.gamma = beta, base, gamma
        self.label_smoothing = _unit_interval("label_smoothing", label_smoothing)
        self.register_buffer("weight", torch.as_tensor(weights, dtype=torch.float32), persistent=False)

    def _per_example(self, x: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return _focal_per_example(x, target, self.gamma, self._weight_on(x), self.label_smoothing)

    def extra_repr(self) -> str:
        return f"beta={self.beta}, base={self.base!r}, gamma={self.gamma}, reduction={self.reduction!r}"


class LogitAdjustedLoss(_CrossEntropyFamily):
    """Logit-adjusted loss (Menon et al., "Long-Tail Learning via Logit Adjustment", ICLR 2021).

    ``l_i = CE(z_i + tau * log pi, y_i)`` where ``pi`` are the class priors (``class_priors``, or
    ``class_counts`` normalised; both are normalised to sum to 1, which does not change the loss).
    Only training uses the adjusted logits: predict with the raw logits ``z``. Optional per-class
    ``weight`` follows :class:`WeightedCrossEntropyLoss`.
    """

    def __init__(
        self,
        class_priors: Sequence[float] | np.ndarray | torch.Tensor | None = None,
        tau: float = 1.0,
        *,
        class_counts: Sequence[int] | np.ndarray | torch.Tensor | None = None,
        weight: Any = None,
        label_smoothing: float = 0.0,
        reduction: str = "mean",
    ) -> None:
        if (class_priors is None) == (class_counts is None):
            raise ValueError("give exactly one of class_priors or class_counts")
        name = "class_priors" if class_priors is not None else "class_counts"
        prior = _counts_tensor(class_priors if class_priors is not None else class_counts, name)
        super().__init__(weight, label_smoothing, reduction, num_classes=len(prior))
        self.tau = _non_negative("tau", tau)
        log_prior = np.log(prior) - np.log(prior.sum())
        self.register_buffer("log_prior", torch.as_tensor(log_prior, dtype=torch.float32), persistent=False)

    def _adjust(self, x: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return x + self.tau * self.log_prior.to(device=x.device, dtype=torch.float32)

    def extra_repr(self) -> str:
        return f"tau={self.tau}, reduction={self.reduction!r}"


class BalancedSoftmaxLoss(_CrossEntropyFamily):
    """Balanced softmax (Ren et al., "Balanced Meta-Softmax for Long-Tailed Visual Recognition", 2020).

    ``l_i = CE(z_i + log pi, y_i)`` with ``pi_c = n_c / N`` from ``class_counts``: the softmax is
    re-weighted by the class frequencies during training (logit adjustment with ``tau = 1``).
    Predict with the raw logits. Optional per-class ``weight`` as in :class:`WeightedCrossEntropyLoss`.
    """

    def __init__(
        self,
        class_counts: Sequence[int] | np.ndarray | torch.Tensor,
        weight: Any = None,
        label_smoothing: float = 0.0,
        reduction: str = "mean",
    ) -> None:
        counts = _counts_tensor(class_counts)
        super().__init__(weight, label_smoothing, reduction, num_classes=len(counts))
        log_prior = np.log(counts) - np.log(counts.sum())
        self.register_buffer("log_prior", torch.as_tensor(log_prior, dtype=torch.float32), persistent=False)

    def _adjust(self, x: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return x + self.log_prior.to(device=x.device, dtype=torch.float32)


class LDAMLoss(_CrossEntropyFamily):
    """Label-distribution-aware margin loss (Cao et al., "Learning Imbalanced Datasets with LDAM", 2019).

    Class margins ``m_c = K / n_c ** (1/4)`` with ``K`` chosen so that ``max_c m_c = max_m``; the
    loss is ``CE(s * (z_i - m_{y_i} e_{y_i}), y_i; weight)``: the gold logit is lowered by its
    class margin, then every logit is scaled by ``s`` (the paper applies it to normalised, cosine
    logits; with raw logits prefer a small ``s``). Combine with deferred re-weighting by calling
    :meth:`set_class_weights` at the DRW epoch.
    """

    def __init__(
        self,
        class_counts: Sequence[int] | np.ndarray | torch.Tensor,
        max_m: float = 0.5,
        s: float = 30.0,
        weight: Any = None,
        reduction: str = "mean",
    ) -> None:
        counts = _counts_tensor(class_counts)
        super().__init__(weight, 0.0, reduction, num_classes=len(counts))
        self.max_m = _positive("max_m", max_m)
        self.s = _positive("s", s)
        m = 1.0 / np.sqrt(np.sqrt(counts))
        m = m * (self.max_m / m.max())
        self.register_buffer("margins", torch.as_tensor(m, dtype=torch.float32), persistent=False)

    def _adjust(self, x: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        gold_margin = self.margins.to(device=x.device, dtype=torch.float32)[target].unsqueeze(1)
        margin = torch.zeros_like(x).scatter_(1, target.unsqueeze(1), gold_margin)
        return self.s * (x - margin)

    def extra_repr(self) -> str:
        return f"max_m={self.max_m}, s={self.s}, reduction={self.reduction!r}"


class SelfAdjustingDiceLoss(_ImbalanceLoss):
    """Self-adjusting Dice loss (Li et al., "Dice Loss for Data-imbalanced NLP Tasks", ACL 2020).

    With ``p_i`` the softmax probability of the gold class and ``q_i = (1 - p_i) ** alpha * p_i``,
    ``l_i = 1 - (2 q_i + gamma) / (q_i + 1 + gamma)``: the factor ``(1 - p) ** alpha`` pushes down
    easy examples (as focal loss does) and ``gamma`` smooths the ratio. ``"mean"`` averages over
    examples.
    """

    def __init__(self, alpha: float = 1.0, gamma: float = 1.0, reduction: str = "mean") -> None:
        super().__init__(reduction)
        self.alpha = _non_negative("alpha", alpha)
        self.gamma = _non_negative("gamma", gamma)

    def _per_example(self, x: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        logp_t = F.log_softmax(x, dim=1).gather(1, target.unsqueeze(1)).squeeze(1)
        p = torch.exp(logp_t)
        q = p
        if self.alpha != 0.0:
            q = torch.clamp(-torch.expm1(logp_t), min=_TINY).pow(self.alpha) * p
        return 1.0 - (2.0 * q + self.gamma) / (q + 1.0 + self.gamma)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}, gamma={self.gamma}, reduction={self.reduction!r}"


# --------------------------------------------------------------------------------------------------
# multi-label losses
# --------------------------------------------------------------------------------------------------
class MultiLabelBCELoss(_ImbalanceLoss):
    """Binary cross-entropy on logits for multi-label targets (``BCEWithLogitsLoss`` semantics).

    Element loss ``l_ic = -w_c * (pos_weight_c * y_ic * log s(z_ic) + (1 - y_ic) * log(1 - s(z_ic)))``
    with ``s`` the sigmoid; ``pos_weight`` up-weights the positives of rare labels (e.g.
    ``negatives / positives`` per label) and ``weight`` scales whole label columns. ``"none"`` returns
    the ``[N, C]`` matrix, ``"mean"`` averages over all elements.
    """

    multi_label = True

    def __init__(
        self,
        pos_weight: Sequence[float] | np.ndarray | torch.Tensor | dict | None = None,
        weight: Any = None,
        reduction: str = "mean",
        num_classes: int | None = None,
    ) -> None:
        super().__init__(reduction, num_classes)
        self._init_weight(weight)
        pw = None
        if pos_weight is not None:
            k = self.num_classes if self.num_classes is not None else len(pos_weight)
            pw = resolve_class_weights(pos_weight, k)
            self.num_classes = k
        self.register_buffer("pos_weight", pw, persistent=False)

    def _per_example(self, x: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        pw = self._weight_on(x, "pos_weight")
        w = self._weight_on(x)
        return F.binary_cross_entropy_with_logits(x, target, weight=w, pos_weight=pw, reduction="none")


class SigmoidFocalLoss(_ImbalanceLoss):
    """Sigmoid focal loss for multi-label targets (Lin et al. 2017; ``torchvision.ops.sigmoid_focal_loss``).

    With ``p = sigmoid(z)`` and ``p_t = p y + (1 - p)(1 - y)``, the element loss is
    ``alpha_t * (1 - p_t) ** gamma * BCE(z, y)`` where ``alpha_t = alpha y + (1 - alpha)(1 - y)``;
    ``alpha=None`` switches that weighting off. ``"none"`` returns the ``[N, C]`` matrix, ``"mean"``
    averages over all elements.
    """

    multi_label = True

    def __init__(self, alpha: float | None = 0.25, gamma: float = 2.0, reduction: str = "mean") -> None:
        super().__init__(reduction)
        self.alpha = None if alpha is None else _unit_interval("alpha", alpha)
        self.gamma = _non_negative("gamma", gamma)

    def _per_example(self, x: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        bce = F.binary_cross_entropy_with_logits(x, target, reduction="none")
        loss = bce
        if self.gamma != 0.0:
            # 1 - p_t = y * sigmoid(-z) + (1 - y) * sigmoid(z): no cancellation for large |z|.
            one_minus_pt = target * torch.sigmoid(-x) + (1.0 - target) * torch.sigmoid(x)
            loss = torch.clamp(one_minus_pt, min=_TINY).pow(self.gamma) * bce
        if self.alpha is not None:
            loss = (self.alpha * target + (1.0 - self.alpha) * (1.0 - target)) * loss
        return loss

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}, gamma={self.gamma}, reduction={self.reduction!r}"


# --------------------------------------------------------------------------------------------------
# factory
# --------------------------------------------------------------------------------------------------
#: Loss classes by the names :func:`build_loss` (and recipes / the CLI) accept.
LOSSES: dict[str, type[nn.Module]] = {
    "ce": WeightedCrossEntropyLoss,
    "weighted_ce": WeightedCrossEntropyLoss,
    "focal": FocalLoss,
    "class_balanced": ClassBalancedLoss,
    "logit_adjusted": LogitAdjustedLoss,
    "balanced_softmax": BalancedSoftmaxLoss,
    "ldam": LDAMLoss,
    "dice": SelfAdjustingDiceLoss,
    "bce": MultiLabelBCELoss,
    "sigmoid_focal": SigmoidFocalLoss,
}

_MULTI_LABEL_NAMES = ("bce", "sigmoid_focal")
_PROBLEM_TYPES = ("single_label_classification", "multi_label_classification")
# Which constructor argument receives build_loss(class_weights=...); None: the loss takes none.
_WEIGHT_ARG = {
    "ce": "weight",
    "weighted_ce": "weight",
    "focal": "alpha",
    "class_balanced": None,
    "logit_adjusted": "weight",
    "balanced_softmax": "weight",
    "ldam": "weight",
    "dice": None,
    "bce": "weight",
    "sigmoid_focal": None,
}
_NEEDS_COUNTS = ("class_balanced", "balanced_softmax", "ldam")
# Arguments build_loss fills in itself; users pass them through class_weights / class_counts.
_MANAGED = {"weight", "class_counts", "num_classes"}


def build_loss(
    name_or_module: str | nn.Module,
    *,
    num_classes: int,
    class_weights: Any = None,
    class_counts: Sequence[int] | np.ndarray | torch.Tensor | None = None,
    problem_type: str = "single_label_classification",
    label_names: Sequence[str] | None = None,
    **params: Any,
) -> nn.Module:
    """Build a loss by name (a key of :data:`LOSSES`) or pass an ``nn.Module`` through unchanged.

    ``class_weights`` (anything :func:`~nlp_balance.training.class_weights.resolve_class_weights` accepts) go to
    the losses that take per-class weights (``focal`` receives them as ``alpha``); ``"weighted_ce"``
    without weights uses the ``"balanced"`` weights of ``class_counts``. ``class_counts`` feed
    ``class_balanced``, ``logit_adjusted`` (priors), ``balanced_softmax`` and ``ldam``. ``params``
    are the loss's own keyword arguments (``gamma``, ``beta``, ``base``, ``tau``, ``max_m``, ``s``,
    ``alpha``, ``label_smoothing``, ``pos_weight``, ``reduction``); invalid ones raise ``ValueError``.
    """
    if isinstance(name_or_module, nn.Module):
        return name_or_module
    if not isinstance(name_or_module, str):
        raise ValueError(f"loss must be a name or a torch.nn.Module, got {name_or_module!r}")
    name = name_or_module.strip().lower().replace("-", "_")
    if name not in LOSSES:
        close = difflib.get_close_matches(name, LOSSES, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ValueError(f"unknown loss {name_or_module!r}; valid names: {sorted(LOSSES)}.{hint}")
    if problem_type not in _PROBLEM_TYPES:
        raise ValueError(f"problem_type must be one of {list(_PROBLEM_TYPES)}, got {problem_type!r}")
    multi = problem_type == "multi_label_classification"
    if multi != (name in _MULTI_LABEL_NAMES):
        wanted = list(_MULTI_LABEL_NAMES) if multi else sorted(set(LOSSES) - set(_MULTI_LABEL_NAMES))
        raise ValueError(f"loss {name!r} does not fit problem_type={problem_type!r}; use one of {wanted}")
    if isinstance(num_classes, bool) or not isinstance(num_classes, (int, np.integer)) or num_classes < 1:
        raise ValueError(f"num_classes must be a positive integer, got {num_classes!r}")
    num_classes = int(num_classes)

    cls = LOSSES[name]
    accepted = [p for p in inspect.signature(cls.__init__).parameters if p != "self" and p not in _MANAGED]
    unknown = [p for p in params if p not in accepted]
    if unknown:
        raise ValueError(f"loss {name!r} does not take parameter(s) {unknown}; it accepts {accepted}")

    weights = resolve_class_weights(class_weights, num_classes, label_names)
    counts = None
    if class_counts is not None:
        counts = _counts_array(class_counts, num_classes)
    kwargs = dict(params)
    weight_arg = _WEIGHT_ARG[name]
    if weights is not None:
        if weight_arg is None:
            raise ValueError(f"loss {name!r} does not take class weights; pass class_weights=None")
        if weight_arg in kwargs:
            raise ValueError(
                f"give the class weights of {name!r} either as class_weights or as {weight_arg}=, not both"
            )
        kwargs[weight_arg] = weights
    if name == "weighted_ce" and weights is None:
        if counts is None:
            raise ValueError("'weighted_ce' needs class_weights or class_counts (for 'balanced' weights)")
        kwargs["weight"] = weights_from_counts(counts, "balanced", allow_empty=True)
    if name in _NEEDS_COUNTS or (name == "logit_adjusted" and "class_priors" not in kwargs):
        if counts is None:
            raise ValueError(f"loss {name!r} needs class_counts (examples per class)")
        kwargs["class_counts"] = counts
    if name in ("ce", "weighted_ce", "focal", "bce"):
        kwargs["num_classes"] = num_classes
    loss = cls(**kwargs)
    k = getattr(loss, "num_classes", None)
    if k is not None and k != num_classes:
        raise ValueError(f"loss {name!r} got {k} per-class values but num_classes={num_classes}")
    loss.num_classes = num_classes  # lets forward() check the logits' column count
    return loss


def _counts_array(class_counts: Any, num_classes: int) -> np.ndarray:
    if isinstance(class_counts, torch.Tensor):
        class_counts = class_counts.detach().cpu().numpy()
    arr = np.asarray(class_counts)
    if arr.ndim != 1 or arr.size != num_classes:
        raise ValueError(f"class_counts must have one count per class ({num_classes}), got {arr.tolist()}")
    return arr
