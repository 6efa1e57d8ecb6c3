"""One augmentation round of the Balancer: a batched ``datasets.map`` over planned (source row, copy) pairs.

Each output is seeded by ``(seed, source row, copy number)``, and each round's fingerprint comes
from the planned rows and the Balancer's config, so progress bars, the cache and ``num_proc``
behave as in ``datasets`` and the output does not depend on ``num_proc`` or the batch size.

A round maps only what the augmenter needs: a three-column plan (the source texts, gathered with
one Arrow ``take``, the source rows and the copy numbers) in, the new text column out. The other
columns of accepted rows are gathered once, at the end (:mod:`~nlp_balance.resampling.rows`).
"""

from __future__ import annotations

import _random
import hashlib
import inspect
import os
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import datasets
import numpy as np
import pyarrow as pa
from datasets.fingerprint import Hasher
from datasets.table import MemoryMappedTable

from nlp_balance.augment.base import Augmenter, takes_labels
from nlp_balance.resampling.provenance import SOURCE_INDEX_COLUMN, add_provenance
from nlp_balance.resampling.rows import in_memory_dataset, take_rows
from nlp_balance.utils.seeding import example_seeds

__all__ = [
    "COPY_COLUMN",
    "AcceptedRows",
    "AugmentBatch",
    "AugmentRounds",
    "example_rngs",
    "iter_chunks",
    "iter_column",
    "takes_labels",
    "text_key",
    "text_keys_of",
]

#: Working column of a round's plan: the copy number of each planned row.
COPY_COLUMN = "_nlpb_copy"


def text_key(text: str) -> bytes:
    """A short digest of ``text`` for the duplicate checks (12 bytes instead of the whole string)."""
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=12).digest()


def iter_column(ds: datasets.Dataset, column: str, chunk: int = 50_000) -> Iterator[tuple[int, Any]]:
    """Yield ``(row, value)`` of one column, reading ``chunk`` rows at a time (bounded memory)."""
    for start, values in iter_chunks(ds, column, chunk):
        yield from enumerate(values, start)


def iter_chunks(ds: datasets.Dataset, column: str, chunk: int = 50_000) -> Iterator[tuple[int, list[Any]]]:
    """Yield ``(first row, values)`` of one column, ``chunk`` rows at a time (bounded memory)."""
    for start in range(0, len(ds), chunk):
        yield start, ds[start : start + chunk][column]


def text_keys_of(texts: list[str | None]) -> list[bytes | None]:
    """:func:`text_key` of each text (``None`` stays ``None``)."""
    blake = hashlib.blake2b
    return [None if t is None else blake(t.encode("utf-8", "surrogatepass"), digest_size=12).digest() for t in texts]


def example_rngs(seed: int, sources: Sequence[int], copies: Sequence[int]) -> list[random.Random]:
    """``[example_rng(seed, s, k) for s, k in zip(sources, copies)]``, built without the Python-level
    ``Random.__init__``/``seed`` calls: the same seed (``derive_seed``) and the same state, at less cost."""
    new, init, cls = random.Random.__new__, _random.Random.seed, random.Random
    out = []
    for example_seed in example_seeds(seed, sources, copies):
        rng = new(cls)
        init(rng, example_seed)
        rng.gauss_next = None  # what random.Random.seed sets besides the generator state
        out.append(rng)
    return out


