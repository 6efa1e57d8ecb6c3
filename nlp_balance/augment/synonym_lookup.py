"""Word -> synonym candidates, already inflected to fit the word: a precomputed surface-form table.

Reading a word as base + inflection and inflecting each synonym to match (:mod:`.inflection`) costs
tens of microseconds per word. :func:`surface_forms` does it once for every form that can have a
candidate (each lemma, each form in WordNet's exception lists, each regular inflection of a noun or
verb lemma) and keeps the result as ``{form: "cand1|cand2|..."}``, cached on disk next to the
synonym table and loaded once per process. Any other string has no candidate, so a first look-up
is one dictionary read. :meth:`SynonymLookup.compute` is the rule the table is built from.
"""

from __future__ import annotations

import json
import threading
import warnings

from nlp_balance.utils.cache import DiskCache

from .inflection import NOUN_RULES, VERB_RULES, inflect, word_analyses
from .synonym_table import SynonymTable, load_synonym_table

__all__ = ["SURFACE_FORMAT", "SynonymLookup", "build_surface_forms", "shared_lookup", "surface_forms"]

#: Bump when the surface table's layout or the rule it is built from changes (part of its disk key).
SURFACE_FORMAT = 1
#: Separator of the candidates in a surface-table value (no WordNet synonym contains it).
SEPARATOR = "|"


class SynonymLookup:
    """Memoised word -> candidate replacements (already inflected), for one table and POS setting.

    With ``surface`` (from :func:`surface_forms`) a look-up reads that table; without it, each new
    word is analysed with :meth:`compute`. Both give the same candidates.
    """

    _MAX_MEMO = 500_000

    def __init__(self, table: SynonymTable, pos_filter: bool = False, surface: dict[str, str] | None = None) -> None:
        self.table = table
        self.pos_filter = pos_filter
        self.surface = surface
        self._memo: dict[str, tuple[str, ...]] = {}

    def __call__(self, word: str) -> tuple[str, ...]:
        """Candidates for a lower-case ``word`` (empty when it has none)."""
        found = self._memo.get(word)
        if found is None:
            if len(self._memo) >= self._MAX_MEMO:
                self._memo.clear()
            if self.surface is None:
                found = self.compute(word)
            else:
                packed = self.surface.get(word)
                found = tuple(packed.split(SEPARATOR)) if packed else ()
            self._memo[word] = found
        return found

    def compute(self, word: str) -> tuple[str, ...]:
        """The candidates of ``word`` from the rules: every reading as a lemma or an inflected noun or
        verb, each synonym inflected the same way, duplicates and the word itself left out."""
        table = self.table
        readings: list[tuple[str, str, str | None]] = []
        for pos in "nvar":
            if word in table.synonyms[pos]:
                readings.append((pos, word, None))
            elif pos in "nv":
                readings.extend((pos, base, infl) for base, infl in word_analyses(word, pos, table))
        if self.pos_filter:
            readings = [r for r in readings if table.dominant.get(r[1], r[0]) == r[0]]
        out: list[str] = []
        seen = {word}
        for pos, base, infl in readings:
            for syn in table.synonyms[pos][base]:
                form = inflect(syn, pos, infl, table)
                if form is not None and form not in seen:
                    seen.add(form)
                    out.append(form)
        return tuple(out)


def candidate_forms(table: SynonymTable) -> set[str]:
    """Every string that can have a candidate: a reading needs a lemma, an exception-list form, or a
    suffix rule whose base is a lemma, so each is generated here from the lemmas and the lists."""
    forms: set[str] = set()
    for pos in "nvar":
        forms.update(table.synonyms[pos])
    for pos in "nv":
        forms.update(table.exceptions.get(pos, {}))
    for pos, rules in (("n", NOUN_RULES), ("v", VERB_RULES)):
        for rule in rules:
            suffix, repl = rule[0], rule[1]
            for base in table.synonyms[pos]:
                if base.endswith(repl):
                    forms.add(base[: len(base) - len(repl)] + suffix)
    return forms


def build_surface_forms(table: SynonymTable, pos_filter: bool = False) -> dict[str, str]:
    """``{form: "cand1|cand2|..."}`` for every form of :func:`candidate_forms` that has candidates."""
    lookup = SynonymLookup(table, pos_filter)
    out: dict[str, str] = {}
    for form in sorted(candidate_forms(table)):
        found = lookup.compute(form)
        if found:
            if any(SEPARATOR in c for c in found):
                raise ValueError(f"a synonym of {form!r} contains {SEPARATOR!r}: {found}")
            out[form] = SEPARATOR.join(found)
    return out


_LOCK = threading.Lock()
_SURFACES: dict[tuple[int, bool], dict[str, str]] = {}


def surface_forms(table: SynonymTable, pos_filter: bool = False) -> dict[str, str]:
    """The surface table of ``table``, once per process: from the disk cache when the table came from
    :func:`load_synonym_table` (keyed like it), else built (a few seconds) and cached there."""
    key = (id(table), pos_filter)
    with _LOCK:
        if key in _SURFACES:
            return _SURFACES[key]
        disk_key = None if table.cache_key is None else json.dumps(
            {"surface": SURFACE_FORMAT, "table": table.cache_key, "pos_filter": pos_filter}, sort_keys=True)
        store = None
        data = None
        if disk_key is not None:
            try:
                store = DiskCache("wordnet-synonyms")
            except (PermissionError, OSError) as exc:
                warnings.warn(f"not caching the synonym surface table on disk: {exc}", stacklevel=2)
            if store is not None:
                data = store.get(disk_key)
        if not isinstance(data, dict):
            data = build_surface_forms(table, pos_filter)
            if store is not None and disk_key is not None:
                store.set(disk_key, data)
        _SURFACES[key] = data
        return data


_LOOKUPS: dict[tuple[int, bool], SynonymLookup] = {}


def shared_lookup(pos_filter: bool) -> SynonymLookup:
    """The process-wide lookup over the default WordNet table and its surface table (one per ``pos_filter``)."""
    table = load_synonym_table()
    key = (id(table), pos_filter)
    if key not in _LOOKUPS:
        _LOOKUPS[key] = SynonymLookup(table, pos_filter, surface_forms(table, pos_filter))
    return _LOOKUPS[key]
