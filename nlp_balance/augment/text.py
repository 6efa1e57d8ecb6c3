"""Text-safe editing: tokens with character offsets, protected spans, case matching and splicing.

Augmenters never rebuild a text from a list of tokens (that loses spacing, line breaks and
punctuation). Instead :func:`tokenize` finds the *units* of a text -- words and protected spans --
as ``(start, end)`` offsets into the original string, and an augmenter describes its change as a
list of edits ``(start, end, replacement)`` that :func:`splice` applies to the original. Everything
outside the edited ranges is therefore kept byte for byte.

Protected spans (URLs, e-mail addresses, @mentions, #hashtags, numbers, and words or regular
expressions named by the user) are found first, by regex over the whole text; words are only looked
for in the gaps between them, so a protected span is never split, changed, moved or deleted.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from functools import lru_cache
from importlib import resources
from typing import NamedTuple

__all__ = [
    "DEFAULT_PROTECTED_PATTERNS",
    "Protector",
    "Tokens",
    "default_stopwords",
    "match_case",
    "resolve_stopwords",
    "splice",
    "split_words",
    "tokenize",
]

#: Built-in protected patterns; the protected spans are the union of their matches (overlaps merged).
DEFAULT_PROTECTED_PATTERNS: tuple[tuple[str, str], ...] = (
    # scheme or www. URL; trailing sentence punctuation is left outside the span
    # (the look-behinds make each pattern start only at the beginning of a run: linear time)
    ("url", r"(?<![A-Za-z0-9+.-])(?:[A-Za-z][A-Za-z0-9+.-]*+://|www\.)[^\s<>\"'`]+?(?=[.,;:!?)\]}'\"`]*(?:\s|$|[<>\"]))"),
    ("email", r"(?<![\w.+-])[\w.+-]++@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+"),
    ("mention", r"@\w+"),
    ("hashtag", r"#\w+"),
    # any run of word characters that contains a digit, with the separators of numbers inside
    # (possessive quantifiers: the same matches as the plain ones, without backtracking)
    ("number", r"(?<!\w)[^\W\d]*+\d(?:[.,:/-]?\w)*+"),
)

_PATTERNS = dict(DEFAULT_PROTECTED_PATTERNS)
# Each built-in pattern only runs when its trigger is in the text (a C-speed check): scanning every
# text with all of them would cost more than the augmentation itself. Patterns that begin with a
# look-behind make the regex engine try every position, so the hot ones are found from their
# literal character instead ("@", "#", a digit); the results equal those of the patterns above.
_URL_RE = re.compile(_PATTERNS["url"])
_EMAIL_RE = re.compile(_PATTERNS["email"])
_MENTION_RE = re.compile(_PATTERNS["mention"])
_HASH_RE = re.compile(_PATTERNS["hashtag"])
_NUMBER_RE = re.compile(_PATTERNS["number"])
_DIGITS_RE = re.compile(r"\d+")
_WORD_CHAR_RE = re.compile(r"\w")
_NUMBER_TAIL_RE = re.compile(r"\w*+(?:[.,:/-]?\w)*+")
_TRIGGER_RE = re.compile(r"[:@#\d]")  # cheap pre-check: no built-in pattern matches without one (or "www.")


def _number_spans(text: str) -> list[tuple[int, int]]:
    """The matches of the ``number`` pattern, found from the digits: the run of word characters
    around a digit, extended over ``[.,:/-]``-joined word characters (``"3.5"``, ``"10:30"``)."""
    out: list[tuple[int, int]] = []
    end = 0
    is_word = _WORD_CHAR_RE.match
    tail = _NUMBER_TAIL_RE.match
    for m in _DIGITS_RE.finditer(text):
        pos = m.start()
        if pos < end:
            continue
        start = pos
        while start > end and is_word(text, start - 1) is not None:
            start -= 1
        end = tail(text, pos).end()  # type: ignore[union-attr]
        out.append((start, end))
    return out


def _may_hold_email(text: str) -> bool:
    """Whether some "@" follows a character an address can end its local part with (``[\\w.+-]``)."""
    i = text.find("@", 1)
    while i != -1:
        c = text[i - 1]
        if c.isalnum() or c in "_.+-":  # a str pattern's \w is isalnum() plus "_"
            return True
        i = text.find("@", i + 1)
    return False


def _builtin_spans(text: str) -> list[tuple[int, int]]:
    """Spans of the built-in patterns (unsorted, may overlap)."""
    found: list[tuple[int, int]] = []
    if "://" in text or "www." in text:
        found.extend(m.span() for m in _URL_RE.finditer(text))
    if "@" in text:
        found.extend(m.span() for m in _MENTION_RE.finditer(text))
        if _may_hold_email(text):
            found.extend(m.span() for m in _EMAIL_RE.finditer(text))
    if "#" in text:
        found.extend(m.span() for m in _HASH_RE.finditer(text))
    found.extend(_number_spans(text))
    return found


# A word: letters, optionally joined by an apostrophe or a hyphen ("don't", "well-known").
_WORD_RE = re.compile(r"[^\W\d_]+(?:['\u2019-][^\W\d_]+)*")
# The same, as capturing splitters (the ASCII one is faster and equivalent on ASCII text).
_SPLIT_RE = re.compile(r"([^\W\d_]+(?:['\u2019-][^\W\d_]+)*)")
_SPLIT_ASCII_RE = re.compile(r"([A-Za-z]+(?:['-][A-Za-z]+)*)")


class Tokens(NamedTuple):
    """The units of a text: ``words`` and ``protected`` spans as sorted ``(start, end)`` offsets."""

    text: str
    words: list[tuple[int, int]]
    protected: list[tuple[int, int]]

    def word(self, i: int) -> str:
        """The text of word ``i``."""
        s, e = self.words[i]
        return self.text[s:e]


class Protector:
    """Finds protected spans: the built-in patterns plus user words and regular expressions.

    Args:
        protected_words: words never changed, matched as whole words, case-insensitively.
        protected_patterns: regular expressions (strings or compiled) whose matches are never changed.
        builtin: also protect URLs, e-mail addresses, @mentions, #hashtags and numbers.
    """

    def __init__(
        self,
        protected_words: Iterable[str] = (),
        protected_patterns: Iterable[str | re.Pattern[str]] = (),
        builtin: bool = True,
    ) -> None:
        if isinstance(protected_words, str):
            raise TypeError(f"protected_words must be a list of words, not the string {protected_words!r}")
        if isinstance(protected_patterns, (str, re.Pattern)):
            raise TypeError(f"protected_patterns must be a list of patterns, got {protected_patterns!r}")
        words = sorted({w for w in protected_words if w}, key=len, reverse=True)
        for w in words:
            if not isinstance(w, str):
                raise TypeError(f"protected_words must be strings, got {w!r}")
        patterns: list[re.Pattern[str]] = []
        for pat in protected_patterns:
            if isinstance(pat, re.Pattern):
                patterns.append(pat)
            elif isinstance(pat, str):
                try:
                    patterns.append(re.compile(pat))
                except re.error as exc:
                    raise ValueError(f"protected pattern {pat!r} is not a valid regex: {exc}") from exc
            else:
                raise TypeError(f"protected_patterns must be strings or compiled regexes, got {pat!r}")
        if words:
            alt = "|".join(re.escape(w) for w in words)
            patterns.insert(0, re.compile(rf"(?<!\w)(?:{alt})(?!\w)", re.IGNORECASE))
        self.builtin = builtin
        self.extra: tuple[re.Pattern[str], ...] = tuple(patterns)

    def spans(self, text: str) -> list[tuple[int, int]]:
        """Sorted, non-overlapping protected ``(start, end)`` spans of ``text`` (overlaps merged)."""
        found: list[tuple[int, int]] = []
        if self.builtin and (_TRIGGER_RE.search(text) is not None or "www." in text):
            found = _builtin_spans(text)
        for pat in self.extra:
            found.extend(m.span() for m in pat.finditer(text) if m.end() > m.start())
        if not found:
            return found
        if len(found) > 1:
            found.sort()
        merged = [found[0]]
        for s, e in found[1:]:
            ls, le = merged[-1]
            if s < le:
                if e > le:
                    merged[-1] = (ls, e)
            else:
                merged.append((s, e))
        return merged


_DEFAULT_PROTECTOR = Protector()


def tokenize(
    text: str, protector: Protector | None = None, protected: list[tuple[int, int]] | None = None
) -> Tokens:
    """Split ``text`` into words and protected spans, as character offsets into ``text``.

    Separators (spaces, punctuation, line breaks) are the gaps between units and are never
    returned: they are meant to be left alone. ``protected`` passes spans already found by
    ``protector.spans(text)``.
    """
    if not isinstance(text, str):
        raise TypeError(f"expected a str, got {type(text).__name__}: {text!r:.80}")
    if protected is None:
        protected = (protector or _DEFAULT_PROTECTOR).spans(text)
    if not protected:
        return Tokens(text, [m.span() for m in _WORD_RE.finditer(text)], protected)
    words: list[tuple[int, int]] = []
    pos = 0
    finditer = _WORD_RE.finditer
    for s, e in protected:
        if s > pos:
            words.extend(m.span() for m in finditer(text, pos, s))
        pos = e
    if pos < len(text):
        words.extend(m.span() for m in finditer(text, pos))
    return Tokens(text, words, protected)


def split_words(text: str, protected: Sequence[tuple[int, int]] = ()) -> list[str]:
    """Words of ``text`` as the odd slots of ``[sep, word, sep, ..., sep]``; ``"".join`` gives ``text`` back.

    A faster equivalent of :func:`tokenize` for augmenters that only replace words in place:
    replacing a word is assigning to its slot. ``protected`` are the spans from
    :meth:`Protector.spans`; they are folded into the separators, so they are never slots.
    """
    splitter = _SPLIT_ASCII_RE if text.isascii() else _SPLIT_RE
    if not protected:
        return splitter.split(text)
    parts = [""]
    pos = 0
    for s, e in protected:
        gap = splitter.split(text[pos:s])
        parts[-1] += gap[0]
        parts.extend(gap[1:])
        parts[-1] += text[s:e]
        pos = e
    gap = splitter.split(text[pos:])
    parts[-1] += gap[0]
    parts.extend(gap[1:])
    return parts


def match_case(template: str, word: str) -> str:
    """Give ``word`` the case pattern of ``template``: lower, Title or UPPER (mixed case: unchanged).

    A synonym that WordNet spells with capitals (a proper noun) keeps them when the template is
    lower case. A one-letter upper-case template ("I", "A") counts as Title case.
    """
    if not word or not template:
        return word
    if len(template) > 1 and template.isupper():
        return word.upper()
    if template[0].isupper() and template[1:] == template[1:].lower():
        return word[0].upper() + word[1:]
    return word


def splice(text: str, edits: Iterable[tuple[int, int, str]]) -> str:
    """Apply ``(start, end, replacement)`` edits to ``text``; text outside them is kept verbatim.

    Edits must not overlap (an insertion is an edit with ``start == end``); several insertions at
    the same offset are applied in the order given.
    """
    ordered = sorted(edits, key=lambda e: (e[0], e[1]))
    out: list[str] = []
    pos = 0
    for s, e, rep in ordered:
        if s < pos or e < s or e > len(text):
            raise ValueError(f"overlapping or out-of-range edit {(s, e, rep)!r} (text of {len(text)} chars)")
        out.append(text[pos:s])
        out.append(rep)
        pos = e
    out.append(text[pos:])
    return "".join(out)


@lru_cache(maxsize=1)
def default_stopwords() -> frozenset[str]:
    """Our own English stopword list (``resources/stopwords_en.txt``), lower case."""
    raw = resources.files("nlp_balance.augment").joinpath("resources/stopwords_en.txt").read_text("utf-8")
    words = set()
    for line in raw.splitlines():
        line = line.split("#", 1)[0].strip().lower()
        if line:
            words.add(line)
    return frozenset(words)


def resolve_stopwords(stopwords: Sequence[str] | None) -> frozenset[str]:
    """``None`` -> the default English list; otherwise the given words (lower-cased); ``()`` -> none."""
    if stopwords is None:
        return default_stopwords()
    if isinstance(stopwords, str):
        raise TypeError(f"stopwords must be a list of words, not the string {stopwords!r}")
    return frozenset(w.lower() for w in stopwords)
