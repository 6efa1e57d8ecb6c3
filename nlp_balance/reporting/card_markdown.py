"""The Markdown pieces Hub cards are made of: plain values, tables, JSON blocks, front matter, the README file.

Card cells are trusted Markdown (``**total**`` is meant bold), unlike the report's document model,
which escapes every text; so the cards have these few helpers of their own.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from huggingface_hub import DatasetCard, DatasetCardData, ModelCard, ModelCardData

from nlp_balance.utils.atomic import atomic_write_text

__all__ = ["card_text", "fmt_value", "json_block", "plain", "save_card", "table"]


def plain(value: Any) -> Any:
    """JSON/YAML-safe copy (tuples to lists, keys to str, numpy scalars and callables to plain values)."""
    return json.loads(json.dumps(value, default=_json_default))


def _json_default(value: Any) -> Any:
    if hasattr(value, "item"):
        return value.item()
    if hasattr(value, "tolist"):
        return value.tolist()
    if callable(value):
        return getattr(value, "__name__", repr(value))
    return str(value)


def fmt_value(value: Any) -> str:
    """A card cell: floats with 4 decimals (``n/a``, ``inf``), ints with separators, ``–`` for ``None``."""
    if isinstance(value, float):
        if math.isnan(value):
            return "n/a"
        return "inf" if math.isinf(value) else f"{value:.4f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return "–" if value is None else str(value)


def table(header: list[str], rows: list[list[Any]]) -> str:
    """A pipe table; columns after the first that hold only numbers (or ``None``) are right-aligned."""

    def cell(v: Any) -> str:
        return fmt_value(v).replace("|", "\\|").replace("\n", " ")

    numeric = [j > 0 and all(isinstance(r[j], (int, float)) or r[j] is None for r in rows) for j in range(len(header))]
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---:" if n else "---" for n in numeric) + "|"]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def json_block(value: Any) -> str:
    """``value`` as an indented JSON code block."""
    return "```json\n" + json.dumps(plain(value), indent=2, sort_keys=False) + "\n```"


def card_text(data: DatasetCardData | ModelCardData, body: str) -> str:
    """A card's full text: YAML front matter from ``data``, then the Markdown ``body``."""
    return f"---\n{data.to_yaml()}\n---\n\n{body.strip()}\n"


def save_card(card: DatasetCard | ModelCard, path: str | Path) -> Path:
    """Write ``card`` atomically to ``path``: a folder gets ``README.md``, a ``.md`` path is used as is."""
    path = Path(path)
    if path.suffix.lower() != ".md":
        path.mkdir(parents=True, exist_ok=True)
        path = path / "README.md"
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, str(card))
    return path
