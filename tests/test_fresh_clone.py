"""A copy of the repository with nothing beside it finds its data and collects every test."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def _tracked_files() -> list[str]:
    out = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=REPO, capture_output=True,
                         check=True).stdout.decode()
    return [f for f in out.split("\0") if f and (REPO / f).is_file()]


@pytest.mark.slow  # over 25 s here: in CI's slow phase
def test_a_copy_without_siblings_reads_its_own_data_and_collects_every_test(tmp_path):
    copy = tmp_path / "alone" / "repo"
    for rel in _tracked_files():
        dest = copy / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / rel, dest, follow_symlinks=False)
    assert not copy.parent.joinpath("shared").exists()
    env = {k: v for k, v in os.environ.items() if k not in ("NLP_BALANCE_SHARED_DATA", "NLP_BALANCE_DATA")}
    env["PYTHONPATH"] = str(copy)  # the copy's package and benchmarks, not this checkout's
    probe = ("import sys; sys.path.insert(0, 'tests'); import conftest, benchmarks.data as b, nlp_balance; "
             "print(conftest.BENCH_DATA); print(b.DATA_ROOT); print(nlp_balance.__file__); "
             "print(b.dataset_dir('davidson_hate'))")
    lines = subprocess.run([sys.executable, "-c", probe], cwd=copy, env=env, capture_output=True, text=True,
                           check=True).stdout.split()
    assert [Path(p).resolve().is_relative_to(copy.resolve()) for p in lines] == [True] * 4, lines

    collected = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "-m", "", "-p",
                                "no:cacheprovider"], cwd=copy, env=env, capture_output=True, text=True, timeout=300)
    assert collected.returncode == 0, collected.stdout[-3000:] + collected.stderr[-3000:]
    assert "error" not in collected.stdout.lower().split("\n")[-2], collected.stdout[-2000:]


#: A path to a folder beside the checkout (a "shared" folder next to the repository), in any spelling.
SIBLING = re.compile(r'\.\./shared|(parents\[\d\]|\.parent)\s*/\s*"shared"')


def test_no_code_or_recipe_reads_a_sibling_folder():
    offenders = []
    for folder in ("tests", "benchmarks", "docs", "recipes", "nlp_balance"):
        for path in (REPO / folder).rglob("*"):
            if path.suffix in (".py", ".yaml", ".yml") and path.is_file():
                if SIBLING.search(path.read_text(encoding="utf-8", errors="replace")):
                    offenders.append(str(path.relative_to(REPO)))
    assert offenders == []
