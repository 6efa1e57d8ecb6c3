"""The loss registry: every loss name declared once, with its class and what it needs, and :func:`build_loss`.

:data:`LOSSES` maps each name that recipes, :class:`~nlp_balance.training.BalancedTrainingArguments`,
:class:`~nlp_balance.training.BalancedTrainer` and the CLI accept to a :class:`LossSpec`. Whether a loss
reads the class counts, where it takes class weights and whether it is multi-label are read from
that spec everywhere; nothing else lists loss names.
"""

from __future__ import annotations

import difflib
import inspect
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import numpy as np
import torch
from torch import nn

from nlp_balance.training.class_weights import resolve_class_weights, weights_from_counts
from nlp_balance.training.losses.multi_label import MultiLabelBCELoss, SigmoidFocalLoss
from nlp_balance.training.losses.single_label import (
    BalancedSoftmaxLoss,
    ClassBalancedLoss,
    FocalLoss,
    LDAMLoss,
    LogitAdjustedLoss,
    SelfAdjustingDiceLoss,
    WeightedCrossEntropyLoss,
)

__all__ = ["LOSSES", "PROBLEM_TYPES", "LossSpec", "build_loss", "loss_spec"]

#: ``problem_type`` values of a Hugging Face classification config that :func:`build_loss` accepts.
PROBLEM_TYPES = ("single_label_classification", "multi_label_classification")
# Constructor arguments build_loss fills in itself; users pass them through class_weights, class_counts
# and label_names, never as loss parameters.
_MANAGED = ("weight", "class_counts", "num_classes", "label_names")


@dataclass(frozen=True)
class LossSpec:
    """One loss name: its class and what :func:`build_loss` has to give it.

    Attributes:
        name: the name recipes, ``BalancedTrainingArguments.loss`` and the CLI use.
        cls: the ``nn.Module`` class.
        multi_label: the loss takes ``[N, C]`` multi-hot targets (``multi_label_classification``).
        weight_arg: the constructor argument that receives class weights; ``None``: it takes none.
        needs_counts: the loss is built from the class counts of the training labels.
        counts_alternative: a loss parameter that replaces the class counts when given.
        default_weighting: the class-weighting scheme applied to the counts when no weights are given.
    """

    name: str
    cls: type[nn.Module]
    multi_label: bool = False
    weight_arg: str | None = "weight"
    needs_counts: bool = False
    counts_alternative: str | None = None
    default_weighting: str | None = None

    @property
    def problem_type(self) -> str:
        """The Hugging Face ``problem_type`` this loss trains."""
        return PROBLEM_TYPES[1] if self.multi_label else PROBLEM_TYPES[0]

    @property
    def uses_class_counts(self) -> bool:
        """Whether building the loss may read the class counts, so the training labels must be counted."""
        return self.needs_counts or self.default_weighting is not None

    @property
    def takes_class_weights(self) -> bool:
        """Whether the loss accepts per-class weights (``class_weights``, ``class_weighting``, DRW)."""
        return self.weight_arg is not None

    def parameters(self) -> list[str]:
        """The loss's own keyword arguments, i.e. the keys ``loss_params`` may hold."""
        return [p for p in self._signature() if p != "self" and p not in _MANAGED]

    def _signature(self) -> Mapping[str, inspect.Parameter]:
        return inspect.signature(self.cls.__init__).parameters


#: Every loss by name (read-only).
LOSSES: Mapping[str, LossSpec] = MappingProxyType(
    {
        spec.name: spec
        for spec in (
            LossSpec("ce", WeightedCrossEntropyLoss),
            LossSpec("weighted_ce", WeightedCrossEntropyLoss, default_weighting="balanced"),
            LossSpec("focal", FocalLoss, weight_arg="alpha"),
            LossSpec("class_balanced", ClassBalancedLoss, weight_arg=None, needs_counts=True),
            LossSpec("logit_adjusted", LogitAdjustedLoss, needs_counts=True, counts_alternative="class_priors"),
            LossSpec("balanced_softmax", BalancedSoftmaxLoss, needs_counts=True),
            LossSpec("ldam", LDAMLoss, needs_counts=True),
            LossSpec("dice", SelfAdjustingDiceLoss, weight_arg=None),
            LossSpec("bce", MultiLabelBCELoss, multi_label=True),
            LossSpec("sigmoid_focal", SigmoidFocalLoss, multi_label=True, weight_arg=None),
        )
    }
)


