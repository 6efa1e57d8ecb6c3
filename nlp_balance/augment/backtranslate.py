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

Sampling is exact categorical sampling (temperature, top-k, top-p), implemented as the Gumbel-max
trick on top of greedy decoding with one ``torch.Generator`` per generated row, seeded from the
example's ``rng``. A text's samples therefore do not depend on which other texts share its batch.
"""

from __future__ import annotations

import hashlib
import os
import random
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nlp_balance.augment.base import Augmenter, example_rng, register_augmenter
from nlp_balance.utils.cache import DiskCache, content_key
from nlp_balance.utils.seeding import derive_seed

if TYPE_CHECKING:  # heavy imports stay lazy: importing nlp_balance must not import torch
    import torch

__all__ = ["DEFAULT_MODELS", "BackTranslation"]

#: English → German → English with the Helsinki-NLP OPUS-MT models (needs ``sentencepiece``).
DEFAULT_MODELS: tuple[str, str] = ("Helsinki-NLP/opus-mt-en-de", "Helsinki-NLP/opus-mt-de-en")

_DTYPES = ("float32", "bfloat16", "float16")
_CACHE_NAMESPACE = "backtranslation"


def _seed63(*key: Any) -> int:
    """A 63-bit seed (torch's manual_seed takes a signed 64-bit value)."""
    return derive_seed(*key) >> 1


def _positive_int(name: str, value: Any, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return value


def _dedupe(items: Sequence[str]) -> list[str]:
    """Unique items in first-seen order."""
    return list(dict.fromkeys(items))


def _sha256_file(path: Path, memo: DiskCache | None) -> str:
    """SHA-256 of a file's bytes, memoised on disk by (path, size, mtime, inode)."""
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


def _model_identity(name_or_path: str, revision: str | None, memo: DiskCache | None) -> dict[str, Any]:
    """What a cached translation depends on: a local folder's file contents, or a Hub commit."""
    folder = Path(name_or_path).expanduser()
    if folder.is_dir():
        files = sorted(
            f
            for f in folder.rglob("*")
            if f.is_file() and not any(part.startswith(".") for part in f.relative_to(folder).parts)
        )
        digests = [[str(f.relative_to(folder)), _sha256_file(f, memo)] for f in files]
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


def _gumbel_processor(generators: list[torch.Generator]) -> Any:
    """A logits processor that adds per-row Gumbel noise: greedy decoding then samples exactly."""
    import torch
    from transformers import LogitsProcessor

    class _PerRowGumbel(LogitsProcessor):
        def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
            if scores.shape[0] != len(generators):
                raise RuntimeError(f"expected {len(generators)} rows of scores, got {scores.shape[0]}")
            tiny = torch.finfo(torch.float32).tiny
            noise = torch.stack(
                [
                    torch.rand(scores.shape[1], generator=g, device=scores.device, dtype=torch.float32)
                    for g in generators
                ]
            )
            gumbel = -torch.log(-torch.log(noise.clamp(min=tiny, max=1.0 - 1e-7)))
            return scores + gumbel.to(scores.dtype)

    return _PerRowGumbel()


def _row_limit_processor(limits: list[int], eos_token_id: int) -> Any:
    """A logits processor that forces EOS once row ``r`` has generated ``limits[r] - 1`` tokens."""
    import torch
    from transformers import LogitsProcessor

    per_row = torch.tensor(limits)

    class _PerRowLimit(LogitsProcessor):
        def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
            # Rows are texts x beams (or x samples), grouped by text; the decoder start token is not new.
            expanded = per_row.to(scores.device).repeat_interleave(scores.shape[0] // len(limits))
            done = expanded <= input_ids.shape[1]  # input_ids holds start + generated tokens
            if bool(done.any()):
                scores = scores.clone()
                scores[done] = float("-inf")
                scores[done, eos_token_id] = 0.0
            return scores

    return _PerRowLimit()


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
            lambda: _model_identity(self.models[hop], self.revisions[hop], self._disk_cache()),
        )

    # --- translation ------------------------------------------------------------------------------------
    def _generation_key(self, n_return: int) -> dict[str, Any]:
        import transformers

        device, dtype = self._torch_device_and_dtype()
        params: dict[str, Any] = {
            "augmenter_version": self.version,
            "transformers": transformers.__version__,
            "device": device.type,
            "dtype": str(dtype),
            "num_return_sequences": n_return,
            "max_new_tokens": self.max_new_tokens if self.max_new_tokens is not None else "auto",
            "do_sample": self.do_sample,
        }
        if self.do_sample:
            params.update(top_k=self.top_k, top_p=self.top_p, temperature=self.temperature)
        else:
            params.update(num_beams=self.num_beams)
        return params

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
        """One batched ``generate`` call: ``n_return`` decoded outputs for each text."""
        import torch
        from transformers import (
            LogitsProcessorList,
            TemperatureLogitsWarper,
            TopKLogitsWarper,
            TopPLogitsWarper,
        )

        tokenizer, model = self._tokenizer(hop), self._model(hop)
        device = model.device
        max_positions = getattr(model.config, "max_position_embeddings", None) or 1024
        source_limit = min(int(getattr(tokenizer, "model_max_length", max_positions) or max_positions), max_positions)
        enc = tokenizer(texts, return_tensors="pt", padding=True, truncation=True, max_length=source_limit)
        enc = {k: v.to(device) for k, v in enc.items()}
        processors = LogitsProcessorList()
        if self.do_sample:
            enc = {k: v.repeat_interleave(n_return, dim=0) for k, v in enc.items()}
            generators = []
            for seed in seeds:
                for j in range(n_return):
                    g = torch.Generator(device=device)
                    g.manual_seed(_seed63(seed, j))
                    generators.append(g)
            if self.temperature != 1.0:
                processors.append(TemperatureLogitsWarper(self.temperature))
            if self.top_k > 0:
                processors.append(TopKLogitsWarper(self.top_k))
            if self.top_p < 1.0:
                processors.append(TopPLogitsWarper(self.top_p))
            processors.append(_gumbel_processor(generators))
        if self.max_new_tokens is not None:
            max_new = max(1, min(self.max_new_tokens, max_positions - 2))
        else:
            # Each row's own limit (2 x its length + 16), so that a text's output never depends on
            # the longest text it happened to share a batch with.
            limits = [max(1, min(2 * int(n) + 16, max_positions - 2)) for n in enc["attention_mask"].sum(1)]
            max_new = max(limits)
            eos = model.generation_config.eos_token_id
            eos = eos[0] if isinstance(eos, list) else eos
            if eos is not None and min(limits) < max_new:
                processors.append(_row_limit_processor(limits, int(eos)))
        with torch.inference_mode():
            out = model.generate(
                **enc,
                do_sample=False,
                num_beams=1 if self.do_sample else self.num_beams,
                num_return_sequences=1 if self.do_sample else n_return,
                max_new_tokens=max_new,
                logits_processor=processors,
            )
        decoded = [d.strip() for d in tokenizer.batch_decode(out, skip_special_tokens=True)]
        return [decoded[i * n_return : (i + 1) * n_return] for i in range(len(texts))]

    # --- splitting long texts -----------------------------------------------------------------------
    def _chunks(self, texts: Sequence[str]) -> list[list[str]]:
        """Each text as one chunk, or, when longer than ``max_source_tokens``, as sentence chunks."""
        tokenizer = self._tokenizer(0)
        limit = self.max_source_tokens

        def count(pieces: list[str]) -> list[int]:
            return [len(ids) + 1 for ids in tokenizer(pieces, add_special_tokens=False)["input_ids"]]

        stripped = [t.strip() for t in texts]
        out: list[list[str]] = []
        for text, n in zip(stripped, count(stripped) if stripped else []):
            if n <= limit:
                out.append([text] if text else [])
                continue
            import nupunkt

            sentences = [s.strip() for s in nupunkt.sent_tokenize(text) if s.strip()]
            pieces: list[str] = []
            for sentence, size in zip(sentences, count(sentences)):
                if size <= limit:
                    pieces.append(sentence)
                    continue
                words = sentence.split()  # an over-long sentence: cut between words
                window: list[str] = []
                used = 0
                for word, wsize in zip(words, count(words)):
                    if window and used + wsize - 1 > limit:
                        pieces.append(" ".join(window))
                        window, used = [], 1
                    window.append(word)
                    used += wsize - 1 if used else wsize
                if window:
                    pieces.append(" ".join(window))
            chunks: list[str] = []
            current: list[str] = []
            used = 0
            for piece, size in zip(pieces, count(pieces)):
                if current and used + size - 1 > limit:
                    chunks.append(" ".join(current))
                    current, used = [], 0
                current.append(piece)
                used += size if not used else size - 1
            if current:
                chunks.append(" ".join(current))
            out.append(chunks)
        return out

    # --- the variant pool -------------------------------------------------------------------------------
    def _pools(self, texts: Sequence[str], seeds: Sequence[int]) -> list[list[str]]:
        """All distinct round-trip variants of each text that differ from it, best first."""
        chunked = self._chunks(texts)
        sample = self.do_sample
        # Hop 0: every chunk, with num_return_sequences outputs. Beam search ignores seeds, so
        # identical chunks anywhere in the batch (or in the cache) are translated once.
        items: list[tuple[str, int | None]] = []
        for chunks, seed in zip(chunked, seeds):
            items.extend((c, _seed63(seed, "chunk", ci) if sample else None) for ci, c in enumerate(chunks))
        first = self._translate(0, items, self.num_return_sequences)
        branches: list[list[tuple[str, int | None]]] = [
            [(v, _seed63(seed, "variant", j) if sample else None) for j, v in enumerate(_dedupe(outs))]
            for (_, seed), outs in zip(items, first)
        ]
        # Later hops: each pivot variant once, one output each.
        for hop in range(1, len(self.models)):
            flat = [
                (text, _seed63(seed, "hop", hop) if seed is not None else None)
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

    def __call__(self, texts: str | Sequence[str], *, seed: int = 0, copy: int = 0) -> Any:
        """Augment one text or a list as copy ``copy``; unchanged texts come back as they were."""
        single = isinstance(texts, str)
        batch = [texts] if single else list(texts)
        rngs = [example_rng(seed, i, copy) for i in range(len(batch))]
        results = self.augment_batch(batch, rngs, copies=[copy] * len(batch))
        merged = [orig if new is None else new for orig, new in zip(batch, results)]
        return merged[0] if single else merged
