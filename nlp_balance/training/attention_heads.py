"""Attention heads that can focus on small classes: a fresh :class:`ModelWithAttentionHead` for fine-tuning.

``head_type`` (the recipe's ``model.head``) is one of :data:`HEAD_TYPES`:

* ``"default"``: ``AutoModelForSequenceClassification``'s own pooling and classifier (no wrapper);
* ``"mean"``: the mean of the encoder's token states, then a linear classifier (how sentence-transformers
  checkpoints pool; the control for the two attention heads);
* ``"attention"``: learned attention pooling over the encoder's token states, then a linear classifier;
* ``"label_attention"``: one learned attention query per class (label-wise attention, CAML/LAAT), class
  ``c``'s logit read from its own pooled representation.

The architecture and its saved-folder format live in
:mod:`nlp_balance.evaluation.attention_head_model` (``load_classifier`` rebuilds it to predict); this
module builds one from a pretrained encoder with a new head for the given label names. It trains with
:class:`~nlp_balance.BalancedTrainer` like any classifier (the trainer's loss reads ``logits``; the head's
own parameters count as head parameters for ``head_learning_rate``). Save it with ``save_pretrained``:
``Trainer.save_model`` only writes a state dict for a wrapper.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from nlp_balance.evaluation.attention_head_model import (
    ATTENTION_HEAD_TYPES,
    AttentionHeadOutput,
    ModelWithAttentionHead,
    is_attention_head_dir,
)

__all__ = [
    "ATTENTION_HEAD_TYPES",
    "HEAD_TYPES",
    "AttentionHeadOutput",
    "ModelWithAttentionHead",
    "attention_head_classifier",
    "is_attention_head_dir",
]

#: Values of ``model.head``: the model's own head, or one of the attention heads.
HEAD_TYPES = ("default", *ATTENTION_HEAD_TYPES)


def attention_head_classifier(model_path: str, head_type: str, label_names: Sequence[str],
                              **from_pretrained_kwargs: Any) -> ModelWithAttentionHead:
    """``model_path``'s encoder (``AutoModel``) with a new ``head_type`` head for ``label_names``.

    ``from_pretrained_kwargs`` (``revision``, ``trust_remote_code``, ...) go to ``AutoModel.from_pretrained``.
    """
    from transformers import AutoModel

    if head_type not in ATTENTION_HEAD_TYPES:
        raise ValueError(f"head_type must be one of {ATTENTION_HEAD_TYPES}, got {head_type!r}")
    names = [str(n) for n in label_names]
    if not names:
        raise ValueError("label_names must name at least one class")
    encoder = AutoModel.from_pretrained(model_path, num_labels=len(names), id2label=dict(enumerate(names)),
                                        label2id={n: i for i, n in enumerate(names)}, **from_pretrained_kwargs)
    return ModelWithAttentionHead(encoder, head_type)
