"""Golden outputs: the Balancer's rows, bytes and report for fixed configurations, for any num_proc.

The expected digests were recorded from the Balancer before its pipeline was reworked for speed;
any change to what it writes (a text, a provenance value, a row's position, the report) fails here.
They depend on the WordNet 3.0 database the synonym table is built from.
"""

from __future__ import annotations

import hashlib
import json
import warnings

import datasets
import pytest
from resampling_fixtures import Constant, Numbered

from nlp_balance import Balancer
from nlp_balance.augment import EDA, RandomSwap, SynonymReplacement


def digest(ds: datasets.Dataset, balancer: Balancer) -> str:
    """Rows, features and report as one short digest."""
    payload = [ds.to_dict(), str(ds.features), balancer.report_.to_dict()]
    return hashlib.sha256(json.dumps(payload, sort_keys=True, ensure_ascii=False).encode()).hexdigest()[:16]


# name -> (Balancer arguments, dataset fixture, rows used, expected digest)
CASES = {
    "synonym_global": (dict(augmenter=SynonymReplacement(), sampling_strategy="not majority", seed=0),
                       "davidson", 3000, "478bf6c6981efdd9"),
    "synonym_per_source": (dict(augmenter=SynonymReplacement(aug_p=0.2), sampling_strategy="all", seed=3,
                                plan="per_source", batch_size=100), "trec6", 2000, "a741100d05003fcd"),
    "swap_capped": (dict(augmenter=RandomSwap(), sampling_strategy="not majority", seed=1,
                         max_synthetic_per_example=2), "trec6", 2000, "a8a913cb88ffcd68"),
    "duplicate": (dict(augmenter=None, sampling_strategy="auto", seed=5), "davidson", 3000, "42022f093f6a45f8"),
    "constant_shortfall": (dict(augmenter=Constant(), sampling_strategy="not majority", seed=2),
                           "trec6", 600, "21013beb3bf71e2a"),
    "numbered_shard": (dict(augmenter=Numbered(), sampling_strategy="not majority", seed=4, plan="per_source",
                            shard=(1, 3)), "trec6", 900, "a8e0c351bdb8e837"),
    "eda_dict_targets": (dict(augmenter=EDA(), sampling_strategy={0: 2000, 1: 2500, 2: 2500}, seed=7,
                              batch_size=64), "davidson", 3000, "988c528bc87243f3"),
}


@pytest.mark.parametrize("num_proc", [1, 2])
@pytest.mark.parametrize("name", sorted(CASES))
def test_output_is_the_recorded_one(name, num_proc, request):
    kwargs, fixture, rows, expected = CASES[name]
    train = request.getfixturevalue(fixture)["train"].select(range(rows))
    balancer = Balancer(**kwargs, num_proc=num_proc)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # shortfall warnings are part of some cases
        out = balancer.fit_resample(train)
    assert digest(out, balancer) == expected
