"""Class-balanced sampling with replacement, seeded and safe under distributed training.

:class:`BalancedSampler` draws example indices so that each class appears with a chosen share:
``"weighted"`` gives every class the same share (inverse-frequency weights), ``"sqrt"`` gives each
class a share proportional to the square root of its count (a milder rebalancing). Every draw comes
from one global stream seeded by ``(seed, epoch)``, so a run is reproducible and every process of a
distributed job agrees on the stream; each process then reads its own disjoint slice of it.

:class:`LengthGroupedBalancedSampler` draws the same stream and then sorts it by example length
inside windows of about 50 batches (as ``transformers``' ``LengthGroupedSampler`` sorts its random
permutation), so that batches pad to little more than their own longest example. A window holds
exactly the draws it held before sorting, so the class shares are those of the unsorted stream.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np
from torch.utils.data import Sampler

__all__ = [
    "SAMPLER_MODES",
    "BalancedSampler",
    "LengthGroupedBalancedSampler",
    "class_target_shares",
    "example_lengths",
    "example_weights",
    "group_by_length",
]

#: Accepted values of ``mode`` (and of ``BalancedTrainingArguments.sampler``).
SAMPLER_MODES = ("weighted", "sqrt")


def _as_label_array(labels: Sequence[int] | np.ndarray) -> np.ndarray:
    arr = np.asarray(labels)
    if arr.ndim != 1:
        raise ValueError(
            f"balanced sampling needs one integer label per example (a 1-D array), got shape {arr.shape}; "
            "multi-label data cannot be balanced by class sampling"
        )
    if arr.size == 0:
        raise ValueError("balanced sampling needs at least one labelled example, got an empty label list")
    if not np.issubdtype(arr.dtype, np.integer):
        if np.issubdtype(arr.dtype, np.floating) and np.all(np.mod(arr, 1) == 0):
            arr = arr.astype(np.int64)
        else:
            raise ValueError(f"labels must be integer class ids, got dtype {arr.dtype}")
    return arr.astype(np.int64)


def class_target_shares(counts: Sequence[int] | np.ndarray, mode: str = "weighted") -> np.ndarray:
    """Share of draws each class should receive: uniform (``"weighted"``) or ∝ sqrt(count) (``"sqrt"``).

    Classes with no examples get share 0 (nothing can be drawn from them).
    """
    if mode not in SAMPLER_MODES:
        raise ValueError(f"sampler mode must be one of {SAMPLER_MODES}, got {mode!r}")
    counts = np.asarray(counts, dtype=np.float64)
    if counts.ndim != 1 or np.any(counts < 0) or counts.sum() <= 0:
        raise ValueError(f"class counts must be a non-negative 1-D array with a positive total, got {counts!r}")
    raw = (counts > 0).astype(np.float64) if mode == "weighted" else np.sqrt(counts)
    return raw / raw.sum()


def example_weights(
    labels: Sequence[int] | np.ndarray, mode: str = "weighted", num_classes: int | None = None
) -> np.ndarray:
    """Per-example draw probabilities (summing to 1) that realise :func:`class_target_shares`.

    Examples whose label is negative (e.g. ``-100``, "ignore") get probability 0.
    """
    arr = _as_label_array(labels)
    valid = arr >= 0
    if not valid.any():
        raise ValueError("every label is negative (ignored); there is nothing to sample")
    k = int(arr[valid].max()) + 1
    if num_classes is not None:
        if num_classes < k:
            raise ValueError(f"num_classes={num_classes} but a label {k - 1} was found")
        k = num_classes
    counts = np.bincount(arr[valid], minlength=k).astype(np.float64)
    shares = class_target_shares(counts, mode)
    per_class = np.divide(shares, counts, out=np.zeros_like(shares), where=counts > 0)
    probs = np.where(valid, per_class[np.clip(arr, 0, None)], 0.0)
    return probs / probs.sum()


class BalancedSampler(Sampler[int]):
    """Draw indices with replacement so that classes appear with the shares of ``mode``.

    Args:
        labels: one integer class id per example of the dataset (the FULL dataset, not a shard).
        mode: ``"weighted"`` (every class equally often) or ``"sqrt"`` (share ∝ sqrt(count)).
        num_samples: draws per epoch over all processes; defaults to ``len(labels)``.
        seed: the stream for epoch ``e`` depends only on ``(seed, e)``.
        num_replicas, rank: when ``num_replicas > 1`` this sampler yields only rank ``rank``'s slice
            (every ``num_replicas``-th draw, like ``DistributedSampler``); the global stream is padded
            by wrapping so that every rank gets the same number of draws. Leave them at 1/0 when a
            wrapper (``accelerate``'s ``BatchSamplerShard``, as used by the Trainer) shards batches itself.
        num_classes: total number of classes, when some class may be absent from ``labels``.
    """

    def __init__(
        self,
        labels: Sequence[int] | np.ndarray,
        mode: str = "weighted",
        num_samples: int | None = None,
        seed: int = 0,
        num_replicas: int = 1,
        rank: int = 0,
        num_classes: int | None = None,
    ) -> None:
        self.probs = example_weights(labels, mode, num_classes=num_classes)
        self.mode = mode
        self.num_samples = len(self.probs) if num_samples is None else int(num_samples)
        if self.num_samples <= 0:
            raise ValueError(f"num_samples must be positive, got {num_samples!r}")
        if not isinstance(num_replicas, int) or num_replicas < 1:
            raise ValueError(f"num_replicas must be a positive integer, got {num_replicas!r}")
        if not isinstance(rank, int) or not 0 <= rank < num_replicas:
            raise ValueError(f"rank must be in [0, {num_replicas}), got {rank!r}")
        self.seed = int(seed)
        self.num_replicas = num_replicas
        self.rank = rank
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        """Select the stream of ``epoch`` (the Trainer and accelerate call this at each epoch start)."""
        self.epoch = int(epoch)

    def global_stream(self, epoch: int | None = None) -> np.ndarray:
        """All draws of one epoch before sharding: identical on every process."""
        epoch = self.epoch if epoch is None else int(epoch)
        rng = np.random.default_rng(np.random.SeedSequence([self.seed, epoch, 0x5A4D]))
        total = -(-self.num_samples // self.num_replicas) * self.num_replicas
        return rng.choice(len(self.probs), size=total, replace=True, p=self.probs)

    def __iter__(self) -> Iterator[int]:
        stream = self.global_stream()
        yield from (int(i) for i in stream[self.rank :: self.num_replicas])

    def __len__(self) -> int:
        return -(-self.num_samples // self.num_replicas)

    def __repr__(self) -> str:
        return (
            f"BalancedSampler(mode={self.mode!r}, num_samples={self.num_samples}, seed={self.seed}, "
            f"num_replicas={self.num_replicas}, rank={self.rank})"
        )

    def state(self) -> dict[str, Any]:
        """Configuration for logs and provenance."""
        return {"mode": self.mode, "num_samples": self.num_samples, "seed": self.seed, "epoch": self.epoch}


#: Batches per sorting window of :class:`LengthGroupedBalancedSampler` (``transformers`` uses 50 too).
MEGA_BATCH_MULT = 50


def group_by_length(indices: np.ndarray, lengths: np.ndarray, window: int) -> np.ndarray:
    """``indices`` with each run of ``window`` consecutive entries sorted by ``lengths[index]``,
    longest first (ties keep their order); the last run may be shorter."""
    indices = np.asarray(indices, dtype=np.int64)
    if window < 1:
        raise ValueError(f"window must be a positive number of indices, got {window!r}")
    out = indices.copy()
    full = indices.size // window * window
    if full:
        runs = indices[:full].reshape(-1, window)
        order = np.argsort(-lengths[runs], axis=1, kind="stable")
        out[:full] = np.take_along_axis(runs, order, axis=1).ravel()
    rest = indices[full:]
    out[full:] = rest[np.argsort(-lengths[rest], kind="stable")]
    return out


class LengthGroupedBalancedSampler(BalancedSampler):
    """:class:`BalancedSampler` whose stream is sorted by example length inside windows of batches.

    The draws of an epoch are those of :class:`BalancedSampler` with the same arguments; each run of
    ``mega_batch_mult * batch_size`` consecutive draws is then sorted longest first, so consecutive
    batches hold examples of similar length and pad little. Class shares over a window (and an epoch)
    are unchanged; within one batch, classes whose texts differ in length are less evenly mixed.

    Args:
        labels, mode, num_samples, seed, num_replicas, rank, num_classes: as for :class:`BalancedSampler`.
        lengths: one length (e.g. tokens) per example of the dataset.
        batch_size: examples per optimizer step over all processes (per-device batch x gradient
            accumulation x processes), so that every configuration with the same global batch sorts
            the same windows and takes the same examples at each step.
        mega_batch_mult: batches per window; default 50, fewer for a stream under 200 batches
            (``transformers``' rule), at least 1.
    """

    def __init__(
        self,
        labels: Sequence[int] | np.ndarray,
        lengths: Sequence[int] | np.ndarray,
        batch_size: int,
        mode: str = "weighted",
        num_samples: int | None = None,
        seed: int = 0,
        num_replicas: int = 1,
        rank: int = 0,
        num_classes: int | None = None,
        mega_batch_mult: int | None = None,
    ) -> None:
        super().__init__(labels, mode, num_samples, seed, num_replicas, rank, num_classes)
        self.lengths = np.asarray(lengths)
        if self.lengths.shape != self.probs.shape:
            raise ValueError(f"lengths must hold one number per example ({self.probs.size}), got shape "
                             f"{self.lengths.shape}")
        if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
        if mega_batch_mult is None:
            mega_batch_mult = min(self.num_samples // (batch_size * 4), MEGA_BATCH_MULT)
        elif not isinstance(mega_batch_mult, int) or mega_batch_mult < 1:
            raise ValueError(f"mega_batch_mult must be a positive integer, got {mega_batch_mult!r}")
        self.batch_size = batch_size
        self.window = max(1, mega_batch_mult) * batch_size

    def global_stream(self, epoch: int | None = None) -> np.ndarray:
        """The :class:`BalancedSampler` stream of ``epoch``, sorted by length inside each window."""
        return group_by_length(super().global_stream(epoch), self.lengths, self.window)

    def __repr__(self) -> str:
        inner = super().__repr__().split("(", 1)[1][:-1]
        return f"{type(self).__name__}({inner}, batch_size={self.batch_size}, window={self.window})"

    def state(self) -> dict[str, Any]:
        """Configuration for logs and provenance."""
        return {**super().state(), "group_by_length": {"batch_size": self.batch_size, "window": self.window}}


def example_lengths(dataset: Any, length_column: str | None = "length", input_name: str = "input_ids") -> np.ndarray:
    """One length per example: the ``length_column`` values when the dataset has that column, else the
    number of ``input_name`` entries (read from Arrow in one pass for a ``datasets.Dataset``)."""
    column_names = getattr(dataset, "column_names", None)
    if isinstance(column_names, list) and length_column in column_names:
        values = dataset[length_column]
        return np.asarray(values.to_pylist() if hasattr(values, "to_pylist") else list(values), dtype=np.int64)
    if isinstance(column_names, list) and input_name in column_names and hasattr(dataset, "with_format"):
        import pyarrow.compute as pc

        table = dataset.select_columns([input_name]).with_format("arrow")[:]
        return pc.list_value_length(table.column(0)).to_numpy(zero_copy_only=False).astype(np.int64)
    lengths = []
    for i in range(len(dataset)):
        item = dataset[i]
        if not isinstance(item, Mapping) or input_name not in item:
            raise ValueError(f"grouping by length needs a {length_column!r} column or an {input_name!r} "
                             f"entry in every example; example {i} has neither")
        lengths.append(len(item[input_name]))
    return np.asarray(lengths, dtype=np.int64)
