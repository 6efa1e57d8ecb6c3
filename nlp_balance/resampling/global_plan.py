"""The Balancer's default plan, ``"global"``: retry a failed augmentation with the next source of the class.

Each class that needs rows draws ``(source row, copy)`` pairs from its :class:`SourceCycle`, round
after round, until it reaches its target or every source is retired. New texts are deduplicated
against the whole output. What augmentation cannot reach is left to :func:`fill_with_duplicates`.
"""

from __future__ import annotations

import math

import datasets
import numpy as np

from nlp_balance.resampling.job import BalanceJob
from nlp_balance.resampling.provenance import add_provenance
from nlp_balance.resampling.rounds import AcceptedRows, AugmentRounds, iter_chunks, text_keys_of
from nlp_balance.resampling.shortfall import fill_with_duplicates
from nlp_balance.resampling.source_cycle import SourceCycle

__all__ = ["balance_globally"]

#: A retry round asks for at most this many times the rows still needed.
_MAX_OVERREQUEST = 20


def balance_globally(job: BalanceJob) -> tuple[datasets.Dataset, int]:
    """The rebalanced split (originals, new rows, duplicates) and the number of augmentation rounds."""
    cycles = {
        c: SourceCycle(np.flatnonzero(job.y == c), job.seed, c, job.max_synthetic_per_example)
        for c in job.stats
        if job.need(c) > 0
    }
    base = add_provenance(job.ds, np.arange(len(job.ds), dtype=np.int64), "original")
    pieces = [base]
    rounds = 0
    if job.rounds is not None and cycles:
        accepted, rounds = _augment(job, job.rounds, cycles)
        if accepted is not None:
            pieces.append(accepted)
    short = {c: job.stats[c].target - job.stats[c].after for c in cycles if job.stats[c].after < job.stats[c].target}
    if short and fill_with_duplicates(short, job.stats, job.on_shortfall, augmented=job.rounds is not None):
        for c, n in short.items():
            job.stats[c].duplicated += n
        src = np.concatenate([cycles[c].duplicates(n) for c, n in short.items()])
        pieces.append(add_provenance(job.ds, src, "duplicate"))
    return (base if len(pieces) == 1 else datasets.concatenate_datasets(pieces)), rounds


def _augment(
    job: BalanceJob, rounds: AugmentRounds, cycles: dict[int, SourceCycle]
) -> tuple[datasets.Dataset | None, int]:
    """Augmentation rounds until no class needs or can get more rows: accepted rows, rounds run."""
    seen = rounds.text_keys(job.ds)
    accepted = AcceptedRows(rounds)
    round_no = 0
    while True:
        src, cp = _requests(job, cycles)
        if src.size == 0:
            return accepted.dataset(job.ds), round_no
        round_no += 1
        out = rounds.run(job.ds, src, cp, round_no)
        accepted.add(out, src, _accept(job, rounds, out, src, cycles, seen))


def _requests(job: BalanceJob, cycles: dict[int, SourceCycle]) -> tuple[np.ndarray, np.ndarray]:
    """This round's ``(source row, copy)`` pairs, class by class."""
    src_parts, copy_parts = [np.empty(0, dtype=np.int64)], [np.empty(0, dtype=np.int64)]
    for c, cycle in cycles.items():
        stats = job.stats[c]
        need = job.need(c) - stats.synthetic
        if need > 0:
            # Ask for more than needed when attempts have been failing (an augmenter that cannot
            # change most texts of this class), so the retry rounds stay few; deterministic.
            attempts = stats.synthetic + stats.failed_attempts + stats.duplicates_dropped
            success = (stats.synthetic + 1) / (attempts + 1)
            src, cp = cycle.take(min(math.ceil(need / success), need * _MAX_OVERREQUEST))
            src_parts.append(src)
            copy_parts.append(cp)
    return np.concatenate(src_parts), np.concatenate(copy_parts)


def _accept(
    job: BalanceJob,
    rounds: AugmentRounds,
    out: datasets.Dataset,
    src: np.ndarray,
    cycles: dict[int, SourceCycle],
    seen: set[bytes],
) -> np.ndarray:
    """Rows of ``out`` to keep: new, distinct texts while their class still needs rows.

    A failed attempt or a duplicate counts against its source in the cycle and in the stats.
    """
    keep = np.zeros(len(out), dtype=bool)
    sources, classes = src.tolist(), job.y[src].tolist()
    needs = {c: job.need(c) for c in cycles}
    for start, texts in iter_chunks(out, rounds.text_column):
        for i, key in enumerate(text_keys_of(texts), start):
            c = classes[i]
            stats = job.stats[c]
            if key is None or key in seen:
                if key is None:
                    stats.failed_attempts += 1
                else:
                    stats.duplicates_dropped += 1
                cycles[c].fail(sources[i])
            elif stats.synthetic < needs[c]:
                seen.add(key)
                keep[i] = True
                stats.synthetic += 1
    return np.flatnonzero(keep)
