"""Class counts and class weights: sklearn parity on real labels, documented formulas, input checks."""

from __future__ import annotations

import json
import math
import warnings

import numpy as np
import pytest
import torch
from conftest import BENCH_DATA as DATA
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.utils.class_weight import compute_class_weight

from nlp_balance.training.class_weights import (
    class_counts,
    compute_class_weights,
    resolve_class_weights,
    weights_from_counts,
)


def _labels(name: str) -> tuple[list[str], list[str]]:
    path = DATA / name / "train.jsonl"
    if not path.exists():
        pytest.skip(f"shared dataset {path} is not available")
    with path.open(encoding="utf-8") as fh:
        labels = [json.loads(line)["label"] for line in fh]
    return labels, sorted(set(labels))


# --- class_counts ---------------------------------------------------------------------------------------
def test_class_counts_ignores_minus_100_and_pads_to_num_classes():
    counts = class_counts([2, 0, -100, 2, 2, -100], num_classes=4)
    assert counts.dtype == np.int64
    assert counts.tolist() == [1, 0, 3, 0]
    assert class_counts(torch.tensor([1, 1, 0])).tolist() == [1, 2]
    assert class_counts(np.array([1.0, 0.0])).tolist() == [1, 1]


def test_class_counts_maps_label_names():
    assert class_counts(["b", "a", "b"], label_names=["a", "b", "c"]).tolist() == [1, 2, 0]


@pytest.mark.parametrize(
    ("labels", "kwargs", "match"),
    [
        ([0, -3], {}, "-3"),
        ([0, 5], {"num_classes": 3}, "label 5"),
        ([0, 1.5], {}, "1.5"),
        (["x"], {}, "label_names"),
        (["x"], {"label_names": ["a"]}, "'x'"),
        ([[0, 1]], {}, "1-D"),
        ([-100], {}, "no labels"),
        ([0], {"num_classes": 0}, "num_classes"),
        ([0], {"num_classes": 3, "label_names": ["a", "b"]}, "num_classes=3"),
    ],
)
def test_class_counts_errors_name_the_value(labels, kwargs, match):
    with pytest.raises(ValueError, match=match):
        class_counts(labels, **kwargs)


# --- "balanced" == scikit-learn ----------------------------------------------------------------------------
@pytest.mark.parametrize("dataset", ["trec6", "davidson_hate", "sms_spam"])
def test_balanced_equals_sklearn_on_real_labels(dataset):
    names, classes = _labels(dataset)
    ids = np.array([classes.index(n) for n in names])
    ref = compute_class_weight("balanced", classes=np.arange(len(classes)), y=ids)
    ours = compute_class_weights(ids, "balanced")
    assert ours.dtype == np.float64
    np.testing.assert_array_equal(ours, ref)
    # the same through label names, and with ignored labels mixed in
    np.testing.assert_array_equal(compute_class_weights(names, label_names=classes), ref)
    with_ignored = np.concatenate([ids, np.full(17, -100)])
    np.testing.assert_array_equal(compute_class_weights(with_ignored, num_classes=len(classes)), ref)


@settings(max_examples=60, deadline=None)
@given(
    st.integers(min_value=1, max_value=8).flatmap(
        lambda k: st.tuples(
            st.just(k),
            st.lists(st.integers(min_value=0, max_value=k - 1), min_size=k, max_size=300),
            st.lists(st.integers(min_value=0, max_value=300), max_size=5),
        )
    )
)
def test_balanced_equals_sklearn_on_generated_labels(case):
    k, labels, ignore_positions = case
    labels = list(range(k)) + labels  # every class present, as sklearn requires
    ref = compute_class_weight("balanced", classes=np.arange(k), y=np.array(labels))
    for pos in ignore_positions:
        labels.insert(min(pos, len(labels)), -100)
    np.testing.assert_array_equal(compute_class_weights(labels, "balanced"), ref)


# --- the other schemes follow their documented formula -----------------------------------------------------
COUNTS = [500, 120, 30, 7, 1]


def _labels_from_counts(counts):
    return np.repeat(np.arange(len(counts)), counts)


def _raw(scheme, n, beta=0.999):
    if scheme == "balanced":
        return sum(n) / (len(n) * np.array(n, dtype=float))
    if scheme == "inverse":
        return np.array([1.0 / c for c in n])
    if scheme == "inverse_sqrt":
        return np.array([1.0 / math.sqrt(c) for c in n])
    return np.array([(1.0 - beta) / (1.0 - beta**c) for c in n])


@pytest.mark.parametrize("scheme", ["balanced", "inverse", "inverse_sqrt", "effective_number"])
def test_schemes_match_formula_and_normalisation(scheme):
    labels = _labels_from_counts(COUNTS)
    n = np.array(COUNTS, dtype=float)
    raw = _raw(scheme, COUNTS)
    none = compute_class_weights(labels, scheme, normalize="none")
    np.testing.assert_allclose(none, raw, rtol=1e-12)
    examples = compute_class_weights(labels, scheme)  # default: sum_c w_c n_c = N
    np.testing.assert_allclose(examples, raw * n.sum() / (raw * n).sum(), rtol=1e-12)
    assert math.isclose(float((examples * n).sum()), float(n.sum()), rel_tol=1e-12)
    classes = compute_class_weights(labels, scheme, normalize="classes")
    np.testing.assert_allclose(classes, raw * len(n) / raw.sum(), rtol=1e-12)
    # rarer class never gets a smaller weight
    assert np.all(np.diff(examples) >= 0)


