"""Attention-pooling classification heads over an encoder's token states, and their saved-folder format.

:class:`ModelWithAttentionHead` puts one of three heads on any ``AutoModel`` encoder:

* ``"mean"``: the mean of the non-padding token states, then a linear classifier: the pooling that
  sentence-transformers checkpoints (such as all-MiniLM-L6-v2) were trained with, and the control
  that tells what the learned attention adds beyond reading every token;
* ``"attention"``: one learned query scores every non-padding token (``q . tanh(W h_t)``), a softmax
  over the tokens weights them, and a linear classifier reads the weighted sum;
* ``"label_attention"``: one learned query per class (label-wise attention, as in CAML/LAAT for rare
  labels): class ``c`` pools the tokens with its own weights and ``logit_c = w_c . pool_c + b_c``, so a
  small class can attend to the few words that signal it instead of sharing one pooled vector.

Padding tokens (``attention_mask == 0``) get exactly zero weight. The model behaves as a transformers
sequence classifier: ``forward(input_ids, attention_mask, labels=None, ...)`` returns an
:class:`AttentionHeadOutput` (``logits``; ``loss`` with labels; ``pooling_weights`` with
``return_pooling_weights=True``, or use :meth:`ModelWithAttentionHead.pooling_weights`), and ``config``
carries ``num_labels``/``id2label``/``label2id``. An encoder's ``pooler`` is frozen (its output is not
used), so DDP runs with ``find_unused_parameters=False``.

The architecture lives in the evaluation layer because :func:`~nlp_balance.evaluation.load_classifier`
must rebuild it to predict; :mod:`nlp_balance.training.attention_heads` builds fresh ones for fine-tuning.

Folder format (``save_pretrained``): the encoder's own ``from_pretrained`` files (``config.json`` with the
label names, weights), plus ``attention_head.safetensors`` (the head) and ``attention_head.json``
(:data:`ATTENTION_HEAD_FORMAT`, ``format_version``, head type and sizes). A plain
``AutoModelForSequenceClassification`` would load such a folder with a *random* classifier (transformers
warns that ``classifier`` was newly initialised): load it with :meth:`ModelWithAttentionHead.from_pretrained`
or ``load_classifier``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from transformers.modeling_outputs import SequenceClassifierOutput

__all__ = [
    "ATTENTION_HEAD_FILENAME",
    "ATTENTION_HEAD_FORMAT",
    "ATTENTION_HEAD_FORMAT_VERSION",
    "ATTENTION_HEAD_TYPES",
    "AttentionHeadOutput",
    "AttentionPooling",
    "LabelWiseLinear",
    "MeanPooling",
    "ModelWithAttentionHead",
    "is_attention_head_dir",
]

#: Heads that :class:`ModelWithAttentionHead` builds (``"mean"`` is their attention-free control).
ATTENTION_HEAD_TYPES = ("attention", "label_attention", "mean")
#: The file that marks a folder as saved by :meth:`ModelWithAttentionHead.save_pretrained`.
ATTENTION_HEAD_FILENAME = "attention_head.json"
ATTENTION_HEAD_WEIGHTS = "attention_head.safetensors"
ATTENTION_HEAD_FORMAT = "nlp_balance.attention_head"
ATTENTION_HEAD_FORMAT_VERSION = 1


def is_attention_head_dir(path: str | Path) -> bool:
    """True when ``path`` is a folder written by :meth:`ModelWithAttentionHead.save_pretrained`."""
    return (Path(path) / ATTENTION_HEAD_FILENAME).is_file()


@dataclass
class AttentionHeadOutput(SequenceClassifierOutput):
    """``SequenceClassifierOutput`` plus the head's token weights, ``[batch, queries, tokens]`` (when asked).

    ``queries`` is 1 for ``"attention"`` and ``"mean"``, and ``num_labels`` for ``"label_attention"``
    (row ``c``: class c).
    """

    pooling_weights: torch.Tensor | None = None


class AttentionPooling(nn.Module):
    """``num_queries`` learned queries, each a softmax over the non-padding tokens of ``tanh(W h_t)`` scores."""

    def __init__(self, hidden_size: int, num_queries: int, attention_dim: int) -> None:
        super().__init__()
        self.key = nn.Linear(hidden_size, attention_dim)
        self.queries = nn.Parameter(torch.zeros(num_queries, attention_dim))

    def forward(self, hidden: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Pooled states ``[batch, queries, hidden]`` and weights ``[batch, queries, tokens]`` (0 on padding)."""
        keys = torch.tanh(self.key(hidden))
        scores = torch.einsum("btd,qd->bqt", keys, self.queries.to(keys.dtype)).float()
        valid = mask[:, None, :].to(torch.bool)
        scores = scores.masked_fill(~valid, torch.finfo(scores.dtype).min)
        weights = scores.softmax(dim=-1) * valid  # exact zeros on padding, also for an all-padding row
        pooled = torch.einsum("bqt,bth->bqh", weights.to(hidden.dtype), hidden)
        return pooled, weights


