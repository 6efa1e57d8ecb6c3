"""derive_seed and its batched form: the same seeds whatever the input types."""

from __future__ import annotations

import numpy as np

from nlp_balance.utils.seeding import derive_seed, example_seeds


def test_example_seeds_equal_derive_seed_per_row() -> None:
    sources = [0, 1, 7, 10**9, 2**40 + 3, *np.arange(5, 9)]  # numpy ints too, as Arrow batches may give
    copies = [0, 3, 1, 2, 0, *np.arange(4)]
    for seed in (0, 1, 42, 2**63 - 1, -5, True):
        assert example_seeds(seed, sources, copies) == [derive_seed(seed, int(s), int(k))
                                                        for s, k in zip(sources, copies)]
    assert example_seeds(np.int64(3), [1], [2]) == [derive_seed(np.int64(3), 1, 2)]  # the seed as given
    assert example_seeds(0, [], []) == []


def test_derive_seed_is_pinned() -> None:
    # the value every golden output of the Balancer rests on: a change here changes every augmented byte
    assert derive_seed(0, 1, 2) == int.from_bytes(
        __import__("hashlib").blake2b(b"(0, 1, 2)", digest_size=8).digest(), "little")
