"""Easy Data Augmentation (Wei & Zou, 2019): random insertion, swap, deletion, and the EDA recipe.

Unlike the reference implementation, these operations never lower-case the text or strip its
punctuation: words move, appear and disappear inside the original string, and protected spans
(URLs, @mentions, numbers, ...) never move or disappear.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

from .base import register_augmenter
from .synonym import SynonymReplacement
from .text import splice, tokenize
from .word_augmenter import WordAugmenter, aug_count

__all__ = ["EDA", "RandomDeletion", "RandomInsertion", "RandomSwap"]

_HSPACE = " \t\u00a0"


@register_augmenter
class RandomInsertion(WordAugmenter):
    """Insert synonyms of random words at random places (EDA's "RI").

    Each insertion takes a random non-stopword that has a WordNet synonym and puts one of its
    synonyms, preceded by a space, right after a random word or protected span.

    Args:
        aug_p: share of the words to insert (``ceil(aug_p * words)``, at least ``aug_min``).
        aug_min: least number of insertions. aug_max: most insertions (``None``: no limit).
        stopwords: words whose synonyms are not inserted (default: the shipped English list).
        protected_words, protected_patterns: extra spans never changed (see :class:`~.text.Protector`).
        p: probability of augmenting a given text at all.
    """

    name = "random_insertion"
    version = "1"

    def __init__(
        self,
        aug_p: float = 0.1,
        aug_min: int = 1,
        aug_max: int | None = None,
        stopwords: Sequence[str] | None = None,
        protected_words: Sequence[str] = (),
        protected_patterns: Sequence[Any] = (),
        p: float = 1.0,
    ) -> None:
        super().__init__(p=p)
        self._setup_words(aug_p, aug_min, aug_max, stopwords, protected_words, protected_patterns)

    def augment_one(self, text: str, rng: random.Random) -> str | None:
        """Insert ``aug_count`` synonyms; ``None`` if no word has a synonym."""
        toks = tokenize(text, self._protector)
        words = toks.words
        if not words:
            return None
        n = aug_count(len(words), self.aug_p, self.aug_min, self.aug_max)
        if n <= 0:
            return None
        memo = self._candidates()
        sources = []
        for s, e in words:
            word = text[s:e]
            cands = memo.get(word)
            if cands is None:
                cands = self._fill(word, memo)
            if cands:
                sources.append((word, cands))
        if not sources:
            return None
        ends = sorted([e for _, e in words] + [e for _, e in toks.protected])
        edits = []
        rand = rng.random
        for _ in range(n):
            word, cands = sources[int(rand() * len(sources))]
            syn = cands[int(rand() * len(cands))]
            if len(word) > 1 and word.isupper():
                syn = syn.upper()
            pos = ends[int(rand() * len(ends))]
            edits.append((pos, pos, " " + syn))
        return splice(text, edits)


@register_augmenter
class RandomSwap(WordAugmenter):
    """Swap the places of two random words, ``n`` times (EDA's "RS").

    Words keep their own spelling and case; the separators between them stay where they were.

    Args:
        aug_p: share of the words to swap (``ceil(aug_p * words)`` swaps, at least ``aug_min``).
        aug_min: least number of swaps. aug_max: most swaps (``None``: no limit).
        protected_words, protected_patterns: extra spans never moved.
        p: probability of augmenting a given text at all.
    """

    name = "random_swap"
    version = "1"

    def __init__(
        self,
        aug_p: float = 0.1,
        aug_min: int = 1,
        aug_max: int | None = None,
        protected_words: Sequence[str] = (),
        protected_patterns: Sequence[Any] = (),
        p: float = 1.0,
    ) -> None:
        super().__init__(p=p)
        self._setup_words(aug_p, aug_min, aug_max, (), protected_words, protected_patterns)

    def augment_one(self, text: str, rng: random.Random) -> str | None:
        """Swap word pairs; ``None`` for fewer than two words or when every swap is a no-op."""
        words = tokenize(text, self._protector).words
        nw = len(words)
        if nw < 2:
            return None
        n = aug_count(nw, self.aug_p, self.aug_min, self.aug_max)
        content = [text[s:e] for s, e in words]
        rand = rng.random
        for _ in range(n):
            i = int(rand() * nw)
            j = int(rand() * (nw - 1))
            if j >= i:
                j += 1
            content[i], content[j] = content[j], content[i]
        edits = [(s, e, c) for (s, e), c in zip(words, content) if text[s:e] != c]
        return splice(text, edits) if edits else None


def _deletion_edits(text: str, spans: list[tuple[int, int]]) -> list[tuple[int, int, str]]:
    """Edits removing word ``spans`` (sorted) and one side of the spaces around each, never line breaks."""
    runs: list[list[int]] = []
    for s, e in spans:
        if runs and all(c in _HSPACE for c in text[runs[-1][1] : s]):
            runs[-1][1] = e  # consecutive deleted words separated by spaces only: one run
        else:
            runs.append([s, e])
    edits = []
    n = len(text)
    for s, e in runs:
        before_ok = s == 0 or text[s - 1].isspace()
        if e < n and text[e] in _HSPACE and before_ok:
            while e < n and text[e] in _HSPACE:
                e += 1
        elif s > 0 and text[s - 1] in _HSPACE and (e == n or not text[e].isspace()):
            while s > 0 and text[s - 1] in _HSPACE:
                s -= 1
        edits.append((s, e, ""))
    return edits


@register_augmenter
class RandomDeletion(WordAugmenter):
    """Delete random words, never all of them (EDA's "RD"; here a count, like nlpaug's ``aug_p``).

    A deleted word takes the spaces on one side with it, so no double spaces are left; line breaks
    and punctuation stay.

    Args:
        aug_p: share of the words to delete (``ceil(aug_p * words)``, at least ``aug_min``, never all).
        aug_min: least number of deletions. aug_max: most deletions (``None``: no limit).
        protected_words, protected_patterns: extra spans never deleted.
        p: probability of augmenting a given text at all.
    """

    name = "random_deletion"
    version = "1"

    def __init__(
        self,
        aug_p: float = 0.1,
        aug_min: int = 1,
        aug_max: int | None = None,
        protected_words: Sequence[str] = (),
        protected_patterns: Sequence[Any] = (),
        p: float = 1.0,
    ) -> None:
        super().__init__(p=p)
        self._setup_words(aug_p, aug_min, aug_max, (), protected_words, protected_patterns)

    def augment_one(self, text: str, rng: random.Random) -> str | None:
        """Delete words; ``None`` when the text has fewer than two words."""
        words = tokenize(text, self._protector).words
        nw = len(words)
        if nw < 2:
            return None
        n = min(aug_count(nw, self.aug_p, self.aug_min, self.aug_max), nw - 1)
        if n <= 0:
            return None
        chosen = sorted(rng.sample(range(nw), n))
        return splice(text, _deletion_edits(text, [words[i] for i in chosen]))


@register_augmenter
class EDA(WordAugmenter):
    """The EDA recipe: each output applies ONE randomly chosen operation (SR, RI, RS or RD).

    If the chosen operation cannot change the text (no synonyms, one word), the others are tried in
    random order; ``None`` only when none can. ``num_aug`` is the number of augmented copies per
    training example the recipe asks for; :meth:`recommended` gives the paper's values.

    Args:
        alpha_sr, alpha_ri, alpha_rs: share of words replaced / inserted / swapped (0 disables it).
        p_rd: share of words deleted (0 disables random deletion).
        num_aug: augmented copies per example (``None``: let the caller, e.g. the Balancer, decide).
        stopwords, pos_filter, protected_words, protected_patterns: as for :class:`SynonymReplacement`.
        p: probability of augmenting a given text at all.
    """

    name = "eda"
    version = "1"

    def __init__(
        self,
        alpha_sr: float = 0.1,
        alpha_ri: float = 0.1,
        alpha_rs: float = 0.1,
        p_rd: float = 0.1,
        num_aug: int | None = None,
        stopwords: Sequence[str] | None = None,
        pos_filter: bool = False,
        protected_words: Sequence[str] = (),
        protected_patterns: Sequence[Any] = (),
        p: float = 1.0,
    ) -> None:
        super().__init__(p=p)
        if num_aug is not None and (not isinstance(num_aug, int) or isinstance(num_aug, bool) or num_aug < 1):
            raise ValueError(f"num_aug must be None or an integer >= 1, got {num_aug!r}")
        self.num_aug = num_aug
        rates = {"alpha_sr": alpha_sr, "alpha_ri": alpha_ri, "alpha_rs": alpha_rs, "p_rd": p_rd}
        for label, value in rates.items():
            if not isinstance(value, (int, float)) or isinstance(value, bool) or not 0 <= value <= 1:
                raise ValueError(f"{label} must be a number in [0, 1], got {value!r}")
        common = {"protected_words": protected_words, "protected_patterns": protected_patterns}
        ops: list[WordAugmenter] = []
        if alpha_sr:
            sr = SynonymReplacement(aug_p=alpha_sr, stopwords=stopwords, pos_filter=pos_filter, **common)
            ops.append(sr)
        if alpha_ri:
            ops.append(RandomInsertion(aug_p=alpha_ri, stopwords=stopwords, **common))
        if alpha_rs:
            ops.append(RandomSwap(aug_p=alpha_rs, **common))
        if p_rd:
            ops.append(RandomDeletion(aug_p=p_rd, **common))
        if not ops:
            raise ValueError("EDA needs one of alpha_sr, alpha_ri, alpha_rs, p_rd above 0; all are 0")
        self.operations: tuple[WordAugmenter, ...] = tuple(ops)

    @classmethod
    def recommended(cls, n_train: int) -> dict[str, Any]:
        """The paper's parameters for a training set of ``n_train`` examples (Wei & Zou 2019, Table 3).

        Up to 500 examples: 16 copies, alpha 0.05; up to 2,000: 8 copies, alpha 0.05; up to 5,000:
        4 copies, alpha 0.1; more: 4 copies, alpha 0.1. Use as ``EDA(**EDA.recommended(n))``.
        """
        if not isinstance(n_train, int) or isinstance(n_train, bool) or n_train < 1:
            raise ValueError(f"n_train must be a positive integer, got {n_train!r}")
        if n_train <= 500:
            num_aug, alpha = 16, 0.05
        elif n_train <= 2000:
            num_aug, alpha = 8, 0.05
        else:
            num_aug, alpha = 4, 0.1
        return {"alpha_sr": alpha, "alpha_ri": alpha, "alpha_rs": alpha, "p_rd": alpha, "num_aug": num_aug}

    def augment_one(self, text: str, rng: random.Random) -> str | None:
        """Apply one randomly chosen operation (falling back to the others if it cannot change ``text``)."""
        ops = list(self.operations)
        rng.shuffle(ops)
        for op in ops:
            out = op.augment_one(text, rng)
            if out is not None and out != text:
                return out
        return None
