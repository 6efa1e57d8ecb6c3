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
