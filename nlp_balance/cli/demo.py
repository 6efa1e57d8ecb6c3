"""``nlp-balance demo`` (what ``make demo`` runs): the quickstart end to end, offline.

Inspects the bundled demo data, rebalances its train split, fine-tunes the plain cross-entropy
baseline and the balanced recipe, writes the report, and prints the headline numbers. The demo
data and the quickstart recipe ship inside the package, so it runs from a wheel install anywhere;
the run folder goes under the current directory (``runs/quickstart``).
"""

from __future__ import annotations

import argparse
import os
import time
from importlib import resources
from pathlib import Path
from typing import Any

from nlp_balance.cli.train import train_recipe

__all__ = ["DEMO_ASSETS", "register", "run"]

#: The packaged demo data (``train.jsonl``, ``test.jsonl``) and quickstart recipe (``quickstart.yaml``).
DEMO_ASSETS = Path(str(resources.files("nlp_balance.cli") / "demo_assets"))


def register(sub: Any) -> None:
    """Add the ``demo`` verb."""
    p = sub.add_parser("demo", help="the quickstart end to end on the packaged demo data, offline (~8 min, 2 cores)")
    p.add_argument("--recipe", default=str(DEMO_ASSETS / "quickstart.yaml"),
                   help="recipe to run (default: the packaged quickstart recipe)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY.PATH=VALUE",
                   help="override a recipe value, e.g. --set training.num_train_epochs=1 (repeatable)")
    p.add_argument("--dry-run", action="store_true",
                   help="check the recipe against the packaged data, model and output folder, print it, and stop")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Inspect the demo data, then train the recipe (baseline first) and print the headline.

    With ``--dry-run`` only the recipe's checks run (against the packaged data): no inspection, no training.
    """
    os.environ.setdefault("NLP_BALANCE_DEMO_DATA", str(DEMO_ASSETS))
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

    from transformers.utils import logging as hf_logging

    from nlp_balance.data.distribution import class_distribution, format_distribution
    from nlp_balance.data.loading import load_text_dataset
    from nlp_balance.reporting.plots import plot_class_distribution

    hf_logging.set_verbosity_error()  # the load report of a new classification head is expected here
    if getattr(args, "dry_run", False):
        return train_recipe(args.recipe, args.overrides, dry_run=True)
    started = time.time()
    source = os.environ["NLP_BALANCE_DEMO_DATA"]
    print(f"== 1/2 inspect {source}")
    dists = class_distribution(load_text_dataset(source))
    print(format_distribution(dists))
    print(f"plot written to {plot_class_distribution(dists, Path('runs') / 'demo_class_distribution.png')}")
    print(f"\n== 2/2 train {args.recipe} (baseline, then balanced)")
    rc = train_recipe(args.recipe, args.overrides)
    print(f"\ndemo finished in {time.time() - started:.0f} s")
    return rc
