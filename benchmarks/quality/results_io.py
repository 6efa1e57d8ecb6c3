"""The results file: one JSON object per line, appended, with resume keys."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any


def row_key(row: dict[str, Any]) -> tuple[str, str, str, int, str]:
    """What identifies a run: protocol, dataset, method, seed and the method's parameters."""
    params = json.dumps(row.get("params", {}), sort_keys=True)
    return (row["protocol"], row["dataset"], row["method"], int(row["seed"]), params)


def read_rows(path: Path | str) -> list[dict[str, Any]]:
    """Every complete row of ``path`` (missing file: none); a torn last line from a kill is skipped."""
    path = Path(path)
    if not path.exists():
        return []
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line:
            continue
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:
            continue  # an interrupted write; the run is simply redone
    return rows


def done_keys(rows: Iterable[dict[str, Any]]) -> set[tuple[str, str, str, int, str]]:
    return {row_key(r) for r in rows}


def append_row(path: Path | str, row: dict[str, Any]) -> None:
    """Append one row as a single line (flushed, so a kill loses at most the run in progress)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    torn = path.exists() and path.stat().st_size > 0 and not path.read_bytes().endswith(b"\n")
    with path.open("a", encoding="utf-8") as fh:
        if torn:  # end the torn line of an interrupted write so this row stays parseable
            fh.write("\n")
        fh.write(json.dumps(row, sort_keys=True) + "\n")
        fh.flush()
