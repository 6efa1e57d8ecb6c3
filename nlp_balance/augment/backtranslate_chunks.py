"""Split texts too long for a translation model into sentence chunks that fit, to translate and rejoin.

A text within ``limit`` tokens (of the first model's tokenizer, plus one for EOS) stays one chunk.
A longer one is split into sentences with ``nupunkt``; a sentence still over the limit is cut
between words; then consecutive pieces are packed greedily into chunks under the limit.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

__all__ = ["chunk_texts"]


def chunk_texts(texts: Sequence[str], tokenizer: Any, limit: int) -> list[list[str]]:
    """Each text (stripped) as one chunk, or, when longer than ``limit`` tokens, as sentence chunks.

    An empty text gives no chunks.
    """

    def count(pieces: list[str]) -> list[int]:
        return [len(ids) + 1 for ids in tokenizer(pieces, add_special_tokens=False)["input_ids"]]

    stripped = [t.strip() for t in texts]
    out: list[list[str]] = []
    for text, n in zip(stripped, count(stripped) if stripped else []):
        if n <= limit:
            out.append([text] if text else [])
            continue
        import nupunkt

        sentences = [s.strip() for s in nupunkt.sent_tokenize(text) if s.strip()]
        pieces: list[str] = []
        for sentence, size in zip(sentences, count(sentences)):
            if size <= limit:
                pieces.append(sentence)
            else:
                pieces.extend(_cut_between_words(sentence, limit, count))
        out.append(_pack(pieces, limit, count))
    return out


def _cut_between_words(sentence: str, limit: int, count: Callable[[list[str]], list[int]]) -> list[str]:
    """An over-long sentence as runs of whole words, each within ``limit`` tokens where a word allows."""
    pieces: list[str] = []
    words = sentence.split()
    window: list[str] = []
    used = 0
    for word, wsize in zip(words, count(words)):
        if window and used + wsize - 1 > limit:
            pieces.append(" ".join(window))
            window, used = [], 1
        window.append(word)
        used += wsize - 1 if used else wsize
    if window:
        pieces.append(" ".join(window))
    return pieces


def _pack(pieces: list[str], limit: int, count: Callable[[list[str]], list[int]]) -> list[str]:
    """Consecutive pieces joined by spaces into as few chunks under ``limit`` tokens as greedy packing gives."""
    chunks: list[str] = []
    current: list[str] = []
    used = 0
    for piece, size in zip(pieces, count(pieces)):
        if current and used + size - 1 > limit:
            chunks.append(" ".join(current))
            current, used = [], 0
        current.append(piece)
        used += size if not used else size - 1
    if current:
        chunks.append(" ".join(current))
    return chunks
