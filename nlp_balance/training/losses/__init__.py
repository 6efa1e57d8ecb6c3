"""Imbalance-aware classification losses as plain ``torch.nn.Module`` s (usable without the Trainer).

Modules: :mod:`~nlp_balance.training.losses.registry` (the one registry :data:`LOSSES`, :class:`LossSpec`
and :func:`build_loss`), :mod:`~nlp_balance.training.losses.single_label`,
:mod:`~nlp_balance.training.losses.multi_label` and :mod:`~nlp_balance.training.losses.base_loss` (parameter
checks and the base classes).

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
  :class:`~nlp_balance.training.BalancedTrainer` does). Passing one raises an error instead of silently ignoring it.
* Every loss that uses per-class weights has ``set_class_weights(weights)`` so that deferred
  re-weighting (DRW, Cao et al. 2019) can switch weights on at a chosen epoch. Weights may be a
  sequence, an array, a tensor or a Keras-style dict keyed by class id (or by name, given
  ``label_names``); see :func:`nlp_balance.training.class_weights.resolve_class_weights`.
"""

from nlp_balance.training.losses.base_loss import CrossEntropyFamily, ImbalanceLoss
from nlp_balance.training.losses.multi_label import MultiLabelBCELoss, SigmoidFocalLoss
from nlp_balance.training.losses.registry import LOSSES, PROBLEM_TYPES, LossSpec, build_loss, loss_spec
from nlp_balance.training.losses.single_label import (
    BalancedSoftmaxLoss,
    ClassBalancedLoss,
    FocalLoss,
    LDAMLoss,
    LogitAdjustedLoss,
    SelfAdjustingDiceLoss,
    WeightedCrossEntropyLoss,
)

__all__ = [
    "LOSSES",
    "PROBLEM_TYPES",
    "BalancedSoftmaxLoss",
    "ClassBalancedLoss",
    "CrossEntropyFamily",
    "FocalLoss",
    "ImbalanceLoss",
    "LDAMLoss",
    "LogitAdjustedLoss",
    "LossSpec",
    "MultiLabelBCELoss",
    "SelfAdjustingDiceLoss",
    "SigmoidFocalLoss",
    "WeightedCrossEntropyLoss",
    "build_loss",
    "loss_spec",
]
