"""Auxiliary heads: an extra output on any sequence-classification model, trained alongside the main head.

:class:`ModelWithAuxiliaryHead` wraps a ``*ForSequenceClassification`` model and adds a linear head
on the main head's input (the pooled representation, captured by a forward hook):

* ``"one_vs_rest"``: one sigmoid output per class (is this example of class c?), which gives every
  class, however rare, its own binary signal;
* ``"minority_vs_majority"``: one sigmoid output (is this example of a minority class?).

Training loss = main loss + ``aux_weight`` x auxiliary loss. With :class:`~nlp_balance.BalancedTrainer`
the main loss is the trainer's own (weights, focal, ...) and the auxiliary term comes from
:meth:`ModelWithAuxiliaryHead.auxiliary_loss_sum`: per-example auxiliary losses summed and divided by
the trainer's ``num_items_in_batch``, exactly like the main loss, so gradient accumulation stays exact.
Called with ``labels`` outside that trainer, ``forward`` returns the batch-mean loss itself.

Inference uses the main head: in ``eval()`` mode the output holds only the main ``logits`` unless
``return_aux=True``. ``save_pretrained`` writes the base model's normal ``from_pretrained`` folder
(so ``AutoModelForSequenceClassification``, ``load_classifier`` and ``nlp-balance predict`` read it as
a plain classifier) plus ``aux_head.safetensors`` and ``aux_head.json``; ``from_pretrained`` restores
both. ``Trainer.save_model`` only writes a state dict for a wrapper: save it with ``save_pretrained``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from nlp_balance.training.embedding_synthesis import find_classifier_head

__all__ = ["AUX_HEAD_TYPES", "ModelWithAuxiliaryHead"]

#: Kinds of auxiliary head.
AUX_HEAD_TYPES = ("one_vs_rest", "minority_vs_majority")
_CONFIG_FILE = "aux_head.json"
_WEIGHTS_FILE = "aux_head.safetensors"
_FORMAT_VERSION = 1


class ModelWithAuxiliaryHead(nn.Module):
    """A sequence classifier plus an auxiliary sigmoid head on its pooled representation.

    Args:
        base: a ``*ForSequenceClassification`` model with a ``classifier`` or ``score`` head.
        aux_type: ``"one_vs_rest"`` or ``"minority_vs_majority"``.
        aux_weight: lambda in ``main + lambda * auxiliary``.
        minority_classes: class ids that count as minority (needed by ``"minority_vs_majority"``).
    """

    def __init__(self, base: nn.Module, aux_type: str = "one_vs_rest", aux_weight: float = 0.5,
                 minority_classes: Sequence[int] | None = None) -> None:
        super().__init__()
        if aux_type not in AUX_HEAD_TYPES:
            raise ValueError(f"aux_type={aux_type!r} is not valid; use one of {AUX_HEAD_TYPES}")
        if isinstance(aux_weight, bool) or not isinstance(aux_weight, (int, float)) or not aux_weight >= 0:
            raise ValueError(f"aux_weight must be a number >= 0, got {aux_weight!r}")
        config = base.config
        num_labels = int(config.num_labels)
        if getattr(config, "problem_type", None) == "multi_label_classification":
            raise ValueError("ModelWithAuxiliaryHead supports single-label classification only")
        minority = sorted({int(c) for c in minority_classes}) if minority_classes is not None else []
        if aux_type == "minority_vs_majority" and not minority:
            raise ValueError("aux_type='minority_vs_majority' needs minority_classes (class ids)")
        bad = [c for c in minority if not 0 <= c < num_labels]
        if bad:
            raise ValueError(f"minority_classes {bad} are not class ids in [0, {num_labels})")
        _, head = find_classifier_head(base)
        hidden = _head_in_features(head, config)
        self.base = base
        self.config = config
        self.aux_type = aux_type
        self.aux_weight = float(aux_weight)
        self.minority_classes = minority
        self.aux_head = nn.Linear(hidden, num_labels if aux_type == "one_vs_rest" else 1)
        # A plain attribute, not a submodule: registering it would alias base.classifier in the state
        # dict, and the Trainer's safetensors checkpoints refuse shared tensors.
        object.__setattr__(self, "_main_head", head)
        self._pooled: torch.Tensor | None = None
        head.register_forward_pre_hook(self._capture, with_kwargs=True)

    def _capture(self, module: nn.Module, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        x = args[0] if args else next(iter(kwargs.values()))
        if x.dim() == 3:  # RoBERTa-style heads pool the first token themselves
            x = x[:, 0, :]
        self._pooled = x

    @property
    def device(self) -> torch.device:
        return next(self.parameters()).device

    # ---- forward and losses ---------------------------------------------------------------------

    def forward(self, input_ids: Any = None, attention_mask: Any = None, labels: Any = None,
                return_aux: bool | None = None, **kwargs: Any) -> dict[str, Any]:
        """Main ``logits`` (and ``aux_logits`` while training or when ``return_aux``); ``loss`` with labels."""
        self._pooled = None
        outputs = self.base(input_ids=input_ids, attention_mask=attention_mask, **kwargs)
        result: dict[str, Any] = {"logits": outputs.logits}
        want_aux = self.training if return_aux is None else return_aux
        if want_aux or labels is not None:
            if self._pooled is None:
                raise RuntimeError("the main classification head was not called; cannot compute the auxiliary head")
            result["aux_logits"] = self.aux_head(self._pooled)
        if labels is not None:
            labels = labels.view(-1)
            mask = labels != -100
            count = mask.sum().clamp(min=1)
            main = F.cross_entropy(outputs.logits[mask], labels[mask], reduction="sum")
            result["loss"] = (main + self.auxiliary_loss_sum(result, labels)) / count
        if not want_aux:
            result.pop("aux_logits", None)
        return result

    def auxiliary_per_example(self, aux_logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """Unweighted auxiliary loss of each labelled example (binary cross-entropy, mean over outputs)."""
        labels = labels.view(-1)
        if self.aux_type == "one_vs_rest":
            target = F.one_hot(labels, aux_logits.shape[-1]).to(aux_logits.dtype)
        else:
            minority = torch.tensor(self.minority_classes, device=labels.device)
            target = torch.isin(labels, minority).to(aux_logits.dtype).unsqueeze(-1)
        return F.binary_cross_entropy_with_logits(aux_logits.float(), target.float(), reduction="none").mean(-1)

    def auxiliary_loss_sum(self, outputs: Any, labels: torch.Tensor) -> torch.Tensor | None:
        """``aux_weight`` x the sum of per-example auxiliary losses over labelled rows (``None`` without
        ``aux_logits``); :class:`~nlp_balance.BalancedTrainer` adds it to its summed main loss."""
        aux = outputs.get("aux_logits") if isinstance(outputs, dict) else getattr(outputs, "aux_logits", None)
        if aux is None:
            return None
        labels = labels.view(-1)
        mask = labels != -100
        if not bool(mask.any()):
            return aux.sum() * 0.0
        return self.aux_weight * self.auxiliary_per_example(aux[mask], labels[mask]).sum()

    # ---- persistence -----------------------------------------------------------------------------

    def save_pretrained(self, save_directory: str | Path, **kwargs: Any) -> None:
        """Base model folder (main head) + ``aux_head.safetensors`` + ``aux_head.json``."""
        from safetensors.torch import save_file

        out = Path(save_directory)
        self.base.save_pretrained(out, **kwargs)
        state = {k: v.detach().cpu().contiguous() for k, v in self.aux_head.state_dict().items()}
        save_file(state, str(out / _WEIGHTS_FILE), metadata={"format": "pt"})
        meta = {"format_version": _FORMAT_VERSION, "aux_type": self.aux_type, "aux_weight": self.aux_weight,
                "minority_classes": self.minority_classes, "in_features": self.aux_head.in_features,
                "out_features": self.aux_head.out_features}
        (out / _CONFIG_FILE).write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")

    @classmethod
    def from_pretrained(cls, directory: str | Path, **kwargs: Any) -> ModelWithAuxiliaryHead:
        """Load a folder written by :meth:`save_pretrained` (kwargs go to the base ``from_pretrained``)."""
        from safetensors.torch import load_file
        from transformers import AutoModelForSequenceClassification

        directory = Path(directory)
        meta_path = directory / _CONFIG_FILE
        if not meta_path.is_file():
            raise FileNotFoundError(f"{directory} has no {_CONFIG_FILE}: not saved by ModelWithAuxiliaryHead")
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        if int(meta.get("format_version", 0)) > _FORMAT_VERSION:
            raise ValueError(f"{meta_path}: format_version {meta['format_version']} is newer than supported")
        base = AutoModelForSequenceClassification.from_pretrained(directory, **kwargs)
        model = cls(base, meta["aux_type"], meta["aux_weight"], meta.get("minority_classes") or None)
        state = load_file(str(directory / _WEIGHTS_FILE))
        model.aux_head.load_state_dict(state)
        return model.to(base.device)


def _head_in_features(head: nn.Module, config: Any) -> int:
    if isinstance(head, nn.Linear):
        return head.in_features
    for sub in head.modules():  # e.g. RobertaClassificationHead: dense -> out_proj
        if isinstance(sub, nn.Linear):
            return sub.in_features
    return int(config.hidden_size)
