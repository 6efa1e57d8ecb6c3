"""The Balancer with every augmenter on real TREC-6 data reaches the target counts exactly."""

from __future__ import annotations

import warnings
from collections import Counter

import numpy as np
import pytest

from nlp_balance import Balancer, resolve_sampling_strategy
from nlp_balance.augment import get_augmenter

STRATEGY = {"ABBR": 160, "LOC": 880}


@pytest.fixture(scope="module")
def marian_pair(tmp_path_factory) -> list[str]:
    from conftest import build_tiny_marian

    root = tmp_path_factory.mktemp("bt-marian")
    return [str(build_tiny_marian(root / f"m{i}", seed=i)) for i in range(2)]


AUGMENTERS = {
    "synonym": {"aug_p": 0.2},
    "random_insertion": {"aug_p": 0.2},
    "random_swap": {"aug_p": 0.2},
    "random_deletion": {"aug_p": 0.2},
    "eda": {},
    "char_noise": {"char_p": 0.05},
    "sentence_shuffle": {},
    "one_of": {"augmenters": [{"augmenter": "synonym"}, {"augmenter": "random_swap"}]},
    "backtranslation": None,  # built with the local tiny Marian pair
}


@pytest.mark.parametrize("name", list(AUGMENTERS))
def test_balancer_with_each_augmenter_reaches_the_targets(trec6, name, request, tmp_path):
    train = trec6["train"]
    names = train.features["label"].names
    params = AUGMENTERS[name]
    if name == "backtranslation":
        # Sampling, so every copy of a source is a new draw (beam search gives one variant per source).
        params = {
            "models": request.getfixturevalue("marian_pair"),
            "num_beams": 1,
            "do_sample": True,
            "max_new_tokens": 12,
            "cache": str(tmp_path / "bt-cache"),
        }
    augmenter = get_augmenter(name, **params)
    balancer = Balancer(augmenter, STRATEGY, seed=1, batch_size=64)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = balancer.fit_resample(train)
    y = np.asarray(train["label"])
    assert dict(Counter(out["label"])) == resolve_sampling_strategy(y, STRATEGY, "over-sampling", label_names=names)
    new = out.select(range(len(train), len(out)))
    kinds = Counter(new["augmentation"])
    stats = {c.label: c for c in balancer.report_.classes}
    written = stats["ABBR"].synthetic + stats["LOC"].synthetic
    assert kinds.get(augmenter.name, 0) == written
    assert kinds.get("duplicate", 0) == stats["ABBR"].duplicated + stats["LOC"].duplicated
    if name == "sentence_shuffle":
        # TREC questions are (nearly all) single sentences: little to shuffle, so the Balancer says so
        # and fills the rest with duplicates, in a handful of rounds.
        assert written < 0.1 * len(new) and balancer.report_.rounds <= 10
        assert any("could not write enough" in str(w.message) for w in caught)
    else:
        assert written > 0.9 * len(new), f"{name} wrote only {written} of {len(new)} new rows"
    for row in new.select(range(min(len(new), 40))):
        source = train[row["source_index"]]
        assert row["label"] == source["label"]
        if row["augmentation"] != "duplicate":
            assert row["text"] != source["text"] and row["text"].strip()
