"""The :class:`Balancer`: bring each class of a training split to its target count.

New rows for a class are made from that class's own examples, either by an augmenter or by
duplication. Sources are taken in a seeded round-robin (every original is used once before any is
used twice), each output is seeded by ``(seed, source row, copy number)``, and the work runs through
batched ``datasets.map``, so progress bars, the cache and ``num_proc`` behave as in ``datasets``
and the result does not depend on ``num_proc`` or the batch size.
"""

from __future__ import annotations

import hashlib
import inspect
import logging
import math
import warnings
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import datasets
import numpy as np
from datasets.fingerprint import Hasher

from nlp_balance.augment.base import Augmenter, example_rng
from nlp_balance.data.labels import get_class_label, label_array
from nlp_balance.resampling.provenance import AUGMENTATION_COLUMN, SOURCE_INDEX_COLUMN
from nlp_balance.resampling.strategy import SamplingStrategy, resolve_sampling_strategy
from nlp_balance.utils.seeding import numpy_rng

logger = logging.getLogger(__name__)

__all__ = ["AUGMENTATION_COLUMN", "SOURCE_INDEX_COLUMN", "BalanceReport", "Balancer", "ClassBalanceStats"]


_EVAL_SPLITS = {"test", "validation", "valid", "val", "dev", "eval", "evaluation"}
#: A source example that failed this many times (no change, or a duplicate) is not tried again.
_MAX_FAILURES_PER_SOURCE = 3
#: A retry round asks for at most this many times the rows still needed.
_MAX_OVERREQUEST = 20
_VERSION = "1"


@dataclass
class ClassBalanceStats:
    """Per-class accounting of one :meth:`Balancer.fit_resample` call."""

    label: str
    before: int
    target: int
    synthetic: int = 0
    duplicated: int = 0
    failed_attempts: int = 0
    duplicates_dropped: int = 0

    @property
    def after(self) -> int:
        return self.before + self.synthetic + self.duplicated


@dataclass
class BalanceReport:
    """What the Balancer did, class by class; recorded on dataset cards and printed by the CLI."""

    augmenter: dict[str, Any] | None
    sampling_strategy: Any
    seed: int
    classes: list[ClassBalanceStats] = field(default_factory=list)
    rounds: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "augmenter": self.augmenter,
            "sampling_strategy": _jsonable(self.sampling_strategy),
            "seed": self.seed,
            "rounds": self.rounds,
            "classes": [{**asdict(c), "after": c.after} for c in self.classes],
        }


def _jsonable(value: Any) -> Any:
    if callable(value):
        return getattr(value, "__name__", repr(value))
    if isinstance(value, dict):
        return {str(k): v for k, v in value.items()}
    return value


def _text_key(text: str) -> bytes:
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=12).digest()


def _iter_column(ds: datasets.Dataset, column: str, chunk: int = 50_000) -> Any:
    """Yield ``(row, value)`` of one column, reading ``chunk`` rows at a time (bounded memory)."""
    for start in range(0, len(ds), chunk):
        for offset, value in enumerate(ds[start : start + chunk][column]):
            yield start + offset, value


class _AugmentBatch:
    """The picklable function that ``datasets.map`` runs: config only, seeded per (source, copy)."""

    def __init__(self, augmenter: Augmenter, seed: int, text_column: str) -> None:
        self.augmenter = augmenter
        self.seed = seed
        self.text_column = text_column
        self._takes_copies = "copies" in inspect.signature(augmenter.augment_batch).parameters

    def __call__(self, batch: dict[str, list[Any]]) -> dict[str, list[Any]]:
        sources = batch[SOURCE_INDEX_COLUMN]
        copies = batch["_nlpb_copy"]
        rngs = [example_rng(self.seed, int(s), int(k)) for s, k in zip(sources, copies)]
        texts = batch[self.text_column]
        if self._takes_copies:  # e.g. BackTranslation: copy k takes the k-th distinct variant
            outputs = self.augmenter.augment_batch(texts, rngs, copies=[int(k) for k in copies])
        else:
            outputs = self.augmenter.augment_batch(texts, rngs)
        cleaned = [None if (o is None or not o.strip() or o == t) else o for o, t in zip(outputs, texts)]
        return {self.text_column: cleaned}


