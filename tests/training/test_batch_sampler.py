"""BalancedSampler and its length-grouped variant: class shares, determinism, distributed slices, errors."""

from __future__ import annotations

import numpy as np
import pytest

from nlp_balance.training.batch_sampler import (
    BalancedSampler,
    LengthGroupedBalancedSampler,
    class_target_shares,
    example_lengths,
    example_weights,
    group_by_length,
)


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


# ---- length grouping --------------------------------------------------------------------------------


def _grouped(labels: np.ndarray, lengths: np.ndarray, batch: int, **kwargs) -> LengthGroupedBalancedSampler:
    return LengthGroupedBalancedSampler(labels, lengths, batch, "weighted", seed=3, **kwargs)


def test_group_by_length_sorts_each_window_and_keeps_its_members():
    lengths = np.array([5, 1, 9, 9, 2, 7, 3])
    out = group_by_length(np.array([0, 1, 2, 3, 4, 5, 6, 2]), lengths, 3)
    assert out.tolist() == [2, 0, 1, 3, 5, 4, 2, 6]  # windows of 3, longest first; a short last window
    assert group_by_length(np.array([3, 2, 4]), lengths, 3).tolist() == [3, 2, 4]  # ties keep their order
    with pytest.raises(ValueError, match="window"):
        group_by_length(np.arange(3), lengths, 0)


@pytest.mark.parametrize("name", ["sms_spam", "trec6"])
def test_windows_hold_the_balanced_draws_and_batches_pad_little(request, name):
    """Each window of the grouped stream is a permutation of the same window of BalancedSampler's
    stream, so class shares are untouched; batches pad to about their own length."""
    ds = request.getfixturevalue(name)["train"]
    labels = _labels(request.getfixturevalue(name))
    lengths = np.asarray([len(t.split()) for t in ds["text"]])
    plain = BalancedSampler(labels, "weighted", seed=3)
    grouped = _grouped(labels, lengths, 32)
    assert grouped.window == min(len(labels) // (32 * 4), 50) * 32  # transformers' rule
    assert repr(grouped).startswith("LengthGroupedBalancedSampler(mode='weighted'")
    a, b = plain.global_stream(), grouped.global_stream()
    for lo in range(0, len(a), grouped.window):
        assert sorted(a[lo : lo + grouped.window].tolist()) == sorted(b[lo : lo + grouped.window].tolist())

    def pad_ratio(stream: np.ndarray) -> float:
        batches = [lengths[stream[i : i + 32]] for i in range(0, len(stream), 32)]
        return sum(x.max() * len(x) for x in batches) / sum(x.sum() for x in batches)

    assert pad_ratio(a) > 1.5 and pad_ratio(b) < 1.1
    assert list(grouped) == b.tolist() and len(grouped) == len(plain)


def test_grouped_stream_is_seeded_by_seed_and_epoch():
    labels = np.random.default_rng(0).choice(3, size=400, p=[0.7, 0.2, 0.1])
    lengths = np.random.default_rng(1).integers(1, 50, size=400)
    one, two = _grouped(labels, lengths, 8), _grouped(labels, lengths, 8)
    assert list(one) == list(two)
    first = list(one)
    one.set_epoch(1)
    assert list(one) != first and sorted(one.global_stream()) == sorted(BalancedSampler(labels, seed=3,
                                                                                        ).global_stream(1))
    # the default window follows transformers: at most 50 batches, fewer for a short stream (400 // 32 = 12)
    assert one.window == 12 * 8 and _grouped(labels, lengths, 8, mega_batch_mult=2).window == 16
    assert one.state()["group_by_length"] == {"batch_size": 8, "window": 96}


@pytest.mark.parametrize(("world", "per_device", "ga"), [(2, 2, 2), (1, 2, 4), (4, 1, 2)])
def test_every_step_takes_the_same_examples_under_ga_and_ddp(world, per_device, ga):
    """accelerate gives each process every world-th batch of the one stream and a step is ga batches
    per process: with the global batch as the sampler's batch size, any split of the global batch
    takes the examples one process with the whole batch takes."""
    from accelerate.data_loader import BatchSamplerShard
    from torch.utils.data import BatchSampler

    labels = np.random.default_rng(2).choice(3, size=300, p=[0.7, 0.2, 0.1])
    lengths = np.random.default_rng(3).integers(1, 40, size=300)
    global_batch = world * per_device * ga
    single = list(BatchSampler(_grouped(labels, lengths, global_batch), global_batch, drop_last=False))
    ranks = [
        list(BatchSamplerShard(BatchSampler(_grouped(labels, lengths, global_batch), per_device, drop_last=False),
                               num_processes=world, process_index=r))
        for r in range(world)
    ]
    for step, whole in enumerate(single[:-1]):  # the last step may be short (padded by accelerate)
        parts = [i for r in range(world) for batch in ranks[r][step * ga : (step + 1) * ga] for i in batch]
        assert sorted(parts) == sorted(whole)


def test_example_lengths_from_a_column_arrow_or_items():
    from datasets import Dataset

    ds = Dataset.from_dict({"input_ids": [[1, 2, 3], [4], [5, 6]], "length": [30, 10, 20], "labels": [0, 1, 0]})
    assert example_lengths(ds, "length").tolist() == [30, 10, 20]
    assert example_lengths(ds, None).tolist() == [3, 1, 2]
    assert example_lengths(ds.select([2, 0]), None).tolist() == [2, 3]
    items = [{"input_ids": [1, 2]}, {"input_ids": [3]}]
    assert example_lengths(items, None).tolist() == [2, 1]
    with pytest.raises(ValueError, match="example 1 has neither"):
        example_lengths([{"input_ids": [1]}, {"text": "x"}], None)


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        (dict(lengths=[1, 2, 3], batch_size=2), "one number per example"),
        (dict(lengths=[1, 2], batch_size=0), "batch_size"),
        (dict(lengths=[1, 2], batch_size=2, mega_batch_mult=0), "mega_batch_mult"),
    ],
)
def test_grouped_errors_name_the_bad_value(kwargs, needle):
    with pytest.raises(ValueError, match=needle):
        LengthGroupedBalancedSampler([0, 1], **kwargs)
