"""Benchmark datasets: the shared sets with their natural imbalance and long-tail versions of trec6.

Every variant is a ``DatasetDict`` with ``train``/``validation``/``test``. The validation split is
carved (stratified, ``VAL_FRACTION``, seed ``SPLIT_SEED``) from the variant's own training data, so
it has the training distribution a practitioner would see; the test split is never changed.
"""

from __future__ import annotations

from pathlib import Path

import datasets
import numpy as np

from benchmarks.data import DATA_ROOT

NATURAL = ("sms_spam", "trec6", "davidson_hate")
LONG_TAIL = {"trec6_lt10": ("trec6", 10.0), "trec6_lt100": ("trec6", 100.0)}
DATASETS = (*NATURAL, *LONG_TAIL)
VAL_FRACTION = 0.15
SPLIT_SEED = 0
LT_SEED = 0


def long_tail_counts(counts: np.ndarray | list[int], ratio: float) -> np.ndarray:
    """Target per-class counts ``n_i = n_max * ratio**(-i/(K-1))`` over classes sorted by size (desc).

    ``n_max`` is the largest value for which every target fits in the class's available count, so the
    profile (and the head/tail ratio) is exact: ``n_max = min(c_max, min_i c_(i) * ratio**(i/(K-1)))``.
    Returned in the original class order; every class keeps at least one example.
    """
    counts = np.asarray(counts, dtype=np.int64)
    if counts.ndim != 1 or counts.size < 2:
        raise ValueError(f"need at least two class counts, got {counts.tolist()}")
    if np.any(counts < 1):
        raise ValueError(f"every class needs at least one example, got counts {counts.tolist()}")
    if not ratio >= 1.0:
        raise ValueError(f"imbalance ratio must be >= 1, got {ratio!r}")
    k = counts.size
    order = np.argsort(-counts, kind="stable")  # largest first; ties keep class-id order
    decay = ratio ** (-np.arange(k) / (k - 1))
    n_max = min(float(counts[order[0]]), float(np.min(counts[order] / decay)))
    sorted_targets = np.maximum(1, np.floor(n_max * decay + 1e-9)).astype(np.int64)
    out = np.empty(k, dtype=np.int64)
    out[order] = np.minimum(sorted_targets, counts[order])
    return out


def subsample_long_tail(labels: np.ndarray, ratio: float, seed: int = LT_SEED) -> np.ndarray:
    """Sorted row indices that keep ``long_tail_counts`` examples of each class (seeded, no replacement)."""
    labels = np.asarray(labels)
    k = int(labels.max()) + 1
    targets = long_tail_counts(np.bincount(labels, minlength=k), ratio)
    rng = np.random.default_rng(seed)
    keep = [rng.choice(np.flatnonzero(labels == c), size=int(targets[c]), replace=False) for c in range(k)]
    return np.sort(np.concatenate(keep))


def stratified_split(labels: np.ndarray, fraction: float, seed: int = SPLIT_SEED) -> tuple[np.ndarray, np.ndarray]:
    """(train_idx, val_idx): ``round(fraction * n_c)`` rows of each class (at least 1 if n_c >= 2) go to val."""
    labels = np.asarray(labels)
    rng = np.random.default_rng(seed)
    val = []
    for c in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == c))
        n_val = round(fraction * members.size)
        if members.size >= 2:
            n_val = min(max(n_val, 1), members.size - 1)
        else:
            n_val = 0
        val.append(members[:n_val])
    val_idx = np.sort(np.concatenate(val)) if val else np.zeros(0, np.int64)
    train_idx = np.setdiff1d(np.arange(labels.size), val_idx)
    return train_idx, val_idx


def load_variant(name: str, data_root: Path | str = DATA_ROOT) -> datasets.DatasetDict:
    """Load one benchmark dataset by name (see ``DATASETS``) as train/validation/test."""
    from nlp_balance import load_text_dataset

    if name not in DATASETS:
        raise ValueError(f"unknown benchmark dataset {name!r}; known: {list(DATASETS)}")
    base, ratio = LONG_TAIL.get(name, (name, None))
    folder = Path(data_root) / base
    dd = load_text_dataset(str(folder))
    train = dd["train"]
    if ratio is not None:
        train = train.select(subsample_long_tail(np.asarray(train["label"]), ratio))
    tr, va = stratified_split(np.asarray(train["label"]), VAL_FRACTION)
    return datasets.DatasetDict({"train": train.select(tr), "validation": train.select(va), "test": dd["test"]})
