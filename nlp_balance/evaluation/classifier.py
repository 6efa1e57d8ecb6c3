"""Prediction with a saved model: batched, on the best device, with its post-hoc adjustment applied.

:func:`load_classifier` accepts a model folder (``from_pretrained`` layout, optionally with
``posthoc.json``; a folder with ``attention_head.json`` loads with its attention head) or a Hub id,
and returns a :class:`TextClassifier` used by ``nlp-balance predict`` and ``nlp-balance evaluate``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from nlp_balance.data.labels import label_array, model_label_names

__all__ = [
    "ENSEMBLE_FILENAME",
    "ENSEMBLE_FORMAT",
    "ENSEMBLE_FORMAT_VERSION",
    "EnsembleClassifier",
    "TextClassifier",
    "is_ensemble_dir",
    "load_classifier",
    "load_ensemble",
    "load_ensemble_parts",
]


#: Batches per window that :meth:`TextClassifier.logits` sorts by length (as the length-grouped
#: training samplers do).
WINDOW_BATCHES = 50


class TextClassifier:
    """A sequence-classification model with its tokenizer and optional post-hoc adjustment."""

    def __init__(self, model: Any, tokenizer: Any, *, posthoc: Any = None, max_length: int = 128) -> None:
        self.model = model.eval()
        self.tokenizer = tokenizer
        self.posthoc = posthoc
        self.max_length = max_length
        config = model.config
        self.label_names = model_label_names(config)

    @property
    def device(self) -> Any:
        return next(self.model.parameters()).device

    def logits(self, texts: Sequence[str], *, batch_size: int = 64) -> np.ndarray:
        """Raw logits (before any post-hoc adjustment), in the order of ``texts``.

        Texts are taken in windows of :data:`WINDOW_BATCHES` batches; each window is tokenized once
        to count tokens and sorted longest first, so a batch pads to little more than its own
        longest text while memory stays bounded by the window.
        """
        import torch

        texts = list(texts)
        out = np.zeros((len(texts), len(self.label_names)), dtype=np.float32)
        window = batch_size * WINDOW_BATCHES
        with torch.inference_mode():
            for lo in range(0, len(texts), window):
                chunk = texts[lo : lo + window]
                counts = [len(ids) for ids in self._encode(chunk, padding=False)["input_ids"]]
                order = lo + np.argsort(-np.asarray(counts), kind="stable")
                for start in range(0, len(order), batch_size):
                    idx = order[start : start + batch_size]
                    enc = self._encode([texts[i] for i in idx], padding=True, return_tensors="pt").to(self.device)
                    output = self.model(**enc)
                    logits = output["logits"] if isinstance(output, dict) else output.logits  # wrappers return dicts
                    out[idx] = logits.float().cpu().numpy()
        return out

    def _encode(self, texts: list[str], **kwargs: Any) -> Any:
        return self.tokenizer(texts, truncation=True, max_length=self.max_length, **kwargs)

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
        from nlp_balance.data.labels import get_class_label
        from nlp_balance.evaluation.metrics import compute_imbalance_metrics

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
    when the folder has one); a folder with ``attention_head.json`` loads with its attention head."""
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from nlp_balance.evaluation.attention_head_model import ModelWithAttentionHead, is_attention_head_dir
    from nlp_balance.evaluation.decision_rules import load_posthoc

    path = _model_folder(path_or_id)
    if path is not None and (path / ENSEMBLE_FILENAME).is_file():  # members' probabilities averaged
        return load_ensemble(path, max_length=max_length, device=device)
    source = str(path) if path is not None else str(path_or_id)
    tokenizer = AutoTokenizer.from_pretrained(source, trust_remote_code=trust_remote_code)
    if path is not None and is_attention_head_dir(path):  # the encoder + its attention head
        model = ModelWithAttentionHead.from_pretrained(path, trust_remote_code=trust_remote_code)
    else:
        model = AutoModelForSequenceClassification.from_pretrained(source, trust_remote_code=trust_remote_code)
    target = device or ("cuda" if torch.cuda.is_available() else "cpu")
    model.to(target)
    posthoc = load_posthoc(source) if path is not None else None
    return TextClassifier(model, tokenizer, posthoc=posthoc, max_length=max_length)


def _model_folder(path_or_id: str | Path) -> Path | None:
    """The local folder to load (a run folder's ``model/``), ``None`` for a Hub id; a path that is
    neither a model folder nor a Hub id is a ``FileNotFoundError`` that says what the folder lacks."""
    path = Path(path_or_id).expanduser()
    if not path.exists():
        text = str(path_or_id)
        if text.startswith((".", "/", "~")) or text.count("/") > 1 or os.sep + os.sep in text:
            raise FileNotFoundError(f"model folder not found: {text!r}")
        return None  # a Hub id such as "user/model"
    if not path.is_dir():
        raise FileNotFoundError(f"{str(path)!r} is a file; give a model folder, a run folder or a Hub id")
    if (path / "config.json").is_file() or (path / ENSEMBLE_FILENAME).is_file():
        return path
    if (path / "model").is_dir():
        return _model_folder(path / "model")  # a run folder: its model
    if (path / "run_info.json").is_file():
        raise FileNotFoundError(f"run folder {str(path)!r} has no model/ folder (it was deleted, or the run had "
                                "output.save_model: false)")
    raise FileNotFoundError(f"{str(path)!r} is not a model folder: it has no config.json")


