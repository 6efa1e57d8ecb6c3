"""What a :class:`~nlp_balance.resampling.Balancer` call did, class by class.

The report is recorded on dataset cards and printed by the CLI; :func:`jsonable` is how the
Balancer's ``sampling_strategy`` appears there and in the Balancer's config.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["BalanceReport", "ClassBalanceStats", "jsonable"]


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
        """The class's count in the output: the originals plus the new and the duplicated rows."""
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
        """The report as JSON-ready data, each class with its ``after`` count."""
        return {
            "augmenter": self.augmenter,
            "sampling_strategy": jsonable(self.sampling_strategy),
            "seed": self.seed,
            "rounds": self.rounds,
            "classes": [{**asdict(c), "after": c.after} for c in self.classes],
        }


def jsonable(sampling_strategy: Any) -> Any:
    """A ``sampling_strategy`` as JSON can hold it: a callable by its name, dict keys as strings."""
    if callable(sampling_strategy):
        return getattr(sampling_strategy, "__name__", repr(sampling_strategy))
    if isinstance(sampling_strategy, dict):
        return {str(k): v for k, v in sampling_strategy.items()}
    return sampling_strategy
