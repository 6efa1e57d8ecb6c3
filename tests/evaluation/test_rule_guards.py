"""Guards against over-fitted decision rules: seeded, stratified, and the shrink guard switches a rule
off when it does not carry over to held-out validation rows."""

from __future__ import annotations

import numpy as np
import pytest

from nlp_balance.evaluation.rule_guards import DECISION_GUARDS, guarded_offsets
from nlp_balance.evaluation.rule_search import Objective, coordinate_ascent, default_grid


class Recorder:
    """A fitter that returns fixed offsets and records the class counts of every call."""

    def __init__(self, offsets):
        self.offsets = np.asarray(offsets, dtype=np.float64)
        self.counts: list[list[int]] = []

    def __call__(self, logits, labels):
        self.counts.append(np.bincount(labels, minlength=self.offsets.size).tolist())
        return self.offsets + 1e-3 * logits.sum()  # depends on the rows drawn


def _data(n=600, k=3, seed=0, skew=1.5):
    rng = np.random.default_rng(seed)
    priors = np.array([0.7, 0.2, 0.1])[:k]
    y = rng.choice(k, size=n, p=priors / priors.sum())
    logits = rng.normal(size=(n, k)) + 1.5 * np.eye(k)[y] + skew * np.log(priors)[None, :]
    return logits, y


def _ascent(objective):
    def fit(logits, labels):
        return coordinate_ascent(logits, labels, objective, default_grid(logits))[0]
    return fit


def test_none_is_the_fitter_on_all_rows():
    logits, y = _data()
    rec = Recorder([0.0, 1.0, 2.0])
    offsets, info = guarded_offsets(rec, logits, y, Objective("macro_f1", 3), "none")
    assert rec.counts == [np.bincount(y).tolist()] and info == {}
    np.testing.assert_allclose(offsets, rec(logits, y))


def test_bootstrap_resamples_within_each_class_and_is_seeded():
    logits, y = _data()
    rec = Recorder([0.0, 1.0, 2.0])
    offsets, info = guarded_offsets(rec, logits, y, Objective("macro_f1", 3), "bootstrap", seed=3, n_bootstrap=7)
    assert len(rec.counts) == 7 and all(c == np.bincount(y).tolist() for c in rec.counts)  # sizes kept
    assert info["n_bootstrap"] == 7 and len(info["bootstrap_std"]) == 3
    same, _ = guarded_offsets(Recorder([0.0, 1.0, 2.0]), logits, y, Objective("macro_f1", 3), "bootstrap",
                              seed=3, n_bootstrap=7)
    other, _ = guarded_offsets(Recorder([0.0, 1.0, 2.0]), logits, y, Objective("macro_f1", 3), "bootstrap",
                               seed=4, n_bootstrap=7)
    np.testing.assert_array_equal(offsets, same)
    assert not np.array_equal(offsets, other)


def test_bootstrap_averages_real_fits():
    logits, y = _data(seed=1)
    objective = Objective("macro_f1", 3)
    plain, _ = guarded_offsets(_ascent(objective), logits, y, objective, "none")
    boot, info = guarded_offsets(_ascent(objective), logits, y, objective, "bootstrap", seed=0, n_bootstrap=10)
    assert np.all(np.asarray(info["bootstrap_std"]) > 0)
    assert boot.mean() == pytest.approx(0.0, abs=1e-9)  # each fit is centred, so their mean is too
    assert np.sign(boot[2] - boot[0]) == np.sign(plain[2] - plain[0])


def test_shrink_cross_fits_on_stratified_folds():
    logits, y = _data()
    rec = Recorder([0.0, 0.5, 1.0])
    _, info = guarded_offsets(rec, logits, y, Objective("macro_f1", 3), "shrink", n_folds=4)
    counts = np.bincount(y)
    assert len(rec.counts) == 5  # one fit per fold, then one on every row
    assert rec.counts[-1] == counts.tolist()
    for fold_counts in rec.counts[:4]:  # each fold holds out about a quarter of every class
        held = counts - np.asarray(fold_counts)
        assert np.all(np.abs(held - counts / 4) <= 1)
    assert info["n_folds"] == 4 and len(info["cross_fit_scores"]) == len(info["shrink_grid"]) == 11


