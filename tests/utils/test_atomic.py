"""Atomic outputs: an interrupted write leaves the previous file or folder (or none), never a mix."""

from __future__ import annotations

import json
import os

import pytest

from nlp_balance.utils.atomic import (
    TMP_PREFIX,
    atomic_directory,
    atomic_file,
    atomic_write_json,
    atomic_write_text,
    replace_directory,
)


def _leftovers(folder):
    return [p.name for p in folder.iterdir() if p.name.startswith(TMP_PREFIX)]


def test_a_file_is_replaced_whole_and_follows_the_umask(tmp_path):
    target = tmp_path / "out.txt"
    atomic_write_text(target, "old")
    atomic_write_json(target, {"new": 1})
    assert json.loads(target.read_text()) == {"new": 1}
    mask = os.umask(0)
    os.umask(mask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~mask
    assert _leftovers(tmp_path) == []


@pytest.mark.parametrize("error", [KeyboardInterrupt(), OSError("disk full")])
def test_an_interrupted_file_write_keeps_the_old_file(tmp_path, error):
    target = tmp_path / "out.txt"
    atomic_write_text(target, "old")
    with pytest.raises(type(error)):
        with atomic_file(target) as fh:
            fh.write("half of the new")
            raise error
    assert target.read_text() == "old" and _leftovers(tmp_path) == []


def test_an_interrupted_first_write_leaves_nothing(tmp_path):
    with pytest.raises(KeyboardInterrupt):
        with atomic_file(tmp_path / "new.txt") as fh:
            fh.write("x")
            raise KeyboardInterrupt
    assert list(tmp_path.iterdir()) == []


def test_a_folder_appears_complete_or_not_at_all(tmp_path):
    target = tmp_path / "out"
    with atomic_directory(target) as staging:
        (staging / "a.txt").write_text("1")
        assert not target.exists()
    assert (target / "a.txt").read_text() == "1"
    with pytest.raises(KeyboardInterrupt):
        with atomic_directory(target) as staging:
            (staging / "b.txt").write_text("2")
            raise KeyboardInterrupt
    assert sorted(p.name for p in target.iterdir()) == ["a.txt"] and _leftovers(tmp_path) == []
    with atomic_directory(target) as staging:
        (staging / "c.txt").write_text("3")
    assert sorted(p.name for p in target.iterdir()) == ["c.txt"] and _leftovers(tmp_path) == []


def test_a_folder_never_replaces_a_file(tmp_path):
    new = tmp_path / "new"
    new.mkdir()
    (tmp_path / "target").write_text("a file")
    with pytest.raises(FileExistsError, match="is not a folder"):
        replace_directory(new, tmp_path / "target")
    assert (tmp_path / "target").read_text() == "a file" and new.is_dir()
