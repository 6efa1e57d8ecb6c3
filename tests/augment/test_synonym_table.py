"""The synonym table against NLTK's own reader, and its JSON cache on disk."""

from __future__ import annotations

import json
import re
import stat
from pathlib import Path

import pytest
from wordnet_fixtures import DEBIAN, isolate, needs_debian, private_debian_copy

from nlp_balance.augment import synonym_table
from nlp_balance.augment.synonym_table import TABLE_FORMAT, SynonymTable, build_synonym_table, load_synonym_table
from nlp_balance.augment.wordnet_database import ensure_wordnet, load_wordnet


@pytest.fixture(scope="module")
def reader_and_table(tmp_path_factory: pytest.TempPathFactory):
    """NLTK's reader and our table, both on a fresh private copy of the Debian folder (loaded once)."""
    with private_debian_copy(tmp_path_factory.mktemp("wncache")) as folder:
        yield load_wordnet(folder), load_synonym_table(folder)


WORDS = ["film", "good", "run", "car", "happy", "quickly", "bad", "big", "house", "cold", "love", "dog",
         "strong", "walk", "old", "light", "fast", "small", "hot", "open"]


@needs_debian
@pytest.mark.parametrize("word", WORDS)
def test_table_matches_nltk_reader(reader_and_table, word: str) -> None:
    """Independent reference: synonyms computed from NLTK's reader, minus antonyms and proper nouns."""
    wn, table = reader_and_table
    for pos in "nvar":
        expected: set[str] = set()
        antonyms: set[str] = set()
        for ss in wn.synsets(word):
            ss_pos = "a" if ss.pos() == "s" else ss.pos()
            if ss_pos != pos or word not in [name.lower() for name in ss.lemma_names()]:
                continue
            for lemma in ss.lemmas():
                if lemma.name().lower() == word:
                    antonyms.update(a.name().lower() for a in lemma.antonyms())
            expected.update(name.replace("_", " ") for name in ss.lemma_names())
        expected = {
            e for e in expected
            if e.lower() != word and e == e.lower() and re.fullmatch(r"[a-z][a-z' .-]*", e)
            and e.replace(" ", "_") not in antonyms and e not in antonyms
        }
        assert set(table.get(word, pos)) == expected, (word, pos)


@needs_debian
def test_antonyms_and_the_word_itself_are_never_synonyms(reader_and_table) -> None:
    wn, table = reader_and_table
    checked = 0
    for ss in list(wn.all_synsets("a"))[:3000]:
        for lemma in ss.lemmas():
            word = lemma.name().lower()
            for ant in lemma.antonyms():
                assert ant.name().lower().replace("_", " ") not in table.get(word, "a")
                checked += 1
            assert word.replace("_", " ") not in table.get(word, "a")
    assert checked > 100


@needs_debian
def test_dominant_pos_prefers_the_most_frequent(reader_and_table) -> None:
    wn, table = reader_and_table
    assert table.dominant["film"] == "n"  # 5 noun senses vs 2 verb senses
    assert table.dominant["run"] == "v"  # 41 verb senses vs 16 noun senses
    for word in ("film", "run", "walk", "love", "cold"):  # independently: tagged counts, then synset counts

        def score(pos: str, word: str = word) -> tuple[int, int]:
            lemmas = [lem for ss in wn.synsets(word) if ("a" if ss.pos() == "s" else ss.pos()) == pos
                      for lem in ss.lemmas() if lem.name().lower() == word]
            return sum(lem.count() for lem in lemmas), len(lemmas)

        poses = [p for p in "nvar" if score(p)[1] > 0]
        assert table.dominant[word] == max(poses, key=lambda p: (score(p), -"nvar".index(p)))


@needs_debian
def test_exception_lists_and_their_reverse(reader_and_table) -> None:
    _, table = reader_and_table
    assert "goose" in table.exceptions["n"]["geese"] and "take" in table.exceptions["v"]["took"]
    assert "geese" in table.irregular["n"]["goose"] and "took" in table.irregular["v"]["take"]


@needs_debian
@pytest.mark.slow  # about 8 s here (builds the table twice): in CI's slow phase
def test_table_is_cached_on_disk_as_json(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cache = isolate(monkeypatch, tmp_path / "cache")
    folder = ensure_wordnet(nltk_dirs=[], database_dirs=[DEBIAN])
    monkeypatch.setattr(synonym_table, "_TABLES", {})
    table = load_synonym_table(folder)
    assert load_synonym_table(folder) is table  # once per process
    entries = list((cache / "wordnet-synonyms").rglob("*.json"))
    assert len(entries) == 1 and stat.S_IMODE(entries[0].stat().st_mode) & 0o077 == 0
    stored = json.loads(entries[0].read_text("utf-8"))
    assert stored["value"]["wordnet_version"] == "3.0" and '"version": "3.0"' in stored["key"]
    assert stored["value"]["synonyms"]["n"]["film"] == table.get("film", "n")
    # a new process reads the disk copy instead of rebuilding: a marked entry comes back
    stored["value"]["synonyms"]["n"]["film"] = ["marker"]
    entries[0].write_text(json.dumps(stored), encoding="utf-8")
    monkeypatch.setattr(synonym_table, "_TABLES", {})
    assert load_synonym_table(folder).get("film", "n") == ["marker"]
    monkeypatch.setattr(synonym_table, "_TABLES", {})
    assert load_synonym_table(folder, use_disk_cache=False).get("film", "n") == table.get("film", "n")


def _tiny_database(folder: Path) -> Path:
    """A two-synset WordNet: "happy"/"glad" (adjective) with the antonym "sad", and a proper noun."""
    folder.mkdir()
    header = "  1 This software and database is being provided ... WordNet 3.0 Copyright 2006 by Princeton.\n"
    adj = (header
           + "00000100 00 a 02 happy 0 glad 0 001 ! 00000200 a 0101 | feeling joy\n"
           + "00000200 00 a 01 sad 0 001 ! 00000100 a 0101 | feeling sorrow\n")
    noun = header + "00000300 03 n 02 Paris 0 city_of_light 0 000 | a capital\n"
    files = {"data.adj": adj, "data.noun": noun, "data.verb": header, "data.adv": header,
             "noun.exc": "", "verb.exc": "went go\n"}
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def test_build_from_a_tiny_database(tmp_path: Path) -> None:
    """Synset members are synonyms, the antonym and the lemma itself are not, proper nouns are skipped."""
    data = build_synonym_table(_tiny_database(tmp_path / "wn"))
    assert data["format"] == TABLE_FORMAT and data["wordnet_version"] == "3.0"
    table = SynonymTable(json.loads(json.dumps(data)))  # survives the JSON round trip of the disk cache
    assert table.get("happy", "a") == ["glad"] and table.get("glad", "a") == ["happy"]
    assert table.get("sad", "a") == [] and "paris" not in table.synonyms["n"]
    assert table.exceptions["v"] == {"went": ["go"]} and table.irregular["v"] == {"go": ["went"]}
    assert len(table) == 2 and "wordnet 3.0" in repr(table)


def test_a_table_of_another_format_is_refused() -> None:
    with pytest.raises(ValueError, match=f"expected {TABLE_FORMAT}"):
        SynonymTable({"format": TABLE_FORMAT + 1})
