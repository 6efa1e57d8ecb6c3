"""Word -> synonym candidates, already inflected to fit the word, memoised per process."""

from __future__ import annotations

from .inflection import inflect, word_analyses
from .synonym_table import SynonymTable, load_synonym_table

__all__ = ["SynonymLookup", "shared_lookup"]


class SynonymLookup:
    """Memoised word -> candidate replacements (already inflected), for one table and POS setting."""

    _MAX_MEMO = 500_000

    def __init__(self, table: SynonymTable, pos_filter: bool = False) -> None:
        self.table = table
        self.pos_filter = pos_filter
        self._memo: dict[str, tuple[str, ...]] = {}

    def __call__(self, word: str) -> tuple[str, ...]:
        """Candidates for a lower-case ``word`` (empty when it has none)."""
        found = self._memo.get(word)
        if found is None:
            if len(self._memo) >= self._MAX_MEMO:
                self._memo.clear()
            found = self._memo[word] = self._compute(word)
        return found

    def _compute(self, word: str) -> tuple[str, ...]:
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


_LOOKUPS: dict[tuple[int, bool], SynonymLookup] = {}


def shared_lookup(pos_filter: bool) -> SynonymLookup:
    """The process-wide lookup over the default WordNet table (one per ``pos_filter`` setting)."""
    table = load_synonym_table()
    key = (id(table), pos_filter)
    if key not in _LOOKUPS:
        _LOOKUPS[key] = SynonymLookup(table, pos_filter)
    return _LOOKUPS[key]
