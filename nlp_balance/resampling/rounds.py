"""One augmentation round of the Balancer: a batched ``datasets.map`` over planned (source row, copy) pairs.

Each output is seeded by ``(seed, source row, copy number)``, and each round's fingerprint comes
from the planned rows and the Balancer's config, so progress bars, the cache and ``num_proc``
behave as in ``datasets`` and the output does not depend on ``num_proc`` or the batch size.
"""

from __future__ import annotations

import hashlib
import inspect
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import datasets
import numpy as np
from datasets.fingerprint import Hasher

from nlp_balance.augment.base import Augmenter, example_rng
from nlp_balance.resampling.provenance import SOURCE_INDEX_COLUMN, add_provenance

__all__ = ["COPY_COLUMN", "AugmentBatch", "AugmentRounds", "iter_column", "text_key"]

#: Working column: the copy number of each planned row (removed from accepted rows).
COPY_COLUMN = "_nlpb_copy"


def text_key(text: str) -> bytes:
    """A short digest of ``text`` for the duplicate checks (12 bytes instead of the whole string)."""
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=12).digest()


def iter_column(ds: datasets.Dataset, column: str, chunk: int = 50_000) -> Iterator[tuple[int, Any]]:
    """Yield ``(row, value)`` of one column, reading ``chunk`` rows at a time (bounded memory)."""
    for start in range(0, len(ds), chunk):
        for offset, value in enumerate(ds[start : start + chunk][column]):
            yield start + offset, value


class AugmentBatch:
    """The picklable function that ``datasets.map`` runs: config only, seeded per (source, copy).

    An output that is empty or equal to its input becomes ``None`` (a failed attempt).
    """

    def __init__(self, augmenter: Augmenter, seed: int, text_column: str) -> None:
        self.augmenter = augmenter
        self.seed = seed
        self.text_column = text_column
        self._takes_copies = "copies" in inspect.signature(augmenter.augment_batch).parameters

    def __call__(self, batch: dict[str, list[Any]]) -> dict[str, list[Any]]:
        """Augment one batch of planned rows; returns the new text column."""
        sources = batch[SOURCE_INDEX_COLUMN]
        copies = batch[COPY_COLUMN]
        rngs = [example_rng(self.seed, int(s), int(k)) for s, k in zip(sources, copies)]
        texts = batch[self.text_column]
        if self._takes_copies:  # e.g. BackTranslation: copy k takes the k-th distinct variant
            outputs = self.augmenter.augment_batch(texts, rngs, copies=[int(k) for k in copies])
        else:
            outputs = self.augmenter.augment_batch(texts, rngs)
        cleaned = [None if (o is None or not o.strip() or o == t) else o for o, t in zip(outputs, texts)]
        return {self.text_column: cleaned}


@dataclass(frozen=True)
class AugmentRounds:
    """How the Balancer runs its augmentation rounds: the augmenter and the ``datasets.map`` options.

    ``config`` is the Balancer's config; it is part of every round's fingerprint.
    """

    augmenter: Augmenter
    seed: int
    text_column: str
    batch_size: int
    num_proc: int | None
    load_from_cache_file: bool | None
    config: dict[str, Any]

    def text_keys(self, ds: datasets.Dataset) -> set[bytes]:
        """The :func:`text_key` of every text of ``ds``."""
        return {text_key(t) for _, t in iter_column(ds, self.text_column)}

    def run(self, ds: datasets.Dataset, src: np.ndarray, cp: np.ndarray, round_no: int, *tag: str) -> datasets.Dataset:
        """Augment rows ``src`` of ``ds`` as copies ``cp``; failed attempts come back as ``None`` texts.

        The result has the provenance columns and :data:`COPY_COLUMN`; ``tag`` tells plans apart in
        the fingerprint.
        """
        cp = cp.astype(np.int64)
        plan = add_provenance(ds, src, self.augmenter.name)
        plan = plan.add_column(COPY_COLUMN, cp, new_fingerprint=Hasher.hash((plan._fingerprint, "copy", cp.tobytes())))
        return plan.map(
            AugmentBatch(self.augmenter, self.seed, self.text_column),
            batched=True,
            batch_size=self.batch_size,
            num_proc=self.num_proc,
            new_fingerprint=Hasher.hash((plan._fingerprint, self.config, *tag, round_no)),
            load_from_cache_file=self.load_from_cache_file,
            desc=f"Augmenting with {self.augmenter.name} (round {round_no})",
        )
