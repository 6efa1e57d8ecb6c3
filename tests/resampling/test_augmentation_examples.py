"""Tests for nlp_balance.resampling.examples: the (source, synthetic) pairs reports and cards show."""

from __future__ import annotations

import random

import datasets
import pytest
from resampling_fixtures import split

from nlp_balance.augment import Augmenter
from nlp_balance.resampling import (
    AUGMENTATION_COLUMN,
    SOURCE_INDEX_COLUMN,
    Balancer,
    augmentation_examples,
    examples_json,
)


class Upper(Augmenter):
    """Upper-cases the text: one new text per source, so a class that needs more gets duplicates too."""

    name = "test_upper"

    def __init__(self, *, p: float = 1.0) -> None:
        super().__init__(p=p)

    def augment_one(self, text: str, rng: random.Random) -> str | None:
        return text.upper()


def _by_hand(rows: list[tuple[str, int, int, str]], names: tuple[str, ...] = ("big", "small")) -> datasets.Dataset:
    """A balanced split written by hand: ``(text, label, source_index, augmentation)`` per row."""
    features = datasets.Features({
        "text": datasets.Value("string"), "label": datasets.ClassLabel(names=list(names)),
        SOURCE_INDEX_COLUMN: datasets.Value("int64"), AUGMENTATION_COLUMN: datasets.Value("string"),
    })
    columns = list(zip(*rows))
    return datasets.Dataset.from_dict(
        {"text": list(columns[0]), "label": list(columns[1]), SOURCE_INDEX_COLUMN: list(columns[2]),
         AUGMENTATION_COLUMN: list(columns[3])}, features=features)


ORIGINALS = [("b0", 0, 0, "original"), ("b1", 0, 1, "original"), ("b2", 0, 2, "original"),
             ("s0", 1, 3, "original"), ("s1", 1, 4, "original"), ("s2", 1, 5, "original"),
             ("s3", 1, 6, "original"), ("s4", 1, 7, "original"), ("s5", 1, 8, "original")]


def test_pairs_are_the_first_rows_one_per_source_first_and_copies_are_counted_not_shown() -> None:
    added = [
        ("s0 new a", 1, 3, "aug"),  # row 9
        ("s0 new b", 1, 3, "aug"),  # row 10: a second text of s0, shown only after every other source
        ("s1", 1, 4, "aug"),  # row 11: the augmenter returned its source unchanged -> an exact copy
        ("s2", 1, 5, "duplicate"),  # row 12: a copy the oversampler made
        ("s2 new", 1, 5, "aug"),  # row 13
        ("s3 new", 1, 6, "aug"),  # row 14
        ("s4 new", 1, 7, "aug"),  # row 15
        ("s5 new", 1, 8, "aug"),  # row 16: the sixth distinct source, beyond n=5
    ]
    got = augmentation_examples(_by_hand(ORIGINALS + added))
    assert [c.label for c in got] == ["small"]  # "big" gained nothing
    small = got[0]
    assert (small.added, small.synthetic, small.exact_copies) == (8, 6, 2)
    assert [(p.source, p.synthetic) for p in small.pairs] == [
        ("s0", "s0 new a"), ("s2", "s2 new"), ("s3", "s3 new"), ("s4", "s4 new"), ("s5", "s5 new")]
    assert [(p.source_index, p.row, p.augmentation) for p in small.pairs] == [
        (3, 9, "aug"), (5, 13, "aug"), (6, 14, "aug"), (7, 15, "aug"), (8, 16, "aug")]
    # Fewer distinct sources than n: the second text of a source fills up, in output order.
    few = augmentation_examples(_by_hand(ORIGINALS + added[:3]), n=5)[0]
    assert [p.synthetic for p in few.pairs] == ["s0 new a", "s0 new b"]
    assert [len(c.pairs) for c in augmentation_examples(_by_hand(ORIGINALS + added), n=2)] == [2]
    assert augmentation_examples(_by_hand(ORIGINALS + added), n=0)[0].pairs == ()
    # JSON-ready, as the run folder stores it.
    data = examples_json(got)
    assert data["classes"][0]["pairs"][0] == {"source_index": 3, "row": 9, "source": "s0", "synthetic": "s0 new a",
                                              "augmentation": "aug"}
    assert data["classes"][0]["exact_copies"] == 2


