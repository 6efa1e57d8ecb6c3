"""CharNoise: typo kinds, character rate, protected spans and separators untouched."""

from __future__ import annotations

import re

import pytest

from nlp_balance.augment.base import example_rng
from nlp_balance.augment.noise import QWERTY_NEIGHBOURS, CharNoise

TEXT = "The quick brown fox jumps over the lazy dog near https://ex.com/path and @someone 1,000 times!\n"


def test_qwerty_neighbours_are_symmetric_and_adjacent() -> None:
    rows = ["qwertyuiop", "asdfghjkl", "zxcvbnm"]
    assert set(QWERTY_NEIGHBOURS) == set("".join(rows))
    for key, near in QWERTY_NEIGHBOURS.items():
        assert key not in near
        for other in near:
            assert key in QWERTY_NEIGHBOURS[other]  # adjacency is symmetric
    assert set(QWERTY_NEIGHBOURS["g"]) == set("fhtyvb") and set(QWERTY_NEIGHBOURS["a"]) == set("qwsz")


def test_keyboard_typos_replace_by_neighbours_only() -> None:
    aug = CharNoise(char_p=0.3, ops=("keyboard",))
    for seed in range(30):
        out = aug("Typing quickly", seed=seed)
        assert len(out) == len("Typing quickly")
        for a, b in zip("Typing quickly", out):
            if a != b:
                assert b.lower() in QWERTY_NEIGHBOURS[a.lower()] and a.isupper() == b.isupper()


@pytest.mark.parametrize("op", ["swap", "insert", "delete"])
def test_each_operation_changes_length_as_expected(op: str) -> None:
    aug = CharNoise(char_p=0.0, char_min=1, ops=(op,))
    text = "abcdefgh"
    for seed in range(20):
        out = aug(text, seed=seed)
        if op == "swap":
            assert sorted(out) == sorted(text) and sum(a != b for a, b in zip(out, text)) == 2
        elif op == "insert":
            assert len(out) == len(text) + 1
        else:
            assert len(out) == len(text) - 1 and all(c in text for c in out)


def test_character_rate_is_close_to_char_p() -> None:
    """Keyboard typos change exactly the hit letters: the share of changed letters ~ char_p."""
    aug = CharNoise(char_p=0.1, ops=("keyboard",), char_min=0)
    text = " ".join(["lorem ipsum dolor sit amet consectetur adipiscing elit"] * 10)
    letters = sum(c.isalpha() for c in text)
    changed = total = 0
    for seed in range(40):
        out = aug(text, seed=seed)
        changed += sum(a != b for a, b in zip(text, out))
        total += letters
    rate = changed / total
    sigma = (0.1 * 0.9 / total) ** 0.5
    assert abs(rate - 0.1) < 4 * sigma, rate


def test_protected_spans_and_separators_untouched() -> None:
    aug = CharNoise(char_p=0.5)
    for seed in range(30):
        out = aug(TEXT, seed=seed)
        for span in ("https://ex.com/path", "@someone", "1,000"):
            assert span in out
        assert re.sub(r"[A-Za-z]+", "", out) == re.sub(r"[A-Za-z]+", "", TEXT)
        assert len(re.findall(r"[A-Za-z]+", out)) == len(re.findall(r"[A-Za-z]+", TEXT))  # no word vanished


def test_nothing_to_noise_is_none() -> None:
    aug = CharNoise()
    assert aug.augment_batch(["", "42 @me https://x.io", "!!!"], [example_rng(0, i) for i in range(3)]) == [
        None, None, None]


def test_bad_parameters() -> None:
    with pytest.raises(ValueError, match="char_p"):
        CharNoise(char_p=2)
    with pytest.raises(ValueError, match=r"ops must be a non-empty subset .* got \['typo'\]"):
        CharNoise(ops=["typo"])
    with pytest.raises(TypeError, match="not the string"):
        CharNoise(ops="swap")
