"""The seeded round-robin over a class's source rows that the Balancer's global plan draws from."""

from __future__ import annotations

import math

import numpy as np

from nlp_balance.utils.seeding import numpy_rng

__all__ = ["MAX_FAILURES_PER_SOURCE", "SourceCycle", "source_order"]

#: A source example that failed this many times (no change, or a duplicate) is not tried again.
MAX_FAILURES_PER_SOURCE = 3


def source_order(members: np.ndarray, seed: int, label: int) -> np.ndarray:
    """The rows of class ``label`` in the seeded order both plans hand them out."""
    return members[numpy_rng(seed, "order", label).permutation(members.size)]


class SourceCycle:
    """Seeded round-robin over a class's rows: each row used once before any row is used again.

    ``take`` hands out ``(source row, copy number)`` pairs for augmentation, skipping sources that
    have failed :data:`MAX_FAILURES_PER_SOURCE` times, and stops after ``cap`` copies per source
    (``None``: no cap). ``duplicates`` walks the same order separately, for rows to duplicate.
    """

    def __init__(self, members: np.ndarray, seed: int, label: int, cap: int | None) -> None:
        self.order = source_order(members, seed, label)
        self.cap = cap
        self.position = 0  # how many (source, copy) pairs have been handed out
        self.failures: dict[int, int] = {}
        self.dup_position = 0

    def _alive(self, src: int) -> bool:
        return self.failures.get(src, 0) < MAX_FAILURES_PER_SOURCE

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
        """Count one failed attempt (no change, or a duplicate) against source row ``src``."""
        self.failures[src] = self.failures.get(src, 0) + 1

    def duplicates(self, n: int) -> np.ndarray:
        """Rows to duplicate, in the same round-robin order (independent of augmentation attempts)."""
        idx = (self.dup_position + np.arange(n)) % self.order.size
        self.dup_position += n
        return self.order[idx]
