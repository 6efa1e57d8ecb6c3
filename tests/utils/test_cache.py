"""Tests for nlp_balance.utils.cache: location precedence, privacy checks, atomic writes, robustness."""

from __future__ import annotations

import hashlib
import json
import os
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from nlp_balance.utils import cache as _cache
from nlp_balance.utils.atomic import atomic_write_bytes
from nlp_balance.utils.cache import DiskCache, cache_root, check_private_dir, content_key

posix_only = pytest.mark.skipif(not hasattr(os, "getuid"), reason="POSIX ownership and modes")


def test_root_precedence(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("NLP_BALANCE_CACHE", raising=False)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cache_root() == tmp_path / "home" / ".cache" / "nlp_balance"
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_root() == tmp_path / "xdg" / "nlp_balance"
    monkeypatch.setenv("NLP_BALANCE_CACHE", str(tmp_path / "explicit"))
    assert cache_root() == tmp_path / "explicit"


@posix_only
def test_created_directories_are_private(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("NLP_BALANCE_CACHE", str(tmp_path / "root"))
    cache = DiskCache("things")
    cache.set("k", [1, 2])
    entry = next(iter(cache))
    for d in (tmp_path / "root", tmp_path / "root" / "things", entry.parent):
        assert stat.S_IMODE(d.stat().st_mode) == 0o700, d
    assert stat.S_IMODE(entry.stat().st_mode) & 0o077 == 0  # the entry file itself is not shared either


def test_roundtrip_and_layout(tmp_path: Path) -> None:
    cache = DiskCache("ns", root=tmp_path)
    assert cache.get("absent") is None
    assert cache.get("absent", default="d") == "d"
    assert "absent" not in cache and bool(cache) and len(cache) == 0
    value = {"text": "héllo wörld", "variants": ["a", "b"], "n": 3}
    cache.set("some key", value)
    assert cache.get("some key") == value
    assert "some key" in cache and len(cache) == 1
    # The file name is the SHA-256 of the key, sharded by its first two hex digits.
    digest = hashlib.sha256(b"some key").hexdigest()
    assert (tmp_path / "ns" / digest[:2] / f"{digest}.json").is_file()
    cache.set("some key", "replaced")  # last writer wins
    assert cache.get("some key") == "replaced"
    # A second instance (e.g. another process) sees the same entries.
    assert DiskCache("ns", root=tmp_path).get("some key") == "replaced"
    cache.clear()
    assert len(cache) == 0 and cache.get("some key") is None


def test_damaged_or_foreign_entries_are_misses(tmp_path: Path) -> None:
    cache = DiskCache("ns", root=tmp_path)
    cache.set("a", 1)
    path = next(iter(cache))
    path.write_bytes(b'{"key": "a", "val')  # truncated JSON
    assert cache.get("a") is None
    path.write_text(json.dumps({"key": "not a", "value": 1}))  # entry that belongs to another key
    assert cache.get("a") is None
    path.write_bytes(b"\xff\xfe")  # not UTF-8
    assert cache.get("a", default=0) == 0


def test_content_key_is_canonical_and_sensitive() -> None:
    assert content_key({"a": 1, "b": [1, 2]}, "x") == content_key({"b": [1, 2], "a": 1}, "x")
    assert content_key("x", 1) != content_key("x", "1")
    assert content_key("x") != content_key("x ")
    expected = hashlib.sha256(json.dumps(["x"], separators=(",", ":")).encode()).hexdigest()
    assert content_key("x") == expected


def test_atomic_write_keeps_old_file_when_interrupted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "f.bin"
    atomic_write_bytes(target, b"old")

    def boom(src: str, dst: str) -> None:
        raise OSError("disk vanished")

    monkeypatch.setattr(_cache.os, "replace", boom)
    with pytest.raises(OSError, match="disk vanished"):
        atomic_write_bytes(target, b"new")
    monkeypatch.undo()
    assert target.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.bin"]  # the temp file was removed


def test_killed_writer_leaves_no_partial_entry(tmp_path: Path) -> None:
    """A process killed between writing the temp file and renaming it leaves the entry absent."""
    script = textwrap.dedent(
        f"""
        import os
        from nlp_balance.utils import cache as _cache
        c = _cache.DiskCache("ns", root={str(tmp_path)!r})
        c.set("done", "ok")
        _cache.os.replace = lambda *a: os._exit(3)   # simulate a crash right before the rename
        c.set("crashed", "x" * 100000)
        """
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    proc = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True)
    assert proc.returncode == 3, proc.stderr
    cache = DiskCache("ns", root=tmp_path)
    assert cache.get("done") == "ok"
    assert cache.get("crashed") is None
    assert len(cache) == 1  # the stray temp file is not listed as an entry
    cache.clear()
    assert not any(p.is_file() for p in (tmp_path / "ns").rglob("*"))  # clear() removed the temp file too


@posix_only
def test_refuses_directory_writable_by_others(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)
    with pytest.raises(PermissionError, match="writable by other users") as info:
        DiskCache("ns", root=shared)
    assert str(shared) in str(info.value) and "0o777" in str(info.value)
    shared.chmod(0o700)
    (shared / "ns").mkdir(mode=0o700)
    (shared / "ns").chmod(0o770)  # group-writable namespace directory is refused too
    with pytest.raises(PermissionError, match="writable by other users"):
        DiskCache("ns", root=shared)


@posix_only
def test_accepts_existing_directory_not_writable_by_others(tmp_path: Path) -> None:
    d = tmp_path / "mine"
    d.mkdir()
    d.chmod(0o755)
    assert check_private_dir(d) == d
    DiskCache("ns", root=d).set("k", 1)


@posix_only
def test_refuses_directory_owned_by_someone_else(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real_uid = os.getuid()
    monkeypatch.setattr(_cache.os, "getuid", lambda: real_uid + 1)
    with pytest.raises(PermissionError, match="owned by uid"):
        check_private_dir(tmp_path)


def test_bad_paths_and_namespaces(tmp_path: Path) -> None:
    afile = tmp_path / "file"
    afile.write_text("x")
    with pytest.raises(NotADirectoryError, match="not a directory"):
        check_private_dir(afile)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        check_private_dir(tmp_path / "nope")
    for bad in ("", "../up", "a/b", ".hidden"):
        with pytest.raises(ValueError, match="namespace"):
            DiskCache(bad, root=tmp_path)
