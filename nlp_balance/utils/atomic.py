"""Atomic outputs: a file or folder appears complete under its name, or not at all.

Everything nlp_balance writes (datasets, run folders, reports, model folders, caches) goes through
these helpers: the content is written to a temporary sibling and renamed into place, so an
interrupted write (Ctrl-C, a crash, a full disk) leaves the previous output, or none, never a mix.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

__all__ = [
    "TMP_PREFIX",
    "atomic_directory",
    "atomic_file",
    "atomic_write_bytes",
    "atomic_write_json",
    "atomic_write_text",
    "replace_directory",
]

#: Prefix of the temporary siblings (``.tmp-<name>-<random>``); never a final output name.
TMP_PREFIX = ".tmp-"


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes, *, private: bool = False) -> None:
    """Write ``data`` to ``path`` atomically: temp file in the same folder, fsync, ``os.replace``.

    ``private`` keeps the file readable by its owner only (caches); otherwise it follows the umask.
    """
    with atomic_file(path, "wb", private=private) as fh:
        fh.write(data)


def atomic_write_text(path: str | os.PathLike[str], text: str) -> None:
    """Write UTF-8 ``text`` to ``path`` atomically."""
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: str | os.PathLike[str], obj: Any) -> None:
    """Write ``obj`` as indented UTF-8 JSON (non-JSON values as ``str``) to ``path`` atomically."""
    atomic_write_text(path, json.dumps(obj, indent=2, ensure_ascii=False, default=str) + "\n")


@contextlib.contextmanager
def atomic_file(path: str | os.PathLike[str], mode: str = "w", *, private: bool = False,
                **open_kwargs: Any) -> Iterator[Any]:
    """Open a temporary sibling of ``path`` for writing; on success it replaces ``path``, on error it goes.

    ``mode`` is ``"w"`` (text, UTF-8 unless ``encoding`` is given) or ``"wb"``; ``private`` keeps the
    file at mode 0600 instead of the umask's default.
    """
    if mode not in ("w", "wb"):
        raise ValueError(f"mode must be 'w' or 'wb', got {mode!r}")
    target = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f"{TMP_PREFIX}{target.name}-", dir=target.parent)  # created 0600
    if mode == "w":
        open_kwargs.setdefault("encoding", "utf-8")
    try:
        with os.fdopen(fd, mode, **open_kwargs) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        if not private:
            os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


@contextlib.contextmanager
def atomic_directory(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield an empty temporary sibling folder to fill; on success it replaces ``path``, on error it goes."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f"{TMP_PREFIX}{target.name}-", dir=target.parent))
    try:
        yield tmp
        os.chmod(tmp, 0o777 & ~_umask())
        replace_directory(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def replace_directory(new: str | os.PathLike[str], target: str | os.PathLike[str]) -> None:
    """Put folder ``new`` in the place of ``target`` (a folder or nothing); the old one is removed after.

    The old folder is first renamed aside, so there is no moment at which ``target`` holds a mix of
    old and new files; if the second rename fails, the old folder is put back.
    """
    new, target = Path(new), Path(target)
    if target.is_file() or target.is_symlink():
        raise FileExistsError(f"{str(target)!r} exists and is not a folder; not replacing it")
    if not target.exists():
        os.replace(new, target)
        return
    aside = Path(tempfile.mkdtemp(prefix=f"{TMP_PREFIX}{target.name}-old-", dir=target.parent))
    os.rmdir(aside)
    os.replace(target, aside)
    try:
        os.replace(new, target)
    except BaseException:
        os.replace(aside, target)
        raise
    shutil.rmtree(aside, ignore_errors=True)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
