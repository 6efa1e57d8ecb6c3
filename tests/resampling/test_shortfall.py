"""Shortfall: what the Balancer does when its augmenter cannot reach a class's target, in both plans."""

from __future__ import annotations

import warnings
from collections import Counter

import pytest
from resampling_fixtures import Constant, Numbered, split

from nlp_balance import Balancer
from nlp_balance.resampling import ClassBalanceStats
from nlp_balance.resampling.shortfall import SHORTFALL_POLICIES, fill_with_duplicates

STATS = {0: ClassBalanceStats("ham", 9, 9), 1: ClassBalanceStats("spam", 2, 9), 2: ClassBalanceStats("scam", 1, 9)}


def test_without_an_augmenter_duplicates_are_the_plan_and_nothing_is_said():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert all(fill_with_duplicates({1: 7}, STATS, policy, augmented=False) for policy in SHORTFALL_POLICIES)


def test_each_policy_counts_the_missing_rows_per_class():
    expected = r"could not write enough distinct new examples \(10 short; spam: 2, scam: 8\)"
    with pytest.raises(RuntimeError, match=expected + "; use on_shortfall='duplicate' or 'warn'"):
        fill_with_duplicates({2: 8, 1: 2}, STATS, "raise", augmented=True)
    with pytest.warns(UserWarning, match=expected + "; those classes stay below their targets"):
        assert fill_with_duplicates({2: 8, 1: 2}, STATS, "warn", augmented=True) is False
    with pytest.warns(UserWarning, match=expected + r"; filled with duplicates \(augmentation='duplicate'\)"):
        assert fill_with_duplicates({2: 8, 1: 2}, STATS, "duplicate", augmented=True) is True


def test_exact_duplicates_from_the_augmenter_are_dropped_and_the_shortfall_reported(sms_spam):
    train = sms_spam["train"]
    with pytest.warns(UserWarning, match=r"could not write enough distinct new examples \(3099 short; spam: 3099\)"):
        balancer = Balancer(Constant(), seed=0)
        out = balancer.fit_resample(train)
    new = out.select(range(len(train), len(out)))
    assert Counter(new["augmentation"]) == {"test_constant": 1, "duplicate": 3099}
    spam = next(c for c in balancer.report_.classes if c.label == "spam")
    assert spam.synthetic == 1 and spam.duplicated == 3099 and spam.duplicates_dropped > 0
    with pytest.raises(RuntimeError, match="could not write enough"):
        Balancer(Constant(), on_shortfall="raise").fit_resample(train)
    with pytest.warns(UserWarning, match="stay below their targets"):
        short = Balancer(Constant(), on_shortfall="warn").fit_resample(train)
    assert Counter(short["label"])[1] == 514 + 1


# 6 rows of "big", 2 of "small"; the augmenter cannot change "stuck ..." texts, so "small" gets no new rows.
STUCK = split([f"big {i}" for i in range(6)] + ["stuck a", "stuck b"], [0] * 6 + [1, 1])


@pytest.mark.parametrize(
    ("plan", "attempts"),
    [
        # 4 attempts, then 1/5 success so far: 20 more before both sources hit 3 failures and retire
        ("global", 24),
        # each source asks for its quota of 2, twice, and retires after 4 failures
        ("per_source", 8),
    ],
)
def test_both_plans_fill_with_duplicates_and_warn_at_the_callers_line(plan, attempts):
    with pytest.warns(UserWarning, match=r"\(4 short; small: 4\); filled with duplicates") as caught:
        balancer = Balancer(Numbered(), "auto", seed=0, plan=plan)
        out = balancer.fit_resample(STUCK)
    assert [w.filename for w in caught] == [__file__]
    small = balancer.report_.classes[1]
    assert (small.synthetic, small.duplicated, small.failed_attempts, small.after) == (0, 4, attempts, 6)
    new = out.select(range(len(STUCK), len(out)))
    assert new["augmentation"] == ["duplicate"] * 4 and new["label"] == [1] * 4
    assert Counter(new["source_index"]) == {6: 2, 7: 2}


@pytest.mark.parametrize("plan", ["global", "per_source"])
def test_warn_leaves_the_class_short_and_raise_stops(plan):
    with pytest.warns(UserWarning, match="stay below their targets") as caught:
        out = Balancer(Numbered(), "auto", seed=0, plan=plan, on_shortfall="warn").fit_resample(STUCK)
    assert [w.filename for w in caught] == [__file__]
    assert Counter(out["label"]) == {0: 6, 1: 2}
    with pytest.raises(RuntimeError, match=r"\(4 short; small: 4\)"):
        Balancer(Numbered(), "auto", seed=0, plan=plan, on_shortfall="raise").fit_resample(STUCK)
