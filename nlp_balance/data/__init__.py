"""Data layer: load any source into ``datasets`` objects with a ``ClassLabel``, check it, count its classes.

``loading`` reads Hub ids, files, folders and ``save_to_disk`` output; ``encoding`` decodes local
text files strictly; ``validation`` and ``label_checks`` check every row; ``labels`` encodes and reads
labels; ``distribution`` counts classes and measures imbalance; ``export`` writes a split back to a
file with its class names.
"""

from nlp_balance.data.distribution import (
    ClassDistribution,
    as_split_mapping,
    class_distribution,
    format_distribution,
    format_ratio,
    imbalance_ratio,
    require_classes,
)
from nlp_balance.data.encoding import check_encoding, resolve_encoding
from nlp_balance.data.errors import DataValidationError
from nlp_balance.data.export import labels_as_names, write_split
from nlp_balance.data.labels import encode_labels, get_class_label, label_array, model_label_names
from nlp_balance.data.loading import load_text_dataset
from nlp_balance.data.validation import LoadReport, validate_text_dataset

__all__ = [
    "ClassDistribution",
    "DataValidationError",
    "LoadReport",
    "as_split_mapping",
    "check_encoding",
    "class_distribution",
    "encode_labels",
    "format_distribution",
    "format_ratio",
    "get_class_label",
    "imbalance_ratio",
    "label_array",
    "labels_as_names",
    "load_text_dataset",
    "model_label_names",
    "require_classes",
    "resolve_encoding",
    "validate_text_dataset",
    "write_split",
]
