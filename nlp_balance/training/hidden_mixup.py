"""Hidden-state mixup inside the encoder (TMix, Chen et al. 2020) for :class:`~nlp_balance.BalancedTrainer`.

Used when ``embedding_synthesis="tmix"``. Each labelled example of a synthesis class (an *anchor*)
gets ``synthesis_ratio`` mixed examples on average. For each one a partner, a weight
``lam = max(l, 1 - l)`` with ``l ~ Beta(mixup_alpha, mixup_alpha)`` and an encoder layer ``m`` from
``tmix_layers`` are drawn. Both examples are encoded up to layer ``m``, their hidden states are
interpolated (``lam * h_anchor + (1 - lam) * h_partner``, under the anchor's attention mask, as TMix's
reference code does) and the forward pass continues through layers ``m+1..L``, the pooler and the
head. The mixed example is trained with ``lam * loss(y_anchor) + (1 - lam) * loss(y_partner)``, where
``loss`` is the trainer's own per-item loss (class weights, focal, ... apply). Nothing is detached:
the gradient reaches every encoder layer through both examples, unlike ``"smote"``/``"mixup"``, which
train only the head.

Partners are earlier training examples of any class: the token ids of the examples seen in previous
optimizer steps (per-class FIFO queues of ``memory_bank_size`` rows), re-encoded with the current
weights. Why the loss stays exact under gradient accumulation and DDP (1 batch of 8 == 4 x 2):

1. the bank is frozen during an optimizer step; a step's examples join it at the first loss
   computation of the next step, gathered from every process under DDP (so every process holds the
   same bank, whatever the micro-batch split);
2. the number of mixes, each partner, ``lam`` and the layer are drawn from a generator seeded by
   ``(seed, global step, process rank, position of the anchor within the step)``;
3. partner hidden states are zeroed past the partner's own tokens, so padding does not change them;
4. the mixed losses are summed and divided by the trainer's ``num_items_in_batch`` (times
   ``synthesis_weight``), like the real ones.

So the first optimizer step mixes nothing (the bank is empty). Each mixed example costs one more
forward and backward pass of its anchor through the whole model and of its partner up to layer ``m``.
The mixing is done by forward hooks on the encoder's layers, so gradient checkpointing (which
recomputes layers after the hooks are gone) cannot be combined with it. Batches must be right-padded
(BERT tokenizers' default).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np
import torch
from torch import nn

from nlp_balance.utils.seeding import numpy_rng

__all__ = ["HiddenStateMixup", "default_tmix_layers", "encoder_layers"]

# Module paths (suffixes) of the transformer blocks of BERT-family encoders: BERT, MiniLM, RoBERTa,
# XLM-R, ELECTRA, DeBERTa ("encoder.layer"), DistilBERT ("transformer.layer"), ModernBERT ("layers").
_LAYER_PATHS = ("encoder.layer", "transformer.layer", "encoder.layers", "layers")
# Per-token inputs a bank row keeps (besides the attention mask, which selects the real tokens).
_ROW_KEYS = ("input_ids", "token_type_ids")
Row = dict[str, torch.Tensor]


class _StopForward(Exception):
    """Raised by a hook once the partner's hidden states at layer m are in hand: skips the upper layers."""


def encoder_layers(model: nn.Module) -> nn.ModuleList:
    """The encoder's transformer blocks (a ``ModuleList``), found under the usual BERT-family paths."""
    for suffix in _LAYER_PATHS:
        for name, module in model.named_modules():
            if isinstance(module, nn.ModuleList) and len(module) and (name == suffix or name.endswith("." + suffix)):
                return module
    raise ValueError(f"embedding_synthesis='tmix' needs a BERT-family encoder with its blocks under one of "
                     f"{list(_LAYER_PATHS)}; {type(model).__name__} has none")


def default_tmix_layers(num_layers: int) -> list[int]:
    """TMix's best layer set for 12-layer BERT, {7, 9, 12}, scaled to ``num_layers`` (MiniLM-L6: {4, 5, 6})."""
    return sorted({max(1, math.ceil(7 * num_layers / 12)), max(1, math.ceil(9 * num_layers / 12)), num_layers})


