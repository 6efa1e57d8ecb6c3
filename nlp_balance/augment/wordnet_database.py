"""Find WordNet wherever a user has it, copy it where NLTK accepts it, and open NLTK's reader on it.

NLTK's downloader often cannot be used (offline machines, CI), and NLTK 3.10 refuses corpus files
reached through links. This module therefore:

1. finds WordNet, in this order: ``$NLP_BALANCE_WORDNET`` (a WordNet 3.x database folder), an
   existing NLTK ``corpora/wordnet`` under ``nltk.data.path`` / ``$NLTK_DATA`` / ``~/nltk_data``,
   the private copy this module made earlier, then well-known database folders such as Debian's
   ``/usr/share/wordnet`` (packages ``wordnet-base`` and ``wordnet-sense-index``);
2. *copies* a database folder into ``<cache>/nltk_data/corpora/wordnet`` (``<cache>`` is
   ``$NLP_BALANCE_CACHE``, ``$XDG_CACHE_HOME/nlp_balance`` or ``~/.cache/nlp_balance``; every
   directory ``0700``), writes the ``lexnames`` file that Debian does not ship, and puts
   ``<cache>/nltk_data`` on ``nltk.data.path``;
3. opens NLTK's ``WordNetCorpusReader`` on that folder, once per process.

The synonym table built from the same folder lives in :mod:`.synonym_table`; the self-check that
runs both is :mod:`.wordnet` (``python -m nlp_balance.augment.wordnet``).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
import tempfile
import threading
import warnings
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from nlp_balance.utils.cache import cache_root, check_private_dir, private_dir

__all__ = [
    "DATABASE_FILES",
    "INSTALL_HINT",
    "LEXNAMES",
    "WordNetLocation",
    "WordNetNotFoundError",
    "ensure_wordnet",
    "find_wordnet",
    "load_wordnet",
    "wordnet_cache_dir",
    "wordnet_version",
]

LEXNAMES: tuple[tuple[int, str, int], ...] = tuple(
    (i, name, {"adj": 3, "adv": 4, "noun": 1, "verb": 2}[name.split(".")[0]])
    for i, name in enumerate(
        ["adj.all", "adj.pert", "adv.all"]
        + [
            f"noun.{n}"
            for n in (
                "Tops act animal artifact attribute body cognition communication event feeling food group "
                "location motive object person phenomenon plant possession process quantity relation shape "
                "state substance time"
            ).split()
        ]
        + [
            f"verb.{n}"
            for n in (
                "body change cognition communication competition consumption contact creation emotion "
                "motion perception possession social stative weather"
            ).split()
        ]
        + ["adj.ppl"]
    )
)

INSTALL_HINT = (
    "Install it with `sudo apt-get install wordnet-base wordnet-sense-index` (Debian/Ubuntu), or "
    "online with `python -c \"import nltk; nltk.download('wordnet')\"`, or point NLP_BALANCE_WORDNET at a "
    "WordNet 3.0 database folder (the one holding data.noun, index.noun, ...); then run "
    "`python -m nlp_balance.augment.wordnet`."
)

#: Environment variable naming a WordNet database folder to use before any other.
ENV_WORDNET = "NLP_BALANCE_WORDNET"

#: The files every WordNet database folder holds (what :func:`find_wordnet` checks for).
DATABASE_FILES = tuple(f"{kind}.{p}" for kind in ("data", "index") for p in ("noun", "verb", "adj", "adv"))
_DEFAULT_DATABASE_DIRS = (
    "/usr/share/wordnet",
    "/usr/local/share/wordnet",
    "/usr/share/WordNet-3.0/dict",
    "/usr/local/WordNet-3.0/dict",
    "/opt/homebrew/share/wordnet",
    "/opt/local/share/WordNet-3.0/dict",
)
#: Bump when the layout of the private copy changes (written into its stamp file).
_COPY_FORMAT = 1
_STAMP = ".nlp_balance-source.json"


class WordNetNotFoundError(LookupError):
    """No usable WordNet was found; the message says where we looked and how to install it."""


@dataclass(frozen=True)
class WordNetLocation:
    """Where WordNet was found: an NLTK ``corpora/wordnet`` folder, a zip of one, or a database folder."""

    kind: Literal["nltk", "nltk-zip", "database", "cache"]
    path: Path


# --------------------------------------------------------------------------------------------------
# finding


def wordnet_cache_dir() -> Path:
    """The private NLTK data folder this module copies WordNet into (``<cache root>/nltk_data``)."""
    return cache_root() / "nltk_data"


def _is_database(folder: Path) -> bool:
    return all((folder / name).is_file() for name in DATABASE_FILES)


def _nltk_dirs_from_env() -> list[Path]:
    """NLTK's search path, computed without importing NLTK (which costs seconds) unless it is loaded."""
    dirs: list[Path] = []
    env = os.environ.get("NLTK_DATA")
    if env:
        dirs.extend(Path(p) for p in env.split(os.pathsep) if p)
    nltk = sys.modules.get("nltk")
    data = getattr(nltk, "data", None)
    if data is not None:
        dirs.extend(Path(p) for p in data.path if isinstance(p, str))
    dirs.append(Path.home() / "nltk_data")
    for prefix in (sys.prefix, "/usr", "/usr/local"):
        dirs.extend(Path(prefix) / sub for sub in ("nltk_data", "share/nltk_data", "lib/nltk_data"))
    seen: set[Path] = set()
    return [d for d in dirs if not (d in seen or seen.add(d))]


