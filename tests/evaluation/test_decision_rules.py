"""Post-hoc logit adjustment and threshold tuning; saved with the model and applied by predict."""

from __future__ import annotations

import gc
import math

import numpy as np
import pytest
import torch
from datasets import Dataset
from sklearn.metrics import balanced_accuracy_score, f1_score
from transformers import BertConfig, BertForSequenceClassification, TrainingArguments
from transformers.utils import logging as hf_logging

from nlp_balance.evaluation.decision_rules import (
    POSTHOC_FILENAME,
    PosthocAdjustment,
    adjust_logits,
    load_posthoc,
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

    adj = trainer.fit_posthoc("threshold", metric="balanced_accuracy")
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
    with pytest.raises(ValueError, match="method"):
        trainer.fit_posthoc("platt")
