"""Imbalance losses: value and gradient against float64 references written here from the papers' formulas.

The references below never call nlp_balance.training.losses; they use plain float64 torch ops (autograd
only supplies the reference gradient).
"""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from nlp_balance.training.losses import (
    LOSSES,
    BalancedSoftmaxLoss,
    ClassBalancedLoss,
    FocalLoss,
    LDAMLoss,
    LogitAdjustedLoss,
    MultiLabelBCELoss,
    SelfAdjustingDiceLoss,
    SigmoidFocalLoss,
    WeightedCrossEntropyLoss,
    build_loss,
)

COUNTS = [400, 90, 25, 6]
C = len(COUNTS)
WEIGHTS = [0.4, 1.3, 2.5, 6.0]


# ---------------------------------------------------------------------------------------------------------
# float64 references (independent of the implementation)
# ---------------------------------------------------------------------------------------------------------
def _log_softmax(z):
    return z - torch.logsumexp(z, dim=1, keepdim=True)


def _onehot(t, c):
    return (torch.arange(c).unsqueeze(0) == t.unsqueeze(1)).double()


def ref_ce(z, t, w=None, eps=0.0):
    """PyTorch-style weighted, label-smoothed cross-entropy: per-example values and the weight sum."""
    c = z.shape[1]
    w = torch.ones(c, dtype=torch.float64) if w is None else torch.as_tensor(w, dtype=torch.float64)
    nll = -_log_softmax(z)
    per = (1 - eps) * w[t] * nll.gather(1, t[:, None])[:, 0] + eps / c * (nll * w).sum(1)
    return per, w[t].sum()


def ref_focal(z, t, gamma, alpha=None, eps=0.0):
    c = z.shape[1]
    logp = _log_softmax(z)
    # 1 - p_c as the sum of the other probabilities: no cancellation even where p_c rounds to 1,
    # so (1 - p) ** gamma stays differentiable for gamma < 1
    one_minus_p = logp.exp() @ (1 - torch.eye(c, dtype=torch.float64))
    a = torch.ones(c, dtype=torch.float64) if alpha is None else torch.as_tensor(alpha, dtype=torch.float64)
    if eps == 0:  # only the gold term (a zero-weighted 0 ** gamma term would poison the gradient)
        g = t[:, None]
        return -(a[t] * one_minus_p.gather(1, g)[:, 0] ** gamma * logp.gather(1, g)[:, 0])
    q = (1 - eps) * _onehot(t, c) + eps / c
    return -(q * a * one_minus_p**gamma * logp).sum(1)


def ref_cb_weights(counts, beta):
    raw = [(1 - beta) / (1 - beta**n) for n in counts]
    return [r * len(counts) / sum(raw) for r in raw]


def ref_ldam_margins(counts, max_m):
    m = [n ** (-0.25) for n in counts]
    return [v * max_m / max(m) for v in m]


def ref_ldam(z, t, counts, max_m, s, w=None):
    m = torch.tensor(ref_ldam_margins(counts, max_m), dtype=torch.float64)
    return ref_ce(s * (z - _onehot(t, z.shape[1]) * m[t][:, None]), t, w)


def ref_dice(z, t, alpha, gamma):
    p = _log_softmax(z).exp().gather(1, t[:, None])[:, 0]
    q = (1 - p) ** alpha * p
    return 1 - (2 * q + gamma) / (q + 1 + gamma)


def ref_bce(z, y, pos_weight=None, w=None):
    c = z.shape[1]
    pw = torch.ones(c, dtype=torch.float64) if pos_weight is None else torch.as_tensor(pos_weight).double()
    wc = torch.ones(c, dtype=torch.float64) if w is None else torch.as_tensor(w).double()
    log_sig = -F.softplus(-z)  # log sigmoid(z)
    log_one_minus = -F.softplus(z)  # log(1 - sigmoid(z))
    return -wc * (pw * y * log_sig + (1 - y) * log_one_minus)


def ref_sigmoid_focal(z, y, alpha, gamma):
    """torchvision.ops.sigmoid_focal_loss, transcribed from its documented formula."""
    p = torch.sigmoid(z)
    ce = ref_bce(z, y)
    p_t = p * y + (1 - p) * (1 - y)
    loss = ce * (1 - p_t) ** gamma
    if alpha is not None and alpha >= 0:
        loss = (alpha * y + (1 - alpha) * (1 - y)) * loss
    return loss


