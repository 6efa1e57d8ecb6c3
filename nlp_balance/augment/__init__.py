"""Label-preserving text augmenters, composed like image augmentations.

Each augmenter is a small, seeded, configuration-only object (see :mod:`.base`); the
:class:`~nlp_balance.Balancer` runs them through ``datasets.map`` to write new examples for the
classes that need them. Every augmenter here is registered by name for recipes and the CLI.
"""

from .backtranslate import BackTranslation
from .base import AUGMENTERS, Augmenter, example_rng, get_augmenter, register_augmenter
from .compose import Compose, OneOf, SomeOf, build_augmenter
from .eda import EDA, RandomDeletion, RandomInsertion, RandomSwap
from .filters import DuplicateFilter, SimilarityFilter
from .noise import CharNoise
from .shuffle import SentenceShuffle
from .synonym import SynonymReplacement
from .wordnet import WordNetNotFoundError, ensure_wordnet, find_wordnet, load_synonym_table, load_wordnet

__all__ = [
    "AUGMENTERS",
    "EDA",
    "Augmenter",
    "BackTranslation",
    "CharNoise",
    "Compose",
    "DuplicateFilter",
    "OneOf",
    "RandomDeletion",
    "RandomInsertion",
    "RandomSwap",
    "SentenceShuffle",
    "SimilarityFilter",
    "SomeOf",
    "SynonymReplacement",
    "WordNetNotFoundError",
    "build_augmenter",
    "ensure_wordnet",
    "example_rng",
    "find_wordnet",
    "get_augmenter",
    "load_synonym_table",
    "load_wordnet",
    "register_augmenter",
]
