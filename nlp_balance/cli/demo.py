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

__all__ = ["DEMO_ASSETS", "add_arguments", "run"]

#: The packaged demo data (``train.jsonl``, ``test.jsonl``) and quickstart recipe (``quickstart.yaml``).
DEMO_ASSETS = Path(str(resources.files("nlp_balance.cli") / "demo_assets"))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``nlp-balance demo``."""
    parser.add_argument("--recipe", default=str(DEMO_ASSETS / "quickstart.yaml"),
                        help="recipe to run (default: the packaged quickstart recipe)")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY.PATH=VALUE",
                        help="override a recipe value, e.g. --set training.num_train_epochs=1 (repeatable)")


def run(args: argparse.Namespace) -> int:
    """Inspect the demo data, then train the recipe (baseline first) and print the headline."""
    os.environ.setdefault("NLP_BALANCE_DEMO_DATA", str(DEMO_ASSETS))
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()  # the load report of a new classification head is expected here

    from nlp_balance.cli.main import main as cli_main

    started = time.time()
    source = os.environ["NLP_BALANCE_DEMO_DATA"]
    print(f"== 1/2 inspect {source}")
    rc = cli_main(["inspect", source, "--plot", str(Path("runs") / "demo_class_distribution.png")])
    if rc:
        return rc
    print(f"\n== 2/2 train {args.recipe} (baseline, then balanced)")
    rc = cli_main(["train", args.recipe, *(f"--set={o}" for o in args.overrides)])
    print(f"\ndemo finished in {time.time() - started:.0f} s")
    return rc
