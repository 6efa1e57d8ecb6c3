"""WordNet synonym replacement that keeps inflection, case and everything around the replaced words.

Synonyms come from the precomputed table of :mod:`nlp_balance.augment.wordnet` (no WordNet query per
call). A word is looked up as is, or through WordNet's exception lists and suffix rules ("films" ->
"film" + plural); a synonym is then inflected the same way ("movie" -> "movies"), and synonyms whose
inflection cannot be derived safely (irregular verbs with two past forms) are skipped.

Speed: with the built-in protected patterns only, a text is split at spaces and each piece is
analysed once per process (its words, protected spans and synonyms), so augmenting a text costs one
split, one dictionary look-up per piece and a few draws. User patterns may span spaces, so with
them the whole text is tokenized each time; both paths give the same text for the same seed.
"""

from __future__ import annotations

import math
import random
from bisect import bisect_right
from collections.abc import Callable, Sequence
from itertools import accumulate
from typing import Any

from .base import Augmenter, _check_probability, register_augmenter
from .text import Protector, match_case, resolve_stopwords, split_words
from .wordnet import SynonymTable, load_synonym_table

__all__ = ["SynonymLookup", "SynonymReplacement", "inflect", "word_analyses"]

_VOWELS = frozenset("aeiou")
# Verbs whose past tense is spelled like the base form; WordNet's verb.exc does not list them.
_INVARIANT_PAST = frozenset(
    "bet bid broadcast burst cast cost cut fit forecast hit hurt let put quit read rid set shed shut "
    "slit split spread thrust upset wet".split()
)
_NOUN_RULES = (("ses", "s"), ("xes", "x"), ("zes", "z"), ("ches", "ch"), ("shes", "sh"), ("men", "man"),
               ("ies", "y"), ("s", ""))
_VERB_RULES = (("ies", "y", "3sg"), ("es", "e", "3sg"), ("es", "", "3sg"), ("s", "", "3sg"),
               ("ed", "e", "ed"), ("ed", "", "ed"), ("ing", "e", "ing"), ("ing", "", "ing"))
_THIRD_PERSON = {"be": "is", "have": "has", "do": "does", "go": "goes"}


def word_analyses(word: str, pos: str, table: SynonymTable) -> list[tuple[str, str | None]]:
    """``(base, inflection)`` readings of a lower-case ``word`` as ``pos`` (``n`` or ``v``).

    Inflections: ``None`` (the word is a lemma), ``"pl"`` (plural noun), ``"3sg"``, ``"ed"``, ``"ing"``.
    Only bases that have synonyms in ``table`` are returned.
    """
    known = table.synonyms[pos]
    if word in known:
        return [(word, None)]
    out: list[tuple[str, str | None]] = []
    for base in table.exceptions.get(pos, {}).get(word, ()):
        if base in known:
            if pos == "n":
                out.append((base, "pl"))
            elif word.endswith("ing"):
                out.append((base, "ing"))
            elif _THIRD_PERSON.get(base) == word:
                out.append((base, "3sg"))
            else:
                out.append((base, "ed"))
    if out:
        return out
    if pos == "n":
        for suffix, repl in _NOUN_RULES:
            if word.endswith(suffix) and len(word) > len(suffix) + 1:
                base = word[: -len(suffix)] + repl
                if base in known and not word.endswith("ss"):
                    out.append((base, "pl"))
                    break
    elif pos == "v":
        seen: set[str] = set()
        for suffix, repl, infl in _VERB_RULES:
            if word.endswith(suffix) and len(word) > len(suffix) + 1:
                base = word[: -len(suffix)] + repl
                if base in known and base not in seen and not word.endswith("ss"):
                    seen.add(base)
                    out.append((base, infl))
    return out


def _regular_s(word: str) -> str:
    if word.endswith(("s", "x", "z", "ch", "sh")):
        return word + "es"
    if len(word) > 1 and word.endswith("y") and word[-2] not in _VOWELS:
        return word[:-1] + "ies"
    return word + "s"


