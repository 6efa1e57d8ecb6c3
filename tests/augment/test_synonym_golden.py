"""Golden outputs of SynonymReplacement: the same texts for the same seeds, compiled loop or not.

The expected digests were recorded before the look-ups moved to the precomputed surface-form
table; any change to a replacement (word, form, case, position) fails here. They depend on the
WordNet 3.0 database the synonym table is built from.
"""

from __future__ import annotations

import hashlib
import json

import pytest
from conftest import BENCH_DATA as DATA

from nlp_balance.augment import synonym
from nlp_balance.augment.base import example_rng
from nlp_balance.augment.synonym import SynonymReplacement

CONFIGS = {
    "default": {},
    "pos_filter": {"pos_filter": True},
    "names": {"keep_proper_nouns": False, "aug_p": 0.3},
    "protected": {"protected_words": ["love", "hate"]},
    "counts": {"p": 0.5, "aug_min": 2, "aug_max": 3},
}
# (dataset, config) -> digest of the outputs for the first N texts of the train split
N = 5000
EXPECTED = {
    ("davidson_hate", "counts"): "f43c873500d8c548",
    ("davidson_hate", "default"): "41fb882d43821ea3",
    ("davidson_hate", "names"): "0f8ca82cd0bc900e",
    ("davidson_hate", "pos_filter"): "080bb7d321f01598",
    ("davidson_hate", "protected"): "f053d73457d05d02",
    ("trec6", "counts"): "18228c84db56512a",
    ("trec6", "default"): "debd56aa18f6c94f",
    ("trec6", "names"): "c4bc9d92bdd62e19",
    ("trec6", "pos_filter"): "0ff5418101111f91",
    ("trec6", "protected"): "c1057acb7db5e730",
}


def texts(name: str) -> list[str]:
    with open(DATA / name / "train.jsonl", encoding="utf-8") as fh:
        return [json.loads(line)["text"] for _, line in zip(range(N), fh)]


@pytest.mark.parametrize("compiled", [True, False])
@pytest.mark.parametrize("config", sorted(CONFIGS))
@pytest.mark.parametrize("dataset", ["davidson_hate", "trec6"])
def test_outputs_are_the_recorded_ones(dataset, config, compiled, monkeypatch):
    if compiled and synonym._NATIVE is None:
        pytest.skip("the compiled loop is not built (tests/augment/test_synonym_native.py says why)")
    if not compiled:
        monkeypatch.setattr(synonym, "_NATIVE", None)
    batch = texts(dataset)
    aug = SynonymReplacement(**CONFIGS[config])
    out = aug.augment_batch(batch, [example_rng(9, i, 1) for i in range(len(batch))])
    digest = hashlib.sha256(json.dumps(out, ensure_ascii=False).encode()).hexdigest()[:16]
    assert digest == EXPECTED[(dataset, config)]
