"""The inputs a Balancer plan works on: one split, its labels, the per-class stats to fill, the options."""

from __future__ import annotations

from dataclasses import dataclass

import datasets
import numpy as np

from nlp_balance.resampling.balance_report import ClassBalanceStats
from nlp_balance.resampling.rounds import AugmentRounds
from nlp_balance.resampling.shortfall import ShortfallPolicy

__all__ = ["BalanceJob"]


@dataclass(frozen=True)
class BalanceJob:
    """One :meth:`Balancer.fit_resample` call on one split, as the plans see it.

    ``stats`` holds every class (ascending id) with its ``before`` and ``target`` counts; the plan
    fills in the rest. ``rounds`` is ``None`` when the Balancer duplicates instead of augmenting.
    """

    ds: datasets.Dataset
    y: np.ndarray
    stats: dict[int, ClassBalanceStats]
    seed: int
    max_synthetic_per_example: int | None
    on_shortfall: ShortfallPolicy
    rounds: AugmentRounds | None

    def need(self, c: int) -> int:
        """How many rows class ``c`` must gain to reach its target."""
        return self.stats[c].target - self.stats[c].before
