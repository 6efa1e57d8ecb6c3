"""A learning rate of its own for the classification head (``head_learning_rate``).

A freshly initialised head trained at the encoder's fine-tuning rate (2e-5 or so) barely moves in a
short run, and synthetic points that reach only the head (``embedding_synthesis="smote"``/``"mixup"``)
then change almost nothing. :func:`set_head_learning_rate` moves the head's parameters out of the
optimizer's parameter groups into groups of their own with the given rate, keeping each group's other
settings (weight decay, betas, ...). It runs before the scheduler is made, so warm-up and decay scale
the head's rate like the encoder's.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from nlp_balance.training.embedding_synthesis import find_classifier_head

__all__ = ["head_parameters", "set_head_learning_rate"]

# Extra head modules a wrapper adds beside the classifier (ModelWithAuxiliaryHead.aux_head, and
# ModelWithAttentionHead.attention_pooling: its queries are as new as the classifier).
_EXTRA_HEADS = ("aux_head", "attention_pooling")


def head_parameters(model: nn.Module) -> list[nn.Parameter]:
    """The trainable parameters of the classification head (``classifier`` or ``score``, the whole
    module, e.g. RoBERTa's dense + out_proj) and of an ``aux_head`` or ``attention_pooling`` when the model has one."""
    modules = [find_classifier_head(model)[1]]
    inner: Any = model
    for _ in range(3):  # the wrapper itself, or the model inside DDP's .module
        for name in _EXTRA_HEADS:
            extra = getattr(inner, name, None)
            if isinstance(extra, nn.Module):
                modules.append(extra)
        inner = getattr(inner, "module", None)
        if inner is None:
            break
    seen: set[int] = set()
    out = []
    for module in modules:
        for p in module.parameters():
            if p.requires_grad and id(p) not in seen:
                seen.add(id(p))
                out.append(p)
    return out


def set_head_learning_rate(optimizer: torch.optim.Optimizer, model: nn.Module, lr: float) -> int:
    """Give the head's parameters learning rate ``lr`` in ``optimizer``; return how many were moved.

    Each group that holds head parameters is split in two: the same settings without them, and a new
    group of them with ``lr``. Groups left empty are dropped. Call it before any optimizer step.
    """
    param_groups = getattr(optimizer, "param_groups", None)
    if not isinstance(param_groups, list) or not hasattr(optimizer, "add_param_group"):
        raise ValueError(f"head_learning_rate needs a torch optimizer with parameter groups, got {type(optimizer)}")
    head = {id(p) for p in head_parameters(model)}
    moved: list[dict[str, Any]] = []
    for group in param_groups:
        mine = [p for p in group["params"] if id(p) in head]
        if mine:
            group["params"] = [p for p in group["params"] if id(p) not in head]
            moved.append({**{k: v for k, v in group.items() if k != "params"}, "params": mine, "lr": lr})
    if not moved:
        raise ValueError("head_learning_rate: none of the head's parameters is in the optimizer")
    param_groups[:] = [g for g in param_groups if g["params"]]
    for group in moved:
        optimizer.add_param_group(group)
    return sum(len(g["params"]) for g in moved)
