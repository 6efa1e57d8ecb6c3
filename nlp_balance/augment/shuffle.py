"""Sentence-order augmentation: shuffle or swap the sentences of a text, keeping the separators.

Sentences are found offline with ``nupunkt`` (NLTK's ``sent_tokenize`` needs ``punkt_tab``, which
cannot be downloaded everywhere). Each sentence moves as a block, so nothing inside it changes;
the whitespace between sentences (spaces, line breaks) stays where it was.
"""

from __future__ import annotations

import random
from typing import Literal

from .base import Augmenter, register_augmenter

__all__ = ["SentenceShuffle", "sentence_spans"]

_MODES = ("shuffle", "swap_adjacent", "keep_first")


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """``(start, end)`` of each sentence, trailing whitespace excluded (nupunkt's default English model).

    A split before a lower-case letter is undone: it is almost always an abbreviation nupunkt missed.
    """
    import nupunkt  # imported lazily: loads its model on first use

    spans = []
    for s, e in nupunkt.sent_spans(text):
        while e > s and text[e - 1].isspace():
            e -= 1
        while s < e and text[s].isspace():
            s += 1
        if e <= s:
            continue
        if spans and text[s].islower():
            spans[-1] = (spans[-1][0], e)  # a "sentence" starting in lower case is a bad split ("G.M.T. stand")
        else:
            spans.append((s, e))
    return spans


@register_augmenter
class SentenceShuffle(Augmenter):
    """Reorder the sentences of a text; a text with a single sentence cannot be changed (``None``).

    Args:
        mode: ``"shuffle"`` (a random new order), ``"swap_adjacent"`` (swap one random pair of
            neighbours) or ``"keep_first"`` (shuffle all but the first sentence, which often
            introduces the topic; needs three sentences).
        p: probability of augmenting a given text at all.
    """

    name = "sentence_shuffle"
    version = "1"

    def __init__(
        self, mode: Literal["shuffle", "swap_adjacent", "keep_first"] = "shuffle", p: float = 1.0
    ) -> None:
        super().__init__(p=p)
        if mode not in _MODES:
            raise ValueError(f"mode must be one of {_MODES}, got {mode!r}")
        self.mode = mode

    def augment_one(self, text: str, rng: random.Random) -> str | None:
        """The text with its sentences reordered, or ``None`` when there are too few sentences."""
        spans = sentence_spans(text)
        n = len(spans)
        first = 1 if self.mode == "keep_first" else 0
        if n - first < 2:
            return None
        pieces = [text[s:e] for s, e in spans]
        order = list(range(n))
        if self.mode == "swap_adjacent":
            i = int(rng.random() * (n - 1))
            order[i], order[i + 1] = order[i + 1], order[i]
        else:
            tail = order[first:]
            for _ in range(10):  # a permutation that moves something (identical sentences may not)
                rng.shuffle(tail)
                if tail != order[first:]:
                    break
            else:
                tail = tail[1:] + tail[:1]
            order = order[:first] + tail
        out = [text[: spans[0][0]]]
        for k, (_, e) in enumerate(spans):
            out.append(pieces[order[k]])
            nxt = spans[k + 1][0] if k + 1 < n else len(text)
            out.append(text[e:nxt])
        result = "".join(out)
        return None if result == text else result