#: Name of the file that marks a folder as a saved ensemble.
ENSEMBLE_FILENAME = "ensemble.json"


ENSEMBLE_FORMAT = "nlp_balance.easy_ensemble"


ENSEMBLE_FORMAT_VERSION = 1


def is_ensemble_dir(path: str | Path) -> bool:
    """True when ``path`` is a folder written by :meth:`EasyEnsemble.save_pretrained`."""
    return (Path(path) / ENSEMBLE_FILENAME).is_file()


def _softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=-1, keepdims=True)
    e = np.exp(shifted)
    return e / e.sum(axis=-1, keepdims=True)


def _read_meta(directory: Path) -> dict[str, Any]:
    path = directory / ENSEMBLE_FILENAME
    if not path.is_file():
        raise FileNotFoundError(f"{directory} is not an ensemble folder: it has no {ENSEMBLE_FILENAME}")
    meta = json.loads(path.read_text(encoding="utf-8"))
    if meta.get("format") != ENSEMBLE_FORMAT:
        raise ValueError(f"{path}: format is {meta.get('format')!r}, expected {ENSEMBLE_FORMAT!r}")
    if int(meta.get("format_version", 0)) > ENSEMBLE_FORMAT_VERSION:
        raise ValueError(f"{path}: format_version {meta['format_version']} is newer than this nlp_balance "
                         f"understands ({ENSEMBLE_FORMAT_VERSION}); upgrade nlp_balance")
    missing = [m for m in meta.get("members", []) if not (directory / m).is_dir()]
    if not meta.get("members") or missing:
        raise ValueError(f"{path}: member folders missing: {missing or 'none listed'}")
    return meta


class EnsembleClassifier(TextClassifier):
    """:class:`~nlp_balance.evaluation.classifier.TextClassifier` over several members: probabilities averaged.

    ``logits`` returns ``log(mean probability)``, so everything built on logits (softmax
    probabilities, argmax, a post-hoc adjustment) sees the ensemble's averaged prediction.
    """

    def __init__(self, members: Sequence[Any], tokenizer: Any, *, posthoc: Any = None, max_length: int = 128) -> None:
        if not members:
            raise ValueError("an ensemble needs at least one member")
        super().__init__(members[0], tokenizer, posthoc=posthoc, max_length=max_length)
        self.members = [m.eval() for m in members]
        for i, m in enumerate(self.members[1:], start=1):
            names = model_label_names(m.config)
            if names != self.label_names:
                raise ValueError(f"member {i} has labels {names}, member 0 has {self.label_names}")

    def predict_proba(self, texts: Sequence[str], *, batch_size: int = 64) -> np.ndarray:
        """Mean of the members' softmax probabilities, ``[n_texts, n_classes]`` (float64)."""
        total = None
        for member in self.members:
            self.model = member
            probs = _softmax(TextClassifier.logits(self, texts, batch_size=batch_size).astype(np.float64))
            total = probs if total is None else total + probs
        self.model = self.members[0]
        assert total is not None
        return total / len(self.members)

    def logits(self, texts: Sequence[str], *, batch_size: int = 64) -> np.ndarray:
        """``log`` of the averaged probabilities (softmax of it gives them back)."""
        probs = self.predict_proba(texts, batch_size=batch_size)
        return np.log(np.clip(probs, 1e-30, None)).astype(np.float32)

    def predict_ids(self, texts: Sequence[str], *, batch_size: int = 64) -> tuple[np.ndarray, np.ndarray]:
        """Predicted class ids (decision rule applied) and the averaged probabilities, in float64."""
        probs = self.predict_proba(texts, batch_size=batch_size)
        if self.posthoc is None:
            return probs.argmax(-1), probs
        logits = np.log(np.clip(probs, 1e-30, None)).astype(np.float32)
        return np.asarray(self.posthoc.predict(logits)), probs


def load_ensemble_parts(
    directory: str | Path, *, device: str | None = None
) -> tuple[list[Any], Any, dict[str, Any], Any]:
    """Members (on ``device``, eval mode), tokenizer, ``ensemble.json`` contents and post-hoc rule of an ensemble."""
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from nlp_balance.evaluation.decision_rules import load_posthoc

    directory = Path(directory)
    meta = _read_meta(directory)
    target = device or ("cuda" if torch.cuda.is_available() else "cpu")
    members = [AutoModelForSequenceClassification.from_pretrained(directory / name).to(target).eval()
               for name in meta["members"]]
    tok_dir = directory if (directory / "tokenizer_config.json").is_file() else directory / meta["members"][0]
    return members, AutoTokenizer.from_pretrained(tok_dir), meta, load_posthoc(directory)


def load_ensemble(path: str | Path, *, max_length: int = 128, device: str | None = None) -> EnsembleClassifier:
    """Load a saved ensemble folder as an :class:`EnsembleClassifier` (used by ``load_classifier``)."""
    members, tokenizer, _meta, posthoc = load_ensemble_parts(path, device=device)
    return EnsembleClassifier(members, tokenizer, posthoc=posthoc, max_length=max_length)
