"""The run folder: its layout, its reader (:func:`load_run`) and its writers, in one place.

A run folder is what ``nlp-balance train`` leaves behind and what reports, comparisons and model
cards read::

    run_dir/
      recipe.yaml            the resolved recipe                          write_recipe
      run_info.json          name, seed, model, loss, balancing, versions  write_run_info
      distribution.json      class counts before (every split), after (train)  write_distribution
      metrics.json           test and best-validation metrics (flat keys)  write_metrics
                             (+ before/after the decision rule, when one was fitted)
      confusion_matrix.json  test confusion matrix (rows = true class)     write_confusion_matrix
      log_history.json       the Trainer's log history (training curves)   write_log_history
      predictions.jsonl      text, label, prediction, probabilities per test example  write_predictions
      augmentation_examples.json  a few (source, synthetic) text pairs per augmented class
                             (only when the train split was rebalanced)    write_augmentation_examples
      model/                 the fine-tuned model and tokenizer (+ posthoc.json, README.md model card)
      report.md, report.html, plots/*.png   written by render_report
      baseline/              the same layout for the plain cross-entropy baseline, when asked for
      checkpoints/           the Trainer's checkpoints while training runs

Every file name above is a constant of this module; no other module spells them. The writers go
through :mod:`nlp_balance.utils.atomic`, so a file is either complete or absent, never half written.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from nlp_balance.data.distribution import ClassDistribution
from nlp_balance.evaluation.metrics import sanitize_label_names
from nlp_balance.reporting.formatting import num
from nlp_balance.resampling.examples import ClassExamples, examples_json
from nlp_balance.utils.atomic import atomic_file, atomic_write_json, atomic_write_text

__all__ = [
    "AUGMENTATION_EXAMPLES_FILENAME",
    "BASELINE_DIRNAME",
    "CHECKPOINTS_DIRNAME",
    "CLASS_DISTRIBUTION_PLOT",
    "CONFUSION_MATRIX_FILENAME",
    "CONFUSION_MATRIX_PLOT",
    "DISTRIBUTION_FILENAME",
    "LOG_HISTORY_FILENAME",
    "METRICS_FILENAME",
    "MODEL_DIRNAME",
    "PER_CLASS_METRICS_PLOT",
    "PLOTS_DIRNAME",
    "PLOT_FILES",
    "PREDICTIONS_FILENAME",
    "RECIPE_FILENAME",
    "REPORT_HTML_FILENAME",
    "REPORT_MD_FILENAME",
    "RUN_INFO_FILENAME",
    "TEST_BEFORE_RULE",
    "TRAINING_CURVES_PLOT",
    "VALIDATION_AFTER_RULE",
    "VALIDATION_BEFORE_RULE",
    "RunData",
    "baseline_run_dir",
    "check_same_labels",
    "load_run",
    "read_metrics",
    "read_run_info",
    "run_dir_of_model",
    "write_augmentation_examples",
    "write_confusion_matrix",
    "write_distribution",
    "write_log_history",
    "write_metrics",
    "write_predictions",
    "write_recipe",
    "write_run_info",
]

RECIPE_FILENAME = "recipe.yaml"
RUN_INFO_FILENAME = "run_info.json"
DISTRIBUTION_FILENAME = "distribution.json"
METRICS_FILENAME = "metrics.json"
CONFUSION_MATRIX_FILENAME = "confusion_matrix.json"
LOG_HISTORY_FILENAME = "log_history.json"
PREDICTIONS_FILENAME = "predictions.jsonl"
AUGMENTATION_EXAMPLES_FILENAME = "augmentation_examples.json"
MODEL_DIRNAME = "model"
BASELINE_DIRNAME = "baseline"
REPORT_MD_FILENAME = "report.md"
REPORT_HTML_FILENAME = "report.html"
PLOTS_DIRNAME = "plots"
CHECKPOINTS_DIRNAME = "checkpoints"

#: Plots that ``render_report`` writes under ``PLOTS_DIRNAME`` when the run folder has the data for them.
CLASS_DISTRIBUTION_PLOT = "class_distribution.png"
PER_CLASS_METRICS_PLOT = "per_class_metrics.png"
CONFUSION_MATRIX_PLOT = "confusion_matrix.png"
TRAINING_CURVES_PLOT = "training_curves.png"
PLOT_FILES: tuple[str, ...] = (CLASS_DISTRIBUTION_PLOT, PER_CLASS_METRICS_PLOT, CONFUSION_MATRIX_PLOT,
                               TRAINING_CURVES_PLOT)

_METRIC_PREFIXES = ("test_", "eval_", "validation_")

#: ``metrics.json`` sections that show a decision rule's effect. ``test`` holds the metrics *after*
#: the rule (what the model does as saved); these hold the test metrics without it and the whole
#: validation split scored without and with it. Run folders without a rule, or written before these
#: sections existed, simply lack them.
TEST_BEFORE_RULE = "test_before_rule"
VALIDATION_BEFORE_RULE = "validation_before_rule"
VALIDATION_AFTER_RULE = "validation_after_rule"


# --------------------------------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------------------------------


@dataclass
class RunData:
    """The parsed contents of one run folder; optional files that are absent are ``None`` / empty."""

    path: Path
    info: dict[str, Any]
    metrics: dict[str, dict[str, Any]]
    distribution: dict[str, Any] | None = None
    confusion: np.ndarray | None = None
    log_history: list[dict[str, Any]] = field(default_factory=list)
    augmentation_examples: list[dict[str, Any]] = field(default_factory=list)

    @property
    def name(self) -> str:
        """The run's name from ``run_info.json``, else the folder's name."""
        return str(self.info.get("name") or self.path.name)

    @property
    def kind(self) -> str:
        """``balanced``, ``baseline`` or whatever the runner recorded; ``unknown`` when absent."""
        return str(self.info.get("kind") or "unknown")

    @property
    def label_names(self) -> list[str]:
        """Class names in id order."""
        return [str(n) for n in self.info["label_names"]]

    @property
    def label_keys(self) -> list[str]:
        """Metric-key fragments of the labels (``f1_<key>``), as :func:`sanitize_label_names` makes them."""
        return sanitize_label_names(self.label_names)

    @property
    def test(self) -> dict[str, Any]:
        """The test-split metrics (flat keys, no prefix)."""
        return self.metrics.get("test", {})

    def rule_effect(self) -> dict[str, tuple[dict[str, Any], dict[str, Any]]]:
        """Per split (``validation``, ``test``), the metrics ``(before, after)`` the decision rule.

        Only splits with both sides recorded are returned; empty when the run folder records none.
        """
        sides = {"validation": (VALIDATION_BEFORE_RULE, VALIDATION_AFTER_RULE), "test": (TEST_BEFORE_RULE, "test")}
        return {split: (self.metrics[before], self.metrics[after]) for split, (before, after) in sides.items()
                if before in self.metrics and after in self.metrics}

    def class_metric(self, metric: str, label: str, split: str = "test") -> float:
        """``metric`` (``f1``, ``precision``, ``recall``, ``support``) of class ``label`` on ``split``."""
        key = self.label_keys[self.label_names.index(label)]
        return num(self.metrics.get(split, {}).get(f"{metric}_{key}"))

    def train_counts(self, when: str = "before") -> dict[str, int] | None:
        """Train-split class counts ``before`` or ``after`` balancing, or ``None`` if not recorded."""
        try:
            counts = self.distribution[when]["train"]["counts"]  # type: ignore[index]
        except (TypeError, KeyError):
            return None
        return {str(k): int(v) for k, v in counts.items()}

    def rebalanced_counts(self) -> dict[str, int] | None:
        """Train counts after balancing, or ``None`` when none were recorded or they equal the counts before."""
        after = self.train_counts("after")
        return None if after is None or after == self.train_counts("before") else after

    def split_counts(self, split: str) -> dict[str, int] | None:
        """Class counts of ``split`` before balancing (``train``, ``validation``, ``test``), if recorded."""
        try:
            counts = self.distribution["before"][split]["counts"]  # type: ignore[index]
        except (TypeError, KeyError):
            return None
        return {str(k): int(v) for k, v in counts.items()}

    def smallest_class(self) -> tuple[str, str]:
        """``(label, basis)``: the class with the fewest train examples before balancing.

        Falls back to the smallest test support when ``distribution.json`` is missing; ``basis`` says
        which was used. Ties go to the first class in label order.
        """
        counts = self.train_counts("before")
        if counts is not None and all(n in counts for n in self.label_names):
            values = [counts[n] for n in self.label_names]
            label = self.label_names[int(np.argmin(values))]
            return label, f"{counts[label]:,} train examples before balancing"
        support = [self.class_metric("support", n) for n in self.label_names]
        if all(math.isnan(s) for s in support):
            return self.label_names[0], "no class counts recorded"
        label = self.label_names[int(np.nanargmin(support))]
        return label, f"{int(self.class_metric('support', label)):,} test examples (no train counts recorded)"

    def predictions(self) -> list[dict[str, Any]]:
        """The rows of ``predictions.jsonl`` (empty when the run folder has none)."""
        path = self.path / PREDICTIONS_FILENAME
        return _read_jsonl(path) if path.exists() else []

    def label_index(self, value: Any) -> int | None:
        """Class index of a label given as an index or as a name (predictions may store either)."""
        if isinstance(value, bool) or value is None:
            return None
        names = self.label_names
        if isinstance(value, (int, np.integer)):
            return int(value) if 0 <= int(value) < len(names) else None
        text = str(value)
        return names.index(text) if text in names else None


def _read_json(path: Path, *, required: bool) -> Any:
    if not path.exists():
        if required:
            raise FileNotFoundError(f"run folder {str(path.parent)!r} has no {path.name}")
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise ValueError(f"{str(path)!r} is not valid JSON: {err}") from err


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    rows = []
    with path.open(encoding="utf-8") as handle:
        for line_no, line in enumerate(handle, 1):
            if line.strip():
                try:
                    rows.append(json.loads(line))
                except json.JSONDecodeError as err:
                    raise ValueError(f"{str(path)!r} line {line_no} is not valid JSON: {err}") from err
    return rows


def read_run_info(run_dir: str | Path) -> dict[str, Any]:
    """``run_info.json`` of a run folder; it must exist and name the classes (``label_names``)."""
    path = Path(run_dir) / RUN_INFO_FILENAME
    info = _read_json(path, required=True)
    if not isinstance(info, dict) or not isinstance(info.get("label_names"), list) or not info["label_names"]:
        raise ValueError(f"{str(path)!r} must be an object with a non-empty 'label_names' list")
    return info


def read_metrics(run_dir: str | Path) -> dict[str, dict[str, Any]]:
    """``metrics.json`` by section (``test``, ``validation``) with flat keys; the ``test`` section is required.

    ``Trainer.evaluate``/``predict`` output is accepted too: an ``eval_``/``test_`` key prefix is dropped.
    """
    path = Path(run_dir) / METRICS_FILENAME
    metrics = _read_json(path, required=True)
    if not isinstance(metrics, dict) or not isinstance(metrics.get("test"), dict):
        raise ValueError(f"{str(path)!r} must be an object with a 'test' section")
    return {k: _unprefixed(v) for k, v in metrics.items() if isinstance(v, dict)}


def load_run(run_dir: str | Path) -> RunData:
    """Read a run folder; ``run_info.json`` and ``metrics.json`` are required, the rest optional."""
    path = Path(run_dir)
    if not path.is_dir():
        raise FileNotFoundError(f"run folder {str(path)!r} does not exist")
    run = RunData(path=path, info=read_run_info(path), metrics=read_metrics(path))
    run.distribution = _read_json(path / DISTRIBUTION_FILENAME, required=False)
    history = _read_json(path / LOG_HISTORY_FILENAME, required=False)
    run.log_history = [h for h in history if isinstance(h, dict)] if isinstance(history, list) else []
    run.confusion = _load_confusion(run)
    run.augmentation_examples = _load_augmentation_examples(path)
    return run


def _load_augmentation_examples(path: Path) -> list[dict[str, Any]]:
    """The classes of ``augmentation_examples.json``; empty for run folders without it (older ones too)."""
    data = _read_json(path / AUGMENTATION_EXAMPLES_FILENAME, required=False)
    classes = data.get("classes") if isinstance(data, dict) else None
    return [c for c in classes if isinstance(c, dict)] if isinstance(classes, list) else []


def _unprefixed(section: Mapping[str, Any]) -> dict[str, Any]:
    """Drop the Trainer's ``eval_``/``test_`` key prefix when the section has only prefixed metrics."""
    if "macro_f1" in section:
        return dict(section)
    for prefix in _METRIC_PREFIXES:
        if f"{prefix}macro_f1" in section:
            return {k[len(prefix):] if k.startswith(prefix) else k: v for k, v in section.items()}
    return dict(section)


