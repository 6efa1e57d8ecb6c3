"""TextClassifier: logits in input order, computed over length-sorted batches inside bounded windows."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from nlp_balance.evaluation import classifier as classifier_module
from nlp_balance.evaluation.classifier import TextClassifier

WORDS = "the cat sat on a mat while dogs ran far away from home in the rain".split()


@pytest.fixture(scope="module")
def clf(tiny_bert_dir):
    from transformers import AutoModelForSequenceClassification, AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    torch.manual_seed(0)
    model = AutoModelForSequenceClassification.from_pretrained(tiny_bert_dir, num_labels=3)
    return TextClassifier(model, AutoTokenizer.from_pretrained(tiny_bert_dir), max_length=64)


def mixed_texts(n: int = 60, seed: int = 0) -> list[str]:
    rng = np.random.default_rng(seed)
    return [" ".join(rng.choice(WORDS, size=int(rng.integers(1, 40)))) for _ in range(n)]


def test_logits_come_back_in_input_order(clf):
    texts = mixed_texts(30)
    batched = clf.logits(texts, batch_size=4)
    alone = np.concatenate([clf.logits([t], batch_size=1) for t in texts])
    np.testing.assert_allclose(batched, alone, atol=1e-5)
    assert batched.shape == (30, 3) and clf.logits([], batch_size=4).shape == (0, 3)


def test_batches_pad_little_and_stay_inside_their_window(clf, monkeypatch):
    texts = mixed_texts(60)
    monkeypatch.setattr(classifier_module, "WINDOW_BATCHES", 3)  # windows of 3 x 4 = 12 texts
    batches: list[list[str]] = []
    encode = clf._encode

    def spy(chunk, **kwargs):
        if kwargs.get("padding"):
            batches.append(list(chunk))
        return encode(chunk, **kwargs)

    monkeypatch.setattr(clf, "_encode", spy)
    clf.logits(texts, batch_size=4)
    tokens = {t: len(encode([t], padding=False)["input_ids"][0]) for t in texts}
    position = {t: i for i, t in enumerate(texts)}
    assert sorted(t for b in batches for t in b) == sorted(texts) and len(batches) == 15
    for k, batch in enumerate(batches):
        assert {position[t] // 12 for t in batch} == {k // 3}  # never mixed across windows
    for w in range(5):  # each window longest first
        lengths = [tokens[t] for b in batches[3 * w : 3 * w + 3] for t in b]
        assert lengths == sorted(lengths, reverse=True)

    def padded_share(groups: list[list[str]]) -> float:
        return sum(max(tokens[t] for t in g) * len(g) for g in groups) / sum(tokens.values())

    in_order = [texts[i : i + 4] for i in range(0, 60, 4)]
    assert padded_share(batches) < 0.85 * padded_share(in_order)
    monkeypatch.setattr(classifier_module, "WINDOW_BATCHES", 50)  # the default: one window here
    batches.clear()
    clf.logits(texts, batch_size=4)
    assert padded_share(in_order) > 1.4 and padded_share(batches) < 1.1
