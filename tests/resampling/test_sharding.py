"""Streaming augmentation equals the map-style path row for row; --shard i/N parts add up to the whole."""

from __future__ import annotations

import datasets
import pytest

from nlp_balance import Balancer, load_text_dataset
from nlp_balance.augment import CharNoise, Compose, RandomSwap
from nlp_balance.resampling.sharding import augment_dataset, augment_iterable, parse_shard, shard_bounds


@pytest.fixture(scope="module")
def sms_train(sms_spam):
    return sms_spam["train"].select(range(600))


def test_streamed_output_equals_map_style_and_the_augmenter_call(sms_train):
    aug = Compose([RandomSwap(aug_p=0.3), CharNoise(char_p=0.05)])
    mapped = augment_dataset(sms_train, aug, seed=4, copy=1, batch_size=64)
    streamed = list(augment_iterable(sms_train.to_iterable_dataset(num_shards=3), aug, seed=4, copy=1,
                                     batch_size=17))
    assert [r["text"] for r in streamed] == mapped["text"]
    assert [r["label"] for r in streamed] == sms_train["label"]
    # the same stream as Augmenter.__call__ (example i -> example_rng(seed, i, copy))
    assert mapped["text"][:50] == aug(sms_train["text"][:50], seed=4, copy=1)
    assert sum(a != b for a, b in zip(mapped["text"], sms_train["text"])) > 300  # it really augments


def test_key_column_seeds_by_id_so_order_does_not_matter(sms_train):
    ds = sms_train.add_column("id", [f"msg-{i}" for i in range(len(sms_train))])
    aug = RandomSwap(aug_p=0.5)
    forward = augment_dataset(ds, aug, seed=0, key_column="id")
    backward = list(augment_iterable(ds.select(range(len(ds) - 1, -1, -1)).to_iterable_dataset(), aug, seed=0,
                                     key_column="id"))
    by_id = {r["id"]: r["text"] for r in backward}
    assert [by_id[i] for i in forward["id"]] == forward["text"]


def test_unchanged_rows_can_be_marked_and_output_column_kept_apart(sms_train):
    aug = RandomSwap(aug_p=0.5, p=0.5)
    out = augment_dataset(sms_train, aug, seed=1, keep_unchanged=False, output_column="augmented")
    assert out["text"] == sms_train["text"]
    assert any(a is None for a in out["augmented"]) and any(a is not None for a in out["augmented"])
    assert all(a is None or a != t for a, t in zip(out["augmented"], out["text"]))


def test_streaming_errors_name_the_problem(sms_train):
    with pytest.raises(TypeError, match="IterableDataset"):
        augment_iterable(sms_train, RandomSwap())
    with pytest.raises(TypeError, match="Augmenter"):
        augment_iterable(sms_train.to_iterable_dataset(), lambda t: t)
    with pytest.raises(ValueError, match="seed must be an int"):
        augment_dataset(sms_train, RandomSwap(), seed="1")


@pytest.mark.parametrize("text", ["0/4", " 3 / 4 "])
def test_parse_shard(text):
    assert parse_shard(text) == (int(text.split("/")[0]), 4)


@pytest.mark.parametrize("text", ["4/4", "-1/4", "1/0", "a/b", "1", "1/2/3"])
def test_parse_shard_rejects(text):
    with pytest.raises(ValueError, match=r"INDEX/COUNT|0 <= index < count"):
        parse_shard(text)


@pytest.mark.parametrize("total", [0, 1, 7, 100, 1001])
@pytest.mark.parametrize("count", [1, 3, 4, 8])
def test_shard_bounds_partition(total, count):
    covered = []
    for i in range(count):
        lo, hi = shard_bounds(total, i, count)
        covered += range(lo, hi)
        assert hi - lo in (total // count, -(-total // count))
    assert covered == list(range(total))


def test_sharding_the_global_plan_is_refused():
    with pytest.raises(ValueError, match="per_source"):
        Balancer(RandomSwap(), shard=(0, 2))
    with pytest.raises(ValueError, match="0 <= index < count"):
        Balancer(shard=(2, 2))


def test_loaded_stream_from_files_matches(tmp_path, shared_data):
    """A real streamed file source (datasets' json reader, streaming=True) gives the map-style output."""
    path = shared_data / "trec6" / "test.jsonl"
    stream = datasets.load_dataset("json", data_files=str(path), split="train", streaming=True)
    mapped = load_text_dataset(path, split="train")
    aug = RandomSwap(aug_p=0.4)
    got = [r["text"] for r in augment_iterable(stream, aug, seed=9)]
    assert got == augment_dataset(mapped, aug, seed=9)["text"]
