"""TMix (embedding_synthesis="tmix"): it trains the encoder, matches a hand computation, stays exact under GA."""

from __future__ import annotations

import gc

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from datasets import Dataset
from torch import nn
from transformers import (
    BertConfig,
    BertForSequenceClassification,
    DistilBertConfig,
    DistilBertForSequenceClassification,
    RobertaConfig,
    RobertaForSequenceClassification,
)
from transformers.utils import logging as hf_logging

from nlp_balance.training import HiddenStateMixup, check_training_options, default_tmix_layers, encoder_layers
from nlp_balance.training.arguments import BalancedTrainingArguments
from nlp_balance.training.trainer import BalancedTrainer

hf_logging.set_verbosity_error()
VOCAB = 60
PAD = 0


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
                     intermediate_size=64, max_position_embeddings=32, num_labels=num_labels, pad_token_id=PAD,
                     hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0, classifier_dropout=0.0)
    torch.manual_seed(seed)
    return BertForSequenceClassification(cfg)


def toy_data(n: int = 16, seed: int = 0, ragged: bool = False) -> Dataset:
    """Imbalanced 3-class rows (the last one ignored); ``ragged`` gives them 3 to 9 tokens."""
    rng = np.random.default_rng(seed)
    labels = rng.choice(3, size=n, p=[0.55, 0.3, 0.15])
    labels[:6] = [0, 1, 2, 1, 2, 0]
    labels = labels.tolist()
    labels[-1] = -100
    lengths = rng.integers(3, 10, size=n) if ragged else [7] * n
    ids = [rng.integers(5, VOCAB, size=int(k)).tolist() for k in lengths]
    return Dataset.from_dict({"input_ids": ids, "labels": labels})


def pad_collator(features: list[dict]) -> dict[str, torch.Tensor]:
    """Right-pad to the longest row of the batch, with an attention mask."""
    longest = max(len(f["input_ids"]) for f in features)
    ids = [f["input_ids"] + [PAD] * (longest - len(f["input_ids"])) for f in features]
    mask = [[1] * len(f["input_ids"]) + [0] * (longest - len(f["input_ids"])) for f in features]
    return {"input_ids": torch.tensor(ids), "attention_mask": torch.tensor(mask),
            "labels": torch.tensor([f["labels"] for f in features])}


def make_args(tmp_path, per_device: int, ga: int, **extra) -> BalancedTrainingArguments:
    base = dict(output_dir=str(tmp_path), per_device_train_batch_size=per_device, gradient_accumulation_steps=ga,
                max_steps=2, learning_rate=0.5, optim="sgd", lr_scheduler_type="constant", weight_decay=0.0,
                max_grad_norm=0.0, report_to="none", save_strategy="no", use_cpu=True, seed=3, disable_tqdm=True,
                dataloader_num_workers=0)
    base.update(extra)
    return BalancedTrainingArguments(**base)


def train(tmp_path, per_device, ga, data=None, **extra):
    model = tiny_bert()
    trainer = BalancedTrainer(model=model, args=make_args(tmp_path, per_device, ga, **extra),
                              train_dataset=data if data is not None else toy_data(), data_collator=pad_collator)
    trainer.train()
    return {k: v.detach().clone() for k, v in model.state_dict().items()}, trainer


def max_diff(a: dict, b: dict, prefix: str = "") -> float:
    return max((a[k] - b[k]).abs().max().item() for k in a if k.startswith(prefix))


