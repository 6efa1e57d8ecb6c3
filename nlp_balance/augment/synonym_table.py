"""The synonym table: WordNet's database files parsed into plain dictionaries, cached on disk as JSON.

For every single-word lemma and part of speech the table holds its synonyms (antonyms excluded),
which part of speech dominates for lemmas in several, and WordNet's morphological exception
lists. It is stored in the private cache (see :class:`~nlp_balance.utils.cache.DiskCache`) keyed by
the WordNet version and file sizes. JSON, never pickle: a cache file cannot run code. The table
loads in well under a second; building it takes a few seconds.
"""

from __future__ import annotations

import json
import os
import re
import threading
import warnings
from collections import defaultdict
from pathlib import Path
from typing import Any

from nlp_balance.utils.cache import DiskCache

from .wordnet_database import DATABASE_FILES, _ready_folder, wordnet_version

__all__ = ["TABLE_FORMAT", "SynonymTable", "build_synonym_table", "load_synonym_table"]

#: Bump when the table layout or the way it is derived changes (part of the on-disk key).
TABLE_FORMAT = 1
#: WordNet's data files by part-of-speech code (``n v a r``), in the order they are parsed.
_DATA_FILES = (("n", "data.noun"), ("v", "data.verb"), ("a", "data.adj"), ("r", "data.adv"))

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
    for p, name in _DATA_FILES:
        synsets[p] = _parse_data_file(root / name)
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
        cache_key: the disk-cache key it was loaded under (``None`` for a table built in memory);
            tables derived from it (the surface forms) are cached under it too.
    """

    def __init__(self, data: dict[str, Any], cache_key: str | None = None) -> None:
        if data.get("format") != TABLE_FORMAT:
            raise ValueError(f"synonym table format {data.get('format')!r}, expected {TABLE_FORMAT}")
        self.version: str = data["wordnet_version"]
        self.cache_key = cache_key
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
    names = (*DATABASE_FILES, "noun.exc", "verb.exc", "index.sense")
    sizes = {n: (folder / n).stat().st_size for n in names if (folder / n).is_file()}
    key = {"format": TABLE_FORMAT, "version": wordnet_version(folder), "sizes": sizes}
    return json.dumps(key, sort_keys=True)


_LOCK = threading.Lock()
_TABLES: dict[Path, SynonymTable] = {}


def load_synonym_table(
    folder: str | os.PathLike[str] | None = None, *, use_disk_cache: bool = True
) -> SynonymTable:
    """The synonym table of the WordNet in ``folder`` (default: the one ``ensure_wordnet`` finds), once per process.

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
        table = SynonymTable(data, cache_key=key)
        _TABLES[root] = table
        return table
