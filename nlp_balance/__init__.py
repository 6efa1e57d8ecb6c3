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

#: Public name -> the subpackage that exports it.
_EXPORTS: dict[str, str] = {
    # data
    "load_text_dataset": "data",
    "validate_text_dataset": "data",
    "DataValidationError": "data",
    "encode_labels": "data",
    "class_distribution": "data",
    "format_distribution": "data",
    "ClassDistribution": "data",
    # data level
    "resolve_sampling_strategy": "resampling",
    "RandomOverSampler": "resampling",
    "RandomUnderSampler": "resampling",
    "Balancer": "resampling",
    "BalanceReport": "resampling",
    "EmbeddingSMOTE": "resampling",
    "Augmenter": "augment",
    "get_augmenter": "augment",
    # algorithm level
    "compute_class_weights": "training",
    "build_loss": "training",
    "BalancedTrainer": "training",
    "BalancedTrainingArguments": "training",
    "EasyEnsemble": "training",
    "ModelWithAuxiliaryHead": "training",
    "imbalance_metrics": "evaluation",
    "adjust_logits": "evaluation",
    "load_classifier": "evaluation",
    # reporting and sharing
    "plot_class_distribution": "reporting",
    "render_report": "reporting",
    "compare_runs": "reporting",
    "headline": "reporting",
    "push_balanced_dataset": "reporting",
    "push_trained_model": "reporting",
    "dataset_card": "reporting",
    "model_card": "reporting",
    # runs
    "load_recipe": "runs",
    "run_recipe": "runs",
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
    from nlp_balance.augment import Augmenter, get_augmenter
    from nlp_balance.data import (
        ClassDistribution,
        DataValidationError,
        class_distribution,
        encode_labels,
        format_distribution,
        load_text_dataset,
        validate_text_dataset,
    )
    from nlp_balance.evaluation import adjust_logits, imbalance_metrics, load_classifier
    from nlp_balance.reporting import (
        compare_runs,
        dataset_card,
        headline,
        model_card,
        plot_class_distribution,
        push_balanced_dataset,
        push_trained_model,
        render_report,
    )
    from nlp_balance.resampling import (
        Balancer,
        BalanceReport,
        EmbeddingSMOTE,
        RandomOverSampler,
        RandomUnderSampler,
        resolve_sampling_strategy,
    )
    from nlp_balance.runs import load_recipe, run_recipe
    from nlp_balance.training import (
        BalancedTrainer,
        BalancedTrainingArguments,
        EasyEnsemble,
        ModelWithAuxiliaryHead,
        build_loss,
        compute_class_weights,
    )
