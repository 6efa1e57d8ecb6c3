"""Label-preserving text augmenters, composed like image augmentations.

Each augmenter is a small, seeded, configuration-only object (see :mod:`.base`); the
:class:`~nlp_balance.Balancer` runs them through ``datasets.map`` to write new examples for the
classes that need them.
"""

from .base import AUGMENTERS, Augmenter, example_rng, get_augmenter, register_augmenter

__all__ = ["AUGMENTERS", "Augmenter", "example_rng", "get_augmenter", "register_augmenter"]
