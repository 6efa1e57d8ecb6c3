"""``nlp-balance inspect SOURCE``: class counts, shares and imbalance ratio per split (and a bar chart)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from nlp_balance.cli.options import add_data_arguments, load_source

__all__ = ["register", "run"]


def register(sub: Any) -> None:
    """Add the ``inspect`` verb."""
    p = sub.add_parser("inspect", help="class counts, shares and imbalance ratio per split")
    add_data_arguments(p)
    p.add_argument("--plot", metavar="FILE.png", help="also draw a bar chart")
    p.add_argument("--json", action="store_true", help="print JSON for scripts")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Print the class distribution of every split; draw it when ``--plot`` is given."""
    from nlp_balance.data.distribution import class_distribution, format_distribution
    from nlp_balance.reporting.plots import plot_class_distribution

    dists = class_distribution(load_source(args), args.label_column)
    if args.json:
        items = dists.values() if isinstance(dists, dict) else [dists]
        print(json.dumps({"source": str(args.source), "splits": [d.to_json() for d in items]}, indent=2))
    else:
        print(f"{args.source}")
        print(format_distribution(dists))
    if args.plot:
        path = plot_class_distribution(dists, args.plot)
        print(f"plot written to {path}", file=sys.stderr if args.json else sys.stdout)
    return 0
