"""What the word-level augmenters share: the count rule, parameter checks, stopwords, candidates."""

from __future__ import annotations

import pytest

from nlp_balance.augment.eda import RandomDeletion, RandomInsertion, RandomSwap
from nlp_balance.augment.synonym import SynonymReplacement
from nlp_balance.augment.word_augmenter import WordAugmenter, aug_count

WORD_AUGMENTERS = [SynonymReplacement, RandomInsertion, RandomSwap, RandomDeletion]


@pytest.mark.parametrize(
    ("n_words", "aug_p", "aug_min", "aug_max", "expected"),
    [(10, 0.1, 1, None, 1), (10, 0.15, 1, None, 2), (10, 0.3, 1, None, 3), (7, 0.3, 1, None, 3),
     (10, 0.0, 3, None, 3), (10, 0.9, 1, 2, 2), (0, 0.5, 0, None, 0), (3, 1.0, 1, None, 3)],
)
def test_aug_count_is_the_clamped_ceiling(n_words: int, aug_p: float, aug_min: int, aug_max: int | None,
                                          expected: int) -> None:
    assert aug_count(n_words, aug_p, aug_min, aug_max) == expected


def test_aug_count_is_not_fooled_by_float_error() -> None:
    assert aug_count(100, 0.07, 0, None) == 7  # 0.07 * 100 is 7.000000000000001 in floating point


@pytest.mark.parametrize("cls", WORD_AUGMENTERS, ids=lambda c: c.__name__)
def test_every_word_augmenter_checks_its_counts(cls: type[WordAugmenter]) -> None:
    with pytest.raises(ValueError, match=r"aug_p must be a number in \[0, 1\], got 1.5"):
        cls(aug_p=1.5)
    with pytest.raises(ValueError, match="aug_min must be an integer >= 0, got True"):
        cls(aug_min=True)
    with pytest.raises(ValueError, match="aug_max must be None or an integer >= 1, got 0"):
        cls(aug_max=0)
    with pytest.raises(ValueError, match=r"aug_max \(1\) must not be smaller than aug_min \(2\)"):
        cls(aug_min=2, aug_max=1)


def test_stopwords_match_with_either_apostrophe_and_have_no_candidates() -> None:
    aug = SynonymReplacement(stopwords=["don't", "film"])
    assert aug._is_stopword("don't") and aug._is_stopword("don\u2019t") and not aug._is_stopword("dog")
    memo: dict[str, tuple[str, ...]] = {}
    assert aug._fill("Film", memo) == () and memo == {"Film": ()}  # a stopword, whatever its case
    assert aug._fill("dog", memo) and memo["dog"] == aug._lookup()("dog")  # other words: the lookup's candidates
