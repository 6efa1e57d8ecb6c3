"""EDA operations and recipe: what each operation may change, deletion limits, the paper's table."""

from __future__ import annotations

import json
import re
from collections import Counter

import pytest
from conftest import BENCH_DATA as DATA

from nlp_balance.augment.base import example_rng
from nlp_balance.augment.eda import EDA, RandomDeletion, RandomInsertion, RandomSwap
from nlp_balance.augment.synonym_lookup import shared_lookup

WORD = re.compile(r"[A-Za-z]+(?:['-][A-Za-z]+)*")


def texts(name: str, n: int) -> list[str]:
    with open(DATA / name / "train.jsonl", encoding="utf-8") as fh:
        return [json.loads(line)["text"] for _, line in zip(range(n), fh)]


def words(text: str) -> list[str]:
    return WORD.findall(text)


REAL = texts("trec6", 150) + texts("davidson_hate", 150)


def test_random_swap_keeps_the_multiset_of_words() -> None:
    aug = RandomSwap(aug_p=0.3)
    for i, text in enumerate(REAL):
        out = aug(text, seed=i)
        assert Counter(words(out)) == Counter(words(text))
        assert re.sub(WORD, "", out) == re.sub(WORD, "", text)  # separators untouched, in place


def test_random_deletion_removes_words_only_and_never_all() -> None:
    aug = RandomDeletion(aug_p=0.9)
    for i, text in enumerate(REAL):
        out = aug(text, seed=i)
        before, after = Counter(words(text)), Counter(words(out))
        assert not after - before  # nothing new appears
        if len(words(text)) >= 2:
            assert after, (text, out)  # at least one word survives
            assert out != text
    assert RandomDeletion(aug_p=1.0)("a b c d e", seed=0) in {"a", "b", "c", "d", "e"}
    assert RandomDeletion().augment_batch(["single"], [example_rng(0)]) == [None]


@pytest.mark.parametrize(
    ("text", "deleted", "expected"),
    [("a b c", "b", "a c"), ("a b c.", "c", "a b."), ("a\nb c", "b", "a\nc"), ("(b) c", "b", "() c"),
     ("Hello, world", "Hello", ", world"), ("x  y  z", "y", "x  z")],
)
def test_deletion_spacing(text: str, deleted: str, expected: str) -> None:
    """Exhaustive over seeds: whenever exactly the given word is deleted, the spacing is as expected."""
    aug = RandomDeletion(aug_p=0.01)
    hits = [out for seed in range(200) if Counter(words(text)) - Counter(words(out := aug(text, seed=seed)))
            == Counter([deleted])]
    assert hits and set(hits) == {expected}


def test_random_insertion_adds_synonyms_of_words_in_the_text() -> None:
    """Oracle: the output is the input with " <synonym of one of its words>" inserted after word ends."""
    aug = RandomInsertion(aug_p=0.2)
    lookup = shared_lookup(False)
    changed = 0
    for i, text in enumerate(REAL[:100]):
        out = aug(text, seed=i)
        if out == text:
            continue
        changed += 1
        candidates = {c for w in words(text) for c in lookup(w.lower())}
        candidates |= {c.upper() for c in candidates}
        alt = "|".join(re.escape(c) for c in sorted(candidates, key=len, reverse=True))
        insert = f"(?: (?:{alt}))*"
        pattern = "".join(
            re.escape(c) + (insert if (c.isalnum() or c == "_") and not text[k + 1 : k + 2].isalnum() else "")
            for k, c in enumerate(text)
        )
        assert re.fullmatch(pattern, out, flags=re.DOTALL), (text, out)
        assert len(out) > len(text)
    assert changed > 80


def test_eda_applies_exactly_one_operation() -> None:
    aug = EDA(alpha_sr=0.2, alpha_ri=0.2, alpha_rs=0.2, p_rd=0.2)
    kinds = Counter()
    for i, text in enumerate(REAL):
        out = aug(text, seed=i)
        a, b = words(text), words(out)
        if out == text:
            kinds["none"] += 1
        elif Counter(a) == Counter(b):
            kinds["swap"] += 1
        elif not Counter(b) - Counter(a):
            kinds["delete"] += 1
        elif not Counter(a) - Counter(b):
            kinds["insert"] += 1
        else:  # replacement: every separator is where it was, words differ in place
            kinds["replace"] += 1
            assert re.sub(r"[^\W\d_]+", "", out).replace(" ", "").replace("-", "").replace("'", "") == re.sub(
                r"[^\W\d_]+", "", text).replace(" ", "").replace("-", "").replace("'", ""), (text, out)
    assert kinds["swap"] > 40 and kinds["delete"] > 40 and kinds["insert"] > 30 and kinds["replace"] > 30, kinds


def test_eda_falls_back_when_chosen_operation_cannot_apply() -> None:
    aug = EDA(alpha_sr=0.5, alpha_ri=0.5, alpha_rs=0.5, p_rd=0.5)
    out = aug("the of and", seed=3)  # no synonyms: only swap or deletion can change it
    assert out != "the of and" and Counter(words(out)) <= Counter(["the", "of", "and"])
    assert EDA(alpha_rs=0, p_rd=0).augment_batch(["the of and"], [example_rng(1)]) == [None]


@pytest.mark.parametrize(
    ("n_train", "num_aug", "alpha"),
    [(100, 16, 0.05), (500, 16, 0.05), (501, 8, 0.05), (2000, 8, 0.05), (2001, 4, 0.1), (5000, 4, 0.1),
     (100_000, 4, 0.1)],
)
def test_recommended_follows_the_paper(n_train: int, num_aug: int, alpha: float) -> None:
    rec = EDA.recommended(n_train)
    assert rec == {"alpha_sr": alpha, "alpha_ri": alpha, "alpha_rs": alpha, "p_rd": alpha, "num_aug": num_aug}
    assert EDA(**rec).num_aug == num_aug


def test_bad_parameters() -> None:
    with pytest.raises(ValueError, match="all are 0"):
        EDA(alpha_sr=0, alpha_ri=0, alpha_rs=0, p_rd=0)
    with pytest.raises(ValueError, match=r"alpha_ri must be a number in \[0, 1\], got 2"):
        EDA(alpha_ri=2)
    with pytest.raises(ValueError, match="num_aug"):
        EDA(num_aug=0)
    with pytest.raises(ValueError, match="n_train"):
        EDA.recommended(0)
