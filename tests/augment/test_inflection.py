"""Reading a word as base + inflection, and inflecting a synonym to match, against the real WordNet table."""

from __future__ import annotations

import pytest

from nlp_balance.augment.inflection import inflect, word_analyses
from nlp_balance.augment.synonym_table import load_synonym_table


@pytest.fixture(scope="module")
def table():
    return load_synonym_table()


def test_inflect_rules(table) -> None:
    assert inflect("motion picture", "n", "pl", table) == "motion pictures"
    assert inflect("goose", "n", "pl", table) == "geese"
    assert inflect("baby", "n", "pl", table) == "babies"
    assert inflect("take off", "v", "3sg", table) == "takes off"
    assert inflect("make", "v", "ed", table) == "made"
    assert inflect("see", "v", "ed", table) is None
    assert inflect("hope", "v", "ing", table) == "hoping"
    assert inflect("cut", "v", "ed", table) == "cut"
    assert inflect("try", "v", "ed", table) == "tried"
    assert inflect("quick", "a", None, table) == "quick"


@pytest.mark.parametrize(
    ("word", "pos", "base", "inflection", "back"),
    [("films", "n", "film", "pl", "films"), ("geese", "n", "goose", "pl", "geese"),
     ("babies", "n", "baby", "pl", "babies"), ("says", "v", "say", "3sg", "says"),
     ("hoping", "v", "hope", "ing", "hoping"), ("walked", "v", "walk", "ed", "walked"),
     ("film", "n", "film", None, "film"),
     ("took", "v", "take", "ed", None)],  # took/taken: inflecting "take" as a past is unsafe
)
def test_word_analyses_find_the_base_and_inflect_undoes_it(
    table, word: str, pos: str, base: str, inflection: str | None, back: str | None
) -> None:
    assert (base, inflection) in word_analyses(word, pos, table)
    assert inflect(base, pos, inflection, table) == back


def test_word_analyses_leave_unknown_and_ss_words_alone(table) -> None:
    assert word_analyses("xqzts", "n", table) == []
    assert ("clas", "pl") not in word_analyses("class", "n", table)  # "-ss" is not a plural
