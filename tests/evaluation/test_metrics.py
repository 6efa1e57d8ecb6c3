"""Imbalance metrics equal scikit-learn / imbalanced-learn; the bundled evaluate module loads offline."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from sklearn import metrics as skm
from transformers import EvalPrediction

from nlp_balance.evaluation.metrics import (
    METRIC_MODULE_PATH,
    compute_imbalance_metrics,
    compute_multilabel_metrics,
    imbalance_metrics,
    sanitize_label_names,
)

REPO = Path(__file__).resolve().parents[2]
NAMES = ["Not Spam", "spam!", "Other/Misc", "rare"]


def _random_case(seed: int, n: int = 400, k: int = 4):
    rng = np.random.default_rng(seed)
    y = rng.choice(k, size=n, p=[0.6, 0.25, 0.1, 0.05])
    logits = rng.normal(size=(n, k)) + 1.5 * np.eye(k)[y] * rng.random((n, 1))
    return logits, y


def _sklearn_reference(y, pred, k):
    labels = list(range(k))
    p, r, f, s = skm.precision_recall_fscore_support(y, pred, labels=labels, zero_division=0)
    ref = {
        "accuracy": skm.accuracy_score(y, pred),
        "balanced_accuracy": skm.balanced_accuracy_score(y, pred),
        "macro_f1": skm.f1_score(y, pred, labels=labels, average="macro", zero_division=0),
        "weighted_f1": skm.f1_score(y, pred, labels=labels, average="weighted", zero_division=0),
        "micro_f1": skm.f1_score(y, pred, labels=labels, average="micro", zero_division=0),
        "macro_precision": skm.precision_score(y, pred, labels=labels, average="macro", zero_division=0),
        "macro_recall": skm.recall_score(y, pred, labels=labels, average="macro", zero_division=0),
    }
    return ref, (p, r, f, s)


@pytest.mark.parametrize("seed", range(5))
def test_single_label_equals_sklearn_and_imblearn(seed):
    from imblearn.metrics import geometric_mean_score

    logits, y = _random_case(seed)
    compute = imbalance_metrics(NAMES)
    got = compute(EvalPrediction(predictions=logits, label_ids=y))
    pred = logits.argmax(-1)
    ref, (p, r, f, s) = _sklearn_reference(y, pred, 4)
    for key, value in ref.items():
        assert got[key] == pytest.approx(value, abs=1e-12), key
    assert got["g_mean"] == pytest.approx(geometric_mean_score(y, pred, average="multiclass"), abs=1e-12)
    keys = sanitize_label_names(NAMES)
    assert keys == ["not_spam", "spam", "other_misc", "rare"]
    for j, name in enumerate(keys):
        assert got[f"f1_{name}"] == pytest.approx(f[j])
        assert got[f"precision_{name}"] == pytest.approx(p[j])
        assert got[f"recall_{name}"] == pytest.approx(r[j])
        assert got[f"support_{name}"] == s[j]
    np.testing.assert_array_equal(compute.confusion_matrix, skm.confusion_matrix(y, pred, labels=range(4)))


def test_ignored_labels_prefix_and_tuple_predictions():
    logits, y = _random_case(11, n=60)
    y_masked = y.copy()
    y_masked[:10] = -100
    compute = imbalance_metrics(average_prefix="adj_")
    got = compute(EvalPrediction(predictions=(logits, np.zeros((60, 2))), label_ids=y_masked))
    keep = y_masked != -100
    assert got["adj_macro_f1"] == pytest.approx(
        skm.f1_score(y[keep], logits[keep].argmax(-1), labels=range(4), average="macro", zero_division=0)
    )
    assert "macro_f1" not in got and "f1_0" in got  # per-class keys are not prefixed
    assert sum(got[f"support_{i}"] for i in range(4)) == 50
    plain = imbalance_metrics()((logits, y))  # a bare (logits, labels) pair works too
    assert plain["accuracy"] == pytest.approx(skm.accuracy_score(y, logits.argmax(-1)))


def test_absent_class_and_errors():
    got, cm = compute_imbalance_metrics([0, 0, 1, 1], [0, 1, 1, 1], label_names=["a", "b", "c"])
    assert got["support_c"] == 0 and got["f1_c"] == 0.0
    assert got["balanced_accuracy"] == pytest.approx(skm.balanced_accuracy_score([0, 1, 1, 1], [0, 0, 1, 1]))
    assert cm.shape == (3, 3)
    with pytest.raises(ValueError, match="outside range"):
        compute_imbalance_metrics([0, 5], [0, 1], label_names=["a", "b"])
    with pytest.raises(ValueError, match="differ in length"):
        compute_imbalance_metrics([0, 1], [0])
    with pytest.raises(ValueError, match="save_confusion_matrix_to"):
        imbalance_metrics(save_confusion_matrix_to="cm.txt")


def test_confusion_matrix_saved(tmp_path):
    logits, y = _random_case(3, n=80)
    for suffix in (".json", ".npy"):
        path = tmp_path / "sub" / f"cm{suffix}"
        compute = imbalance_metrics(NAMES, save_confusion_matrix_to=path)
        compute(EvalPrediction(predictions=logits, label_ids=y))
        expected = skm.confusion_matrix(y, logits.argmax(-1), labels=range(4))
        if suffix == ".npy":
            np.testing.assert_array_equal(np.load(path), expected)
        else:
            saved = json.loads(path.read_text())
            assert saved["labels"] == NAMES
            np.testing.assert_array_equal(np.array(saved["matrix"]), expected)


def test_sanitised_names_are_unique():
    assert sanitize_label_names(["A b", "a-b", "", "ü"]) == ["a_b", "a_b_1", "2", "3"]


@pytest.mark.parametrize("seed", range(3))
def test_multi_label_equals_sklearn(seed):
    rng = np.random.default_rng(seed)
    y = (rng.random((200, 3)) < [0.5, 0.2, 0.05]).astype(np.float32)
    logits = rng.normal(size=(200, 3)) + 2.0 * (y - 0.5)
    compute = imbalance_metrics(["x", "y", "z"], multi_label=True)
    got = compute(EvalPrediction(predictions=logits, label_ids=y))
    pred = (1 / (1 + np.exp(-logits)) >= 0.5).astype(int)
    assert got["accuracy"] == pytest.approx(skm.accuracy_score(y, pred))
    assert got["macro_f1"] == pytest.approx(skm.f1_score(y, pred, average="macro", zero_division=0))
    assert got["micro_f1"] == pytest.approx(skm.f1_score(y, pred, average="micro", zero_division=0))
    assert got["hamming_loss"] == pytest.approx(skm.hamming_loss(y, pred))
    per_bal = [skm.balanced_accuracy_score(y[:, j], pred[:, j]) for j in range(3)]
    assert got["balanced_accuracy"] == pytest.approx(np.mean(per_bal))
    recalls = skm.recall_score(y, pred, average=None, zero_division=0)
    assert got["g_mean"] == pytest.approx(np.prod(recalls) ** (1 / 3))
    assert got["recall_z"] == pytest.approx(recalls[2])
    assert compute.confusion_matrix.shape == (3, 2, 2)


@pytest.mark.slow  # over 10 s here: in CI's slow phase
def test_evaluate_module_loads_offline_and_matches(tmp_path):
    """Fresh process with the Hub unreachable and an empty HF_HOME: evaluate.load(path) still works."""
    logits, y = _random_case(4, n=120)
    pred = logits.argmax(-1)
    expected, _ = compute_imbalance_metrics(pred, y, NAMES)
    ml_y = (np.random.default_rng(0).random((30, 3)) < 0.3).astype(int)
    ml_p = np.roll(ml_y, 1, axis=0)
    expected_ml, _ = compute_multilabel_metrics(ml_p, ml_y, ["x", "y", "z"])
    script = f"""
