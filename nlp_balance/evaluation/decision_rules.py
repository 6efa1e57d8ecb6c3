"""Decision rules: post-hoc corrections of a trained classifier's decisions, fitted with no retraining.

Every rule is one additive offset per class on the logits (:class:`PosthocAdjustment`), so that it
can be stored next to the model (``posthoc.json``) and applied by ``TextClassifier`` and
``BalancedTrainer.predict``. :func:`fit_decision_rule` fits one on validation logits and labels;
the rules are declared once in :data:`DECISION_RULES`:

* ``class_offsets``: per-class offsets that maximise a validation metric, by coordinate ascent over
  a grid (any number of classes);
* ``logit_adjustment``: ``logits - tau * log(train priors)`` (Menon et al., 2021), with ``tau``
  chosen on validation from a grid (``tau="auto"``, 0 included) or fixed;
* ``threshold``: the decision threshold of a binary classifier; choosing class 1 when ``p1 >= t``
  equals adding ``-logit(t)`` to the positive logit of a two-logit model.

The metrics are those of :data:`~nlp_balance.evaluation.rule_search.DECISION_METRICS`, the guards
against over-fitting small validation classes those of
:data:`~nlp_balance.evaluation.rule_guards.DECISION_GUARDS`. :func:`adjust_logits` and
:func:`tune_threshold` are the fixed-``tau`` and probability-threshold building blocks.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from nlp_balance.evaluation.rule_guards import DECISION_GUARDS, guarded_offsets
from nlp_balance.evaluation.rule_search import (
    DECISION_METRICS,
    Objective,
    argmax_with_offsets,
    coordinate_ascent,
    default_grid,
    tau_search,
    threshold_search,
)

__all__ = [
    "DECISION_GUARDS",
    "DECISION_METRICS",
    "DECISION_RULES",
    "DEFAULT_GUARD",
    "DEFAULT_TAU_GRID",
    "POSTHOC_FILENAME",
    "DecisionRuleSpec",
    "PosthocAdjustment",
    "ThresholdResult",
    "adjust_logits",
    "fit_decision_rule",
    "load_posthoc",
    "rule_effect",
    "tune_threshold",
]

#: Name of the file written into the model folder by :meth:`PosthocAdjustment.save`.
POSTHOC_FILENAME = "posthoc.json"
#: Version 2 adds the ``class_offsets`` kind and the fitting record in ``params`` (see
#: :func:`fit_decision_rule`); version 1 files (``logit_adjustment``/``threshold``/``custom``) still load.
_FORMAT_VERSION = 2
_READABLE_VERSIONS = (1, 2)
_THRESHOLD_METRICS = ("f1", "balanced_accuracy", "g_mean", "macro_f1")
#: The ``tau`` values searched by ``logit_adjustment`` with ``tau="auto"``; 0 is "no adjustment".
DEFAULT_TAU_GRID: tuple[float, ...] = tuple(round(0.1 * i, 1) for i in range(21))


@dataclasses.dataclass(frozen=True)
class DecisionRuleSpec:
    """One decision rule of :data:`DECISION_RULES`: what it does, what it needs, its parameters and defaults."""

    summary: str
    params: Mapping[str, Any]
    needs_train_counts: bool = False
    binary_only: bool = False


#: The decision rules :func:`fit_decision_rule` knows, by name; recipes and the CLI validate against it.
DECISION_RULES: dict[str, DecisionRuleSpec] = {
    "class_offsets": DecisionRuleSpec(
        "per-class logit offsets maximising the metric on validation (coordinate ascent over a grid)",
        {"grid": None, "grid_size": 41, "span": None, "max_sweeps": 10},
    ),
    "logit_adjustment": DecisionRuleSpec(
        "logits - tau * log(train priors), tau chosen on validation from tau_grid ('auto') or fixed",
        {"tau": "auto", "tau_grid": DEFAULT_TAU_GRID},
        needs_train_counts=True,
    ),
    "threshold": DecisionRuleSpec(
        "two classes: the offset of class 1 (a probability threshold) maximising the metric, every cut point tried",
        {},
        binary_only=True,
    ),
}

#: The guard :func:`fit_decision_rule` uses when none is named (for a searched rule). ``gate`` had the
#: best validation-only (cross-validated) gain of every guard in docs/benchmarks/decision_rules.md,
#: and on test it never lost: the rule is applied only when it beats no rule on held-out folds.
DEFAULT_GUARD = "gate"
_KINDS = (*DECISION_RULES, "custom")


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
    """Per-class additive logit offsets, with where they came from; saved as ``posthoc.json``.

    ``kind`` names the rule (a :data:`DECISION_RULES` name or ``custom``); ``params`` records how it
    was fitted (for :func:`fit_decision_rule`: method, metric, guard, validation scores before and
    after, the grid searched). Only ``offsets`` changes predictions.
    """

    offsets: list[float]
    kind: str = "logit_adjustment"
    params: dict[str, Any] = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        self.offsets = [float(v) for v in self.offsets]
        if not self.offsets or not all(math.isfinite(v) for v in self.offsets):
            raise ValueError(f"offsets must be a non-empty list of finite numbers, got {self.offsets!r}")
        if self.kind not in _KINDS:
            raise ValueError(f"kind must be one of {list(_KINDS)}, got {self.kind!r}")

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
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as err:
        raise ValueError(f"{path}: not valid JSON ({err})") from err
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a JSON object, got {type(data).__name__}")
    version = data.pop("format_version", None)
    if version not in _READABLE_VERSIONS:
        raise ValueError(f"{path}: unsupported posthoc format_version {version!r} "
                         f"(readable: {list(_READABLE_VERSIONS)})")
    unknown = sorted(set(data) - {f.name for f in dataclasses.fields(PosthocAdjustment)})
    if unknown:
        raise ValueError(f"{path}: unknown field(s) {unknown} for posthoc format_version {version}")
    try:
        return PosthocAdjustment(**data)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{path}: {err}") from err


# --------------------------------------------------------------------------------------------------
# Fitting a rule on validation logits
# --------------------------------------------------------------------------------------------------


def _validation_arrays(val_logits: Any, val_labels: Any) -> tuple[np.ndarray, np.ndarray]:
    """Float logits ``[n, C]`` and integer labels ``[n]``; rows labelled -100 (the ignore index) are left out."""
    if hasattr(val_logits, "detach"):
        val_logits = val_logits.detach().cpu()
    logits = np.asarray(val_logits, dtype=np.float64)
    labels = np.asarray(val_labels.detach().cpu() if hasattr(val_labels, "detach") else val_labels)
    if logits.ndim != 2 or logits.shape[1] < 2:
        raise ValueError(f"val_logits must be [rows, classes] with at least 2 classes, got shape {logits.shape}")
    if labels.ndim != 1 or labels.shape[0] != logits.shape[0]:
        raise ValueError(f"val_labels must be one label per row of val_logits ({logits.shape[0]}), "
                         f"got shape {labels.shape}")
    if labels.size and not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"val_labels must be integer class ids, got dtype {labels.dtype}")
    keep = labels != -100
    logits, labels = logits[keep], labels[keep].astype(np.int64)
    if labels.size == 0:
        raise ValueError("no validation rows to fit a decision rule on (empty, or every label is -100)")
    if not np.all(np.isfinite(logits)):
        raise ValueError("val_logits contain NaN or infinite values")
    bad = sorted({int(v) for v in labels if not 0 <= v < logits.shape[1]})
    if bad:
        raise ValueError(f"val_labels {bad} are outside range(0, {logits.shape[1]}) given by the logits")
    return logits, labels


def _split_params(method: str, guard: str, params: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The method's own parameters (with defaults) and the guard's; an unknown name is an error naming it."""
    own, guard_own = DECISION_RULES[method].params, DECISION_GUARDS[guard]
    unknown = sorted(set(params) - set(own) - set(guard_own))
    if unknown:
        raise ValueError(f"decision rule {method!r} with guard {guard!r} takes no parameter "
                         f"{', '.join(map(repr, unknown))} (it takes: {sorted({*own, *guard_own}) or 'none'})")
    method_params = {**own, **{k: v for k, v in params.items() if k in own}}
    return method_params, {k: v for k, v in params.items() if k in guard_own}