def _load_confusion(run: RunData) -> np.ndarray | None:
    """The test confusion matrix in label order; rebuilt from ``predictions.jsonl`` if it was not saved."""
    path = run.path / CONFUSION_MATRIX_FILENAME
    data = _read_json(path, required=False)
    names = run.label_names
    k = len(names)
    if data is not None:
        matrix = np.asarray(data.get("matrix"), dtype=np.int64)
        labels = [str(n) for n in data.get("labels", names)]
        if matrix.shape != (k, k) or sorted(labels) != sorted(names):
            raise ValueError(
                f"{str(path)!r}: labels {labels} / shape {matrix.shape} do not match the run's label_names {names}"
            )
        order = [labels.index(n) for n in names]
        return matrix[np.ix_(order, order)]
    if not (run.path / PREDICTIONS_FILENAME).exists():
        return None
    matrix = np.zeros((k, k), dtype=np.int64)
    for row in run.predictions():
        true, pred = run.label_index(row.get("label")), run.label_index(row.get("prediction"))
        if true is not None and pred is not None:
            matrix[true, pred] += 1
    return matrix


def baseline_run_dir(run_dir: str | Path) -> Path | None:
    """The run's nested ``baseline/`` run folder, or ``None`` when it has none (no ``run_info.json`` there)."""
    path = Path(run_dir) / BASELINE_DIRNAME
    return path if (path / RUN_INFO_FILENAME).exists() else None