def loss_spec(name: str) -> LossSpec:
    """The :class:`LossSpec` of ``name`` (case, surrounding spaces and ``-`` vs ``_`` do not matter).

    An unknown name raises ``ValueError`` listing the valid ones, with the closest as a hint.
    """
    if not isinstance(name, str):
        raise ValueError(f"loss must be a name or a torch.nn.Module, got {name!r}")
    key = name.strip().lower().replace("-", "_")
    if key not in LOSSES:
        close = difflib.get_close_matches(key, LOSSES, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ValueError(f"unknown loss {name!r}; valid names: {sorted(LOSSES)}.{hint}")
    return LOSSES[key]


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

    ``class_weights`` (anything :func:`~nlp_balance.training.class_weights.resolve_class_weights`
    accepts) go to the spec's ``weight_arg`` (``focal`` receives them as ``alpha``); ``"weighted_ce"``
    without weights uses the ``"balanced"`` weights of ``class_counts``. ``class_counts`` feed the
    losses with ``needs_counts``. ``label_names`` name classes in messages and key dict weights.
    ``params`` are the loss's own keyword arguments (:meth:`LossSpec.parameters`); invalid ones
    raise ``ValueError``.
    """
    if isinstance(name_or_module, nn.Module):
        return name_or_module
    spec = loss_spec(name_or_module)
    if problem_type not in PROBLEM_TYPES:
        raise ValueError(f"problem_type must be one of {list(PROBLEM_TYPES)}, got {problem_type!r}")
    if problem_type != spec.problem_type:
        wanted = sorted(n for n, s in LOSSES.items() if s.problem_type == problem_type)
        raise ValueError(f"loss {spec.name!r} does not fit problem_type={problem_type!r}; use one of {wanted}")
    if isinstance(num_classes, bool) or not isinstance(num_classes, (int, np.integer)) or num_classes < 1:
        raise ValueError(f"num_classes must be a positive integer, got {num_classes!r}")
    num_classes = int(num_classes)
    accepted = spec.parameters()
    unknown = [p for p in params if p not in accepted]
    if unknown:
        raise ValueError(f"loss {spec.name!r} does not take parameter(s) {unknown}; it accepts {accepted}")

    kwargs = dict(params)
    weights = resolve_class_weights(class_weights, num_classes, label_names)
    counts = None if class_counts is None else _counts_array(class_counts, num_classes)
    if weights is not None:
        if spec.weight_arg is None:
            raise ValueError(f"loss {spec.name!r} does not take class weights; pass class_weights=None")
        if spec.weight_arg in kwargs:
            raise ValueError(
                f"give the class weights of {spec.name!r} either as class_weights or as {spec.weight_arg}=, not both"
            )
        kwargs[spec.weight_arg] = weights
    elif spec.default_weighting is not None and spec.weight_arg not in kwargs:
        if counts is None:
            raise ValueError(
                f"{spec.name!r} needs class_weights or class_counts (for {spec.default_weighting!r} weights)"
            )
        kwargs[spec.weight_arg] = weights_from_counts(
            counts, spec.default_weighting, label_names=label_names, allow_empty=True
        )
    if spec.needs_counts and spec.counts_alternative not in kwargs:
        if counts is None:
            raise ValueError(f"loss {spec.name!r} needs class_counts (examples per class)")
        kwargs["class_counts"] = counts
    signature = spec._signature()
    if "num_classes" in signature:
        kwargs["num_classes"] = num_classes
    if "label_names" in signature and label_names is not None:
        kwargs["label_names"] = list(label_names)
    loss = spec.cls(**kwargs)
    k = getattr(loss, "num_classes", None)
    if k is not None and k != num_classes:
        raise ValueError(f"loss {spec.name!r} got {k} per-class values but num_classes={num_classes}")
    loss.num_classes = num_classes  # lets forward() check the logits' column count
    return loss


def _counts_array(class_counts: Any, num_classes: int) -> np.ndarray:
    if isinstance(class_counts, torch.Tensor):
        class_counts = class_counts.detach().cpu().numpy()
    arr = np.asarray(class_counts)
    if arr.ndim != 1 or arr.size != num_classes:
        raise ValueError(f"class_counts must have one count per class ({num_classes}), got {arr.tolist()}")
    return arr
