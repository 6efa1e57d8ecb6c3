"""Every augmenter on every nasty string (blank, huge, RTL, emoji, control characters, HTML, a lone
surrogate): a string or None, never an exception, seeded; and out-of-range parameters are named."""

from __future__ import annotations

import pytest
from nasty_strings import NASTY

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
    "synonym": lambda: SynonymReplacement(),
    "random_insertion": lambda: RandomInsertion(),
    "random_swap": lambda: RandomSwap(),
    "random_deletion": lambda: RandomDeletion(),
    "eda": lambda: EDA(),
    "sentence_shuffle": lambda: SentenceShuffle(),
    "char_noise": lambda: CharNoise(),
    "compose": lambda: Compose([RandomSwap(), CharNoise()]),
    "one_of": lambda: OneOf([RandomDeletion(), CharNoise()]),
    "some_of": lambda: SomeOf(2, [RandomSwap(), CharNoise(), RandomInsertion()]),
}


@pytest.fixture(scope="module", params=sorted(AUGMENTERS))
def augmenter(request):
    return AUGMENTERS[request.param]()


def test_every_augmenter_survives_every_nasty_string(augmenter):
    texts = list(NASTY.values())
    rngs = [example_rng(0, i, 0) for i in range(len(texts))]
    out = augmenter.augment_batch(texts, rngs)
    assert len(out) == len(texts)
    for name, result in zip(NASTY, out):
        assert result is None or isinstance(result, str), name
        if name == "html" and result is not None:
            assert "http://x.y/z?a=1&b=2" in result  # URLs are protected spans
    again = augmenter.augment_batch(texts, [example_rng(0, i, 0) for i in range(len(texts))])
    assert again == out  # seeded: nasty input does not make output depend on anything else


def test_augmenters_leave_right_to_left_and_emoji_characters_whole(augmenter):
    """Word-level operations never split a grapheme's code points apart or drop RTL marks in kept words."""
    if augmenter.name in ("char_noise", "compose", "one_of", "some_of"):
        pytest.skip("character noise edits characters by design")
    for seed in range(5):
        (result,) = augmenter.augment_batch([NASTY["emoji"]], [example_rng(seed, 0, 0)])
        if result is not None:
            for piece in ("👨\u200d👩\u200d👧", "👍🏽"):
                assert piece in result or piece[0] not in result


def test_wrong_constructor_arguments_name_the_value():
    with pytest.raises(ValueError, match=r"must be a number in \[0, 1\], got 2"):
        RandomSwap(aug_p=2)
    with pytest.raises(ValueError, match=r"p must be a number in \[0, 1\], got -0.1"):
        CharNoise(p=-0.1)
