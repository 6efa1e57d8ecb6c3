"""Text encodings of local data files: strict UTF-8 by default, or a named encoding transcoded to UTF-8.

Arrow's readers keep invalid UTF-8 bytes in string columns, and later steps (tokenizers, Arrow
compute kernels) can crash natively on them. So every csv/tsv/json/jsonl file is decoded here,
strictly and in 1 MiB chunks, before ``datasets`` sees it: a bad byte is a
:class:`DataValidationError` naming the file, the line and the byte offset. A file in another
encoding is decoded in that encoding and written as UTF-8 to a private folder that exists only
while ``datasets`` reads it.
"""

from __future__ import annotations

import codecs
import contextlib
import os
import shutil
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import filelock

from nlp_balance.data.errors import DataValidationError
from nlp_balance.utils.cache import cache_root, content_key, private_dir

__all__ = ["TEXT_SUFFIXES", "check_encoding", "resolve_encoding", "utf8_files"]

#: Suffixes of the files decoded here; parquet and Arrow files carry typed columns and are not text.
TEXT_SUFFIXES = frozenset({".csv", ".tsv", ".json", ".jsonl"})
_CHUNK = 1 << 20
_EXCERPT = 24


def resolve_encoding(encoding: str | None) -> str | None:
    """The codec name for ``encoding``, or ``None`` for UTF-8 (checked, never transcoded).

    Any spelling of UTF-8 (``"utf8"``, ``"UTF-8"``) means the default. An unknown name, or a codec
    that does not decode bytes to text (``"rot13"``, ``"base64"``), is one ``ValueError`` naming it.
    """
    if encoding is None:
        return None
    if not isinstance(encoding, str):
        raise ValueError(f"encoding must be a codec name such as 'utf-8' or 'latin-1', got {encoding!r}")
    try:
        info = codecs.lookup(encoding)
    except LookupError:
        raise ValueError(
            f"unknown encoding {encoding!r}; name a Python codec such as 'utf-8', 'latin-1', 'cp1252' or 'utf-16'"
        ) from None
    if not getattr(info, "_is_text_encoding", True):
        raise ValueError(f"encoding {encoding!r} is not a text encoding; name one such as 'utf-8' or 'latin-1'")
    return None if info.name == "utf-8" else info.name


def check_encoding(path: str | os.PathLike[str], encoding: str | None = None) -> bool:
    """Decode ``path`` strictly (UTF-8 unless ``encoding`` names another codec) and say if it has content.

    Returns ``False`` when the file holds only whitespace. A byte that does not decode is a
    :class:`DataValidationError` naming the file, the line, the byte offset and the bytes around it.
    """
    has_content = False
    for text in _decode(Path(path), resolve_encoding(encoding) or "utf-8"):
        has_content = has_content or bool(text.strip())
    return has_content


@contextlib.contextmanager
def utf8_files(files: Mapping[str, Sequence[str]], encoding: str | None = None) -> Iterator[dict[str, list[str]]]:
    """Yield ``files`` (split -> paths) as UTF-8 files that ``datasets`` can read safely.

    A text file that is empty or holds only whitespace is a :class:`DataValidationError` naming it.

    With ``encoding=None`` every text file is checked to be strict UTF-8 and the same paths are
    yielded. With another encoding each text file is decoded in it and written as UTF-8 under a
    private folder of the nlp_balance cache (``transcoded/<key>``), which is removed on exit.

    The folder is named by the source paths and the encoding, and each copy gets its source's
    modification time, because ``datasets`` keys its Arrow cache by data-file path and mtime: loading
    the same file again reuses that cache instead of adding a new copy each time. A file lock keeps
    two processes from sharing the folder at once. The loaded ``Dataset`` reads the Arrow cache, never
    the copies, so removing them is safe.
    """
    codec = resolve_encoding(encoding)
    paths = [p for group in files.values() for p in group]
    if codec is None:
        for p in paths:
            if Path(p).suffix.lower() in TEXT_SUFFIXES and not check_encoding(p):
                raise DataValidationError(f"{p!r}: the file holds no rows")
        yield {split: list(group) for split, group in files.items()}
        return
    root = private_dir(private_dir(cache_root()) / "transcoded")
    key = content_key(sorted(os.path.abspath(p) for p in paths), codec)[:32]
    folder = root / key
    with filelock.FileLock(str(root / f"{key}.lock")):
        shutil.rmtree(folder, ignore_errors=True)  # left over by a killed process
        try:
            out: dict[str, list[str]] = {split: [] for split in files}
            for number, (split, p) in enumerate((s, p) for s, group in files.items() for p in group):
                out[split].append(_transcode(Path(p), codec, folder / str(number)))
            yield out
        finally:
            shutil.rmtree(folder, ignore_errors=True)


