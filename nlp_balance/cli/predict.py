"""``nlp-balance predict MODEL TEXT...``: classify texts with a saved model, its decision rule applied."""

from __future__ import annotations

import argparse
import json
from typing import Any

__all__ = ["register", "run"]


def register(sub: Any) -> None:
    """Add the ``predict`` verb."""
    p = sub.add_parser("predict", help="classify texts with a saved model (post-hoc adjustment applied)")
    p.add_argument("model")
    p.add_argument("texts", nargs="+")
    p.add_argument("--max-length", type=int, default=128)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """One line per text: label, its probability, the text (or JSON with every class's probability)."""
    from nlp_balance.evaluation import load_classifier

    clf = load_classifier(args.model, max_length=args.max_length)
    results = clf.predict(args.texts)
    if args.json:
        print(json.dumps(results, indent=2, ensure_ascii=False))
        return 0
    for text, res in zip(args.texts, results):
        print(f"{res['label']}\t{res['score']:.4f}\t{text}")
    return 0
