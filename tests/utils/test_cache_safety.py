"""DiskCache safety as the augmenters use it: caches are created private (0700), a shared root is refused
(given as root= or through $NLP_BALANCE_CACHE), and the augmenters cache through DiskCache, never pickle."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from nlp_balance.utils.cache import DiskCache

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.skipif(not hasattr(os, "getuid"), reason="POSIX permissions")
def test_caches_are_private_and_shared_ones_are_refused(tmp_path):
    root = tmp_path / "cache"
    cache = DiskCache("backtranslation", root=root)
    cache.set("k", ["v"])
    for path in (root, cache.path):
        assert stat.S_IMODE(path.stat().st_mode) == 0o700
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)
    with pytest.raises(PermissionError, match=r"writable by other users"):
        DiskCache("backtranslation", root=shared)


@pytest.mark.skipif(not hasattr(os, "getuid"), reason="POSIX permissions")
def test_cache_root_from_the_environment_must_be_private(tmp_path, monkeypatch):
    """WordNet's synonym table and back-translation both cache through DiskCache under $NLP_BALANCE_CACHE."""
    shared = tmp_path / "wn"
    shared.mkdir()
    shared.chmod(0o777)
    monkeypatch.setenv("NLP_BALANCE_CACHE", str(shared))
    with pytest.raises(PermissionError, match=r"writable by other users"):
        DiskCache("wordnet-synonyms")
    # the WordNet synonym table is cached by synonym_table.py (wordnet.py holds only the self-check)
    for module in ("synonym_table.py", "backtranslate.py"):
        text = (REPO / "nlp_balance" / "augment" / module).read_text(encoding="utf-8")
        assert "DiskCache(" in text and "import pickle" not in text and "dill" not in text
