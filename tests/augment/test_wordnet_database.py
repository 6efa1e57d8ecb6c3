"""Finding WordNet, copying it into a private cache, and opening NLTK's reader on the copy."""

from __future__ import annotations

import gzip
import json
import re
import stat
import zipfile
from pathlib import Path

import pytest
from wordnet_fixtures import DEBIAN, isolate, needs_debian, private_debian_copy

from nlp_balance.augment.wordnet_database import (
    DATABASE_FILES,
    LEXNAMES,
    WordNetNotFoundError,
    ensure_wordnet,
    find_wordnet,
    load_wordnet,
    wordnet_version,
)

MAN_PAGE = Path("/usr/share/man/man5/lexnames.5WN.gz")


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """An empty private cache and no WordNet hints in the environment; nltk.data.path restored after."""
    return isolate(monkeypatch, tmp_path / "cache")


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
def reader(tmp_path_factory: pytest.TempPathFactory):
    """NLTK's reader on a fresh private copy of the Debian folder (loaded once for this module)."""
    with private_debian_copy(tmp_path_factory.mktemp("wncache")) as folder:
        yield load_wordnet(folder)


@needs_debian
def test_nltk_reader_loads_from_the_copy(reader) -> None:
    wn = reader
    folder = Path(wn.root.path)
    assert folder.name == "wordnet" and folder.parent.name == "corpora"
    assert wn.get_version() == "3.0" and wordnet_version(folder) == "3.0"
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


def test_zipped_nltk_data_is_unpacked_with_lexnames_and_a_warning(clean_env: Path, tmp_path: Path) -> None:
    """An NLTK ``wordnet.zip`` without lexnames or index.sense: both are written, the user is told."""
    nltk_data = tmp_path / "nltk_data"
    (nltk_data / "corpora").mkdir(parents=True)
    with zipfile.ZipFile(nltk_data / "corpora" / "wordnet.zip", "w") as zf:
        for name in DATABASE_FILES:
            zf.writestr(f"wordnet/{name}", f"contents of {name}\n")
    loc = find_wordnet(nltk_dirs=[nltk_data], database_dirs=[])
    assert loc is not None and loc.kind == "nltk-zip"
    with pytest.warns(UserWarning, match="no index.sense"):
        folder = ensure_wordnet(nltk_dirs=[nltk_data], database_dirs=[])
    assert folder == clean_env / "nltk_data" / "corpora" / "wordnet"
    assert (folder / "data.noun").read_text() == "contents of data.noun\n"
    assert (folder / "index.sense").read_bytes() == b""
    rows = (folder / "lexnames").read_text("ascii").splitlines()
    assert len(rows) == 45 and rows[3] == "03\tnoun.Tops\t1"
    stamp = json.loads((folder / ".nlp_balance-source.json").read_text("utf-8"))
    assert stamp["origin"] == str(nltk_data / "corpora" / "wordnet.zip")
    assert stamp["sizes"]["index.noun"] == len("contents of index.noun\n")


def test_a_database_missing_files_is_refused_and_leaves_nothing(clean_env: Path, tmp_path: Path) -> None:
    """A zip that lacks data files fails naming them; no staging folder or half copy remains."""
    nltk_data = tmp_path / "nltk_data"
    (nltk_data / "corpora").mkdir(parents=True)
    with zipfile.ZipFile(nltk_data / "corpora" / "wordnet.zip", "w") as zf:
        zf.writestr("wordnet/data.noun", "x\n")
    with pytest.raises(WordNetNotFoundError, match=r"lacks WordNet files .*index\.noun"):
        ensure_wordnet(nltk_dirs=[nltk_data], database_dirs=[])
    corpora = clean_env / "nltk_data" / "corpora"
    assert list(corpora.iterdir()) == []
