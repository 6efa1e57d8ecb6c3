"""SentenceShuffle: sentences move as blocks, separators stay, single sentences are reported."""

from __future__ import annotations

import json
from collections import Counter

import pytest
from conftest import BENCH_DATA as DATA

from nlp_balance.augment.base import example_rng
from nlp_balance.augment.shuffle import SentenceShuffle, sentence_spans

TEXT = "Dr. Smith went to Washington, D.C. on Jan. 5th.  He saw the U.S. Capitol!\nWas it big? Yes, e.g. 3.5 domes."
SENTENCES = ["Dr. Smith went to Washington, D.C. on Jan. 5th.", "He saw the U.S. Capitol!", "Was it big?",
             "Yes, e.g. 3.5 domes."]
SEPARATORS = ["  ", "\n", " "]


def split_like(text: str) -> tuple[list[str], list[str]]:
    """Independent check: cut the output at the known separators, in their original order."""
    parts, seps, rest = [], [], text
    for sep in SEPARATORS:
        for s in SENTENCES:
            if rest.startswith(s + sep):
                parts.append(s)
                seps.append(sep)
                rest = rest[len(s) + len(sep):]
                break
        else:
            raise AssertionError(f"separator {sep!r} not where it belongs in {text!r}")
    parts.append(rest)
    return parts, seps


def test_splitter_handles_abbreviations() -> None:
    assert [TEXT[s:e] for s, e in sentence_spans(TEXT)] == SENTENCES


@pytest.mark.parametrize("mode", ["shuffle", "swap_adjacent", "keep_first"])
def test_sentences_move_as_blocks_and_separators_stay(mode: str) -> None:
    aug = SentenceShuffle(mode=mode)
    outs = set()
    for seed in range(30):
        out = aug(TEXT, seed=seed)
        parts, seps = split_like(out)
        assert sorted(parts) == sorted(SENTENCES) and seps == SEPARATORS
        assert out != TEXT
        if mode == "keep_first":
            assert parts[0] == SENTENCES[0]
        if mode == "swap_adjacent":
            moved = [i for i, (a, b) in enumerate(zip(parts, SENTENCES)) if a != b]
            assert len(moved) == 2 and moved[1] == moved[0] + 1
        outs.add(out)
    assert len(outs) > 2


def test_single_sentence_returns_none() -> None:
    aug = SentenceShuffle()
    assert aug.augment_batch(["Just one sentence here.", "", "   "], [example_rng(0, i) for i in range(3)]) == [
        None, None, None]
    assert SentenceShuffle(mode="keep_first").augment_batch(["One. Two."], [example_rng(1)]) == [None]


def test_leading_and_trailing_whitespace_kept() -> None:
    text = "\n  First one. Second one!\n"
    out = SentenceShuffle()(text, seed=0)
    assert out == "\n  Second one! First one.\n"


def test_real_multi_sentence_texts() -> None:
    with open(DATA / "davidson_hate" / "train.jsonl", encoding="utf-8") as fh:
        texts = [json.loads(line)["text"] for _, line in zip(range(300), fh)]
    aug = SentenceShuffle()
    outs = aug.augment_batch(texts, [example_rng(2, i, 0) for i in range(len(texts))])
    changed = [(t, o) for t, o in zip(texts, outs) if o is not None]
    assert len(changed) > 20
    for t, o in changed:
        assert Counter(t) == Counter(o)  # same characters, only moved
        assert len(sentence_spans(t)) >= 2


def test_bad_mode() -> None:
    with pytest.raises(ValueError, match=r"mode must be one of .* got 'random'"):
        SentenceShuffle(mode="random")  # type: ignore[arg-type]


def test_split_before_lower_case_is_undone() -> None:
    assert sentence_spans("What does G.M.T. stand for ?") == [(0, 28)]
    assert SentenceShuffle().augment_batch(["What does G.M.T. stand for ?"], [example_rng(0)]) == [None]
