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

    def take(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        """The next ``n`` (source, copy) pairs, skipping retired sources; fewer when exhausted.

        Walks the positions of the round-robin one by one in effect (position ``p`` is source
        ``order[p % size]``, copy ``p // size``): it stops after ``n`` live sources, at the cap, or
        after a whole cycle without a live source, and leaves ``position`` where that walk would.
        """
        size = self.order.size
        limit = math.inf if self.cap is None else self.cap * size
        empty = np.empty(0, dtype=np.int64)
        if n <= 0 or self.position >= limit:
            return empty, empty
        retired = [s for s, f in self.failures.items() if f >= MAX_FAILURES_PER_SOURCE]
        live = np.flatnonzero(~np.isin(self.order, retired))  # offsets in the cycle of the live sources
        if live.size == 0:  # a whole cycle of retired sources ends the walk
            self.position = int(min(self.position + size, limit))
            return empty, empty
        cycle, offset = divmod(self.position, size)
        steps = np.searchsorted(live, offset) + np.arange(n, dtype=np.int64)  # the next n live positions
        positions = (cycle + steps // live.size) * size + live[steps % live.size]
        if positions[-1] >= limit:
            positions = positions[positions < limit]
            self.position = int(limit)
        else:
            self.position = int(positions[-1]) + 1
        return self.order[positions % size].astype(np.int64), (positions // size).astype(np.int64)

    def fail(self, src: int) -> None:
        """Count one failed attempt (no change, or a duplicate) against source row ``src``."""
        self.failures[src] = self.failures.get(src, 0) + 1

    def duplicates(self, n: int) -> np.ndarray:
        """Rows to duplicate, in the same round-robin order (independent of augmentation attempts)."""
        idx = (self.dup_position + np.arange(n)) % self.order.size
        self.dup_position += n
        return self.order[idx]
