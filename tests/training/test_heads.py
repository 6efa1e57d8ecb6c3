"""Auxiliary heads: GA-exact with BalancedTrainer, a hand-computed reference step, save/load round trip."""

from __future__ import annotations

import copy
import gc

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from datasets import Dataset
from transformers import AutoModelForSequenceClassification, BertConfig, BertForSequenceClassification
from transformers.utils import logging as hf_logging

from nlp_balance.training.arguments import BalancedTrainingArguments
from nlp_balance.training.heads import ModelWithAuxiliaryHead
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


def tiny_bert(seed: int = 0) -> BertForSequenceClassification:
    cfg = BertConfig(vocab_size=VOCAB, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                     intermediate_size=64, max_position_embeddings=32, num_labels=3, hidden_dropout_prob=0.0,
                     attention_probs_dropout_prob=0.0, classifier_dropout=0.0)
    torch.manual_seed(seed)
    return BertForSequenceClassification(cfg)


def wrapped(aux_type: str = "one_vs_rest", weight: float = 0.7) -> ModelWithAuxiliaryHead:
    model = ModelWithAuxiliaryHead(tiny_bert(), aux_type, weight, minority_classes=[2])
    torch.manual_seed(5)
    model.aux_head.reset_parameters()
    return model


def data(n: int = 8) -> Dataset:
    rng = np.random.default_rng(0)
    labels = [0, 1, 2, 0, 0, 1, 0, -100][:n]
    return Dataset.from_dict({"input_ids": rng.integers(5, VOCAB, size=(n, 7)).tolist(), "labels": labels})


def one_step(tmp_path, model, per_device, ga, **extra):
    args = BalancedTrainingArguments(
        output_dir=str(tmp_path), per_device_train_batch_size=per_device, gradient_accumulation_steps=ga,
        max_steps=1, learning_rate=0.5, optim="sgd", lr_scheduler_type="constant", weight_decay=0.0,
        max_grad_norm=0.0, report_to="none", save_strategy="no", use_cpu=True, seed=3, disable_tqdm=True, **extra)
    BalancedTrainer(model=model, args=args, train_dataset=data()).train()
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


@pytest.mark.parametrize(("aux_type", "extra"), [("one_vs_rest", {}),
                                                 ("minority_vs_majority", {"loss": "focal",
                                                                           "class_weighting": "balanced"})])
def test_ga_4x2_equals_batch_8(tmp_path, aux_type, extra):
    start = wrapped(aux_type).state_dict()
    full = one_step(tmp_path / "a", wrapped(aux_type), 8, 1, **extra)
    accum = one_step(tmp_path / "b", wrapped(aux_type), 2, 4, **extra)
    assert (full["aux_head.weight"] - start["aux_head.weight"]).abs().max() > 1e-3
    for k in start:
        torch.testing.assert_close(accum[k], full[k], atol=1e-5, rtol=0, msg=lambda m, k=k: f"{k}: {m}")


def test_step_matches_hand_computed_reference(tmp_path):
    """mean CE + 0.7 * mean over labelled rows of mean-over-classes BCE(one-hot), plain autograd, one SGD step."""
    model = wrapped()
    ref = copy.deepcopy(model.base)
    ref_aux = copy.deepcopy(model.aux_head)
    after = one_step(tmp_path, model, 2, 4)
    ds = data()
    ids, y = torch.tensor(ds["input_ids"]), torch.tensor(ds["labels"])
    mask = y != -100
    hidden = ref.bert(input_ids=ids).pooler_output  # BERT's classifier input (dropout 0)
    main = F.cross_entropy(ref.classifier(hidden)[mask], y[mask])
    target = F.one_hot(y[mask], 3).float()
    aux = F.binary_cross_entropy_with_logits(ref_aux(hidden[mask]), target)  # mean over rows and classes
    (main + 0.7 * aux).backward()
    with torch.no_grad():
        for name, p in ref.named_parameters():
            torch.testing.assert_close(after[f"base.{name}"], p - 0.5 * p.grad, atol=1e-5, rtol=0)
        for name, p in ref_aux.named_parameters():
            torch.testing.assert_close(after[f"aux_head.{name}"], p - 0.5 * p.grad, atol=1e-5, rtol=0)


def test_forward_modes_and_own_loss():
    model = wrapped("minority_vs_majority")
    ids = torch.tensor(data()["input_ids"])
    y = torch.tensor(data()["labels"])
    model.eval()
    out = model(input_ids=ids)
    assert set(out) == {"logits"}, "inference uses the main head only"
    torch.testing.assert_close(out["logits"], model.base(input_ids=ids).logits)
    both = model(input_ids=ids, return_aux=True)
    assert both["aux_logits"].shape == (8, 1)
    with_loss = model(input_ids=ids, labels=y)
    m = y != -100
    target = (y[m] == 2).float().unsqueeze(1)
    expected = F.cross_entropy(out["logits"][m], y[m]) + model.aux_weight * F.binary_cross_entropy_with_logits(
        both["aux_logits"][m], target)
    torch.testing.assert_close(with_loss["loss"], expected)


def test_save_and_load_round_trip(tmp_path):
    model = wrapped("one_vs_rest").eval()
    ids = torch.tensor(data()["input_ids"])
    before = model(input_ids=ids, return_aux=True)
    model.save_pretrained(tmp_path / "m")
    loaded = ModelWithAuxiliaryHead.from_pretrained(tmp_path / "m").eval()
    after = loaded(input_ids=ids, return_aux=True)
    torch.testing.assert_close(after["logits"], before["logits"])
    torch.testing.assert_close(after["aux_logits"], before["aux_logits"])
    assert loaded.aux_type == "one_vs_rest" and loaded.aux_weight == pytest.approx(0.7)
    plain = AutoModelForSequenceClassification.from_pretrained(tmp_path / "m").eval()  # the main head alone
    torch.testing.assert_close(plain(input_ids=ids).logits, before["logits"])


@pytest.mark.parametrize(("kwargs", "needle"), [
    ({"aux_type": "pairwise"}, "aux_type"),
    ({"aux_weight": -1}, "aux_weight"),
    ({"aux_type": "minority_vs_majority"}, "minority_classes"),
    ({"aux_type": "minority_vs_majority", "minority_classes": [9]}, r"\[9\]"),
])
def test_bad_arguments(kwargs, needle):
    with pytest.raises(ValueError, match=needle):
        ModelWithAuxiliaryHead(tiny_bert(), **kwargs)
