"""Classifiers that judge generated texts: "does this read as class c, and how surely?".

The augment layer cannot import :mod:`nlp_balance.evaluation`, so a classifier here is anything with
``label_names`` and ``predict_proba(texts) -> [n, classes]`` (or ``predict_ids(texts) -> (ids, probs)``,
which :class:`nlp_balance.evaluation.TextClassifier` has). Two configuration-only ones are built in,
so that an augmenter that uses them keeps a stable ``datasets`` fingerprint:

* :class:`ModelClassifier`: a saved sequence classifier (a model folder, a run folder, a Hub id);
* :class:`CentroidClassifier`: the nearest class centroid in the space of a sentence encoder (the
  :class:`~.filters.SimilarityFilter`'s), with the centroids taken from real examples of each class.
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from nlp_balance.data.labels import model_label_names

from ._runtime import pick_device_dtype, positive_int, quietly
from .filters import SimilarityFilter

__all__ = ["CentroidClassifier", "ModelClassifier", "class_probabilities", "is_classifier"]

#: Softmax temperature over the cosine similarities to the class centroids.
CENTROID_TEMPERATURE = 0.05


def is_classifier(obj: Any) -> bool:
    """Whether ``obj`` can judge texts: it has ``label_names`` and ``predict_proba`` or ``predict_ids``."""
    def has(name: str) -> bool:  # static look-up: a lazy ``label_names`` property must not load a model here
        try:
            inspect.getattr_static(obj, name)
        except AttributeError:
            return False
        return True

    return has("label_names") and (callable(getattr(obj, "predict_proba", None))
                                   or callable(getattr(obj, "predict_ids", None)))


def class_probabilities(classifier: Any, texts: Sequence[str]) -> np.ndarray:
    """``[len(texts), len(classifier.label_names)]`` class probabilities from any classifier (see the module docs)."""
    texts = list(texts)
    n_classes = len(list(classifier.label_names))
    if not texts:
        return np.zeros((0, n_classes))
    if callable(getattr(classifier, "predict_proba", None)):
        probs = classifier.predict_proba(texts)
    else:
        probs = classifier.predict_ids(texts)[1]
    probs = np.asarray(probs, dtype=np.float64)
    if probs.shape != (len(texts), n_classes):
        raise ValueError(f"{type(classifier).__name__} returned probabilities of shape {probs.shape}, "
                         f"expected {(len(texts), n_classes)}")
    return probs


def _model_folder(path: str) -> str:
    """A run folder's ``model/``, or ``path`` itself (a model folder or a Hub id)."""
    folder = Path(path).expanduser()
    if folder.is_dir() and not (folder / "config.json").is_file() and (folder / "model" / "config.json").is_file():
        return str(folder / "model")
    return path


