"""Multi-label losses: sigmoid focal and binary cross-entropy, hard and soft targets, target checks."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from loss_references import C, make_batch, ref_sigmoid_focal

from nlp_balance.training.losses import MultiLabelBCELoss, SigmoidFocalLoss


def test_sigmoid_focal_gamma0_no_alpha_is_bce():
    z, y = make_batch(22, multi=True)
    z = z.float()
    torch.testing.assert_close(
        SigmoidFocalLoss(alpha=None, gamma=0.0, reduction="none")(z, y),
        F.binary_cross_entropy_with_logits(z, y.float(), reduction="none"),
    )


def test_multilabel_accepts_integer_and_soft_targets():
    z, y = make_batch(23, multi=True)
    z = z.float()
    hard = MultiLabelBCELoss()(z, y.long())
    torch.testing.assert_close(hard, F.binary_cross_entropy_with_logits(z, y.float()))
    soft = y * 0.8 + 0.1
    ref = ref_sigmoid_focal(z.double(), soft, 0.25, 2.0).mean()
    torch.testing.assert_close(SigmoidFocalLoss()(z, soft).double(), ref, rtol=1e-5, atol=1e-6)


def test_multilabel_target_errors():
    with pytest.raises(ValueError, match=r"multi-hot target of the logits' shape \(4, 4\)"):
        MultiLabelBCELoss()(torch.zeros(4, C), torch.zeros(4, dtype=torch.long))
    with pytest.raises(ValueError, match=r"in \[0, 1\], got 3.0"):
        SigmoidFocalLoss()(torch.zeros(2, C), torch.tensor([[0, 1, 3, 0], [0, 0, 0, 1]]))
