"""Ending a multi-process run (``torchrun``, ``accelerate launch``) so that every process exits on its own."""

from __future__ import annotations

import gc
import os
import time

__all__ = ["finish_distributed", "is_main_process", "wait_for_everyone"]


def is_main_process() -> bool:
    """Whether this is process 0 of the run (or the only one); safe to ask before any process group exists.

    The rank comes from ``torch.distributed`` once a group is initialised, else from the ``RANK`` that
    ``torchrun`` and ``accelerate launch`` export. Asking accelerate's ``PartialState`` this early would
    fix its shared state before the Trainer chooses its backend: on CPU every process would call
    itself the main one.
    """
    try:
        import torch.distributed as dist

        if dist.is_available() and dist.is_initialized():
            return dist.get_rank() == 0
    except ImportError:  # pragma: no cover - torch without distributed support
        pass
    return int(os.environ.get("RANK", "0") or 0) == 0


def wait_for_everyone() -> None:
    """A barrier across the run's processes; a no-op in a single process."""
    try:
        import torch.distributed as dist
    except ImportError:  # pragma: no cover - torch without distributed support
        return
    if dist.is_available() and dist.is_initialized():
        dist.barrier()


def finish_distributed(settle_s: float = 0.05) -> bool:
    """Wait for every process, then destroy the default process group; ``False`` when none is initialised.

    Why not just ``destroy_process_group()``: with torch's gloo backend a worker thread releases each
    finished collective while holding the group's work mutex. When Python has already dropped the
    output tensors of an all-gather (accelerate's ``gather`` and the Trainer's ``store_flos`` both
    do), that release needs the GIL. ``~ProcessGroupGloo`` runs on the main thread *with* the GIL and
    waits for the same mutex, so a teardown that lands in that window deadlocks for ever (gdb: main
    thread in ``ProcessGroupGloo::~ProcessGroupGloo`` -> ``pthread_mutex_lock``; a ``pt_gloo_runloop``
    thread in ``AsyncAllgatherWork::~AsyncAllgatherWork`` -> ``decref_pyobject``, waiting for the GIL).

    So: collect garbage, run a barrier (its wait releases the GIL, and it completes only after every
    earlier collective of this process), give the workers ``settle_s`` more with the GIL released,
    and only then destroy the group, from here, where nothing else holds it. Call it once, after the
    last collective, with the DDP-wrapped model already released.
    """
    try:
        import torch.distributed as dist
    except ImportError:  # pragma: no cover - torch without distributed support
        return False
    if not (dist.is_available() and dist.is_initialized()):
        return False
    gc.collect()
    dist.barrier()
    time.sleep(settle_s)
    dist.destroy_process_group()
    return True
