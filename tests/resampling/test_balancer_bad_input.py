"""Balancer and the random samplers on data they cannot balance: a clear error, or the target reached."""

from __future__ import annotations

import datasets
import numpy as np
import pytest
from nasty_strings import valid_nasty_texts

from nlp_balance import Balancer, RandomOverSampler, RandomUnderSampler, load_text_dataset
from nlp_balance.augment import CharNoise, Compose, RandomSwap
from nlp_balance.data.validation import DataValidationError


def _ds(texts, labels) -> datasets.Dataset:
    return datasets.Dataset.from_dict({"text": texts, "label": labels})


def _encoded(texts, labels):
    return load_text_dataset(_ds(texts, labels), split="train")


def test_class_with_one_example_reaches_its_target():
    ds = _encoded(["a b c", "d e f", "g h i", "only one here"], ["big", "big", "big", "tiny"])
    for aug in (None, RandomSwap()):
        out = Balancer(aug, seed=1).fit_resample(ds)
        assert out["label"].count(1) == 3 and out["label"].count(0) == 3
        assert set(np.asarray(out["source_index"])[np.asarray(out["label"]) == 1]) == {3}


@pytest.mark.parametrize("sampler", [Balancer(), RandomOverSampler(), RandomUnderSampler()],
                         ids=["Balancer", "RandomOverSampler", "RandomUnderSampler"])
def test_one_class_is_a_clear_error(sampler):
    ds = _encoded(["a", "b"], ["x", "x"])
    with pytest.raises(ValueError, match=r"at least 2 classes.*found 1"):
        sampler.fit_resample(ds)


def test_empty_dataset_is_a_clear_error():
    feat = datasets.Features({"text": datasets.Value("string"), "label": datasets.ClassLabel(names=["x", "y"])})
    empty = datasets.Dataset.from_dict({"text": [], "label": []}, features=feat)
    with pytest.raises(ValueError, match=r"empty dataset"):
        Balancer().fit_resample(empty)
    for sampler in (RandomOverSampler(), RandomUnderSampler()):
        with pytest.raises(ValueError, match=r"found 0"):
            sampler.fit_resample(empty)


def test_balancer_needs_class_labels_and_plain_columns():
    with pytest.raises(DataValidationError, match=r"not a ClassLabel"):
        Balancer().fit_resample(_ds(["a", "b"], ["x", "y"]))
    with pytest.raises(TypeError, match=r"map-style Dataset"):
        Balancer().fit_resample(_ds(["a", "b"], [0, 1]).to_iterable_dataset())


def test_nasty_texts_pass_through_the_balancer_intact():
    texts = valid_nasty_texts()
    labels = ["big"] * (len(texts) - 2) + ["small"] * 2
    ds = _encoded(texts, labels)
    out = Balancer(Compose([RandomSwap(), CharNoise()]), seed=0).fit_resample(ds)
    assert out.select(range(len(ds)))["text"] == texts  # originals untouched
    assert all(isinstance(t, str) and t.strip() for t in out["text"])
    assert out["label"].count(1) == out["label"].count(0)
