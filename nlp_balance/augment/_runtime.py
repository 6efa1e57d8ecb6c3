"""What the model-based augmenters share: argument checks, device and dtype, quiet loading, the disk cache.

Kept private to :mod:`nlp_balance.augment`: :class:`~.contextual.ContextualReplacement`,
:class:`~.contextual.ContextualInsertion` and :class:`~.generative.GenerativeAugmenter` use it.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:  # heavy imports stay lazy: importing nlp_balance must not import torch
    import torch

__all__ = [
    "DTYPES",
    "check_cache",
    "check_dtype",
    "check_unit",
    "fork_safe_threads",
    "pick_device_dtype",
    "positive_int",
    "quietly",
]

T = TypeVar("T")

#: dtypes a model-based augmenter accepts (``None`` = bfloat16 on a CUDA device that has it, else float32).
DTYPES = ("float32", "bfloat16", "float16")


def positive_int(name: str, value: Any, minimum: int = 1) -> int:
    """``value`` if it is an int >= ``minimum``, else a ValueError naming the parameter."""
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return value


def check_unit(name: str, value: Any, *, open_low: bool = True) -> float:
    """``value`` as a float in (0, 1] (``open_low``) or [0, 1], else a ValueError naming the parameter."""
    ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    if ok:
        ok = (0.0 < value <= 1.0) if open_low else (0.0 <= value <= 1.0)
    if not ok:
        interval = "(0, 1]" if open_low else "[0, 1]"
        raise ValueError(f"{name} must be a number in {interval}, got {value!r}")
    return float(value)


def check_dtype(dtype: Any) -> str | None:
    """``dtype`` as one of :data:`DTYPES` (a ``torch.`` prefix is dropped), or ``None``."""
    if dtype is None:
        return None
    name = str(dtype).removeprefix("torch.")
    if name not in DTYPES:
        raise ValueError(f"dtype must be one of {DTYPES} or None, got {dtype!r}")
    return name


def check_cache(cache: Any) -> bool | str | os.PathLike[str]:
    """``cache`` if it is ``True``, ``False`` or a directory path."""
    if not isinstance(cache, (bool, str, os.PathLike)):
        raise ValueError(f"cache must be True, False or a directory path, got {cache!r}")
    return cache


_forked = False


def _mark_forked() -> None:
    global _forked
    _forked = True


os.register_at_fork(after_in_child=_mark_forked)


def fork_safe_threads() -> None:
    """One torch thread in a forked process (``datasets.map(num_proc=...)`` workers).

    A child forked after the parent ran a parallel torch op inherits libgomp's record of a thread
    team whose threads did not survive the fork; its next parallel op waits for them for ever (seen
    in LayerNorm). With one thread no team is used. Call it before the process's first torch op.
    """
    if _forked:
        import torch

        torch.set_num_threads(1)


def pick_device_dtype(device: str | None, dtype: str | None) -> tuple[torch.device, torch.dtype]:
    """The device (CUDA when available unless ``device`` says otherwise) and its dtype (bf16 on CUDA).

    It also makes torch safe to use in a forked worker (:func:`fork_safe_threads`): it is the
    first thing every model-based augmenter calls when it loads its model.
    """
    import torch

    fork_safe_threads()

    dev = torch.device(device) if device else torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if dtype is not None:
        return dev, getattr(torch, dtype)
    if dev.type == "cuda" and torch.cuda.is_bf16_supported():
        return dev, torch.bfloat16
    return dev, torch.float32


def quietly(load: Callable[[], T]) -> T:
    """Run ``load`` without transformers' per-load progress bar (one per worker process otherwise)."""
    from transformers.utils import logging as hf_logging

    bar = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        return load()
    finally:
        if bar:
            hf_logging.enable_progress_bar()
