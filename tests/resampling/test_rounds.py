"""One augmentation round: the map function's seeding and cleaning, and the round's fingerprint."""

from __future__ import annotations

import random

import datasets
import numpy as np
from resampling_fixtures import Numbered, split

from nlp_balance.augment import Augmenter, example_rng
from nlp_balance.resampling.provenance import AUGMENTATION_COLUMN, SOURCE_INDEX_COLUMN
from nlp_balance.resampling.rounds import (
    COPY_COLUMN,
    AcceptedRows,
    AugmentBatch,
    AugmentRounds,
    example_rngs,
    iter_column,
    text_key,
)

DS = split(["one two", "stuck here", "three four", "five"], [0, 0, 1, 1])


class Echo(Augmenter):
    """Returns some texts unchanged or blank, to show which outputs count as failures."""

    name = "test_echo"

    def augment_one(self, text: str, rng: random.Random) -> str | None:
        return {"same": "same", "blank": "   ", "none": None}.get(text, text.upper())


class CopyAware(Augmenter):
    """Writes the copy number it was given, like back-translation's k-th variant."""

    name = "test_copy_aware"

    def augment_one(self, text: str, rng: random.Random) -> str | None:
        return text

    def augment_batch(self, texts, rngs, copies=None):
        return [f"{t} #{k}" for t, k in zip(texts, copies)]


def _numbered(text: str, rng: random.Random) -> str:
    rng.random()  # the augmenter's p draw comes first
    return f"{text} {rng.randrange(10**9)}"


def test_each_row_is_seeded_by_seed_source_and_copy():
    fn = AugmentBatch(Numbered(), seed=5, text_column="text")
    batch = {"text": ["a", "a", "b"], SOURCE_INDEX_COLUMN: [7, 7, 2], COPY_COLUMN: [0, 1, 0]}
    out = fn(batch)["text"]
    assert out == [_numbered(t, example_rng(5, s, k)) for t, s, k in [("a", 7, 0), ("a", 7, 1), ("b", 2, 0)]]
    # one row alone gives the same text as inside a batch: no dependence on batch boundaries
    assert fn({"text": ["b"], SOURCE_INDEX_COLUMN: [2], COPY_COLUMN: [0]})["text"] == out[2:]


def test_unchanged_blank_and_missing_outputs_are_failures():
    fn = AugmentBatch(Echo(), seed=0, text_column="body")
    batch = {"body": ["same", "blank", "none", "ok"], SOURCE_INDEX_COLUMN: [0, 1, 2, 3], COPY_COLUMN: [0] * 4}
    assert fn(batch) == {"body": [None, None, None, "OK"]}


def test_augmenters_that_take_copies_get_them():
    fn = AugmentBatch(CopyAware(), seed=0, text_column="text")
    assert fn({"text": ["x", "x"], SOURCE_INDEX_COLUMN: [0, 0], COPY_COLUMN: [0, 3]})["text"] == ["x #0", "x #3"]


def _rounds(**config) -> AugmentRounds:
    return AugmentRounds(Numbered(), seed=1, text_column="text", batch_size=2, num_proc=None,
                         load_from_cache_file=False, config={"version": "1", **config})


def test_example_rngs_are_example_rng():
    keys = [(0, 0, 0), (5, 7, 1), (-3, 10**12, 7), (2**40, 1, 2**33), (1, 2**63, 0)]
    for seed, s, k in keys:
        (fast,) = example_rngs(seed, [s], [np.int64(k) if k < 2**63 else k])
        slow = example_rng(seed, s, k)
        assert type(fast) is type(slow) and fast.getstate() == slow.getstate()
        assert [fast.random() for _ in range(5)] == [slow.random() for _ in range(5)]
        assert fast.gauss(0, 1) == slow.gauss(0, 1)


