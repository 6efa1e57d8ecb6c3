"""The Balancer: target counts, round-robin sources, provenance, determinism across num_proc, no leaks."""

from __future__ import annotations

import random
from collections import Counter

import datasets
import numpy as np
import pytest

from nlp_balance import Balancer, resolve_sampling_strategy
from nlp_balance.augment import Augmenter


class WordShuffle(Augmenter):
    """A small test augmenter: shuffles the words; cannot change one-word texts."""

    name = "test_word_shuffle"

    def __init__(self, *, p: float = 1.0) -> None:
        super().__init__(p=p)

    def augment_one(self, text: str, rng: random.Random) -> str | None:
        words = text.split()
        if len(words) < 2:
            return None
        rng.shuffle(words)
        return " ".join(words)


def _counts(ds: datasets.Dataset) -> dict[int, int]:
    return dict(Counter(ds["label"]))


def test_duplication_reaches_targets_with_round_robin_sources(trec6):
    train = trec6["train"]
    y = np.asarray(train["label"])
    out = Balancer(sampling_strategy="not majority", seed=0).fit_resample(train)
    assert _counts(out) == resolve_sampling_strategy(y, "not majority", "over-sampling")
    new = out.select(range(len(train), len(out)))
    assert set(new["augmentation"]) == {"duplicate"}
    src = np.asarray(new["source_index"])
    assert np.array_equal(y[src], np.asarray(new["label"]))
    assert [train[int(i)]["text"] for i in src[:50]] == new["text"][:50]
    for label, n_new in Counter(new["label"]).items():
        members = int((y == label).sum())
        uses = Counter(src[np.asarray(new["label"]) == label].tolist())
        # every original used once before any is used twice
        assert max(uses.values()) - min(uses.values()) <= 1
        assert len(uses) == min(members, n_new)


def test_every_column_is_kept_and_provenance_is_added(trec6):
    train = trec6["train"].add_column("row_id", [f"r{i}" for i in range(trec6["train"].num_rows)])
    out = Balancer(WordShuffle(), "not majority", seed=0).fit_resample(train)
    assert out.column_names == ["text", "label", "row_id", "source_index", "augmentation"]
    assert out.features["label"] == train.features["label"]
    original = out.select(range(len(train)))
    assert original["augmentation"] == ["original"] * len(train)
    assert original["source_index"] == list(range(len(train)))
    new = out.select(range(len(train), len(out)))
    assert set(new["augmentation"]) == {"test_word_shuffle"}
    for row in new.select(range(0, len(new), 97)):
        source = train[row["source_index"]]
        assert row["row_id"] == source["row_id"] and row["label"] == source["label"]
        assert sorted(row["text"].split()) == sorted(source["text"].split())
        assert row["text"] != source["text"]


def test_augmenter_reaches_targets_and_writes_no_duplicates(trec6):
    train = trec6["train"]
    y = np.asarray(train["label"])
    balancer = Balancer(WordShuffle(), "all", seed=5)
    out = balancer.fit_resample(train)
    assert _counts(out) == resolve_sampling_strategy(y, "all", "over-sampling")
    assert len(set(out["text"])) == len(set(train["text"])) + (len(out) - len(train))
    abbr = next(c for c in balancer.report_.classes if c.label == "ABBR")
    assert abbr.before == 84 and abbr.after == abbr.target == 1245
    assert abbr.synthetic + abbr.duplicated == 1245 - 84


def test_same_seed_same_bytes_for_any_num_proc_and_batch_size(trec6):
    train = trec6["train"]
    one = Balancer(WordShuffle(), "not majority", seed=11, num_proc=1).fit_resample(train)
    two = Balancer(WordShuffle(), "not majority", seed=11, num_proc=2, batch_size=37).fit_resample(train)
    other = Balancer(WordShuffle(), "not majority", seed=12, num_proc=1).fit_resample(train)
    assert one.data.table.equals(two.flatten_indices().data.table) or one.flatten_indices().data.table.equals(
        two.flatten_indices().data.table
    )
    assert one["text"] != other["text"]


def test_fingerprint_is_stable_across_runs(tmp_path, shared_data):
    from nlp_balance import load_text_dataset

    fps = []
    for _ in range(2):
        train = load_text_dataset(shared_data / "sms_spam", split="train")
        fps.append(Balancer(WordShuffle(), seed=3).fit_resample(train)._fingerprint)
    other = Balancer(WordShuffle(), seed=4).fit_resample(train)._fingerprint
    assert fps[0] == fps[1] != other


def test_max_synthetic_per_example_caps_each_source(trec6):
    train = trec6["train"]
    out = Balancer(WordShuffle(), {"ABBR": 84 * 3}, max_synthetic_per_example=1, seed=0, on_shortfall="warn")
    with pytest.warns(UserWarning):
        res = out.fit_resample(train)
    new = res.select(range(len(train), len(res)))
    assert max(Counter(new["source_index"]).values()) == 1
    assert len(new) <= 84


def test_dataset_dict_changes_train_only_and_refuses_eval_splits(trec6):
    out = Balancer(sampling_strategy="minority", seed=0).fit_resample(trec6)
    assert out["test"] is trec6["test"]
    assert out["train"].num_rows > trec6["train"].num_rows
    with pytest.raises(ValueError, match=r"refusing to rebalance the 'test' split"):
        Balancer(split="test").fit_resample(trec6)
    with pytest.raises(ValueError, match=r"refusing to rebalance the 'test' split"):
        Balancer().fit_resample(trec6["test"])
    allowed = Balancer(split="test", allow_eval_split=True).fit_resample(trec6)
    assert allowed["test"].num_rows > trec6["test"].num_rows


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"seed": "1"}, "seed must be an int"),
        ({"num_proc": 0}, "num_proc must be a positive int"),
        ({"max_synthetic_per_example": 0}, "max_synthetic_per_example must be"),
        ({"on_shortfall": "ignore"}, "on_shortfall must be"),
        ({"augmenter": "eda"}, "must be an nlp_balance Augmenter"),
    ],
)
def test_bad_arguments_name_the_value(kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):
        Balancer(**kwargs)


def test_needs_a_class_label_and_refuses_existing_provenance(trec6):
    plain = datasets.Dataset.from_dict({"text": ["a", "b"], "label": ["x", "y"]})
    with pytest.raises(ValueError, match="not a ClassLabel"):
        Balancer().fit_resample(plain)
    once = Balancer(seed=0).fit_resample(trec6["train"])
    with pytest.raises(ValueError, match="already has a 'source_index' column"):
        Balancer(seed=0).fit_resample(once)
