"""Word -> inflected synonym candidates: irregular forms, the POS filter, and the memo."""

from __future__ import annotations

import pytest

from nlp_balance.augment.synonym_lookup import SynonymLookup, shared_lookup
from nlp_balance.augment.synonym_table import load_synonym_table


@pytest.fixture(scope="module")
def table():
    return load_synonym_table()


def test_irregular_and_ambiguous_verb_forms() -> None:
    lookup = shared_lookup(False)
    # "saw" as a past tense: synonyms of "see" whose past tense is ambiguous (seen/saw) are skipped
    assert "sawed" not in lookup("saw") and "seed" not in lookup("saw")
    assert "understood" in lookup("saw")  # understand -> understood (one past form)
    for cand in lookup("walked"):
        assert not cand.startswith("take the air")  # took/taken: which one is unknown


def test_pos_filter_uses_only_the_dominant_part_of_speech(table) -> None:
    assert table.dominant["film"] == "n"
    filtered = set(shared_lookup(True)("film"))
    assert filtered == set(table.get("film", "n"))
    assert "shoot" in shared_lookup(False)("film") and "shoot" not in filtered


def test_candidates_are_inflected_and_never_the_word_itself(table) -> None:
    lookup = SynonymLookup(table)
    films = lookup("films")
    assert "movies" in films and "films" not in films
    assert all(c != "film" for c in films)
    assert lookup("xqzt") == () and lookup("films") is films  # memoised


def test_shared_lookup_is_one_per_setting() -> None:
    assert shared_lookup(False) is shared_lookup(False)
    assert shared_lookup(True) is not shared_lookup(False)
    assert shared_lookup(True).pos_filter and not shared_lookup(False).pos_filter


def test_the_surface_table_holds_exactly_what_compute_gives(table) -> None:
    """Every form the table could hold, and strings it does not hold (corpus words, near misses),
    read from the surface table as compute() derives them."""
    import json

    from conftest import BENCH_DATA

    from nlp_balance.augment.synonym_lookup import candidate_forms, surface_forms

    for pos_filter in (False, True):
        surface = surface_forms(table, pos_filter)
        rules = SynonymLookup(table, pos_filter)
        reader = SynonymLookup(table, pos_filter, surface)
        forms = sorted(candidate_forms(table))
        assert len(surface) > 100_000 * (0.9 if pos_filter else 1) and set(surface) <= set(forms)
        for form in forms[:: 7 if pos_filter else 1]:
            assert reader(form) == rules.compute(form), form
        with open(BENCH_DATA / "davidson_hate" / "train.jsonl", encoding="utf-8") as fh:
            words = {w.lower() for line in fh for w in json.loads(line)["text"].split()}
        others = [w for w in words if w not in surface] + ["filmss", "runned", "xqzt", "", "a|b", "goes", "went"]
        assert len(others) > 10_000
        for word in others:
            assert reader(word) == rules.compute(word), word


def test_the_surface_table_is_cached_on_disk_once(table, monkeypatch, tmp_path) -> None:
    from nlp_balance.augment import synonym_lookup
    from nlp_balance.augment.synonym_table import SynonymTable

    monkeypatch.setenv("NLP_BALANCE_CACHE", str(tmp_path))
    monkeypatch.setattr(synonym_lookup, "_SURFACES", {})
    built = []
    original = synonym_lookup.build_surface_forms
    monkeypatch.setattr(synonym_lookup, "build_surface_forms", lambda t, p=False: built.append(p) or original(t, p))
    first = synonym_lookup.surface_forms(table)
    assert built == [False] and synonym_lookup.surface_forms(table) is first  # once per process
    monkeypatch.setattr(synonym_lookup, "_SURFACES", {})
    assert synonym_lookup.surface_forms(table) == first and built == [False]  # then from the disk cache
    in_memory = SynonymTable({"format": 1, "wordnet_version": "x", "synonyms": {"n": {"film": ["movie"]}, "v": {},
                                                                                 "a": {}, "r": {}},
                              "dominant": {}, "exceptions": {"n": {}, "v": {}}})
    assert in_memory.cache_key is None
    assert synonym_lookup.surface_forms(in_memory) == {"film": "movie", "films": "movies"}
    assert len(list(tmp_path.rglob("*.json"))) == 1  # a table built in memory is not cached on disk
