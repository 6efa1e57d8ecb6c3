"""The WordNet self-check: in process, and as ``python -m nlp_balance.augment.wordnet``."""

from __future__ import annotations

import io
import re
import subprocess
import sys
from pathlib import Path

import pytest
from wordnet_fixtures import isolate, needs_debian

from nlp_balance.augment.wordnet import check_wordnet
from nlp_balance.augment.wordnet_database import ensure_wordnet, find_wordnet

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow  # about 7 s here: in CI's slow phase
def test_check_reports_where_wordnet_and_the_table_are() -> None:
    """The installed WordNet (the one the synonym tests use): its folder, the table, and a look-up."""
    if find_wordnet() is None:
        pytest.skip("no WordNet installed")
    folder = ensure_wordnet()
    out = io.StringIO()
    assert check_wordnet(out=out) == 0
    lines = out.getvalue().splitlines()
    assert lines[0] == f"WordNet 3.0: {folder}"
    assert lines[1] == f"NLTK data root (on nltk.data.path): {folder.parent.parent}"
    assert re.fullmatch(r"synonym table: \d{5,} entries, cached under .*wordnet-synonyms", lines[2])
    assert lines[3].startswith("check: synsets('dog') -> ['dog.n.01']; ")


def test_check_fails_with_one_line_saying_how_to_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    isolate(monkeypatch, tmp_path / "cache")
    monkeypatch.setenv("NLP_BALANCE_WORDNET", str(tmp_path / "missing"))
    out, err = io.StringIO(), io.StringIO()
    assert check_wordnet(out=out, err=err) == 1
    assert out.getvalue() == ""
    lines = err.getvalue().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: NLP_BALANCE_WORDNET=") and "wordnet-base" in lines[0]


@needs_debian
@pytest.mark.slow  # a fresh process loads NLTK's reader: ~15 s idle, over 30 s on a busy 2-core machine
def test_command_line_builds_and_reports(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "NLP_BALANCE_CACHE": str(tmp_path / "c"),
           "PYTHONPATH": str(REPO)}
    proc = subprocess.run([sys.executable, "-m", "nlp_balance.augment.wordnet"], env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "WordNet 3.0" in proc.stdout and str(tmp_path / "c" / "nltk_data") in proc.stdout
    assert (tmp_path / "c" / "wordnet-synonyms").is_dir()
    bad = subprocess.run([sys.executable, "-m", "nlp_balance.augment.wordnet"],
                         env={**env, "NLP_BALANCE_WORDNET": str(tmp_path / "missing")},
                         capture_output=True, text=True, timeout=300)
    assert bad.returncode == 1 and "wordnet-base" in bad.stderr
