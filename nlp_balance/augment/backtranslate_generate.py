"""One batched ``generate`` call of a translation model, with results that do not depend on the batch.

Two logits processors make each row's output independent of the rows it shares a batch with:

* **sampling** is exact categorical sampling (temperature, top-k, top-p) done as the Gumbel-max
  trick on top of greedy decoding, with one ``torch.Generator`` per generated row seeded from the
  example, so a text's samples do not depend on which other texts share its batch;
* the **automatic length limit** is per row (twice the row's input length plus 16), enforced by
  forcing EOS, so a short text's output does not depend on the longest text in its batch.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from nlp_balance.utils.seeding import derive_seed

if TYPE_CHECKING:  # heavy imports stay lazy: importing nlp_balance must not import torch
    import torch

__all__ = ["Decoding", "generate", "gumbel_processor", "row_limit_processor", "seed63"]


@dataclass(frozen=True)
class Decoding:
    """How every hop decodes: beam search (``do_sample=False``) or seeded sampling, and its length limit.

    ``max_new_tokens=None`` means a limit per text (see the module docs).
    """

    num_beams: int
    do_sample: bool
    top_k: int
    top_p: float
    temperature: float
    max_new_tokens: int | None


def seed63(*key: Any) -> int:
    """A 63-bit seed (torch's manual_seed takes a signed 64-bit value)."""
    return derive_seed(*key) >> 1


def gumbel_processor(generators: list[torch.Generator]) -> Any:
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


def row_limit_processor(limits: list[int], eos_token_id: int) -> Any:
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


def _sampling_processors(decoding: Decoding, seeds: Sequence[int | None], n_return: int, device: Any) -> list[Any]:
    """Temperature, top-k and top-p warpers, then the Gumbel noise of one seeded generator per row."""
    import torch
    from transformers import TemperatureLogitsWarper, TopKLogitsWarper, TopPLogitsWarper

    generators = []
    for seed in seeds:
        for j in range(n_return):
            g = torch.Generator(device=device)
            g.manual_seed(seed63(seed, j))
            generators.append(g)
    processors: list[Any] = []
    if decoding.temperature != 1.0:
        processors.append(TemperatureLogitsWarper(decoding.temperature))
    if decoding.top_k > 0:
        processors.append(TopKLogitsWarper(decoding.top_k))
    if decoding.top_p < 1.0:
        processors.append(TopPLogitsWarper(decoding.top_p))
    processors.append(gumbel_processor(generators))
    return processors


def generate(
    model: Any, tokenizer: Any, texts: list[str], seeds: Sequence[int | None], n_return: int, decoding: Decoding
) -> list[list[str]]:
    """Translate ``texts`` in one batched ``generate`` call: ``n_return`` decoded outputs for each text.

    With sampling, text ``i`` samples from ``seeds[i]`` (beam search ignores ``seeds``).
    """
    import torch
    from transformers import LogitsProcessorList

    device = model.device
    max_positions = getattr(model.config, "max_position_embeddings", None) or 1024
    source_limit = min(int(getattr(tokenizer, "model_max_length", max_positions) or max_positions), max_positions)
    enc = tokenizer(texts, return_tensors="pt", padding=True, truncation=True, max_length=source_limit)
    enc = {k: v.to(device) for k, v in enc.items()}
    processors = LogitsProcessorList()
    if decoding.do_sample:
        enc = {k: v.repeat_interleave(n_return, dim=0) for k, v in enc.items()}
        processors.extend(_sampling_processors(decoding, seeds, n_return, device))
    if decoding.max_new_tokens is not None:
        max_new = max(1, min(decoding.max_new_tokens, max_positions - 2))
    else:
        # Each row's own limit (2 x its length + 16), so that a text's output never depends on
        # the longest text it happened to share a batch with.
        limits = [max(1, min(2 * int(n) + 16, max_positions - 2)) for n in enc["attention_mask"].sum(1)]
        max_new = max(limits)
        eos = model.generation_config.eos_token_id
        eos = eos[0] if isinstance(eos, list) else eos
        if eos is not None and min(limits) < max_new:
            processors.append(row_limit_processor(limits, int(eos)))
    with torch.inference_mode():
        out = model.generate(
            **enc,
            do_sample=False,
            num_beams=1 if decoding.do_sample else decoding.num_beams,
            num_return_sequences=1 if decoding.do_sample else n_return,
            max_new_tokens=max_new,
            logits_processor=processors,
        )
    decoded = [d.strip() for d in tokenizer.batch_decode(out, skip_special_tokens=True)]
    return [decoded[i * n_return : (i + 1) * n_return] for i in range(len(texts))]