def _database_dirs_from_env() -> list[Path]:
    dirs = []
    for var in ("WNSEARCHDIR",):
        if os.environ.get(var):
            dirs.append(Path(os.environ[var]))
    if os.environ.get("WNHOME"):
        dirs.append(Path(os.environ["WNHOME"]) / "dict")
    dirs.extend(Path(d) for d in _DEFAULT_DATABASE_DIRS)
    return dirs


def _cache_is_valid(folder: Path) -> bool:
    return _is_database(folder) and (folder / "lexnames").is_file() and (folder / _STAMP).is_file()


def find_wordnet(
    *, nltk_dirs: Sequence[str | os.PathLike[str]] | None = None,
    database_dirs: Sequence[str | os.PathLike[str]] | None = None,
) -> WordNetLocation | None:
    """Locate WordNet without changing anything; ``None`` if there is none.

    Args:
        nltk_dirs: NLTK data folders to search (default: ``$NLTK_DATA``, ``nltk.data.path``, ``~/nltk_data``).
        database_dirs: WordNet database folders to search (default: ``$WNSEARCHDIR``, ``$WNHOME/dict``,
            ``/usr/share/wordnet`` and other usual places).

    Raises:
        WordNetNotFoundError: ``$NLP_BALANCE_WORDNET`` is set but is not a WordNet database folder.
    """
    explicit = os.environ.get(ENV_WORDNET)
    if explicit:
        folder = Path(explicit).expanduser()
        if not _is_database(folder):
            raise WordNetNotFoundError(
                f"{ENV_WORDNET}={explicit!r} is not a WordNet database folder: it must contain "
                f"{', '.join(DATABASE_FILES)}. {INSTALL_HINT}"
            )
        return WordNetLocation("database", folder)
    for d in (_nltk_dirs_from_env() if nltk_dirs is None else [Path(p) for p in nltk_dirs]):
        folder = d / "corpora" / "wordnet"
        if _is_database(folder) and (folder / "lexnames").is_file():
            return WordNetLocation("nltk", folder)
        if (d / "corpora" / "wordnet.zip").is_file():
            return WordNetLocation("nltk-zip", d / "corpora" / "wordnet.zip")
    cached = wordnet_cache_dir() / "corpora" / "wordnet"
    if _cache_is_valid(cached):
        return WordNetLocation("cache", cached)
    for d in (_database_dirs_from_env() if database_dirs is None else [Path(p) for p in database_dirs]):
        if _is_database(d):
            return WordNetLocation("database", d)
    return None


# --------------------------------------------------------------------------------------------------
# copying into the private cache


def _write_lexnames(folder: Path) -> None:
    rows = "".join(f"{num:02d}\t{name}\t{pos}\n" for num, name, pos in LEXNAMES)
    (folder / "lexnames").write_text(rows, encoding="ascii")


def _source_stamp(files: dict[str, int], origin: str) -> dict[str, Any]:
    return {"origin": origin, "sizes": files, "format": _COPY_FORMAT}