class ModelClassifier:
    """A saved sequence classifier, loaded on first use in each process (pickles as its configuration).

    Args:
        path: a model folder, a run folder (its ``model/`` is used) or a Hub id.
        batch_size: texts per forward pass. max_length: tokens per text.
        device: ``None`` = CUDA when available, else CPU.
    """

    def __init__(self, path: str | os.PathLike[str], *, batch_size: int = 32, max_length: int = 128,
                 device: str | None = None) -> None:
        if not isinstance(path, (str, os.PathLike)) or not os.fspath(path):
            raise ValueError(f"path must be a model folder, a run folder or a Hub id, got {path!r}")
        self.path = _model_folder(os.fspath(path))
        self.batch_size = positive_int("batch_size", batch_size)
        self.max_length = positive_int("max_length", max_length, minimum=2)
        self.device = device
        self._loaded: tuple[Any, Any] | None = None

    def __getstate__(self) -> dict[str, Any]:
        return {"path": self.path, "batch_size": self.batch_size, "max_length": self.max_length,
                "device": self.device, "_loaded": None}

    def __repr__(self) -> str:
        return f"ModelClassifier({self.path!r})"

    @property
    def label_names(self) -> list[str]:
        """Class names in id order, from the model's ``config.json``."""
        return model_label_names(self._load()[0].config)

    def _load(self) -> tuple[Any, Any]:
        if self._loaded is None:
            from transformers import AutoModelForSequenceClassification, AutoTokenizer

            device, _ = pick_device_dtype(self.device, "float32")
            tokenizer = AutoTokenizer.from_pretrained(self.path)
            model = quietly(lambda: AutoModelForSequenceClassification.from_pretrained(self.path))
            self._loaded = (model.to(device).eval(), tokenizer)
        return self._loaded

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """Softmax probabilities, ``[n, classes]``, over length-sorted batches."""
        import torch

        model, tokenizer = self._load()
        texts = list(texts)
        out = np.zeros((len(texts), int(model.config.num_labels)))
        order = np.argsort([len(t) for t in texts], kind="stable")
        with torch.inference_mode():
            for start in range(0, len(texts), self.batch_size):
                idx = order[start : start + self.batch_size]
                enc = tokenizer([texts[i] for i in idx], truncation=True, max_length=self.max_length,
                                padding=True, return_tensors="pt").to(model.device)
                output = model(**enc)
                logits = output["logits"] if isinstance(output, dict) else output.logits
                out[idx] = torch.softmax(logits.float(), dim=-1).cpu().numpy()
        return out


class CentroidClassifier:
    """Nearest class centroid in a sentence encoder's space: ``softmax(cos(text, centroid_c) / 0.05)``.

    A cheap stand-in for a trained classifier: it needs only real examples of two or more classes.

    Args:
        examples: class name -> real texts of that class (the centroid is their mean embedding).
        encoder: a :class:`~.filters.SimilarityFilter` (its encoder embeds; default all-MiniLM-L6-v2).
    """

    def __init__(self, examples: Mapping[str, Sequence[str]], encoder: SimilarityFilter | None = None) -> None:
        if not isinstance(examples, Mapping):
            raise ValueError(f"examples must be a mapping of class name -> texts, got {examples!r}")
        for c, texts in examples.items():
            if isinstance(texts, str) or not all(isinstance(t, str) for t in texts):
                raise ValueError(f"examples[{c!r}] must be a list of str, got {texts!r}")
        if encoder is not None and not isinstance(encoder, SimilarityFilter):
            raise ValueError(f"encoder must be a SimilarityFilter or None, got {encoder!r}")
        usable = {str(c): list(t) for c, t in examples.items() if len(t) > 0}
        if len(usable) < 2:
            raise ValueError(f"a centroid classifier needs examples of at least two classes, got {sorted(usable)}")
        self.examples = usable
        self.encoder = encoder if encoder is not None else SimilarityFilter()
        self._centroids: Any = None

    def __getstate__(self) -> dict[str, Any]:
        return {"examples": self.examples, "encoder": self.encoder, "_centroids": None}

    def __repr__(self) -> str:
        sizes = {c: len(t) for c, t in self.examples.items()}
        return f"CentroidClassifier(examples per class={sizes}, encoder={self.encoder!r})"

    @property
    def label_names(self) -> list[str]:
        """The classes that have examples, in the order given."""
        return list(self.examples)

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """Softmax over the cosine similarities to each class centroid, ``[n, classes]``."""
        if self._centroids is None:
            means = [np.asarray(self.encoder.embed(t)).mean(0) for t in self.examples.values()]
            centroids = np.stack(means)
            self._centroids = centroids / np.linalg.norm(centroids, axis=1, keepdims=True).clip(min=1e-12)
        if not texts:
            return np.zeros((0, len(self.examples)))
        sims = np.asarray(self.encoder.embed(list(texts)), dtype=np.float64) @ self._centroids.T
        z = sims / CENTROID_TEMPERATURE
        z -= z.max(axis=1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(axis=1, keepdims=True)
