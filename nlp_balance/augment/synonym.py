"""WordNet synonym replacement that keeps inflection, case and everything around the replaced words.

Candidates come from :mod:`.synonym_lookup`: a table of every surface form that has candidates,
precomputed from the WordNet table of :mod:`.synonym_table` (a word read as base + inflection, its
synonyms inflected the same way by :mod:`.inflection`, those whose inflection cannot be derived
safely skipped) and loaded once per process, so a first look-up is one dictionary read.

Speed: with the built-in protected patterns only, a text is split at spaces; a piece of letters only
is one word, and the words of other pieces (punctuation, protected spans) are memoised per process.
Only the words the random visit reaches are looked up. User patterns may span spaces, so with them
the whole text is tokenized each time; both paths give the same text for the same seed. The pieces
loop over a batch also exists compiled (``_synonym_native``, built at install when a C compiler is
there) and gives the same text as the Python loop. It analyses ASCII pieces without URL or e-mail
triggers and looks ASCII words up in the surface table itself (memoising the packed value and
cutting the chosen candidate out of it, instead of splitting every candidate at the first look-up),
calls back into this module for the other pieces and words and for case matching, and repeats
:func:`_starts_sentence` in C: a change to those rules must be made in both places
(tests/augment/test_synonym_native.py compares them). Given seeds instead of generators
(:meth:`SynonymReplacement.augment_seeded`), it draws each seed's ``random.Random`` stream without
building the object.
"""

from __future__ import annotations

import random
from bisect import bisect_right
from collections.abc import Sequence
from itertools import accumulate, compress
from operator import not_
from typing import Any

from .base import register_augmenter
from .text import match_case, split_words
from .word_augmenter import WordAugmenter, aug_count

try:  # optional compiled pieces loop (setup.py); the Python loop below gives the same output
    from . import _synonym_native as _NATIVE
except ImportError:  # pragma: no cover - depends on the install having had a C compiler
    _NATIVE = None

__all__ = ["SynonymReplacement"]


def _starts_sentence(separator: str) -> bool:
    """Whether the word after ``separator`` begins a sentence (after . ! ? : or a line break).

    Repeated as ``starts_sentence`` in ``_synonym_native.c``; keep the two in step.
    """
    tail = separator.rstrip(" \t\"'([\u201c\u2018")
    return tail[-1:] in (".", "!", "?", ":", "\n", "\u2026") or "\n" in separator


