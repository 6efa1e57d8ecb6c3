"""What every loss keeps through the base class: values and gradients against the float64 references,
float32 computation under autocast, consistent reductions, batch-independent per-example losses,
input checks and parameter checks that name the value."""

from __future__ import annotations

import pytest
import torch
from loss_references import CASES, COUNTS, WEIGHTS, C, assert_close, extreme_batch, make_batch, our_loss, reference_loss

from nlp_balance.training.losses import (
    BalancedSoftmaxLoss,
    ClassBalancedLoss,
    FocalLoss,
    LDAMLoss,
    LogitAdjustedLoss,
    SelfAdjustingDiceLoss,
    SigmoidFocalLoss,
    WeightedCrossEntropyLoss,
)


@pytest.mark.parametrize("reduction", ["none", "sum", "mean"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_value_and_gradient_match_reference(case, reduction):
    multi = CASES[case][2]
    for seed in range(3):
        z64, t = make_batch(seed, multi=multi)
        ref_val, ref_grad = reference_loss(case, z64, t, reduction)
        val, grad = our_loss(case, z64.float(), t, reduction)
        assert val.dtype == torch.float32
        assert val.shape == (
            (16, C) if multi and reduction == "none" else (16,) if reduction == "none" else ()
        )
        assert_close(val, ref_val, rtol=2e-5, atol=2e-5)
        assert_close(grad, ref_grad, rtol=2e-4, atol=2e-5)


@pytest.mark.parametrize("case", sorted(CASES))
def test_extreme_logits_give_finite_values_and_gradients(case):
    multi = CASES[case][2]
    z64, t = extreme_batch(7, multi=multi)
    ref_val, ref_grad = reference_loss(case, z64, t, "none")
    val, grad = our_loss(case, z64.float(), t, "none")
    assert torch.isfinite(val).all() and torch.isfinite(grad).all()
    assert torch.isfinite(ref_val).all() and torch.isfinite(ref_grad).all()
    # A float32 logit of size 1e4 is only resolved to ~1e-3 (one ulp), so any float32 computation that
    # shifts it (log priors, margins) carries that absolute error; larger errors would mean instability.
    assert_close(val, ref_val, rtol=1e-5, atol=5e-3)
    assert_close(grad, ref_grad, rtol=1e-4, atol=5e-3)


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
@pytest.mark.parametrize("case", sorted(CASES))
def test_low_precision_inputs_and_autocast_compute_in_float32(case, dtype):
    multi = CASES[case][2]
    z64, t = make_batch(3, multi=multi)
    low = z64.to(dtype)
    # reference from the rounded inputs: the loss itself must not lose precision
    ref_val, ref_grad = reference_loss(case, low.double(), t, "mean")
    z = low.clone().requires_grad_(True)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        val = CASES[case][0]("mean")(z, t)
    val.backward()
    assert val.dtype == torch.float32 and torch.isfinite(val)
    assert z.grad is not None and z.grad.dtype == dtype and torch.isfinite(z.grad).all()
    assert_close(val, ref_val, rtol=2e-5, atol=2e-5)
    # the gradient is rounded back to the input dtype
    assert_close(z.grad, ref_grad, rtol=2e-2, atol=2e-3)


@pytest.mark.parametrize("case", sorted(CASES))
def test_reductions_are_consistent(case):
    make, ref, multi = CASES[case]
    z, t = make_batch(21, multi=multi)
    z = z.float()
    none, total, mean = (make(r)(z, t) for r in ("none", "sum", "mean"))
    torch.testing.assert_close(total, none.sum())
    _, denom = ref(z.double(), t)
    expected_mean = none.sum() / denom.float() if denom is not None else none.mean()
    torch.testing.assert_close(mean, expected_mean)


@pytest.mark.parametrize("case", sorted(CASES))
def test_per_example_losses_do_not_depend_on_the_batch(case):
    """What makes sum(none) / num_items_in_batch exact under gradient accumulation."""
    make, _, multi = CASES[case]
    z, t = make_batch(25, multi=multi)
    z = z.float()
    whole = make("none")(z, t)
    parts = torch.cat([make("none")(z[:5], t[:5]), make("none")(z[5:], t[5:])])
    torch.testing.assert_close(parts, whole, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize(
    ("logits", "target", "match"),
    [
        (torch.zeros(4, C), torch.zeros(4, 1, dtype=torch.long), r"shape \[N\] = \[4\].*\(4, 1\)"),
        (torch.zeros(4, C), torch.zeros(3, dtype=torch.long), r"\(3,\)"),
        (torch.zeros(4, C), torch.zeros(4), "integer class ids"),
        (torch.zeros(4, C), torch.tensor([0, 1, -100, 2]), "-100 labels must be masked"),
        (torch.zeros(4, C), torch.tensor([0, 1, 4, 2]), "class id 4 is out of range for 4"),
        (torch.zeros(4), torch.zeros(4, dtype=torch.long), r"logits of shape \[N, C\]"),
        (torch.zeros(4, C, dtype=torch.long), torch.zeros(4, dtype=torch.long), "floating-point"),
    ],
)
def test_single_label_target_errors(logits, target, match):
    for loss in (WeightedCrossEntropyLoss(), FocalLoss(), SelfAdjustingDiceLoss(), LDAMLoss(COUNTS)):
        with pytest.raises(ValueError, match=match):
            loss(logits, target)


def test_wrong_number_of_columns_is_named():
    with pytest.raises(ValueError, match="built for 4 classes but logits have 3 columns"):
        BalancedSoftmaxLoss(COUNTS)(torch.zeros(2, 3), torch.tensor([0, 1]))
    with pytest.raises(ValueError, match="4 class weights but logits have 3 columns"):
        loss = WeightedCrossEntropyLoss()
        loss.set_class_weights(WEIGHTS)
        loss.num_classes = None
        loss(torch.zeros(2, 3), torch.tensor([0, 1]))


@pytest.mark.parametrize(
    ("factory", "match"),
    [
        (lambda: FocalLoss(gamma=-1.0), r"gamma must be >= 0, got -1.0"),
        (lambda: SigmoidFocalLoss(gamma=-0.5), "gamma must be >= 0"),
        (lambda: ClassBalancedLoss(COUNTS, base="focal", gamma=-2), "gamma"),
        (lambda: ClassBalancedLoss(COUNTS, beta=1.0), r"beta must be in \[0, 1\), got 1.0"),
        (lambda: ClassBalancedLoss(COUNTS, beta=-0.1), "beta"),
        (lambda: ClassBalancedLoss(COUNTS, base="sigmoid"), "'sigmoid'"),
        (lambda: ClassBalancedLoss(COUNTS, gamma=2.0), "base='focal'"),
        (lambda: LogitAdjustedLoss(class_counts=COUNTS, tau=-1), "tau must be >= 0, got -1"),
        (lambda: LogitAdjustedLoss(), "exactly one"),
        (lambda: LogitAdjustedLoss([0.5, 0.0, 0.5]), r"class_priors\[1\] = 0.0"),
        (lambda: LDAMLoss(COUNTS, s=0), "s must be > 0, got 0"),
        (lambda: LDAMLoss(COUNTS, max_m=-0.5), "max_m"),
        (lambda: BalancedSoftmaxLoss([5, 0]), r"class_counts: class\(es\) 1 have no examples"),
        (lambda: BalancedSoftmaxLoss([5, -1]), r"class_counts\[1\] = -1.0"),
        (lambda: LDAMLoss([5, 0], label_names=["big", "tiny"]), r"class\(es\) 1 \('tiny'\) have no examples"),
        (lambda: WeightedCrossEntropyLoss(weight=[1.0, -1.0]), "negative"),
        (lambda: WeightedCrossEntropyLoss(weight=[0.0, 0.0]), "all zero"),
        (lambda: WeightedCrossEntropyLoss(weight=[1.0, float("nan")]), "nan"),
        (lambda: WeightedCrossEntropyLoss(label_smoothing=1.5), "label_smoothing"),
        (lambda: WeightedCrossEntropyLoss(reduction="avg"), "'avg'"),
        (lambda: FocalLoss(alpha=-0.25), "alpha must be >= 0"),
        (lambda: SigmoidFocalLoss(alpha=1.5), "alpha"),
        (lambda: SelfAdjustingDiceLoss(alpha=-1), "alpha"),
        (lambda: FocalLoss(gamma=float("nan")), "finite"),
    ],
)
def test_invalid_parameters_name_the_value(factory, match):
    with pytest.raises(ValueError, match=match):
        factory()
