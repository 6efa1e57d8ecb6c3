"""``nlp-balance compare RUN_DIR...``: runs side by side (macro-F1, balanced accuracy, per-class F1)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

__all__ = ["register", "run"]


def register(sub: Any) -> None:
    """Add the ``compare`` verb."""
    p = sub.add_parser("compare", help="runs side by side: macro-F1, balanced accuracy, per-class F1")
    p.add_argument("runs", nargs="+", help="run folders written by 'nlp-balance train'")
    p.add_argument("--out", help="also write compare.md and compare.png into this folder")
    p.add_argument("--no-baselines", action="store_true", help="do not expand a run's baseline/ folder")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Print the comparison table; write compare.md and compare.png with ``--out``."""
    from nlp_balance.reporting import COMPARE_MD_FILENAME, COMPARE_PNG_FILENAME, compare_runs

    if args.out and Path(args.out).exists() and not Path(args.out).is_dir():
        raise ValueError(f"--out {args.out!r} is a file; give a folder for {COMPARE_MD_FILENAME} and "
                         f"{COMPARE_PNG_FILENAME}")

    result = compare_runs(args.runs, out=args.out, include_baselines=not args.no_baselines)
    print(result.to_text())
    if args.out:
        print(f"\nwritten to {Path(args.out) / COMPARE_MD_FILENAME} and {COMPARE_PNG_FILENAME}")
    return 0