def _reduce(per, reduction, denom=None):
    if reduction == "none":
        return per
    if reduction == "sum":
        return per.sum()
    return per.sum() / denom if denom is not None else per.mean()


# Each case: name, module factory (reduction -> module), reference (z64, t -> (per, mean-denominator)), multi.
CASES = {
    "ce": (lambda r: WeightedCrossEntropyLoss(reduction=r), lambda z, t: ref_ce(z, t), False),
    "weighted_ce_smooth": (
        lambda r: WeightedCrossEntropyLoss(weight=WEIGHTS, label_smoothing=0.1, reduction=r),
        lambda z, t: ref_ce(z, t, WEIGHTS, 0.1),
        False,
    ),
    "focal": (lambda r: FocalLoss(gamma=2.0, reduction=r), lambda z, t: (ref_focal(z, t, 2.0), None), False),
    "focal_alpha_smooth": (
        lambda r: FocalLoss(gamma=1.5, alpha=WEIGHTS, label_smoothing=0.05, reduction=r),
        lambda z, t: (ref_focal(z, t, 1.5, WEIGHTS, 0.05), None),
        False,
    ),
    "focal_scalar_alpha": (
        lambda r: FocalLoss(gamma=1.0, alpha=0.25, reduction=r),
        lambda z, t: (0.25 * ref_focal(z, t, 1.0), None),
        False,
    ),
    "cb_ce": (
        lambda r: ClassBalancedLoss(COUNTS, beta=0.99, reduction=r),
        lambda z, t: (torch.tensor(ref_cb_weights(COUNTS, 0.99)).double()[t] * ref_ce(z, t)[0], None),
        False,
    ),
    "cb_focal": (
        lambda r: ClassBalancedLoss(COUNTS, beta=0.999, base="focal", gamma=2.0, reduction=r),
        lambda z, t: (ref_focal(z, t, 2.0, ref_cb_weights(COUNTS, 0.999)), None),
        False,
    ),
    "logit_adjusted": (
        lambda r: LogitAdjustedLoss(class_counts=COUNTS, tau=1.5, reduction=r),
        lambda z, t: ref_ce(z + 1.5 * torch.log(torch.tensor(COUNTS).double() / sum(COUNTS)), t),
        False,
    ),
    "balanced_softmax_weighted": (
        lambda r: BalancedSoftmaxLoss(COUNTS, weight=WEIGHTS, reduction=r),
        lambda z, t: ref_ce(z + torch.log(torch.tensor(COUNTS).double() / sum(COUNTS)), t, WEIGHTS),
        False,
    ),
    "ldam": (
        lambda r: LDAMLoss(COUNTS, max_m=0.5, s=30.0, reduction=r),
        lambda z, t: ref_ldam(z, t, COUNTS, 0.5, 30.0),
        False,
    ),
    "ldam_weighted": (
        lambda r: LDAMLoss(COUNTS, max_m=0.3, s=2.0, weight=WEIGHTS, reduction=r),
        lambda z, t: ref_ldam(z, t, COUNTS, 0.3, 2.0, WEIGHTS),
        False,
    ),
    "dice": (
        lambda r: SelfAdjustingDiceLoss(alpha=1.0, gamma=1.0, reduction=r),
        lambda z, t: (ref_dice(z, t, 1.0, 1.0), None),
        False,
    ),
    "dice_a2": (
        lambda r: SelfAdjustingDiceLoss(alpha=2.0, gamma=0.5, reduction=r),
        lambda z, t: (ref_dice(z, t, 2.0, 0.5), None),
        False,
    ),
    "bce": (
        lambda r: MultiLabelBCELoss(pos_weight=[3.0, 1.0, 0.5, 2.0], weight=WEIGHTS, reduction=r),
        lambda z, y: (ref_bce(z, y, [3.0, 1.0, 0.5, 2.0], WEIGHTS), None),
        True,
    ),
    "sigmoid_focal": (
        lambda r: SigmoidFocalLoss(alpha=0.25, gamma=2.0, reduction=r),
        lambda z, y: (ref_sigmoid_focal(z, y, 0.25, 2.0), None),
        True,
    ),
    "sigmoid_focal_no_alpha": (
        lambda r: SigmoidFocalLoss(alpha=None, gamma=1.0, reduction=r),
        lambda z, y: (ref_sigmoid_focal(z, y, None, 1.0), None),
        True,
    ),
}


