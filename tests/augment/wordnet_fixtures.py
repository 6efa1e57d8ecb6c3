"""Shared set-up of the WordNet tests: Debian's database folder, an isolated environment, a private copy."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from nlp_balance.augment.wordnet_database import ensure_wordnet

DEBIAN = Path("/usr/share/wordnet")
needs_debian = pytest.mark.skipif(not (DEBIAN / "data.noun").is_file(), reason="Debian wordnet-base is not installed")


def isolate(monkeypatch: pytest.MonkeyPatch, cache: Path) -> Path:
    """Point the private cache at ``cache``, clear every WordNet hint from the environment, and have
    ``monkeypatch`` restore ``nltk.data.path`` afterwards."""
    import nltk

    monkeypatch.setenv("NLP_BALANCE_CACHE", str(cache))
    for var in ("NLP_BALANCE_WORDNET", "NLTK_DATA", "WNSEARCHDIR", "WNHOME"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setattr(nltk.data, "path", list(nltk.data.path))
    return cache


@contextmanager
def private_debian_copy(cache: Path) -> Iterator[Path]:
    """A fresh private copy of the Debian folder under ``cache``, usable until the block ends."""
    if not (DEBIAN / "data.noun").is_file():
        pytest.skip("Debian wordnet-base is not installed")
    with pytest.MonkeyPatch.context() as mp:
        isolate(mp, cache)
        yield ensure_wordnet(nltk_dirs=[], database_dirs=[DEBIAN])
