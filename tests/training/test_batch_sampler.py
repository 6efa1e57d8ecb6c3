"""BalancedSampler: class shares over many draws, determinism, distributed slices, errors."""

from __future__ import annotations

import numpy as np
import pytest

from nlp_balance.training.batch_sampler import BalancedSampler, class_target_shares, example_weights


def _labels(dataset_dict) -> np.ndarray:
    return np.asarray(dataset_dict["train"]["label"])


def _expected_shares(labels: np.ndarray, mode: str) -> np.ndarray:
    """Independent statement of the targets: equal shares, or shares proportional to sqrt(count)."""
    counts = np.bincount(labels)
    raw = np.ones(len(counts)) if mode == "weighted" else np.sqrt(counts)
    raw = np.where(counts > 0, raw, 0.0)
    return raw / raw.sum()


@pytest.mark.parametrize("mode", ["weighted", "sqrt"])
@pytest.mark.parametrize("name", ["sms_spam", "trec6"])
def test_class_shares_over_10000_draws(request, name, mode):
    labels = _labels(request.getfixturevalue(name))
    counts = np.bincount(labels)
    assert counts.max() / counts.min() > 3, "the data should be imbalanced for this test to mean anything"
    sampler = BalancedSampler(labels, mode, num_samples=10_000, seed=7)
    drawn = labels[np.fromiter(iter(sampler), dtype=np.int64)]
    assert len(drawn) == 10_000
    shares = np.bincount(drawn, minlength=len(counts)) / len(drawn)
    target = _expected_shares(labels, mode)
    np.testing.assert_allclose(shares, target, atol=0.02)
    natural = counts / counts.sum()
    assert np.abs(target - natural).max() > 0.03, "targets too close to the natural mix for a meaningful test"


def test_example_weights_match_targets_exactly():
    labels = np.array([0] * 90 + [1] * 9 + [2] * 1)
    for mode in ("weighted", "sqrt"):
        w = example_weights(labels, mode)
        assert w.sum() == pytest.approx(1.0)
        per_class = np.array([w[labels == c].sum() for c in range(3)])
        np.testing.assert_allclose(per_class, _expected_shares(labels, mode), rtol=1e-12)
    np.testing.assert_allclose(class_target_shares([4, 0, 1], "sqrt"), [2 / 3, 0, 1 / 3])


def test_deterministic_per_seed_and_epoch():
    labels = np.random.default_rng(0).choice(4, size=500, p=[0.7, 0.2, 0.07, 0.03])
    a, b = BalancedSampler(labels, seed=1), BalancedSampler(labels, seed=1)
    assert list(a) == list(b)
    assert list(a) != list(BalancedSampler(labels, seed=2))
    first = list(a)
    a.set_epoch(1)
    assert list(a) != first
    a.set_epoch(0)
    assert list(a) == first


@pytest.mark.parametrize("world", [2, 3])
def test_ranks_read_disjoint_slices_of_one_stream(world):
    labels = np.random.default_rng(1).choice(3, size=101, p=[0.8, 0.15, 0.05])
    full = BalancedSampler(labels, seed=5)
    ranks = [BalancedSampler(labels, seed=5, num_replicas=world, rank=r) for r in range(world)]
    slices = [list(s) for s in ranks]
    assert len({len(s) for s in slices}) == 1 and len(slices[0]) == len(ranks[0])
    stream = ranks[0].global_stream()
    np.testing.assert_array_equal(stream[: full.num_samples], full.global_stream())  # same draws as 1 process
    for r, s in enumerate(slices):
        assert s == stream[r::world].tolist()
    # every position of the stream goes to exactly one rank
    merged = np.empty(len(stream), dtype=np.int64)
    for r, s in enumerate(slices):
        merged[r::world] = s
    np.testing.assert_array_equal(merged, stream)
    assert len(merged) >= full.num_samples


def test_ignored_labels_are_never_drawn():
    labels = np.array([0, 0, 0, 1, -100, -100, 2])
    drawn = list(BalancedSampler(labels, num_samples=2000, seed=0))
    assert not ({4, 5} & set(drawn))


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        (dict(labels=[0, 1], mode="oversample"), "mode"),
        (dict(labels=[[0, 1], [1, 0]]), "1-D"),
        (dict(labels=[]), "empty"),
        (dict(labels=[0.5, 1.0]), "integer"),
        (dict(labels=[0, 1], num_samples=0), "num_samples"),
        (dict(labels=[0, 1], num_replicas=2, rank=2), "rank"),
        (dict(labels=[-100, -100]), "negative"),
        (dict(labels=[0, 3], num_classes=2), "num_classes"),
    ],
)
def test_errors_name_the_bad_value(kwargs, needle):
    with pytest.raises(ValueError, match=needle):
        BalancedSampler(**kwargs)
