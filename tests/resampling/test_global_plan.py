"""The global plan: failed attempts move on to the class's next source; new texts are unique in the output."""

from __future__ import annotations

import random
from collections import Counter

import numpy as np
import pytest
from resampling_fixtures import Numbered, split

from nlp_balance.augment import Augmenter
from nlp_balance.resampling import Balancer, ClassBalanceStats
from nlp_balance.resampling.global_plan import balance_globally
from nlp_balance.resampling.job import BalanceJob
from nlp_balance.resampling.source_cycle import source_order


class FirstWord(Augmenter):
    """Keeps only the first word: sources that share it write the same text."""

    name = "test_first_word"

    def augment_one(self, text: str, rng: random.Random) -> str | None:
        return text.split()[0]


# 6 rows of "big"; "small" has one source the augmenter cannot change and one it can.
HALF_STUCK = split([f"big {i}" for i in range(6)] + ["stuck a", "small b"], [0] * 6 + [1, 1])


def _job(ds, targets: dict[int, int], seed: int = 0) -> BalanceJob:
    y = np.asarray(ds["label"])
    stats = {c: ClassBalanceStats(str(c), int((y == c).sum()), t) for c, t in sorted(targets.items())}
    return BalanceJob(ds, y, stats, seed, None, "duplicate", None)


def test_a_failing_source_hands_its_share_to_the_next_one():
    balancer = Balancer(Numbered(), "auto", seed=0)
    out = balancer.fit_resample(HALF_STUCK)
    small = balancer.report_.classes[1]
    assert (small.synthetic, small.duplicated, small.after) == (4, 0, 6)
    new = out.select(range(len(HALF_STUCK), len(out)))
    assert new["source_index"] == [7] * 4 and len(set(new["text"])) == 4
    assert small.failed_attempts >= 2 and balancer.report_.rounds >= 2


def test_texts_already_written_by_another_source_are_duplicates():
    ds = split([f"big {i}" for i in range(6)] + ["alpha one", "alpha two"], [0] * 6 + [1, 1])
    with pytest.warns(UserWarning, match=r"\(1 short; small: 1\)"):
        balancer = Balancer(FirstWord(), {"small": 4}, seed=0)
        out = balancer.fit_resample(ds)
    assert Counter(out["augmentation"])["test_first_word"] == 1
    assert balancer.report_.classes[1].duplicates_dropped > 0


def test_without_an_augmenter_it_duplicates_in_source_order_and_runs_no_round():
    ds = split([f"big {i}" for i in range(7)] + ["s0", "s1", "s2"], [0] * 7 + [1] * 3)
    job = _job(ds, {0: 7, 1: 7}, seed=5)
    out, rounds = balance_globally(job)
    assert rounds == 0 and job.stats[1].duplicated == 4 and job.stats[1].after == 7
    order = source_order(np.arange(7, 10), 5, 1)
    assert out["source_index"][10:] == np.tile(order, 2)[:4].tolist()
    assert out["augmentation"] == ["original"] * 10 + ["duplicate"] * 4


def test_a_split_at_its_targets_comes_back_with_provenance_only():
    job = _job(HALF_STUCK, {0: 6, 1: 2})
    out, rounds = balance_globally(job)
    assert rounds == 0 and out["text"] == HALF_STUCK["text"] and out["source_index"] == list(range(8))