class Balancer:
    """Rebalance the training split of a text-classification dataset.

    Args:
        augmenter: an :class:`~nlp_balance.augment.Augmenter` that writes new examples, or ``None``
            to duplicate existing ones.
        sampling_strategy: the target distribution, named as in imbalanced-learn's over-samplers
            (``"auto"``, ``"not majority"``, ``"minority"``, ``"all"``, a float for binary data, a dict
            of class (id or name) -> count, or a callable); see
            :func:`~nlp_balance.resampling.strategy.resolve_sampling_strategy`.
        max_synthetic_per_example: at most this many new rows from any one source example (``None``:
            no limit).
        seed: every random choice (source order, each augmentation) flows from it.
        num_proc: processes for ``datasets.map``; the output is the same for any value.
        text_column, label_column: the columns to read; the label column must be a ``ClassLabel``.
        batch_size: ``datasets.map`` batch size.
        on_shortfall: when the augmenter cannot reach a class's target (every source tried and
            failed), ``"duplicate"`` fills the rest with duplicates (marked in the provenance column),
            ``"warn"`` leaves the class short, ``"raise"`` raises. A warning says how many either way.
        split: the split of a ``DatasetDict`` to rebalance.
        allow_eval_split: rebalancing a split named test/validation changes evaluation data; it is
            refused unless this is true.
        load_from_cache_file: passed to ``datasets.map``.
        plan: ``"global"`` (default) retries a failed augmentation with the next source of the class
            and removes duplicates across the whole output; ``"per_source"`` gives every source row a
            fixed quota of new rows that it fills (or falls short of) on its own, deduplicated against
            every original text and its own outputs. Only ``"per_source"`` can be sharded.
        shard: ``(i, n)``: compute only part ``i`` of ``n`` (see :mod:`nlp_balance.resampling.sharding`). Targets
            come from the full label column; shard ``i`` returns original rows of its contiguous slice
            and the new rows of the sources whose plan position falls in its contiguous slice, so the
            ``n`` shards together hold exactly the rows of the unsharded result (same ``plan``).
    """

    def __init__(
        self,
        augmenter: Augmenter | None = None,
        sampling_strategy: SamplingStrategy = "auto",
        *,
        max_synthetic_per_example: int | None = None,
        seed: int = 0,
        num_proc: int | None = None,
        text_column: str = "text",
        label_column: str = "label",
        batch_size: int = 256,
        on_shortfall: Literal["duplicate", "warn", "raise"] = "duplicate",
        split: str = "train",
        allow_eval_split: bool = False,
        load_from_cache_file: bool | None = None,
        plan: Literal["global", "per_source"] = "global",
        shard: tuple[int, int] | None = None,
    ) -> None:
        if plan not in ("global", "per_source"):
            raise ValueError(f"plan must be 'global' or 'per_source', got {plan!r}")
        if shard is not None:
            from nlp_balance.resampling.sharding import check_shard

            shard = check_shard(shard)
            if plan != "per_source" and augmenter is not None:
                raise ValueError(
                    "sharding augmentation needs plan='per_source' (each source fills its own "
                    "quota, so shards do not depend on each other); got plan='global'"
                )
        if augmenter is not None and not isinstance(augmenter, Augmenter):
            raise TypeError(f"augmenter must be an nlp_balance Augmenter or None, got {type(augmenter).__name__}")
        if max_synthetic_per_example is not None and (
            not isinstance(max_synthetic_per_example, int) or max_synthetic_per_example < 1
        ):
            raise ValueError(
                f"max_synthetic_per_example must be a positive int or None, got {max_synthetic_per_example!r}"
            )
        if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool):
            raise ValueError(f"seed must be an int, got {seed!r}")
        if num_proc is not None and (not isinstance(num_proc, int) or num_proc < 1):
            raise ValueError(f"num_proc must be a positive int or None, got {num_proc!r}")
        if on_shortfall not in ("duplicate", "warn", "raise"):
            raise ValueError(f"on_shortfall must be 'duplicate', 'warn' or 'raise', got {on_shortfall!r}")
        if not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
        self.augmenter = augmenter
        self.sampling_strategy = sampling_strategy
        self.max_synthetic_per_example = max_synthetic_per_example
        self.seed = int(seed)
        self.num_proc = num_proc
        self.text_column = text_column
        self.label_column = label_column
        self.batch_size = batch_size
        self.on_shortfall = on_shortfall
        self.split = split
        self.allow_eval_split = allow_eval_split
        self.load_from_cache_file = load_from_cache_file
        self.plan = plan
        self.shard = shard

    def get_config(self) -> dict[str, Any]:
        """Everything that determines the output (what the fingerprint and dataset cards record)."""
        return {
            "version": _VERSION,
            "augmenter": None if self.augmenter is None else self.augmenter.describe(),
            "sampling_strategy": _jsonable(self.sampling_strategy),
            "max_synthetic_per_example": self.max_synthetic_per_example,
            "seed": self.seed,
            "text_column": self.text_column,
            "label_column": self.label_column,
            "on_shortfall": self.on_shortfall,
            **({"plan": self.plan} if self.plan != "global" else {}),
        }

    # ------------------------------------------------------------------------------------------------
    def fit_resample(self, dataset: datasets.Dataset | datasets.DatasetDict) -> Any:
        """Return the rebalanced dataset; a ``DatasetDict`` comes back with only ``split`` changed."""
        if isinstance(dataset, datasets.DatasetDict):
            if self.split not in dataset:
                raise KeyError(f"no {self.split!r} split to rebalance; splits are {sorted(dataset)}")
            self._check_split_name(self.split)
            out = datasets.DatasetDict(dict(dataset))
            out[self.split] = self._balance(dataset[self.split])
            return out
        if isinstance(dataset, datasets.IterableDataset):
            raise TypeError(
                "the Balancer needs a map-style Dataset (it counts classes first); "
                "for streaming data apply an augmenter with IterableDataset.map"
            )
        if not isinstance(dataset, datasets.Dataset):
            raise TypeError(f"expected a datasets.Dataset or DatasetDict, got {type(dataset).__name__}")
        if dataset.split is not None:
            self._check_split_name(str(dataset.split))
        return self._balance(dataset)

    def _check_split_name(self, name: str) -> None:
        if name.lower() in _EVAL_SPLITS and not self.allow_eval_split:
            raise ValueError(
                f"refusing to rebalance the {name!r} split: changing evaluation data makes its scores "
                "meaningless. Rebalance the training split, or pass allow_eval_split=True if you mean it."
            )

    def _balance(self, ds: datasets.Dataset) -> datasets.Dataset:
        names = get_class_label(ds, self.label_column).names
        if self.text_column not in ds.column_names:
            raise ValueError(f"text column {self.text_column!r} not found; columns are {ds.column_names}")
        for col in (SOURCE_INDEX_COLUMN, AUGMENTATION_COLUMN):
            if col in ds.column_names:
                raise ValueError(
                    f"the dataset already has a {col!r} column (was it balanced before?); rename or remove it "
                    "first so that provenance stays unambiguous"
                )
        if len(ds) == 0:
            raise ValueError("cannot balance an empty dataset (0 rows); check the split and any filtering before it")
        y = label_array(ds, self.label_column)
        targets = resolve_sampling_strategy(y, self.sampling_strategy, "over-sampling", label_names=names)
        counts = {c: int((y == c).sum()) for c in targets}
        report = BalanceReport(
            augmenter=None if self.augmenter is None else self.augmenter.describe(),
            sampling_strategy=self.sampling_strategy,
            seed=self.seed,
            classes=[ClassBalanceStats(label=names[c], before=counts[c], target=targets[c]) for c in sorted(targets)],
        )
        stats = {c: s for c, s in zip(sorted(targets), report.classes)}
        cycles = {
            c: _SourceCycle(np.flatnonzero(y == c), self.seed, c, self.max_synthetic_per_example)
            for c in sorted(targets)
            if targets[c] > counts[c]
        }

        if self.plan == "per_source" or self.shard is not None:
            return self._balance_per_source(ds, y, targets, counts, stats, report)
        base = self._with_provenance(ds, np.arange(len(ds), dtype=np.int64), "original")
        pieces: list[datasets.Dataset] = [base]
        if self.augmenter is not None and cycles:
            pieces += self._augment_rounds(ds, y, targets, counts, cycles, stats, report)
        shortfall = {c: targets[c] - stats[c].after for c in cycles if stats[c].after < targets[c]}
        if shortfall:
            self._handle_shortfall(ds, shortfall, cycles, stats, names, pieces)
        self.target_counts_ = targets
        self.report_ = report
        if len(pieces) == 1:
            return base
        out = datasets.concatenate_datasets(pieces)
        return out

    def _with_provenance(self, ds: datasets.Dataset, sources: np.ndarray, kind: str) -> datasets.Dataset:
        picked = ds if kind == "original" else ds.select(sources)
        picked = picked.add_column(
            SOURCE_INDEX_COLUMN,
            sources.astype(np.int64),
            new_fingerprint=Hasher.hash((picked._fingerprint, "src", kind)),
        )
        return picked.add_column(
            AUGMENTATION_COLUMN, [kind] * len(picked), new_fingerprint=Hasher.hash((picked._fingerprint, "aug", kind))
        )

    def _augment_round(
        self, ds: datasets.Dataset, src: np.ndarray, cp: np.ndarray, fn: _AugmentBatch, round_no: int, *tag: str
    ) -> datasets.Dataset:
        """One ``datasets.map`` over the planned (source row, copy) pairs, with a stable fingerprint."""
        assert self.augmenter is not None
        cp = cp.astype(np.int64)
        plan = self._with_provenance(ds, src, self.augmenter.name)
        plan = plan.add_column("_nlpb_copy", cp, new_fingerprint=Hasher.hash((plan._fingerprint, "copy", cp.tobytes())))
        return plan.map(
            fn,
            batched=True,
            batch_size=self.batch_size,
            num_proc=self.num_proc,
            new_fingerprint=Hasher.hash((plan._fingerprint, self.get_config(), *tag, round_no)),
            load_from_cache_file=self.load_from_cache_file,
            desc=f"Augmenting with {self.augmenter.name} (round {round_no})",
        )

    def _augment_rounds(
        self,
        ds: datasets.Dataset,
        y: np.ndarray,
        targets: dict[int, int],
        counts: dict[int, int],
        cycles: dict[int, _SourceCycle],
        stats: dict[int, ClassBalanceStats],
        report: BalanceReport,
    ) -> list[datasets.Dataset]:
        assert self.augmenter is not None
        seen: set[bytes] = {_text_key(t) for _, t in _iter_column(ds, self.text_column)}
        fn = _AugmentBatch(self.augmenter, self.seed, self.text_column)
        accepted: list[datasets.Dataset] = []
        round_no = 0
        while True:
            plan_src: list[np.ndarray] = []
            plan_copy: list[np.ndarray] = []
            for c, cycle in cycles.items():
                need = targets[c] - counts[c] - stats[c].synthetic
                if need > 0:
                    # Ask for more than needed when attempts have been failing (an augmenter that cannot
                    # change most texts of this class), so the retry rounds stay few; deterministic.
                    attempts = stats[c].synthetic + stats[c].failed_attempts + stats[c].duplicates_dropped
                    success = (stats[c].synthetic + 1) / (attempts + 1)
                    src, cp = cycle.take(min(math.ceil(need / success), need * _MAX_OVERREQUEST))
                    plan_src.append(src)
                    plan_copy.append(cp)
            if not plan_src or sum(p.size for p in plan_src) == 0:
                break
            round_no += 1
            src = np.concatenate(plan_src)
            cp = np.concatenate(plan_copy)
            out = self._augment_round(ds, src, cp, fn, round_no)
            keep = np.zeros(len(out), dtype=bool)
            for i, text in _iter_column(out, self.text_column):
                c = int(y[src[i]])
                if text is None:
                    stats[c].failed_attempts += 1
                    cycles[c].fail(int(src[i]))
                    continue
                key = _text_key(text)
                if key in seen:
                    stats[c].duplicates_dropped += 1
                    cycles[c].fail(int(src[i]))
                    continue
                if stats[c].synthetic >= targets[c] - counts[c]:
                    continue
                seen.add(key)
                keep[i] = True
                stats[c].synthetic += 1
            kept = np.flatnonzero(keep)
            if kept.size:
                accepted.append(out.select(kept).remove_columns("_nlpb_copy"))
        report.rounds = round_no
        return accepted

    def _balance_per_source(
        self,
        ds: datasets.Dataset,
        y: np.ndarray,
        targets: dict[int, int],
        counts: dict[int, int],
        stats: dict[int, ClassBalanceStats],
        report: BalanceReport,
    ) -> datasets.Dataset:
        """The shardable plan: each source row owns a fixed quota of new rows and fills it on its own."""
        from nlp_balance.resampling.sharding import shard_bounds

        index, num = self.shard if self.shard is not None else (0, 1)
        # Quotas: the class's need spread round-robin over its seeded source order (as the global plan).
        entries: list[tuple[int, int, int]] = []  # (class, source row, quota), in plan order
        for c in sorted(targets):
            need = targets[c] - counts[c]
            if need <= 0:
                continue
            order = _SourceCycle(np.flatnonzero(y == c), self.seed, c, None).order
            base, extra = divmod(need, order.size)
            entries += [
                (c, int(s), base + (1 if j < extra else 0))
                for j, s in enumerate(order)
                if base + (1 if j < extra else 0) > 0
            ]
        starts = np.cumsum([0] + [q for _, _, q in entries])
        lo, hi = shard_bounds(int(starts[-1]), index, num)
        mine = [e for e, start in zip(entries, starts[:-1]) if lo <= start < hi]
        row_lo, row_hi = shard_bounds(len(ds), index, num)
        pieces = [
            self._with_provenance(
                ds.select(range(row_lo, row_hi)) if num > 1 else ds,
                np.arange(row_lo, row_hi, dtype=np.int64),
                "original",
            )
        ]
        cap = self.max_synthetic_per_example
        synth_quota = {(c, s): (q if cap is None or self.augmenter is None else min(q, cap)) for c, s, q in mine}
        if self.augmenter is None:
            synth_quota = dict.fromkeys(synth_quota, 0)
        made: dict[tuple[int, int], int] = dict.fromkeys(synth_quota, 0)
        if self.augmenter is not None and mine:
            pieces += self._augment_per_source(ds, y, synth_quota, made, stats, report)
        short = {(c, s): q - made[(c, s)] for c, s, q in mine if made[(c, s)] < q}
        if short:
            total = sum(short.values())
            if self.augmenter is not None:
                per_class = {}
                for (c, _), n in short.items():
                    per_class[c] = per_class.get(c, 0) + n
                detail = ", ".join(f"{stats[c].label}: {n}" for c, n in sorted(per_class.items()))
                msg = f"the augmenter could not write enough distinct new examples ({total} short; {detail})"
                if self.on_shortfall == "raise":
                    raise RuntimeError(msg + "; use on_shortfall='duplicate' or 'warn', or another augmenter")
                if self.on_shortfall == "warn":
                    warnings.warn(msg + "; those classes stay below their targets", stacklevel=4)
                    short = {}
                else:
                    warnings.warn(msg + "; filled with duplicates (augmentation='duplicate')", stacklevel=4)
            if short:
                src = np.concatenate([np.full(n, s, dtype=np.int64) for (_, s), n in short.items()])
                for (c, _), n in short.items():
                    stats[c].duplicated += n
                pieces.append(self._with_provenance(ds, src, "duplicate"))
        self.target_counts_ = targets
        self.report_ = report
        return pieces[0] if len(pieces) == 1 else datasets.concatenate_datasets(pieces)

    def _augment_per_source(
        self,
        ds: datasets.Dataset,
        y: np.ndarray,
        quota: dict[tuple[int, int], int],
        made: dict[tuple[int, int], int],
        stats: dict[int, ClassBalanceStats],
        report: BalanceReport,
    ) -> list[datasets.Dataset]:
        assert self.augmenter is not None
        originals: set[bytes] = {_text_key(t) for _, t in _iter_column(ds, self.text_column)}
        own: dict[int, set[bytes]] = {}
        next_copy = dict.fromkeys(quota, 0)
        fails = dict.fromkeys(quota, 0)
        fn = _AugmentBatch(self.augmenter, self.seed, self.text_column)
        accepted: list[datasets.Dataset] = []
        round_no = 0
        while True:
            src_parts, copy_parts = [], []
            for key, q in quota.items():
                need = q - made[key]
                if need > 0 and fails[key] < _MAX_FAILURES_PER_SOURCE:
                    src_parts.append(np.full(need, key[1], dtype=np.int64))
                    copy_parts.append(np.arange(next_copy[key], next_copy[key] + need, dtype=np.int64))
                    next_copy[key] += need
            if not src_parts:
                break
            round_no += 1
            src, cp = np.concatenate(src_parts), np.concatenate(copy_parts)
            out = self._augment_round(ds, src, cp, fn, round_no, "per_source")
            keep = np.zeros(len(out), dtype=bool)
            for i, text in _iter_column(out, self.text_column):
                s = int(src[i])
                c = int(y[s])
                key = (c, s)
                if made[key] >= quota[key]:
                    continue
                if text is None:
                    stats[c].failed_attempts += 1
                    fails[key] += 1
                    continue
                digest = _text_key(text)
                mine = own.setdefault(s, set())
                if digest in originals or digest in mine:
                    stats[c].duplicates_dropped += 1
                    fails[key] += 1
                    continue
                mine.add(digest)
                keep[i] = True
                made[key] += 1
                stats[c].synthetic += 1
            kept = np.flatnonzero(keep)
            if kept.size:
                accepted.append(out.select(kept).remove_columns("_nlpb_copy"))
        report.rounds = round_no
        return accepted

    def _handle_shortfall(
        self,
        ds: datasets.Dataset,
        shortfall: dict[int, int],
        cycles: dict[int, _SourceCycle],
        stats: dict[int, ClassBalanceStats],
        names: list[str],
        pieces: list[datasets.Dataset],
    ) -> None:
        total = sum(shortfall.values())
        detail = ", ".join(f"{names[c]}: {n}" for c, n in shortfall.items())
        if self.augmenter is not None:
            msg = f"the augmenter could not write enough distinct new examples ({total} short; {detail})"
            if self.on_shortfall == "raise":
                raise RuntimeError(msg + "; use on_shortfall='duplicate' or 'warn', or another augmenter")
            if self.on_shortfall == "warn":
                warnings.warn(msg + "; those classes stay below their targets", stacklevel=3)
                return
            warnings.warn(msg + "; filled with duplicates (augmentation='duplicate')", stacklevel=3)
        src_parts = []
        for c, n in shortfall.items():
            src_parts.append(cycles[c].duplicates(n))
            stats[c].duplicated += n
        pieces.append(self._with_provenance(ds, np.concatenate(src_parts), "duplicate"))


