"""Back-translation: paraphrase a text by translating it to a pivot language and back.

Any pair (or longer chain) of ``AutoModelForSeq2SeqLM`` checkpoints works, from the Hub or a local
folder: ``models=("Helsinki-NLP/opus-mt-en-de", "Helsinki-NLP/opus-mt-de-en")`` goes en→de→en and
``models=(en→de, de→fr, fr→en)`` chains through two pivots. Each hop runs batched ``generate`` over
length-sorted batches; every hop's results are stored in a content-addressed on-disk cache, so a
rerun (or a crash followed by a rerun) never translates the same input twice.

How variants map to copies. The first hop returns ``num_return_sequences`` pivot texts (beam
order, or sample order); each later hop translates every pivot text once. The distinct round-trip
results that differ from the source form the example's *variant pool*, best first:

* ``augment_batch(texts, rngs, copies=ks)`` returns variant ``ks[i]`` of text ``i``. With beam
  search the pool is the same for every copy, so copy ``k`` gets the ``k``-th distinct variant and
  ``None`` once the pool is exhausted (the caller should then pick another source example). With
  sampling the pool is drawn from a seed taken from the example's ``rng`` (which the Balancer
  derives from ``(seed, source, copy)``), so every copy has its own pool; copy ``k`` gets entry
  ``k % len(pool)``.
* Without ``copies``, the variant is picked from the pool with the example's ``rng``.

Sampling is exact categorical sampling seeded from the example's ``rng``, so a text's samples do
not depend on which other texts share its batch (see :mod:`.backtranslate_generate`). Long texts are
translated by sentence chunks (:mod:`.backtranslate_chunks`); what a cached translation is keyed
by is in :mod:`.backtranslate_keys`.
"""

from __future__ import annotations

import os
import random
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from nlp_balance.utils.cache import DiskCache, content_key

from .backtranslate_chunks import chunk_texts
from .backtranslate_generate import Decoding, generate, seed63
from .backtranslate_keys import generation_settings, model_identity
from .base import Augmenter, register_augmenter

if TYPE_CHECKING:  # heavy imports stay lazy: importing nlp_balance must not import torch
    import torch

__all__ = ["DEFAULT_MODELS", "BackTranslation"]

#: English → German → English with the Helsinki-NLP OPUS-MT models (needs ``sentencepiece``).
DEFAULT_MODELS: tuple[str, str] = ("Helsinki-NLP/opus-mt-en-de", "Helsinki-NLP/opus-mt-de-en")

_DTYPES = ("float32", "bfloat16", "float16")
_CACHE_NAMESPACE = "backtranslation"


