"""The training half of the ``nlp-balance`` command line: ``train``, ``compare``, ``evaluate``, ``predict``."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

__all__ = ["add_train_commands"]


def add_train_commands(sub: Any) -> None:
    """Register the training commands on the ``nlp-balance`` sub-parser."""
    p = sub.add_parser("train", help="run a recipe: balance, fine-tune, evaluate, report")
    p.add_argument("recipe", help="a recipe YAML file (see recipes/)")
    p.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY.PATH=VALUE",
        help="override a recipe value, e.g. --set training.learning_rate=3e-5 (repeatable)",
    )
    p.add_argument("--resume", action="store_true", help="continue from the last checkpoint in the run folder")
    p.add_argument(
        "--baseline",
        dest="baseline",
        action="store_true",
        default=None,
        help="also train the plain cross-entropy baseline (overrides output.baseline)",
    )
    p.add_argument("--no-baseline", dest="baseline", action="store_false")
    p.add_argument("--dry-run", action="store_true", help="validate the recipe, print it resolved, and stop")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("compare", help="runs side by side: macro-F1, balanced accuracy, per-class F1")
    p.add_argument("runs", nargs="+", help="run folders written by 'nlp-balance train'")
    p.add_argument("--out", help="also write compare.md and compare.png into this folder")
    p.add_argument("--no-baselines", action="store_true", help="do not expand a run's baseline/ folder")
    p.set_defaults(func=cmd_compare)

    p = sub.add_parser("evaluate", help="imbalance metrics of a saved model on a dataset split")
    p.add_argument("model", help="a model folder (a run's model/ folder, an ensemble folder) or a Hub id")
    p.add_argument("source", help="dataset source, as for 'inspect'")
    p.add_argument("--split", default="test")
    p.add_argument("--text-column", default="text")
    p.add_argument("--label-column", default="label")
    p.add_argument("--max-length", type=int, default=128)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser("predict", help="classify texts with a saved model (post-hoc adjustment applied)")
    p.add_argument("model")
    p.add_argument("texts", nargs="+")
    p.add_argument("--max-length", type=int, default=128)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_predict)


def cmd_train(args: argparse.Namespace) -> int:
    from nlp_balance.runs.recipe import load_recipe
    from nlp_balance.runs.runner import run_recipe

    recipe = load_recipe(args.recipe, args.overrides)
    if args.dry_run:
        print(recipe.to_yaml())
        return 0
    result = run_recipe(recipe, resume=args.resume, with_baseline=args.baseline)
    _print_headline(result.run_dir, baseline=result.baseline.run_dir if result.baseline else None)
    return 0


def _print_headline(run_dir: Path, baseline: Path | None = None) -> None:
    from nlp_balance.reporting.report import headline

    rows = [("balanced" if baseline else "run", headline(run_dir))]
    if baseline is not None:
        rows.insert(0, ("baseline (plain CE)", headline(baseline)))
    print()
    for label, h in rows:
        print(
            f"{label:>20}: macro-F1 {h['macro_f1']:.4f} | balanced accuracy {h['balanced_accuracy']:.4f} | "
            f"smallest class {h['smallest_class']!r} F1 {h['smallest_class_f1']:.4f} | accuracy {h['accuracy']:.4f}"
        )
    print(f"report: {run_dir / 'report.html'} (and report.md, plots/)")


def cmd_compare(args: argparse.Namespace) -> int:
    from nlp_balance.reporting.report import compare_runs

    result = compare_runs(args.runs, out=args.out, include_baselines=not args.no_baselines)
    print(result.to_text())
    if args.out:
        print(f"\nwritten to {Path(args.out) / 'compare.md'} and compare.png")
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    from nlp_balance.data.loading import load_text_dataset
    from nlp_balance.evaluation.classifier import load_classifier

    clf = load_classifier(args.model, max_length=args.max_length)
    ds = load_text_dataset(args.source, args.text_column, args.label_column, split=args.split)
    result = clf.evaluate(ds, text_column=args.text_column, label_column=args.label_column, batch_size=args.batch_size)
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    names = clf.label_names
    print(f"{args.model} on {args.source} [{args.split}] ({len(ds)} examples)")
    for key in ("macro_f1", "balanced_accuracy", "weighted_f1", "g_mean", "accuracy"):
        if key in result:
            print(f"  {key:<18} {result[key]:.4f}")
    from nlp_balance.evaluation.metrics import sanitize_label_names

    print(f"  {'class':<20} {'precision':>9} {'recall':>9} {'f1':>9} {'support':>8}")
    for name, key in zip(names, sanitize_label_names(names)):
        print(
            f"  {name:<20} {result[f'precision_{key}']:>9.4f} {result[f'recall_{key}']:>9.4f} "
            f"{result[f'f1_{key}']:>9.4f} {int(result[f'support_{key}']):>8}"
        )
    return 0


def cmd_predict(args: argparse.Namespace) -> int:
    from nlp_balance.evaluation.classifier import load_classifier

    clf = load_classifier(args.model, max_length=args.max_length)
    results = clf.predict(args.texts)
    if args.json:
        print(json.dumps(results, indent=2, ensure_ascii=False))
        return 0
    for text, res in zip(args.texts, results):
        print(f"{res['label']}\t{res['score']:.4f}\t{text}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    from nlp_balance.cli.main import main

    sys.exit(main())
