"""Resampling layer: imbalanced-learn's ``sampling_strategy`` rules, random over/under-sampling, the
:class:`Balancer` for the train split of a ``DatasetDict``, provenance columns, sharding, and SMOTE on
sentence embeddings."""

from nlp_balance.resampling.balancer import Balancer, BalanceReport, ClassBalanceStats
from nlp_balance.resampling.embedding_smote import EmbeddingSMOTE
from nlp_balance.resampling.provenance import AUGMENTATION_COLUMN, SOURCE_INDEX_COLUMN
from nlp_balance.resampling.samplers import RandomOverSampler, RandomUnderSampler, resolve_sampling_strategy
from nlp_balance.resampling.sharding import augment_dataset, augment_iterable, parse_shard

__all__ = [
    "AUGMENTATION_COLUMN",
    "SOURCE_INDEX_COLUMN",
    "BalanceReport",
    "Balancer",
    "ClassBalanceStats",
    "EmbeddingSMOTE",
    "RandomOverSampler",
    "RandomUnderSampler",
    "augment_dataset",
    "augment_iterable",
    "parse_shard",
    "resolve_sampling_strategy",
]
