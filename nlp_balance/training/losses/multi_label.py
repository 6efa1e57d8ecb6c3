"""Multi-label imbalance losses: ``forward(logits [N, C], target [N, C] 0/1 or soft)``.

Binary cross-entropy with per-label ``pos_weight`` and column weights, and the sigmoid focal loss;
``reduction="none"`` returns the elementwise ``[N, C]`` matrix.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from nlp_balance.training.class_weights import resolve_class_weights
from nlp_balance.training.losses.base_loss import TINY, ImbalanceLoss, check_non_negative, check_unit_interval

__all__ = ["MultiLabelBCELoss", "SigmoidFocalLoss"]


class MultiLabelBCELoss(ImbalanceLoss):
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


class SigmoidFocalLoss(ImbalanceLoss):
    """Sigmoid focal loss for multi-label targets (Lin et al. 2017; ``torchvision.ops.sigmoid_focal_loss``).

    With ``p = sigmoid(z)`` and ``p_t = p y + (1 - p)(1 - y)``, the element loss is
    ``alpha_t * (1 - p_t) ** gamma * BCE(z, y)`` where ``alpha_t = alpha y + (1 - alpha)(1 - y)``;
    ``alpha=None`` switches that weighting off. ``"none"`` returns the ``[N, C]`` matrix, ``"mean"``
    averages over all elements.
    """

    multi_label = True

    def __init__(self, alpha: float | None = 0.25, gamma: float = 2.0, reduction: str = "mean") -> None:
        super().__init__(reduction)
        self.alpha = None if alpha is None else check_unit_interval("alpha", alpha)
        self.gamma = check_non_negative("gamma", gamma)

    def _per_example(self, x: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        bce = F.binary_cross_entropy_with_logits(x, target, reduction="none")
        loss = bce
        if self.gamma != 0.0:
            # 1 - p_t = y * sigmoid(-z) + (1 - y) * sigmoid(z): no cancellation for large |z|.
            one_minus_pt = target * torch.sigmoid(-x) + (1.0 - target) * torch.sigmoid(x)
            loss = torch.clamp(one_minus_pt, min=TINY).pow(self.gamma) * bce
        if self.alpha is not None:
            loss = (self.alpha * target + (1.0 - self.alpha) * (1.0 - target)) * loss
        return loss

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}, gamma={self.gamma}, reduction={self.reduction!r}"