class MeanPooling(nn.Module):
    """The mean of the non-padding token states (no parameters), in :class:`AttentionPooling`'s shapes."""

    def forward(self, hidden: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Pooled states ``[batch, 1, hidden]`` and the uniform weights ``[batch, 1, tokens]`` (0 on padding)."""
        valid = mask[:, None, :].to(torch.float32)
        weights = valid / valid.sum(dim=-1, keepdim=True).clamp(min=1.0)
        pooled = torch.einsum("bqt,bth->bqh", weights.to(hidden.dtype), hidden)
        return pooled, weights


class LabelWiseLinear(nn.Module):
    """``logit_c = w_c . x_c + b_c`` for ``x`` of shape ``[batch, num_labels, hidden]`` (one vector per class)."""

    def __init__(self, hidden_size: int, num_labels: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(num_labels, hidden_size))
        self.bias = nn.Parameter(torch.zeros(num_labels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits ``[batch, num_labels]``."""
        return (x * self.weight.to(x.dtype)).sum(dim=-1) + self.bias.to(x.dtype)


class ModelWithAttentionHead(nn.Module):
    """An encoder (``AutoModel``) with an attention-pooling classification head, used like a sequence classifier.

    Args:
        encoder: a transformers encoder returning token states first (``last_hidden_state``); its
            ``config`` must set ``num_labels`` (and should set ``id2label``/``label2id``).
        head_type: ``"mean"``, ``"attention"`` or ``"label_attention"``.
        attention_dim: size of the scoring space ``tanh(W h)`` (default: the hidden size).
        dropout: dropout on the pooled states (default: the config's classifier or hidden dropout, else 0.1).
    """

    def __init__(self, encoder: nn.Module, head_type: str = "attention", *, attention_dim: int | None = None,
                 dropout: float | None = None) -> None:
        super().__init__()
        if head_type not in ATTENTION_HEAD_TYPES:
            raise ValueError(f"head_type={head_type!r} is not valid; use one of {ATTENTION_HEAD_TYPES}")
        config = encoder.config
        if getattr(config, "problem_type", None) == "multi_label_classification":
            raise ValueError("ModelWithAttentionHead supports single-label classification only")
        num_labels = int(getattr(config, "num_labels", 0) or 0)
        if num_labels < 1:
            raise ValueError("the encoder's config must set num_labels")
        hidden = int(getattr(config, "hidden_size", None) or config.d_model)
        attention_dim = hidden if attention_dim is None else int(attention_dim)
        if attention_dim < 1:
            raise ValueError(f"attention_dim must be >= 1, got {attention_dim!r}")
        if dropout is None:
            dropout = next((float(v) for k in ("classifier_dropout", "hidden_dropout_prob", "dropout")
                            if isinstance(v := getattr(config, k, None), (int, float)) and not isinstance(v, bool)),
                           0.1)
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {dropout!r}")
        pooler = getattr(encoder, "pooler", None)
        if isinstance(pooler, nn.Module):  # unused here: frozen, so DDP sees no parameter without a gradient
            pooler.requires_grad_(False)
        self.encoder = encoder
        self.config = config
        self.head_type = head_type
        self.attention_dim = attention_dim
        self.dropout_p = float(dropout)
        self.hidden_size = hidden
        self.attention_pooling: nn.Module = (
            MeanPooling() if head_type == "mean"
            else AttentionPooling(hidden, 1 if head_type == "attention" else num_labels, attention_dim))
        self.dropout = nn.Dropout(self.dropout_p)
        self.classifier: nn.Module = (LabelWiseLinear(hidden, num_labels) if head_type == "label_attention"
                                      else nn.Linear(hidden, num_labels))
        self._init_head(float(getattr(config, "initializer_range", 0.02) or 0.02))

    def _init_head(self, std: float) -> None:
        # Small queries: the head starts close to mean pooling over the real tokens.
        for name, p in [*self.attention_pooling.named_parameters(), *self.classifier.named_parameters()]:
            if name.endswith("bias"):
                nn.init.zeros_(p)
            else:
                nn.init.normal_(p, mean=0.0, std=std)

    @property
    def device(self) -> torch.device:
        return next(self.parameters()).device

    @property
    def num_labels(self) -> int:
        return int(self.config.num_labels)

    def get_input_embeddings(self) -> nn.Module:
        """The encoder's input embeddings (used by NEFTune and resizing)."""
        return self.encoder.get_input_embeddings()

    def gradient_checkpointing_enable(self, **kwargs: Any) -> None:
        """Gradient checkpointing in the encoder (``TrainingArguments.gradient_checkpointing``)."""
        self.encoder.gradient_checkpointing_enable(**kwargs)

    # ---- forward ---------------------------------------------------------------------------------

    def forward(self, input_ids: torch.Tensor | None = None, attention_mask: torch.Tensor | None = None,
                token_type_ids: torch.Tensor | None = None, position_ids: torch.Tensor | None = None,
                inputs_embeds: torch.Tensor | None = None, labels: torch.Tensor | None = None,
                output_attentions: bool | None = None, output_hidden_states: bool | None = None,
                return_dict: bool | None = None, return_pooling_weights: bool = False,
                **kwargs: Any) -> AttentionHeadOutput | tuple[Any, ...]:
        """``logits`` (``loss``: mean cross-entropy with ``labels``; ``pooling_weights`` when asked)."""
        kwargs.pop("num_items_in_batch", None)
        given = {"input_ids": input_ids, "attention_mask": attention_mask, "token_type_ids": token_type_ids,
                 "position_ids": position_ids, "inputs_embeds": inputs_embeds,
                 "output_attentions": output_attentions, "output_hidden_states": output_hidden_states}
        outputs = self.encoder(**{k: v for k, v in given.items() if v is not None}, **kwargs)
        hidden = outputs[0]
        mask = attention_mask if attention_mask is not None else torch.ones(hidden.shape[:2], device=hidden.device)
        pooled, weights = self.attention_pooling(hidden, mask)
        pooled = self.dropout(pooled)
        logits = self.classifier(pooled if self.head_type == "label_attention" else pooled[:, 0])
        loss = None
        if labels is not None:
            loss = F.cross_entropy(logits.float(), labels.view(-1).long(), ignore_index=-100)
        result = AttentionHeadOutput(
            loss=loss, logits=logits,
            hidden_states=getattr(outputs, "hidden_states", None) if output_hidden_states else None,
            attentions=getattr(outputs, "attentions", None) if output_attentions else None,
            pooling_weights=weights if return_pooling_weights else None,
        )
        return result.to_tuple() if return_dict is False else result

    @torch.no_grad()
    def pooling_weights(self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None,
                        **kwargs: Any) -> torch.Tensor:
        """What the head looked at: token weights ``[batch, queries, tokens]`` (rows sum to 1 over real tokens)."""
        out = self.forward(input_ids=input_ids, attention_mask=attention_mask, return_pooling_weights=True, **kwargs)
        assert isinstance(out, AttentionHeadOutput) and out.pooling_weights is not None
        return out.pooling_weights

    # ---- persistence -----------------------------------------------------------------------------

    def head_state_dict(self) -> dict[str, torch.Tensor]:
        """The head's tensors (attention pooling + classifier), detached on the CPU."""
        state = {f"attention_pooling.{k}": v for k, v in self.attention_pooling.state_dict().items()}
        state.update({f"classifier.{k}": v for k, v in self.classifier.state_dict().items()})
        return {k: v.detach().cpu().contiguous() for k, v in state.items()}

    def save_pretrained(self, save_directory: str | Path, **kwargs: Any) -> None:
        """Encoder folder (``config.json`` has the labels) + ``attention_head.safetensors`` + ``.json``."""
        from safetensors.torch import save_file

        out = Path(save_directory)
        self.encoder.save_pretrained(out, **kwargs)
        save_file(self.head_state_dict(), str(out / ATTENTION_HEAD_WEIGHTS), metadata={"format": "pt"})
        meta = {"format": ATTENTION_HEAD_FORMAT, "format_version": ATTENTION_HEAD_FORMAT_VERSION,
                "head_type": self.head_type, "num_labels": self.num_labels,
                "hidden_size": self.hidden_size, "attention_dim": self.attention_dim,
                "dropout": self.dropout_p}
        (out / ATTENTION_HEAD_FILENAME).write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")

    @classmethod
    def from_pretrained(cls, directory: str | Path, **kwargs: Any) -> ModelWithAttentionHead:
        """Load a folder written by :meth:`save_pretrained` (kwargs go to ``AutoModel.from_pretrained``)."""
        from safetensors.torch import load_file
        from transformers import AutoModel

        directory = Path(directory)
        meta_path = directory / ATTENTION_HEAD_FILENAME
        if not meta_path.is_file():
            raise FileNotFoundError(f"{directory} has no {ATTENTION_HEAD_FILENAME}: not an attention-head folder")
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        if meta.get("format") != ATTENTION_HEAD_FORMAT:
            raise ValueError(f"{meta_path}: format is {meta.get('format')!r}, expected {ATTENTION_HEAD_FORMAT!r}")
        if int(meta.get("format_version", 0)) > ATTENTION_HEAD_FORMAT_VERSION:
            raise ValueError(f"{meta_path}: format_version {meta['format_version']} is newer than this nlp_balance "
                             f"understands ({ATTENTION_HEAD_FORMAT_VERSION}); upgrade nlp_balance")
        encoder = AutoModel.from_pretrained(directory, **kwargs)
        if int(encoder.config.num_labels) != int(meta["num_labels"]):
            raise ValueError(f"{meta_path}: num_labels {meta['num_labels']} differs from config.json's "
                             f"{encoder.config.num_labels}")
        model = cls(encoder, meta["head_type"], attention_dim=meta["attention_dim"], dropout=meta["dropout"])
        state = load_file(str(directory / ATTENTION_HEAD_WEIGHTS))
        model.attention_pooling.load_state_dict({k.removeprefix("attention_pooling."): v for k, v in state.items()
                                                 if k.startswith("attention_pooling.")})
        model.classifier.load_state_dict({k.removeprefix("classifier."): v for k, v in state.items()
                                          if k.startswith("classifier.")})
        return model.to(encoder.device).eval()