def test_inverse_normalised_by_examples_equals_balanced():
    labels = _labels_from_counts(COUNTS)
    balanced = compute_class_weights(labels)
    np.testing.assert_allclose(compute_class_weights(labels, "inverse"), balanced, rtol=1e-12)


def test_effective_number_limits():
    labels = _labels_from_counts(COUNTS)
    uniform = compute_class_weights(labels, "effective_number", beta=0.0, normalize="classes")
    np.testing.assert_allclose(uniform, np.ones(len(COUNTS)))
    # beta -> 1 approaches inverse frequency; the expm1 form stays accurate where 1 - beta**n cancels
    near_one = compute_class_weights(labels, "effective_number", beta=1 - 1e-12, normalize="classes")
    inverse = compute_class_weights(labels, "inverse", normalize="classes")
    np.testing.assert_allclose(near_one, inverse, rtol=1e-6)


@pytest.mark.parametrize("beta", [1.0, -0.1, 1.5, float("nan"), "0.9"])
def test_effective_number_rejects_bad_beta(beta):
    with pytest.raises(ValueError, match="beta"):
        compute_class_weights([0, 1], "effective_number", beta=beta)


def test_unknown_scheme_and_normalize():
    with pytest.raises(ValueError, match="'inverse_log'"):
        compute_class_weights([0, 1], "inverse_log")
    with pytest.raises(ValueError, match="'sum'"):
        compute_class_weights([0, 1], normalize="sum")


# --- empty classes ------------------------------------------------------------------------------------------
def test_empty_class_is_an_error_naming_it_when_class_set_is_inferred():
    with pytest.raises(ValueError, match=r"class\(es\) 1 have no examples"):
        compute_class_weights([0, 2, 2])


def test_empty_class_gets_zero_weight_with_warning_when_num_classes_given():
    with pytest.warns(UserWarning, match=r"1 \('b'\), 3 \('d'\)"):
        w = compute_class_weights([0, 2, 2, 0, 0], label_names=["a", "b", "c", "d"])
    present = compute_class_weight("balanced", classes=np.array([0, 2]), y=[0, 2, 2, 0, 0])
    assert w[1] == 0.0 and w[3] == 0.0
    np.testing.assert_allclose(w[[0, 2]], present, rtol=1e-12)
    with pytest.warns(UserWarning):
        w = compute_class_weights([0, 0, 1], "effective_number", num_classes=3)
    assert np.all(np.isfinite(w)) and w[2] == 0.0


def test_weights_from_counts_validates_counts():
    with pytest.raises(ValueError, match="non-negative integers"):
        weights_from_counts([3, -1])
    with pytest.raises(ValueError, match="zero examples"):
        weights_from_counts([0, 0], allow_empty=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_allclose(weights_from_counts(torch.tensor([2, 6])), [2.0, 2 / 3])


# --- resolve_class_weights ---------------------------------------------------------------------------
NAMES = ["neg", "neu", "pos"]


@pytest.mark.parametrize(
    "weights",
    [
        [1.0, 2.0, 3.5],
        (1, 2, 3.5),
        np.array([1.0, 2.0, 3.5]),
        torch.tensor([1.0, 2.0, 3.5], dtype=torch.float64),
        {0: 1.0, 1: 2.0, 2: 3.5},
        {"neg": 1.0, "neu": 2, "pos": 3.5},
        {"neg": 1.0, 1: 2.0, np.int64(2): 3.5},
    ],
)
def test_resolve_accepts_sequences_tensors_and_keras_dicts(weights):
    out = resolve_class_weights(weights, 3, label_names=NAMES)
    assert isinstance(out, torch.Tensor) and out.dtype == torch.float32
    assert out.tolist() == [1.0, 2.0, 3.5]


def test_resolve_none_and_zero_entries():
    assert resolve_class_weights(None, 4) is None
    assert resolve_class_weights([0.0, 1.0], 2).tolist() == [0.0, 1.0]


@pytest.mark.parametrize(
    ("weights", "match"),
    [
        ([1.0, 2.0], r"expected 3 class weights.*\[1.0, 2.0\]"),
        ([1.0, -2.0, 1.0], r"1 \('neu'\) is negative \(-2.0\)"),
        ([1.0, float("nan"), 1.0], r"1 \('neu'\) is nan"),
        ([1.0, 1.0, float("inf")], r"2 \('pos'\) is inf"),
        ([0.0, 0.0, 0.0], "all zero"),
        ([[1.0, 1.0, 1.0]], "1-D"),
        ("balanced", "'balanced'"),
        (["a", "b", "c"], "numbers"),
        ({"neg": 1.0, "pos": 2.0}, r"missing class\(es\) 1 \('neu'\)"),
        ({"neg": 1.0, "neu": 1.0, "pos": 2.0, "other": 3.0}, "'other'"),
        ({0: 1.0, 1: 1.0, 2: 1.0, 3: 1.0}, r"\[3\]"),
        ({"neg": 1.0, 0: 2.0, 1: 1.0, 2: 1.0}, "given twice"),
        ({0: "x", 1: 1.0, 2: 1.0}, "'x'"),
    ],
)
def test_resolve_errors_name_the_bad_value(weights, match):
    with pytest.raises(ValueError, match=match):
        resolve_class_weights(weights, 3, label_names=NAMES)


def test_resolve_string_keys_need_label_names():
    with pytest.raises(ValueError, match="need label_names"):
        resolve_class_weights({"neg": 1.0, "pos": 1.0}, 2)