class AugmentBatch:
    """The picklable function that ``datasets.map`` runs: config only, seeded per (source, copy).

    An augmenter with ``augment_seeded(texts, seeds)`` (the same output as ``augment_batch`` with
    ``random.Random(seed)`` per text, e.g. SynonymReplacement's compiled loop) gets the seeds
    themselves, so no generator is built. An augmenter whose ``augment_batch`` takes ``labels=``
    gets the class name of each source row, read from ``label_column`` (ids named by
    ``label_names``). An output that is empty or equal to its input becomes ``None`` (a failed attempt).
    """

    def __init__(self, augmenter: Augmenter, seed: int, text_column: str, label_column: str | None = None,
                 label_names: Sequence[str] | None = None) -> None:
        self.augmenter = augmenter
        self.seed = seed
        self.text_column = text_column
        self.label_column = label_column
        self.label_names = None if label_names is None else list(label_names)
        self._takes_copies = "copies" in inspect.signature(augmenter.augment_batch).parameters
        self._takes_labels = label_column is not None and takes_labels(augmenter)
        self._seeded = (not self._takes_copies and not self._takes_labels
                        and callable(getattr(augmenter, "augment_seeded", None)))

    def __call__(self, batch: dict[str, list[Any]]) -> dict[str, list[Any]]:
        """Augment one batch of planned rows; returns the new text column."""
        sources = batch[SOURCE_INDEX_COLUMN]
        copies = batch[COPY_COLUMN]
        texts = batch[self.text_column]
        if self._seeded:
            seeds = example_seeds(self.seed, sources, copies)
            outputs = self.augmenter.augment_seeded(texts, seeds)  # type: ignore[attr-defined]
        elif self._takes_copies or self._takes_labels:
            kwargs: dict[str, Any] = {}
            if self._takes_copies:  # e.g. BackTranslation: copy k takes the k-th distinct variant
                kwargs["copies"] = [int(k) for k in copies]
            if self._takes_labels:  # e.g. GenerativeAugmenter: prompted with the class of its source
                ids = batch[self.label_column]  # type: ignore[index]
                kwargs["labels"] = [self.label_names[int(y)] if self.label_names else y for y in ids]
            outputs = self.augmenter.augment_batch(texts, example_rngs(self.seed, sources, copies), **kwargs)
        else:
            outputs = self.augmenter.augment_batch(texts, example_rngs(self.seed, sources, copies))
        cleaned = [None if (o is None or not o.strip() or o == t) else o for o, t in zip(outputs, texts)]
        return {self.text_column: cleaned}


