"""Character noise: keyboard typos, swapped, inserted and deleted letters inside words.

Only letters of (unprotected) words are touched: separators, punctuation, line breaks and
protected spans (URLs, e-mail addresses, @mentions, #hashtags, numbers, user patterns) are kept
verbatim, and a word never loses its last letter.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

from .base import Augmenter, _check_probability, register_augmenter
from .text import Protector, splice, tokenize

__all__ = ["QWERTY_NEIGHBOURS", "CharNoise"]

_OPS = ("keyboard", "swap", "insert", "delete")


def _qwerty_neighbours() -> dict[str, str]:
    rows = ("qwertyuiop", "asdfghjkl", "zxcvbnm")
    table: dict[str, str] = {}
    for r, row in enumerate(rows):
        for i, key in enumerate(row):
            near = [row[j] for j in (i - 1, i + 1) if 0 <= j < len(row)]
            if r > 0:  # the row above is shifted half a key to the left
                near += [rows[r - 1][j] for j in (i, i + 1) if j < len(rows[r - 1])]
            if r + 1 < len(rows):
                near += [rows[r + 1][j] for j in (i - 1, i) if 0 <= j < len(rows[r + 1])]
            table[key] = "".join(sorted(set(near)))
    return table


#: Lower-case letter -> the letters on neighbouring keys of a QWERTY keyboard.
QWERTY_NEIGHBOURS: dict[str, str] = _qwerty_neighbours()


def _near(c: str, rand: Any) -> str | None:
    keys = QWERTY_NEIGHBOURS.get(c.lower())
    if not keys:
        return None
    k = keys[int(rand() * len(keys))]
    return k.upper() if c.isupper() else k


@register_augmenter
class CharNoise(Augmenter):
    """Typos at a character rate: neighbour-key substitutions, adjacent swaps, insertions, deletions.

    Args:
        char_p: probability that a given letter is hit by one of ``ops``.
        ops: the kinds of typo to draw from (uniformly): ``"keyboard"`` (replace by a neighbouring
            QWERTY key), ``"swap"`` (swap with the next letter; at a word's end, with the one before),
            ``"insert"`` (add a neighbouring key after it), ``"delete"`` (drop it; never a word's
            last letter).
        char_min: at least this many letters are hit (if the text has that many), so that a short
            text still changes.
        protected_words, protected_patterns: extra spans never changed (see :class:`~.text.Protector`).
        p: probability of augmenting a given text at all.
    """

    name = "char_noise"
    version = "1"

    def __init__(
        self,
        char_p: float = 0.05,
        ops: Sequence[str] = _OPS,
        char_min: int = 1,
        protected_words: Sequence[str] = (),
        protected_patterns: Sequence[Any] = (),
        p: float = 1.0,
    ) -> None:
        super().__init__(p=p)
        self.char_p = _check_probability("char_p", char_p)
        if isinstance(ops, str):
            raise TypeError(f"ops must be a list of operation names, not the string {ops!r}")
        ops = tuple(ops)
        bad = [o for o in ops if o not in _OPS]
        if bad or not ops:
            raise ValueError(f"ops must be a non-empty subset of {_OPS}, got {list(ops)!r}")
        self.ops = ops
        if not isinstance(char_min, int) or isinstance(char_min, bool) or char_min < 0:
            raise ValueError(f"char_min must be an integer >= 0, got {char_min!r}")
        self.char_min = char_min
        self._protector = Protector(protected_words, protected_patterns)

    def augment_one(self, text: str, rng: random.Random) -> str | None:
        """The text with typos in its words; ``None`` if it has no letters outside protected spans."""
        words = tokenize(text, self._protector).words
        positions = [(w, k) for w, (s, e) in enumerate(words) for k in range(e - s) if text[s + k].isalpha()]
        if not positions:
            return None
        rand = rng.random
        selected = {pos for pos in positions if rand() < self.char_p}
        if len(selected) < self.char_min:
            rest = [pos for pos in positions if pos not in selected]
            selected.update(rng.sample(rest, min(len(rest), self.char_min - len(selected))))
        by_word: dict[int, list[tuple[int, str]]] = {}
        for w, k in sorted(selected):
            by_word.setdefault(w, []).append((k, self.ops[int(rand() * len(self.ops))]))
        edits = []
        for w, hits in by_word.items():
            s, e = words[w]
            new = self._noise_word(text[s:e], dict(hits), rand)
            if new != text[s:e]:
                edits.append((s, e, new))
        return splice(text, edits) if edits else None

    @staticmethod
    def _noise_word(word: str, hits: dict[int, str], rand: Any) -> str:
        chars = list(word)
        for k in [k for k, op in hits.items() if op == "swap"]:
            # a swap at a word's last letter swaps it with the letter before
            if (k + 1 >= len(chars) or not chars[k + 1].isalpha()) and k > 0 and chars[k - 1].isalpha():
                if k - 1 not in hits:
                    del hits[k]
                    hits[k - 1] = "swap"
        out: list[str] = []
        letters_left = sum(c.isalpha() for c in chars)
        k = 0
        while k < len(chars):
            c = chars[k]
            op = hits.get(k)
            if op == "swap" and k + 1 < len(chars) and chars[k + 1].isalpha() and chars[k + 1] != c:
                out += [chars[k + 1], c]
                k += 2
                continue
            if op == "delete" and letters_left > 1:
                letters_left -= 1
                k += 1
                continue
            if op == "insert":
                extra = _near(c, rand)
                out += [c, extra] if extra else [c]
            elif op in ("keyboard", "swap", "delete"):  # a swap or delete that cannot apply becomes a typo
                out.append(_near(c, rand) or c)
            else:
                out.append(c)
            k += 1
        return "".join(out)
