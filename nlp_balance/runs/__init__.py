"""Runs layer: the recipe schema and loading, the pipeline stages, and the one runner for every method."""

from nlp_balance.runs.recipe import Recipe, RecipeError, load_recipe, recipe_from_dict
from nlp_balance.runs.runner import RunResult, run_recipe

__all__ = ["Recipe", "RecipeError", "RunResult", "load_recipe", "recipe_from_dict", "run_recipe"]