def _batch(seed, n=16, scale=3.0, multi=False):
    g = torch.Generator().manual_seed(seed)
    z = torch.randn(n, C, generator=g, dtype=torch.float64) * scale
    if multi:
        t = (torch.rand(n, C, generator=g) < 0.3).double()
    else:
        t = torch.randint(0, C, (n,), generator=g)
        t[:C] = torch.arange(C)  # every class present
    return z, t


def _extreme_batch(seed, multi=False):
    """Logits of magnitude 1e4 (including wrong confident predictions) plus a few moderate ones."""
    z, t = _batch(seed, n=12, multi=multi)
    g = torch.Generator().manual_seed(seed + 1)
    signs = torch.where(torch.rand(8, C, generator=g) < 0.5, -1.0, 1.0).double()
    z[:8] = signs * 1e4
    z[8, :] = 1e4  # ties at the extreme
    return z, t


def _reference(case, z64, t, reduction):
    _, ref, _ = CASES[case]
    z = z64.clone().requires_grad_(True)
    per, denom = ref(z, t)
    out = _reduce(per, reduction, denom)
    out.sum().backward()
    return out.detach(), z.grad


def _ours(case, z, t, reduction):
    make, _, _ = CASES[case]
    z = z.detach().clone().requires_grad_(True)
    out = make(reduction)(z, t)
    out.sum().backward()
    return out, z.grad


def _assert_close(actual, expected, rtol, atol):
    torch.testing.assert_close(actual.double(), expected.double(), rtol=rtol, atol=atol)


# ---------------------------------------------------------------------------------------------------------
# value and gradient vs the references
# ---------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("reduction", ["none", "sum", "mean"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_value_and_gradient_match_reference(case, reduction):
    multi = CASES[case][2]
    for seed in range(3):
        z64, t = _batch(seed, multi=multi)
        ref_val, ref_grad = _reference(case, z64, t, reduction)
        val, grad = _ours(case, z64.float(), t, reduction)
        assert val.dtype == torch.float32
        assert val.shape == (
            (16, C) if multi and reduction == "none" else (16,) if reduction == "none" else ()
        )
        _assert_close(val, ref_val, rtol=2e-5, atol=2e-5)
        _assert_close(grad, ref_grad, rtol=2e-4, atol=2e-5)


@pytest.mark.parametrize("case", sorted(CASES))
def test_extreme_logits_give_finite_values_and_gradients(case):
    multi = CASES[case][2]
    z64, t = _extreme_batch(7, multi=multi)
    ref_val, ref_grad = _reference(case, z64, t, "none")
    val, grad = _ours(case, z64.float(), t, "none")
    assert torch.isfinite(val).all() and torch.isfinite(grad).all()
    assert torch.isfinite(ref_val).all() and torch.isfinite(ref_grad).all()
    # A float32 logit of size 1e4 is only resolved to ~1e-3 (one ulp), so any float32 computation that
    # shifts it (log priors, margins) carries that absolute error; larger errors would mean instability.
    _assert_close(val, ref_val, rtol=1e-5, atol=5e-3)
    _assert_close(grad, ref_grad, rtol=1e-4, atol=5e-3)


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
@pytest.mark.parametrize("case", sorted(CASES))
def test_low_precision_inputs_and_autocast_compute_in_float32(case, dtype):
    multi = CASES[case][2]
    z64, t = _batch(3, multi=multi)
    low = z64.to(dtype)
    # reference from the rounded inputs: the loss itself must not lose precision
    ref_val, ref_grad = _reference(case, low.double(), t, "mean")
    z = low.clone().requires_grad_(True)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        val = CASES[case][0]("mean")(z, t)
    val.backward()
    assert val.dtype == torch.float32 and torch.isfinite(val)
    assert z.grad is not None and z.grad.dtype == dtype and torch.isfinite(z.grad).all()
    _assert_close(val, ref_val, rtol=2e-5, atol=2e-5)
    # the gradient is rounded back to the input dtype
    _assert_close(z.grad, ref_grad, rtol=2e-2, atol=2e-3)


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
    _assert_close(z.grad, zr.grad, rtol=1e-3, atol=1e-4)


def test_focal_small_gamma_at_saturation_has_finite_gradient():
    z = torch.tensor([[1e4, -1e4, 0.0], [30.0, 0.0, 0.0]], requires_grad=True)
    t = torch.tensor([0, 0])
    FocalLoss(gamma=0.5, reduction="sum")(z, t).backward()
    assert torch.isfinite(z.grad).all()
    SelfAdjustingDiceLoss(alpha=0.3, reduction="sum")(z.detach().requires_grad_(True), t)  # no error


