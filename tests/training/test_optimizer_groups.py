"""head_learning_rate: the head's parameters get their own optimizer groups, rate and schedule."""

from __future__ import annotations

import copy
import gc

import numpy as np
import pytest
import torch
from datasets import Dataset
from transformers import BertConfig, BertForSequenceClassification
from transformers.utils import logging as hf_logging

from nlp_balance.training import ModelWithAuxiliaryHead, check_training_options, head_parameters
from nlp_balance.training.arguments import BalancedTrainingArguments
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


def tiny_bert() -> BertForSequenceClassification:
    cfg = BertConfig(vocab_size=VOCAB, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                     intermediate_size=64, max_position_embeddings=32, num_labels=3, hidden_dropout_prob=0.0,
                     attention_probs_dropout_prob=0.0, classifier_dropout=0.0)
    torch.manual_seed(0)
    return BertForSequenceClassification(cfg)


def toy_data(n: int = 8) -> Dataset:
    rng = np.random.default_rng(0)
    return Dataset.from_dict({"input_ids": rng.integers(5, VOCAB, size=(n, 7)).tolist(),
                              "labels": [0, 1, 2, 0, 0, 1, 0, 2][:n]})


def make_args(tmp_path, **extra) -> BalancedTrainingArguments:
    base = dict(output_dir=str(tmp_path), per_device_train_batch_size=8, max_steps=1, learning_rate=1e-3,
                optim="sgd", lr_scheduler_type="constant", weight_decay=0.0, max_grad_norm=0.0, report_to="none",
                save_strategy="no", use_cpu=True, seed=3, disable_tqdm=True, dataloader_num_workers=0)
    base.update(extra)
    return BalancedTrainingArguments(**base)


def test_head_groups_have_the_head_rate_and_keep_weight_decay(tmp_path):
    model = tiny_bert()
    trainer = BalancedTrainer(model=model, args=make_args(tmp_path, head_learning_rate=0.05, weight_decay=0.01,
                                                          optim="adamw_torch"), train_dataset=toy_data())
    optimizer = trainer.create_optimizer()
    head = {id(p) for p in model.classifier.parameters()}
    seen = [id(p) for g in optimizer.param_groups for p in g["params"]]
    assert sorted(seen) == sorted(id(p) for p in model.parameters()), "every parameter exactly once"
    for group in optimizer.param_groups:
        ids = {id(p) for p in group["params"]}
        assert ids <= head or not ids & head, "a group is all head or all encoder"
        assert group["lr"] == (0.05 if ids <= head else 1e-3)
    decay = {id(p): g["weight_decay"] for g in optimizer.param_groups for p in g["params"]}
    assert decay[id(model.classifier.weight)] == 0.01 and decay[id(model.classifier.bias)] == 0.0
    assert len(optimizer.param_groups) == 4  # encoder and head, each with and without weight decay


def test_one_sgd_step_moves_head_and_encoder_at_their_own_rates(tmp_path):
    """Independent reference: plain autograd on the mean CE, then p - lr * grad with the head's rate."""
    data = toy_data()
    model = tiny_bert()
    ref = copy.deepcopy(model)
    BalancedTrainer(model=model, args=make_args(tmp_path, head_learning_rate=0.5), train_dataset=data).train()
    logits = ref(input_ids=torch.tensor(data["input_ids"])).logits
    torch.nn.functional.cross_entropy(logits, torch.tensor(data["labels"])).backward()
    with torch.no_grad():
        for name, p in ref.named_parameters():
            lr = 0.5 if name.startswith("classifier.") else 1e-3
            torch.testing.assert_close(dict(model.named_parameters())[name], p - lr * p.grad, atol=1e-6, rtol=0)


def test_the_schedule_scales_the_head_rate_too(tmp_path):
    trainer = BalancedTrainer(model=tiny_bert(), args=make_args(tmp_path, head_learning_rate=0.1, warmup_steps=4,
                                                                lr_scheduler_type="linear"), train_dataset=toy_data())
    trainer.create_optimizer_and_scheduler(num_training_steps=10)
    for _ in range(2):
        trainer.optimizer.step()
        trainer.lr_scheduler.step()
    rates = {g["lr"] for g in trainer.optimizer.param_groups}
    assert sorted(rates) == pytest.approx([1e-3 * 2 / 4, 0.1 * 2 / 4])  # half way through the warm-up


def test_auxiliary_head_counts_as_head():
    wrapper = ModelWithAuxiliaryHead(tiny_bert(), "one_vs_rest")
    ids = {id(p) for p in head_parameters(wrapper)}
    expected = [*wrapper.base.classifier.parameters(), *wrapper.aux_head.parameters()]
    assert ids == {id(p) for p in expected}


def test_errors(tmp_path):
    for value in (0, -1e-3, float("nan"), True, "fast"):
        with pytest.raises(ValueError, match="head_learning_rate must be a number > 0"):
            check_training_options({"head_learning_rate": value})
    assert check_training_options({"head_learning_rate": 1})["head_learning_rate"] == 1.0
    model = tiny_bert()
    own = torch.optim.SGD(model.parameters(), lr=0.1)
    trainer = BalancedTrainer(model=model, args=make_args(tmp_path, head_learning_rate=0.05), train_dataset=toy_data(),
                              optimizers=(own, None))
    with pytest.raises(ValueError, match="head_learning_rate needs BalancedTrainer to create the optimizer"):
        trainer.create_optimizer()
