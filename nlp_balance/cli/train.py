"""``nlp-balance train RECIPE``: run a recipe (balance, fine-tune, evaluate, report) and print its headline."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = ["print_headline", "register", "run", "train_recipe"]


def register(sub: Any) -> None:
    """Add the ``train`` verb."""
    p = sub.add_parser("train", help="run a recipe: balance, fine-tune, evaluate, report")
    p.add_argument("recipe", help="a recipe YAML file (see recipes/)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY.PATH=VALUE",
                   help="override a recipe value, e.g. --set training.learning_rate=3e-5 (repeatable)")
    p.add_argument("--resume", action="store_true", help="continue from the last checkpoint in the run folder")
    p.add_argument("--baseline", dest="baseline", action="store_true", default=None,
                   help="also train the plain cross-entropy baseline (overrides output.baseline)")
    p.add_argument("--no-baseline", dest="baseline", action="store_false")
    p.add_argument("--dry-run", action="store_true", help="validate the recipe, print it resolved, and stop")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """The ``train`` verb: :func:`train_recipe` with the parsed options."""
    return train_recipe(args.recipe, args.overrides, resume=args.resume, baseline=args.baseline,
                        dry_run=args.dry_run)


def train_recipe(recipe_path: str, overrides: Sequence[str] = (), *, resume: bool = False,
                 baseline: bool | None = None, dry_run: bool = False) -> int:
    """Load the recipe and check it against its data, model and output folder; then run it (or, with
    ``dry_run``, print it resolved with what the checks saw, and stop)."""
    from nlp_balance.runs import load_recipe, preflight, run_recipe
    from nlp_balance.utils.distributed import is_main_process

    recipe = load_recipe(recipe_path, overrides)
    report = preflight(recipe, resume=resume)
    if dry_run:
        print(recipe.to_yaml())
        for key, value in report.items():
            print(f"# {key}: {value}")
        print("# checks passed: data, classes, balancing, model files, output folder")
        return 0
    result = run_recipe(recipe, resume=resume, with_baseline=baseline, check=False)
    if is_main_process():  # under torchrun, one headline rather than one per process
        print_headline(result.run_dir, baseline=result.baseline.run_dir if result.baseline else None)
    return 0


def print_headline(run_dir: Path, baseline: Path | None = None) -> None:
    """One line per run: macro-F1, balanced accuracy, the smallest class's F1, accuracy; then the report path."""
    from nlp_balance.reporting import PLOTS_DIRNAME, REPORT_HTML_FILENAME, REPORT_MD_FILENAME, headline

    rows = [("balanced" if baseline else "run", headline(run_dir))]
    if baseline is not None:
        rows.insert(0, ("baseline (plain CE)", headline(baseline)))
    print()
    for label, h in rows:
        print(f"{label:>20}: macro-F1 {h['macro_f1']:.4f} | balanced accuracy {h['balanced_accuracy']:.4f} | "
              f"smallest class {h['smallest_class']!r} F1 {h['smallest_class_f1']:.4f} | accuracy {h['accuracy']:.4f}")
    print(f"report: {run_dir / REPORT_HTML_FILENAME} (and {REPORT_MD_FILENAME}, {PLOTS_DIRNAME}/)")
