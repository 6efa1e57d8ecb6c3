"""Find WordNet wherever a user has it, and build the synonym table once per WordNet version.

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
3. parses the database files directly into a synonym table (lemma -> synonyms by part of speech,
   antonyms excluded, dominant part of speech, morphological exception lists), stored as JSON in
   the private cache keyed by the WordNet version and file sizes. JSON, never pickle: a cache file
   cannot run code. The table loads in well under a second; building it takes a few seconds.

``python -m nlp_balance.augment.wordnet`` builds and checks both, and prints where they are.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
import tempfile
import threading
import time
import warnings
import zipfile
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from nlp_balance.utils.cache import DiskCache, cache_root, check_private_dir, private_dir

__all__ = [
    "INSTALL_HINT",
    "LEXNAMES",
    "SynonymTable",
    "WordNetLocation",
    "WordNetNotFoundError",
    "build_synonym_table",
    "ensure_wordnet",
    "find_wordnet",
    "load_synonym_table",
    "load_wordnet",
    "wordnet_cache_dir",
    "wordnet_version",
]

#: The 45 WordNet 3.0 lexicographer files as ``(number, name, pos code)``: the ``lexnames`` file that
#: NLTK reads and Debian's packages lack (pos codes: 1 noun, 2 verb, 3 adjective, 4 adverb).
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

_POS_FILES = ("noun", "verb", "adj", "adv")
_REQUIRED = tuple(f"{kind}.{p}" for kind in ("data", "index") for p in _POS_FILES)
_DEFAULT_DATABASE_DIRS = (
    "/usr/share/wordnet",
    "/usr/local/share/wordnet",
    "/usr/share/WordNet-3.0/dict",
    "/usr/local/WordNet-3.0/dict",
    "/opt/homebrew/share/wordnet",
    "/opt/local/share/WordNet-3.0/dict",
)
#: Bump when the table layout or the way it is derived changes (part of the on-disk key).
TABLE_FORMAT = 1
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
    return all((folder / name).is_file() for name in _REQUIRED)


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
                f"{', '.join(_REQUIRED)}. {INSTALL_HINT}"
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
    return {"origin": origin, "sizes": files, "format": TABLE_FORMAT}


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
            missing = [n for n in _REQUIRED if not (staging / n).is_file()]
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
# loading (once per process)

_LOCK = threading.Lock()
_READERS: dict[Path, Any] = {}
_TABLES: dict[Path, SynonymTable] = {}


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


# --------------------------------------------------------------------------------------------------
# the synonym table

_SS_POS = {"n": "n", "v": "v", "a": "a", "s": "a", "r": "r"}
_SENSE_POS = {"1": "n", "2": "v", "3": "a", "4": "r", "5": "a"}
_ADJ_MARKER = re.compile(r"\([a-z]+\)$")
_CLEAN_SYNONYM = re.compile(r"^[A-Za-z][A-Za-z' .-]*$")


def _parse_data_file(path: Path) -> dict[int, tuple[str, list[str], list[tuple[int, int, str, int]]]]:
    """offset -> (pos, lemma names, antonyms as ``(source word no, target offset, pos, target word no)``)."""
    out = {}
    with open(path, encoding="utf-8", errors="replace") as fh:
        for line in fh:
            if line.startswith("  "):
                continue  # license header
            fields = line.split(" | ", 1)[0].split()
            offset, ss_type = int(fields[0]), fields[2]
            w_cnt = int(fields[3], 16)
            words = [_ADJ_MARKER.sub("", fields[4 + 2 * k]) for k in range(w_cnt)]
            i = 4 + 2 * w_cnt
            p_cnt = int(fields[i])
            antonyms = []
            for k in range(p_cnt):
                sym, target, tpos, st = fields[i + 1 + 4 * k : i + 5 + 4 * k]
                if sym == "!":
                    antonyms.append((int(st[:2], 16), int(target), _SS_POS[tpos], int(st[2:], 16)))
            out[offset] = (_SS_POS[ss_type], words, antonyms)
    return out


def _parse_exceptions(path: Path) -> dict[str, list[str]]:
    table: dict[str, list[str]] = {}
    if path.is_file():
        with open(path, encoding="utf-8", errors="replace") as fh:
            for line in fh:
                parts = line.split()
                if len(parts) >= 2:
                    table[parts[0]] = parts[1:]
    return table


def _sense_counts(path: Path) -> dict[tuple[str, str], int]:
    """(lemma, pos) -> summed tag counts from ``index.sense`` (SemCor frequencies); empty if absent."""
    counts: dict[tuple[str, str], int] = defaultdict(int)
    if not path.is_file():
        return counts
    with open(path, encoding="utf-8", errors="replace") as fh:
        for line in fh:
            parts = line.split()
            if len(parts) < 4:
                continue
            lemma, rest = parts[0].split("%", 1)
            counts[(lemma.lower(), _SENSE_POS.get(rest[:1], "n"))] += int(parts[3])
    return counts


def build_synonym_table(folder: str | os.PathLike[str]) -> dict[str, Any]:
    """Parse a WordNet database folder into the JSON-able synonym table (see :class:`SynonymTable`).

    For each single-word lemma (lower case) and part of speech (``n v a r``; satellites count as
    ``a``): the other lemmas of every synset it belongs to, multi-word lemmas with spaces, minus the
    lemma itself and minus its antonyms. Proper nouns (lemmas WordNet capitalises) are left out on
    both sides.
    """
    root = Path(folder)
    synsets: dict[str, dict[int, tuple[str, list[str], list[tuple[int, int, str, int]]]]] = {}
    for name, p in zip(_POS_FILES, "nvar"):
        synsets[p] = _parse_data_file(root / f"data.{name}")
    syn: dict[str, dict[str, list[str]]] = {p: defaultdict(list) for p in "nvar"}
    antonyms: dict[tuple[str, str], set[str]] = defaultdict(set)
    n_synsets: dict[tuple[str, str], int] = defaultdict(int)
    for p, table in synsets.items():
        for words, ants in ((w, a) for _, w, a in table.values()):
            for src_no, target, tpos, tgt_no in ants:
                tgt_words = synsets[tpos].get(target, (None, [], []))[1]
                if 0 < src_no <= len(words) and 0 < tgt_no <= len(tgt_words):
                    antonyms[(words[src_no - 1].lower(), p)].add(tgt_words[tgt_no - 1].lower())
            for w in words:
                key = w.lower()
                n_synsets[(key, p)] += 1
                if "_" in key:
                    continue  # only single words are looked up in texts
                if w != key:
                    continue  # proper nouns ("Bush") are not augmented; "bush" is
                bucket = syn[p][key]
                for other in words:
                    o = other.replace("_", " ")
                    if o.lower() == key or o != o.lower() or not _CLEAN_SYNONYM.match(o):
                        continue
                    if o not in bucket:
                        bucket.append(o)
    counts = _sense_counts(root / "index.sense")
    out_syn: dict[str, dict[str, list[str]]] = {}
    for p in "nvar":
        clean = {}
        for key, values in syn[p].items():
            bad = antonyms.get((key, p), set())
            kept = [v for v in values if v.lower() not in bad and v.lower().replace(" ", "_") not in bad]
            if kept:
                clean[key] = kept
        out_syn[p] = clean
    # dominant part of speech for lemmas in several: most tagged occurrences, then most synsets
    by_lemma: dict[str, list[str]] = defaultdict(list)
    for key, p in n_synsets:
        if "_" not in key:
            by_lemma[key].append(p)
    order = "nvar"
    dominant = {}
    for key, poses in by_lemma.items():
        if len(poses) > 1:
            dominant[key] = max(
                poses, key=lambda q: (counts.get((key, q), 0), n_synsets[(key, q)], -order.index(q))
            )
    return {
        "format": TABLE_FORMAT,
        "wordnet_version": wordnet_version(root),
        "synonyms": out_syn,
        "dominant": dominant,
        "exceptions": {"n": _parse_exceptions(root / "noun.exc"), "v": _parse_exceptions(root / "verb.exc")},
    }


class SynonymTable:
    """The precomputed synonym table: plain dictionaries, fast to query.

    Attributes:
        synonyms: ``{pos: {lemma: [synonym, ...]}}`` with pos in ``n v a r``.
        dominant: ``{lemma: pos}`` for lemmas in several parts of speech (most frequent first).
        exceptions: ``{"n"|"v": {inflected form: [base, ...]}}`` from WordNet's ``*.exc`` files.
        version: the WordNet version the table was built from.
    """

    def __init__(self, data: dict[str, Any]) -> None:
        if data.get("format") != TABLE_FORMAT:
            raise ValueError(f"synonym table format {data.get('format')!r}, expected {TABLE_FORMAT}")
        self.version: str = data["wordnet_version"]
        self.synonyms: dict[str, dict[str, list[str]]] = data["synonyms"]
        self.dominant: dict[str, str] = data["dominant"]
        self.exceptions: dict[str, dict[str, list[str]]] = data["exceptions"]
        # base -> irregular inflected forms, for inflecting synonyms
        self.irregular: dict[str, dict[str, list[str]]] = {}
        for p, table in self.exceptions.items():
            rev: dict[str, list[str]] = defaultdict(list)
            for form, bases in table.items():
                for b in bases:
                    rev[b].append(form)
            self.irregular[p] = dict(rev)

    def __len__(self) -> int:
        return sum(len(t) for t in self.synonyms.values())

    def __repr__(self) -> str:
        return f"SynonymTable(wordnet {self.version}, {len(self)} lemma/pos entries)"

    def get(self, lemma: str, pos: str) -> list[str]:
        """Synonyms of an (uninflected, lower-case) ``lemma`` in part of speech ``pos``."""
        return self.synonyms[pos].get(lemma, [])


def _table_key(folder: Path) -> str:
    names = (*_REQUIRED, "noun.exc", "verb.exc", "index.sense")
    sizes = {n: (folder / n).stat().st_size for n in names if (folder / n).is_file()}
    key = {"format": TABLE_FORMAT, "version": wordnet_version(folder), "sizes": sizes}
    return json.dumps(key, sort_keys=True)


def load_synonym_table(
    folder: str | os.PathLike[str] | None = None, *, use_disk_cache: bool = True
) -> SynonymTable:
    """The synonym table for the WordNet in ``folder`` (default: :func:`ensure_wordnet`), once per process.

    Read from the private disk cache when present (keyed by WordNet version and file sizes), else built
    from the database files and written there atomically. If the cache directory is not private
    (owned by someone else, or writable by others) it is not used, with a warning.
    """
    root = Path(folder) if folder is not None else _ready_folder(None, None)
    with _LOCK:
        if root in _TABLES:
            return _TABLES[root]
        key = _table_key(root)
        data = None
        store = None
        if use_disk_cache:
            try:
                store = DiskCache("wordnet-synonyms")
            except (PermissionError, OSError) as exc:
                warnings.warn(f"not caching the WordNet synonym table on disk: {exc}", stacklevel=2)
            if store is not None:
                data = store.get(key)
        if data is None or data.get("format") != TABLE_FORMAT:
            data = build_synonym_table(root)
            if store is not None:
                store.set(key, data)
        table = SynonymTable(data)
        _TABLES[root] = table
        return table


# --------------------------------------------------------------------------------------------------
# command line


def main(argv: Iterable[str] | None = None) -> int:
    """Build/verify the WordNet copy and the synonym table; print where they are."""
    del argv
    t0 = time.perf_counter()
    try:
        folder = ensure_wordnet()
    except WordNetNotFoundError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    table = load_synonym_table(folder)
    reader = load_wordnet(folder)
    check = [s.name() for s in reader.synsets("dog")][:1]
    print(f"WordNet {table.version}: {folder}")
    print(f"NLTK data root (on nltk.data.path): {folder.parent.parent}")
    print(f"synonym table: {len(table)} entries, cached under {cache_root() / 'wordnet-synonyms'}")
    print(f"check: synsets('dog') -> {check}; {time.perf_counter() - t0:.1f} s")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
