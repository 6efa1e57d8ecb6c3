"""Augmentation of streamed (``IterableDataset``) input, and the ``--shard i/N`` helpers.

Streaming: :func:`augment_iterable` applies an augmenter lazily to an ``IterableDataset``. Each
example's random stream comes from ``example_rng(seed, key, copy)``, where ``key`` is the example's
position in the stream (or the value of an id column), so a streamed run writes exactly what
:func:`augment_dataset` writes for the same rows of a map-style ``Dataset``, whatever the batch size.

Sharding: :func:`parse_shard` reads ``"i/N"``; :func:`shard_bounds` cuts ``range(total)`` into ``N``
contiguous parts whose sizes differ by at most one. The :class:`~nlp_balance.Balancer` (with
``plan="per_source"``) uses them so that ``N`` machines can each balance one part of a split and the
parts together equal the unsharded result.
"""

from __future__ import annotations

import re
from typing import Any

import datasets

from nlp_balance.augment.base import Augmenter, example_rng

__all__ = ["augment_dataset", "augment_iterable", "check_shard", "parse_shard", "shard_bounds"]

_SHARD = re.compile(r"\s*(\d+)\s*/\s*(\d+)\s*")


def parse_shard(text: str) -> tuple[int, int]:
    """``"0/4"`` -> ``(0, 4)``; an error names the text unless ``0 <= i < N``."""
    m = _SHARD.fullmatch(str(text))
    if m is None:
        raise ValueError(f"a shard is written INDEX/COUNT with 0 <= INDEX < COUNT, e.g. 0/4; got {text!r}")
    return check_shard((int(m.group(1)), int(m.group(2))))


def check_shard(shard: Any) -> tuple[int, int]:
    """Validate an ``(index, count)`` pair and return it as two ints."""
    try:
        index, count = shard
    except (TypeError, ValueError):
        raise ValueError(f"shard must be a pair (index, count), got {shard!r}") from None
    ok = all(isinstance(v, int) and not isinstance(v, bool) for v in (index, count))
    if not ok or count < 1 or not 0 <= index < count:
        raise ValueError(f"shard must be (index, count) with 0 <= index < count, got {shard!r}")
    return index, count


def shard_bounds(total: int, index: int, count: int) -> tuple[int, int]:
    """The contiguous half-open range ``[lo, hi)`` of ``range(total)`` owned by shard ``index`` of ``count``."""
    index, count = check_shard((index, count))
    return total * index // count, total * (index + 1) // count


class _AugmentExamples:
    """The picklable function both paths run: config only, seeded by ``(seed, key, copy)``."""

    def __init__(self, augmenter: Augmenter, seed: int, copy: int, text_column: str, key_column: str | None,
                 keep_unchanged: bool, output_column: str | None) -> None:
        self.augmenter = augmenter
        self.seed = seed
        self.copy = copy
        self.text_column = text_column
        self.key_column = key_column
        self.keep_unchanged = keep_unchanged
        self.output_column = output_column or text_column

    def __call__(self, batch: dict[str, list[Any]], indices: list[int]) -> dict[str, list[Any]]:
        keys = batch[self.key_column] if self.key_column else indices
        texts = batch[self.text_column]
        rngs = [example_rng(self.seed, _plain(k), self.copy) for k in keys]
        outputs = self.augmenter.augment_batch([t if isinstance(t, str) else "" for t in texts], rngs)
        if self.keep_unchanged:
            outputs = [t if o is None else o for o, t in zip(outputs, texts)]
        return {self.output_column: outputs}


def _plain(key: Any) -> Any:
    """Ids as plain Python values so ``repr`` (and so the seed) is the same for numpy and Python ints."""
    return key.item() if hasattr(key, "item") else key


def _check(augmenter: Any, seed: Any, copy: Any) -> None:
    if not isinstance(augmenter, Augmenter):
        raise TypeError(f"augmenter must be an nlp_balance Augmenter, got {type(augmenter).__name__}")
    for name, value in (("seed", seed), ("copy", copy)):
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"{name} must be an int, got {value!r}")


def augment_iterable(
    dataset: datasets.IterableDataset,
    augmenter: Augmenter,
    *,
    seed: int = 0,
    copy: int = 0,
    text_column: str = "text",
    key_column: str | None = None,
    keep_unchanged: bool = True,
    output_column: str | None = None,
    batch_size: int = 256,
) -> datasets.IterableDataset:
    """Augment a streamed dataset lazily, seeding example ``k`` by ``(seed, key, copy)``.

    Args:
        dataset: the ``IterableDataset`` to read (nothing is read until it is iterated).
        augmenter: any :class:`~nlp_balance.augment.Augmenter`.
        seed, copy: with the example key, the whole random stream of that example.
        text_column: the column to augment.
        key_column: a column with a stable id per example; default: the example's position in the
            stream (stable as long as the stream's order is, e.g. files read in order, no shuffling).
        keep_unchanged: keep the original text where the augmenter could not change it; ``False``
            writes ``None`` there so a consumer can filter such rows out.
        output_column: write the augmented text here instead of replacing ``text_column``.
        batch_size: examples per call of the augmenter.
    """
    if not isinstance(dataset, datasets.IterableDataset):
        raise TypeError(f"augment_iterable needs a datasets.IterableDataset, got {type(dataset).__name__}; "
                        "use augment_dataset for a map-style Dataset")
    _check(augmenter, seed, copy)
    fn = _AugmentExamples(augmenter, seed, copy, text_column, key_column, keep_unchanged, output_column)
    return dataset.map(fn, batched=True, batch_size=batch_size, with_indices=True)


def augment_dataset(
    dataset: datasets.Dataset,
    augmenter: Augmenter,
    *,
    seed: int = 0,
    copy: int = 0,
    text_column: str = "text",
    key_column: str | None = None,
    keep_unchanged: bool = True,
    output_column: str | None = None,
    batch_size: int = 256,
    num_proc: int | None = None,
) -> datasets.Dataset:
    """The map-style twin of :func:`augment_iterable`: same rows, same seeds, same output (cached, parallel)."""
    if not isinstance(dataset, datasets.Dataset):
        raise TypeError(f"augment_dataset needs a datasets.Dataset, got {type(dataset).__name__}")
    _check(augmenter, seed, copy)
    if text_column not in dataset.column_names:
        raise ValueError(f"text column {text_column!r} not found; columns are {dataset.column_names}")
    fn = _AugmentExamples(augmenter, seed, copy, text_column, key_column, keep_unchanged, output_column)
    return dataset.map(fn, batched=True, batch_size=batch_size, with_indices=True, num_proc=num_proc,
                       desc=f"Augmenting with {augmenter.name}")
