"""Deferred re-weighting (Cao et al., 2019) as a ``TrainerCallback``: class weights switched on at an epoch."""

from __future__ import annotations

import logging
from typing import Any

import torch
from torch import nn
from transformers import TrainerCallback, TrainerControl, TrainerState, TrainingArguments

__all__ = ["DeferredReweightingCallback"]

logger = logging.getLogger(__name__)


class DeferredReweightingCallback(TrainerCallback):
    """Deferred re-weighting (Cao et al., 2019): unit class weights until ``start_epoch``, then ``weights``.

    The switch happens at an optimizer-step boundary, so all micro-batches of one accumulated step use
    the same weights.
    """

    def __init__(self, loss_fn: nn.Module, weights: torch.Tensor, start_epoch: float) -> None:
        if not hasattr(loss_fn, "set_class_weights"):
            raise ValueError(
                f"deferred re-weighting needs a loss with set_class_weights(); {type(loss_fn).__name__} has none"
            )
        self.loss_fn = loss_fn
        self.weights = weights
        self.start_epoch = float(start_epoch)
        self.active: bool | None = None  # None: the loss's weights are not set by this callback yet

    def _update(self, epoch: float) -> None:
        want = epoch >= self.start_epoch - 1e-9
        if want == self.active:
            return
        weights = self.weights if want else torch.ones_like(self.weights)
        self.loss_fn.set_class_weights(weights)
        self.active = want
        if want:
            logger.info("deferred re-weighting: class weights switched on at epoch %.3f", epoch)

    def on_train_begin(
        self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kwargs: Any
    ) -> None:
        """Set the weights of the starting epoch (unit weights unless training resumes past the switch)."""
        self.active = None  # set them whatever the loss holds now
        self._update(state.epoch or 0.0)

    def on_step_begin(
        self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kwargs: Any
    ) -> None:
        """Switch the weights when this optimizer step starts at or after ``start_epoch``."""
        self._update(state.epoch or 0.0)