def test_tmix_moves_the_encoder_where_head_synthesis_does_not(tmp_path):
    """Step 1 fills the partner bank (nothing is mixed, so TMix's weights equal plain CE's); step 2 mixes.
    After that one mixing step the encoder, down to its first layer, differs from plain CE, and so do
    the logits on held-out inputs; head-input mixup changes only the head."""
    one_plain, _ = train(tmp_path / "p1", 8, 1, max_steps=1)
    one_tmix, t1 = train(tmp_path / "t1", 8, 1, max_steps=1, embedding_synthesis="tmix", tmix_layers=[1, 2])
    assert t1.embedding_synthesizer.synthesized_ == 0 and max_diff(one_plain, one_tmix) == 0.0

    plain, _ = train(tmp_path / "p2", 8, 1)
    head_mix, th = train(tmp_path / "h2", 8, 1, embedding_synthesis="mixup")
    tmix, tt = train(tmp_path / "t2", 8, 1, embedding_synthesis="tmix", tmix_layers=[1, 2])
    assert th.embedding_synthesizer.synthesized_ > 0 and tt.embedding_synthesizer.synthesized_ > 0
    assert max_diff(head_mix, plain, "classifier.") > 1e-4
    assert max_diff(head_mix, plain, "bert.") < 1e-6  # head-input synthesis: the encoder's gradient is unchanged
    assert max_diff(tmix, plain, "bert.encoder.layer.0.") > 1e-4  # TMix: below every mixing layer too
    assert max_diff(tmix, plain, "bert.embeddings.") > 1e-4

    held_out = torch.tensor(toy_data(6, seed=9)["input_ids"])
    logits = {}
    for name, state in (("plain", plain), ("head", head_mix), ("tmix", tmix)):
        model = tiny_bert()
        model.load_state_dict(state)
        with torch.no_grad():
            out = model(input_ids=held_out, output_hidden_states=True)
        logits[name] = (out.logits, out.hidden_states[-1])
    torch.testing.assert_close(logits["head"][1], logits["plain"][1], atol=1e-6, rtol=0)
    assert (logits["tmix"][1] - logits["plain"][1]).abs().max() > 1e-4
    assert (logits["tmix"][0] - logits["plain"][0]).abs().max() > 1e-4


@pytest.mark.parametrize("opts", [
    {},
    {"tmix_layers": [1, 2], "loss": "focal", "class_weighting": "balanced", "synthesis_ratio": 1.5,
     "synthesis_weight": 0.5},
    {"tmix_layers": [1], "mixup_alpha": 2.0, "ragged": True},
])
def test_ga_4x2_equals_batch_8(tmp_path, opts):
    opts = dict(opts)
    data = toy_data(ragged=opts.pop("ragged", False))
    full, t_full = train(tmp_path / "a", 8, 1, data, embedding_synthesis="tmix", **opts)
    accum, t_acc = train(tmp_path / "b", 2, 4, data, embedding_synthesis="tmix", **opts)
    plain, _ = train(tmp_path / "c", 8, 1, data, **{k: v for k, v in opts.items() if "tmix" not in k})
    s_full, s_acc = t_full.embedding_synthesizer, t_acc.embedding_synthesizer
    assert s_full.synthesized_ > 0 and s_full.synthesized_ == s_acc.synthesized_
    assert sorted(s_full.bank) == sorted(s_acc.bank)
    for c in s_full.bank:  # the same partner rows, in the same order, whatever the split
        assert [r["input_ids"].tolist() for r in s_full.bank[c]] == [r["input_ids"].tolist() for r in s_acc.bank[c]]
    start = tiny_bert().state_dict()
    assert max_diff(full, start) > 1e-3
    assert max_diff(full, plain, "bert.encoder.layer.0.") > 1e-5, "TMix changed the encoder (not vacuous)"
    for k in start:
        torch.testing.assert_close(accum[k], full[k], atol=1e-5, rtol=0, msg=lambda m, k=k: f"{k}: {m}")


def test_same_seed_same_run_other_seed_other_draws(tmp_path):
    first, t1 = train(tmp_path / "a", 4, 2, embedding_synthesis="tmix", tmix_layers=[1, 2], max_steps=3)
    again, t2 = train(tmp_path / "b", 4, 2, embedding_synthesis="tmix", tmix_layers=[1, 2], max_steps=3)
    assert t1.embedding_synthesizer.synthesized_ > 0
    for k in first:
        assert torch.equal(first[k], again[k]), k
    s1, s2 = t1.embedding_synthesizer, t2.embedding_synthesizer
    plans = [s1.plan(7, 0, p) for p in range(20)]
    assert plans == [s2.plan(7, 0, p) for p in range(20)]
    other = HiddenStateMixup(3, s1.classes, layers=[1, 2], seed=4)
    other.attach(tiny_bert())
    other.bank = s1.bank
    assert plans != [other.plan(7, 0, p) for p in range(20)]
    assert plans != [s1.plan(7, 1, p) for p in range(20)], "the process rank is part of the key"
    lams = [lam for plan in plans for _, _, lam, _ in plan]
    assert lams and all(0.5 <= lam <= 1.0 for lam in lams)  # TMix's lam = max(l, 1 - l)


