"""The "What augmentation wrote" section, shared by the run report and the dataset card.

Both show, per augmented class, a caption with the counts and a table ``source | synthetic`` built
from :func:`~nlp_balance.resampling.augmentation_examples`' classes (as ``to_dict()`` data, the way
a run folder stores them). This module only lays the texts out; each renderer escapes them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["SECTION_TITLE", "ClassSection", "example_sections", "intro", "shorten"]

SECTION_TITLE = "What augmentation wrote"
_MAX_CHARS = 300


@dataclass(frozen=True)
class ClassSection:
    """One class: its caption and the rows ``[source, synthetic]`` (plain text, not yet escaped)."""

    caption: str
    rows: list[list[str]]


def shorten(text: Any, limit: int = _MAX_CHARS) -> str:
    """``text`` on one line (runs of whitespace, newlines included, become one space), cut to ``limit`` chars."""
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _count(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def example_sections(classes: Sequence[Mapping[str, Any]]) -> list[ClassSection]:
    """A section per class that gained rows; empty when no class has a synthetic text (nothing was augmented)."""
    usable = [c for c in classes if isinstance(c, Mapping)]
    if not any(c.get("pairs") for c in usable):
        return []
    out = []
    for c in usable:
        pairs = [p for p in c.get("pairs") or [] if isinstance(p, Mapping)]
        added, synthetic, copies = _count(c.get("added")), _count(c.get("synthetic")), _count(c.get("exact_copies"))
        writers = sorted({str(p.get("augmentation")) for p in pairs if p.get("augmentation")})
        by = f" by {', '.join(writers)}" if writers else ""
        caption = (f"Class {c.get('label', '?')}: {added:,} rows added, {synthetic:,} new texts{by} and "
                   f"{copies:,} exact copies of their source (copies are not shown).")
        if pairs:
            caption += f" {len(pairs)} of the new texts beside their sources:"
        out.append(ClassSection(caption, [[shorten(p.get("source", "")), shorten(p.get("synthetic", ""))]
                                          for p in pairs]))
    return out


def intro() -> str:
    """The sentence that says how the examples were chosen."""
    return ("A few rows the augmenter wrote, beside the training rows they were made from. They are the first "
            "rows of each class in the balanced data's order, one per source row before any source repeats; "
            f"long texts are cut to {_MAX_CHARS} characters and shown on one line.")
