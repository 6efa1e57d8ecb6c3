"""Embedding-space SMOTE / mixup inside BalancedTrainer: exact under gradient accumulation, correct points."""

from __future__ import annotations

import gc

import numpy as np
import pytest
import torch
from datasets import Dataset
from torch import nn
from transformers import BertConfig, BertForSequenceClassification
from transformers.utils import logging as hf_logging

from nlp_balance.training.arguments import BalancedTrainingArguments
from nlp_balance.training.embedding_synthesis import EmbeddingSynthesizer
from nlp_balance.training.trainer import BalancedTrainer

hf_logging.set_verbosity_error()
VOCAB = 60


@pytest.fixture(scope="module", autouse=True)
def _fast_cpu():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    gc.freeze()
    yield
    gc.unfreeze()
    torch.set_num_threads(threads)


def tiny_bert(num_labels: int = 3, seed: int = 0) -> BertForSequenceClassification:
    cfg = BertConfig(vocab_size=VOCAB, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                     intermediate_size=64, max_position_embeddings=32, num_labels=num_labels,
                     hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0, classifier_dropout=0.0)
    torch.manual_seed(seed)
    return BertForSequenceClassification(cfg)


def toy_data(n: int = 16, seed: int = 0) -> Dataset:
    rng = np.random.default_rng(seed)
    labels = rng.choice(3, size=n, p=[0.55, 0.3, 0.15])
    labels[:6] = [0, 1, 2, 1, 2, 0]
    labels = labels.tolist()
    labels[-1] = -100
    return Dataset.from_dict({"input_ids": rng.integers(5, VOCAB, size=(n, 7)).tolist(), "labels": labels})


def make_args(tmp_path, per_device: int, ga: int, **extra) -> BalancedTrainingArguments:
    base = dict(output_dir=str(tmp_path), per_device_train_batch_size=per_device, gradient_accumulation_steps=ga,
                max_steps=2, learning_rate=0.5, optim="sgd", lr_scheduler_type="constant", weight_decay=0.0,
                max_grad_norm=0.0, report_to="none", save_strategy="no", use_cpu=True, seed=3, disable_tqdm=True,
                dataloader_num_workers=0)
    base.update(extra)
    return BalancedTrainingArguments(**base)


def train(tmp_path, per_device, ga, **extra):
    model = tiny_bert()
    trainer = BalancedTrainer(model=model, args=make_args(tmp_path, per_device, ga, **extra), train_dataset=toy_data())
    trainer.train()
    return {k: v.detach().clone() for k, v in model.state_dict().items()}, trainer


@pytest.mark.parametrize(("method", "opts"), [
    ("smote", {}),
    ("smote", {"loss": "focal", "class_weighting": "balanced", "synthesis_ratio": 1.5, "synthesis_k": 2}),
    ("mixup", {"synthesis_weight": 0.5}),
])
def test_ga_4x2_equals_batch_8_over_two_steps(tmp_path, method, opts):
    full, t_full = train(tmp_path / "a", 8, 1, embedding_synthesis=method, **opts)
    accum, t_acc = train(tmp_path / "b", 2, 4, embedding_synthesis=method, **opts)
    plain, _ = train(tmp_path / "c", 8, 1, **opts)
    synth_full, synth_acc = t_full.embedding_synthesizer, t_acc.embedding_synthesizer
    assert synth_full.synthesized_ > 0 and synth_full.synthesized_ == synth_acc.synthesized_
    for c in synth_full.bank:  # the bank does not depend on the micro-batch split
        torch.testing.assert_close(synth_full.bank[c], synth_acc.bank[c], atol=1e-5, rtol=0)
    start = tiny_bert().state_dict()
    assert max((full[k] - start[k]).abs().max().item() for k in start) > 1e-3
    for k in start:
        torch.testing.assert_close(accum[k], full[k], atol=1e-5, rtol=0, msg=lambda m, k=k: f"{k}: {m}")
    # the synthetic term really changed the head (the comparison is not vacuous) ...
    assert (full["classifier.weight"] - plain["classifier.weight"]).abs().max() > 1e-4
    # ... and only the head: synthetic points enter from detached inputs
    for k in start:
        if not k.startswith("classifier."):
            torch.testing.assert_close(full[k], plain[k], atol=1e-6, rtol=0)


