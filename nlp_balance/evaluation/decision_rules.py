"""Post-hoc corrections of a trained classifier's decisions, with no retraining.

Two corrections, both expressed as one additive offset per class on the logits, so that they can be
stored next to the model (``posthoc.json``) and applied by ``BalancedTrainer.predict``:

* :func:`adjust_logits`: logit adjustment (Menon et al., 2021), ``logits - tau * log(priors)``,
  which moves a model trained on skewed priors towards balanced-error decisions;
* :func:`tune_threshold`: the decision threshold of a binary classifier that maximises a metric on
  a validation split; choosing class 1 when ``p1 >= t`` equals adding ``-logit(t)`` to the
  positive logit of a two-logit model.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "POSTHOC_FILENAME",
    "PosthocAdjustment",
    "ThresholdResult",
    "adjust_logits",
    "load_posthoc",
    "tune_threshold",
]

#: Name of the file written into the model folder by :meth:`PosthocAdjustment.save`.
POSTHOC_FILENAME = "posthoc.json"
_FORMAT_VERSION = 1
_THRESHOLD_METRICS = ("f1", "balanced_accuracy", "g_mean", "macro_f1")


def _check_priors(priors: Any, num_classes: int | None = None) -> np.ndarray:
    p = np.asarray(priors, dtype=np.float64).ravel()
    if p.size == 0 or not np.all(np.isfinite(p)) or np.any(p <= 0):
        raise ValueError(f"priors must be positive finite numbers (class frequencies or counts), got {priors!r}")
    if num_classes is not None and p.size != num_classes:
        raise ValueError(f"priors has {p.size} entries but the logits have {num_classes} classes")
    return p / p.sum()


def adjust_logits(logits: Any, priors: Any, tau: float = 1.0) -> Any:
    """Return ``logits - tau * log(priors)`` (priors normalised to sum to 1), same type as ``logits``.

    Works on numpy arrays and torch tensors of shape ``[..., C]``; ``priors`` may be counts.
    """
    if not isinstance(tau, (int, float)) or isinstance(tau, bool) or not math.isfinite(tau):
        raise ValueError(f"tau must be a finite number, got {tau!r}")
    num_classes = int(logits.shape[-1])
    offset = -float(tau) * np.log(_check_priors(priors, num_classes))
    try:
        import torch

        if isinstance(logits, torch.Tensor):
            return logits + torch.as_tensor(offset, dtype=logits.dtype, device=logits.device)
    except ImportError:  # pragma: no cover - torch is a dependency
        pass
    return np.asarray(logits) + offset


@dataclasses.dataclass(frozen=True)
class ThresholdResult:
    """Best threshold on the validation split and the metric value it reached there."""

    threshold: float
    score: float
    metric: str


def _binary_score(metric: str, y: np.ndarray, pred: np.ndarray) -> float:
    tp = float(np.sum((pred == 1) & (y == 1)))
    fp = float(np.sum((pred == 1) & (y == 0)))
    fn = float(np.sum((pred == 0) & (y == 1)))
    tn = float(np.sum((pred == 0) & (y == 0)))
    tpr = tp / (tp + fn) if tp + fn else 0.0
    tnr = tn / (tn + fp) if tn + fp else 0.0
    f1_pos = 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 0.0
    if metric == "f1":
        return f1_pos
    if metric == "balanced_accuracy":
        return (tpr + tnr) / 2
    if metric == "g_mean":
        return math.sqrt(tpr * tnr)
    f1_neg = 2 * tn / (2 * tn + fn + fp) if tn + fn + fp else 0.0
    return (f1_pos + f1_neg) / 2


def tune_threshold(
    probs_pos: Sequence[float] | np.ndarray, labels: Sequence[int] | np.ndarray, metric: str = "f1"
) -> ThresholdResult:
    """Pick the threshold ``t`` (predict positive when ``p >= t``) that maximises ``metric``.

    ``metric``: ``"f1"`` (of the positive class 1), ``"balanced_accuracy"``, ``"g_mean"`` or
    ``"macro_f1"``. Candidates are midpoints between consecutive distinct probabilities; ties go to
    the threshold closest to 0.5, so the choice is deterministic.
    """
    if metric not in _THRESHOLD_METRICS:
        raise ValueError(f"metric must be one of {_THRESHOLD_METRICS}, got {metric!r}")
    p = np.asarray(probs_pos, dtype=np.float64).ravel()
    y = np.asarray(labels).ravel()
    if p.shape != y.shape or p.size == 0:
        raise ValueError(f"probs_pos ({p.size}) and labels ({y.size}) must be non-empty and of equal length")
    if np.any((p < 0) | (p > 1)) or not np.all(np.isfinite(p)):
        raise ValueError("probs_pos must be probabilities in [0, 1]; pass softmax/sigmoid outputs, not logits")
    if not set(np.unique(y).tolist()) <= {0, 1}:
        raise ValueError(f"tune_threshold is for binary tasks with labels 0/1, got labels {np.unique(y).tolist()}")
    u = np.unique(p)
    candidates = np.concatenate([[u[0] / 2], (u[:-1] + u[1:]) / 2, [(u[-1] + 1) / 2]]) if u.size else np.array([0.5])
    candidates = np.clip(candidates, 1e-12, 1 - 1e-12)
    best_t, best_s = 0.5, -1.0
    for t in candidates:
        s = _binary_score(metric, y, (p >= t).astype(np.int64))
        if s > best_s + 1e-12 or (abs(s - best_s) <= 1e-12 and abs(t - 0.5) < abs(best_t - 0.5)):
            best_t, best_s = float(t), s
    return ThresholdResult(threshold=best_t, score=best_s, metric=metric)


@dataclasses.dataclass
class PosthocAdjustment:
    """Per-class additive logit offsets, with where they came from; saved as ``posthoc.json``."""

    offsets: list[float]
    kind: str = "logit_adjustment"
    params: dict[str, Any] = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        self.offsets = [float(v) for v in self.offsets]
        if not self.offsets or not all(math.isfinite(v) for v in self.offsets):
            raise ValueError(f"offsets must be a non-empty list of finite numbers, got {self.offsets!r}")
        if self.kind not in ("logit_adjustment", "threshold", "custom"):
            raise ValueError(f"kind must be 'logit_adjustment', 'threshold' or 'custom', got {self.kind!r}")

    @classmethod
    def from_priors(cls, priors: Any, tau: float = 1.0) -> PosthocAdjustment:
        """Logit adjustment by ``-tau * log(priors)``; ``priors`` may be class counts."""
        p = _check_priors(priors)
        return cls((-float(tau) * np.log(p)).tolist(), "logit_adjustment", {"priors": p.tolist(), "tau": tau})

    @classmethod
    def from_threshold(cls, threshold: float, positive_label: int = 1) -> PosthocAdjustment:
        """Binary threshold on the positive class probability, as an offset on a two-logit model."""
        if not 0.0 < threshold < 1.0:
            raise ValueError(f"threshold must be in (0, 1), got {threshold!r}")
        if positive_label not in (0, 1):
            raise ValueError(f"positive_label must be 0 or 1, got {positive_label!r}")
        offsets = [0.0, 0.0]
        offsets[positive_label] = -math.log(threshold / (1.0 - threshold))
        return cls(offsets, "threshold", {"threshold": threshold, "positive_label": positive_label})

    def apply(self, logits: Any) -> Any:
        """Adjusted logits (numpy or torch, ``[..., C]``)."""
        if int(logits.shape[-1]) != len(self.offsets):
            raise ValueError(
                f"posthoc adjustment has {len(self.offsets)} offsets, logits have {logits.shape[-1]} classes"
            )
        try:
            import torch

            if isinstance(logits, torch.Tensor):
                return logits + torch.as_tensor(self.offsets, dtype=logits.dtype, device=logits.device)
        except ImportError:  # pragma: no cover
            pass
        return np.asarray(logits) + np.asarray(self.offsets)

    def predict(self, logits: Any) -> np.ndarray:
        """Class ids after the adjustment."""
        adjusted = self.apply(logits)
        return np.asarray(adjusted.detach().cpu() if hasattr(adjusted, "detach") else adjusted).argmax(-1)

    def save(self, model_dir: str | Path) -> Path:
        """Write ``posthoc.json`` into ``model_dir`` (created if missing)."""
        path = Path(model_dir) / POSTHOC_FILENAME
        path.parent.mkdir(parents=True, exist_ok=True)
        payload = {"format_version": _FORMAT_VERSION, **dataclasses.asdict(self)}
        path.write_text(json.dumps(payload, indent=1, sort_keys=True))
        return path


def load_posthoc(model_dir: str | Path) -> PosthocAdjustment | None:
    """Read ``posthoc.json`` from a model folder; ``None`` when the folder has none."""
    path = Path(model_dir) / POSTHOC_FILENAME
    if not path.is_file():
        return None
    data = json.loads(path.read_text())
    version = data.pop("format_version", None)
    if version != _FORMAT_VERSION:
        raise ValueError(f"{path}: unsupported posthoc format_version {version!r} (expected {_FORMAT_VERSION})")
    return PosthocAdjustment(**data)
