"""Single-label imbalance losses: ``forward(logits [N, C], target [N] class ids)``.

Cross-entropy with class weights, softmax focal loss, class-balanced loss, logit adjustment,
balanced softmax, LDAM and self-adjusting Dice. The losses built from class counts take an optional
``label_names`` that only names classes in their error messages.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from nlp_balance.training.class_weights import weights_from_counts
from nlp_balance.training.losses.base_loss import (
    TINY,
    CrossEntropyFamily,
    ImbalanceLoss,
    check_non_negative,
    check_positive,
    check_unit_interval,
    positive_counts,
)

__all__ = [
    "BalancedSoftmaxLoss",
    "ClassBalancedLoss",
    "FocalLoss",
    "LDAMLoss",
    "LogitAdjustedLoss",
    "SelfAdjustingDiceLoss",
    "WeightedCrossEntropyLoss",
]


class WeightedCrossEntropyLoss(CrossEntropyFamily):
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
            loss = torch.clamp(-torch.expm1(logp_t), min=TINY).pow(gamma) * loss
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
        terms = torch.clamp(-torch.expm1(logp), min=TINY).pow(gamma) * terms
    return (q * terms).sum(dim=1)


class FocalLoss(ImbalanceLoss):
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
        self.gamma = check_non_negative("gamma", gamma)
        self.label_smoothing = check_unit_interval("label_smoothing", label_smoothing)
        self.alpha_scale: float | None = None
        if isinstance(alpha, (int, float, np.integer, np.floating)) and not isinstance(alpha, bool):
            self.alpha_scale = check_non_negative("alpha", alpha)
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


class ClassBalancedLoss(ImbalanceLoss):
    """Class-balanced loss (Cui et al., "Class-Balanced Loss Based on Effective Number of Samples", 2019).

    Each class is weighted by the inverse of its effective number of samples,
    ``w_c = (1 - beta) / (1 - beta ** n_c)``, normalised so that ``sum_c w_c = C``; the loss is
    ``w[y_i] * L(z_i, y_i)`` with ``L`` softmax cross-entropy (``base="ce"``) or the softmax focal
    loss (``base="focal"``, ``gamma`` default 2). A class with count 0 gets weight 0 (with a
    warning naming it, by ``label_names`` when given). ``"mean"`` averages over examples.
    """

    def __init__(
        self,
        class_counts: Sequence[int] | np.ndarray | torch.Tensor,
        beta: float = 0.9999,
        base: str = "ce",
        gamma: float | None = None,
        label_smoothing: float = 0.0,
        reduction: str = "mean",
        *,
        label_names: Sequence[str] | None = None,
    ) -> None:
        if base not in ("ce", "focal"):
            raise ValueError(f"base must be 'ce' or 'focal', got {base!r}")
        if gamma is None:
            gamma = 2.0 if base == "focal" else 0.0
        gamma = check_non_negative("gamma", gamma)
        if base == "ce" and gamma != 0.0:
            raise ValueError(f"gamma={gamma!r} has no effect with base='ce'; use base='focal'")
        beta = check_unit_interval("beta", beta, closed_right=False)
        weights = weights_from_counts(
            class_counts, "effective_number", beta=beta, normalize="classes", label_names=label_names, allow_empty=True
        )
        super().__init__(reduction, len(weights))
        self.beta, self.base, self.gamma = beta, base, gamma
        self.label_smoothing = check_unit_interval("label_smoothing", label_smoothing)
        self.register_buffer("weight", torch.as_tensor(weights, dtype=torch.float32), persistent=False)

    def _per_example(self, x: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return _focal_per_example(x, target, self.gamma, self._weight_on(x), self.label_smoothing)

    def extra_repr(self) -> str:
        return f"beta={self.beta}, base={self.base!r}, gamma={self.gamma}, reduction={self.reduction!r}"


class LogitAdjustedLoss(CrossEntropyFamily):
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
        label_names: Sequence[str] | None = None,
    ) -> None:
        if (class_priors is None) == (class_counts is None):
            raise ValueError("give exactly one of class_priors or class_counts")
        name = "class_priors" if class_priors is not None else "class_counts"
        prior = positive_counts(class_priors if class_priors is not None else class_counts, name, label_names)
        super().__init__(weight, label_smoothing, reduction, num_classes=len(prior))
        self.tau = check_non_negative("tau", tau)
        log_prior = np.log(prior) - np.log(prior.sum())
        self.register_buffer("log_prior", torch.as_tensor(log_prior, dtype=torch.float32), persistent=False)

    def _adjust(self, x: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return x + self.tau * self.log_prior.to(device=x.device, dtype=torch.float32)

    def extra_repr(self) -> str:
        return f"tau={self.tau}, reduction={self.reduction!r}"


class BalancedSoftmaxLoss(CrossEntropyFamily):
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
        *,
        label_names: Sequence[str] | None = None,
    ) -> None:
        counts = positive_counts(class_counts, label_names=label_names)
        super().__init__(weight, label_smoothing, reduction, num_classes=len(counts))
        log_prior = np.log(counts) - np.log(counts.sum())
        self.register_buffer("log_prior", torch.as_tensor(log_prior, dtype=torch.float32), persistent=False)

    def _adjust(self, x: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return x + self.log_prior.to(device=x.device, dtype=torch.float32)


class LDAMLoss(CrossEntropyFamily):
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
        *,
        label_names: Sequence[str] | None = None,
    ) -> None:
        counts = positive_counts(class_counts, label_names=label_names)
        super().__init__(weight, 0.0, reduction, num_classes=len(counts))
        self.max_m = check_positive("max_m", max_m)
        self.s = check_positive("s", s)
        m = 1.0 / np.sqrt(np.sqrt(counts))
        m = m * (self.max_m / m.max())
        self.register_buffer("margins", torch.as_tensor(m, dtype=torch.float32), persistent=False)

    def _adjust(self, x: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        gold_margin = self.margins.to(device=x.device, dtype=torch.float32)[target].unsqueeze(1)
        margin = torch.zeros_like(x).scatter_(1, target.unsqueeze(1), gold_margin)
        return self.s * (x - margin)

    def extra_repr(self) -> str:
        return f"max_m={self.max_m}, s={self.s}, reduction={self.reduction!r}"


class SelfAdjustingDiceLoss(ImbalanceLoss):
    """Self-adjusting Dice loss (Li et al., "Dice Loss for Data-imbalanced NLP Tasks", ACL 2020).

    With ``p_i`` the softmax probability of the gold class and ``q_i = (1 - p_i) ** alpha * p_i``,
    ``l_i = 1 - (2 q_i + gamma) / (q_i + 1 + gamma)``: the factor ``(1 - p) ** alpha`` pushes down
    easy examples (as focal loss does) and ``gamma`` smooths the ratio. ``"mean"`` averages over
    examples.
    """

    def __init__(self, alpha: float = 1.0, gamma: float = 1.0, reduction: str = "mean") -> None:
        super().__init__(reduction)
        self.alpha = check_non_negative("alpha", alpha)
        self.gamma = check_non_negative("gamma", gamma)

    def _per_example(self, x: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        logp_t = F.log_softmax(x, dim=1).gather(1, target.unsqueeze(1)).squeeze(1)
        p = torch.exp(logp_t)
        q = p
        if self.alpha != 0.0:
            q = torch.clamp(-torch.expm1(logp_t), min=TINY).pow(self.alpha) * p
        return 1.0 - (2.0 * q + self.gamma) / (q + 1.0 + self.gamma)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}, gamma={self.gamma}, reduction={self.reduction!r}"
