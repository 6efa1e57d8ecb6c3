"""A small private on-disk key-value cache (internal; shared by modules that memoise slow work).

Entries live under one root, in this order of precedence: ``$NLP_BALANCE_CACHE``,
``$XDG_CACHE_HOME/nlp_balance``, ``~/.cache/nlp_balance``. Every directory the cache creates is
``0700``; a directory owned by someone else, or writable by group or others, is refused rather than
read, because a cached value is trusted as if it had just been computed. Writes go to a temporary
file in the same directory and are moved into place with :func:`os.replace`, so a crash leaves
either the old entry or the new one, never half a file.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from nlp_balance.utils.atomic import atomic_write_bytes

__all__ = [
    "ENV_VAR",
    "DiskCache",
    "cache_root",
    "check_private_dir",
    "content_key",
    "private_dir",
]

#: Environment variable that overrides where every nlp_balance cache lives.
ENV_VAR = "NLP_BALANCE_CACHE"

_ENTRY_SUFFIX = ".json"
_MISSING = object()


def cache_root() -> Path:
    """The cache root from the environment (not created): ``$NLP_BALANCE_CACHE``, XDG, or ``~/.cache``."""
    explicit = os.environ.get(ENV_VAR)
    if explicit:
        return Path(explicit).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    if xdg:
        return Path(xdg).expanduser() / "nlp_balance"
    return Path.home() / ".cache" / "nlp_balance"


def check_private_dir(path: str | os.PathLike[str]) -> Path:
    """Raise ``PermissionError`` unless ``path`` is a directory we own that no one else can write.

    Symlinks are followed: what matters is the directory the cache will actually read from.
    On platforms without POSIX ownership (Windows) only the is-a-directory check applies.
    """
    p = Path(path)
    try:
        st = p.stat()
    except FileNotFoundError:
        raise FileNotFoundError(f"cache directory {str(p)!r} does not exist") from None
    if not stat.S_ISDIR(st.st_mode):
        raise NotADirectoryError(f"cache path {str(p)!r} exists but is not a directory")
    if hasattr(os, "getuid"):
        if st.st_uid != os.getuid():
            raise PermissionError(
                f"refusing to use cache directory {str(p)!r}: it is owned by uid {st.st_uid}, not by "
                f"you (uid {os.getuid()}); point {ENV_VAR} at a directory of your own"
            )
        if st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
            raise PermissionError(
                f"refusing to use cache directory {str(p)!r}: it is writable by other users "
                f"(mode {stat.S_IMODE(st.st_mode):#o}); run `chmod 700 {p}` or set {ENV_VAR}"
            )
    return p


def private_dir(path: str | os.PathLike[str]) -> Path:
    """Create ``path`` (mode ``0700``) if needed and return it after :func:`check_private_dir`."""
    p = Path(path)
    if not p.exists():
        # Parents are created with the user's default mode; only the leaf must be private.
        p.parent.mkdir(parents=True, exist_ok=True)
        try:
            p.mkdir(mode=0o700)
        except FileExistsError:  # another process won the race: check what it created
            pass
    return check_private_dir(p)


def content_key(*parts: Any) -> str:
    """A SHA-256 hex digest of ``parts`` serialised as canonical JSON (stable across processes)."""
    blob = json.dumps(parts, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


class DiskCache:
    """A content-addressed store of JSON values in ``<root>/<namespace>/<ab>/<sha256>.json``.

    Keys are arbitrary strings (hashed to file names, and stored inside the entry so that a read
    checks it got the right one). Entries that cannot be parsed count as misses, so a damaged file
    costs a recomputation, never a wrong answer.

    Args:
        namespace: sub-directory name for one kind of entry, e.g. ``"backtranslation"``.
        root: cache root; defaults to :func:`cache_root`.
    """

    def __init__(self, namespace: str, root: str | os.PathLike[str] | None = None) -> None:
        if not namespace or not all(c.isalnum() or c in "-_." for c in namespace) or namespace[0] == ".":
            raise ValueError(
                f"namespace must be a plain directory name (letters, digits, -_.), got {namespace!r}"
            )
        self.namespace = namespace
        base = Path(root).expanduser() if root is not None else cache_root()
        private_dir(base)
        self.path = private_dir(base / namespace)

    def __repr__(self) -> str:
        return f"DiskCache(namespace={self.namespace!r}, path={str(self.path)!r})"

    def _file(self, key: str) -> Path:
        digest = hashlib.sha256(key.encode("utf-8")).hexdigest()
        return self.path / digest[:2] / (digest + _ENTRY_SUFFIX)

    def get(self, key: str, default: Any = None) -> Any:
        """The value stored under ``key``, or ``default`` when absent or unreadable."""
        try:
            raw = self._file(key).read_bytes()
            entry = json.loads(raw.decode("utf-8"))
        except (FileNotFoundError, NotADirectoryError, UnicodeDecodeError, json.JSONDecodeError):
            return default
        if not isinstance(entry, dict) or entry.get("key") != key or "value" not in entry:
            return default
        return entry["value"]

    def __contains__(self, key: str) -> bool:
        return self.get(key, _MISSING) is not _MISSING

    def set(self, key: str, value: Any) -> None:
        """Store a JSON-serialisable ``value`` under ``key`` (atomically; last writer wins)."""
        target = self._file(key)
        if not target.parent.is_dir():
            target.parent.mkdir(mode=0o700, exist_ok=True)
        data = json.dumps({"key": key, "value": value}, ensure_ascii=False).encode("utf-8")
        atomic_write_bytes(target, data, private=True)

    def __iter__(self) -> Iterator[Path]:
        """The entry files currently stored (temporary files of interrupted writes are skipped)."""
        for shard in sorted(self.path.iterdir()):
            if shard.is_dir():
                yield from sorted(f for f in shard.iterdir() if f.suffix == _ENTRY_SUFFIX)

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def __bool__(self) -> bool:  # an empty cache is still a cache (``if cache:`` must not mean "non-empty")
        return True

    def clear(self) -> None:
        """Delete every entry and any temporary file left behind by an interrupted write."""
        for shard in self.path.iterdir():
            if shard.is_dir():
                for f in shard.iterdir():
                    f.unlink(missing_ok=True)
                shard.rmdir()
