"""TODO docstring."""

from __future__ import annotations

import datasets

#: Provenance column: the row (in the input split) each output row was made from.
SOURCE_INDEX_COLUMN = "source_index"


#: Provenance column: "original", "duplicate", or the name of the augmenter that wrote the row.
AUGMENTATION_COLUMN = "augmentation"


def with_provenance_everywhere(balanced: datasets.DatasetDict, split: str = "train") -> datasets.DatasetDict:
    """A copy where every split has the provenance columns (eval rows: ``original``, their own index).

    ``DatasetDict.push_to_hub`` needs one schema for all splits; the eval splits' text and labels stay
    untouched, they only gain the two columns that say so.
    """
    import datasets
    import numpy as np
    from datasets.fingerprint import Hasher

    features = balanced[split].features
    out = {}
    for name, ds in balanced.items():
        if name != split and SOURCE_INDEX_COLUMN not in ds.column_names and AUGMENTATION_COLUMN not in ds.column_names:
            ds = ds.add_column(SOURCE_INDEX_COLUMN, np.arange(len(ds), dtype=np.int64),
                               new_fingerprint=Hasher.hash((ds._fingerprint, "hub-src")))
            ds = ds.add_column(AUGMENTATION_COLUMN, ["original"] * len(ds),
                               new_fingerprint=Hasher.hash((ds._fingerprint, "hub-aug")))
            if set(ds.column_names) == set(features):
                ds = ds.select_columns(list(features)).cast(features)
        out[name] = ds
    return datasets.DatasetDict(out)