class HiddenStateMixup:
    """TMix for one model; the trainer calls :meth:`capture` around its forward pass, then :meth:`loss_sum`.

    Args:
        num_labels: number of classes.
        synthesis_classes: class ids whose examples are anchors.
        layers: 1-based encoder layers whose outputs may be mixed (default :func:`default_tmix_layers`).
        ratio: expected mixes per anchor (``floor(ratio)``, plus one with probability of the fraction).
        weight: multiplies the mixed losses.
        bank_size: token rows kept per class as partners.
        alpha: Beta parameter of the mixing weight.
        seed: seeds every random choice.
    """

    def __init__(self, num_labels: int, synthesis_classes: Sequence[int], *, layers: Sequence[int] | None = None,
                 ratio: float = 1.0, weight: float = 1.0, bank_size: int = 256, alpha: float = 0.4,
                 seed: int = 0) -> None:
        classes = sorted({int(c) for c in synthesis_classes})
        if not classes or any(not 0 <= c < num_labels for c in classes):
            raise ValueError(
                f"synthesis_classes must be class ids in [0, {num_labels}), got {list(synthesis_classes)!r}")
        if layers is not None and (not layers or any(isinstance(m, bool) or int(m) != m or m < 1 for m in layers)):
            raise ValueError(f"tmix_layers must be a non-empty list of layer numbers >= 1, got {layers!r}")
        for name, value, low in (("synthesis_ratio", ratio, 0.0), ("mixup_alpha", alpha, 0.0)):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
                    or value <= low:
                raise ValueError(f"{name} must be a number > 0, got {value!r}")
        if isinstance(weight, bool) or not isinstance(weight, (int, float)) or not math.isfinite(weight) or weight < 0:
            raise ValueError(f"synthesis_weight must be a number >= 0, got {weight!r}")
        if isinstance(bank_size, bool) or not isinstance(bank_size, int) or bank_size < 1:
            raise ValueError(f"memory_bank_size must be an integer >= 1, got {bank_size!r}")
        self.num_labels, self.classes = num_labels, classes
        self.layers: list[int] | None = None if layers is None else sorted({int(m) for m in layers})
        self.ratio, self.weight, self.bank_size = float(ratio), float(weight), bank_size
        self.alpha, self.seed = float(alpha), int(seed)
        self.bank: dict[int, list[Row]] = {}
        self._pending: list[tuple[list[Row], list[int]]] = []
        self._step: int | None = None
        self._offset = 0
        self._model: nn.Module | None = None
        self._blocks: nn.ModuleList | None = None
        self._hook: Any = None
        self._captured: dict[str, Any] | None = None
        self._capturing = False
        self.synthesized_ = 0  # mixed examples made so far (for logs and tests)

    # ---- attaching and capturing ----------------------------------------------------------------

    def attach(self, model: nn.Module) -> None:
        """Find the encoder's layers and record the model's keyword inputs while :meth:`capture` is active."""
        if self._hook is not None:
            return
        blocks = encoder_layers(model)
        if self.layers is None:
            self.layers = default_tmix_layers(len(blocks))
        too_deep = [m for m in self.layers if m > len(blocks)]
        if too_deep:
            raise ValueError(f"tmix_layers {too_deep} exceed the encoder's {len(blocks)} layers")
        self._model, self._blocks = model, blocks

        def hook(module: nn.Module, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
            if self._capturing:
                if args:
                    raise ValueError("embedding_synthesis='tmix' needs the model called with keyword inputs")
                self._captured = dict(kwargs)

        self._hook = model.register_forward_pre_hook(hook, with_kwargs=True)

    def detach(self) -> None:
        """Remove the hook."""
        if self._hook is not None:
            self._hook.remove()
            self._hook = None

    @contextmanager
    def capture(self) -> Iterator[HiddenStateMixup]:
        """Context manager around the model's forward pass that records its inputs."""
        self._captured, self._capturing = None, True
        try:
            yield self
        finally:
            self._capturing = False

    # ---- the draws ------------------------------------------------------------------------------

    def plan(self, step: int, rank: int, position: int) -> list[tuple[int, int, float, int]]:
        """The mixes of the anchor at ``position`` of optimizer step ``step`` on process ``rank``:
        ``(partner class, partner row in that class's queue, lam, layer)``; empty while the bank is."""
        if self.layers is None:
            raise RuntimeError("attach() the model first: the layer set depends on it")
        rng = numpy_rng("tmix", self.seed, step, rank, position)
        count = int(np.floor(self.ratio)) + int(rng.random() < self.ratio - np.floor(self.ratio))
        sizes = [(c, len(self.bank[c])) for c in sorted(self.bank)]
        total = sum(n for _, n in sizes)
        out: list[tuple[int, int, float, int]] = []
        for _ in range(count if total else 0):
            flat = int(rng.integers(total))
            draw = float(rng.beta(self.alpha, self.alpha))
            layer = self.layers[int(rng.integers(len(self.layers)))]
            for c, n in sizes:
                if flat < n:
                    out.append((c, flat, max(draw, 1.0 - draw), layer))
                    break
                flat -= n
        return out

    # ---- the loss -------------------------------------------------------------------------------

    def loss_sum(self, labels: torch.Tensor, loss_fn: nn.Module, *, step: int, rank: int = 0,
                 accelerator: Any = None) -> torch.Tensor:
        """Sum over this micro-batch's mixed examples of ``weight * (lam * loss(y_a) + (1 - lam) * loss(y_b))``."""
        inputs = self._captured
        if inputs is None or self._model is None:
            raise RuntimeError("the model was not called inside capture() after attach()")
        ys = [int(y) for y in labels.view(-1).tolist()]
        rows = _token_rows(inputs, len(ys))
        self._sync_step(step, accelerator, keys=list(rows[0]) if rows else ["input_ids"])
        labelled = [j for j, y in enumerate(ys) if y != -100]
        self._pending.append(([rows[j] for j in labelled], [ys[j] for j in labelled]))
        mixes = [(j, *mix) for j, y in enumerate(ys) if y != -100 and y in self.classes
                 for mix in self.plan(step, rank, self._offset + j)]
        self._offset += len(ys)
        total = torch.zeros((), device=labels.device)
        for layer in sorted({mix[4] for mix in mixes}):
            group = [mix for mix in mixes if mix[4] == layer]
            partners = [self.bank[c][i] for _, c, i, _, _ in group]
            lam = torch.tensor([mix[3] for mix in group], device=labels.device)
            logits = self._mixed_logits(inputs, [mix[0] for mix in group], partners, lam, layer)
            y_a = torch.tensor([ys[mix[0]] for mix in group], dtype=torch.long, device=logits.device)
            y_b = torch.tensor([mix[1] for mix in group], dtype=torch.long, device=logits.device)
            lam = lam.to(logits.dtype)
            per = lam * loss_fn(logits, y_a) + (1.0 - lam) * loss_fn(logits, y_b)
            if per.dim() != 1 or per.shape[0] != len(group):
                raise ValueError(
                    f"the loss must return one value per item (reduction='none'), got shape {tuple(per.shape)}")
            total = total + per.sum()
        self.synthesized_ += len(mixes)
        return self.weight * total

    def _mixed_logits(self, inputs: dict[str, Any], anchors: list[int], partners: list[Row], lam: torch.Tensor,
                      layer: int) -> torch.Tensor:
        """Logits of the anchors (rows of ``inputs``) with their layer-``layer`` output mixed with the partners'."""
        assert self._model is not None and self._blocks is not None
        batch = inputs["input_ids"].shape[0]
        index = torch.tensor(anchors, dtype=torch.long, device=inputs["input_ids"].device)
        anchor_inputs = {k: v.index_select(0, index) if torch.is_tensor(v) and v.dim() and v.shape[0] == batch else v
                         for k, v in inputs.items()}
        partner_h = self._hidden_at(_collate(partners, self._pad_id()), layer)
        length = anchor_inputs["input_ids"].shape[1]
        if partner_h.shape[1] >= length:
            partner_h = partner_h[:, :length]
        else:
            partner_h = nn.functional.pad(partner_h, (0, 0, 0, length - partner_h.shape[1]))

        def mix(module: nn.Module, args: tuple[Any, ...], output: Any) -> Any:
            hidden = output[0] if isinstance(output, tuple) else output
            w = lam.to(hidden.dtype).view(-1, 1, 1)
            mixed = w * hidden + (1.0 - w) * partner_h.to(hidden.dtype)
            return (mixed, *output[1:]) if isinstance(output, tuple) else mixed

        handle = self._blocks[layer - 1].register_forward_hook(mix)
        try:
            outputs = self._model(**anchor_inputs)
        finally:
            handle.remove()
        return outputs["logits"] if isinstance(outputs, Mapping) else outputs[0]

    def _hidden_at(self, partner_inputs: dict[str, torch.Tensor], layer: int) -> torch.Tensor:
        """The partners' output of encoder layer ``layer`` (with gradient), zero past each partner's tokens."""
        assert self._model is not None and self._blocks is not None
        grabbed: list[torch.Tensor] = []

        def grab(module: nn.Module, args: tuple[Any, ...], output: Any) -> None:
            grabbed.append(output[0] if isinstance(output, tuple) else output)
            raise _StopForward

        handle = self._blocks[layer - 1].register_forward_hook(grab)
        try:
            self._model(**partner_inputs)
        except _StopForward:
            pass
        finally:
            handle.remove()
        if not grabbed:
            raise RuntimeError(f"encoder layer {layer} was not called during the partners' forward pass")
        hidden = grabbed[0]
        return hidden * partner_inputs["attention_mask"].unsqueeze(-1).to(hidden.dtype)

    def _pad_id(self) -> int:
        pad = getattr(getattr(self._model, "config", None), "pad_token_id", None)
        return int(pad) if pad is not None else 0

    # ---- the bank -------------------------------------------------------------------------------

    def _sync_step(self, step: int, accelerator: Any, keys: list[str]) -> None:
        """At the first call of a new optimizer step, move last step's token rows into the bank.

        ``keys`` are the per-token inputs of this batch: the same on every process, so every process
        makes the same collective calls even when it has no rows to share."""
        if self._step == step:
            return
        if self._pending:
            rows = [r for batch_rows, _ in self._pending for r in batch_rows]
            ys = [y for _, batch_ys in self._pending for y in batch_ys]
            if accelerator is not None and accelerator.num_processes > 1:
                rows, ys = _gather_rows(rows, ys, keys, accelerator, self._device())
            for row, y in zip(rows, ys):
                self.bank.setdefault(y, []).append(row)
            for y, queue in self.bank.items():
                self.bank[y] = queue[-self.bank_size:]
        self._pending = []
        self._step = step
        self._offset = 0

    def _device(self) -> torch.device:
        assert self._model is not None
        return next(self._model.parameters()).device


def _token_rows(inputs: dict[str, Any], batch: int) -> list[Row]:
    """Each example's real tokens (where the attention mask is 1) of the per-token inputs a bank row keeps."""
    ids = inputs.get("input_ids")
    if not torch.is_tensor(ids) or ids.dim() != 2 or ids.shape[0] != batch:
        raise ValueError("embedding_synthesis='tmix' needs 'input_ids' of shape [batch, tokens] in every batch")
    mask = inputs.get("attention_mask")
    keep = mask.bool() if torch.is_tensor(mask) else torch.ones_like(ids, dtype=torch.bool)
    per_token = {k: inputs[k] for k in _ROW_KEYS if torch.is_tensor(inputs.get(k)) and inputs[k].shape == ids.shape}
    return [{k: v[j][keep[j]].clone() for k, v in per_token.items()} for j in range(batch)]


def _collate(rows: list[Row], pad_id: int) -> dict[str, torch.Tensor]:
    """Right-padded model inputs (with an attention mask) of bank rows."""
    lengths = [int(r["input_ids"].shape[0]) for r in rows]
    longest = max(lengths)
    out: dict[str, torch.Tensor] = {}
    for key in rows[0]:
        fill = pad_id if key == "input_ids" else 0
        out[key] = torch.stack([nn.functional.pad(r[key], (0, longest - n), value=fill) for r, n in zip(rows, lengths)])
    device = out["input_ids"].device
    out["attention_mask"] = (torch.arange(longest, device=device)[None, :]
                             < torch.tensor(lengths, device=device)[:, None]).long()
    return out


def _gather_rows(rows: list[Row], ys: list[int], keys: list[str], accelerator: Any,
                 device: torch.device) -> tuple[list[Row], list[int]]:
    """Every process's rows and labels, in rank order (the same lists on every process)."""
    lengths = torch.tensor([int(r["input_ids"].shape[0]) for r in rows], dtype=torch.long, device=device)
    longest = max(1, int(lengths.max()) if rows else 1)
    packed = {k: torch.stack([nn.functional.pad(r[k], (0, longest - r[k].shape[0])) for r in rows])
              if rows else torch.zeros((0, longest), dtype=torch.long, device=device) for k in keys}
    labels = torch.tensor(ys, dtype=torch.long, device=device)
    packed = {k: accelerator.pad_across_processes(v.to(device), dim=1) for k, v in packed.items()}
    packed = {k: accelerator.gather(accelerator.pad_across_processes(v, dim=0)) for k, v in packed.items()}
    lengths = accelerator.gather(accelerator.pad_across_processes(lengths, dim=0))
    labels = accelerator.gather(accelerator.pad_across_processes(labels, dim=0, pad_index=-1))
    out_rows, out_ys = [], []
    for j, (n, y) in enumerate(zip(lengths.tolist(), labels.tolist())):
        if y >= 0:
            out_rows.append({k: v[j, :n].clone() for k, v in packed.items()})
            out_ys.append(int(y))
    return out_rows, out_ys
