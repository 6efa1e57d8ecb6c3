"""Splitting long texts into sentence chunks under a token limit (a word-counting tokenizer stands in)."""

from __future__ import annotations

from typing import Any

import pytest

from nlp_balance.augment.backtranslate_chunks import chunk_texts

SENTENCES = ["The cat sat on the mat.", "Dr. Smith called me at home!", "What is the capital of France?"]
LONG = " ".join(SENTENCES)  # 18 words; each sentence is 6 words, 7 "tokens" with EOS


def words_tokenizer(pieces: list[str], add_special_tokens: bool = False) -> dict[str, Any]:
    """One token per whitespace-separated word (the chunker adds one for EOS)."""
    assert add_special_tokens is False
    return {"input_ids": [[0] * len(p.split()) for p in pieces]}


def n_tokens(text: str) -> int:
    return len(text.split()) + 1


def test_short_and_empty_texts() -> None:
    assert chunk_texts(["  short one ", "   ", ""], words_tokenizer, 7) == [["short one"], [], []]
    assert chunk_texts([LONG], words_tokenizer, 19) == [[LONG]]  # 18 words + EOS: exactly at the limit
    assert chunk_texts([], words_tokenizer, 7) == []


@pytest.mark.parametrize(
    ("limit", "expected"),
    [(7, SENTENCES), (12, SENTENCES), (13, [" ".join(SENTENCES[:2]), SENTENCES[2]]), (18, [" ".join(SENTENCES[:2]),
     SENTENCES[2]])],
)
def test_long_text_splits_at_sentences_and_packs_them_greedily(limit: int, expected: list[str]) -> None:
    """"Dr." is not a sentence end; two sentences share a chunk when 7 + 7 - 1 tokens fit."""
    (chunks,) = chunk_texts([LONG], words_tokenizer, limit)
    assert chunks == expected
    assert " ".join(chunks) == LONG and all(n_tokens(c) <= limit for c in chunks)


def test_an_over_long_sentence_is_cut_between_words() -> None:
    sentence = " ".join(f"w{i}" for i in range(20))
    (chunks,) = chunk_texts([sentence], words_tokenizer, 6)
    assert chunks == ["w0 w1 w2 w3 w4", "w5 w6 w7 w8 w9", "w10 w11 w12 w13 w14", "w15 w16 w17 w18 w19"]


def test_every_chunk_fits_and_nothing_is_lost() -> None:
    text = " ".join([*SENTENCES, " ".join(["cat"] * 40) + ".", "Short one.", *SENTENCES])
    for limit in (4, 7, 9, 15, 40):
        (chunks,) = chunk_texts([text], words_tokenizer, limit)
        assert " ".join(chunks) == text
        assert all(n_tokens(c) <= limit for c in chunks), (limit, chunks)