def run_dir_of_model(model_dir: str | Path) -> Path | None:
    """The run folder whose ``model/`` is ``model_dir``, or ``None`` for a model saved anywhere else."""
    path = Path(model_dir).resolve()
    if path.name != MODEL_DIRNAME or not (path.parent / RUN_INFO_FILENAME).is_file():
        return None
    return path.parent


def check_same_labels(runs: Sequence[RunData]) -> None:
    """Raise ``ValueError`` naming both runs when their label sets differ (their scores do not compare)."""
    first = runs[0]
    for other in runs[1:]:
        if set(other.label_names) != set(first.label_names):
            raise ValueError(
                f"runs have different label sets: {first.name!r} ({str(first.path)!r}) has "
                f"{first.label_names}, {other.name!r} ({str(other.path)!r}) has {other.label_names}"
            )


# --------------------------------------------------------------------------------------------------
# Writing (each writer creates run_dir if needed and returns the path it wrote)
# --------------------------------------------------------------------------------------------------


def _target(run_dir: str | Path, name: str) -> Path:
    folder = Path(run_dir)
    folder.mkdir(parents=True, exist_ok=True)
    return folder / name


def write_recipe(run_dir: str | Path, recipe_yaml: str) -> Path:
    """Write the resolved recipe (YAML text) as ``recipe.yaml``, so the run can be repeated."""
    path = _target(run_dir, RECIPE_FILENAME)
    atomic_write_text(path, recipe_yaml)
    return path