def test_shrink_keeps_a_rule_that_carries_over():
    """A model that learned skewed priors: offsets fitted on some folds help on the others."""
    logits, y = _data(n=3000, seed=2, skew=2.0)
    objective = Objective("macro_f1", 3)
    plain, _ = guarded_offsets(_ascent(objective), logits, y, objective, "none")
    shrunk, info = guarded_offsets(_ascent(objective), logits, y, objective, "shrink", seed=0)
    assert info["shrink"] >= 0.5
    np.testing.assert_allclose(shrunk, info["shrink"] * plain)


def test_shrink_switches_off_a_rule_that_hurts_held_out_rows():
    """A fitter whose offsets send every row to the rarest class: no rule scores best out of fold."""
    logits, y = _data()
    objective = Objective("macro_f1", 3)
    offsets, info = guarded_offsets(Recorder([0.0, 0.0, 50.0]), logits, y, objective, "shrink", seed=1)
    scores = np.asarray(info["cross_fit_scores"])
    assert info["shrink"] == 0.0 and np.all(offsets == 0.0)
    assert scores[0] == scores.max() > scores[-1]


def test_shrink_ties_go_to_the_smaller_factor():
    """Offsets that change no decision score the same at every factor: the guard keeps none of them."""
    logits, y = _data()
    _, info = guarded_offsets(Recorder([1.0, 1.0, 1.0]), logits, y, Objective("macro_f1", 3), "shrink",
                              shrink_grid=[1.0, 0.5, 0.25])
    assert info["shrink_grid"] == [0.25, 0.5, 1.0] and info["shrink"] == 0.25
    assert len(set(info["cross_fit_scores"])) == 1


def test_bootstrap_shrink_combines_both():
    logits, y = _data(seed=4)
    rec = Recorder([0.0, 1.0, 2.0])
    _, info = guarded_offsets(rec, logits, y, Objective("macro_f1", 3), "bootstrap_shrink", n_bootstrap=3, n_folds=2)
    assert len(rec.counts) == 3 * 3  # 3 resamples in each of 2 folds, and on every row
    assert {"n_bootstrap", "bootstrap_std", "n_folds", "shrink", "cross_fit_scores"} <= set(info)


@pytest.mark.parametrize(
    ("guard", "params", "needle"),
    [
        ("jackknife", {}, "guard must be one of"),
        ("none", {"n_bootstrap": 3}, "takes no parameter 'n_bootstrap'"),
        ("bootstrap", {"n_bootstrap": 0}, "n_bootstrap must be an integer >= 1"),
        ("shrink", {"n_folds": 1}, "n_folds must be an integer >= 2"),
        ("shrink", {"shrink_grid": [0.5, -1.0]}, "shrink_grid"),
        ("shrink", {"shrink_grid": []}, "shrink_grid"),
    ],
)
def test_guard_errors_name_the_bad_value(guard, params, needle):
    logits, y = _data(n=60)
    with pytest.raises(ValueError, match=needle):
        guarded_offsets(Recorder([0.0, 0.0, 0.0]), logits, y, Objective("macro_f1", 3), guard, **params)


@pytest.mark.parametrize(("gate", "shrink"), [("gate", "shrink"), ("bootstrap_gate", "bootstrap_shrink")])
def test_gates_are_the_shrink_guards_with_factors_0_and_1(gate, shrink):
    logits, y = _data(n=800, seed=6, skew=2.0)
    objective = Objective("macro_f1", 3)
    extra = {"n_bootstrap": 4} if "bootstrap" in gate else {}
    gated, info = guarded_offsets(_ascent(objective), logits, y, objective, gate, seed=2, **extra)
    same, same_info = guarded_offsets(_ascent(objective), logits, y, objective, shrink, seed=2,
                                      shrink_grid=[0.0, 1.0], **extra)
    np.testing.assert_array_equal(gated, same)
    assert info == same_info and info["shrink_grid"] == [0.0, 1.0] and info["shrink"] == 1.0
    with pytest.raises(ValueError, match="takes no parameter 'shrink_grid'"):
        guarded_offsets(_ascent(objective), logits, y, objective, gate, shrink_grid=[0.0, 0.5])


def test_every_guard_declares_its_defaults():
    assert set(DECISION_GUARDS) == {"none", "bootstrap", "shrink", "bootstrap_shrink", "gate", "bootstrap_gate"}
    assert DECISION_GUARDS["none"] == {}
    assert DECISION_GUARDS["bootstrap_shrink"].keys() == {*DECISION_GUARDS["bootstrap"], *DECISION_GUARDS["shrink"]}