# ---------------------------------------------------------------------------------------------------------
# identities
# ---------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("reduction", ["none", "sum", "mean"])
@pytest.mark.parametrize("eps", [0.0, 0.1])
def test_focal_gamma0_equals_cross_entropy_exactly(reduction, eps):
    z, t = _batch(11)
    z = z.float()
    ours = FocalLoss(gamma=0.0, label_smoothing=eps, reduction=reduction)(z, t)
    assert torch.equal(ours, F.cross_entropy(z, t, label_smoothing=eps, reduction=reduction))
    ce = WeightedCrossEntropyLoss(label_smoothing=eps, reduction=reduction)(z, t)
    assert torch.equal(ce, F.cross_entropy(z, t, label_smoothing=eps, reduction=reduction))


def test_focal_gamma0_with_alpha_equals_weighted_ce_per_example():
    z, t = _batch(12)
    z = z.float()
    focal = FocalLoss(gamma=0.0, alpha=WEIGHTS, label_smoothing=0.1, reduction="none")(z, t)
    wce = WeightedCrossEntropyLoss(weight=WEIGHTS, label_smoothing=0.1, reduction="none")(z, t)
    torch.testing.assert_close(focal, wce)


def test_weighted_ce_mean_is_pytorch_weighted_mean():
    z, t = _batch(13)
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
    z, t = _batch(14)
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
    z, t = _batch(15)
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
    z, t = _batch(16)
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


@pytest.mark.parametrize(
    "name", ["weighted_ce", "focal", "class_balanced", "logit_adjusted", "balanced_softmax", "ldam", "bce"]
)
def test_every_weighted_loss_has_set_class_weights(name):
    problem = "multi_label_classification" if name == "bce" else "single_label_classification"
    loss = build_loss(name, num_classes=C, class_counts=COUNTS, problem_type=problem)
    loss.set_class_weights(WEIGHTS)
    assert loss.weight.tolist() == pytest.approx(WEIGHTS)
    loss.set_class_weights({"a": 1.0, "b": 2.0, "c": 3.0, "d": 4.0}, label_names=["a", "b", "c", "d"])
    assert loss.weight.tolist() == [1.0, 2.0, 3.0, 4.0]


@pytest.mark.parametrize("case", sorted(CASES))
def test_reductions_are_consistent(case):
    make, ref, multi = CASES[case]
    z, t = _batch(21, multi=multi)
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
    z, t = _batch(25, multi=multi)
    z = z.float()
    whole = make("none")(z, t)
    parts = torch.cat([make("none")(z[:5], t[:5]), make("none")(z[5:], t[5:])])
    torch.testing.assert_close(parts, whole, rtol=1e-6, atol=1e-7)


def test_sigmoid_focal_gamma0_no_alpha_is_bce():
    z, y = _batch(22, multi=True)
    z = z.float()
    torch.testing.assert_close(
        SigmoidFocalLoss(alpha=None, gamma=0.0, reduction="none")(z, y),
        F.binary_cross_entropy_with_logits(z, y.float(), reduction="none"),
    )


def test_multilabel_accepts_integer_and_soft_targets():
    z, y = _batch(23, multi=True)
    z = z.float()
    hard = MultiLabelBCELoss()(z, y.long())
    torch.testing.assert_close(hard, F.binary_cross_entropy_with_logits(z, y.float()))
    soft = y * 0.8 + 0.1
    ref = ref_sigmoid_focal(z.double(), soft, 0.25, 2.0).mean()
    torch.testing.assert_close(SigmoidFocalLoss()(z, soft).double(), ref, rtol=1e-5, atol=1e-6)


def test_module_moves_with_to_and_keeps_weights():
    loss = LDAMLoss(COUNTS, weight=WEIGHTS).to(torch.float64)
    z, t = _batch(24)
    assert loss(z, t).dtype == torch.float32


# ---------------------------------------------------------------------------------------------------------
# input errors
# ---------------------------------------------------------------------------------------------------------
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


def test_multilabel_target_errors():
    with pytest.raises(ValueError, match=r"multi-hot target of the logits' shape \(4, 4\)"):
        MultiLabelBCELoss()(torch.zeros(4, C), torch.zeros(4, dtype=torch.long))
    with pytest.raises(ValueError, match=r"in \[0, 1\], got 3.0"):
        SigmoidFocalLoss()(torch.zeros(2, C), torch.tensor([[0, 1, 3, 0], [0, 0, 0, 1]]))


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
        (lambda: BalancedSoftmaxLoss([5, 0]), r"class_counts\[1\] = 0.0"),
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


