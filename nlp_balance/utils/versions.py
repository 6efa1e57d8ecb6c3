"""The package version, and the versions of the stack a run used (recorded in every run folder)."""

from __future__ import annotations

import platform

__all__ = ["__version__", "library_versions"]

__version__ = "0.1.0"


def library_versions() -> dict[str, str]:
    """nlp_balance, Python, torch, transformers, datasets, accelerate and numpy versions, and the platform."""
    import accelerate
    import datasets
    import numpy as np
    import torch
    import transformers

    return {
        "nlp_balance": __version__,
        "python": platform.python_version(),
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "datasets": datasets.__version__,
        "accelerate": accelerate.__version__,
        "numpy": np.__version__,
        "platform": platform.platform(),
    }
