"""BalancedSampler refuses label lists it cannot draw from, naming the problem."""

from __future__ import annotations

import pytest

from nlp_balance.training.batch_sampler import BalancedSampler


@pytest.mark.parametrize(
    ("labels", "pattern"),
    [([], r"empty label list"), ([[0, 1], [1, 0]], r"1-D array"), ([0.5, 1.0], r"integer class ids"),
     ([-100, -100], r"every label is negative")],
)
def test_balanced_sampler_bad_labels(labels, pattern):
    with pytest.raises(ValueError, match=pattern):
        BalancedSampler(labels)
