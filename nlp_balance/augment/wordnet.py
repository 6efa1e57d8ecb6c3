"""The WordNet self-check: ``python -m nlp_balance.augment.wordnet`` and ``nlp-balance wordnet``.

It finds WordNet (copying it into the private cache if needed, see :mod:`.wordnet_database`), builds
or loads the synonym table (:mod:`.synonym_table`), opens NLTK's reader on the same folder, and
prints where everything is, so a user can tell in one command whether synonym augmentation will work.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable
from typing import TextIO

from nlp_balance.utils.cache import cache_root

from .synonym_table import load_synonym_table
from .wordnet_database import WordNetNotFoundError, ensure_wordnet, load_wordnet

__all__ = ["check_wordnet", "main"]


def check_wordnet(out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Build or verify the WordNet copy and the synonym table and print where they are; 0 if usable, else 1.

    Args:
        out: where the report goes (default: ``sys.stdout``).
        err: where the "WordNet was not found" error goes (default: ``sys.stderr``).
    """
    out = sys.stdout if out is None else out
    err = sys.stderr if err is None else err
    t0 = time.perf_counter()
    try:
        folder = ensure_wordnet()
    except WordNetNotFoundError as exc:
        print(f"error: {exc}", file=err)
        return 1
    table = load_synonym_table(folder)
    reader = load_wordnet(folder)
    check = [s.name() for s in reader.synsets("dog")][:1]
    print(f"WordNet {table.version}: {folder}", file=out)
    print(f"NLTK data root (on nltk.data.path): {folder.parent.parent}", file=out)
    print(f"synonym table: {len(table)} entries, cached under {cache_root() / 'wordnet-synonyms'}", file=out)
    print(f"check: synsets('dog') -> {check}; {time.perf_counter() - t0:.1f} s", file=out)
    return 0


def main(argv: Iterable[str] | None = None) -> int:
    """Command-line entry point (it takes no arguments): run :func:`check_wordnet`."""
    del argv
    return check_wordnet()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
