"""Evaluation layer: imbalance metrics, decision rules fitted on validation, and the classifier behind
``nlp-balance predict``/``evaluate``."""

from nlp_balance.evaluation.classifier import EnsembleClassifier, TextClassifier, load_classifier
from nlp_balance.evaluation.decision_rules import (
    DECISION_GUARDS,
    DECISION_METRICS,
    DECISION_RULES,
    DEFAULT_GUARD,
    DecisionRuleSpec,
    PosthocAdjustment,
    adjust_logits,
    fit_decision_rule,
    load_posthoc,
    rule_effect,
    tune_threshold,
)
from nlp_balance.evaluation.metrics import compute_imbalance_metrics, imbalance_metrics, sanitize_label_names

__all__ = [
    "DECISION_GUARDS",
    "DECISION_METRICS",
    "DECISION_RULES",
    "DEFAULT_GUARD",
    "DecisionRuleSpec",
    "EnsembleClassifier",
    "PosthocAdjustment",
    "TextClassifier",
    "adjust_logits",
    "compute_imbalance_metrics",
    "fit_decision_rule",
    "imbalance_metrics",
    "load_classifier",
    "load_posthoc",
    "rule_effect",
    "sanitize_label_names",
    "tune_threshold",
]