def write_run_info(run_dir: str | Path, run_info: Mapping[str, Any]) -> Path:
    """Write ``run_info.json``; it must name the classes (``label_names``), as every reader needs them."""
    names = run_info.get("label_names")
    if not isinstance(names, (list, tuple)) or not names:
        raise ValueError("run_info needs a non-empty 'label_names' list (the class names in id order)")
    path = _target(run_dir, RUN_INFO_FILENAME)
    atomic_write_json(path, dict(run_info))
    return path


def _distribution_json(value: ClassDistribution | Mapping[str, Any]) -> dict[str, Any]:
    return value.to_json() if isinstance(value, ClassDistribution) else dict(value)


def write_distribution(
    run_dir: str | Path,
    before: Mapping[str, ClassDistribution | Mapping[str, Any]],
    after: ClassDistribution | Mapping[str, Any] | None = None,
) -> Path:
    """Write ``distribution.json``: class counts of every split ``before`` balancing, ``after`` for train.

    Each value is a :class:`ClassDistribution` or its ``to_json()``; ``after`` is the train split as
    the model saw it (omit it when the train split was not resampled).
    """
    data: dict[str, Any] = {"before": {split: _distribution_json(d) for split, d in before.items()}}
    if after is not None:
        data["after"] = {"train": _distribution_json(after)}
    path = _target(run_dir, DISTRIBUTION_FILENAME)
    atomic_write_json(path, data)
    return path


