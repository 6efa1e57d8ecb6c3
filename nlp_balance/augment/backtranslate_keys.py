"""Content-addressed cache keys for back-translation: everything a stored translation depends on.

Each translation is stored under ``content_key(model identity, generation settings, text, seed)``:

* the **model identity** is the SHA-256 of every file of a local model folder (memoised on disk by
  path, size, mtime and inode, so a big checkpoint is hashed once), or for a Hub model its snapshot
  commit and the digest of its ``config.json``;
* the **generation settings** are the decoding options plus what else changes the output: the
  augmenter version, the transformers version, the device type and the dtype.

Change any of them and the key changes, so a stale translation is never served.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from nlp_balance.utils.cache import DiskCache, content_key

from .backtranslate_generate import Decoding

__all__ = ["generation_settings", "model_identity", "sha256_file"]


def sha256_file(path: Path, memo: DiskCache | None) -> str:
    """SHA-256 of a file's bytes, memoised in ``memo`` by (path, size, mtime, inode)."""
    st = path.stat()
    memo_key = content_key("file-sha256", str(path.resolve()), st.st_size, st.st_mtime_ns, st.st_ino)
    if memo is not None:
        known = memo.get(memo_key)
        if isinstance(known, str):
            return known
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    digest = h.hexdigest()
    if memo is not None:
        memo.set(memo_key, digest)
    return digest


def model_identity(name_or_path: str, revision: str | None, memo: DiskCache | None) -> dict[str, Any]:
    """What a cached translation depends on: a local folder's file contents, or a Hub commit."""
    folder = Path(name_or_path).expanduser()
    if folder.is_dir():
        files = sorted(
            f
            for f in folder.rglob("*")
            if f.is_file() and not any(part.startswith(".") for part in f.relative_to(folder).parts)
        )
        digests = [[str(f.relative_to(folder)), sha256_file(f, memo)] for f in files]
        return {"path": str(folder.resolve()), "files": content_key(digests)}
    from transformers.utils import cached_file

    config_path = Path(cached_file(name_or_path, "config.json", revision=revision))
    # Hub cache layout: .../snapshots/<commit>/config.json. The commit pins weights and tokenizer.
    commit = config_path.parent.name if config_path.parent.parent.name == "snapshots" else None
    return {
        "id": name_or_path,
        "revision": revision,
        "commit": commit,
        "config_sha256": hashlib.sha256(config_path.read_bytes()).hexdigest(),
    }


def generation_settings(
    decoding: Decoding, n_return: int, *, augmenter_version: str, device_type: str, dtype: str
) -> dict[str, Any]:
    """The settings part of a translation's key: only the options that change the output."""
    import transformers

    params: dict[str, Any] = {
        "augmenter_version": augmenter_version,
        "transformers": transformers.__version__,
        "device": device_type,
        "dtype": dtype,
        "num_return_sequences": n_return,
        "max_new_tokens": decoding.max_new_tokens if decoding.max_new_tokens is not None else "auto",
        "do_sample": decoding.do_sample,
    }
    if decoding.do_sample:
        params.update(top_k=decoding.top_k, top_p=decoding.top_p, temperature=decoding.temperature)
    else:
        params.update(num_beams=decoding.num_beams)
    return params
