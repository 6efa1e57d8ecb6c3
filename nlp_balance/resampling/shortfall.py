"""What the Balancer does when its augmenter cannot write enough distinct new rows for a class."""

from __future__ import annotations

import inspect
import os
import warnings
from collections.abc import Mapping
from typing import Literal

from nlp_balance.resampling.balance_report import ClassBalanceStats

__all__ = ["SHORTFALL_POLICIES", "ShortfallPolicy", "fill_with_duplicates"]

ShortfallPolicy = Literal["duplicate", "warn", "raise"]
#: The Balancer's ``on_shortfall`` choices.
SHORTFALL_POLICIES: tuple[ShortfallPolicy, ...] = ("duplicate", "warn", "raise")


def fill_with_duplicates(
    short: Mapping[int, int],
    stats: Mapping[int, ClassBalanceStats],
    on_shortfall: ShortfallPolicy,
    augmented: bool,
) -> bool:
    """Whether to fill ``short`` (class id -> rows missing) with duplicates.

    Without an augmenter, duplicates are the plan. With one, ``"raise"`` raises, ``"warn"`` warns and
    leaves the classes short, and ``"duplicate"`` warns and fills them; the message counts the
    missing rows per class.
    """
    if not augmented:
        return True
    total = sum(short.values())
    detail = ", ".join(f"{stats[c].label}: {n}" for c, n in sorted(short.items()))
    msg = f"the augmenter could not write enough distinct new examples ({total} short; {detail})"
    if on_shortfall == "raise":
        raise RuntimeError(msg + "; use on_shortfall='duplicate' or 'warn', or another augmenter")
    if on_shortfall == "warn":
        warnings.warn(msg + "; those classes stay below their targets", stacklevel=_caller_stacklevel())
        return False
    warnings.warn(msg + "; filled with duplicates (augmentation='duplicate')", stacklevel=_caller_stacklevel())
    return True


def _caller_stacklevel() -> int:
    """The ``stacklevel`` of the first frame outside this folder, so a warning names the user's call."""
    here = os.path.dirname(os.path.abspath(__file__))
    frame = inspect.currentframe()
    frame = frame.f_back if frame is not None else None  # the function that calls warnings.warn
    level = 1
    while frame is not None and os.path.dirname(os.path.abspath(frame.f_code.co_filename)) == here:
        frame = frame.f_back
        level += 1
    return level
