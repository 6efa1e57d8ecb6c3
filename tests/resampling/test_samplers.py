"""sampling_strategy resolution and the random samplers, checked against imbalanced-learn itself."""

from __future__ import annotations

from collections import Counter

import datasets
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from imblearn.over_sampling import RandomOverSampler as ImbROS
from imblearn.under_sampling import RandomUnderSampler as ImbRUS

from nlp_balance import RandomOverSampler, RandomUnderSampler, resolve_sampling_strategy

NAMED = ["minority", "majority", "not minority", "not majority", "all", "auto"]


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


def _ours(y: np.ndarray, strategy, kind: str) -> dict[int, int] | type[Exception]:
    try:
        targets = resolve_sampling_strategy(y, strategy, kind)
    except ValueError:
        return ValueError
    return {c: n for c, n in targets.items() if n > 0}  # imbalanced-learn's output has no empty class


label_arrays = (
    st.integers(2, 6)
    .flatmap(lambda k: st.lists(st.integers(0, k - 1), min_size=2, max_size=120))
    .map(lambda xs: np.asarray(xs, dtype=np.int64))
    .filter(lambda y: np.unique(y).size >= 2)
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(y=label_arrays, name=st.sampled_from(NAMED), kind=st.sampled_from(["over-sampling", "under-sampling"]))
def test_named_strategies_match_imblearn(y, name, kind):
    assert _ours(y, name, kind) == _imblearn_counts(y, name, kind)


@settings(max_examples=150, deadline=None)
@given(
    y=st.lists(st.integers(0, 1), min_size=2, max_size=200).map(np.asarray).filter(lambda y: np.unique(y).size == 2),
    ratio=st.floats(0.01, 1.0),
    kind=st.sampled_from(["over-sampling", "under-sampling"]),
)
def test_float_strategy_matches_imblearn_on_binary_data(y, ratio, kind):
    assert _ours(y, ratio, kind) == _imblearn_counts(y, ratio, kind)


@settings(max_examples=150, deadline=None)
@given(data=st.data(), y=label_arrays, kind=st.sampled_from(["over-sampling", "under-sampling"]))
def test_dict_and_callable_strategies_match_imblearn(data, y, kind):
    classes, counts = np.unique(y, return_counts=True)
    chosen = data.draw(st.lists(st.sampled_from(classes.tolist()), unique=True, min_size=1))
    strategy = {}
    for c in chosen:
        n = int(counts[classes.tolist().index(c)])
        strategy[c] = data.draw(st.integers(n, 3 * n) if kind == "over-sampling" else st.integers(0, n))
    assert _ours(y, strategy, kind) == _imblearn_counts(y, strategy, kind)

    def fn(labels):
        return dict(strategy)

    assert _ours(y, fn, kind) == _imblearn_counts(y, fn, kind)


@pytest.mark.parametrize(
    ("strategy", "kind", "match"),
    [
        ("majority", "over-sampling", "cannot be used with an over-sampler"),
        ("minority", "under-sampling", "cannot be used with an under-sampler"),
        ("not-majority", "over-sampling", r"unknown sampling_strategy 'not-majority'.*Did you mean 'not majority'"),
        (0.5, "over-sampling", r"only defined for binary data; this data has 3 classes"),
        (1.5, "over-sampling", r"must be in \(0, 1\], got 1.5"),
        ({0: 1}, "over-sampling", r"sampling_strategy\[0\]=1 is below the 3 examples"),
        ({2: 9}, "under-sampling", r"sampling_strategy\[2\]=9 is above the 1 examples"),
        ({7: 9}, "over-sampling", r"names class 7, which is not present"),
        ({"nope": 9}, "over-sampling", r"names class 'nope', which is not a known class"),
        ({0: -1}, "under-sampling", r"is negative"),
        (True, "over-sampling", "must be a float, a string"),
    ],
)
def test_bad_strategies_name_the_value(strategy, kind, match):
    with pytest.raises(ValueError, match=match):
        resolve_sampling_strategy(np.array([0, 0, 0, 1, 1, 2]), strategy, kind)


def test_one_class_is_an_error():
    with pytest.raises(ValueError, match="at least 2 classes"):
        resolve_sampling_strategy(np.array([1, 1, 1]), "auto", "over-sampling")


def test_dict_keys_may_be_label_names(trec6):
    names = trec6["train"].features["label"].names
    targets = resolve_sampling_strategy(
        np.asarray(trec6["train"]["label"]), {"ABBR": 500}, "over-sampling", label_names=names
    )
    assert targets[names.index("ABBR")] == 500


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
