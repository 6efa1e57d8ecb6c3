"""The language model behind :class:`~.generative.GenerativeAugmenter`: loading and batched, seeded sampling.

A causal LM (GPT-2, Llama, ...) continues the prompt; a seq2seq model (T5, BART, ...) answers it.
Either way each prompt is sampled ``n`` times in one batched ``generate`` call, and each of those
rows draws from its own ``torch.Generator`` seeded from the example (the Gumbel-max sampler of
:mod:`.backtranslate_generate`), so a prompt's samples do not depend on the prompts it shares a
batch with. A causal row stops at its first line break: a generated example is one line.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ._runtime import pick_device_dtype, quietly
from .backtranslate_generate import gumbel_processor, seed63

if TYPE_CHECKING:  # heavy imports stay lazy: importing nlp_balance must not import torch
    import torch

__all__ = ["KINDS", "LanguageModel", "Sampling"]

#: Model kinds: ``"auto"`` reads ``config.is_encoder_decoder``.
KINDS = ("auto", "causal", "seq2seq")


@dataclass(frozen=True)
class Sampling:
    """How every prompt is sampled: ``top_k`` (0: off), ``top_p`` (1: off), ``temperature``, length limit."""

    top_k: int
    top_p: float
    temperature: float
    max_new_tokens: int


def _stop_at_newline(newline_ids: list[int], eos_id: int, prompt_width: int) -> Any:
    """A logits processor that forces EOS on every row once it has generated a token holding a line break."""
    import torch
    from transformers import LogitsProcessor

    class _StopAtNewline(LogitsProcessor):
        def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
            generated = input_ids[:, prompt_width:]
            if generated.shape[1] == 0:
                return scores
            ids = torch.tensor(newline_ids, device=input_ids.device)
            done = torch.isin(generated, ids).any(1)
            if bool(done.any()):
                scores = scores.clone()
                scores[done] = float("-inf")
                scores[done, eos_id] = 0.0
            return scores

    return _StopAtNewline()


class LanguageModel:
    """A generator with its tokenizer, loaded once per process.

    Args:
        path: model folder or Hub id. kind: ``"auto"``, ``"causal"`` or ``"seq2seq"``.
        revision, trust_remote_code: passed to ``from_pretrained``.
        device, dtype: ``None`` = CUDA with bfloat16 when available, else CPU with float32.
    """

    def __init__(self, path: str, *, kind: str, revision: str | None, trust_remote_code: bool,
                 device: str | None, dtype: str | None) -> None:
        from transformers import AutoConfig, AutoModelForCausalLM, AutoModelForSeq2SeqLM, AutoTokenizer

        self.device, self.dtype = pick_device_dtype(device, dtype)
        if kind == "auto":
            config = AutoConfig.from_pretrained(path, revision=revision, trust_remote_code=trust_remote_code)
            kind = "seq2seq" if getattr(config, "is_encoder_decoder", False) else "causal"
        self.kind = kind
        self.tokenizer = AutoTokenizer.from_pretrained(path, revision=revision, trust_remote_code=trust_remote_code)
        auto = AutoModelForSeq2SeqLM if kind == "seq2seq" else AutoModelForCausalLM
        self.model = quietly(lambda: auto.from_pretrained(path, revision=revision,
                                                          trust_remote_code=trust_remote_code, dtype=self.dtype))
        self.model.to(self.device).eval()
        self.model.generation_config.max_length = None  # max_new_tokens is always given
        eos = self.tokenizer.eos_token_id
        if eos is None:
            eos = self.model.generation_config.eos_token_id
            eos = eos[0] if isinstance(eos, list) else eos
        if eos is None:
            raise ValueError(f"{path!r} has no end-of-sequence token; generation could not stop")
        self.eos_id = int(eos)
        if self.tokenizer.pad_token_id is None:  # GPT-2 and many causal LMs: pad with EOS (masked out anyway)
            self.tokenizer.pad_token_id = self.eos_id
        self.pad_id = int(self.tokenizer.pad_token_id)
        self.tokenizer.padding_side = "left" if kind == "causal" else "right"
        # A causal LM continues the prompt's end ("- "): an over-long prompt loses its beginning instead.
        self.tokenizer.truncation_side = "left" if kind == "causal" else "right"
        config = self.model.config
        positions = getattr(config, "max_position_embeddings", None) or getattr(config, "n_positions", None)
        self.max_positions: int | None = int(positions) if positions else None
        self.newline_ids: list[int] = []
        if kind == "causal":
            vocab = self.tokenizer.get_vocab()
            self.newline_ids = sorted(i for i in vocab.values() if "\n" in self.tokenizer.decode([i]))

    def limits(self, max_prompt_tokens: int, max_new_tokens: int) -> tuple[int, int]:
        """Prompt and generation lengths that fit the model's positions (a causal LM holds both at once)."""
        if self.max_positions is None:
            return max_prompt_tokens, max_new_tokens
        new = max(1, min(max_new_tokens, self.max_positions - 2))
        room = self.max_positions - new if self.kind == "causal" else self.max_positions
        return max(1, min(max_prompt_tokens, room)), new

    def generate(self, prompts: Sequence[str], seeds: Sequence[int], n: int, sampling: Sampling,
                 max_prompt_tokens: int) -> list[list[str]]:
        """``n`` samples for each prompt (one batched ``generate`` call); prompt ``i`` samples from ``seeds[i]``.

        A sample is the first line of what the model wrote, stripped.
        """
        import torch
        from transformers import LogitsProcessorList, TemperatureLogitsWarper, TopKLogitsWarper, TopPLogitsWarper

        prompt_limit, new_limit = self.limits(max_prompt_tokens, sampling.max_new_tokens)
        enc = self.tokenizer(list(prompts), return_tensors="pt", padding=True, truncation=True,
                             max_length=prompt_limit)
        enc = {k: v.to(self.device).repeat_interleave(n, dim=0) for k, v in enc.items() if k != "token_type_ids"}
        generators = []
        for seed in seeds:
            for j in range(n):
                g = torch.Generator(device=self.device)
                g.manual_seed(seed63(seed, j))
                generators.append(g)
        processors = LogitsProcessorList()
        if sampling.temperature != 1.0:
            processors.append(TemperatureLogitsWarper(sampling.temperature))
        if sampling.top_k > 0:
            processors.append(TopKLogitsWarper(sampling.top_k))
        if sampling.top_p < 1.0:
            processors.append(TopPLogitsWarper(sampling.top_p))
        processors.append(gumbel_processor(generators))
        width = enc["input_ids"].shape[1]
        if self.newline_ids:
            processors.append(_stop_at_newline(self.newline_ids, self.eos_id, width))
        with torch.inference_mode():
            out = self.model.generate(**enc, do_sample=False, num_beams=1, max_new_tokens=new_limit,
                                      logits_processor=processors, pad_token_id=self.pad_id)
        new = out[:, width:] if self.kind == "causal" else out
        decoded = self.tokenizer.batch_decode(new, skip_special_tokens=True)
        lines = [_first_line(d) for d in decoded]
        return [lines[i * n : (i + 1) * n] for i in range(len(prompts))]


def _first_line(text: str) -> str:
    """The first non-empty line of ``text``, stripped (``""`` when there is none)."""
    for line in text.splitlines():
        if line.strip():
            return line.strip()
    return ""
