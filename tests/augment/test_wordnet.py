"""Finding WordNet, copying it into a private cache, and the synonym table against NLTK's own reader."""

from __future__ import annotations

import gzip
import json
import re
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from nlp_balance.augment import wordnet as wnmod
from nlp_balance.augment.wordnet import (
    LEXNAMES,
    WordNetNotFoundError,
    ensure_wordnet,
    find_wordnet,
    load_synonym_table,
    load_wordnet,
)

DEBIAN = Path("/usr/share/wordnet")
needs_debian = pytest.mark.skipif(
    not (DEBIAN / "data.noun").is_file(), reason="Debian wordnet-base is not installed"
)
MAN_PAGE = Path("/usr/share/man/man5/lexnames.5WN.gz")
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """An empty private cache and no WordNet hints in the environment; nltk.data.path restored after."""
    import nltk

    monkeypatch.setenv("NLP_BALANCE_CACHE", str(tmp_path / "cache"))
    for var in ("NLP_BALANCE_WORDNET", "NLTK_DATA", "WNSEARCHDIR", "WNHOME"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setattr(nltk.data, "path", list(nltk.data.path))
    return tmp_path / "cache"


@needs_debian
def test_copies_debian_folder_into_private_cache(clean_env: Path) -> None:
    loc = find_wordnet(nltk_dirs=[], database_dirs=[DEBIAN])
    assert loc is not None and loc.kind == "database" and loc.path == DEBIAN
    folder = ensure_wordnet(nltk_dirs=[], database_dirs=[DEBIAN])
    assert folder == clean_env / "nltk_data" / "corpora" / "wordnet"
    for name in ("data.noun", "index.verb", "noun.exc", "index.sense"):
        copied = folder / name
        assert not copied.is_symlink() and copied.stat().st_nlink == 1  # a real copy: NLTK refuses links
        assert copied.read_bytes() == (DEBIAN / name).read_bytes()
    for d in (clean_env, clean_env / "nltk_data", folder.parent, folder):
        assert stat.S_IMODE(d.stat().st_mode) == 0o700, d
    import nltk

    assert str(clean_env / "nltk_data") in nltk.data.path
    # a second call finds the copy (kind "cache") and does not copy again
    again = find_wordnet(nltk_dirs=[], database_dirs=[DEBIAN])
    assert again is not None and again.kind == "cache" and again.path == folder
    assert not any(p.name.startswith(".wordnet-") for p in folder.parent.iterdir())  # no staging left


@pytest.fixture(scope="module")
def reader_and_table(tmp_path_factory: pytest.TempPathFactory):
    """NLTK's reader and our table, both on a fresh private copy of the Debian folder (loaded once)."""
    import nltk

    if not (DEBIAN / "data.noun").is_file():
        pytest.skip("Debian wordnet-base is not installed")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("NLP_BALANCE_CACHE", str(tmp_path_factory.mktemp("wncache")))
        mp.setattr(nltk.data, "path", list(nltk.data.path))
        folder = ensure_wordnet(nltk_dirs=[], database_dirs=[DEBIAN])
        yield load_wordnet(folder), load_synonym_table(folder)


@needs_debian
def test_nltk_reader_loads_from_the_copy(reader_and_table) -> None:
    wn, _ = reader_and_table
    folder = Path(wn.root.path)
    assert folder.name == "wordnet" and folder.parent.name == "corpora"
    assert wn.get_version() == "3.0"
    assert wn.morphy("films") == "film" and wn.synsets("geese")[0].name() == "goose.n.01"
    assert wn.synset("dog.n.01").lexname() == "noun.animal"
    assert load_wordnet(folder) is wn  # once per process


def test_lexnames_table() -> None:
    assert len(LEXNAMES) == 45
    assert LEXNAMES[0] == (0, "adj.all", 3) and LEXNAMES[3] == (3, "noun.Tops", 1)
    assert LEXNAMES[29] == (29, "verb.body", 2) and LEXNAMES[44] == (44, "adj.ppl", 3)
    if MAN_PAGE.is_file():  # independent reference: the numbered rows of WordNet's man page
        rows = []
        with gzip.open(MAN_PAGE, "rt") as fh:
            for line in fh:
                m = re.match(r"^(\d\d)\t(\w+\.\w+)\s", line)
                if m:
                    rows.append((int(m[1]), m[2]))
        assert rows == [(n, name) for n, name, _ in LEXNAMES]


def test_missing_wordnet_error_says_how_to_install(clean_env: Path, tmp_path: Path) -> None:
    empty = tmp_path / "nothing"
    empty.mkdir()
    assert find_wordnet(nltk_dirs=[empty], database_dirs=[empty]) is None
    with pytest.raises(WordNetNotFoundError) as info:
        ensure_wordnet(nltk_dirs=[empty], database_dirs=[empty])
    msg = str(info.value)
    assert "apt-get install wordnet-base wordnet-sense-index" in msg
    assert "nltk.download('wordnet')" in msg and str(empty) in msg
    assert isinstance(info.value, LookupError)


def test_env_override_must_be_a_database(clean_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NLP_BALANCE_WORDNET", str(tmp_path))
    with pytest.raises(WordNetNotFoundError, match="NLP_BALANCE_WORDNET"):
        find_wordnet(nltk_dirs=[], database_dirs=[])
    if (DEBIAN / "data.noun").is_file():
        monkeypatch.setenv("NLP_BALANCE_WORDNET", str(DEBIAN))
        loc = find_wordnet(nltk_dirs=[], database_dirs=[])
        assert loc is not None and loc.path == DEBIAN


@needs_debian
def test_existing_nltk_data_is_used_in_place(clean_env: Path, tmp_path: Path) -> None:
    folder = ensure_wordnet(nltk_dirs=[], database_dirs=[DEBIAN])
    loc = find_wordnet(nltk_dirs=[folder.parent.parent], database_dirs=[])
    assert loc is not None and loc.kind == "nltk" and loc.path == folder


@needs_debian
def test_refuses_a_cache_others_can_write(clean_env: Path) -> None:
    folder = ensure_wordnet(nltk_dirs=[], database_dirs=[DEBIAN])
    folder.chmod(0o777)
    try:
        with pytest.raises(PermissionError, match="writable by other users"):
            ensure_wordnet(nltk_dirs=[], database_dirs=[DEBIAN])
    finally:
        folder.chmod(0o700)


@needs_debian
@pytest.mark.slow  # a fresh process loads NLTK's reader: ~15 s idle, over 30 s on a busy 2-core machine
def test_command_line_builds_and_reports(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "NLP_BALANCE_CACHE": str(tmp_path / "c"),
           "PYTHONPATH": str(REPO)}
    proc = subprocess.run([sys.executable, "-m", "nlp_balance.augment.wordnet"], env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "WordNet 3.0" in proc.stdout and str(tmp_path / "c" / "nltk_data") in proc.stdout
    assert (tmp_path / "c" / "wordnet-synonyms").is_dir()
    bad = subprocess.run([sys.executable, "-m", "nlp_balance.augment.wordnet"],
                         env={**env, "NLP_BALANCE_WORDNET": str(tmp_path / "missing")},
                         capture_output=True, text=True, timeout=300)
    assert bad.returncode == 1 and "wordnet-base" in bad.stderr


# --- the synonym table ------------------------------------------------------------------------------------


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
def test_table_is_cached_on_disk_as_json(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = ensure_wordnet(nltk_dirs=[], database_dirs=[DEBIAN])
    monkeypatch.setattr(wnmod, "_TABLES", {})
    table = load_synonym_table(folder)
    assert load_synonym_table(folder) is table  # once per process
    entries = list((clean_env / "wordnet-synonyms").rglob("*.json"))
    assert len(entries) == 1 and stat.S_IMODE(entries[0].stat().st_mode) & 0o077 == 0
    stored = json.loads(entries[0].read_text("utf-8"))
    assert stored["value"]["wordnet_version"] == "3.0" and '"version": "3.0"' in stored["key"]
    assert stored["value"]["synonyms"]["n"]["film"] == table.get("film", "n")
    # a new process reads the disk copy instead of rebuilding: a marked entry comes back
    stored["value"]["synonyms"]["n"]["film"] = ["marker"]
    entries[0].write_text(json.dumps(stored), encoding="utf-8")
    monkeypatch.setattr(wnmod, "_TABLES", {})
    assert load_synonym_table(folder).get("film", "n") == ["marker"]
    monkeypatch.setattr(wnmod, "_TABLES", {})
    assert load_synonym_table(folder, use_disk_cache=False).get("film", "n") == table.get("film", "n")
