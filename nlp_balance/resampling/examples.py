"""What augmentation wrote: a few (source text, synthetic text) pairs per augmented class.

:func:`augmentation_examples` reads a :class:`~nlp_balance.resampling.Balancer` output (its
provenance columns, see :mod:`.provenance`) and picks, for every class that gained rows, up to ``n``
pairs a reader can look at without opening the data. Reports and dataset cards show them.

The choice is deterministic and involves no randomness: rows are taken in output order, the first
row of each distinct source first (so five rows are not five rewrites of one sentence), then further
rows in output order when the class has fewer than ``n`` distinct sources. Rows that are exact copies
of their source (``duplicate`` rows, and augmented rows whose text equals the source text) are never
shown as synthetic; each class says how many there were.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import datasets
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from nlp_balance.data.labels import get_class_label
from nlp_balance.resampling.provenance import AUGMENTATION_COLUMN, SOURCE_INDEX_COLUMN

__all__ = [
    "DEFAULT_EXAMPLES_PER_CLASS",
    "ClassExamples",
    "ExamplePair",
    "augmentation_examples",
    "examples_json",
]

#: How many pairs per class :func:`augmentation_examples` picks unless told otherwise.
DEFAULT_EXAMPLES_PER_CLASS = 5

_ORIGINAL, _DUPLICATE = "original", "duplicate"


@dataclass(frozen=True)
class ExamplePair:
    """One synthetic row beside the row it was made from.

    ``source_index`` is the source's row in the input split, ``row`` the synthetic row's position in
    the balanced split, and ``augmentation`` the augmenter that wrote it (the provenance column).
    """

    source_index: int
    row: int
    source: str
    synthetic: str
    augmentation: str


@dataclass(frozen=True)
class ClassExamples:
    """The rows one class gained: how many, how many were new texts or exact copies, and a few pairs.

    ``added`` = ``synthetic`` + ``exact_copies``. ``exact_copies`` counts ``duplicate`` rows and
    augmented rows whose text is the same as their source's; none of them is among ``pairs``.
    """

    label: str
    added: int
    synthetic: int
    exact_copies: int
    pairs: tuple[ExamplePair, ...]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: the counts and ``pairs`` as a list of objects."""
        out = asdict(self)
        out["pairs"] = [asdict(p) for p in self.pairs]
        return out


def augmentation_examples(
    balanced: datasets.Dataset,
    sources: datasets.Dataset | None = None,
    *,
    text_column: str = "text",
    label_column: str = "label",
    n: int = DEFAULT_EXAMPLES_PER_CLASS,
) -> list[ClassExamples]:
    """Up to ``n`` (source, synthetic) pairs for each class that gained rows, in label-id order.

    ``balanced`` is the rebalanced split with its provenance columns; ``sources`` is the input split
    its ``source_index`` points into. Without ``sources`` the source texts are read from
    ``balanced``'s own ``original`` rows (the Balancer keeps every input row, so this is the same).
    Classes that gained no row are left out; a class that gained only copies has no pairs. Nothing is
    written or changed; the result depends only on the data (no random choice).
    """
    if not isinstance(n, int) or isinstance(n, bool) or n < 0:
        raise ValueError(f"n must be a non-negative int, got {n!r}")
    needed = [text_column, label_column, SOURCE_INDEX_COLUMN, AUGMENTATION_COLUMN]
    missing = [c for c in needed if c not in balanced.column_names]
    if missing:
        raise ValueError(f"the balanced split lacks the column(s) {missing}; pass a Balancer output "
                         f"(columns are {balanced.column_names})")
    names = get_class_label(balanced, label_column).names
    table = balanced.select_columns(needed).with_format("arrow")[:]
    kinds = np.asarray(table[AUGMENTATION_COLUMN].to_numpy(zero_copy_only=False), dtype=object)
    labels = np.asarray(table[label_column].to_numpy(), dtype=np.int64)
    src = np.asarray(table[SOURCE_INDEX_COLUMN].to_numpy(), dtype=np.int64)
    texts = table[text_column]

    written = np.flatnonzero((kinds != _ORIGINAL) & (kinds != _DUPLICATE))
    source_texts = _source_texts(src[written], texts, kinds, src, sources, text_column)
    new_texts = texts.take(pa.array(written, type=pa.int64()))
    unchanged = pc.fill_null(pc.equal(new_texts, source_texts), False).to_numpy(zero_copy_only=False)

    out = []
    for c, name in enumerate(names):
        added = int(((labels == c) & (kinds != _ORIGINAL)).sum())
        if added == 0:
            continue
        in_class = labels[written] == c
        shown = np.flatnonzero(in_class & ~unchanged)  # positions in `written`
        picks = _pick(src[written[shown]], n)
        pairs = tuple(
            ExamplePair(source_index=int(src[written[k]]), row=int(written[k]), source=_str(source_texts[k]),
                        synthetic=_str(new_texts[k]), augmentation=str(kinds[written[k]]))
            for k in shown[picks]
        )
        out.append(ClassExamples(label=str(name), added=added, synthetic=len(shown),
                                 exact_copies=added - len(shown), pairs=pairs))
    return out


def _source_texts(
    wanted: np.ndarray,
    texts: pa.ChunkedArray,
    kinds: np.ndarray,
    src: np.ndarray,
    sources: datasets.Dataset | None,
    text_column: str,
) -> pa.Array | pa.ChunkedArray:
    """The text of input row ``wanted[i]`` for every ``i``, from ``sources`` or ``balanced``'s originals."""
    if sources is not None:
        if text_column not in sources.column_names:
            raise ValueError(f"sources lacks the text column {text_column!r}; columns are {sources.column_names}")
        if len(wanted) and (wanted.min() < 0 or wanted.max() >= len(sources)):
            raise ValueError(f"source_index runs to {int(wanted.max())} but sources has {len(sources)} rows; "
                             "pass the split the Balancer was given")
        pool = sources.select_columns([text_column]).with_format("arrow")[:][text_column]
        return pool.take(pa.array(wanted, type=pa.int64()))
    originals = np.flatnonzero(kinds == _ORIGINAL)
    size = int(max(src.max(initial=-1), 0)) + 1
    where = np.full(size, -1, dtype=np.int64)
    where[src[originals]] = originals
    rows = where[wanted] if len(wanted) else wanted
    if (rows < 0).any():
        lost = int(wanted[np.flatnonzero(rows < 0)[0]])
        raise ValueError(f"input row {lost} is not among the balanced split's original rows; "
                         "pass the input split as sources")
    return texts.take(pa.array(rows, type=pa.int64()))


def _pick(source_of: np.ndarray, n: int) -> np.ndarray:
    """Positions of the rows to show: the first row of each distinct source in order, then the rest in order."""
    _, first = np.unique(source_of, return_index=True)
    first = np.sort(first)[:n]
    if len(first) < n:
        rest = np.setdiff1d(np.arange(len(source_of)), first, assume_unique=True)[: n - len(first)]
        first = np.sort(np.concatenate([first, rest]))
    return first


def _str(value: pa.Scalar) -> str:
    text = value.as_py()
    return "" if text is None else str(text)


def examples_json(examples: Sequence[ClassExamples]) -> dict[str, Any]:
    """The JSON a run folder stores: how the pairs were chosen and every class's :meth:`ClassExamples.to_dict`."""
    return {"chosen": "output order, the first row of each distinct source first; exact copies never shown",
            "classes": [c.to_dict() for c in examples]}