def _copy_into_cache(loc: WordNetLocation, nltk_data: Path) -> Path:
    """Copy (never link) the database files into ``<nltk_data>/corpora/wordnet``; atomic via rename."""
    corpora = private_dir(private_dir(nltk_data) / "corpora")
    target = corpora / "wordnet"
    staging = Path(tempfile.mkdtemp(prefix=".wordnet-", dir=corpora))  # 0700
    try:
        sizes: dict[str, int] = {}
        if loc.kind == "nltk-zip":
            with zipfile.ZipFile(loc.path) as zf:
                for info in zf.infolist():
                    name = info.filename.rsplit("/", 1)[-1]
                    if info.is_dir() or not name or name.startswith("."):
                        continue
                    with zf.open(info) as src, open(staging / name, "wb") as dst:
                        shutil.copyfileobj(src, dst)
                    sizes[name] = info.file_size
        else:
            for entry in sorted(loc.path.iterdir()):
                if entry.is_file() and not entry.name.startswith("."):
                    shutil.copyfile(entry, staging / entry.name)  # a new inode: NLTK refuses links
                    sizes[entry.name] = entry.stat().st_size
        if not _is_database(staging):
            missing = [n for n in DATABASE_FILES if not (staging / n).is_file()]
            raise WordNetNotFoundError(f"{loc.path} lacks WordNet files {missing}. {INSTALL_HINT}")
        if not (staging / "lexnames").is_file():
            _write_lexnames(staging)
        if not (staging / "index.sense").is_file():
            # NLTK reads index.sense when it opens WordNet; an empty one loads (sense keys stay unusable).
            warnings.warn(
                f"{loc.path} has no index.sense (Debian package wordnet-sense-index); writing an empty "
                "one: WordNet loads, but sense-key look-ups will fail",
                stacklevel=3,
            )
            (staging / "index.sense").write_bytes(b"")
        (staging / _STAMP).write_text(json.dumps(_source_stamp(sizes, str(loc.path))), encoding="utf-8")
        if target.exists():
            old = Path(tempfile.mkdtemp(prefix=".wordnet-old-", dir=corpora))
            os.replace(target, old / "wordnet")
            shutil.rmtree(old, ignore_errors=True)
        os.replace(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target


def _put_on_nltk_path(nltk_data: Path) -> None:
    import nltk  # imported lazily: `import nltk` costs seconds

    entry = str(nltk_data)
    if entry not in nltk.data.path:
        nltk.data.path.insert(0, entry)


def _ready_folder(
    nltk_dirs: Sequence[str | os.PathLike[str]] | None, database_dirs: Sequence[str | os.PathLike[str]] | None
) -> Path:
    """Find WordNet and make it usable (copied into the cache if needed), without importing NLTK."""
    loc = find_wordnet(nltk_dirs=nltk_dirs, database_dirs=database_dirs)
    if loc is None:
        searched = [str(d) for d in (_nltk_dirs_from_env() if nltk_dirs is None else nltk_dirs)]
        dbs = [str(d) for d in (_database_dirs_from_env() if database_dirs is None else database_dirs)]
        raise WordNetNotFoundError(
            "WordNet was not found. Looked for NLTK data (corpora/wordnet) in "
            f"{searched}, for a copy in {wordnet_cache_dir()}, and for a database folder in {dbs}. "
            + INSTALL_HINT
        )
    if loc.kind == "nltk":
        return loc.path
    if loc.kind == "cache":
        return check_private_dir(loc.path)
    private_dir(cache_root())  # the root too is 0700 when we create it
    return _copy_into_cache(loc, wordnet_cache_dir())


def ensure_wordnet(
    *, nltk_dirs: Sequence[str | os.PathLike[str]] | None = None,
    database_dirs: Sequence[str | os.PathLike[str]] | None = None,
) -> Path:
    """Return a ready ``.../corpora/wordnet`` folder, copying WordNet into the private cache if needed.

    The folder's NLTK data root is put on ``nltk.data.path`` so that NLTK's own readers accept it.
    Arguments as for :func:`find_wordnet`.

    Raises:
        WordNetNotFoundError: nothing found; the message lists the places searched and how to install.
    """
    folder = _ready_folder(nltk_dirs, database_dirs)
    _put_on_nltk_path(folder.parent.parent)
    return folder


# --------------------------------------------------------------------------------------------------
# NLTK's reader (once per process)

_LOCK = threading.Lock()
_READERS: dict[Path, Any] = {}


def load_wordnet(folder: str | os.PathLike[str] | None = None) -> Any:
    """NLTK's ``WordNetCorpusReader`` for ``folder`` (default: :func:`ensure_wordnet`), once per process."""
    root = Path(folder) if folder is not None else ensure_wordnet()
    with _LOCK:
        if root not in _READERS:
            from nltk.corpus.reader.wordnet import WordNetCorpusReader

            _put_on_nltk_path(root.parent.parent)
            with warnings.catch_warnings():  # "multilingual functions are not available": expected
                warnings.simplefilter("ignore", UserWarning)
                _READERS[root] = WordNetCorpusReader(str(root), None)
        return _READERS[root]


def wordnet_version(folder: str | os.PathLike[str]) -> str:
    """The WordNet version written in the header of ``data.adj`` (e.g. ``"3.0"``)."""
    with open(Path(folder) / "data.adj", encoding="utf-8", errors="replace") as fh:
        for i, line in enumerate(fh):
            m = re.search(r"WordNet (\d+(?:\.\d+)*) Copyright", line)
            if m:
                return m.group(1)
            if i > 200 or not line.startswith("  "):
                break
    return "unknown"