def test_a_round_writes_only_the_new_texts_in_plan_order():
    out = _rounds().run(DS, np.array([2, 1, 2]), np.array([0, 0, 1]), 1)
    assert out.column_names == ["text"] and out.features["text"] == DS.features["text"]
    assert out["text"][1] is None  # "stuck here" cannot be augmented
    assert out["text"][0].startswith("three four ") and out["text"][0] != out["text"][2]
    assert out["text"][0] == _numbered("three four", example_rng(1, 2, 0))


def test_a_round_over_a_selection_reads_the_selected_rows():
    picked = DS.select([3, 2, 0])  # an indices mapping: position 1 is row 2
    out = _rounds().run(picked, np.array([1, 1]), np.array([0, 1]), 1)
    assert out["text"] == [_numbered("three four", example_rng(1, 1, k)) for k in (0, 1)]


def test_accepted_rows_gather_every_column_with_provenance():
    rounds = _rounds()
    accepted = AcceptedRows(rounds)
    assert accepted.dataset(DS) is None
    src = np.array([2, 1, 0])
    out = rounds.run(DS, src, np.array([0, 0, 0]), 1)
    accepted.add(out, src, np.array([0, 2]))
    src2 = np.array([3])
    out2 = rounds.run(DS, src2, np.array([0]), 2)
    accepted.add(out2, src2, np.array([0]))
    rows = accepted.dataset(DS)
    assert rows.column_names == ["text", "label", SOURCE_INDEX_COLUMN, AUGMENTATION_COLUMN]
    assert rows.features == datasets.Features({**DS.features, SOURCE_INDEX_COLUMN: datasets.Value("int64"),
                                               AUGMENTATION_COLUMN: datasets.Value("string")})
    assert rows["text"] == [out["text"][0], out["text"][2], out2["text"][0]]
    assert rows[SOURCE_INDEX_COLUMN] == [2, 0, 3] and rows["label"] == [1, 0, 1]
    assert rows[AUGMENTATION_COLUMN] == ["test_numbered"] * 3


def test_the_round_fingerprint_depends_on_plan_config_tag_and_round():
    src, cp = np.array([0, 2]), np.array([0, 0])
    base = _rounds().run(DS, src, cp, 1)._fingerprint
    assert base == _rounds().run(DS, src, cp, 1)._fingerprint
    assert base != _rounds().run(DS, src, np.array([0, 1]), 1)._fingerprint
    assert base != _rounds(seed=2).run(DS, src, cp, 1)._fingerprint
    assert base != _rounds().run(DS, src, cp, 1, "per_source")._fingerprint
    assert base != _rounds().run(DS, src, cp, 2)._fingerprint


def test_iter_column_reads_in_chunks_and_text_keys_tell_texts_apart():
    assert list(iter_column(DS, "text", chunk=3)) == list(enumerate(DS["text"]))
    assert _rounds().text_keys(DS) == {text_key(t) for t in DS["text"]}
    assert len(text_key("a")) == 12 and text_key("a") != text_key("b")
    assert text_key("\ud800") == text_key("\ud800")  # lone surrogates from bad input do not raise


class Seeded(Augmenter):
    """Offers augment_seeded: the Balancer should hand it seeds, not generators."""

    name = "test_seeded"

    def augment_one(self, text: str, rng: random.Random) -> str | None:
        return f"{text} {rng.random()}"

    def augment_seeded(self, texts, seeds):
        self.seen = list(seeds)
        return self.augment_batch(texts, [random.Random(s) for s in seeds])


def test_an_augmenter_with_augment_seeded_gets_the_seeds():
    from nlp_balance.utils.seeding import derive_seed

    aug = Seeded()
    fn = AugmentBatch(aug, seed=4, text_column="text")
    batch = {"text": ["a", "b"], SOURCE_INDEX_COLUMN: [3, 1], COPY_COLUMN: [0, 2]}
    out = fn(batch)["text"]
    assert aug.seen == [derive_seed(4, 3, 0), derive_seed(4, 1, 2)]
    expected = [Seeded().augment_batch([t], [example_rng(4, s, k)])[0] for t, s, k in (("a", 3, 0), ("b", 1, 2))]
    assert out == expected
