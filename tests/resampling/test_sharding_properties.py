"""Property-based test (hypothesis): the shards of a per-source Balancer run add up to the unsharded run."""

from __future__ import annotations

import functools
import operator

from hypothesis import given, settings
from hypothesis import strategies as st
from resampling_property_data import augmenter_names, labelled_data, make_augmenter

from nlp_balance import Balancer


@settings(max_examples=15, deadline=None)
@given(ds=labelled_data(), n=st.integers(1, 5), aug_name=augmenter_names, seed=st.integers(0, 1000))
def test_shards_always_add_up(ds, n, aug_name, seed):
    full = Balancer(make_augmenter(aug_name), "all", seed=seed, plan="per_source").fit_resample(ds)
    parts = [Balancer(make_augmenter(aug_name), "all", seed=seed, plan="per_source", shard=(i, n)).fit_resample(ds)
             for i in range(n)]

    def rows(d):
        return sorted(zip(d["text"], d["label"], d["source_index"], d["augmentation"]))

    assert sorted(functools.reduce(operator.iadd, (rows(p) for p in parts), [])) == rows(full)
