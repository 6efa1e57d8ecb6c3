"""Resampling layer: imbalanced-learn's ``sampling_strategy`` rules, random over/under-sampling, the
:class:`Balancer` for the train split of a ``DatasetDict``, provenance columns, sharding, and SMOTE on
sentence embeddings."""

from nlp_balance.resampling.balancer import Balancer, BalanceReport, ClassBalanceStats
from nlp_balance.resampling.embedding_smote import EmbeddingSMOTE
from nlp_balance.resampling.examples import ClassExamples, ExamplePair, augmentation_examples, examples_json
from nlp_balance.resampling.provenance import AUGMENTATION_COLUMN, SOURCE_INDEX_COLUMN, with_provenance_everywhere
from nlp_balance.resampling.samplers import (
    RandomOverSampler,
    RandomUnderSampler,
    over_sample_indices,
    under_sample_indices,
)
from nlp_balance.resampling.sharding import augment_dataset, augment_iterable, parse_shard
from nlp_balance.resampling.strategy import (
    NAMED_STRATEGIES,
    SAMPLING_TYPES,
    NamedStrategy,
    SamplingStrategy,
    SamplingType,
    resolve_sampling_strategy,
)

__all__ = [
    "AUGMENTATION_COLUMN",
    "NAMED_STRATEGIES",
    "SAMPLING_TYPES",
    "SOURCE_INDEX_COLUMN",
    "BalanceReport",
    "Balancer",
    "ClassBalanceStats",
    "ClassExamples",
    "EmbeddingSMOTE",
    "ExamplePair",
    "NamedStrategy",
    "RandomOverSampler",
    "RandomUnderSampler",
    "SamplingStrategy",
    "SamplingType",
    "augment_dataset",
    "augment_iterable",
    "augmentation_examples",
    "examples_json",
    "over_sample_indices",
    "parse_shard",
    "resolve_sampling_strategy",
    "under_sample_indices",
    "with_provenance_everywhere",
]
