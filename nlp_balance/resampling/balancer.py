"""The :class:`Balancer`: bring each class of a training split to its target count.

New rows for a class are made from that class's own examples, either by an augmenter or by
duplication. Sources are taken in a seeded round-robin (every original is used once before any is
used twice), each output is seeded by ``(seed, source row, copy number)``, and the work runs through
batched ``datasets.map``, so progress bars, the cache and ``num_proc`` behave as in ``datasets``
and the result does not depend on ``num_proc`` or the batch size.

This module checks the arguments and the split and counts the targets; the plans that make the
rows are :mod:`~nlp_balance.resampling.global_plan` and :mod:`~nlp_balance.resampling.per_source_plan`.
"""

from __future__ import annotations

from typing import Any, Literal

import datasets
import numpy as np

from nlp_balance.augment.base import Augmenter
from nlp_balance.data.labels import get_class_label, label_array
from nlp_balance.resampling.balance_report import BalanceReport, ClassBalanceStats, jsonable
from nlp_balance.resampling.global_plan import balance_globally
from nlp_balance.resampling.job import BalanceJob
from nlp_balance.resampling.per_source_plan import balance_per_source
from nlp_balance.resampling.provenance import AUGMENTATION_COLUMN, SOURCE_INDEX_COLUMN
from nlp_balance.resampling.rounds import AugmentRounds
from nlp_balance.resampling.sharding import check_shard
from nlp_balance.resampling.shortfall import SHORTFALL_POLICIES, ShortfallPolicy
from nlp_balance.resampling.strategy import SamplingStrategy, resolve_sampling_strategy

__all__ = ["BalanceReport", "Balancer", "ClassBalanceStats"]

#: Split names the Balancer refuses to rebalance unless ``allow_eval_split=True``.
_EVAL_SPLITS = {"test", "validation", "valid", "val", "dev", "eval", "evaluation"}
#: Bump when the output for the same config changes (part of every fingerprint).
_VERSION = "1"


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
        batch_size: ``datasets.map`` batch size (``datasets``' own default); the output does not depend on it.
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
        batch_size: int = 1000,
        on_shortfall: ShortfallPolicy = "duplicate",
        split: str = "train",
        allow_eval_split: bool = False,
        load_from_cache_file: bool | None = None,
        plan: Literal["global", "per_source"] = "global",
        shard: tuple[int, int] | None = None,
    ) -> None:
        _check_arguments(augmenter, max_synthetic_per_example, seed, num_proc, on_shortfall, batch_size, plan)
        if shard is not None:
            shard = check_shard(shard)
            if plan != "per_source" and augmenter is not None:
                raise ValueError(
                    "sharding augmentation needs plan='per_source' (each source fills its own "
                    "quota, so shards do not depend on each other); got plan='global'"
                )
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
            "sampling_strategy": jsonable(self.sampling_strategy),
            "max_synthetic_per_example": self.max_synthetic_per_example,
            "seed": self.seed,
            "text_column": self.text_column,
            "label_column": self.label_column,
            "on_shortfall": self.on_shortfall,
            **({"plan": self.plan} if self.plan != "global" else {}),
        }

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
        self._check_columns(ds)
        y = label_array(ds, self.label_column)
        targets = resolve_sampling_strategy(y, self.sampling_strategy, "over-sampling", label_names=names)
        report = BalanceReport(
            augmenter=None if self.augmenter is None else self.augmenter.describe(),
            sampling_strategy=self.sampling_strategy,
            seed=self.seed,
            classes=[
                ClassBalanceStats(label=names[c], before=int((y == c).sum()), target=targets[c])
                for c in sorted(targets)
            ],
        )
        job = BalanceJob(
            ds=ds,
            y=y,
            stats=dict(zip(sorted(targets), report.classes)),
            seed=self.seed,
            max_synthetic_per_example=self.max_synthetic_per_example,
            on_shortfall=self.on_shortfall,
            rounds=self._rounds(),
        )
        if self.plan == "per_source" or self.shard is not None:
            out, report.rounds = balance_per_source(job, self.shard)
        else:
            out, report.rounds = balance_globally(job)
        self.target_counts_ = targets
        self.report_ = report
        return out

    def _check_columns(self, ds: datasets.Dataset) -> None:
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

    def _rounds(self) -> AugmentRounds | None:
        if self.augmenter is None:
            return None
        return AugmentRounds(
            augmenter=self.augmenter,
            seed=self.seed,
            text_column=self.text_column,
            batch_size=self.batch_size,
            num_proc=self.num_proc,
            load_from_cache_file=self.load_from_cache_file,
            config=self.get_config(),
            label_column=self.label_column,  # read only by an augmenter that takes labels
        )


def _check_arguments(
    augmenter: Any,
    max_synthetic_per_example: Any,
    seed: Any,
    num_proc: Any,
    on_shortfall: Any,
    batch_size: Any,
    plan: Any,
) -> None:
    """Refuse a bad Balancer argument with an error naming it and its value."""
    if plan not in ("global", "per_source"):
        raise ValueError(f"plan must be 'global' or 'per_source', got {plan!r}")
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
    if on_shortfall not in SHORTFALL_POLICIES:
        raise ValueError(f"on_shortfall must be 'duplicate', 'warn' or 'raise', got {on_shortfall!r}")
    if not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
