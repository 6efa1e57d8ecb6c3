"""nlp_balance: make text classifiers good at the classes with few examples.

Data level (augmenters, samplers, the :class:`Balancer`), algorithm level (imbalance losses,
:class:`BalancedTrainer`, imbalance metrics) and hybrids, all on the Hugging Face stack.

Public names are imported lazily, so ``import nlp_balance`` (and the CLI's ``inspect``) does not
pay for torch and transformers until a name that needs them is used.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS: dict[str, str] = {
    # data level
    "load_text_dataset": "data",
    "validate_text_dataset": "data",
    "encode_labels": "data",
    "DataValidationError": "data",
    "class_distribution": "distribution",
    "format_distribution": "distribution",
    "plot_class_distribution": "distribution",
    "ClassDistribution": "distribution",
    "resolve_sampling_strategy": "sampling",
    "RandomOverSampler": "sampling",
    "RandomUnderSampler": "sampling",
    "Balancer": "balance",
    "BalanceReport": "balance",
    "Augmenter": "augment",
    "get_augmenter": "augment",
    # algorithm level
    "compute_class_weights": "weights",
    "build_loss": "losses",
    "BalancedTrainer": "trainer",
    "BalancedTrainingArguments": "trainer",
    "imbalance_metrics": "metrics",
    "adjust_logits": "posthoc",
    # hybrid
    "EasyEnsemble": "ensemble",
    "EmbeddingSMOTE": "smote",
    "ModelWithAuxiliaryHead": "heads",
    # sharing and running
    "push_balanced_dataset": "hub",
    "push_trained_model": "hub",
    "dataset_card": "hub",
    "model_card": "hub",
    "load_recipe": "recipes",
    "run_recipe": "pipeline",
    "load_classifier": "inference",
    "render_report": "report",
    "compare_runs": "report",
    "headline": "report",
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
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))


if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs only
    from .augment import Augmenter, get_augmenter
    from .balance import Balancer, BalanceReport
    from .data import DataValidationError, encode_labels, load_text_dataset, validate_text_dataset
    from .distribution import ClassDistribution, class_distribution, format_distribution, plot_class_distribution
    from .ensemble import EasyEnsemble
    from .heads import ModelWithAuxiliaryHead
    from .hub import dataset_card, model_card, push_balanced_dataset, push_trained_model
    from .inference import load_classifier
    from .losses import build_loss
    from .metrics import imbalance_metrics
    from .pipeline import run_recipe
    from .posthoc import adjust_logits
    from .recipes import load_recipe
    from .report import compare_runs, headline, render_report
    from .sampling import RandomOverSampler, RandomUnderSampler, resolve_sampling_strategy
    from .smote import EmbeddingSMOTE
    from .trainer import BalancedTrainer, BalancedTrainingArguments
    from .weights import compute_class_weights
