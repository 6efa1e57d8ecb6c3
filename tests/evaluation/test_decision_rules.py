"""Post-hoc logit adjustment and threshold tuning; saved with the model and applied by predict."""

from __future__ import annotations

import gc
import json
import math

import numpy as np
import pytest
import torch
from datasets import Dataset
from sklearn.metrics import balanced_accuracy_score, f1_score, precision_score
from transformers import BertConfig, BertForSequenceClassification, TrainingArguments
from transformers.utils import logging as hf_logging

from nlp_balance.evaluation.decision_rules import (
    DECISION_GUARDS,
    DECISION_METRICS,
    DECISION_RULES,
    DEFAULT_GUARD,
    POSTHOC_FILENAME,
    PosthocAdjustment,
    adjust_logits,
    fit_decision_rule,
    load_posthoc,
    rule_effect,
    tune_threshold,
)
from nlp_balance.training.trainer import BalancedTrainer

hf_logging.set_verbosity_error()


@pytest.fixture(scope="module", autouse=True)
def _fast_cpu():
    """One torch thread on the shared 2 cores; frozen GC heap so Trainer's gc.collect() is cheap."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    gc.freeze()
    yield
    gc.unfreeze()
    torch.set_num_threads(threads)


def test_adjust_logits_numpy_and_torch():
    logits = np.array([[2.0, 1.0, 0.0], [0.0, 0.5, 0.2]])
    priors = np.array([0.7, 0.2, 0.1])
    expected = logits - 1.5 * np.log(priors)
    np.testing.assert_allclose(adjust_logits(logits, priors, tau=1.5), expected)
    got = adjust_logits(torch.tensor(logits, dtype=torch.float32), [70, 20, 10], tau=1.5)  # counts work too
    assert isinstance(got, torch.Tensor) and got.dtype == torch.float32
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-6)
    np.testing.assert_allclose(adjust_logits(logits, priors, tau=0.0), logits)
    # uniform priors shift every class equally: decisions do not change
    assert (adjust_logits(logits, [1, 1, 1]).argmax(-1) == logits.argmax(-1)).all()
    # skewed priors move decisions towards the rare class
    assert adjust_logits(np.array([[0.5, 0.0]]), [0.9, 0.1]).argmax(-1)[0] == 1


@pytest.mark.parametrize(
    ("priors", "tau", "needle"),
    [([0.5, 0.0, 0.5], 1.0, "priors"), ([0.5, 0.5], 1.0, "classes"), ([0.2, 0.3, 0.5], float("nan"), "tau")],
)
def test_adjust_logits_errors(priors, tau, needle):
    with pytest.raises(ValueError, match=needle):
        adjust_logits(np.zeros((2, 3)), priors, tau=tau)


def _brute_force_best(p, y, score):
    """Reference: try every observed probability as the threshold (and one above the maximum)."""
    best = -1.0
    for t in np.concatenate([np.unique(p), [1.1]]):
        best = max(best, score(y, (p >= t).astype(int)))
    return best


@pytest.mark.parametrize("seed", range(2))
def test_tune_threshold_is_optimal(seed):
    rng = np.random.default_rng(seed)
    y = (rng.random(300) < 0.12).astype(int)
    p = np.clip(0.25 * y + rng.beta(2, 5, size=300), 0, 1)
    for metric, score in [
        ("f1", lambda a, b: f1_score(a, b, zero_division=0)),
        ("balanced_accuracy", balanced_accuracy_score),
        ("macro_f1", lambda a, b: f1_score(a, b, average="macro", labels=[0, 1], zero_division=0)),
    ]:
        result = tune_threshold(p, y, metric=metric)
        reached = score(y, (p >= result.threshold).astype(int))
        assert reached == pytest.approx(result.score)
        assert reached == pytest.approx(_brute_force_best(p, y, score))
    assert tune_threshold(p, y, "f1").score > f1_score(y, (p >= 0.5).astype(int), zero_division=0)


def test_tune_threshold_errors():
    with pytest.raises(ValueError, match="metric"):
        tune_threshold([0.2, 0.8], [0, 1], metric="auc")
    with pytest.raises(ValueError, match="probabilities"):
        tune_threshold([-1.0, 3.0], [0, 1])
    with pytest.raises(ValueError, match="binary"):
        tune_threshold([0.2, 0.8, 0.5], [0, 1, 2])


def test_threshold_equals_offset_on_two_logits():
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(500, 2))
    p1 = torch.softmax(torch.tensor(logits), -1)[:, 1].numpy()
    adj = PosthocAdjustment.from_threshold(0.27)
    np.testing.assert_array_equal(adj.predict(logits), (p1 >= 0.27).astype(int))


def test_save_and_load_roundtrip(tmp_path):
    assert load_posthoc(tmp_path) is None
    adj = PosthocAdjustment.from_priors([90, 9, 1], tau=0.5)
    path = adj.save(tmp_path)
    assert path.name == POSTHOC_FILENAME
    again = load_posthoc(tmp_path)
    assert again == adj
    np.testing.assert_allclose(again.offsets, -0.5 * np.log(np.array([90, 9, 1]) / 100))


def _tiny_binary(seed=0):
    cfg = BertConfig(
        vocab_size=40,
        hidden_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=16,
        num_labels=2,
        hidden_dropout_prob=0.0,
        attention_probs_dropout_prob=0.0,
    )
    torch.manual_seed(seed)
    return BertForSequenceClassification(cfg)


def test_trainer_applies_saves_and_reloads_the_adjustment(tmp_path):
    rng = np.random.default_rng(0)
    n = 64
    labels = (rng.random(n) < 0.2).astype(int)
    data = Dataset.from_dict({"input_ids": rng.integers(5, 40, size=(n, 6)).tolist(), "labels": labels.tolist()})
    args = TrainingArguments(
        output_dir=str(tmp_path / "run"),
        report_to="none",
        use_cpu=True,
        per_device_eval_batch_size=16,
        disable_tqdm=True,
        save_strategy="no",
    )
    model = _tiny_binary()
    trainer = BalancedTrainer(model=model, args=args, train_dataset=data, eval_dataset=data)
    raw = trainer.predict(data).predictions

    adj = trainer.fit_posthoc("threshold", metric="balanced_accuracy", guard="none")
    assert adj.kind == "threshold"
    out = trainer.predict(data)
    np.testing.assert_allclose(out.predictions, raw + np.array(adj.offsets), rtol=1e-5, atol=1e-6)
    p1 = torch.softmax(torch.tensor(raw), -1)[:, 1].numpy()
    best = tune_threshold(p1, labels, "balanced_accuracy")
    assert out.metrics["test_balanced_accuracy"] == pytest.approx(best.score)
    assert adj.params["threshold"] == pytest.approx(best.threshold)

    model_dir = tmp_path / "model"
    trainer.save_model(str(model_dir))
    assert (model_dir / POSTHOC_FILENAME).is_file()
    reloaded = BertForSequenceClassification.from_pretrained(model_dir)
    trainer2 = BalancedTrainer(model=reloaded, args=args)
    assert trainer2.posthoc == adj  # found next to the weights
    np.testing.assert_allclose(trainer2.predict(data).predictions, out.predictions, rtol=1e-5, atol=1e-5)
    assert BalancedTrainer(model=reloaded, args=args, posthoc=False).posthoc is None


def test_fit_logit_adjustment_uses_train_priors(tmp_path):
    labels = [0] * 12 + [1] * 4
    data = Dataset.from_dict({"input_ids": [[5, 6, 7]] * 16, "labels": labels})
    args = TrainingArguments(output_dir=str(tmp_path), report_to="none", use_cpu=True, save_strategy="no")
    trainer = BalancedTrainer(model=_tiny_binary(), args=args, train_dataset=data)
    adj = trainer.fit_posthoc("logit_adjustment", tau=1.0)
    assert adj.offsets == pytest.approx([-math.log(0.75), -math.log(0.25)])
    with pytest.raises(ValueError, match="decision rule must be one of"):
        trainer.fit_posthoc("platt")


# --------------------------------------------------------------------------------------------------
# fit_decision_rule: one entry point for every rule, fitted on validation logits
# --------------------------------------------------------------------------------------------------


def _skewed(n=2000, k=3, seed=0, skew=1.5):
    """Validation logits of a model that learned skewed priors (it under-predicts the rare classes)."""
    rng = np.random.default_rng(seed)
    priors = np.exp(-0.8 * np.arange(k))
    priors /= priors.sum()
    y = rng.choice(k, size=n, p=priors)
    logits = rng.normal(size=(n, k)) + 1.5 * np.eye(k)[y] + skew * np.log(priors)[None, :]
    return logits, y, np.round(priors * 10000).astype(int)


@pytest.mark.parametrize("guard", ["none", "bootstrap", "shrink", "bootstrap_shrink", "gate", "bootstrap_gate"])
def test_class_offsets_record_how_they_were_fitted(guard):
    logits, y, _ = _skewed()
    extra = {"n_bootstrap": 5} if "bootstrap" in guard else {}
    rule = fit_decision_rule(logits, y, "class_offsets", guard=guard, seed=1, **extra)
    p = rule.params
    assert rule.kind == "class_offsets" and len(rule.offsets) == 3
    assert (p["method"], p["metric"], p["guard"], p["seed"]) == ("class_offsets", "macro_f1", guard, 1)
    assert p["validation_before"] == pytest.approx(f1_score(y, logits.argmax(1), average="macro"), abs=1e-6)
    assert p["validation_after"] == pytest.approx(f1_score(y, rule.predict(logits), average="macro"), abs=1e-6)
    assert p["validation_after"] > p["validation_before"] + 0.02  # a real skew: every guard keeps most of the gain
    assert len(p["grid"]) == 41 and 0.0 in p["grid"] and p["validation_rows"] == 2000
    assert p["validation_counts"] == np.bincount(y).tolist()
    json.dumps(p)  # the record is plain JSON


def test_class_offsets_without_guard_never_lose_on_validation():
    for seed in range(3):
        logits, y, _ = _skewed(n=300, k=4, seed=seed, skew=0.3)
        p = fit_decision_rule(logits, y, guard="none").params
        assert p["validation_after"] >= p["validation_before"]


def test_balanced_accuracy_and_class_f1_at_a_precision_floor():
    logits, y, _ = _skewed(seed=2)
    rule = fit_decision_rule(logits, y, metric="balanced_accuracy", guard="none")
    assert rule.params["validation_after"] == pytest.approx(balanced_accuracy_score(y, rule.predict(logits)), abs=1e-6)
    floor = fit_decision_rule(logits, y, metric="class_f1", target_class=2, min_precision=0.8, guard="none")
    pred = floor.predict(logits)
    assert precision_score(y == 2, pred == 2) >= 0.8
    assert floor.params["validation_after"] == pytest.approx(f1_score(y == 2, pred == 2), abs=1e-6)
    assert (floor.params["target_class"], floor.params["min_precision"]) == (2, 0.8)
    free = fit_decision_rule(logits, y, metric="class_f1", target_class=2, guard="none")
    assert free.params["validation_after"] >= floor.params["validation_after"]  # the floor only constrains


def test_logit_adjustment_chooses_tau_on_validation_and_allows_zero():
    logits, y, counts = _skewed(skew=1.0)
    rule = fit_decision_rule(logits, y, "logit_adjustment", train_counts=counts, guard="none")
    p = rule.params
    assert p["tau"] in p["grid"] and p["tau"] > 0 and p["grid"][0] == 0.0
    assert p["grid_scores"][p["grid"].index(p["tau"])] == max(p["grid_scores"])
    np.testing.assert_allclose(rule.offsets, PosthocAdjustment.from_priors(counts, tau=p["tau"]).offsets)
    unskewed, yu, _ = _skewed(skew=0.0)  # the model did not learn the priors: any adjustment hurts
    assert fit_decision_rule(unskewed, yu, "logit_adjustment", train_counts=counts, guard="none").params["tau"] == 0
    fixed = fit_decision_rule(logits, y, "logit_adjustment", train_counts=counts, tau=1.0)
    assert fixed.params["guard"] == "none" and fixed.params["tau"] == pytest.approx(1.0)
    np.testing.assert_allclose(fixed.offsets, PosthocAdjustment.from_priors(counts, tau=1.0).offsets)
    absent = fit_decision_rule(logits, y, "logit_adjustment", train_counts=[100, 10, 0], tau=1.0)
    np.testing.assert_allclose(absent.offsets, PosthocAdjustment.from_priors([100, 10, 5], tau=1.0).offsets)
    shrunk = fit_decision_rule(logits, y, "logit_adjustment", train_counts=counts, guard="shrink")
    assert shrunk.params["tau"] == pytest.approx(shrunk.params["guard_result"]["shrink"] * p["tau"], abs=1e-6)


def test_threshold_through_the_entry_point_matches_tune_threshold():
    logits, y, _ = _skewed(n=600, k=2, seed=3)
    p1 = torch.softmax(torch.tensor(logits), -1)[:, 1].numpy()
    for metric, old in (("macro_f1", "macro_f1"), ("balanced_accuracy", "balanced_accuracy")):
        rule = fit_decision_rule(logits, y, "threshold", metric=metric, guard="none")
        assert rule.kind == "threshold" and rule.params["positive_label"] == 1
        assert rule.params["validation_after"] == pytest.approx(tune_threshold(p1, y, old).score, abs=1e-6)
        np.testing.assert_array_equal(rule.predict(logits), (p1 >= rule.params["threshold"]).astype(int))
    f1_rule = fit_decision_rule(logits, y, "threshold", metric="class_f1", target_class=1, guard="none")
    assert f1_rule.params["validation_after"] == pytest.approx(tune_threshold(p1, y, "f1").score, abs=1e-6)


def test_fit_is_seeded_and_takes_torch_tensors_and_skips_ignored_rows():
    logits, y, _ = _skewed(n=500, seed=4)
    a = fit_decision_rule(logits, y, guard="bootstrap", seed=7, n_bootstrap=5)
    b = fit_decision_rule(torch.tensor(logits), torch.tensor(y), guard="bootstrap", seed=7, n_bootstrap=5)
    c = fit_decision_rule(logits, y, guard="bootstrap", seed=8, n_bootstrap=5)
    assert a.offsets == b.offsets and a.offsets != c.offsets
    ignored = np.concatenate([y, np.full(20, -100)])
    d = fit_decision_rule(np.concatenate([logits, np.zeros((20, 3))]), ignored, guard="bootstrap", seed=7,
                          n_bootstrap=5)
    assert d.offsets == a.offsets and d.params["validation_rows"] == 500


@pytest.mark.parametrize(
    ("args", "kwargs", "needle"),
    [
        (("platt",), {}, "decision rule must be one of"),
        (("class_offsets",), {"guard": "jackknife"}, "guard must be one of"),
        (("class_offsets",), {"metric": "auc"}, "metric must be one of"),
        (("class_offsets",), {"gird_size": 3}, "no parameter 'gird_size'"),
        (("class_offsets",), {"guard": "none", "n_folds": 3}, "no parameter 'n_folds'"),
        (("class_offsets",), {"grid_size": 1}, "grid_size"),
        (("class_offsets",), {"max_sweeps": 0}, "max_sweeps"),
        (("class_offsets",), {"metric": "class_f1"}, "target_class"),
        (("threshold",), {}, "needs two classes"),
        (("logit_adjustment",), {}, "needs train_counts"),
        (("logit_adjustment",), {"train_counts": [5, 5], "tau": 1.0}, "priors has 2 entries"),
        (("logit_adjustment",), {"train_counts": [5, 5, 5], "tau": 1.0, "guard": "bootstrap"}, "fixed tau"),
        (("logit_adjustment",), {"train_counts": [5, 5, 5], "tau": "high"}, "tau must be 'auto'"),
        (("logit_adjustment",), {"train_counts": [5, 5, 5], "tau_grid": [float("nan"), 1.0]}, "tau_grid"),
        (("logit_adjustment",), {"train_counts": [5, 5, 5], "tau_grid": []}, "tau_grid"),
        (("class_offsets",), {"grid": ["wide"]}, "grid must be a non-empty list"),
    ],
)
def test_fit_errors_name_the_bad_value(args, kwargs, needle):
    logits, y, _ = _skewed(n=100)
    with pytest.raises(ValueError, match=needle):
        fit_decision_rule(logits, y, *args, **kwargs)


@pytest.mark.parametrize(
    ("logits", "labels", "needle"),
    [
        (np.zeros(6), [0, 1, 0, 1, 0, 1], "shape"),
        (np.zeros((4, 2)), [0, 1, 0], "one label per row"),
        (np.zeros((3, 2)), [0.0, 1.0, 0.5], "integer class ids"),
        (np.zeros((3, 2)), [0, 1, 2], r"\[2\] are outside"),
        (np.full((3, 2), np.nan), [0, 1, 0], "NaN"),
        (np.zeros((2, 2)), [-100, -100], "no validation rows"),
    ],
)
def test_fit_refuses_bad_validation_arrays(logits, labels, needle):
    with pytest.raises(ValueError, match=needle):
        fit_decision_rule(logits, np.asarray(labels), guard="none")


def test_target_class_without_validation_rows_is_refused():
    logits, y, _ = _skewed(n=200)
    with pytest.raises(ValueError, match="target_class 2 has no validation rows"):
        fit_decision_rule(logits[y != 2], y[y != 2], metric="class_f1", target_class=2)


def test_rule_effect_gives_metrics_without_and_with_the_rule():
    logits, y, _ = _skewed(n=400, seed=5)
    rule = fit_decision_rule(logits, y, guard="none")
    names = ["big", "mid", "rare"]
    before, after = rule_effect(rule, logits, np.concatenate([y[:-1], [-100]]), names)
    assert before["macro_f1"] == pytest.approx(f1_score(y[:-1], logits[:-1].argmax(1), average="macro"))
    assert after["macro_f1"] == pytest.approx(f1_score(y[:-1], rule.predict(logits[:-1]), average="macro"))
    assert after["macro_f1"] > before["macro_f1"] and "f1_rare" in after


def test_registry_declares_every_rule_once():
    assert set(DECISION_RULES) == {"class_offsets", "logit_adjustment", "threshold"}
    assert DECISION_RULES["logit_adjustment"].needs_train_counts and DECISION_RULES["threshold"].binary_only
    assert 0.0 in DECISION_RULES["logit_adjustment"].params["tau_grid"]
    assert DEFAULT_GUARD in DECISION_GUARDS and set(DECISION_METRICS) == {"macro_f1", "balanced_accuracy", "class_f1"}
    logits, y, _ = _skewed(n=300)
    assert fit_decision_rule(logits, y).params["guard"] == DEFAULT_GUARD == "gate"  # the benchmark's choice


# --------------------------------------------------------------------------------------------------
# posthoc.json: version 2 with the fitting record; version 1 files still load
# --------------------------------------------------------------------------------------------------


def test_fitted_rule_roundtrips_through_posthoc_json(tmp_path):
    logits, y, _ = _skewed(n=400)
    rule = fit_decision_rule(logits, y, guard="shrink", seed=2)
    path = rule.save(tmp_path)
    stored = json.loads(path.read_text())
    assert stored["format_version"] == 2 and stored["kind"] == "class_offsets"
    again = load_posthoc(tmp_path)
    assert again == rule
    np.testing.assert_array_equal(again.predict(logits), rule.predict(logits))


def test_version_1_files_still_load_and_unknown_versions_are_refused(tmp_path):
    v1 = {"format_version": 1, "kind": "threshold", "offsets": [0.0, 0.8], "params": {"threshold": 0.31}}
    (tmp_path / POSTHOC_FILENAME).write_text(json.dumps(v1))
    assert load_posthoc(tmp_path) == PosthocAdjustment([0.0, 0.8], "threshold", {"threshold": 0.31})
    (tmp_path / POSTHOC_FILENAME).write_text(json.dumps({**v1, "format_version": 3}))
    with pytest.raises(ValueError, match="format_version 3"):
        load_posthoc(tmp_path)
    (tmp_path / POSTHOC_FILENAME).write_text(json.dumps({**v1, "format_version": 2, "scale": 2}))
    with pytest.raises(ValueError, match=r"unknown field\(s\) \['scale'\]"):
        load_posthoc(tmp_path)
    (tmp_path / POSTHOC_FILENAME).write_text(json.dumps({**v1, "kind": "platt"}))
    with pytest.raises(ValueError, match="kind must be one of"):
        load_posthoc(tmp_path)
    (tmp_path / POSTHOC_FILENAME).write_text("{not json")
    with pytest.raises(ValueError, match="not valid JSON"):
        load_posthoc(tmp_path)
