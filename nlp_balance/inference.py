"""Prediction with a saved model: batched, on the best device, with its post-hoc adjustment applied.

:func:`load_classifier` accepts a model folder (``from_pretrained`` layout, optionally with
``posthoc.json``) or a Hub id, and returns a :class:`TextClassifier` used by ``nlp-balance predict``
and ``nlp-balance evaluate``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .sampling import label_array

__all__ = ["TextClassifier", "load_classifier"]


class TextClassifier:
    """A sequence-classification model with its tokenizer and optional post-hoc adjustment."""

    def __init__(self, model: Any, tokenizer: Any, *, posthoc: Any = None, max_length: int = 128) -> None:
        self.model = model.eval()
        self.tokenizer = tokenizer
        self.posthoc = posthoc
        self.max_length = max_length
        config = model.config
        self.label_names = [str(config.id2label.get(i, i)) for i in range(config.num_labels)]

    @property
    def device(self) -> Any:
        return next(self.model.parameters()).device

    def logits(self, texts: Sequence[str], *, batch_size: int = 64) -> np.ndarray:
        """Raw logits (before any post-hoc adjustment), computed over length-sorted batches."""
        import torch

        texts = list(texts)
        order = np.argsort([len(t) for t in texts], kind="stable")
        out = np.zeros((len(texts), len(self.label_names)), dtype=np.float32)
        with torch.inference_mode():
            for start in range(0, len(texts), batch_size):
                idx = order[start : start + batch_size]
                enc = self.tokenizer(
                    [texts[i] for i in idx],
                    truncation=True,
                    max_length=self.max_length,
                    padding=True,
                    return_tensors="pt",
                ).to(self.device)
                output = self.model(**enc)
                logits = output["logits"] if isinstance(output, dict) else output.logits  # wrappers return dicts
                out[idx] = logits.float().cpu().numpy()
        return out

    def predict_ids(self, texts: Sequence[str], *, batch_size: int = 64) -> tuple[np.ndarray, np.ndarray]:
        """Predicted class ids (post-hoc adjustment applied) and softmax probabilities."""
        logits = self.logits(texts, batch_size=batch_size)
        shifted = logits - logits.max(axis=-1, keepdims=True)
        probs = np.exp(shifted) / np.exp(shifted).sum(axis=-1, keepdims=True)
        preds = np.asarray(self.posthoc.predict(logits)) if self.posthoc is not None else probs.argmax(-1)
        return preds, probs

    def predict(self, texts: Sequence[str], *, batch_size: int = 64) -> list[dict[str, Any]]:
        """One dict per text: predicted label, its probability, and every class's probability."""
        preds, probs = self.predict_ids(texts, batch_size=batch_size)
        return [
            {
                "label": self.label_names[int(p)],
                "score": float(pr[int(p)]),
                "probabilities": {n: float(v) for n, v in zip(self.label_names, pr)},
            }
            for p, pr in zip(preds, probs)
        ]

    def evaluate(
        self, dataset: Any, *, text_column: str = "text", label_column: str = "label", batch_size: int = 64
    ) -> dict[str, float]:
        """Imbalance metrics on a labelled ``Dataset`` whose ``ClassLabel`` names match the model's."""
        from .data import get_class_label
        from .metrics import compute_imbalance_metrics

        names = get_class_label(dataset, label_column).names
        if list(names) != self.label_names:
            raise ValueError(f"the dataset's labels {list(names)} differ from the model's {self.label_names}")
        preds, _ = self.predict_ids(dataset[text_column], batch_size=batch_size)
        metrics, _cm = compute_imbalance_metrics(preds, label_array(dataset, label_column), names)
        return metrics


def load_classifier(
    path_or_id: str | Path, *, max_length: int = 128, device: str | None = None, trust_remote_code: bool = False
) -> TextClassifier:
    """Load a model folder, an ensemble folder (``ensemble.json``) or a Hub id (with ``posthoc.json``
    when the folder has one)."""
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from .posthoc import load_posthoc

    path = Path(path_or_id)
    if path.is_dir() and (path / "model").is_dir() and not (path / "config.json").exists():
        path = path / "model"  # a run folder: use its model
    if (path / "ensemble.json").is_file():  # an EasyEnsemble folder: members' probabilities averaged
        from .ensemble import load_ensemble

        return load_ensemble(path, max_length=max_length, device=device)
    source = str(path) if path.exists() else str(path_or_id)
    tokenizer = AutoTokenizer.from_pretrained(source, trust_remote_code=trust_remote_code)
    model = AutoModelForSequenceClassification.from_pretrained(source, trust_remote_code=trust_remote_code)
    target = device or ("cuda" if torch.cuda.is_available() else "cpu")
    model.to(target)
    posthoc = load_posthoc(source) if path.is_dir() else None
    return TextClassifier(model, tokenizer, posthoc=posthoc, max_length=max_length)
