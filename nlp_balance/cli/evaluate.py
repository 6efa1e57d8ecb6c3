"""``nlp-balance evaluate MODEL SOURCE``: imbalance metrics of a saved model on a dataset split."""

from __future__ import annotations

import argparse
import json
from typing import Any

__all__ = ["register", "run"]


def register(sub: Any) -> None:
    """Add the ``evaluate`` verb."""
    p = sub.add_parser("evaluate", help="imbalance metrics of a saved model on a dataset split")
    p.add_argument("model", help="a model folder (a run's model/ folder, an ensemble folder) or a Hub id")
    p.add_argument("source", help="dataset source, as for 'inspect'")
    p.add_argument("--split", default="test")
    p.add_argument("--text-column", default="text")
    p.add_argument("--label-column", default="label")
    p.add_argument("--max-length", type=int, default=128)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Score the split and print the summary figures and a per-class table (or JSON)."""
    from nlp_balance.data.loading import load_text_dataset
    from nlp_balance.evaluation import load_classifier, sanitize_label_names

    clf = load_classifier(args.model, max_length=args.max_length)
    # The model's label order, so a split that lacks a class still lines up with the model's ids.
    ds = load_text_dataset(args.source, args.text_column, args.label_column, split=args.split,
                           label_names=clf.label_names)
    result = clf.evaluate(ds, text_column=args.text_column, label_column=args.label_column, batch_size=args.batch_size)
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    names = clf.label_names
    print(f"{args.model} on {args.source} [{args.split}] ({len(ds)} examples)")
    for key in ("macro_f1", "balanced_accuracy", "weighted_f1", "g_mean", "accuracy"):
        if key in result:
            print(f"  {key:<18} {result[key]:.4f}")
    print(f"  {'class':<20} {'precision':>9} {'recall':>9} {'f1':>9} {'support':>8}")
    for name, key in zip(names, sanitize_label_names(names)):
        print(f"  {name:<20} {result[f'precision_{key}']:>9.4f} {result[f'recall_{key}']:>9.4f} "
              f"{result[f'f1_{key}']:>9.4f} {int(result[f'support_{key}']):>8}")
    return 0