class _SourceCycle:
    """Seeded round-robin over a class's rows: each row used once before any row is used again."""

    def __init__(self, members: np.ndarray, seed: int, label: int, cap: int | None) -> None:
        rng = numpy_rng(seed, "order", label)
        self.order = members[rng.permutation(members.size)]
        self.cap = cap
        self.position = 0  # how many (source, copy) pairs have been handed out
        self.failures: dict[int, int] = {}
        self.dup_position = 0

    def _alive(self, src: int) -> bool:
        return self.failures.get(src, 0) < _MAX_FAILURES_PER_SOURCE

    def take(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        """The next ``n`` (source, copy) pairs, skipping retired sources; fewer when exhausted."""
        size = self.order.size
        src: list[int] = []
        cp: list[int] = []
        limit = math.inf if self.cap is None else self.cap * size
        stale = 0
        while len(src) < n and self.position < limit and stale < size:
            s = int(self.order[self.position % size])
            k = self.position // size
            self.position += 1
            if self._alive(s):
                src.append(s)
                cp.append(k)
                stale = 0
            else:
                stale += 1
        return np.asarray(src, dtype=np.int64), np.asarray(cp, dtype=np.int64)

    def fail(self, src: int) -> None:
        self.failures[src] = self.failures.get(src, 0) + 1

    def duplicates(self, n: int) -> np.ndarray:
        """Rows to duplicate, in the same round-robin order (independent of augmentation attempts)."""
        idx = (self.dup_position + np.arange(n)) % self.order.size
        self.dup_position += n
        return self.order[idx]
