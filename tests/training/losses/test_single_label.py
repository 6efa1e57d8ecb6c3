"""Single-label losses: focal, weighted cross-entropy, class-balanced, logit adjustment, balanced softmax,
LDAM and Dice, each against its paper's formula or an exact PyTorch identity."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from loss_references import (
    COUNTS,
    WEIGHTS,
    C,
    assert_close,
    make_batch,
    ref_cb_weights,
    ref_focal,
    ref_ldam,
    ref_ldam_margins,
)

from nlp_balance.training.losses import (
    BalancedSoftmaxLoss,
    ClassBalancedLoss,
    FocalLoss,
    LDAMLoss,
    LogitAdjustedLoss,
    SelfAdjustingDiceLoss,
    WeightedCrossEntropyLoss,
)


def test_autocast_model_output_loss_is_float32():
    torch.manual_seed(0)
    layer = torch.nn.Linear(8, C)
    x = torch.randn(10, 8)
    t = torch.randint(0, C, (10,))
    with torch.autocast("cpu", dtype=torch.bfloat16):
        logits = layer(x)
        assert logits.dtype == torch.bfloat16
        loss = FocalLoss(gamma=2.0)(logits, t)
    assert loss.dtype == torch.float32
    loss.backward()
    assert torch.isfinite(layer.weight.grad).all()
    expected = ref_focal(logits.detach().double(), t, 2.0).mean()
    assert math.isclose(loss.item(), expected.item(), rel_tol=1e-5)


@settings(max_examples=25, deadline=None)
@given(
    n=st.integers(1, 20),
    c=st.integers(2, 7),
    gamma=st.sampled_from([0.5, 1.0, 2.0, 3.0]),
    scale=st.sampled_from([0.1, 1.0, 10.0, 50.0]),
    seed=st.integers(0, 2**16),
)
def test_focal_matches_reference_on_generated_batches(n, c, gamma, scale, seed):
    g = torch.Generator().manual_seed(seed)
    z64 = torch.randn(n, c, generator=g, dtype=torch.float64) * scale
    t = torch.randint(0, c, (n,), generator=g)
    z = z64.float().requires_grad_(True)
    FocalLoss(gamma=gamma, reduction="sum")(z, t).backward()
    zr = z64.clone().requires_grad_(True)
    ref_focal(zr, t, gamma).sum().backward()
    assert torch.isfinite(z.grad).all()
    assert_close(z.grad, zr.grad, rtol=1e-3, atol=1e-4)


def test_focal_small_gamma_at_saturation_has_finite_gradient():
    z = torch.tensor([[1e4, -1e4, 0.0], [30.0, 0.0, 0.0]], requires_grad=True)
    t = torch.tensor([0, 0])
    FocalLoss(gamma=0.5, reduction="sum")(z, t).backward()
    assert torch.isfinite(z.grad).all()
    SelfAdjustingDiceLoss(alpha=0.3, reduction="sum")(z.detach().requires_grad_(True), t)  # no error


@pytest.mark.parametrize("reduction", ["none", "sum", "mean"])
@pytest.mark.parametrize("eps", [0.0, 0.1])
def test_focal_gamma0_equals_cross_entropy_exactly(reduction, eps):
    z, t = make_batch(11)
    z = z.float()
    ours = FocalLoss(gamma=0.0, label_smoothing=eps, reduction=reduction)(z, t)
    assert torch.equal(ours, F.cross_entropy(z, t, label_smoothing=eps, reduction=reduction))
    ce = WeightedCrossEntropyLoss(label_smoothing=eps, reduction=reduction)(z, t)
    assert torch.equal(ce, F.cross_entropy(z, t, label_smoothing=eps, reduction=reduction))


def test_focal_gamma0_with_alpha_equals_weighted_ce_per_example():
    z, t = make_batch(12)
    z = z.float()
    focal = FocalLoss(gamma=0.0, alpha=WEIGHTS, label_smoothing=0.1, reduction="none")(z, t)
    wce = WeightedCrossEntropyLoss(weight=WEIGHTS, label_smoothing=0.1, reduction="none")(z, t)
    torch.testing.assert_close(focal, wce)


def test_weighted_ce_mean_is_pytorch_weighted_mean():
    z, t = make_batch(13)
    z = z.float()
    w = torch.tensor(WEIGHTS)
    for eps in (0.0, 0.2):
        ours = WeightedCrossEntropyLoss(weight=WEIGHTS, label_smoothing=eps)(z, t)
        torch.testing.assert_close(ours, F.cross_entropy(z, t, weight=w, label_smoothing=eps))
        per = WeightedCrossEntropyLoss(weight=WEIGHTS, label_smoothing=eps, reduction="none")(z, t)
        torch.testing.assert_close(ours, per.sum() / w[t].sum())
    per = WeightedCrossEntropyLoss(weight=WEIGHTS, reduction="none")(z, t)
    torch.testing.assert_close(per, w[t] * F.cross_entropy(z, t, reduction="none"))


def test_balanced_softmax_equals_ce_on_logits_plus_log_prior():
    z, t = make_batch(14)
    z = z.float()
    log_prior = torch.log(torch.tensor(COUNTS, dtype=torch.float32) / sum(COUNTS))
    for reduction in ("none", "mean"):
        ours = BalancedSoftmaxLoss(COUNTS, reduction=reduction)(z, t)
        torch.testing.assert_close(ours, F.cross_entropy(z + log_prior, t, reduction=reduction))
        la = LogitAdjustedLoss(class_counts=COUNTS, tau=1.0, reduction=reduction)(z, t)
        torch.testing.assert_close(la, ours)
    priors = [c / sum(COUNTS) for c in COUNTS]
    torch.testing.assert_close(
        LogitAdjustedLoss(priors, tau=0.7)(z, t), LogitAdjustedLoss(class_counts=COUNTS, tau=0.7)(z, t)
    )
    torch.testing.assert_close(LogitAdjustedLoss(priors, tau=0.0)(z, t), F.cross_entropy(z, t))


def test_class_balanced_weights_match_paper_formula():
    for beta in (0.9, 0.99, 0.999, 0.9999):
        loss = ClassBalancedLoss(COUNTS, beta=beta)
        expected = torch.tensor(ref_cb_weights(COUNTS, beta), dtype=torch.float32)
        torch.testing.assert_close(loss.weight, expected)
        assert math.isclose(float(loss.weight.sum()), C, rel_tol=1e-6)
    # beta = 0 means no re-weighting: plain cross-entropy
    z, t = make_batch(15)
    torch.testing.assert_close(
        ClassBalancedLoss(COUNTS, beta=0.0)(z.float(), t), F.cross_entropy(z.float(), t)
    )


def test_class_balanced_zero_count_class_gets_zero_weight_with_warning():
    with pytest.warns(UserWarning, match="class"):
        loss = ClassBalancedLoss([10, 0, 3], beta=0.99)
    assert loss.weight[1] == 0 and torch.isfinite(loss.weight).all()


def test_ldam_margins_follow_quarter_power_and_max_m():
    loss = LDAMLoss(COUNTS, max_m=0.5)
    expected = torch.tensor(ref_ldam_margins(COUNTS, 0.5), dtype=torch.float32)
    torch.testing.assert_close(loss.margins, expected)
    assert math.isclose(float(loss.margins.max()), 0.5, rel_tol=1e-6)
    assert int(loss.margins.argmax()) == C - 1  # the rarest class gets the largest margin
    ratio = float(loss.margins[0] / loss.margins[1])
    assert math.isclose(ratio, (COUNTS[1] / COUNTS[0]) ** 0.25, rel_tol=1e-6)


def test_ldam_deferred_reweighting_via_set_class_weights():
    z, t = make_batch(16)
    z = z.float()
    loss = LDAMLoss(COUNTS, s=2.0)
    before = loss(z, t)
    loss.set_class_weights({i: w for i, w in enumerate(WEIGHTS)})  # Keras-style dict keyed by id
    after = loss(z, t)
    per, denom = ref_ldam(z.double(), t, COUNTS, 0.5, 2.0, WEIGHTS)
    torch.testing.assert_close(after.double(), per.sum() / denom, rtol=1e-5, atol=1e-6)
    loss.set_class_weights(None)
    torch.testing.assert_close(loss(z, t), before)
    loss.set_class_weights(torch.ones(C))
    torch.testing.assert_close(loss(z, t), before)
    with pytest.raises(ValueError, match="expected 4 class weights"):
        loss.set_class_weights([1.0, 2.0])


def test_module_moves_with_to_and_keeps_weights():
    loss = LDAMLoss(COUNTS, weight=WEIGHTS).to(torch.float64)
    z, t = make_batch(24)
    assert loss(z, t).dtype == torch.float32
