"""nlp_balance: make text classifiers good at the classes with few examples.

Data level (augmenters, samplers, the :class:`Balancer`), algorithm level (imbalance losses,
:class:`BalancedTrainer`, imbalance metrics, decision rules) and hybrids, all on the Hugging Face
stack. The subpackages are the layers, each importing only those below it::

    cli/         the nlp-balance command, one module per verb
    runs/        recipes and the one runner for every method
    training/    losses, class weights, batch sampler, BalancedTrainer, heads, EasyEnsemble
    reporting/   run-folder format, plots, reports, comparisons, Hub cards and pushes
    resampling/  sampling_strategy rules, random samplers, Balancer, provenance, sharding
    augment/     the augmenters and how they compose
    evaluation/  metrics, decision rules, the classifier behind predict/evaluate
    data/        loading any source, labels, class distribution
    utils/       small helpers with one job each

Public names are imported lazily here, so ``import nlp_balance`` (and the CLI's ``inspect``) does
not pay for torch and transformers until a name that needs them is used.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from nlp_balance.utils.versions import __version__

#: Public name -> the module that defines it.
_EXPORTS: dict[str, str] = {
    # data
    "load_text_dataset": "data.loading",
    "validate_text_dataset": "data.validation",
    "DataValidationError": "data.validation",
    "encode_labels": "data.labels",
    "class_distribution": "data.distribution",
    "format_distribution": "data.distribution",
    "ClassDistribution": "data.distribution",
    # data level
    "resolve_sampling_strategy": "resampling.samplers",
    "RandomOverSampler": "resampling.samplers",
    "RandomUnderSampler": "resampling.samplers",
    "Balancer": "resampling.balancer",
    "BalanceReport": "resampling.balancer",
    "EmbeddingSMOTE": "resampling.embedding_smote",
    "Augmenter": "augment.base",
    "get_augmenter": "augment.base",
    # algorithm level
    "compute_class_weights": "training.class_weights",
    "build_loss": "training.losses",
    "BalancedTrainer": "training.trainer",
    "BalancedTrainingArguments": "training.trainer",
    "EasyEnsemble": "training.easy_ensemble",
    "ModelWithAuxiliaryHead": "training.heads",
    "imbalance_metrics": "evaluation.metrics",
    "adjust_logits": "evaluation.decision_rules",
    "load_classifier": "evaluation.classifier",
    # reporting and sharing
    "plot_class_distribution": "reporting.plots",
    "render_report": "reporting.report",
    "compare_runs": "reporting.report",
    "headline": "reporting.report",
    "push_balanced_dataset": "reporting.hub",
    "push_trained_model": "reporting.hub",
    "dataset_card": "reporting.hub",
    "model_card": "reporting.hub",
    # runs
    "load_recipe": "runs.recipe",
    "run_recipe": "runs.runner",
}

__all__ = [
    "Augmenter",
    "BalanceReport",
    "BalancedTrainer",
    "BalancedTrainingArguments",
    "Balancer",
    "ClassDistribution",
    "DataValidationError",
    "EasyEnsemble",
    "EmbeddingSMOTE",
    "ModelWithAuxiliaryHead",
    "RandomOverSampler",
    "RandomUnderSampler",
    "__version__",
    "adjust_logits",
    "build_loss",
    "class_distribution",
    "compare_runs",
    "compute_class_weights",
    "dataset_card",
    "encode_labels",
    "format_distribution",
    "get_augmenter",
    "headline",
    "imbalance_metrics",
    "load_classifier",
    "load_recipe",
    "load_text_dataset",
    "model_card",
    "plot_class_distribution",
    "push_balanced_dataset",
    "push_trained_model",
    "render_report",
    "resolve_sampling_strategy",
    "run_recipe",
    "validate_text_dataset",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'nlp_balance' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"nlp_balance.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))


if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs only
    from nlp_balance.augment.base import Augmenter, get_augmenter
    from nlp_balance.data.distribution import ClassDistribution, class_distribution, format_distribution
    from nlp_balance.data.labels import encode_labels
    from nlp_balance.data.loading import load_text_dataset
    from nlp_balance.data.validation import DataValidationError, validate_text_dataset
    from nlp_balance.evaluation.classifier import load_classifier
    from nlp_balance.evaluation.decision_rules import adjust_logits
    from nlp_balance.evaluation.metrics import imbalance_metrics
    from nlp_balance.reporting.hub import dataset_card, model_card, push_balanced_dataset, push_trained_model
    from nlp_balance.reporting.plots import plot_class_distribution
    from nlp_balance.reporting.report import compare_runs, headline, render_report
    from nlp_balance.resampling.balancer import Balancer, BalanceReport
    from nlp_balance.resampling.embedding_smote import EmbeddingSMOTE
    from nlp_balance.resampling.samplers import RandomOverSampler, RandomUnderSampler, resolve_sampling_strategy
    from nlp_balance.runs.recipe import load_recipe
    from nlp_balance.runs.runner import run_recipe
    from nlp_balance.training.class_weights import compute_class_weights
    from nlp_balance.training.easy_ensemble import EasyEnsemble
    from nlp_balance.training.heads import ModelWithAuxiliaryHead
    from nlp_balance.training.losses import build_loss
    from nlp_balance.training.trainer import BalancedTrainer, BalancedTrainingArguments
