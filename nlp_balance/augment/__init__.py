"""Label-preserving text augmenters, composed like image augmentations.

Each augmenter is a small, seeded, configuration-only object (see :mod:`.base`); the
:class:`~nlp_balance.Balancer` runs them through ``datasets.map`` to write new examples for the
classes that need them. Every augmenter here is registered by name for recipes and the CLI.
"""

from .backtranslate import BackTranslation
from .base import AUGMENTERS, Augmenter, example_rng, get_augmenter, register_augmenter
from .class_filter import CentroidClassifier, ModelClassifier
from .compose import Compose, OneOf, SomeOf, build_augmenter
from .contextual import ContextualInsertion, ContextualReplacement
from .eda import EDA, RandomDeletion, RandomInsertion, RandomSwap
from .filters import DuplicateFilter, SimilarityFilter
from .generative import GenerativeAugmenter
from .noise import CharNoise
from .shuffle import SentenceShuffle
from .synonym import SynonymReplacement
from .synonym_table import SynonymTable, load_synonym_table
from .wordnet import check_wordnet
from .wordnet_database import WordNetLocation, WordNetNotFoundError, ensure_wordnet, find_wordnet, load_wordnet

__all__ = [
    "AUGMENTERS",
    "EDA",
    "Augmenter",
    "BackTranslation",
    "CentroidClassifier",
    "CharNoise",
    "Compose",
    "ContextualInsertion",
    "ContextualReplacement",
    "DuplicateFilter",
    "GenerativeAugmenter",
    "ModelClassifier",
    "OneOf",
    "RandomDeletion",
    "RandomInsertion",
    "RandomSwap",
    "SentenceShuffle",
    "SimilarityFilter",
    "SomeOf",
    "SynonymReplacement",
    "SynonymTable",
    "WordNetLocation",
    "WordNetNotFoundError",
    "build_augmenter",
    "check_wordnet",
    "ensure_wordnet",
    "example_rng",
    "find_wordnet",
    "get_augmenter",
    "load_synonym_table",
    "load_wordnet",
    "register_augmenter",
]
