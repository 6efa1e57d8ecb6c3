"""Seeds derived from a key, the same in every process: the one hash-to-seed of the package.

Every random choice in nlp_balance flows from the user's ``seed`` through :func:`derive_seed`:
the seed is a BLAKE2 digest of the key's ``repr``, so it does not depend on ``PYTHONHASHSEED``,
process, shard, batch boundaries or ``num_proc``.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterable
from typing import Any

import numpy as np

__all__ = ["derive_seed", "example_rng", "example_seeds", "numpy_rng"]


def derive_seed(*key: Any) -> int:
    """A 64-bit seed from ``key`` (e.g. ``(seed, source_index, copy)``): BLAKE2 of ``repr(key)``."""
    digest = hashlib.blake2b(repr(key).encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "little")


def example_seeds(seed: int, sources: Iterable[int], copies: Iterable[int]) -> list[int]:
    """``[derive_seed(seed, int(s), int(k)) for s, k in zip(sources, copies)]``, with the key's ``repr``
    formatted directly (one per planned row of a Balancer round; about 20% less time, measured on 30k rows)."""
    blake, from_bytes = hashlib.blake2b, int.from_bytes
    head = f"({seed!r}, "
    return [from_bytes(blake(f"{head}{int(s)!r}, {int(k)!r})".encode(), digest_size=8).digest(), "little")
            for s, k in zip(sources, copies)]


def example_rng(*key: Any) -> random.Random:
    """A ``random.Random`` seeded by :func:`derive_seed` of ``key``."""
    return random.Random(derive_seed(*key))


def numpy_rng(*key: Any) -> np.random.Generator:
    """A NumPy ``Generator`` seeded by :func:`derive_seed` of ``key``."""
    return np.random.default_rng(derive_seed(*key))