def write_metrics(
    run_dir: str | Path,
    test: Mapping[str, Any],
    validation: Mapping[str, Any] | None = None,
    *,
    test_before_rule: Mapping[str, Any] | None = None,
    validation_before_rule: Mapping[str, Any] | None = None,
    validation_after_rule: Mapping[str, Any] | None = None,
) -> Path:
    """Write ``metrics.json``: the ``test`` and (optionally) ``validation`` metrics, flat keys.

    With a decision rule, ``test`` is scored with the rule applied; ``test_before_rule`` is the
    same split without it, and ``validation_before_rule`` / ``validation_after_rule`` (given
    together) the validation split without and with it, so the report can show the rule's effect.
    A Trainer's ``eval_``/``test_`` key prefix is dropped, so every run folder stores the same keys.
    """
    if (validation_before_rule is None) != (validation_after_rule is None):
        raise ValueError("validation_before_rule and validation_after_rule go together: give both or neither")
    data = {"test": _unprefixed(test)}
    if validation is not None:
        data["validation"] = _unprefixed(validation)
    for section, values in ((TEST_BEFORE_RULE, test_before_rule), (VALIDATION_BEFORE_RULE, validation_before_rule),
                            (VALIDATION_AFTER_RULE, validation_after_rule)):
        if values is not None:
            data[section] = _unprefixed(values)
    path = _target(run_dir, METRICS_FILENAME)
    atomic_write_json(path, data)
    return path


def write_confusion_matrix(run_dir: str | Path, label_names: Sequence[str], matrix: Any) -> Path:
    """Write ``confusion_matrix.json``: the test confusion matrix (rows = true class) with its label order."""
    names = [str(n) for n in label_names]
    counts = np.asarray(matrix)
    if counts.shape != (len(names), len(names)):
        raise ValueError(f"confusion matrix has shape {counts.shape}, expected {(len(names), len(names))}")
    path = _target(run_dir, CONFUSION_MATRIX_FILENAME)
    atomic_write_json(path, {"labels": names, "matrix": counts.astype(np.int64).tolist()})
    return path


def write_log_history(run_dir: str | Path, history: Sequence[Mapping[str, Any]]) -> Path:
    """Write ``log_history.json``: the Trainer's ``state.log_history`` (the training curves)."""
    path = _target(run_dir, LOG_HISTORY_FILENAME)
    atomic_write_json(path, [dict(entry) for entry in history])
    return path


def write_augmentation_examples(run_dir: str | Path, examples: Sequence[ClassExamples]) -> Path:
    """Write ``augmentation_examples.json``: :func:`~nlp_balance.resampling.augmentation_examples`' pairs."""
    path = _target(run_dir, AUGMENTATION_EXAMPLES_FILENAME)
    atomic_write_json(path, examples_json(examples))
    return path


def write_predictions(
    run_dir: str | Path,
    texts: Sequence[str],
    labels: Sequence[int],
    predictions: Sequence[int],
    probabilities: Any,
    label_names: Sequence[str],
) -> Path:
    """Write ``predictions.jsonl``: one test example a line, labels and predictions as class names.

    ``labels`` and ``predictions`` are class ids; ``probabilities`` is an ``[n, classes]`` array,
    stored rounded to 6 decimals.
    """
    names = [str(n) for n in label_names]
    probs = np.asarray(probabilities, dtype=np.float64)
    if not len(texts) == len(labels) == len(predictions) == len(probs):
        raise ValueError(f"texts ({len(texts)}), labels ({len(labels)}), predictions ({len(predictions)}) and "
                         f"probabilities ({len(probs)}) must have one entry per test example")
    path = _target(run_dir, PREDICTIONS_FILENAME)
    with atomic_file(path, "w") as fh:
        for text, ref, pred, p in zip(texts, labels, predictions, probs):
            row = {"text": text, "label": names[int(ref)], "prediction": names[int(pred)],
                   "probabilities": [round(float(x), 6) for x in p]}
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    return path