def _resolve_guard(method: str, guard: str | None, method_params: Mapping[str, Any]) -> str:
    fixed_tau = method == "logit_adjustment" and method_params["tau"] != "auto"
    if guard is None:
        return "none" if fixed_tau else DEFAULT_GUARD
    if guard not in DECISION_GUARDS:
        raise ValueError(f"guard must be one of {sorted(DECISION_GUARDS)}, got {guard!r}")
    if fixed_tau and guard != "none":
        raise ValueError(f"guard {guard!r} needs a searched rule; logit_adjustment with a fixed tau "
                         f"({method_params['tau']!r}) takes guard 'none' (or tau='auto')")
    return guard


def _float_list(name: str, value: Any) -> np.ndarray:
    try:
        grid = np.asarray(value, dtype=np.float64).ravel() if value is not None else np.zeros(0)
    except (TypeError, ValueError):
        grid = np.zeros(0)
    if grid.size == 0 or not np.all(np.isfinite(grid)):
        raise ValueError(f"{name} must be a non-empty list of finite numbers, got {value!r}")
    return grid


def _class_offsets_fitter(logits: np.ndarray, objective: Objective, p: Mapping[str, Any]) -> tuple[Any, dict]:
    if p["grid"] is not None:
        grid = np.unique(np.concatenate([_float_list("grid", p["grid"]), [0.0]]))
    else:
        grid = default_grid(logits, p["grid_size"], p["span"])
    sweeps = p["max_sweeps"]
    if not isinstance(sweeps, int) or isinstance(sweeps, bool) or sweeps < 1:
        raise ValueError(f"max_sweeps must be an integer >= 1, got {sweeps!r}")
    record = {"grid": [round(float(v), 6) for v in grid], "max_sweeps": sweeps}
    return (lambda lg, lb: coordinate_ascent(lg, lb, objective, grid, sweeps)[0]), record


