"""What the word-level augmenters share: how many words to change, stopwords, protected spans, synonyms.

:class:`WordAugmenter` is the (unregistered) base of :class:`~.synonym.SynonymReplacement` and the
EDA operations in :mod:`.eda`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from .base import Augmenter, _check_probability
from .synonym_lookup import SynonymLookup, shared_lookup
from .text import Protector, resolve_stopwords

__all__ = ["WordAugmenter", "aug_count"]


def _check_counts(aug_p: float, aug_min: int, aug_max: int | None) -> None:
    _check_probability("aug_p", aug_p)
    if not isinstance(aug_min, int) or isinstance(aug_min, bool) or aug_min < 0:
        raise ValueError(f"aug_min must be an integer >= 0, got {aug_min!r}")
    if aug_max is not None and (not isinstance(aug_max, int) or isinstance(aug_max, bool) or aug_max < 1):
        raise ValueError(f"aug_max must be None or an integer >= 1, got {aug_max!r}")
    if aug_max is not None and aug_max < aug_min:
        raise ValueError(f"aug_max ({aug_max}) must not be smaller than aug_min ({aug_min})")


def aug_count(n_words: int, aug_p: float, aug_min: int, aug_max: int | None) -> int:
    """Words to change: ``ceil(aug_p * n_words)`` clamped to ``[aug_min, aug_max]`` (nlpaug's rule)."""
    n = math.ceil(aug_p * n_words - 1e-9)
    if n < aug_min:
        n = aug_min
    if aug_max is not None and n > aug_max:
        n = aug_max
    return n


class WordAugmenter(Augmenter):
    """Shared set-up of the word-level augmenters: counts, stopwords and protected spans (not registered)."""

    def _setup_words(
        self,
        aug_p: float,
        aug_min: int,
        aug_max: int | None,
        stopwords: Sequence[str] | None,
        protected_words: Sequence[str],
        protected_patterns: Sequence[Any],
    ) -> None:
        _check_counts(aug_p, aug_min, aug_max)
        self.aug_p, self.aug_min, self.aug_max = float(aug_p), aug_min, aug_max
        self._stop = resolve_stopwords(stopwords)
        self._protector = Protector(protected_words, protected_patterns)

    def _is_stopword(self, low: str) -> bool:
        if "\u2019" in low:
            low = low.replace("\u2019", "'")
        return low in self._stop

    def _lookup(self) -> SynonymLookup:
        return self.resource("synonyms", lambda: shared_lookup(bool(getattr(self, "pos_filter", False))))

    def _candidates(self) -> dict[str, tuple[str, ...]]:
        """Per-process memo: word as written -> its candidates (``()`` for stopwords and unknown words)."""
        return self.resource("candidates", dict)

    def _fill(self, word: str, memo: dict[str, tuple[str, ...]]) -> tuple[str, ...]:
        low = word.lower()
        found = () if self._is_stopword(low) else self._lookup()(low)
        if len(memo) >= 200_000:
            memo.clear()
        memo[word] = found
        return found
