"""sampling_strategy rules (resolve_sampling_strategy and the NAMED_STRATEGIES table), checked against
imbalanced-learn itself."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from imblearn.over_sampling import RandomOverSampler as ImbROS
from imblearn.under_sampling import RandomUnderSampler as ImbRUS

from nlp_balance.resampling import NAMED_STRATEGIES, SAMPLING_TYPES, resolve_sampling_strategy

NAMED = list(NAMED_STRATEGIES)


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


def test_the_table_names_exactly_imblearns_strategies():
    from imblearn.utils._validation import SAMPLING_TARGET_KIND

    assert list(NAMED_STRATEGIES) == list(SAMPLING_TARGET_KIND)
    assert SAMPLING_TYPES == ("over-sampling", "under-sampling")


@pytest.mark.parametrize("name", NAMED)
@pytest.mark.parametrize("kind", SAMPLING_TYPES)
def test_the_table_decides_which_sampling_type_allows_a_name(name, kind):
    y = np.array([0, 0, 0, 0, 1, 1, 2])
    refused = NAMED_STRATEGIES[name].targets(kind) is None
    assert (_imblearn_counts(y, name, kind) is ValueError) == refused
    if refused:
        with pytest.raises(ValueError, match=rf"sampling_strategy={name!r} cannot be used with an {kind[:-9]}"):
            resolve_sampling_strategy(y, name, kind)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(y=label_arrays, name=st.sampled_from(NAMED), kind=st.sampled_from(SAMPLING_TYPES))
def test_named_strategies_match_imblearn(y, name, kind):
    assert _ours(y, name, kind) == _imblearn_counts(y, name, kind)


@settings(max_examples=150, deadline=None)
@given(
    y=st.lists(st.integers(0, 1), min_size=2, max_size=200).map(np.asarray).filter(lambda y: np.unique(y).size == 2),
    ratio=st.floats(0.01, 1.0),
    kind=st.sampled_from(SAMPLING_TYPES),
)
def test_float_strategy_matches_imblearn_on_binary_data(y, ratio, kind):
    assert _ours(y, ratio, kind) == _imblearn_counts(y, ratio, kind)


@settings(max_examples=150, deadline=None)
@given(data=st.data(), y=label_arrays, kind=st.sampled_from(SAMPLING_TYPES))
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


def test_ties_go_to_the_smaller_label_id():
    y = np.array([0, 1, 1, 2, 2, 3])
    assert resolve_sampling_strategy(y, "minority", "over-sampling") == {0: 2, 1: 2, 2: 2, 3: 1}
    assert resolve_sampling_strategy(y, "majority", "under-sampling") == {0: 1, 1: 1, 2: 2, 3: 1}


@pytest.mark.parametrize(
    ("strategy", "kind", "match"),
    [
        ("majority", "over-sampling", r"cannot be used with an over-sampler; use one of \['minority'"),
        ("minority", "under-sampling", r"cannot be used with an under-sampler; use one of \['majority'"),
        ("not-majority", "over-sampling", r"unknown sampling_strategy 'not-majority'.*Did you mean 'not majority'"),
        (0.5, "over-sampling", r"only defined for binary data; this data has 3 classes \(class counts: \{0: 3, 1: 2"),
        (1.5, "over-sampling", r"must be in \(0, 1\], got 1.5"),
        (0, "over-sampling", r"must be in \(0, 1\], got 0$"),
        ({0: 1}, "over-sampling", r"sampling_strategy\[0\]=1 is below the 3 examples"),
        ({2: 9}, "under-sampling", r"sampling_strategy\[2\]=9 is above the 1 examples"),
        ({7: 9}, "over-sampling", r"class 7, which is not present in the data \(class counts: \{0: 3, 1: 2, 2: 1\}\)"),
        ({"nope": 9}, "over-sampling", r"names class 'nope', which is not a known class \(without label names"),
        ({0: -1}, "under-sampling", r"is negative"),
        ({0: 4.0}, "over-sampling", r"sampling_strategy\[0\] must be an integer count, got 4.0"),
        (True, "over-sampling", "must be a float, a string"),
        ([0, 1], "over-sampling", r"must be a float, a string, a dict or a callable, got \[0, 1\]"),
        (lambda y: [3], "over-sampling", "a callable sampling_strategy must return a dict, got list"),
    ],
)
def test_bad_strategies_name_the_value(strategy, kind, match):
    with pytest.raises(ValueError, match=match):
        resolve_sampling_strategy(np.array([0, 0, 0, 1, 1, 2]), strategy, kind)


@pytest.mark.parametrize(
    ("strategy", "kind", "match"),
    [
        ({"nope": 9}, "over-sampling", r"'nope', which is not a known class \(known classes: \['ham', 'spam', 'x'\]"),
        ({"x": 9}, "over-sampling", r"'x', which is not present in the data \(class counts: \{'ham': 4, 'spam': 2\}"),
        (0.1, "over-sampling", r"would remove minority examples \(it asks for 0 of class 'spam', which has 2\)"),
        (0.1, "under-sampling", r"would add examples to class 'ham' \(it asks for 20, the class has 4\)"),
    ],
)
def test_errors_name_classes_by_label_name_when_known(strategy, kind, match):
    y = np.array([0, 0, 0, 0, 1, 1])
    with pytest.raises(ValueError, match=match):
        resolve_sampling_strategy(y, strategy, kind, label_names=["ham", "spam", "x"])


def test_one_class_or_a_bad_sampling_type_is_an_error():
    with pytest.raises(ValueError, match=r"at least 2 classes in the data; found 1 \(class counts: \{'b': 3\}\)"):
        resolve_sampling_strategy(np.array([1, 1, 1]), "auto", "over-sampling", label_names=["a", "b"])
    with pytest.raises(ValueError, match="sampling_type must be 'over-sampling' or 'under-sampling', got 'over'"):
        resolve_sampling_strategy(np.array([0, 1]), "auto", "over")


def test_dict_keys_may_be_label_names(trec6):
    names = trec6["train"].features["label"].names
    targets = resolve_sampling_strategy(
        np.asarray(trec6["train"]["label"]), {"ABBR": 500}, "over-sampling", label_names=names
    )
    assert targets[names.index("ABBR")] == 500