def _bank_then_anchor_loss(model: nn.Module, synth: HiddenStateMixup, loss_fn: nn.Module):
    """Step 0 banks three padded rows (4, 9 and 9 tokens); step 1 mixes two 7-token anchors. The bank's
    token ids (5..29) and the anchors' (30..59) are disjoint, so a gradient on a bank token's embedding
    can only come through the partner branch."""
    rng = np.random.default_rng(1)
    bank_ids = torch.full((3, 9), PAD)
    bank_mask = torch.zeros((3, 9), dtype=torch.long)
    for row, n in enumerate((4, 9, 9)):
        bank_ids[row, :n] = torch.tensor(rng.integers(5, 30, size=n))
        bank_mask[row, :n] = 1
    with synth.capture():
        model(input_ids=bank_ids, attention_mask=bank_mask)
    assert float(synth.loss_sum(torch.tensor([0, 1, 2]), loss_fn, step=0)) == 0.0  # the bank starts empty
    anchors = torch.tensor(rng.integers(30, VOCAB, size=(3, 7)))
    labels = torch.tensor([1, 0, 2])  # class 0 is not a synthesis class
    with synth.capture():
        model(input_ids=anchors, attention_mask=torch.ones_like(anchors))
    total = synth.loss_sum(labels, loss_fn, step=1)
    return total, bank_ids, bank_mask, anchors, labels


def test_mixed_loss_matches_a_hand_computation():
    """Independent reference: hidden states from output_hidden_states, mixed by hand, then the remaining
    layers, pooler and classifier called directly; the trainer-style weighted loss per item. The mixed
    layer-1 states themselves are compared too, as layer 2 receives them."""
    model = tiny_bert()
    synth = HiddenStateMixup(3, [1, 2], layers=[1, 2], ratio=2.0, alpha=0.7, seed=5)
    synth.attach(model)
    layer2_inputs: list[torch.Tensor] = []
    model.bert.encoder.layer[1].register_forward_pre_hook(lambda m, a: layer2_inputs.append(a[0].detach()))
    loss_fn = nn.CrossEntropyLoss(weight=torch.tensor([0.5, 2.0, 3.0]), reduction="none")
    total, bank_ids, bank_mask, anchors, labels = _bank_then_anchor_loss(model, synth, loss_fn)
    assert synth.synthesized_ == 4  # ratio 2: two mixes for each of the two anchors

    bank_labels = [0, 1, 2]
    expected = torch.zeros(())
    by_layer: dict[int, set[int]] = {}
    mixed_at_1 = []
    for row in (0, 2):
        for c, i, lam, layer in synth.plan(1, 0, row):
            partner = [r for r in range(3) if bank_labels[r] == c][i]
            by_layer.setdefault(layer, set()).add(partner)
            n = int(bank_mask[partner].sum())
            h_a = model.bert(input_ids=anchors[row:row + 1], output_hidden_states=True).hidden_states[layer]
            h_p = model.bert(input_ids=bank_ids[partner:partner + 1, :n], output_hidden_states=True)
            h_p = h_p.hidden_states[layer]
            h_p = F.pad(h_p, (0, 0, 0, 7 - n)) if n < 7 else h_p[:, :7]
            x = lam * h_a + (1 - lam) * h_p
            if layer == 1:
                mixed_at_1.append(x.detach()[0])
            for block in model.bert.encoder.layer[layer:]:
                x = block(x)
            logits = model.classifier(model.bert.pooler(x))
            per = lam * loss_fn(logits, labels[row:row + 1]) + (1 - lam) * loss_fn(logits, torch.tensor([c]))
            expected = expected + per.sum()
    # the draws use both layers, and one layer's partners are padded (row 0, 4 tokens) beside a longer
    # one that is trimmed to the anchors' 7 tokens (change the seed if not)
    assert sorted(by_layer) == [1, 2] and len(by_layer[1]) > 1 and 0 in by_layer[1], by_layer
    torch.testing.assert_close(total, expected, atol=1e-5, rtol=1e-5)
    hand = torch.stack(mixed_at_1)
    assert any(t.shape == hand.shape and torch.allclose(t, hand, atol=1e-5) for t in layer2_inputs)

    total.backward()  # the mixed loss alone reaches the embeddings, through the partners too
    used = sorted(set().union(*by_layer.values()))
    partner_tokens = torch.cat([bank_ids[r, :int(bank_mask[r].sum())] for r in used])
    assert (model.bert.embeddings.word_embeddings.weight.grad[partner_tokens].abs().sum(-1) > 0).all()
    assert model.bert.encoder.layer[0].attention.self.query.weight.grad.abs().sum() > 0