class Toy(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(1)
        self.encoder = nn.Linear(4, 5)
        self.classifier = nn.Linear(5, 3)

    def forward(self, x):
        return self.classifier(torch.tanh(self.encoder(x)))


def test_smote_points_lie_towards_a_nearest_same_class_neighbour():
    model = Toy()
    synth = EmbeddingSynthesizer("smote", 3, [1, 2], k=2, ratio=2.0, seed=0)
    synth.attach(model)
    loss_fn = nn.CrossEntropyLoss(reduction="none")
    rng = np.random.default_rng(0)
    x_bank, y_bank = torch.tensor(rng.normal(size=(12, 4)), dtype=torch.float32), torch.tensor([0, 1, 2] * 4)
    with synth.capture():
        model(x_bank)
    assert float(synth.loss_sum(y_bank, loss_fn, step=0).detach()) == 0.0  # the bank is empty in the first step
    bank_reps = torch.tanh(model.encoder(x_bank)).detach()

    seen = []
    handle = model.classifier.register_forward_pre_hook(lambda m, a: seen.append(a[0].detach().clone()))
    x, y = torch.tensor(rng.normal(size=(5, 4)), dtype=torch.float32), torch.tensor([1, 2, 0, 2, -100])
    with synth.capture():
        model(x)
    total = synth.loss_sum(y, loss_fn, step=1)
    handle.remove()
    synthetic = seen[-1]
    anchors_y = torch.tensor([1, 1, 2, 2, 2, 2])  # ratio 2: two points per minority example, in order
    assert synthetic.shape == (6, 5) and synth.synthesized_ == 6
    reps = torch.tanh(model.encoder(x)).detach()
    anchor_rows = [0, 0, 1, 1, 3, 3]
    for point, row, cls in zip(synthetic, anchor_rows, anchors_y):
        a = reps[row]
        same = bank_reps[y_bank == cls]
        nearest = same[torch.argsort(((same - a) ** 2).sum(1))[:2]]
        ok = False
        for n in nearest:
            d = n - a
            t = float(((point - a) @ d) / (d @ d))
            if 0 <= t < 1 and torch.allclose(a + t * d, point, atol=1e-6):
                ok = True
        assert ok, "each synthetic point lies between its anchor and one of its 2 nearest same-class neighbours"
    expected = loss_fn(model.classifier(synthetic), anchors_y).sum()
    torch.testing.assert_close(total, expected)


def test_default_classes_and_errors(tmp_path):
    trainer = BalancedTrainer(model=tiny_bert(), args=make_args(tmp_path, 2, 1, embedding_synthesis="smote"),
                              train_dataset=toy_data())
    counts = np.bincount([y for y in toy_data()["labels"] if y >= 0], minlength=3)
    expected = [c for c in range(3) if counts[c] < counts.max()]
    assert len(expected) == 2 and trainer.embedding_synthesizer.classes == expected  # all but the majority
    with pytest.raises(ValueError, match="embedding_synthesis='smot'"):
        make_args(tmp_path, 2, 1, embedding_synthesis="smot")
    with pytest.raises(ValueError, match="synthesis_classes"):
        BalancedTrainer(model=tiny_bert(), args=make_args(tmp_path, 2, 1, embedding_synthesis="smote",
                                                          synthesis_classes=[7]), train_dataset=toy_data())
    for kwargs, needle in [({"k": 0}, "synthesis_k"), ({"ratio": 0}, "synthesis_ratio"),
                           ({"weight": -1.0}, "synthesis_weight"), ({"bank_size": 0}, "memory_bank_size")]:
        with pytest.raises(ValueError, match=needle):
            EmbeddingSynthesizer("smote", 3, [1], **kwargs)
    with pytest.raises(ValueError, match="classification head"):
        EmbeddingSynthesizer("smote", 3, [1]).attach(nn.Linear(2, 2))


def test_eval_does_not_synthesise(tmp_path):
    trainer = BalancedTrainer(model=tiny_bert(), args=make_args(tmp_path, 4, 1, embedding_synthesis="smote",
                                                                per_device_eval_batch_size=8),
                              train_dataset=toy_data(), eval_dataset=toy_data())
    trainer.train()
    made = trainer.embedding_synthesizer.synthesized_
    trainer.evaluate()
    assert trainer.embedding_synthesizer.synthesized_ == made
