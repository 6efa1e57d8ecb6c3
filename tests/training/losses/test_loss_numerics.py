"""Numerics of the losses beyond test_base_loss.py: 1e4 logits under fp16/bf16 autocast, and degenerate
class weights (all zero, all one, a batch made only of a zero-weight class)."""

from __future__ import annotations

import pytest
import torch

SINGLE_LABEL = ["ce", "weighted_ce", "focal", "class_balanced", "logit_adjusted", "balanced_softmax", "ldam",
                "dice"]


def _loss(name, weights=None):
    from nlp_balance.training.losses import build_loss

    return build_loss(name, num_classes=3, class_weights=weights, class_counts=[50, 20, 3])


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
@pytest.mark.parametrize("name", SINGLE_LABEL)
def test_huge_logits_under_autocast_stay_finite(name, dtype):
    gen = torch.Generator().manual_seed(0)
    z = (torch.randn(16, 3, generator=gen) * 1e4).to(dtype).requires_grad_(True)
    t = torch.randint(0, 3, (16,), generator=gen)
    with torch.autocast("cpu", dtype=dtype):
        loss = _loss(name)(z, t)
    loss.backward()
    assert torch.isfinite(loss), (name, loss)
    assert torch.isfinite(z.grad).all()
    # the same loss on the same (rounded) logits in float32 without autocast: autocast must not change it
    ref = _loss(name)(z.detach().float(), t)
    torch.testing.assert_close(loss.detach().float(), ref, rtol=1e-4, atol=1e-2)


@pytest.mark.parametrize("name", ["ce", "weighted_ce", "focal", "logit_adjusted", "balanced_softmax", "ldam"])
def test_all_zero_class_weights_are_rejected(name):
    with pytest.raises(ValueError, match=r"all zero"):
        _loss(name, [0.0, 0.0, 0.0])


@pytest.mark.parametrize("name", ["ce", "weighted_ce", "focal", "logit_adjusted", "balanced_softmax", "ldam"])
def test_all_one_class_weights_equal_no_weights(name):
    gen = torch.Generator().manual_seed(1)
    z, t = torch.randn(12, 3, generator=gen) * 5, torch.randint(0, 3, (12,), generator=gen)
    # weighted_ce without weights derives them from the class counts; its unweighted twin is plain ce
    plain = _loss("ce" if name == "weighted_ce" else name)
    torch.testing.assert_close(_loss(name, [1.0, 1.0, 1.0])(z, t), plain(z, t))


@pytest.mark.parametrize("name", ["ce", "weighted_ce", "focal", "logit_adjusted", "balanced_softmax", "ldam"])
def test_zero_weight_class_alone_in_a_batch_is_finite_per_example(name):
    """The trainer's path (per-example losses / item count) gives 0, not NaN, for a batch of a 0-weight class."""
    from nlp_balance.training.losses import build_loss

    loss = build_loss(name, num_classes=3, class_weights=[0.0, 1.0, 1.0], class_counts=[50, 20, 3],
                      reduction="none")
    per_example = loss(torch.randn(4, 3), torch.zeros(4, dtype=torch.long))
    assert torch.isfinite(per_example).all() and float(per_example.sum()) == 0.0


def test_zero_weight_class_alone_in_a_batch_mean_is_finite():
    # PyTorch's weighted mean would be 0/0 = NaN here; the loss defines it as 0.
    loss = _loss("weighted_ce", [0.0, 1.0, 1.0])
    logits = torch.randn(4, 3, requires_grad=True)
    value = loss(logits, torch.zeros(4, dtype=torch.long))
    value.backward()
    assert float(value) == 0.0 and torch.isfinite(logits.grad).all()
