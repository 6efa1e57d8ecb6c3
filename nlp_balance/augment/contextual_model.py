"""The masked language model behind the contextual augmenters: whole-word vocabulary, masked rows, batched fill-in.

A *row* is one text's token ids with one or more mask tokens, each in place of the tokens of one
word (replacement) or between two words (insertion). :meth:`MaskedLM.fill` runs many rows, from
many texts, through the model in length-sorted batches and returns, for each mask of each row, the
best whole-word candidates with their logits. Only the mask positions go through the
language-model head when the model has a single head module (BERT's ``cls``, RoBERTa's
``lm_head``): the head's vocabulary projection is then paid once per mask, not once per token.

*Whole words only.* :func:`word_table` keeps, for each vocabulary id, the word it writes when it
starts a word and is a word by itself (letters only, two or more): WordPiece ids that are not
``##`` continuations, byte-level BPE ids that start with ``Ġ``, SentencePiece ids that start with
``▁``. Every other id (pieces, punctuation, digits, special tokens) is masked out before the top-k.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ._runtime import pick_device_dtype, quietly

if TYPE_CHECKING:  # heavy imports stay lazy: importing nlp_balance must not import torch
    import torch

__all__ = ["VOCABULARY_RULE", "MaskedLM", "Row", "masked_row", "token_ranges", "word_table"]

#: Bump when :func:`word_table` keeps different ids (part of the cache key).
VOCABULARY_RULE = "1"

#: One masked row: token ids and the indices of its mask tokens (ascending).
Row = tuple[list[int], list[int]]


def masked_row(ids: Sequence[int], ranges: Sequence[tuple[int, int]], mask_id: int) -> Row:
    """``ids`` with each token range ``[a, b)`` (ascending, disjoint) replaced by one mask token;
    an empty range (``a == b``) inserts a mask before token ``a``."""
    out: list[int] = []
    positions = []
    pos = 0
    for a, b in ranges:
        out.extend(ids[pos:a])
        positions.append(len(out))
        out.append(mask_id)
        pos = b
    out.extend(ids[pos:])
    return out, positions


def _scheme(tokenizer: Any) -> str:
    """How the tokenizer marks word starts: ``"wordpiece"`` (``##`` continuations), ``"bytelevel"``
    (``Ġ`` starts) or ``"metaspace"`` (``▁`` starts)."""
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is None:
        raise ValueError(f"{type(tokenizer).__name__} is not a fast tokenizer; the contextual augmenters need the "
                         "character offsets only a fast (tokenizers-backed) tokenizer gives")
    model = json.loads(backend.to_str()).get("model", {})
    if model.get("type") == "WordPiece":
        return "wordpiece"
    vocab = tokenizer.get_vocab()
    g = sum(1 for t in vocab if t.startswith("\u0120"))
    s = sum(1 for t in vocab if t.startswith("\u2581"))
    return "bytelevel" if g >= s else "metaspace"


def word_table(tokenizer: Any, size: int) -> list[str | None]:
    """For each of ``size`` output ids: the whole word it writes at a word start, or ``None``."""
    scheme = _scheme(tokenizer)
    prefix = "##"
    if scheme == "wordpiece":
        model = json.loads(tokenizer.backend_tokenizer.to_str()).get("model", {})
        prefix = model.get("continuing_subword_prefix") or "##"
    special = set(tokenizer.all_special_ids)
    known = min(size, len(tokenizer))
    tokens = tokenizer.convert_ids_to_tokens(list(range(known)))
    words: list[str | None] = []
    for i, tok in enumerate(tokens):
        word: str | None = None
        if tok is not None and i not in special:
            if scheme == "wordpiece":
                word = None if tok.startswith(prefix) else tok
            elif scheme == "bytelevel":
                word = tokenizer.convert_tokens_to_string([tok])[1:] if tok.startswith("\u0120") else None
            else:
                word = tok[1:] if tok.startswith("\u2581") else None
        if word is not None and (len(word) < 2 or not word.isalpha()):
            word = None
        words.append(word)
    words.extend([None] * (size - known))
    return words


def token_ranges(offsets: Sequence[tuple[int, int]], spans: Sequence[tuple[int, int]]) -> list[tuple[int, int] | None]:
    """For each character span (sorted), the token range ``[a, b)`` that spells exactly that span.

    ``None`` where no token falls in the span (cut off by truncation) or a token crosses its edge.
    Special tokens (empty offsets) are skipped. One pass over both lists.
    """
    out: list[tuple[int, int] | None] = []
    j = 0
    n = len(offsets)
    for s, e in spans:
        while j < n and (offsets[j][1] <= offsets[j][0] or offsets[j][1] <= s):
            j += 1
        first = j
        k = j
        clean = True
        while k < n and offsets[k][0] < e:
            ts, te = offsets[k]
            if te > ts and (ts < s or te > e):
                clean = False
            k += 1
        has_tokens = any(offsets[m][1] > offsets[m][0] for m in range(first, k))
        out.append((first, k) if clean and has_tokens else None)
        j = k
    return out


class MaskedLM:
    """A masked language model with its tokenizer and whole-word table, loaded once per process.

    Args:
        path: ``AutoModelForMaskedLM`` folder or Hub id (with a fast tokenizer).
        revision, trust_remote_code: passed to ``from_pretrained``.
        device, dtype: ``None`` = CUDA with bfloat16 when available, else CPU with float32.
    """

    def __init__(self, path: str, *, revision: str | None, trust_remote_code: bool, device: str | None,
                 dtype: str | None) -> None:
        import torch
        from transformers import AutoModelForMaskedLM, AutoTokenizer

        self.device, self.dtype = pick_device_dtype(device, dtype)
        self.tokenizer = AutoTokenizer.from_pretrained(path, revision=revision, trust_remote_code=trust_remote_code)
        if self.tokenizer.mask_token_id is None:
            raise ValueError(f"the tokenizer of {path!r} has no mask token; give a masked language model")
        self.model = quietly(lambda: AutoModelForMaskedLM.from_pretrained(
            path, revision=revision, trust_remote_code=trust_remote_code, dtype=self.dtype))
        self.model.to(self.device).eval()
        size = int(self.model.get_output_embeddings().weight.shape[0])
        self.words = word_table(self.tokenizer, size)
        self.allowed = torch.tensor([w is not None for w in self.words], device=self.device)
        self.n_allowed = int(self.allowed.sum())
        if self.n_allowed == 0:
            raise ValueError(f"the vocabulary of {path!r} has no whole-word tokens to propose")
        self.pad_id = self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else 0
        heads = [m for name, m in self.model.named_children() if name != self.model.base_model_prefix]
        # One head module (BERT's cls, RoBERTa's lm_head) can be run on the mask positions alone.
        self._head = heads[0] if len(heads) == 1 else None

    def encode(self, texts: Sequence[str], max_length: int) -> tuple[list[list[int]], list[list[tuple[int, int]]]]:
        """Token ids and character offsets of each text (special tokens added, truncated to ``max_length``)."""
        enc = self.tokenizer(list(texts), truncation=True, max_length=max_length, return_offsets_mapping=True)
        return enc["input_ids"], [[tuple(o) for o in offs] for offs in enc["offset_mapping"]]

    def fill(self, rows: Sequence[Row], n: int, batch_size: int) -> list[list[list[tuple[str, float]]]]:
        """For each mask of each row, the ``n`` best whole words (with logits, best first).

        Rows are run longest first, ``batch_size`` at a time, each padded to its batch's longest row.
        """
        import torch

        out: list[list[list[tuple[str, float]]]] = [[] for _ in rows]
        k = min(n, self.n_allowed)
        order = sorted(range(len(rows)), key=lambda i: (-len(rows[i][0]), i))
        for start in range(0, len(order), batch_size):
            idx = order[start : start + batch_size]
            width = len(rows[idx[0]][0])
            ids = torch.full((len(idx), width), self.pad_id, dtype=torch.long)
            mask = torch.zeros((len(idx), width), dtype=torch.long)
            which, where = [], []
            for r, i in enumerate(idx):
                row, positions = rows[i]
                ids[r, : len(row)] = torch.tensor(row, dtype=torch.long)
                mask[r, : len(row)] = 1
                which.extend([r] * len(positions))
                where.extend(positions)
            with torch.inference_mode():
                at = (torch.tensor(which, device=self.device), torch.tensor(where, device=self.device))
                logits = self._logits_at(ids.to(self.device), mask.to(self.device), *at)
                logits = logits.float().masked_fill(~self.allowed, float("-inf"))
                values, top = logits.topk(k, dim=-1)
            found = iter(zip(values.cpu().tolist(), top.cpu().tolist()))
            for i in idx:
                out[i] = [[(self.words[t], v) for t, v in zip(tops, vals) if v != float("-inf")]  # type: ignore[misc]
                          for vals, tops in (next(found) for _ in rows[i][1])]
        return out

    def _logits_at(self, ids: torch.Tensor, mask: torch.Tensor, rows: torch.Tensor,
                   positions: torch.Tensor) -> torch.Tensor:
        """Vocabulary logits at token ``positions[j]`` of row ``rows[j]``: ``[len(positions), vocab]``."""
        if self._head is not None:
            hidden = self.model.base_model(input_ids=ids, attention_mask=mask)[0]
            return self._head(hidden[rows, positions])
        return self.model(input_ids=ids, attention_mask=mask).logits[rows, positions]
