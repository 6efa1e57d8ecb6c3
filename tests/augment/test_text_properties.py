"""Property-based tests (hypothesis) for every augmenter and container.

Any string in gives a string (or None = "could not change") out, protected spans (URLs, @mentions,
user-protected words) come out verbatim, and the same seed gives the same output.
(tests/augment/test_text.py covers token-level text safety of the word augmenters; this file covers
every augmenter and the containers.)
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

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
