"""The searches behind the decision rules: metrics from counts equal scikit-learn, and each search is
optimal over what it searches (checked by brute force)."""

from __future__ import annotations

import time

import numpy as np
import pytest
from sklearn.metrics import balanced_accuracy_score, f1_score, precision_score

from nlp_balance.evaluation.rule_search import (
    Objective,
    _class_step,
    argmax_with_offsets,
    coordinate_ascent,
    default_grid,
    tau_search,
    threshold_search,
)


def _skewed_logits(n: int, k: int, seed: int, bias: float = 1.5) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Logits of a model that learned skewed priors: the rare classes are under-predicted."""
    rng = np.random.default_rng(seed)
    priors = np.exp(-0.7 * np.arange(k))
    priors /= priors.sum()
    y = rng.choice(k, size=n, p=priors)
    logits = rng.normal(size=(n, k)) + 1.6 * np.eye(k)[y] + bias * np.log(priors)[None, :]
    return logits, y, priors


@pytest.mark.parametrize("seed", range(3))
def test_objective_matches_sklearn(seed):
    rng = np.random.default_rng(seed)
    k = 5
    y = rng.choice(k, size=300, p=[0.5, 0.2, 0.15, 0.1, 0.05])
    preds = rng.integers(0, k - 1, size=(4, 300))  # class 4 is never predicted
    macro = Objective("macro_f1", k).score(preds, y)
    bal = Objective("balanced_accuracy", k).score(preds, y)
    for i, p in enumerate(preds):
        assert macro[i] == pytest.approx(f1_score(y, p, labels=range(k), average="macro", zero_division=0))
        assert bal[i] == pytest.approx(balanced_accuracy_score(y, p))
        assert Objective("class_f1", k, target_class=2).score(p, y) == pytest.approx(
            f1_score(y, p, labels=[2], average="macro", zero_division=0))


def test_class_f1_below_the_precision_floor_scores_below_every_feasible_decision():
    y = np.array([1, 1, 0, 0, 0, 0])
    objective = Objective("class_f1", 2, target_class=1, min_precision=0.6)
    precise = np.array([1, 0, 0, 0, 0, 0])  # precision 1, F1 2/3
    loose = np.array([1, 1, 1, 1, 0, 0])  # precision 0.5 < 0.6, F1 2/3
    never = np.zeros(6, dtype=int)  # precision 0
    assert objective.score(precise, y) == pytest.approx(2 / 3)
    assert objective.score(loose, y) == pytest.approx(0.5 - 1.0)
    assert objective.score(never, y) == pytest.approx(-1.0)
    assert precision_score(y, precise) >= 0.6 > precision_score(y, loose)


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"metric": "auc"}, "metric must be one of"),
        ({"metric": "class_f1"}, "target_class"),
        ({"metric": "class_f1", "target_class": 3}, "target_class"),
        ({"metric": "class_f1", "target_class": 1, "min_precision": 1.5}, "min_precision"),
        ({"metric": "macro_f1", "target_class": 1}, "apply to metric 'class_f1' only"),
    ],
)
def test_objective_errors_name_the_bad_value(kwargs, needle):
    with pytest.raises(ValueError, match=needle):
        Objective(num_classes=3, **kwargs)


def test_default_grid_is_symmetric_contains_zero_and_follows_the_logit_scale():
    logits, _, _ = _skewed_logits(500, 3, 0)
    grid = default_grid(logits, grid_size=41)
    assert grid.size == 41 and 0.0 in grid and np.allclose(grid, -grid[::-1])
    assert np.allclose(default_grid(10 * logits, grid_size=41), 10 * grid)
    assert default_grid(logits, grid_size=6).size == 7  # always odd, so 0 is on it
    with pytest.raises(ValueError, match="grid_size"):
        default_grid(logits, grid_size=2)
    with pytest.raises(ValueError, match="span"):
        default_grid(logits, span=float("nan"))


@pytest.mark.parametrize(("k", "integer_logits"), [(3, False), (5, False), (4, True)])
def test_one_class_step_scores_every_grid_value_as_argmax_would(k, integer_logits):
    """The counting shortcut of a coordinate step equals scoring ``argmax(logits + offsets)`` directly.

    Integer logits with an integer grid make exact ties between classes, which must be broken as
    ``argmax`` breaks them (the lower class id wins).
    """
    logits, y, _ = _skewed_logits(300, k, 1)
    rng = np.random.default_rng(5)
    offsets = rng.normal(size=k)
    grid = default_grid(logits, 21)
    if integer_logits:
        logits, offsets, grid = np.round(2 * logits), np.round(2 * offsets), np.arange(-6.0, 7.0)
    true = np.bincount(y, minlength=k)
    for metric in ("macro_f1", "balanced_accuracy"):
        objective = Objective(metric, k)
        for c in range(k):
            fast = _class_step(logits, y, offsets, c, grid, objective, true)
            brute = [objective.score(argmax_with_offsets(logits, _with(offsets, c, t)), y) for t in grid]
            np.testing.assert_allclose(fast, brute, atol=1e-12)


def _with(offsets: np.ndarray, c: int, value: float) -> np.ndarray:
    out = offsets.copy()
    out[c] = value
    return out


@pytest.mark.parametrize("metric", ["macro_f1", "balanced_accuracy"])
def test_coordinate_ascent_undoes_a_prior_skew(metric):
    """Logits shifted by log-priors under-predict the rare classes; the fitted offsets raise them."""
    logits, y, priors = _skewed_logits(3000, 4, 2)
    objective = Objective(metric, 4)
    offsets, sweeps = coordinate_ascent(logits, y, objective, default_grid(logits), max_sweeps=20)
    assert 1 <= sweeps < 20 and offsets.mean() == pytest.approx(0.0)
    before = objective.score(logits.argmax(1), y)
    after = objective.score(argmax_with_offsets(logits, offsets), y)
    assert after > before + 0.02
    assert offsets[-1] > offsets[0]  # the rarest class gets the largest boost
    assert np.corrcoef(offsets, -np.log(priors))[0, 1] > 0.8
    again, _ = coordinate_ascent(logits, y, objective, default_grid(logits), max_sweeps=20)
    np.testing.assert_array_equal(again, offsets)  # deterministic


def test_coordinate_ascent_keeps_zero_offsets_when_nothing_improves():
    y = np.array([0, 1, 2, 0, 1, 2])
    logits = 5.0 * np.eye(3)[y]  # already perfect
    offsets, sweeps = coordinate_ascent(logits, y, Objective("macro_f1", 3), np.linspace(-1, 1, 11))
    assert sweeps == 1 and np.all(offsets == 0.0)


def test_coordinate_ascent_is_fast_enough():
    """3 classes x 5,000 rows well under a second; 20 classes x 5,000 rows in a few seconds."""
    for k, limit in ((3, 1.0), (20, 10.0)):
        logits, y, _ = _skewed_logits(5000, k, 3, bias=0.5)
        t0 = time.perf_counter()
        coordinate_ascent(logits, y, Objective("macro_f1", k), default_grid(logits))
        assert time.perf_counter() - t0 < limit, k


def _brute_threshold(logits, y, objective):
    margin = logits[:, 1] - logits[:, 0]
    cuts = np.concatenate([[margin.max() + 1], np.unique(margin)])  # predict 1 when margin >= cut
    return max(objective.score((margin >= cut).astype(int), y) for cut in cuts)


@pytest.mark.parametrize("seed", range(3))
def test_threshold_search_is_exact(seed):
    logits, y, _ = _skewed_logits(400, 2, seed)
    logits[:40] = np.round(logits[:40])  # some tied margins
    for objective in (Objective("macro_f1", 2), Objective("balanced_accuracy", 2),
                      Objective("class_f1", 2, target_class=1, min_precision=0.7),
                      Objective("class_f1", 2, target_class=0)):
        offsets, cuts = threshold_search(logits, y, objective)
        assert offsets[0] == 0.0 and cuts == np.unique(logits[:, 1] - logits[:, 0]).size + 1
        reached = objective.score(argmax_with_offsets(logits, offsets), y)
        assert reached == pytest.approx(_brute_threshold(logits, y, objective))
    with pytest.raises(ValueError, match="two classes"):
        threshold_search(np.zeros((4, 3)), np.zeros(4, dtype=int), Objective("macro_f1", 3))


def test_tau_search_takes_the_best_tau_and_zero_when_no_adjustment_helps():
    logits, y, priors = _skewed_logits(3000, 3, 4)
    objective = Objective("macro_f1", 3)
    grid = [0.0, 0.5, 1.0, 1.5, 2.0]
    tau, scores = tau_search(logits, y, objective, np.log(priors), grid)
    brute = [objective.score(argmax_with_offsets(logits, -t * np.log(priors)), y) for t in grid]
    np.testing.assert_allclose(scores, brute)
    assert tau == grid[int(np.argmax(brute))] and tau > 0
    balanced, yb, _ = _skewed_logits(3000, 3, 4, bias=0.0)  # no skew learned: adjusting only hurts
    tau0, scores0 = tau_search(balanced, yb, objective, np.log(priors), grid)
    assert tau0 == 0.0 and scores0[0] == max(scores0)
    # Ties go to the tau closest to 0, whatever the grid's order or sign.
    tie, _ = tau_search(balanced, yb, objective, np.zeros(3), [2.0, -1.0, 0.5, -0.5])  # no decision changes
    assert tie == -0.5