@dataclass(frozen=True)
class AugmentRounds:
    """How the Balancer runs its augmentation rounds: the augmenter and the ``datasets.map`` options.

    ``config`` is the Balancer's config; it is part of every round's fingerprint. ``label_column``
    is read only for an augmenter that :func:`takes_labels`.
    """

    augmenter: Augmenter
    seed: int
    text_column: str
    batch_size: int
    num_proc: int | None
    load_from_cache_file: bool | None
    config: dict[str, Any]
    label_column: str | None = None

    @property
    def _label_column(self) -> str | None:
        """The label column the plan carries: only for an augmenter that takes labels."""
        return self.label_column if self.label_column is not None and takes_labels(self.augmenter) else None

    def text_keys(self, ds: datasets.Dataset) -> set[bytes]:
        """The :func:`text_key` of every text of ``ds``."""
        keys: set[bytes] = set()
        for _, texts in iter_chunks(ds, self.text_column):
            keys.update(text_keys_of(texts))
        return keys

    def run(self, ds: datasets.Dataset, src: np.ndarray, cp: np.ndarray, round_no: int, *tag: str) -> datasets.Dataset:
        """Augment rows ``src`` of ``ds`` as copies ``cp``: one column, the new texts, ``None`` where an
        attempt failed, row ``i`` for ``(src[i], cp[i])``.

        ``tag`` tells plans apart in the fingerprint. Where ``ds`` is cached on disk, the round's
        output is cached next to it under that fingerprint, as ``datasets.map`` would cache it.
        """
        src, cp = np.asarray(src, dtype=np.int64), np.asarray(cp, dtype=np.int64)
        text_feature = ds.features[self.text_column]
        plan = self._plan(ds, src, cp)
        fingerprint = Hasher.hash((plan._fingerprint, self.config, *tag, round_no))
        label_column = self._label_column
        names = None
        if label_column is not None and isinstance(ds.features[label_column], datasets.ClassLabel):
            names = ds.features[label_column].names
        return plan.map(
            AugmentBatch(self.augmenter, self.seed, self.text_column, label_column, names),
            batched=True,
            batch_size=self.batch_size,
            num_proc=None if self.num_proc == 1 else self.num_proc,  # 1: no pool of one forked worker
            remove_columns=plan.column_names,
            features=datasets.Features({self.text_column: text_feature}),
            new_fingerprint=fingerprint,
            cache_file_name=_cache_file(ds, fingerprint),
            load_from_cache_file=self.load_from_cache_file,
            desc=f"Augmenting with {self.augmenter.name} (round {round_no})",
        )


    def _plan(self, ds: datasets.Dataset, src: np.ndarray, cp: np.ndarray) -> datasets.Dataset:
        """The round's plan: source texts, rows and copies. Next to ``ds``'s cache files when it has
        them, memory-mapped, so that ``num_proc`` workers map the file instead of each receiving a
        pickled copy; else in memory."""
        label_column = self._label_column
        labelled = () if label_column is None else ("labels", label_column)  # () keeps older fingerprints
        fingerprint = Hasher.hash((ds._fingerprint, "plan", self.augmenter.name, src.tobytes(), cp.tobytes(),
                                   *labelled))
        columns = [self.text_column] if label_column is None else [self.text_column, label_column]
        gathered = take_rows(ds, src, columns)
        table = pa.table(
            {
                **{name: gathered.column(name) for name in columns},
                SOURCE_INDEX_COLUMN: pa.array(src),
                COPY_COLUMN: pa.array(cp),
            }
        )
        features = {name: ds.features[name] for name in columns}
        path = _cache_file(ds, fingerprint)
        if path is None:
            return in_memory_dataset(table, ds, features, fingerprint, keep_format=False)
        if not os.path.exists(path):
            partial = f"{path}.{os.getpid()}.tmp"
            with pa.OSFile(partial, "wb") as sink, pa.ipc.new_stream(sink, table.schema) as writer:
                writer.write_table(table, max_chunksize=10_000)
            os.replace(partial, path)
        info = ds.info.copy()
        info.features = datasets.Features(
            {**features, SOURCE_INDEX_COLUMN: datasets.Value("int64"), COPY_COLUMN: datasets.Value("int64")}
        )
        return datasets.Dataset(MemoryMappedTable.from_file(path), info=info, split=ds.split, fingerprint=fingerprint)


def _cache_file(ds: datasets.Dataset, fingerprint: str) -> str | None:
    """Where ``datasets`` would cache a transform of ``ds`` with ``fingerprint``; ``None`` (kept in
    memory) when ``ds`` has no cache files or caching is off."""
    if not ds.cache_files or not datasets.is_caching_enabled():
        return None
    return os.path.join(os.path.dirname(ds.cache_files[0]["filename"]), f"cache-{fingerprint}.arrow")


class AcceptedRows:
    """The new rows kept from the rounds, in order: their source rows and new texts, gathered into
    one ``Dataset`` (all columns, provenance included) at the end."""

    def __init__(self, rounds: AugmentRounds) -> None:
        self.rounds = rounds
        self._sources: list[np.ndarray] = []
        self._texts: list[pa.ChunkedArray] = []
        self._names: list[tuple[str, bytes]] = []

    def add(self, out: datasets.Dataset, src: np.ndarray, kept: np.ndarray) -> None:
        """Keep rows ``kept`` of round output ``out`` (made from source rows ``src``)."""
        if kept.size:
            self._sources.append(src[kept])
            self._texts.append(out.data.table.column(self.rounds.text_column).take(pa.array(kept)))
            self._names.append((out._fingerprint, kept.tobytes()))

    def dataset(self, ds: datasets.Dataset) -> datasets.Dataset | None:
        """The kept rows of ``ds``'s sources with their new texts; ``None`` when nothing was kept."""
        if not self._sources:
            return None
        texts = pa.chunked_array([chunk for part in self._texts for chunk in part.chunks], type=self._texts[0].type)
        column = (self.rounds.text_column, texts, Hasher.hash(self._names))
        return add_provenance(ds, np.concatenate(self._sources), self.rounds.augmenter.name, texts=column)
