"""Property-based tests (hypothesis) for the Balancer.

Labels are preserved (each new row has its source row's label), class counts are exactly the
resolved targets, the same seed gives the same bytes, and originals come first, unchanged.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from resampling_property_data import augmenter_names, labelled_data, make_augmenter

from nlp_balance import Balancer, resolve_sampling_strategy

strategies = st.sampled_from(["auto", "minority", "not majority", "all"])


@settings(max_examples=25, deadline=None)
@given(ds=labelled_data(), strategy=strategies, aug_name=augmenter_names, seed=st.integers(0, 1000),
       plan=st.sampled_from(["global", "per_source"]))
def test_balancer_counts_labels_and_seed(ds, strategy, aug_name, seed, plan):
    y = np.asarray(ds["label"])
    targets = resolve_sampling_strategy(y, strategy, "over-sampling")  # the reference rule (imblearn's)
    balancer = Balancer(make_augmenter(aug_name), strategy, seed=seed, plan=plan, on_shortfall="duplicate")
    out = balancer.fit_resample(ds)
    assert dict(Counter(out["label"])) == targets
    # originals first and untouched; every new row keeps its source's label
    assert out.select(range(len(ds)))["text"] == ds["text"]
    src = np.asarray(out["source_index"])
    assert np.array_equal(y[src], np.asarray(out["label"]))
    assert all(isinstance(t, str) and t.strip() for t in out["text"])
    # synthetic rows are new texts (never an original, never repeated under the global plan)
    synthetic = [t for t, a in zip(out["text"], out["augmentation"]) if a not in ("original", "duplicate")]
    assert not set(synthetic) & set(ds["text"])
    if plan == "global":
        assert len(synthetic) == len(set(synthetic))
    again = Balancer(make_augmenter(aug_name), strategy, seed=seed, plan=plan).fit_resample(ds)
    assert again["text"] == out["text"] and again["source_index"] == out["source_index"]
