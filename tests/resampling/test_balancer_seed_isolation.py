"""The Balancer's random choices flow from its seed only, never from Python's or numpy's global state."""

from __future__ import annotations

import random

import datasets
import numpy as np

from nlp_balance import Balancer, load_text_dataset
from nlp_balance.augment import RandomSwap


def test_random_module_state_is_not_used():
    """Every random choice flows from the seed: reseeding Python's global RNG changes nothing."""
    ds = load_text_dataset(datasets.Dataset.from_dict({"text": ["a b c", "d e f", "g h i j", "k l m"],
                                                       "label": ["x", "x", "x", "y"]}), split="train")
    random.seed(1)
    first = Balancer(RandomSwap(), seed=5).fit_resample(ds)["text"]
    random.seed(2)
    np.random.seed(2)
    assert Balancer(RandomSwap(), seed=5).fit_resample(ds)["text"] == first