def _logit_adjustment_fitter(logits: np.ndarray, labels: np.ndarray, objective: Objective,
                             p: Mapping[str, Any], train_counts: Any) -> tuple[Any, dict, np.ndarray]:
    if train_counts is None:
        raise ValueError("decision rule 'logit_adjustment' needs train_counts (the training class counts)")
    counts = np.asarray(train_counts, dtype=np.float64).ravel()
    if counts.size and np.all(np.isfinite(counts)) and np.all(counts >= 0) and np.any(counts > 0):
        counts = np.where(counts > 0, counts, 0.5 * counts[counts > 0].min())  # a class absent from training
    priors = _check_priors(counts, logits.shape[1])
    log_p = np.log(priors)
    record: dict[str, Any] = {"priors": [float(v) for v in priors]}
    tau = p["tau"]
    if tau != "auto":
        if not isinstance(tau, (int, float)) or isinstance(tau, bool) or not math.isfinite(tau):
            raise ValueError(f"tau must be 'auto' or a finite number, got {tau!r}")
        record["grid"] = None
        return (lambda lg, lb: -float(tau) * log_p), record, log_p
    # Negative values are allowed: they move decisions back towards the training priors, which can
    # undo the over-correction of a class-weighted loss. The default grid is 0 .. 2.
    grid = _float_list("tau_grid", p["tau_grid"])
    _, scores = tau_search(logits, labels, objective, log_p, grid)
    record.update({"grid": [float(v) for v in grid], "grid_scores": [round(float(s), 6) for s in scores]})
    return (lambda lg, lb: -tau_search(lg, lb, objective, log_p, grid)[0] * log_p), record, log_p