@pytest.mark.parametrize("family", ["distilbert", "roberta"])
def test_other_bert_family_encoders(family):
    if family == "distilbert":
        cfg = DistilBertConfig(vocab_size=VOCAB, dim=32, n_layers=2, n_heads=2, hidden_dim=64,
                               max_position_embeddings=32, num_labels=3, pad_token_id=PAD)
        torch.manual_seed(0)
        model, first = DistilBertForSequenceClassification(cfg), "distilbert.transformer.layer.0."
    else:
        cfg = RobertaConfig(vocab_size=VOCAB, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                            intermediate_size=64, max_position_embeddings=40, num_labels=3, pad_token_id=1)
        torch.manual_seed(0)
        model, first = RobertaForSequenceClassification(cfg), "roberta.encoder.layer.0."
    assert len(encoder_layers(model)) == 2
    synth = HiddenStateMixup(3, [1, 2], layers=[1], seed=0)
    synth.attach(model)
    total, *_ = _bank_then_anchor_loss(model, synth, nn.CrossEntropyLoss(reduction="none"))
    assert synth.synthesized_ == 2
    total.backward()
    grads = [p.grad for n, p in model.named_parameters() if n.startswith(first)]
    assert grads and any(g is not None and g.abs().sum() > 0 for g in grads)


def test_default_layers_options_and_errors(tmp_path):
    assert default_tmix_layers(12) == [7, 9, 12]  # TMix's set for BERT-base
    assert default_tmix_layers(6) == [4, 5, 6]  # MiniLM-L6
    assert default_tmix_layers(2) == [2]
    trainer = BalancedTrainer(model=tiny_bert(), args=make_args(tmp_path, 2, 1, embedding_synthesis="tmix"),
                              train_dataset=toy_data())
    synth = trainer.embedding_synthesizer
    assert isinstance(synth, HiddenStateMixup) and synth.layers == [2]
    counts = np.bincount([y for y in toy_data()["labels"] if y >= 0], minlength=3)
    assert synth.classes == [c for c in range(3) if counts[c] < counts.max()]  # every non-majority class
    assert check_training_options({"embedding_synthesis": "tmix", "tmix_layers": [3, 1, 3]})["tmix_layers"] == [1, 3]
    for values, needle in [
        ({"tmix_layers": []}, "tmix_layers must be a non-empty list"),
        ({"tmix_layers": [0]}, "tmix_layers must be a non-empty list"),
        ({"embedding_synthesis": "smote", "tmix_layers": [1]}, "tmix_layers is used by embedding_synthesis='tmix'"),
        ({"embedding_synthesis": "tmix", "gradient_checkpointing": True}, "gradient checkpointing"),
    ]:
        with pytest.raises(ValueError, match=needle):
            check_training_options(values)
    with pytest.raises(ValueError, match="gradient_checkpointing"):
        make_args(tmp_path, 2, 1, embedding_synthesis="tmix", gradient_checkpointing=True)
    with pytest.raises(ValueError, match=r"tmix_layers \[3\] exceed the encoder's 2 layers"):
        BalancedTrainer(model=tiny_bert(), args=make_args(tmp_path, 2, 1, embedding_synthesis="tmix",
                                                          tmix_layers=[1, 3]), train_dataset=toy_data())
    with pytest.raises(ValueError, match="BERT-family encoder"):
        HiddenStateMixup(3, [1]).attach(nn.Linear(2, 2))


def test_eval_does_not_mix(tmp_path):
    trainer = BalancedTrainer(model=tiny_bert(), args=make_args(tmp_path, 4, 1, embedding_synthesis="tmix",
                                                                per_device_eval_batch_size=8),
                              train_dataset=toy_data(), eval_dataset=toy_data(), data_collator=pad_collator)
    trainer.train()
    made = trainer.embedding_synthesizer.synthesized_
    assert made > 0
    trainer.evaluate()
    assert trainer.embedding_synthesizer.synthesized_ == made