import json, sys, evaluate
m = evaluate.load({METRIC_MODULE_PATH!r})
m.add_batch(predictions={pred[:50].tolist()}, references={y[:50].tolist()})
out = m.compute(predictions={pred[50:].tolist()}, references={y[50:].tolist()}, label_names={NAMES!r})
ml = evaluate.load({METRIC_MODULE_PATH!r}, "multilabel")
out_ml = ml.compute(predictions={ml_p.tolist()}, references={ml_y.tolist()}, label_names=["x", "y", "z"])
print("RESULT" + json.dumps([out, out_ml]))
"""
    env = dict(os.environ)
    env.update(
        HF_HUB_OFFLINE="1",
        HF_DATASETS_OFFLINE="1",
        HF_HOME=str(tmp_path / "hf_home"),
        HF_ENDPOINT="http://127.0.0.1:9",  # nothing listens there: any network attempt fails fast
        PYTHONPATH=str(REPO) + os.pathsep + env.get("PYTHONPATH", ""),
    )
    proc = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=240
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    line = next(x for x in proc.stdout.splitlines() if x.startswith("RESULT"))
    out, out_ml = json.loads(line[len("RESULT") :])
    assert out.keys() == expected.keys()
    for key, value in expected.items():
        assert out[key] == pytest.approx(value), key
    for key, value in expected_ml.items():
        assert out_ml[key] == pytest.approx(value), key
    assert (tmp_path / "hf_home").exists()  # the module was cached under our HF_HOME, not the user's