def _transcode(source: Path, codec: str, folder: Path) -> str:
    """Write ``source`` decoded from ``codec`` as UTF-8 to ``folder/<same name>`` (non-text files: as is)."""
    if source.suffix.lower() not in TEXT_SUFFIXES:
        return str(source)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / source.name
    has_content = False
    with open(target, "wb") as out:
        line = 1
        for text in _decode(source, codec):
            try:
                out.write(text.encode("utf-8"))
            except UnicodeEncodeError as err:
                at = line + text.count("\n", 0, err.start)
                raise DataValidationError(
                    f"{str(source)!r}: line {at} decodes (as {codec}) to {err.object[err.start : err.end]!r}, "
                    "which is not a character UTF-8 can hold; check the encoding"
                ) from None
            line += text.count("\n")
            has_content = has_content or bool(text.strip())
    if not has_content:
        raise DataValidationError(f"{str(source)!r}: the file holds no rows")
    stat = source.stat()
    os.utime(target, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    return str(target)


def _decode(path: Path, codec: str) -> Iterator[str]:
    """Decode ``path`` in ``codec`` chunk by chunk; the first undecodable byte is a named error."""
    decoder = codecs.getincrementaldecoder(codec)(errors="strict")
    offset = 0  # bytes read before the current chunk
    lines = 0  # newlines decoded before the current chunk
    with open(path, "rb") as fh:
        while True:
            chunk = fh.read(_CHUNK)
            try:
                text = decoder.decode(chunk, final=not chunk)
            except UnicodeDecodeError as err:
                raise _decode_error(path, codec, err, chunk, offset, lines) from None
            except UnicodeError as err:  # e.g. UTF-16 without a byte-order mark: no position to name
                raise DataValidationError(
                    f"{str(path)!r}: line {lines + 1} (bytes from offset {offset}) is not valid {codec}: {err}"
                ) from None
            yield text
            if not chunk:
                return
            offset += len(chunk)
            lines += text.count("\n")


def _decode_error(
    path: Path, codec: str, err: UnicodeDecodeError, chunk: bytes, offset: int, lines: int
) -> DataValidationError:
    data = bytes(err.object)
    carried = max(len(data) - len(chunk), 0)  # bytes of an earlier chunk the decoder still held
    position = offset - carried + err.start
    before = data[: err.start].decode(codec, errors="replace")
    line = lines + before.count("\n") + 1
    excerpt = data[max(err.start - _EXCERPT, 0) : err.end + _EXCERPT]
    name = "UTF-8" if codec == "utf-8" else codec
    hint = (
        "; if the file is in another encoding, name it with encoding= (CLI --encoding, recipe dataset.encoding), "
        "e.g. 'latin-1' or 'cp1252'"
        if codec == "utf-8"
        else "; check the encoding"
    )
    return DataValidationError(
        f"{str(path)!r}: line {line} (byte offset {position}) is not valid {name}: {err.reason} at byte "
        f"{data[err.start : err.end]!r} in {excerpt!r}{hint}"
    )