def fit_decision_rule(
    val_logits: Any,
    val_labels: Any,
    method: str = "class_offsets",
    *,
    metric: str = "macro_f1",
    train_counts: Any = None,
    guard: str | None = None,
    seed: int = 0,
    target_class: int | None = None,
    min_precision: float = 0.0,
    **params: Any,
) -> PosthocAdjustment:
    """Fit the decision rule ``method`` (a :data:`DECISION_RULES` name) on validation logits and labels.

    ``metric`` (:data:`DECISION_METRICS`): ``macro_f1``, ``balanced_accuracy``, or ``class_f1`` of
    ``target_class`` at precision >= ``min_precision``. ``guard`` (:data:`DECISION_GUARDS`) protects
    small validation classes from over-fitting; ``None`` means :data:`DEFAULT_GUARD`, or ``none`` for
    a logit adjustment with a fixed ``tau``. ``train_counts`` (training class counts or frequencies;
    a zero counts as half the smallest non-zero one) is needed by ``logit_adjustment``. ``params``
    are the rule's and the guard's own (e.g. ``grid_size``, ``tau``, ``n_bootstrap``, ``n_folds``).
    Every random draw derives from ``seed``.

    The result's ``params`` record the method, metric, guard (and what it chose), the validation
    score before and after the rule, and the grid searched.
    """
    if method not in DECISION_RULES:
        raise ValueError(f"decision rule must be one of {sorted(DECISION_RULES)}, got {method!r}")
    if guard is not None and guard not in DECISION_GUARDS:
        raise ValueError(f"guard must be one of {sorted(DECISION_GUARDS)}, got {guard!r}")
    logits, labels = _validation_arrays(val_logits, val_labels)
    k = logits.shape[1]
    objective = Objective(metric, k, target_class, min_precision)
    if metric == "class_f1" and not np.any(labels == target_class):
        raise ValueError(f"target_class {target_class!r} has no validation rows; its F1 cannot be fitted")
    spec = DECISION_RULES[method]
    if spec.binary_only and k != 2:
        raise ValueError(f"decision rule {method!r} needs two classes, the logits have {k}")
    method_params, guard_params = _split_params(method, guard or DEFAULT_GUARD, params)
    guard = _resolve_guard(method, guard, method_params)
    if method == "class_offsets":
        fitter, record = _class_offsets_fitter(logits, objective, method_params)
    elif method == "logit_adjustment":
        fitter, record, log_p = _logit_adjustment_fitter(logits, labels, objective, method_params, train_counts)
    else:
        fitter = lambda lg, lb: threshold_search(lg, lb, objective)[0]  # noqa: E731
        record = {"grid": None, "cut_points": int(np.unique(logits[:, 1] - logits[:, 0]).size + 1)}
    offsets, guard_info = guarded_offsets(fitter, logits, labels, objective, guard, seed=seed, **guard_params)
    before = float(objective.score(logits.argmax(axis=1), labels))
    after = float(objective.score(argmax_with_offsets(logits, offsets), labels))
    record = {
        "method": method, "metric": metric, "guard": guard, "guard_result": guard_info, "seed": seed,
        "validation_before": round(before, 6), "validation_after": round(after, 6),
        "validation_rows": int(labels.size),
        "validation_counts": np.bincount(labels, minlength=k).tolist(), **record,
    }
    if metric == "class_f1":
        record.update({"target_class": int(target_class or 0), "min_precision": float(min_precision)})
    if method == "logit_adjustment":
        record["tau"] = round(float(-np.dot(offsets, log_p) / np.dot(log_p, log_p)), 6) + 0.0  # no -0.0
    elif method == "threshold":
        record.update({"threshold": float(1.0 / (1.0 + math.exp(offsets[1] - offsets[0]))), "positive_label": 1})
    return PosthocAdjustment([float(v) for v in offsets], method, record)


def rule_effect(rule: PosthocAdjustment, logits: Any, labels: Any,
                label_names: Sequence[str]) -> tuple[dict[str, float], dict[str, float]]:
    """Imbalance metrics of ``logits`` against ``labels`` without and with ``rule``: ``(before, after)``.

    What a run folder records as ``validation_before_rule``/``validation_after_rule`` (or, on test,
    ``test_before_rule`` next to ``test``); rows labelled -100 are left out.
    """
    from nlp_balance.evaluation.metrics import compute_imbalance_metrics

    scores, refs = _validation_arrays(logits, labels)
    before, _ = compute_imbalance_metrics(scores.argmax(axis=-1), refs, label_names)
    after, _ = compute_imbalance_metrics(rule.predict(scores), refs, label_names)
    return before, after
