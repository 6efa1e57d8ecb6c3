"""SourceCycle: the seeded round-robin over a class's rows that the global plan draws from."""

from __future__ import annotations

from collections import Counter

import numpy as np

from nlp_balance.resampling.source_cycle import MAX_FAILURES_PER_SOURCE, SourceCycle, source_order
from nlp_balance.utils.seeding import numpy_rng

MEMBERS = np.array([3, 8, 10, 15, 21], dtype=np.int64)


def test_order_is_a_seeded_permutation_of_the_class_rows():
    order = source_order(MEMBERS, 4, 1)
    assert sorted(order.tolist()) == MEMBERS.tolist()
    assert np.array_equal(order, MEMBERS[numpy_rng(4, "order", 1).permutation(MEMBERS.size)])
    assert np.array_equal(SourceCycle(MEMBERS, 4, 1, None).order, order)
    others = {tuple(source_order(MEMBERS, seed, label).tolist()) for seed in range(4) for label in range(4)}
    assert len(others) > 1


def test_every_row_is_used_once_before_any_is_used_twice():
    cycle = SourceCycle(MEMBERS, 0, 0, None)
    src, cp = cycle.take(12)
    assert src.tolist() == np.tile(cycle.order, 3)[:12].tolist()
    assert cp.tolist() == [0] * 5 + [1] * 5 + [2] * 2
    more, more_cp = cycle.take(3)  # carries on where it stopped
    assert more.tolist() == cycle.order[2:5].tolist() and more_cp.tolist() == [2, 2, 2]


def test_a_source_that_keeps_failing_is_retired():
    cycle = SourceCycle(MEMBERS, 0, 0, None)
    dead = int(cycle.order[0])
    for _ in range(MAX_FAILURES_PER_SOURCE):
        cycle.fail(dead)
    src, _ = cycle.take(8)
    assert dead not in src.tolist() and len(src) == 8
    for s in MEMBERS.tolist():
        for _ in range(MAX_FAILURES_PER_SOURCE):
            cycle.fail(s)
    assert cycle.take(5)[0].size == 0  # every source retired: nothing more to hand out


def test_cap_limits_copies_per_source():
    cycle = SourceCycle(MEMBERS, 0, 0, 2)
    src, cp = cycle.take(100)
    assert len(src) == 10 and max(Counter(src.tolist()).values()) == 2 and set(cp.tolist()) == {0, 1}


def test_duplicates_follow_the_order_independently_of_augmentation():
    cycle = SourceCycle(MEMBERS, 9, 2, None)
    cycle.take(3)
    first = cycle.duplicates(7)
    assert first.tolist() == np.tile(cycle.order, 2)[:7].tolist()
    assert cycle.duplicates(4).tolist() == np.tile(cycle.order, 3)[7:11].tolist()


def _walk(cycle: SourceCycle, n: int) -> tuple[list[int], list[int]]:
    """``take`` as the one-by-one walk it stands for: the reference the vectorised version must equal."""
    size = cycle.order.size
    limit = float("inf") if cycle.cap is None else cycle.cap * size
    src, cp, stale = [], [], 0
    while len(src) < n and cycle.position < limit and stale < size:
        s = int(cycle.order[cycle.position % size])
        k = cycle.position // size
        cycle.position += 1
        if cycle.failures.get(s, 0) < MAX_FAILURES_PER_SOURCE:
            src.append(s)
            cp.append(k)
            stale = 0
        else:
            stale += 1
    return src, cp


def test_take_equals_the_one_by_one_walk():
    rnd = np.random.default_rng(0)
    for trial in range(400):
        members = np.sort(rnd.choice(100, size=int(rnd.integers(1, 12)), replace=False))
        cap = [None, 1, 2, 3][trial % 4]
        fast, slow = SourceCycle(members, trial, 1, cap), SourceCycle(members, trial, 1, cap)
        for _ in range(8):
            for s in rnd.choice(members, size=int(rnd.integers(0, 4))):
                fast.fail(int(s))
                slow.fail(int(s))
            n = int(rnd.integers(0, 30))
            got, want = fast.take(n), _walk(slow, n)
            assert got[0].tolist() == want[0] and got[1].tolist() == want[1] and fast.position == slow.position
