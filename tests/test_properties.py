"""Property-based tests (hypothesis) for every augmenter and the Balancer.

Augmenters: any string in gives a string (or None = "could not change") out, protected spans (URLs,
@mentions, user-protected words) come out verbatim, and the same seed gives the same output.
Balancer: labels are preserved (each new row has its source row's label), class counts are exactly
the resolved targets, the same seed gives the same bytes, and originals come first, unchanged.
(tests/test_augment_text.py covers token-level text safety of the word augmenters; this file covers
every augmenter, the containers and the Balancer.)
"""

from __future__ import annotations

import functools
import operator
from collections import Counter

import datasets
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nlp_balance import Balancer, resolve_sampling_strategy
from nlp_balance.augment import (
    EDA,
    CharNoise,
    Compose,
    OneOf,
    RandomDeletion,
    RandomInsertion,
    RandomSwap,
    SentenceShuffle,
    SomeOf,
    SynonymReplacement,
    example_rng,
)

AUGMENTERS = {
    "synonym": lambda: SynonymReplacement(aug_p=0.5),
    "random_insertion": lambda: RandomInsertion(),
    "random_swap": lambda: RandomSwap(aug_p=0.5),
    "random_deletion": lambda: RandomDeletion(aug_p=0.3),
    "eda": lambda: EDA(),
    "sentence_shuffle": lambda: SentenceShuffle(),
    "char_noise": lambda: CharNoise(char_p=0.2),
    "compose": lambda: Compose([RandomSwap(aug_p=0.5), CharNoise(char_p=0.1)]),
    "one_of": lambda: OneOf([RandomDeletion(aug_p=0.3), SynonymReplacement()]),
    "some_of": lambda: SomeOf(2, [RandomSwap(), CharNoise(), RandomInsertion()]),
}

PROTECTED = ["https://example.com/a?b=1", "@someone", "#hashtag"]

_settings = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture(scope="module", params=sorted(AUGMENTERS))
def aug(request):
    return AUGMENTERS[request.param]()


@_settings
@given(text=st.text(max_size=120), seed=st.integers(0, 2**32))
def test_any_string_in_a_string_or_none_out_and_seeded(aug, text, seed):
    (out,) = aug.augment_batch([text], [example_rng(seed, 0, 0)])
    assert out is None or isinstance(out, str)
    assert out != text  # "unchanged" is always reported as None
    (again,) = aug.augment_batch([text], [example_rng(seed, 0, 0)])
    assert again == out
    assert aug(text, seed=seed) == (text if out is None else out)


words = st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=2, max_size=8)


@_settings
@given(before=st.lists(words, min_size=1, max_size=6), after=st.lists(words, min_size=1, max_size=6),
       span=st.sampled_from(PROTECTED), seed=st.integers(0, 2**32))
def test_protected_spans_survive(aug, before, after, span, seed):
    text = " ".join(before) + " " + span + " " + " ".join(after) + "."
    (out,) = aug.augment_batch([text], [example_rng(seed, 0, 0)])
    if out is None:
        return
    if aug.name in ("random_deletion", "eda", "one_of") and span not in out:
        # deletion may drop a whole protected unit, but never a part of it: no fragment survives alone
        assert span[:5] not in out and span[-5:] not in out, (aug.name, text, out)
    else:
        assert span in out, (aug.name, text, out)


@_settings
@given(words_list=st.lists(words, min_size=2, max_size=10), protected=words, seed=st.integers(0, 2**32))
def test_user_protected_words_survive_word_augmenters(words_list, protected, seed):
    text = " ".join([*words_list[:1], protected, *words_list[1:]])
    for make in (lambda: SynonymReplacement(aug_p=1.0, protected_words=[protected]),
                 lambda: RandomSwap(aug_p=1.0, protected_words=[protected])):
        aug = make()
        (out,) = aug.augment_batch([text], [example_rng(seed, 0, 0)])
        if out is not None:
            assert protected in out.split()


# ---------------------------------------------------------------------------------------------------
# the Balancer
# ---------------------------------------------------------------------------------------------------
@st.composite
def labelled_data(draw):
    n_classes = draw(st.integers(2, 4))
    counts = draw(st.lists(st.integers(1, 12), min_size=n_classes, max_size=n_classes))
    texts, labels = [], []
    for c, n in enumerate(counts):
        for i in range(n):
            n_words = draw(st.integers(1, 5))
            texts.append(" ".join(draw(st.lists(words, min_size=n_words, max_size=n_words))) + f" c{c}r{i}")
            labels.append(c)
    order = draw(st.permutations(range(len(texts))))
    feats = datasets.Features({"text": datasets.Value("string"),
                               "label": datasets.ClassLabel(names=[f"k{c}" for c in range(n_classes)])})
    return datasets.Dataset.from_dict({"text": [texts[i] for i in order], "label": [labels[i] for i in order]},
                                      features=feats)


strategies = st.sampled_from(["auto", "minority", "not majority", "all"])
augmenter_names = st.sampled_from([None, "random_swap", "char_noise", "compose"])


def _make(name):
    return None if name is None else AUGMENTERS[name]()


@settings(max_examples=25, deadline=None)
@given(ds=labelled_data(), strategy=strategies, aug_name=augmenter_names, seed=st.integers(0, 1000),
       plan=st.sampled_from(["global", "per_source"]))
def test_balancer_counts_labels_and_seed(ds, strategy, aug_name, seed, plan):
    y = np.asarray(ds["label"])
    targets = resolve_sampling_strategy(y, strategy, "over-sampling")  # the reference rule (imblearn's)
    balancer = Balancer(_make(aug_name), strategy, seed=seed, plan=plan, on_shortfall="duplicate")
    out = balancer.fit_resample(ds)
    assert dict(Counter(out["label"])) == targets
    # originals first and untouched; every new row keeps its source's label
    assert out.select(range(len(ds)))["text"] == ds["text"]
    src = np.asarray(out["source_index"])
    assert np.array_equal(y[src], np.asarray(out["label"]))
    assert all(isinstance(t, str) and t.strip() for t in out["text"])
    # synthetic rows are new texts (never an original, never repeated under the global plan)
    synthetic = [t for t, a in zip(out["text"], out["augmentation"]) if a not in ("original", "duplicate")]
    assert not set(synthetic) & set(ds["text"])
    if plan == "global":
        assert len(synthetic) == len(set(synthetic))
    again = Balancer(_make(aug_name), strategy, seed=seed, plan=plan).fit_resample(ds)
    assert again["text"] == out["text"] and again["source_index"] == out["source_index"]


@settings(max_examples=15, deadline=None)
@given(ds=labelled_data(), n=st.integers(1, 5), aug_name=augmenter_names, seed=st.integers(0, 1000))
def test_shards_always_add_up(ds, n, aug_name, seed):
    full = Balancer(_make(aug_name), "all", seed=seed, plan="per_source").fit_resample(ds)
    parts = [Balancer(_make(aug_name), "all", seed=seed, plan="per_source", shard=(i, n)).fit_resample(ds)
             for i in range(n)]

    def rows(d):
        return sorted(zip(d["text"], d["label"], d["source_index"], d["augmentation"]))

    assert sorted(functools.reduce(operator.iadd, (rows(p) for p in parts), [])) == rows(full)