def _positive_int(name: str, value: Any, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return value


def _dedupe(items: Sequence[str]) -> list[str]:
    """Unique items in first-seen order."""
    return list(dict.fromkeys(items))


@register_augmenter
class BackTranslation(Augmenter):
    """Paraphrase by round-trip translation through one or more pivot languages.

    Args:
        models: the translation chain, source→pivot first and pivot→source last (two or more
            Hub ids or local folders of ``AutoModelForSeq2SeqLM`` checkpoints with tokenizers).
        p: probability of augmenting a given text at all.
        batch_size: source texts per ``generate`` call (texts are sorted by length first).
        num_beams: beam width (``1`` = greedy); must be ``1`` when ``do_sample=True``.
        do_sample: sample instead of beam search (seeded per example, see the module docs).
        top_k, top_p, temperature: sampling settings (``top_k=0`` and ``top_p=1`` disable).
        max_new_tokens: generation limit per hop; ``None`` = per text, twice its input length
            batch plus 16, capped by the model's position limit.
        num_return_sequences: pivot variants produced by the first hop (``<= num_beams`` for
            beam search); the distinct round trips form the variant pool.
        max_source_tokens: texts longer than this (in the first model's tokens) are split into
            sentences with ``nupunkt``, packed into chunks under the limit, and rejoined.
        device, dtype: ``None`` = CUDA with bfloat16 when available, else CPU with float32.
        revision: a Hub revision for every model, or one per model.
        trust_remote_code: passed to ``from_pretrained``; off unless you set it.
        cache: ``True`` = the private nlp_balance cache (``NLP_BALANCE_CACHE`` or
            ``~/.cache/nlp_balance``), a path = that directory, ``False`` = no disk cache.
    """

    name = "backtranslation"
    version = "1"

    def __init__(
        self,
        models: Sequence[str | os.PathLike[str]] = DEFAULT_MODELS,
        *,
        p: float = 1.0,
        batch_size: int = 16,
        num_beams: int = 4,
        do_sample: bool = False,
        top_k: int = 50,
        top_p: float = 1.0,
        temperature: float = 1.0,
        max_new_tokens: int | None = None,
        num_return_sequences: int = 1,
        max_source_tokens: int = 128,
        device: str | None = None,
        dtype: str | None = None,
        revision: str | Sequence[str | None] | None = None,
        trust_remote_code: bool = False,
        cache: bool | str | os.PathLike[str] = True,
    ) -> None:
        super().__init__(p=p)
        if isinstance(models, (str, os.PathLike)) or len(models) < 2:
            raise ValueError(
                f"models must list at least two translation models (source->pivot, ..., pivot->source), got {models!r}"
            )
        self.models = [os.fspath(m) for m in models]
        self.batch_size = _positive_int("batch_size", batch_size)
        self.num_beams = _positive_int("num_beams", num_beams)
        self.num_return_sequences = _positive_int("num_return_sequences", num_return_sequences)
        self.max_source_tokens = _positive_int("max_source_tokens", max_source_tokens, minimum=4)
        self.top_k = _positive_int("top_k", top_k, minimum=0)
        if max_new_tokens is not None:
            _positive_int("max_new_tokens", max_new_tokens)
        self.max_new_tokens = max_new_tokens
        if not isinstance(top_p, (int, float)) or not 0.0 < top_p <= 1.0:
            raise ValueError(f"top_p must be in (0, 1], got {top_p!r}")
        if not isinstance(temperature, (int, float)) or temperature <= 0:
            raise ValueError(f"temperature must be > 0, got {temperature!r}")
        self.top_p, self.temperature, self.do_sample = float(top_p), float(temperature), bool(do_sample)
        if self.do_sample and self.num_beams != 1:
            raise ValueError(
                f"do_sample=True needs num_beams=1 (beam sampling is not supported), got num_beams={num_beams}"
            )
        if not self.do_sample and self.num_return_sequences > self.num_beams:
            raise ValueError(
                f"num_return_sequences={num_return_sequences} needs num_beams >= {num_return_sequences} "
                f"with beam search (got num_beams={num_beams}); raise num_beams or set do_sample=True"
            )
        if dtype is not None:
            dtype = str(dtype).removeprefix("torch.")
            if dtype not in _DTYPES:
                raise ValueError(f"dtype must be one of {_DTYPES} or None, got {dtype!r}")
        self.dtype = dtype
        self.device = None if device is None else str(device)
        if revision is None or isinstance(revision, str):
            self.revisions: list[str | None] = [revision] * len(self.models)
        else:
            self.revisions = list(revision)
            if len(self.revisions) != len(self.models):
                raise ValueError(f"revision must be one string or one per model ({len(self.models)}), got {revision!r}")
        self.trust_remote_code = bool(trust_remote_code)
        if not isinstance(cache, (bool, str, os.PathLike)):
            raise ValueError(f"cache must be True, False or a directory path, got {cache!r}")
        self.cache = cache

    # --- lazily loaded, per-process resources ---------------------------------------------------------
    def _disk_cache(self) -> DiskCache | None:
        if self.cache is False:
            return None
        root = None if self.cache is True else self.cache
        return self.resource("disk_cache", lambda: DiskCache(_CACHE_NAMESPACE, root=root))

    def _torch_device_and_dtype(self) -> tuple[torch.device, torch.dtype]:
        import torch

        def pick() -> tuple[torch.device, torch.dtype]:
            device = torch.device(self.device) if self.device else None
            if device is None:
                device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
            if self.dtype is not None:
                dtype = getattr(torch, self.dtype)
            elif device.type == "cuda" and torch.cuda.is_bf16_supported():
                dtype = torch.bfloat16
            else:
                dtype = torch.float32
            return device, dtype

        return self.resource("device_dtype", pick)

    def _tokenizer(self, hop: int) -> Any:
        def load() -> Any:
            from transformers import AutoTokenizer

            return AutoTokenizer.from_pretrained(
                self.models[hop], revision=self.revisions[hop], trust_remote_code=self.trust_remote_code
            )

        return self.resource(f"tokenizer:{hop}", load)

    def _model(self, hop: int) -> Any:
        def load() -> Any:
            from transformers import AutoModelForSeq2SeqLM

            device, dtype = self._torch_device_and_dtype()
            model = AutoModelForSeq2SeqLM.from_pretrained(
                self.models[hop],
                revision=self.revisions[hop],
                trust_remote_code=self.trust_remote_code,
                dtype=dtype,
            )
            model.to(device).eval()
            # We always pass max_new_tokens; a saved max_length would only trigger a clash warning.
            model.generation_config.max_length = None
            return model

        return self.resource(f"model:{hop}", load)

    def _identity(self, hop: int) -> dict[str, Any]:
        return self.resource(
            f"identity:{hop}",
            lambda: model_identity(self.models[hop], self.revisions[hop], self._disk_cache()),
        )

    @property
    def _decoding(self) -> Decoding:
        return Decoding(
            num_beams=self.num_beams, do_sample=self.do_sample, top_k=self.top_k, top_p=self.top_p,
            temperature=self.temperature, max_new_tokens=self.max_new_tokens,
        )

    # --- translation ------------------------------------------------------------------------------------
    def _generation_key(self, n_return: int) -> dict[str, Any]:
        device, dtype = self._torch_device_and_dtype()
        return generation_settings(
            self._decoding, n_return, augmenter_version=self.version, device_type=device.type, dtype=str(dtype)
        )

    def _translate(self, hop: int, items: Sequence[tuple[str, int | None]], n_return: int) -> list[list[str]]:
        """Translate ``(text, seed)`` items with model ``hop``: ``n_return`` outputs per item.

        Results come from the disk cache where present; the rest are deduplicated, sorted by
        length, generated in batches and written to the cache batch by batch.
        """
        identity, gen = self._identity(hop), self._generation_key(n_return)
        keys = [content_key(identity, gen, text, seed) for text, seed in items]
        cache = self._disk_cache()
        results: dict[str, list[str]] = {}
        todo: dict[str, tuple[str, int | None]] = {}
        for key, (text, seed) in zip(keys, items):
            if key in results or key in todo:
                continue
            if not text.strip():
                results[key] = [""] * n_return
                continue
            hit = cache.get(key) if cache is not None else None
            if isinstance(hit, list) and len(hit) == n_return and all(isinstance(h, str) for h in hit):
                results[key] = hit
            else:
                todo[key] = (text, seed)
        if todo:
            tokenizer = self._tokenizer(hop)
            pending = list(todo.items())
            lengths = [len(ids) for ids in tokenizer([t for _, (t, _) in pending])["input_ids"]]
            order = sorted(range(len(pending)), key=lambda i: (-lengths[i], i))
            for start in range(0, len(order), self.batch_size):
                batch = [pending[i] for i in order[start : start + self.batch_size]]
                outputs = self._generate(hop, [t for _, (t, _) in batch], [s for _, (_, s) in batch], n_return)
                for (key, _), out in zip(batch, outputs):
                    results[key] = out
                    if cache is not None:
                        cache.set(key, out)
        return [results[key] for key in keys]

    def _generate(self, hop: int, texts: list[str], seeds: list[int | None], n_return: int) -> list[list[str]]:
        """One batched ``generate`` call with model ``hop``: ``n_return`` decoded outputs for each text."""
        return generate(self._model(hop), self._tokenizer(hop), texts, seeds, n_return, self._decoding)

    def _chunks(self, texts: Sequence[str]) -> list[list[str]]:
        """Each text as one chunk, or, when longer than ``max_source_tokens``, as sentence chunks."""
        return chunk_texts(texts, self._tokenizer(0), self.max_source_tokens)

    # --- the variant pool -------------------------------------------------------------------------------
    def _pools(self, texts: Sequence[str], seeds: Sequence[int]) -> list[list[str]]:
        """All distinct round-trip variants of each text that differ from it, best first."""
        chunked = self._chunks(texts)
        sample = self.do_sample
        # Hop 0: every chunk, with num_return_sequences outputs. Beam search ignores seeds, so
        # identical chunks anywhere in the batch (or in the cache) are translated once.
        items: list[tuple[str, int | None]] = []
        for chunks, seed in zip(chunked, seeds):
            items.extend((c, seed63(seed, "chunk", ci) if sample else None) for ci, c in enumerate(chunks))
        first = self._translate(0, items, self.num_return_sequences)
        branches: list[list[tuple[str, int | None]]] = [
            [(v, seed63(seed, "variant", j) if sample else None) for j, v in enumerate(_dedupe(outs))]
            for (_, seed), outs in zip(items, first)
        ]
        # Later hops: each pivot variant once, one output each.
        for hop in range(1, len(self.models)):
            flat = [
                (text, seed63(seed, "hop", hop) if seed is not None else None)
                for branch in branches
                for text, seed in branch
            ]
            translated = iter(self._translate(hop, flat, 1))
            branches = [[(next(translated)[0], seed) for _, seed in branch] for branch in branches]
        chunk_pools = iter([_dedupe(t for t, _ in branch) for branch in branches])
        pools: list[list[str]] = []
        for text, chunks in zip(texts, chunked):
            per_chunk = [next(chunk_pools) for _ in chunks]
            if not per_chunk or any(not pool for pool in per_chunk):
                pools.append([])
                continue
            width = max(len(pool) for pool in per_chunk)
            joined = [" ".join(pool[min(j, len(pool) - 1)] for pool in per_chunk) for j in range(width)]
            source = text.strip()
            pools.append([v for v in _dedupe(joined) if v.strip() and v.strip() != source])
        return pools

    def variants(self, texts: Sequence[str], rngs: Sequence[random.Random] | None = None) -> list[list[str]]:
        """The whole variant pool of each text (``p`` is not applied).

        With sampling, each text's seed is the first draw of its ``rng`` (``rngs`` is required);
        beam search ignores ``rngs``.
        """
        if rngs is None:
            if self.do_sample:
                raise ValueError("variants() needs one rng per text when do_sample=True")
            seeds = [0] * len(texts)
        else:
            if len(rngs) != len(texts):
                raise ValueError(f"got {len(texts)} texts but {len(rngs)} random generators")
            seeds = [rng.getrandbits(63) for rng in rngs]
        return self._pools(list(texts), seeds)

    def augment_batch(
        self,
        texts: Sequence[str],
        rngs: Sequence[random.Random],
        *,
        copies: Sequence[int] | None = None,
    ) -> list[str | None]:
        """One variant per text (``None`` where ``p`` skipped it or no distinct variant is left).

        Each ``rng`` gives, in order: the ``p`` draw, the sampling seed, and (without ``copies``)
        the pick from the pool. See the module docs for how ``copies`` selects variants.
        """
        if len(texts) != len(rngs):
            raise ValueError(f"got {len(texts)} texts but {len(rngs)} random generators")
        if copies is not None and len(copies) != len(texts):
            raise ValueError(f"got {len(texts)} texts but {len(copies)} copy numbers")
        if copies is not None and any(isinstance(k, bool) or not isinstance(k, int) or k < 0 for k in copies):
            raise ValueError(f"copy numbers must be integers >= 0, got {list(copies)!r}")
        apply = [self._should_apply(rng) for rng in rngs]
        seeds = [rng.getrandbits(63) for rng in rngs]
        chosen = [i for i, a in enumerate(apply) if a]
        pools = self._pools([texts[i] for i in chosen], [seeds[i] for i in chosen]) if chosen else []
        out: list[str | None] = [None] * len(texts)
        for i, pool in zip(chosen, pools):
            if not pool:
                continue
            if copies is None:
                out[i] = pool[rngs[i].randrange(len(pool))]
            elif self.do_sample:
                out[i] = pool[copies[i] % len(pool)]
            elif copies[i] < len(pool):
                out[i] = pool[copies[i]]
        return out

    def _augment_copy(self, texts: list[str], rngs: list[random.Random], copy: int) -> list[str | None]:
        """Variant ``copy`` of each text's pool, so ``augmenter(texts, copy=k)`` gives the Balancer's copy ``k``."""
        return self.augment_batch(texts, rngs, copies=[copy] * len(texts))
