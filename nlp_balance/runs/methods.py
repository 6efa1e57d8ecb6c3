"""The ways a recipe can fit a classifier, behind one interface the runner calls.

Every method takes the prepared data of a run and returns a :class:`FittedModel`: a classifier that
predicts (the same class ``nlp-balance predict`` loads), validation metrics, the training history,
what the run folder records about the method, and how to save the model folder. Everything around
the fit (data, balancing, scoring, decision rule, run folder, report, Hub) is shared by the runner,
so an option works the same for every method, or :func:`check_method_options` refuses it up front,
naming the key.
"""

from __future__ import annotations

import importlib.util
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass

from nlp_balance.runs.auto import fit_auto
from nlp_balance.runs.ensemble import fit_easy_ensemble
from nlp_balance.runs.fitted import FittedModel, PreparedRun
from nlp_balance.runs.recipe import Recipe, RecipeError
from nlp_balance.runs.single import fit_single

logger = logging.getLogger(__name__)

__all__ = ["METHODS", "FittedModel", "PreparedRun", "check_method_options", "fit"]


@dataclass(frozen=True)
class Method:
    """A fitting method: its function, and the recipe options it cannot honour (key path -> why)."""

    fit: Callable[[Recipe, PreparedRun, str | None], FittedModel]
    supports_resume: bool = True
    single_process: bool = False
    unsupported: tuple[tuple[str, Callable[[Recipe], bool]], ...] = ()


#: The methods a recipe's ``method:`` can name.
METHODS: dict[str, Method] = {
    "single": Method(fit_single),
    "easy_ensemble": Method(
        fit_easy_ensemble,
        supports_resume=False,
        unsupported=(("model.aux_head", lambda r: r.model.aux_head is not None),
                     ("model.head", lambda r: r.model.head != "default")),
    ),
    "auto": Method(
        fit_auto,
        supports_resume=False,
        single_process=True,
        unsupported=(("model.aux_head", lambda r: r.model.aux_head is not None),
                     ("model.head", lambda r: r.model.head != "default"),
                     ("training.loss", lambda r: "loss" in r.training),
                     ("training.class_weighting", lambda r: "class_weighting" in r.training),
                     ("balancing.sampling_strategy", lambda r: r.balancing.sampling_strategy is not None)),
    ),
}


def check_method_options(recipe: Recipe, *, resume: bool = False) -> None:
    """Refuse, before any work, an option the recipe's method cannot honour (a ``RecipeError`` naming it)."""
    method = METHODS.get(recipe.method)
    if method is None:
        raise RecipeError(f"method must be one of {', '.join(METHODS)}, got {recipe.method!r}")
    for key, used in method.unsupported:
        if used(recipe):
            raise RecipeError(f"{key} cannot be used with method: {recipe.method}; remove it or use method: single")
    if resume and not method.supports_resume:
        raise RecipeError(f"--resume is not supported with method: {recipe.method}; run it again without --resume")
    if method.single_process and int(os.environ.get("WORLD_SIZE", "1")) > 1:
        raise RecipeError(f"method: {recipe.method} runs in one process; start it without torchrun/accelerate launch")
    if recipe.method == "auto" and importlib.util.find_spec("optuna") is None:
        raise RecipeError("method: auto searches with Optuna, which is not installed; "
                          "pip install 'nlp_balance[tune]' (or optuna)")


def fit(recipe: Recipe, run: PreparedRun, resume_from: str | None = None) -> FittedModel:
    """Fit the recipe's method on the prepared run."""
    check_method_options(recipe, resume=resume_from is not None)
    return METHODS[recipe.method].fit(recipe, run, resume_from)
