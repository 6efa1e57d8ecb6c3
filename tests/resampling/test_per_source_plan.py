"""The per-source plan: fixed quotas per source row, filled on their own, so shards add up to the whole."""

from __future__ import annotations

import functools
import operator
import random
from collections import Counter

import datasets
import numpy as np
import pytest
from resampling_fixtures import split

from nlp_balance.augment import Augmenter, RandomSwap
from nlp_balance.resampling import Balancer
from nlp_balance.resampling.source_cycle import source_order


class FirstWord(Augmenter):
    """Keeps only the first word: sources that share it write the same text."""

    name = "test_first_word"

    def augment_one(self, text: str, rng: random.Random) -> str | None:
        return text.split()[0]


def test_quotas_spread_the_need_round_robin_over_the_source_order():
    ds = split([f"big {i}" for i in range(11)] + ["s0", "s1", "s2", "s3"], [0] * 11 + [1] * 4)
    out = Balancer(sampling_strategy="auto", seed=2, plan="per_source").fit_resample(ds)
    new = Counter(out["source_index"][len(ds):])
    order = source_order(np.arange(11, 15), 2, 1).tolist()
    assert [new[s] for s in order] == [2, 2, 2, 1]  # need 7 over 4 sources: the first 3 in order get 2


def test_sources_are_deduplicated_against_originals_and_their_own_outputs_only():
    ds = split([f"big {i}" for i in range(6)] + ["alpha one", "alpha two"], [0] * 6 + [1, 1])
    with pytest.warns(UserWarning, match=r"\(2 short; small: 2\)"):
        balancer = Balancer(FirstWord(), {"small": 6}, seed=0, plan="per_source")
        out = balancer.fit_resample(ds)
    new = out.select(range(len(ds), len(out)))
    # each source writes "alpha" once (another source's output does not count), then only repeats itself
    assert sorted(zip(new["source_index"], new["augmentation"], new["text"])) == [
        (6, "duplicate", "alpha one"), (6, "test_first_word", "alpha"),
        (7, "duplicate", "alpha two"), (7, "test_first_word", "alpha"),
    ]


def test_the_cap_limits_new_rows_per_source_and_duplicates_fill_the_rest():
    ds = split([f"big {i}" for i in range(9)] + ["small one", "small two", "small three"], [0] * 9 + [1] * 3)
    with pytest.warns(UserWarning, match=r"\(3 short; small: 3\)"):
        out = Balancer(RandomSwap(), "auto", seed=0, plan="per_source", max_synthetic_per_example=1).fit_resample(ds)
    new = out.select(range(len(ds), len(out)))
    assert Counter(new["augmentation"]) == {"random_swap": 3, "duplicate": 3}
    assert Counter(new["source_index"]) == {9: 2, 10: 2, 11: 2}


def _rows(ds: datasets.Dataset) -> list[tuple]:
    return sorted(zip(ds["text"], ds["label"], ds["source_index"], ds["augmentation"]))


@pytest.mark.parametrize("augmenter", [None, RandomSwap(aug_p=0.3)], ids=["duplicate", "random_swap"])
def test_shards_union_equals_the_unsharded_result(trec6, augmenter):
    train = trec6["train"]
    whole = Balancer(augmenter, "not majority", plan="per_source", seed=3, max_synthetic_per_example=20)
    full = whole.fit_resample(train)
    parts = [Balancer(augmenter, "not majority", plan="per_source", seed=3, max_synthetic_per_example=20,
                      shard=(i, 4)).fit_resample(train) for i in range(4)]
    assert _rows(datasets.concatenate_datasets(parts)) == _rows(full)
    # targets come from the full label column, so the union hits them exactly
    assert dict(Counter(full["label"])) == whole.target_counts_
    # each shard did a contiguous, non-overlapping part of the originals
    originals = [sorted(p.filter(lambda r: r["augmentation"] == "original")["source_index"]) for p in parts]
    assert functools.reduce(operator.iadd, originals, []) == list(range(len(train)))
