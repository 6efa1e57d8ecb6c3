"""Metrics that show how a classifier does on every class, not only on the frequent ones.

:func:`imbalance_metrics` returns a ``compute_metrics`` callable for ``transformers.Trainer`` that
reports accuracy next to balanced accuracy, macro/weighted/micro F1, the geometric mean of the class
recalls and per-class precision, recall, F1 and support, and keeps the confusion matrix. The same
figures are available as a bundled ``evaluate`` module that loads offline (:func:`load_metric`).
All figures come from scikit-learn so that they can be checked against it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.metrics import (
    accuracy_score,
    confusion_matrix,
    hamming_loss,
    multilabel_confusion_matrix,
    precision_recall_fscore_support,
)

__all__ = [
    "METRIC_MODULE_PATH",
    "ImbalanceMetrics",
    "compute_imbalance_metrics",
    "compute_multilabel_metrics",
    "imbalance_metrics",
    "load_metric",
    "sanitize_label_names",
]

#: Folder of the bundled ``evaluate`` module: ``evaluate.load(METRIC_MODULE_PATH)`` works offline.
METRIC_MODULE_PATH = str(Path(__file__).resolve().parent / "metrics_module" / "imbalance_metrics")


def sanitize_label_names(label_names: Sequence[str]) -> list[str]:
    """Turn label names into unique, lower-case ``[a-z0-9_]`` key fragments (``"Not Spam!"`` -> ``not_spam``).

    Empty results become the class index; duplicates get ``_<index>`` appended.
    """
    out: list[str] = []
    seen: set[str] = set()
    for i, name in enumerate(label_names):
        key = re.sub(r"[^0-9a-z]+", "_", str(name).lower()).strip("_") or str(i)
        if key in seen:
            key = f"{key}_{i}"
        seen.add(key)
        out.append(key)
    return out


def _per_class_keys(result: dict[str, float], names: list[str], p, r, f, s) -> None:
    for j, name in enumerate(names):
        result[f"f1_{name}"] = float(f[j])
        result[f"precision_{name}"] = float(p[j])
        result[f"recall_{name}"] = float(r[j])
        result[f"support_{name}"] = int(s[j])


def compute_imbalance_metrics(
    predictions: Sequence[int] | np.ndarray,
    references: Sequence[int] | np.ndarray,
    label_names: Sequence[str] | None = None,
    num_classes: int | None = None,
    average_prefix: str = "",
) -> tuple[dict[str, float], np.ndarray]:
    """Single-label figures for integer ``predictions`` vs ``references``; returns ``(metrics, confusion)``.

    Classes are ``range(len(label_names))`` (or ``num_classes``, or those seen). Undefined ratios
    (a class never predicted or never present) count as 0, as scikit-learn's ``zero_division=0``.
    ``balanced_accuracy`` and ``g_mean`` average only over classes present in ``references``.
    """
    y_pred = np.asarray(predictions).astype(np.int64).ravel()
    y_true = np.asarray(references).astype(np.int64).ravel()
    if y_pred.shape != y_true.shape:
        raise ValueError(f"predictions ({y_pred.shape[0]}) and references ({y_true.shape[0]}) differ in length")
    if y_true.size == 0:
        raise ValueError("no references to score (empty input, or every label was -100)")
    if label_names is not None:
        k = len(label_names)
    elif num_classes is not None:
        k = int(num_classes)
    else:
        k = int(max(y_true.max(), y_pred.max())) + 1
    bad = [int(v) for v in np.unique(np.concatenate([y_true, y_pred])) if not 0 <= v < k]
    if bad:
        raise ValueError(f"class ids {bad} are outside range(0, {k}) given by the label names / num_classes")
    names = sanitize_label_names(label_names if label_names is not None else [str(i) for i in range(k)])
    labels = list(range(k))
    p, r, f, s = precision_recall_fscore_support(y_true, y_pred, labels=labels, zero_division=0)
    present = s > 0
    cm = confusion_matrix(y_true, y_pred, labels=labels)
    summary: dict[str, float] = {"accuracy": float(accuracy_score(y_true, y_pred))}
    summary["balanced_accuracy"] = float(r[present].mean())
    for avg in ("macro", "weighted", "micro"):
        ap, ar, af, _ = precision_recall_fscore_support(y_true, y_pred, labels=labels, average=avg, zero_division=0)
        summary[f"{avg}_f1"] = float(af)
        if avg == "macro":
            summary["macro_precision"] = float(ap)
            summary["macro_recall"] = float(ar)
    summary["g_mean"] = float(np.prod(r[present]) ** (1.0 / present.sum()))
    result = {f"{average_prefix}{key}": value for key, value in summary.items()}
    _per_class_keys(result, names, p, r, f, s)
    return result, cm


def compute_multilabel_metrics(
    predictions: np.ndarray,
    references: np.ndarray,
    label_names: Sequence[str] | None = None,
    average_prefix: str = "",
) -> tuple[dict[str, float], np.ndarray]:
    """Multi-label figures for 0/1 indicator matrices ``[N, C]``; returns ``(metrics, confusion [C, 2, 2])``.

    ``accuracy`` is subset (exact-match) accuracy; ``balanced_accuracy`` is the mean over classes of
    (TPR + TNR) / 2; ``g_mean`` is the geometric mean of the per-class recalls of classes with support.
    """
    y_pred = np.asarray(predictions).astype(np.int64)
    y_true = np.asarray(references).astype(np.int64)
    if y_pred.ndim != 2 or y_pred.shape != y_true.shape:
        raise ValueError(
            f"multi-label predictions and references must be [N, C] of the same shape, got "
            f"{y_pred.shape} and {y_true.shape}"
        )
    k = y_true.shape[1]
    if label_names is not None and len(label_names) != k:
        raise ValueError(f"{len(label_names)} label names for {k} label columns")
    names = sanitize_label_names(label_names if label_names is not None else [str(i) for i in range(k)])
    p, r, f, s = precision_recall_fscore_support(y_true, y_pred, zero_division=0)
    mcm = multilabel_confusion_matrix(y_true, y_pred)
    tn, fp = mcm[:, 0, 0].astype(np.float64), mcm[:, 0, 1].astype(np.float64)
    tnr = np.divide(tn, tn + fp, out=np.zeros_like(tn), where=(tn + fp) > 0)
    present = s > 0
    summary: dict[str, float] = {
        "accuracy": float(accuracy_score(y_true, y_pred)),
        "balanced_accuracy": float(np.mean((r + tnr) / 2.0)),
    }
    for avg in ("macro", "weighted", "micro"):
        ap, ar, af, _ = precision_recall_fscore_support(y_true, y_pred, average=avg, zero_division=0)
        summary[f"{avg}_f1"] = float(af)
        if avg == "macro":
            summary["macro_precision"] = float(ap)
            summary["macro_recall"] = float(ar)
    summary["g_mean"] = float(np.prod(r[present]) ** (1.0 / present.sum())) if present.any() else 0.0
    summary["hamming_loss"] = float(hamming_loss(y_true, y_pred))
    result = {f"{average_prefix}{key}": value for key, value in summary.items()}
    _per_class_keys(result, names, p, r, f, s)
    return result, mcm


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


class ImbalanceMetrics:
    """``compute_metrics`` for ``transformers.Trainer``; keeps the last confusion matrix.

    Use :func:`imbalance_metrics` to build one. Rows whose reference is ``-100`` are dropped.
    """

    def __init__(
        self,
        label_names: Sequence[str] | None = None,
        average_prefix: str = "",
        save_confusion_matrix_to: str | Path | None = None,
        multi_label: bool = False,
        threshold: float = 0.5,
    ) -> None:
        self.label_names = None if label_names is None else [str(n) for n in label_names]
        self.average_prefix = average_prefix
        self.multi_label = multi_label
        if not 0.0 < threshold < 1.0:
            raise ValueError(f"threshold must be in (0, 1), got {threshold!r}")
        self.threshold = float(threshold)
        self.save_confusion_matrix_to = None if save_confusion_matrix_to is None else Path(save_confusion_matrix_to)
        if self.save_confusion_matrix_to is not None and self.save_confusion_matrix_to.suffix not in (
            ".json",
            ".npy",
        ):
            raise ValueError(
                f"save_confusion_matrix_to must end in .json or .npy, got {str(self.save_confusion_matrix_to)!r}"
            )
        #: Confusion matrix of the last call: ``[C, C]`` (rows = true class) or ``[C, 2, 2]`` per label.
        self.confusion_matrix: np.ndarray | None = None

    def __call__(self, eval_pred: Any) -> dict[str, float]:
        """Score a ``transformers.EvalPrediction`` (or a ``(logits, labels)`` pair)."""
        if hasattr(eval_pred, "predictions"):
            logits, refs = eval_pred.predictions, eval_pred.label_ids
        else:
            logits, refs = eval_pred
        if isinstance(logits, (tuple, list)):
            logits = logits[0]
        logits = np.asarray(logits)
        refs = np.asarray(refs)
        if self.multi_label:
            keep = ~np.any(refs == -100, axis=-1)
            preds = (_sigmoid(logits[keep].astype(np.float64)) >= self.threshold).astype(np.int64)
            result, cm = compute_multilabel_metrics(preds, refs[keep], self.label_names, self.average_prefix)
        else:
            preds = logits.argmax(axis=-1) if logits.ndim > 1 else logits
            keep = refs != -100
            num_classes = logits.shape[-1] if logits.ndim > 1 else None
            result, cm = compute_imbalance_metrics(
                preds[keep], refs[keep], self.label_names, num_classes, self.average_prefix
            )
        self.confusion_matrix = cm
        if self.save_confusion_matrix_to is not None:
            self._save(cm)
        return result

    def _save(self, cm: np.ndarray) -> None:
        path = self.save_confusion_matrix_to
        assert path is not None
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.suffix == ".npy":
            np.save(path, cm)
        else:
            k = cm.shape[0]
            names = self.label_names if self.label_names is not None else [str(i) for i in range(k)]
            layout = "[label][true 0/1][pred 0/1]" if self.multi_label else "[true][pred]"
            path.write_text(json.dumps({"labels": names, "layout": layout, "matrix": cm.tolist()}, indent=1))


def imbalance_metrics(
    label_names: Sequence[str] | None = None,
    average_prefix: str = "",
    save_confusion_matrix_to: str | Path | None = None,
    multi_label: bool = False,
    threshold: float = 0.5,
) -> Callable[[Any], dict[str, float]]:
    """Build a ``compute_metrics(eval_pred)`` with flat keys for the Trainer.

    Keys: ``accuracy, balanced_accuracy, macro_f1, weighted_f1, micro_f1, macro_precision,
    macro_recall, g_mean`` (each preceded by ``average_prefix``; per-class keys are not prefixed) and
    ``f1_<name>, precision_<name>, recall_<name>, support_<name>`` per class (names sanitised).
    ``multi_label=True`` thresholds sigmoid(logits) at ``threshold`` and adds ``hamming_loss``.
    The confusion matrix is kept as ``.confusion_matrix`` and written to ``save_confusion_matrix_to``
    (``.json`` with label names, or ``.npy``) at every call.
    """
    return ImbalanceMetrics(label_names, average_prefix, save_confusion_matrix_to, multi_label, threshold)


def load_metric(config_name: str = "default", **kwargs: Any) -> Any:
    """``evaluate.load`` of the bundled module (no Hub needed); ``"multilabel"`` for [N, C] rows."""
    import evaluate

    return evaluate.load(METRIC_MODULE_PATH, config_name, **kwargs)
