"""Number and value formatting shared by the report, the comparison and the plots.

Every missing or non-numeric value reads ``n/a``, so a run folder that lacks a metric still renders.
"""

from __future__ import annotations

import json
import math
from typing import Any

__all__ = ["fmt", "fmt_count", "fmt_delta", "fmt_seconds", "json_compact", "num"]


def num(value: Any) -> float:
    """``value`` as a float, or NaN when it is missing or not a number (metrics may be absent)."""
    try:
        return float(value)
    except (TypeError, ValueError):
        return float("nan")


def fmt(value: Any, digits: int = 4) -> str:
    """A score with ``digits`` decimals, or ``n/a``."""
    x = num(value)
    return "n/a" if math.isnan(x) else f"{x:.{digits}f}"


def fmt_delta(value: float) -> str:
    """A signed difference (``+0.0123``), or ``n/a``: the sign is what a reader looks for."""
    return "n/a" if math.isnan(value) else f"{value:+.4f}"


def fmt_count(value: Any) -> str:
    """A count with thousands separators, or ``n/a`` for ``None``."""
    return "n/a" if value is None else f"{int(value):,}"


def fmt_seconds(value: Any) -> str:
    """A duration in seconds with one decimal (``1,234.5 s``), or ``n/a``."""
    x = num(value)
    return "n/a" if math.isnan(x) else f"{x:,.1f} s"


def json_compact(value: Any) -> str:
    """One-line JSON with sorted keys, so a configuration reads the same in every report."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)
