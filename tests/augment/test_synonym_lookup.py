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
