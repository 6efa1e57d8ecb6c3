"""The Balancer's shardable plan, ``"per_source"``: every source row owns a fixed quota of new rows.

A class's need is spread round-robin over its seeded source order (as in the global plan), so
each source row gets a quota it fills, or falls short of, on its own: its new texts are checked
only against every original text and its own outputs. Nothing depends on the other sources, so
shard ``i`` of ``n`` can compute just the sources whose plan position falls in its slice.
"""

from __future__ import annotations

from collections.abc import Mapping

import datasets
import numpy as np

from nlp_balance.resampling.job import BalanceJob
from nlp_balance.resampling.provenance import add_provenance
from nlp_balance.resampling.rounds import AcceptedRows, AugmentRounds, iter_chunks, text_keys_of
from nlp_balance.resampling.sharding import shard_bounds
from nlp_balance.resampling.shortfall import fill_with_duplicates
from nlp_balance.resampling.source_cycle import MAX_FAILURES_PER_SOURCE, source_order

__all__ = ["balance_per_source"]

Key = tuple[int, int]  # (class, source row)


def balance_per_source(job: BalanceJob, shard: tuple[int, int] | None) -> tuple[datasets.Dataset, int]:
    """This shard's rows of the rebalanced split, and the number of augmentation rounds.

    Shard ``(i, n)`` holds the original rows of its contiguous slice of the split and the new rows
    of the sources whose plan position falls in its slice of the plan; ``None`` is the whole split.
    """
    index, num = shard if shard is not None else (0, 1)
    quota = {(c, s): q for c, s, q in _in_shard(_quotas(job), index, num)}
    row_lo, row_hi = shard_bounds(len(job.ds), index, num)
    originals = job.ds.select(range(row_lo, row_hi)) if num > 1 else job.ds
    pieces = [add_provenance(originals, np.arange(row_lo, row_hi, dtype=np.int64), "original")]
    made = dict.fromkeys(quota, 0)
    rounds = 0
    if job.rounds is not None and quota:
        cap = job.max_synthetic_per_example
        synth_quota = {key: q if cap is None else min(q, cap) for key, q in quota.items()}
        accepted, rounds = _augment(job, job.rounds, synth_quota, made)
        if accepted is not None:
            pieces.append(accepted)
    short = {key: q - made[key] for key, q in quota.items() if made[key] < q}
    if short and fill_with_duplicates(_by_class(short), job.stats, job.on_shortfall, augmented=job.rounds is not None):
        for (c, _), n in short.items():
            job.stats[c].duplicated += n
        src = np.concatenate([np.full(n, s, dtype=np.int64) for (_, s), n in short.items()])
        pieces.append(add_provenance(job.ds, src, "duplicate"))
    return (pieces[0] if len(pieces) == 1 else datasets.concatenate_datasets(pieces)), rounds


def _quotas(job: BalanceJob) -> list[tuple[int, int, int]]:
    """``(class, source row, quota)`` in plan order: each class's need spread over its source order."""
    entries: list[tuple[int, int, int]] = []
    for c in job.stats:
        need = job.need(c)
        if need <= 0:
            continue
        order = source_order(np.flatnonzero(job.y == c), job.seed, c)
        base, extra = divmod(need, order.size)
        for j, s in enumerate(order):
            q = base + (1 if j < extra else 0)
            if q > 0:
                entries.append((c, int(s), q))
    return entries


def _in_shard(entries: list[tuple[int, int, int]], index: int, num: int) -> list[tuple[int, int, int]]:
    """The entries whose first planned row falls in shard ``index`` of ``num`` of all planned rows."""
    starts = np.cumsum([0] + [q for _, _, q in entries])
    lo, hi = shard_bounds(int(starts[-1]), index, num)
    return [e for e, start in zip(entries, starts[:-1]) if lo <= start < hi]


def _by_class(short: Mapping[Key, int]) -> dict[int, int]:
    """Rows missing per class, from rows missing per (class, source row)."""
    per_class: dict[int, int] = {}
    for (c, _), n in short.items():
        per_class[c] = per_class.get(c, 0) + n
    return per_class


def _augment(
    job: BalanceJob, rounds: AugmentRounds, quota: dict[Key, int], made: dict[Key, int]
) -> tuple[datasets.Dataset | None, int]:
    """Rounds until every source has filled its quota or failed too often: accepted rows, rounds run.

    ``made`` counts each source's accepted rows.
    """
    originals = rounds.text_keys(job.ds)
    own: dict[int, set[bytes]] = {}
    next_copy = dict.fromkeys(quota, 0)
    fails = dict.fromkeys(quota, 0)
    accepted = AcceptedRows(rounds)
    round_no = 0
    while True:
        src, cp = _requests(quota, made, next_copy, fails)
        if src.size == 0:
            return accepted.dataset(job.ds), round_no
        round_no += 1
        out = rounds.run(job.ds, src, cp, round_no, "per_source")
        keep = np.zeros(len(out), dtype=bool)
        sources, classes = src.tolist(), job.y[src].tolist()
        for start, texts in iter_chunks(out, rounds.text_column):
            for i, digest in enumerate(text_keys_of(texts), start):
                s = sources[i]
                key = (classes[i], s)
                if made[key] < quota[key]:
                    keep[i] = _accept(job, key, digest, originals, own.setdefault(s, set()), fails)
                    made[key] += int(keep[i])
        accepted.add(out, src, np.flatnonzero(keep))


def _requests(
    quota: dict[Key, int], made: dict[Key, int], next_copy: dict[Key, int], fails: dict[Key, int]
) -> tuple[np.ndarray, np.ndarray]:
    """This round's ``(source row, copy)`` pairs: what each live source still lacks, as new copy numbers."""
    src_parts, copy_parts = [np.empty(0, dtype=np.int64)], [np.empty(0, dtype=np.int64)]
    for key, q in quota.items():
        need = q - made[key]
        if need > 0 and fails[key] < MAX_FAILURES_PER_SOURCE:
            src_parts.append(np.full(need, key[1], dtype=np.int64))
            copy_parts.append(np.arange(next_copy[key], next_copy[key] + need, dtype=np.int64))
            next_copy[key] += need
    return np.concatenate(src_parts), np.concatenate(copy_parts)


def _accept(
    job: BalanceJob, key: Key, digest: bytes | None, originals: set[bytes], own: set[bytes], fails: dict[Key, int]
) -> bool:
    """Whether to keep one output of source ``key`` (its :func:`text_key`, ``None`` for a failed
    attempt): a text that is no original and not one of its own.

    A failed attempt or a duplicate counts against the source in ``fails`` and in the stats.
    """
    stats = job.stats[key[0]]
    if digest is None:
        stats.failed_attempts += 1
        fails[key] += 1
        return False
    if digest in originals or digest in own:
        stats.duplicates_dropped += 1
        fails[key] += 1
        return False
    own.add(digest)
    stats.synthetic += 1
    return True