def _verb_form(head: str, infl: str, table: SynonymTable) -> str | None:
    forms = table.irregular.get("v", {}).get(head, ())
    if infl == "3sg":
        return _THIRD_PERSON.get(head) or _regular_s(head)
    if infl == "ing":
        for f in forms:
            if f.endswith("ing"):
                return f
        if head.endswith("ie"):
            return head[:-2] + "ying"
        if head.endswith("e") and not head.endswith(("ee", "oe", "ye")) and len(head) > 2:
            return head[:-1] + "ing"
        return head + "ing"
    # past tense / participle: must be unambiguous
    past = sorted({f for f in forms if not f.endswith("ing") and f != _THIRD_PERSON.get(head)})
    if head in _THIRD_PERSON:
        return None
    if len(past) == 1 and not past[0].endswith("en"):
        return past[0]  # "made", "said"; a lone "-en" form ("molten") is a participle, the past is unknown
    if past:
        return None  # "saw"/"seen": which one the text needs is unknown, so skip this synonym
    if head in _INVARIANT_PAST:
        return head
    if head.endswith("e"):
        return head + "d"
    if len(head) > 1 and head.endswith("y") and head[-2] not in _VOWELS:
        return head[:-1] + "ied"
    return head + "ed"


def inflect(synonym: str, pos: str, inflection: str | None, table: SynonymTable) -> str | None:
    """Inflect a synonym (possibly multi-word) like the word it replaces; ``None`` if that is unsafe.

    Nouns inflect their last word ("motion picture" -> "motion pictures"), verbs their first
    ("take off" -> "took off").
    """
    if inflection is None:
        return synonym
    words = synonym.split(" ")
    if pos == "n":
        last = words[-1]
        irregular = table.irregular.get("n", {}).get(last)
        words[-1] = irregular[0] if irregular else _regular_s(last)
        return " ".join(words)
    if pos == "v":
        form = _verb_form(words[0], inflection, table)
        if form is None:
            return None
        words[0] = form
        return " ".join(words)
    return None


def _starts_sentence(separator: str) -> bool:
    """Whether the word after ``separator`` begins a sentence (after . ! ? : or a line break)."""
    tail = separator.rstrip(" \t\"'([\u201c\u2018")
    return tail[-1:] in (".", "!", "?", ":", "\n", "\u2026") or "\n" in separator


class SynonymLookup:
    """Memoised word -> candidate replacements (already inflected), for one table and POS setting."""

    _MAX_MEMO = 500_000

    def __init__(self, table: SynonymTable, pos_filter: bool = False) -> None:
        self.table = table
        self.pos_filter = pos_filter
        self._memo: dict[str, tuple[str, ...]] = {}

    def __call__(self, word: str) -> tuple[str, ...]:
        """Candidates for a lower-case ``word`` (empty when it has none)."""
        found = self._memo.get(word)
        if found is None:
            if len(self._memo) >= self._MAX_MEMO:
                self._memo.clear()
            found = self._memo[word] = self._compute(word)
        return found

    def _compute(self, word: str) -> tuple[str, ...]:
        table = self.table
        readings: list[tuple[str, str, str | None]] = []
        for pos in "nvar":
            if word in table.synonyms[pos]:
                readings.append((pos, word, None))
            elif pos in "nv":
                readings.extend((pos, base, infl) for base, infl in word_analyses(word, pos, table))
        if self.pos_filter:
            readings = [r for r in readings if table.dominant.get(r[1], r[0]) == r[0]]
        out: list[str] = []
        seen = {word}
        for pos, base, infl in readings:
            for syn in table.synonyms[pos][base]:
                form = inflect(syn, pos, infl, table)
                if form is not None and form not in seen:
                    seen.add(form)
                    out.append(form)
        return tuple(out)


_LOOKUPS: dict[tuple[int, bool], SynonymLookup] = {}


