"""Check that a JSON data file holds one object per row before Arrow's JSON reader parses it.

Arrow's JSON Lines reader (pyarrow 26) can crash the process (a segmentation fault) when a block it
parses starts with a bare ``null`` line, and ``datasets`` turns a JSON array into such lines. A row
that is not an object is never usable data, so it is refused here with the file and line: in a JSON
Lines file every non-blank line must start with ``{``; in a JSON array every item must be an object
(or every item a string, which ``datasets`` reads as a ``text`` column).
"""

from __future__ import annotations

import codecs
import json
import os
import re
from pathlib import Path

from nlp_balance.data.errors import DataValidationError

__all__ = ["check_json_rows"]

_CHUNK = 1 << 20
#: A line whose first non-blank character is not ``{`` (the line break itself is not a character).
_NOT_AN_OBJECT = re.compile(rb"^[ \t\r\f\v]*[^{ \t\r\n\f\v]", re.MULTILINE)


def check_json_rows(path: str | os.PathLike[str], name: str | None = None) -> None:
    """Refuse a UTF-8 JSON or JSON Lines file with a row that is not an object, naming the line.

    ``name`` is the file named in the error (the original, where ``path`` is a transcoded copy).
    The file is read in 1 MiB chunks with one regular-expression pass; a file that is one JSON
    array is parsed whole, as ``datasets`` does anyway.
    """
    path = Path(path)
    shown = repr(name if name is not None else str(path))
    with open(path, "rb") as fh:
        chunk = fh.read(_CHUNK)
        if chunk.startswith(codecs.BOM_UTF8):
            chunk = chunk[len(codecs.BOM_UTF8) :]
        if chunk.lstrip().startswith(b"["):
            _check_array(path, shown)
            return
        lines_before = 0
        carry = b""
        while chunk:
            data = carry + chunk
            cut = data.rfind(b"\n") + 1  # check whole lines only; the rest waits for the next chunk
            whole, carry = data[:cut], data[cut:]
            _check_lines(whole, lines_before, shown)
            lines_before += whole.count(b"\n")
            chunk = fh.read(_CHUNK)
        _check_lines(carry, lines_before, shown)


def _check_lines(data: bytes, lines_before: int, shown: str) -> None:
    newlines = data.count(b"\n")
    if data[:1] in (b"{", b"") and data.count(b"\n{") == newlines - data.endswith(b"\n"):
        return  # every line starts with "{": two counts in C, no regular expression needed
    found = _NOT_AN_OBJECT.search(data)  # blank or indented lines are fine; find the first real offender
    if found is None:
        return
    line = lines_before + data.count(b"\n", 0, found.start()) + 1
    end = data.find(b"\n", found.start())
    text = data[found.start() : end if end >= 0 else len(data)].strip()[:60].decode("utf-8", errors="replace")
    raise DataValidationError(
        f"{shown}: line {line} is not a JSON object ({text!r}); a JSON Lines file holds one object per line, "
        'such as {"text": "...", "label": "..."}'
    )


def _check_array(path: Path, shown: str) -> None:
    try:
        items = json.loads(path.read_bytes().decode("utf-8-sig"))
    except ValueError as err:
        raise DataValidationError(f"could not read {shown} as a dataset (invalid JSON: {err})") from None
    if not isinstance(items, list) or all(isinstance(item, str) for item in items):
        return
    for position, item in enumerate(items):
        if not isinstance(item, dict):
            raise DataValidationError(
                f"{shown}: item {position} of the JSON array is {json.dumps(item)[:60]}, not an object; each "
                'row must be an object such as {"text": "...", "label": "..."}'
            )