def test_at_most_n_per_class_for_every_augmented_class() -> None:
    originals = [(f"b{i}", 0, i, "original") for i in range(3)] + [(f"s{i}", 1, 3 + i, "original") for i in range(8)]
    added = [(f"b{i} x", 0, i, "aug") for i in range(3)] * 3 + [(f"s{i} y", 1, 3 + i, "aug") for i in range(8)]
    got = augmentation_examples(_by_hand(originals + added))
    assert [(c.label, c.added, len(c.pairs)) for c in got] == [("big", 9, 5), ("small", 8, 5)]
    assert [p.synthetic for p in got[0].pairs] == ["b0 x", "b1 x", "b2 x", "b0 x", "b1 x"]
    assert [p.synthetic for p in got[1].pairs] == ["s0 y", "s1 y", "s2 y", "s3 y", "s4 y"]


def test_on_a_balancer_output_with_a_deterministic_augmenter() -> None:
    train = split([f"b {i}" for i in range(8)] + ["s one", "s two", "s three"], [0] * 8 + [1] * 3)
    test = split(["t one", "t two"], [0, 1])
    data = datasets.DatasetDict({"train": train, "test": test})
    with pytest.warns(UserWarning, match="2 short"):  # 3 sources, 1 new text each, 5 rows needed
        balanced = Balancer(Upper(), "auto", seed=3).fit_resample(data)
    fingerprint = balanced["train"]._fingerprint
    got = augmentation_examples(balanced["train"])
    assert [(c.label, c.added, c.synthetic, c.exact_copies) for c in got] == [("small", 5, 3, 2)]
    # Output order (the seeded Balancer's), the two duplicates left out.
    assert [(p.source, p.synthetic, p.augmentation) for p in got[0].pairs] == [
        ("s two", "S TWO", "test_upper"), ("s three", "S THREE", "test_upper"), ("s one", "S ONE", "test_upper")]
    # The same pairs when the input split is passed as the sources.
    assert augmentation_examples(balanced["train"], train) == got
    # Evaluation data untouched: the test split is the source's, and no pair comes from it.
    assert balanced["test"].to_dict() == test.to_dict()
    assert not {p.source for p in got[0].pairs} & set(test["text"])
    assert balanced["train"]._fingerprint == fingerprint  # picking changed nothing


def test_pure_duplication_has_no_pairs_and_exact_copies_are_counted() -> None:
    train = split(["b one", "b two", "b three", "b four", "s one", "s two"], [0, 0, 0, 0, 1, 1])
    balanced = Balancer(None, "auto", seed=0).fit_resample(datasets.DatasetDict({"train": train}))["train"]
    got = augmentation_examples(balanced)
    assert [(c.label, c.added, c.synthetic, c.exact_copies, c.pairs) for c in got] == [("small", 2, 0, 2, ())]


def test_inputs_without_provenance_or_matching_sources_are_refused() -> None:
    with pytest.raises(ValueError, match="source_index"):
        augmentation_examples(split(["a", "b"], [0, 1]))
    with pytest.raises(ValueError, match="non-negative"):
        augmentation_examples(_by_hand(ORIGINALS), n=-1)
    lost = _by_hand([("s0", 1, 0, "original"), ("s9 new", 1, 9, "aug")])
    with pytest.raises(ValueError, match="input row 9"):
        augmentation_examples(lost)
    with pytest.raises(ValueError, match="sources has 1 rows"):
        augmentation_examples(lost, split(["s0"], [1]))
