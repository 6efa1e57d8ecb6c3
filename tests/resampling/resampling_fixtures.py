"""Small inputs for the resampling tests: test augmenters with known behaviour and a tiny labelled split."""

from __future__ import annotations

import random
from collections.abc import Sequence

import datasets

from nlp_balance.augment import Augmenter


class WordShuffle(Augmenter):
    """Shuffles the words; cannot change one-word texts."""

    name = "test_word_shuffle"

    def __init__(self, *, p: float = 1.0) -> None:
        super().__init__(p=p)

    def augment_one(self, text: str, rng: random.Random) -> str | None:
        words = text.split()
        if len(words) < 2:
            return None
        rng.shuffle(words)
        return " ".join(words)


class Constant(Augmenter):
    """Always writes the same text: every output after the first is a duplicate."""

    name = "test_constant"

    def __init__(self, *, p: float = 1.0) -> None:
        super().__init__(p=p)

    def augment_one(self, text: str, rng: random.Random) -> str | None:
        return "the same output every time"


class Numbered(Augmenter):
    """Appends a random number from the example's stream; refuses texts that start with "stuck"."""

    name = "test_numbered"

    def __init__(self, *, p: float = 1.0) -> None:
        super().__init__(p=p)

    def augment_one(self, text: str, rng: random.Random) -> str | None:
        if text.startswith("stuck"):
            return None
        return f"{text} {rng.randrange(10**9)}"


def split(texts: Sequence[str], labels: Sequence[int], names: Sequence[str] = ("big", "small")) -> datasets.Dataset:
    """A map-style split with a ``ClassLabel`` column named ``label``."""
    features = datasets.Features({"text": datasets.Value("string"), "label": datasets.ClassLabel(names=list(names))})
    return datasets.Dataset.from_dict({"text": list(texts), "label": list(labels)}, features=features)
