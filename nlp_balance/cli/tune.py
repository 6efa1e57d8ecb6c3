"""``nlp-balance tune RECIPE``: run the recipe with ``method: auto`` (Optuna chooses on validation)."""

from __future__ import annotations

import argparse
from typing import Any

from nlp_balance.cli.train import train_recipe

__all__ = ["register", "run"]


def register(sub: Any) -> None:
    """Add the ``tune`` verb."""
    p = sub.add_parser("tune", help="choose the imbalance treatment on validation (method: auto), then train it")
    p.add_argument("recipe", help="a recipe YAML file; its auto: section sets the portfolio and the budget")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY.PATH=VALUE",
                   help="override a recipe value, e.g. --set auto.epochs_per_trial=2 (repeatable)")
    p.add_argument("--dry-run", action="store_true", help="check the recipe against its data, print it, and stop")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """The recipe with ``method=auto``, through the same path as ``train``."""
    return train_recipe(args.recipe, ["method=auto", *args.overrides], dry_run=args.dry_run)
