"""Where the benchmark datasets are: the repository's vendored copy, or ``$NLP_BALANCE_SHARED_DATA``."""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
#: The folder holding ``<name>/train.jsonl`` and ``<name>/test.jsonl`` for each benchmark dataset.
DATA_ROOT = Path(os.environ.get("NLP_BALANCE_SHARED_DATA") or REPO / "data" / "benchmarks")


def dataset_dir(name: str) -> Path:
    """The folder of one benchmark dataset; a missing one is an error that says where it looked."""
    path = DATA_ROOT / name
    if not (path / "train.jsonl").is_file():
        raise FileNotFoundError(f"benchmark dataset {name!r} not found at {path} (set NLP_BALANCE_SHARED_DATA "
                                "to another folder, or restore data/benchmarks)")
    return path