def _shared_lookup(pos_filter: bool) -> SynonymLookup:
    table = load_synonym_table()
    key = (id(table), pos_filter)
    if key not in _LOOKUPS:
        _LOOKUPS[key] = SynonymLookup(table, pos_filter)
    return _LOOKUPS[key]


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
        return self.resource("synonyms", lambda: _shared_lookup(bool(getattr(self, "pos_filter", False))))

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

    def augment_batch(self, texts: Sequence[str], rngs: Sequence[random.Random]) -> list[str | None]:
        """Augment a batch; resources are fetched once per batch (see :meth:`Augmenter.augment_batch`)."""
        if len(texts) != len(rngs):
            raise ValueError(f"got {len(texts)} texts but {len(rngs)} random generators")
        out: list[str | None] = []
        for text, rng in zip(texts, rngs):
            if not self._should_apply(rng):
                out.append(None)
                continue
            result = self.augment_one(text, rng)
            out.append(None if result is None or result == text else result)
        return out


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
    version = "2"  # 2: words drawn among those with synonyms (same distribution, other draws than 1)

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
        """Augment a batch; without user patterns, the pieces of all texts are looked up in one pass."""
        if len(texts) != len(rngs):
            raise ValueError(f"got {len(texts)} texts but {len(rngs)} random generators")
        memo, p = self._candidates(), self.p
        if not self._protector.extra and all(type(t) is str for t in texts):
            return self._augment_batch_by_pieces(texts, rngs, self._pieces(), memo)
        out: list[str | None] = []
        for text, rng in zip(texts, rngs):
            if not rng.random() < p:  # the same single draw as Augmenter._should_apply
                out.append(None)
                continue
            result = self.augment_one(text, rng)
            out.append(None if result is None or result == text else result)
        return out

    def _draw(
        self,
        n_words: int,
        n_cands: int,
        rng: random.Random,
        visit: Callable[[int], tuple[Any, str] | None],
    ) -> list[tuple[Any, str]]:
        """Visit the words that have synonyms in random order until ``aug_count`` of them are replaced.

        ``visit(v)`` looks at the ``v``-th such word in text order and returns ``(key, replacement)``,
        or ``None`` to skip it (a name inside a sentence). A lazy Fisher-Yates shuffle over
        ``range(n_cands)`` visits each word at most once, so the replaced words are a uniformly random
        subset of the eligible ones; both paths below share this loop and therefore the random stream.
        """
        n = aug_count(n_words, self.aug_p, self.aug_min, self.aug_max)
        if n <= 0:
            return []
        rand = rng.random
        moved: dict[int, int] = {}
        picks: list[tuple[Any, str]] = []
        for i in range(n_cands):
            j = i + int(rand() * (n_cands - i))
            v = moved.get(j, j)
            if j != i:
                moved[j] = moved.get(i, i)
            pick = visit(v)
            if pick is not None:
                picks.append(pick)
                if len(picks) >= n:
                    break
        return picks

    # --- the general path: the whole text at once ---------------------------------------------------
    def _replace(self, text: str, rng: random.Random, memo: dict[str, tuple[str, ...]]) -> str | None:
        """Split the whole text into word slots (needed when user patterns may span spaces)."""
        if not isinstance(text, str):
            raise TypeError(f"expected a str, got {type(text).__name__}: {text!r:.80}")
        parts = split_words(text, self._protector.spans(text))  # words are the odd slots
        words = parts[1::2]
        with_synonyms: list[tuple[int, tuple[str, ...], str]] = []
        for k, word in enumerate(words):
            cands = memo.get(word)
            if cands is None:
                cands = self._fill(word, memo)
            if cands:
                with_synonyms.append((k, cands, word))
        keep = self.keep_proper_nouns

        def visit(v: int) -> tuple[Any, str] | None:
            k, cands, word = with_synonyms[v]
            if keep and k and word[0].isupper() and not word.isupper() and not _starts_sentence(parts[2 * k]):
                return None
            choice = cands[int(rng.random() * len(cands))]
            return k, choice if word.islower() else match_case(word, choice)

        picks = self._draw(len(words), len(with_synonyms), rng, visit)
        if not picks:
            return None
        for k, choice in picks:
            parts[2 * k + 1] = choice
        return "".join(parts)

    # --- the fast path: space-separated pieces, each analysed once per process ---------------------
    def _pieces(self) -> _PieceMemo:
        """Per-process memo of the analysed pieces of text between spaces (see :meth:`_analyse_piece`)."""
        pieces = self.resource("pieces", _PieceMemo)
        if len(pieces.codes) >= _PieceMemo.MAX_PIECES:
            pieces.clear()
        return pieces

    def _analyse_piece(self, piece: str, pieces: _PieceMemo, memo: dict[str, tuple[str, ...]]) -> int:
        """Analyse a piece of text without spaces into ``pieces``; return its code.

        The built-in protected patterns never match a space, and their context checks treat a space
        like the start or end of the text, so the words and protected spans of a piece are exactly
        those of the whole text restricted to it.
        """
        if piece.isalpha():  # the common case: one word, nothing to protect
            spans = [(0, len(piece))]
        else:
            spans = []
            pos = 0
            for i, part in enumerate(split_words(piece, self._protector.spans(piece))):
                if i % 2:
                    spans.append((pos, pos + len(part)))
                pos += len(part)
        entries = []
        prev = -1
        for s, e in spans:
            word = piece[s:e]
            cands = memo.get(word)
            if cands is None:
                cands = self._fill(word, memo)
            if cands:
                title = word[0].isupper() and not word.isupper()
                entries.append((s, e, cands, word, title, prev))
            prev = e
        code = (len(entries) << _SHIFT) | len(spans)
        pieces.codes[piece] = code
        if entries:
            pieces.entries[piece] = tuple(entries)
        if spans:
            pieces.last_end[piece] = prev
        return code

    def _piece_sums(self, toks: list[str], pieces: _PieceMemo, memo: dict[str, tuple[str, ...]]) -> list[int]:
        """Running sums of the pieces' codes: ``cum[t]`` packs the words with synonyms (high bits) and
        all words (low bits) before piece ``t``. One C-level pass when every piece is known."""
        codes = pieces.codes
        vals = list(map(codes.get, toks))
        if None in vals:
            i = vals.index(None)
            while True:
                code = codes.get(toks[i])  # the same piece may have been analysed a moment ago
                vals[i] = self._analyse_piece(toks[i], pieces, memo) if code is None else code
                try:
                    i = vals.index(None, i + 1)
                except ValueError:
                    break
        return list(accumulate(vals, initial=0))  # type: ignore[arg-type]

    def _replace_by_pieces(
        self, text: str, rng: random.Random, pieces: _PieceMemo, memo: dict[str, tuple[str, ...]]
    ) -> str | None:
        """The same result as :meth:`_replace` (same words, same draws) from memoised space-separated pieces.

        Only valid without user patterns (those may span spaces).
        """
        if not isinstance(text, str):
            raise TypeError(f"expected a str, got {type(text).__name__}: {text!r:.80}")
        if len(text) > _MAX_CHUNK_CHARS:
            return self._replace(text, rng, memo)
        toks = text.split(" ")
        return self._edit_pieces(toks, self._piece_sums(toks, pieces, memo), 0, len(toks), rng, pieces)

    def _augment_batch_by_pieces(
        self,
        texts: Sequence[str],
        rngs: Sequence[random.Random],
        pieces: _PieceMemo,
        memo: dict[str, tuple[str, ...]],
    ) -> list[str | None]:
        """:meth:`_replace_by_pieces` for a batch: one split and one look-up pass per chunk of texts.

        A chunk is joined with a lone ``"\x00"`` piece between its texts; text ``i`` is the next
        ``text.count(" ") + 1`` pieces, so a ``"\x00"`` inside a text cannot confuse the bounds.
        Chunks stay under ``_MAX_CHUNK_CHARS``, which keeps the packed sums small integers; a longer
        text goes through :meth:`_replace` alone.
        """
        p, edit, sums = self.p, self._edit_pieces, self._piece_sums
        out: list[str | None] = []
        n_texts = len(texts)
        start = 0
        while start < n_texts:
            stop, size = start, -3
            while stop < n_texts and size + len(texts[stop]) + 3 <= _MAX_CHUNK_CHARS:
                size += len(texts[stop]) + 3
                stop += 1
            if stop == start:  # one text longer than a chunk
                text, rng = texts[start], rngs[start]
                result = self._replace(text, rng, memo) if rng.random() < p else None
                out.append(None if result is None or result == text else result)
                start += 1
                continue
            chunk = texts[start:stop]
            toks = " \x00 ".join(chunk).split(" ")
            cum = sums(toks, pieces, memo)
            lo = 0
            for text, rng in zip(chunk, rngs[start:stop]):
                hi = lo + text.count(" ") + 1
                if rng.random() < p:  # the same single draw as Augmenter._should_apply
                    result = edit(toks, cum, lo, hi, rng, pieces)
                    out.append(None if result is None or result == text else result)
                else:
                    out.append(None)
                lo = hi + 1
            start = stop
        return out

    def _edit_pieces(
        self, toks: list[str], cum: list[int], lo: int, hi: int, rng: random.Random, pieces: _PieceMemo
    ) -> str | None:
        """Replace words in the text made of ``toks[lo:hi]``; ``None`` when none can be replaced.

        The loop of :meth:`_draw` and :func:`aug_count`, inlined because this is the hot path; a
        bisection over ``cum`` finds the piece of the ``v``-th word with synonyms.
        ``tests/test_augment_synonym.py`` checks that this path and :meth:`_replace` give the same
        text for the same random stream.
        """
        base = cum[lo]
        total = cum[hi] - base
        n_cands = total >> _SHIFT
        if not n_cands:
            return None
        n = math.ceil(self.aug_p * (total & _LOW) - 1e-9)
        if n < self.aug_min:
            n = self.aug_min
        if self.aug_max is not None and n > self.aug_max:
            n = self.aug_max
        if n <= 0:
            return None
        entries = pieces.entries
        rand = rng.random
        moved: dict[int, int] = {}
        picks: list[tuple[int, int, int, str]] = []
        for i in range(n_cands):
            j = i + int(rand() * (n_cands - i))
            if i:
                v = moved.get(j, j)
                if j != i:
                    moved[j] = moved.get(i, i)
            else:
                v = j
                if j:
                    moved[j] = 0
            t = bisect_right(cum, base + (v << _SHIFT | _LOW), lo, hi) - 1
            before = cum[t] - base
            s, e, cands, word, title, prev = entries[toks[t]][v - (before >> _SHIFT)]
            if title and self.keep_proper_nouns and (prev >= 0 or before & _LOW):
                if not self._starts_sentence(toks, cum, pieces, t, s, prev):
                    continue
            choice = cands[int(rand() * len(cands))]
            picks.append((t, s, e, choice if word.islower() else match_case(word, choice)))
            if len(picks) >= n:
                break
        if not picks:
            return None
        seg = toks[lo:hi]
        if len(picks) > 1:
            picks.sort(reverse=True)  # right to left, so earlier offsets in a piece stay valid
        for t, s, e, choice in picks:
            tok = seg[t - lo]
            seg[t - lo] = choice if s == 0 and e == len(tok) else tok[:s] + choice + tok[e:]
        return " ".join(seg)

    @staticmethod
    def _starts_sentence(toks: list[str], cum: list[int], pieces: _PieceMemo, t: int, start: int, prev: int) -> bool:
        """Whether the word at ``start`` of piece ``t`` follows a sentence end (the separator since the last word)."""
        if prev >= 0:
            return _starts_sentence(toks[t][prev:start])
        j = t - 1
        while not (cum[j + 1] - cum[j]) & _LOW:  # a piece without words; some earlier piece has one
            j -= 1
        last = toks[j]
        end = pieces.last_end[last]
        if start == 0 and j == t - 1 and end == len(last):
            return False  # "... word Name": one space since the last word
        return _starts_sentence(" ".join([last[end:], *toks[j + 1 : t], toks[t][:start]]))


# Packed piece codes: words with synonyms << _SHIFT | words. A chunk of at most _MAX_CHUNK_CHARS
# characters holds fewer than 2**14 words, so neither field overflows and every running sum stays a
# one-digit Python int (below 2**30): the arithmetic on them is then cheapest.
_SHIFT = 15
_LOW = (1 << _SHIFT) - 1
_MAX_CHUNK_CHARS = (1 << _SHIFT) - 1


class _PieceMemo:
    """Analysed pieces of text between spaces: their code (words with synonyms << 32 | words), the
    words with synonyms ``(start, end, candidates, word, title case, end of the previous word or -1)``
    and the end of their last word."""

    MAX_PIECES = 300_000

    def __init__(self) -> None:
        self.codes: dict[str, int] = {}
        self.entries: dict[str, tuple[tuple[Any, ...], ...]] = {}
        self.last_end: dict[str, int] = {}

    def clear(self) -> None:
        """Forget everything (bounded memory on endless streams of new pieces)."""
        self.codes.clear()
        self.entries.clear()
        self.last_end.clear()