@register_augmenter
class SynonymReplacement(WordAugmenter):
    """Replace a share of the words with WordNet synonyms (EDA's "SR", nlpaug's ``SynonymAug``).

    Stopwords, protected spans and words without synonyms are skipped; a replacement keeps the
    inflection (plural, -s/-ed/-ing) and the case (lower/Title/UPPER) of the word it replaces.

    Args:
        aug_p: share of the words to replace (``ceil(aug_p * words)``, at least ``aug_min``).
        aug_min: least number of words to replace (if that many have synonyms).
        aug_max: most words to replace (``None``: no limit).
        stopwords: words never replaced (default: the English list shipped with nlp_balance).
        pos_filter: use only synonyms of the word's dominant WordNet part of speech (no tagger needed).
        keep_proper_nouns: leave capitalised words alone unless they start a sentence (they are
            mostly names: "Lord Ram", "Shy Glizzy"); all-caps words are still replaced.
        protected_words: extra words never changed (whole words, case-insensitive).
        protected_patterns: extra regular expressions whose matches are never changed.
        p: probability of augmenting a given text at all.
    """

    name = "synonym"
    version = "1"

    def __init__(
        self,
        aug_p: float = 0.1,
        aug_min: int = 1,
        aug_max: int | None = None,
        stopwords: Sequence[str] | None = None,
        pos_filter: bool = False,
        keep_proper_nouns: bool = True,
        protected_words: Sequence[str] = (),
        protected_patterns: Sequence[Any] = (),
        p: float = 1.0,
    ) -> None:
        super().__init__(p=p)
        self._setup_words(aug_p, aug_min, aug_max, stopwords, protected_words, protected_patterns)
        self.pos_filter = bool(pos_filter)
        self.keep_proper_nouns = bool(keep_proper_nouns)

    def augment_one(self, text: str, rng: random.Random) -> str | None:
        """Replace ``aug_count`` random eligible words; ``None`` if no word has a synonym."""
        if self._protector.extra:
            return self._replace(text, rng, self._candidates())
        return self._replace_by_pieces(text, rng, self._pieces(), self._candidates())

    def augment_batch(self, texts: Sequence[str], rngs: Sequence[random.Random]) -> list[str | None]:
        """Augment a batch: the compiled loop when it is built and applies, else the base-class loop
        with the per-text look-ups hoisted out. Both give the same text for the same rngs."""
        if len(texts) != len(rngs):
            raise ValueError(f"got {len(texts)} texts but {len(rngs)} random generators")
        if _NATIVE is not None and not self._protector.extra:
            return self._compiled(texts, rngs)
        memo, p = self._candidates(), self.p
        pieces = None if self._protector.extra else self._pieces()
        replace, replace_by_pieces = self._replace, self._replace_by_pieces
        out: list[str | None] = []
        for text, rng in zip(texts, rngs):
            if not rng.random() < p:  # the same single draw as Augmenter._should_apply
                out.append(None)
                continue
            if pieces is None:
                result = replace(text, rng, memo)
            else:
                result = replace_by_pieces(text, rng, pieces, memo)
            out.append(None if result is None or result == text else result)
        return out

    def augment_seeded(self, texts: Sequence[str], seeds: Sequence[int]) -> list[str | None]:
        """``augment_batch(texts, [random.Random(s) for s in seeds])`` for seeds in ``[0, 2**64)``; the
        compiled loop draws each seed's stream itself instead of building the generators."""
        if len(texts) != len(seeds):
            raise ValueError(f"got {len(texts)} texts but {len(seeds)} seeds")
        if _NATIVE is not None and not self._protector.extra:
            return self._compiled(texts, [int(s) for s in seeds])
        return self.augment_batch(texts, [random.Random(s) for s in seeds])

    def _compiled(self, texts: Sequence[str], streams: Sequence[Any]) -> list[str | None]:
        """The compiled pieces loop; ``streams`` holds a ``random.Random`` or a seed per text."""
        surface = self._lookup().surface
        assert _NATIVE is not None
        return _NATIVE.replace_batch(
            texts, streams, self.p, self.aug_p, self.aug_min, -1 if self.aug_max is None else self.aug_max,
            self.keep_proper_nouns, self._pieces(), self._candidates(), self._packed(), self._piece_words, self._fill,
            match_case,
            None if surface is None else self._stop, surface,
        )

    def _packed(self) -> dict[str, str]:
        """Per-process memo of the compiled loop: ASCII word as written -> its surface-table value
        (``"cand1|cand2|..."``, ``""`` for none), from which each visit cuts the chosen candidate."""
        return self.resource("packed", dict)

    # --- the general path: the whole text at once ---------------------------------------------------
    def _replace(self, text: str, rng: random.Random, memo: dict[str, tuple[str, ...]]) -> str | None:
        """Tokenize the whole text into word slots (needed when user patterns may span spaces)."""
        if not isinstance(text, str):
            raise TypeError(f"expected a str, got {type(text).__name__}: {text!r:.80}")
        parts = split_words(text, self._protector.spans(text))  # words are the odd slots
        chosen = self._choose(parts[1::2], rng, memo, parts[0::2] if self.keep_proper_nouns else None)
        if not chosen:
            return None
        for k, rep in chosen:
            parts[2 * k + 1] = rep
        return "".join(parts)

    def _choose(
        self,
        words: list[str],
        rng: random.Random,
        memo: dict[str, tuple[str, ...]],
        seps: list[str] | None = None,
    ) -> list[tuple[int, str]]:
        """``(word index, replacement)`` for up to ``aug_count`` words visited in random order.

        With ``seps`` (the separator before each word), capitalised words inside a sentence are skipped.
        """
        nw = len(words)
        if nw == 0:
            return []
        n = aug_count(nw, self.aug_p, self.aug_min, self.aug_max)
        if n <= 0:
            return []
        order = list(range(nw))
        chosen: list[tuple[int, str]] = []
        rand = rng.random
        for i in range(nw):  # lazy Fisher-Yates: visit words in random order, stop after n changes
            j = i + int(rand() * (nw - i))
            order[i], order[j] = order[j], order[i]
            k = order[i]
            word = words[k]
            candidates = memo.get(word)
            if candidates is None:
                candidates = self._fill(word, memo)
            if not candidates:
                continue
            if seps is not None and k and word[0].isupper() and not word.isupper() and not _starts_sentence(seps[k]):
                continue
            choice = candidates[int(rand() * len(candidates))]
            chosen.append((k, choice if word.islower() else match_case(word, choice)))
            if len(chosen) >= n:
                break
        return chosen

    # --- the fast path: pieces between spaces ---------------------------------------------------------
    def _pieces(self) -> dict[str, tuple[tuple[int, int], ...]]:
        """Per-process memo: piece of text between spaces that is not all letters -> its word spans."""
        pieces = self.resource("pieces", dict)
        if len(pieces) >= _MAX_PIECES:
            pieces.clear()
        return pieces

    def _piece_words(self, piece: str, pieces: dict[str, tuple[tuple[int, int], ...]]) -> tuple[tuple[int, int], ...]:
        """The ``(start, end)`` spans of the words of a piece that is not all letters.

        The built-in protected patterns never match a space, and their context checks treat a space
        like the start or end of the text, so the words of a piece are exactly those of the whole
        text that lie in it.
        """
        spans = []
        pos = 0
        for i, part in enumerate(split_words(piece, self._protector.spans(piece))):
            if i % 2:
                spans.append((pos, pos + len(part)))
            pos += len(part)
        found = tuple(spans)
        if len(piece) <= _MAX_PIECE_CHARS:  # long pieces rarely repeat (text without spaces, URLs)
            pieces[piece] = found
        return found

    def _replace_by_pieces(
        self,
        text: str,
        rng: random.Random,
        pieces: dict[str, tuple[tuple[int, int], ...]],
        memo: dict[str, tuple[str, ...]],
    ) -> str | None:
        """The same result as :meth:`_replace` (same words, same draws) without tokenizing the text.

        The text is split at spaces. A piece made only of letters is one word (the common case,
        checked in C); the words of any other piece come from a memo. Running word counts locate
        the ``k``-th word by bisection, so only the words the lazy shuffle visits are looked at.
        Only valid without user patterns (those may span spaces).
        """
        if not isinstance(text, str):
            raise TypeError(f"expected a str, got {type(text).__name__}: {text!r:.80}")
        toks = text.split(" ")
        counts: list[int] = list(map(str.isalpha, toks))  # type: ignore[arg-type]
        spans: dict[int, tuple[tuple[int, int], ...]] = {}
        if not all(counts):
            for t in compress(range(len(toks)), map(not_, counts)):
                found = pieces.get(toks[t])
                if found is None:
                    found = self._piece_words(toks[t], pieces)
                spans[t] = found
                counts[t] = len(found)
        cum = list(accumulate(counts, initial=0))
        nw = cum[-1]
        if nw == 0:
            return None
        n = aug_count(nw, self.aug_p, self.aug_min, self.aug_max)
        if n <= 0:
            return None
        keep = self.keep_proper_nouns
        rand = rng.random
        moved: dict[int, int] = {}
        chosen: list[tuple[int, int, int, str]] = []
        for i in range(nw):  # the lazy Fisher-Yates shuffle of _choose, over virtual word indices
            j = i + int(rand() * (nw - i))
            k = moved.get(j, j)
            moved[j] = moved.get(i, i)
            t = bisect_right(cum, k) - 1
            tok = toks[t]
            where = spans.get(t)
            if where is None:
                s, e, word = 0, len(tok), tok
            else:
                s, e = where[k - cum[t]]
                word = tok[s:e]
            candidates = memo.get(word)
            if candidates is None:
                candidates = self._fill(word, memo)
            if not candidates:
                continue
            if keep and k and word[0].isupper() and not word.isupper():
                if not self._follows_sentence_end(toks, cum, spans, t, k, s):
                    continue
            choice = candidates[int(rand() * len(candidates))]
            chosen.append((t, s, e, choice if word.islower() else match_case(word, choice)))
            if len(chosen) >= n:
                break
        if not chosen:
            return None
        if len(chosen) > 1:
            chosen.sort(reverse=True)  # right to left, so earlier offsets in a piece stay valid
        for t, s, e, choice in chosen:
            tok = toks[t]
            toks[t] = tok[:s] + choice + tok[e:]
        return " ".join(toks)

    @staticmethod
    def _follows_sentence_end(
        toks: list[str], cum: list[int], spans: dict[int, tuple[tuple[int, int], ...]], t: int, k: int, start: int
    ) -> bool:
        """Whether word ``k`` (at ``start`` in piece ``t``) follows a sentence end; it is not the first word."""
        if k > cum[t]:  # the previous word is in the same piece
            return _starts_sentence(toks[t][spans[t][k - cum[t] - 1][1] : start])
        j = t - 1
        while cum[j + 1] == cum[j]:  # pieces without words
            j -= 1
        last = toks[j]
        end = spans[j][-1][1] if j in spans else len(last)
        if start == 0 and j == t - 1 and end == len(last):
            return False  # "... word Name": one space since the last word
        return _starts_sentence(" ".join([last[end:], *toks[j + 1 : t], toks[t][:start]]))


_MAX_PIECES = 300_000  # bound on the piece memo (cleared when reached, at the start of a batch)
_MAX_PIECE_CHARS = 64  # longer pieces are analysed each time, which bounds the memo to tens of MB
