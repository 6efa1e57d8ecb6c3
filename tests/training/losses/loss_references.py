"""Float64 reference losses written from the papers' formulas, and the cases the loss tests share.

The references never call nlp_balance.training.losses; they use plain float64 torch ops (autograd only
supplies the reference gradient). Imported by the tests in this folder as ``loss_references``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from nlp_balance.training.losses import (
    BalancedSoftmaxLoss,
    ClassBalancedLoss,
    FocalLoss,
    LDAMLoss,
    LogitAdjustedLoss,
    MultiLabelBCELoss,
    SelfAdjustingDiceLoss,
    SigmoidFocalLoss,
    WeightedCrossEntropyLoss,
)

COUNTS = [400, 90, 25, 6]
C = len(COUNTS)
WEIGHTS = [0.4, 1.3, 2.5, 6.0]


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


def make_batch(seed, n=16, scale=3.0, multi=False):
    """Seeded float64 logits [n, C] and targets (class ids with every class present, or multi-hot)."""
    g = torch.Generator().manual_seed(seed)
    z = torch.randn(n, C, generator=g, dtype=torch.float64) * scale
    if multi:
        t = (torch.rand(n, C, generator=g) < 0.3).double()
    else:
        t = torch.randint(0, C, (n,), generator=g)
        t[:C] = torch.arange(C)  # every class present
    return z, t


def extreme_batch(seed, multi=False):
    """Logits of magnitude 1e4 (including wrong confident predictions) plus a few moderate ones."""
    z, t = make_batch(seed, n=12, multi=multi)
    g = torch.Generator().manual_seed(seed + 1)
    signs = torch.where(torch.rand(8, C, generator=g) < 0.5, -1.0, 1.0).double()
    z[:8] = signs * 1e4
    z[8, :] = 1e4  # ties at the extreme
    return z, t


def reference_loss(case, z64, t, reduction):
    """The float64 reference value of ``case`` and its gradient with respect to the logits."""
    _, ref, _ = CASES[case]
    z = z64.clone().requires_grad_(True)
    per, denom = ref(z, t)
    out = _reduce(per, reduction, denom)
    out.sum().backward()
    return out.detach(), z.grad


def our_loss(case, z, t, reduction):
    """The implementation's value of ``case`` and its gradient with respect to the logits."""
    make, _, _ = CASES[case]
    z = z.detach().clone().requires_grad_(True)
    out = make(reduction)(z, t)
    out.sum().backward()
    return out, z.grad


def assert_close(actual, expected, rtol, atol):
    """``torch.testing.assert_close`` in float64."""
    torch.testing.assert_close(actual.double(), expected.double(), rtol=rtol, atol=atol)
