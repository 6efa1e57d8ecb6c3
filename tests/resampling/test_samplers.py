"""The random over/under-samplers on real datasets, checked against imbalanced-learn itself."""

from __future__ import annotations

from collections import Counter

import datasets
import numpy as np
import pytest
from imblearn.over_sampling import RandomOverSampler as ImbROS
from imblearn.under_sampling import RandomUnderSampler as ImbRUS

from nlp_balance.resampling import (
    RandomOverSampler,
    RandomUnderSampler,
    over_sample_indices,
    resolve_sampling_strategy,
    under_sample_indices,
)


def _imblearn_counts(y: np.ndarray, strategy, kind: str) -> dict[int, int] | type[Exception]:
    sampler = (
        ImbROS(sampling_strategy=strategy, random_state=0)
        if kind == "over-sampling"
        else ImbRUS(sampling_strategy=strategy, random_state=0)
    )
    try:
        _, y_res = sampler.fit_resample(np.zeros((y.size, 1)), y)
    except ValueError:
        return ValueError
    return {int(k): int(v) for k, v in Counter(y_res.tolist()).items()}


@pytest.mark.parametrize("strategy", ["auto", "minority", "not minority", "all", {"ABBR": 300, "LOC": 900}])
def test_random_over_sampler_on_trec6_matches_imblearn_counts(trec6, strategy):
    train = trec6["train"]
    names = train.features["label"].names
    y = np.asarray(train["label"])
    imb_strategy = strategy if not isinstance(strategy, dict) else {names.index(k): v for k, v in strategy.items()}
    out = RandomOverSampler(strategy, random_state=3).fit_resample(train)
    assert dict(Counter(out["label"])) == _imblearn_counts(y, imb_strategy, "over-sampling")
    # Every original row is kept in order; the extra rows are copies of rows of their class.
    assert out["text"][: len(train)] == train["text"]
    extra = out.select(range(len(train), len(out)))
    texts_by_label = {}
    for t, lab in zip(train["text"], train["label"]):
        texts_by_label.setdefault(lab, set()).add(t)
    assert all(t in texts_by_label[lab] for t, lab in zip(extra["text"], extra["label"]))
    assert out.features == train.features


@pytest.mark.parametrize("strategy", ["auto", "majority", "not majority", "all", 0.4])
def test_random_under_sampler_on_sms_matches_imblearn_counts(sms_spam, strategy):
    train = sms_spam["train"]
    y = np.asarray(train["label"])
    out = RandomUnderSampler(strategy, random_state=0).fit_resample(train)
    assert dict(Counter(out["label"])) == _imblearn_counts(y, strategy, "under-sampling")
    kept = out.sample_indices_ if hasattr(out, "sample_indices_") else None
    assert kept is None  # the result is a plain Dataset; indices live on the sampler
    assert len(set(out["text"])) == len(out)  # without replacement: no row twice


def test_samplers_are_seeded_and_use_arrow_indices(trec6):
    train = trec6["train"]
    a = RandomOverSampler(random_state=1)
    b = RandomOverSampler(random_state=1)
    c = RandomOverSampler(random_state=2)
    ra, rb, rc = a.fit_resample(train), b.fit_resample(train), c.fit_resample(train)
    assert ra["text"] == rb["text"] and ra["text"] != rc["text"]
    assert ra._indices is not None  # a view through an indices mapping, not a copy of the rows
    assert np.array_equal(a.sample_indices_, b.sample_indices_)


def test_samplers_change_only_the_train_split(trec6):
    out = RandomUnderSampler(random_state=0).fit_resample(trec6)
    assert isinstance(out, datasets.DatasetDict)
    assert out["test"] is trec6["test"]
    assert len(set(Counter(out["train"]["label"]).values())) == 1


def test_under_sampler_with_replacement_matches_imblearn(trec6):
    train = trec6["train"]
    y = np.asarray(train["label"])
    out = RandomUnderSampler("all", random_state=0, replacement=True).fit_resample(train)
    expected = Counter(
        ImbRUS(sampling_strategy="all", random_state=0, replacement=True)
        .fit_resample(np.zeros((y.size, 1)), y)[1]
        .tolist()
    )
    assert Counter(out["label"]) == expected


@pytest.mark.parametrize("replacement", [False, True])
def test_index_rules_on_a_label_array_equal_the_samplers(trec6, replacement):
    train = trec6["train"]
    y = np.asarray(train["label"])
    under = RandomUnderSampler("not minority", random_state=7, replacement=replacement)
    under.fit_resample(train)
    targets = resolve_sampling_strategy(y, "not minority", "under-sampling")
    assert np.array_equal(under_sample_indices(y, targets, 7, replacement=replacement), under.sample_indices_)
    assert np.array_equal(
        under_sample_indices(y, targets, np.random.default_rng(7), replacement=replacement), under.sample_indices_
    )
    over = RandomOverSampler("all", random_state=7)
    over.fit_resample(train)
    assert np.array_equal(
        over_sample_indices(y, resolve_sampling_strategy(y, "all", "over-sampling"), 7), over.sample_indices_
    )
    assert over.target_counts_ == dict(Counter(y[over.sample_indices_].tolist()))


def test_under_sampling_without_replacement_keeps_untargeted_classes_whole():
    y = np.array([0, 0, 0, 0, 1, 1, 2])
    kept = under_sample_indices(y, {0: 2, 1: 2, 2: 1}, 0)
    assert kept.tolist() == sorted(kept.tolist())
    assert Counter(y[kept].tolist()) == {0: 2, 1: 2, 2: 1}
    assert set(kept.tolist()) >= {4, 5, 6}


def test_samplers_name_a_missing_train_split_and_a_bad_random_state(trec6):
    with pytest.raises(KeyError, match=r"no 'train' split to resample; splits are \['test'\]"):
        RandomOverSampler().fit_resample(datasets.DatasetDict({"test": trec6["test"]}))
    with pytest.raises(ValueError, match="random_state must be an int, a numpy Generator or None, got '1'"):
        RandomUnderSampler(random_state="1").fit_resample(trec6["train"])
