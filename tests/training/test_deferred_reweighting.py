"""DeferredReweightingCallback on its own: unit weights before the start epoch, the class weights from it on."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from transformers import TrainerControl, TrainerState

from nlp_balance.training import DeferredReweightingCallback
from nlp_balance.training.losses import LDAMLoss, WeightedCrossEntropyLoss

WEIGHTS = torch.tensor([0.5, 1.0, 4.0])


def _state(epoch: float | None) -> TrainerState:
    state = TrainerState()
    state.epoch = epoch
    return state


def test_weights_switch_on_at_the_start_epoch_and_only_then():
    loss = WeightedCrossEntropyLoss(weight=WEIGHTS, num_classes=3)
    callback = DeferredReweightingCallback(loss, WEIGHTS, start_epoch=2)
    control = TrainerControl()
    callback.on_train_begin(None, _state(None), control)
    assert loss.weight.tolist() == [1.0, 1.0, 1.0] and not callback.active
    for epoch, expected in [(0.5, [1.0, 1.0, 1.0]), (1.999, [1.0, 1.0, 1.0]), (2.0, WEIGHTS.tolist()),
                            (2.5, WEIGHTS.tolist())]:
        callback.on_step_begin(None, _state(epoch), control)
        assert loss.weight.tolist() == expected, epoch


def test_a_run_resumed_past_the_switch_starts_weighted():
    loss = LDAMLoss([40, 10, 2])
    callback = DeferredReweightingCallback(loss, WEIGHTS, start_epoch=1.0)
    callback.on_train_begin(None, _state(1.5), TrainerControl())
    assert loss.weight.tolist() == WEIGHTS.tolist() and callback.active


def test_a_loss_without_set_class_weights_is_refused():
    with pytest.raises(ValueError, match="CrossEntropyLoss has none"):
        DeferredReweightingCallback(nn.CrossEntropyLoss(), WEIGHTS, start_epoch=1)
