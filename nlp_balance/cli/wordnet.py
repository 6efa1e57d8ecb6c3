"""``nlp-balance wordnet``: find WordNet (NLTK data or a WordNet 3.0 database), cache it, and check it."""

from __future__ import annotations

import argparse
from typing import Any

__all__ = ["register", "run"]


def register(sub: Any) -> None:
    """Add the ``wordnet`` verb."""
    p = sub.add_parser("wordnet", help="find WordNet (NLTK data or a WordNet 3.0 database), cache it, and check it")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Report where WordNet was found and how many synonym entries it gives."""
    from nlp_balance.augment import check_wordnet

    return check_wordnet()
