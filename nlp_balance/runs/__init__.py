"""Runs layer: the recipe schema and loading, the checks before training, the pipeline stages, and the one
runner for every method."""

from nlp_balance.runs.methods import METHODS, FittedModel, PreparedRun
from nlp_balance.runs.preflight import PreflightReport, preflight
from nlp_balance.runs.recipe import Recipe, RecipeError, load_recipe, recipe_from_dict
from nlp_balance.runs.runner import RunResult, baseline_recipe, run_recipe, work_dir
from nlp_balance.runs.stages import (
    TRAINING_DEFAULTS,
    build_balancer,
    fit_decision_rule,
    new_model,
    prepare_splits,
    rebalance_train,
    resolve_model_path,
    score_split,
    tokenize_splits,
    training_arguments,
)

__all__ = [
    "METHODS",
    "TRAINING_DEFAULTS",
    "FittedModel",
    "PreflightReport",
    "PreparedRun",
    "Recipe",
    "RecipeError",
    "RunResult",
    "baseline_recipe",
    "build_balancer",
    "fit_decision_rule",
    "load_recipe",
    "new_model",
    "preflight",
    "prepare_splits",
    "rebalance_train",
    "recipe_from_dict",
    "resolve_model_path",
    "run_recipe",
    "score_split",
    "tokenize_splits",
    "training_arguments",
    "work_dir",
]
