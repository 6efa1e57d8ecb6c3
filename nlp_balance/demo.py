"""``python -m nlp_balance.demo`` (what ``make demo`` runs): the quickstart recipe end to end, offline.

Inspects the bundled demo data, rebalances its train split, fine-tunes the plain cross-entropy
baseline and the balanced recipe, writes the report, and prints the headline numbers.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

__all__ = ["main"]

REPO = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m nlp_balance.demo", description=__doc__)
    parser.add_argument("--recipe", default=str(REPO / "recipes" / "quickstart.yaml"))
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY.PATH=VALUE")
    args = parser.parse_args(argv)
    os.environ.setdefault("NLP_BALANCE_DEMO_DATA", str(REPO / "data" / "demo"))
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()  # the load report of a new classification head is expected here

    from .cli import main as cli_main

    started = time.time()
    source = os.environ["NLP_BALANCE_DEMO_DATA"]
    print(f"== 1/2 inspect {source}")
    rc = cli_main(["inspect", source, "--plot", str(REPO / "runs" / "demo_class_distribution.png")])
    if rc:
        return rc
    print(f"\n== 2/2 train {args.recipe} (baseline, then balanced)")
    rc = cli_main(["train", args.recipe, *(f"--set={o}" for o in args.overrides)])
    print(f"\ndemo finished in {time.time() - started:.0f} s")
    return rc


if __name__ == "__main__":
    sys.exit(main())