# ---------------------------------------------------------------------------------------------------------
# build_loss
# ---------------------------------------------------------------------------------------------------------
def test_build_loss_covers_every_name():
    for name, cls in LOSSES.items():
        problem = (
            "multi_label_classification"
            if name in ("bce", "sigmoid_focal")
            else "single_label_classification"
        )
        loss = build_loss(name, num_classes=C, class_counts=COUNTS, problem_type=problem)
        assert isinstance(loss, cls)


def test_build_loss_routes_class_weights_and_counts():
    z, t = _batch(31)
    z = z.float()
    ce = build_loss("ce", num_classes=C, class_weights=WEIGHTS, reduction="none")
    torch.testing.assert_close(ce(z, t), torch.tensor(WEIGHTS)[t] * F.cross_entropy(z, t, reduction="none"))
    assert build_loss("ce", num_classes=C).weight is None
    focal = build_loss("focal", num_classes=C, class_weights=WEIGHTS, gamma=1.0)
    assert focal.alpha.tolist() == pytest.approx(WEIGHTS) and focal.gamma == 1.0
    names = ["a", "b", "c", "d"]
    by_name = build_loss(
        "ldam", num_classes=C, class_counts=COUNTS, label_names=names, class_weights=dict(zip(names, WEIGHTS))
    )
    assert by_name.weight.tolist() == pytest.approx(WEIGHTS)
    # weighted_ce without weights uses sklearn-style "balanced" weights of the counts
    wce = build_loss("weighted_ce", num_classes=C, class_counts=COUNTS)
    balanced = [sum(COUNTS) / (C * n) for n in COUNTS]
    assert wce.weight.tolist() == pytest.approx(balanced, rel=1e-6)
    cb = build_loss("class_balanced", num_classes=C, class_counts=COUNTS, base="focal", beta=0.99, gamma=0.5)
    assert cb.gamma == 0.5 and cb.weight.tolist() == pytest.approx(ref_cb_weights(COUNTS, 0.99), rel=1e-6)
    la = build_loss("logit_adjusted", num_classes=C, class_priors=[0.25] * 4)
    torch.testing.assert_close(la(z, t), F.cross_entropy(z, t))
    module = torch.nn.CrossEntropyLoss()
    assert build_loss(module, num_classes=C) is module


@pytest.mark.parametrize(
    ("args", "kwargs", "match"),
    [
        (("focl",), {}, r"unknown loss 'focl'.*Did you mean 'focal'"),
        (("balanced_softmx",), {}, "Did you mean 'balanced_softmax'"),
        (("focal",), {"gamma": -2.0}, "gamma must be >= 0, got -2.0"),
        (("focal",), {"gama": 2.0}, r"does not take parameter\(s\) \['gama'\]"),
        (("class_balanced",), {"class_counts": COUNTS, "beta": 1.0}, "beta"),
        (("class_balanced",), {}, "needs class_counts"),
        (("ldam",), {"class_counts": COUNTS, "s": -1.0}, "s must be > 0"),
        (("logit_adjusted",), {"class_counts": COUNTS, "tau": -0.5}, "tau must be >= 0"),
        (("ce",), {"class_weights": [1.0, 2.0]}, "expected 4 class weights"),
        (("ce",), {"class_weights": [0.0] * 4}, "all zero"),
        (("ldam",), {"class_counts": [1, 2, 3]}, "one count per class"),
        (("dice",), {"class_weights": WEIGHTS}, "does not take class weights"),
        (("focal",), {"class_weights": WEIGHTS, "alpha": 0.5}, "not both"),
        (("weighted_ce",), {}, "needs class_weights or class_counts"),
        (("bce",), {}, "does not fit problem_type"),
        (("focal",), {"problem_type": "multi_label_classification"}, "use one of"),
        (("focal",), {"problem_type": "regression"}, "'regression'"),
        ((42,), {}, "42"),
    ],
)
def test_build_loss_errors(args, kwargs, match):
    kwargs.setdefault("num_classes", C)
    with pytest.raises(ValueError, match=match):
        build_loss(*args, **kwargs)


def test_build_loss_num_classes_checked_at_forward():
    loss = build_loss("dice", num_classes=3)
    with pytest.raises(ValueError, match="built for 3 classes"):
        loss(torch.zeros(2, C), torch.tensor([0, 1]))
