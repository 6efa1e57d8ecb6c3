"""Small helpers with one job each: atomic writes, seeds, the disk cache, versions, multi-process teardown."""

from nlp_balance.utils.atomic import (
    atomic_directory,
    atomic_file,
    atomic_write_bytes,
    atomic_write_json,
    atomic_write_text,
)
from nlp_balance.utils.distributed import finish_distributed
from nlp_balance.utils.seeding import derive_seed, example_rng, numpy_rng
from nlp_balance.utils.versions import __version__, library_versions

__all__ = [
    "__version__",
    "atomic_directory",
    "atomic_file",
    "atomic_write_bytes",
    "atomic_write_json",
    "atomic_write_text",
    "derive_seed",
    "example_rng",
    "finish_distributed",
    "library_versions",
    "numpy_rng",
]
