"""Attention heads (model.head): shapes, padding masked, save/load, BalancedTrainer (GA-exact), run folder."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from datasets import Dataset
from transformers import BertConfig, BertModel
from transformers.utils import logging as hf_logging

from nlp_balance.evaluation.attention_head_model import (
    ATTENTION_HEAD_FILENAME,
    AttentionHeadOutput,
    ModelWithAttentionHead,
)
from nlp_balance.training import BalancedTrainer, BalancedTrainingArguments, attention_head_classifier

hf_logging.set_verbosity_error()
HEADS = ("attention", "label_attention", "mean")
NAMES = ["ham", "spam", "eggs"]
VOCAB = 60


@pytest.fixture(scope="module", autouse=True)
def _one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def tokenizer(tiny_bert_dir):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(tiny_bert_dir)


def _batch(tokenizer):
    return tokenizer(["what is it", "how many people live in new york city today"], padding=True,
                     return_tensors="pt")


@pytest.mark.parametrize("head", HEADS)
def test_shapes_config_and_weights(tiny_bert_dir, tokenizer, head):
    model = attention_head_classifier(str(tiny_bert_dir), head, NAMES).eval()
    assert model.config.num_labels == 3 and model.config.id2label[1] == "spam" and model.config.label2id["eggs"] == 2
    enc = _batch(tokenizer)
    out = model(**enc, labels=torch.tensor([0, 2]), return_pooling_weights=True)
    assert isinstance(out, AttentionHeadOutput)
    assert out.logits.shape == (2, 3) and out.loss is not None and out.loss.ndim == 0
    queries = 3 if head == "label_attention" else 1
    assert out.pooling_weights.shape == (2, queries, enc["input_ids"].shape[1])
    torch.testing.assert_close(out.pooling_weights.sum(-1), torch.ones(2, queries))
    assert model(**enc).pooling_weights is None  # only when asked (keeps Trainer.predict outputs plain)
    assert torch.equal(model.pooling_weights(**enc), out.pooling_weights)
    assert isinstance(model(**enc, return_dict=False), tuple)


def test_the_mean_head_reads_the_mean_of_the_real_tokens(tiny_bert_dir, tokenizer):
    model = attention_head_classifier(str(tiny_bert_dir), "mean", NAMES).eval()
    assert not list(model.attention_pooling.parameters())  # nothing to learn in the pooling itself
    enc = _batch(tokenizer)
    with torch.no_grad():
        hidden = model.encoder(**enc)[0]
        mask = enc["attention_mask"].unsqueeze(-1).float()
        expected = model.classifier((hidden * mask).sum(1) / mask.sum(1))
        torch.testing.assert_close(model(**enc).logits, expected, atol=1e-5, rtol=0)


@pytest.mark.parametrize("head", HEADS)
def test_padding_gets_zero_weight_and_does_not_change_logits(tiny_bert_dir, tokenizer, head):
    model = attention_head_classifier(str(tiny_bert_dir), head, NAMES).eval()
    enc = _batch(tokenizer)
    pad = enc["attention_mask"] == 0
    assert pad.any()
    weights = model.pooling_weights(**enc)
    assert torch.all(weights.masked_select(pad[:, None, :].expand_as(weights)) == 0)
    other = {k: v.clone() for k, v in enc.items()}
    other["input_ids"][pad] = 1234  # any token id where the mask is 0
    with torch.no_grad():
        torch.testing.assert_close(model(**other).logits, model(**enc).logits, atol=1e-6, rtol=0)
    # the short text alone, unpadded, gives the same logits as in the padded batch
    alone = {k: v[:1, : int(enc["attention_mask"][0].sum())] for k, v in enc.items()}
    with torch.no_grad():
        torch.testing.assert_close(model(**alone).logits, model(**enc).logits[:1], atol=1e-5, rtol=0)


@pytest.mark.parametrize("head", HEADS)
def test_save_and_load_round_trip(tmp_path, tiny_bert_dir, tokenizer, head):
    from nlp_balance.evaluation import load_classifier

    model = attention_head_classifier(str(tiny_bert_dir), head, NAMES).eval()
    with torch.no_grad():  # move the head away from its initial values
        for p in [*model.attention_pooling.parameters(), *model.classifier.parameters()]:
            p.add_(torch.randn_like(p) * 0.5)
    model.save_pretrained(tmp_path)
    tokenizer.save_pretrained(tmp_path)
    meta = json.loads((tmp_path / ATTENTION_HEAD_FILENAME).read_text())
    assert meta["head_type"] == head and meta["format_version"] == 1
    loaded = ModelWithAttentionHead.from_pretrained(tmp_path)
    enc = _batch(tokenizer)
    with torch.no_grad():
        assert torch.equal(loaded(**enc).logits, model(**enc).logits)
    clf = load_classifier(tmp_path, device="cpu")  # the predict/evaluate loader rebuilds the head
    assert isinstance(clf.model, ModelWithAttentionHead) and clf.label_names == NAMES
    texts = ["what is it", "how many people live in new york city today"]
    np.testing.assert_allclose(clf.logits(texts), model(**enc).logits.detach().numpy(), atol=1e-6)
    meta["format_version"] = 99
    (tmp_path / ATTENTION_HEAD_FILENAME).write_text(json.dumps(meta))
    with pytest.raises(ValueError, match="newer"):
        ModelWithAttentionHead.from_pretrained(tmp_path)


def _tiny_encoder(num_labels: int = 3) -> BertModel:
    cfg = BertConfig(vocab_size=VOCAB, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                     intermediate_size=64, max_position_embeddings=32, num_labels=num_labels,
                     hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)
    torch.manual_seed(0)
    return BertModel(cfg)


def _one_step(tmp_path, head, per_device, ga):
    torch.manual_seed(1)
    model = ModelWithAttentionHead(_tiny_encoder(), head)
    rng = np.random.default_rng(0)
    ids = rng.integers(5, VOCAB, size=(8, 7))
    mask = np.ones_like(ids)
    mask[::2, 4:] = 0  # padding in half of the rows
    train = Dataset.from_dict({"input_ids": ids.tolist(), "attention_mask": mask.tolist(),
                               "labels": [0, 1, 2, 0, 0, 1, 0, 2]})
    args = BalancedTrainingArguments(
        output_dir=str(tmp_path), per_device_train_batch_size=per_device, gradient_accumulation_steps=ga,
        max_steps=1, learning_rate=0.5, optim="sgd", lr_scheduler_type="constant", weight_decay=0.0,
        max_grad_norm=0.0, report_to="none", save_strategy="no", use_cpu=True, seed=3, disable_tqdm=True,
        loss="focal", class_weighting="balanced", head_learning_rate=1.0)
    start = {k: v.detach().clone() for k, v in model.state_dict().items()}
    BalancedTrainer(model=model, args=args, train_dataset=train).train()
    return start, {k: v.detach().clone() for k, v in model.state_dict().items()}


@pytest.mark.parametrize("head", HEADS)
def test_balanced_trainer_step_moves_the_head_and_is_ga_exact(tmp_path, head):
    start, full = _one_step(tmp_path / "a", head, 8, 1)
    _, accum = _one_step(tmp_path / "b", head, 2, 4)
    for key in ("attention_pooling.queries", "classifier.weight") if head != "mean" else ("classifier.weight",):
        assert (full[key] - start[key]).abs().max() > 1e-4, key
    assert torch.equal(full["encoder.pooler.dense.weight"], start["encoder.pooler.dense.weight"])  # frozen
    for k in start:
        torch.testing.assert_close(accum[k], full[k], atol=1e-5, rtol=0, msg=lambda m, k=k: f"{k}: {m}")


def test_bad_head_arguments():
    with pytest.raises(ValueError, match="head_type"):
        ModelWithAttentionHead(_tiny_encoder(), "max")
    with pytest.raises(ValueError, match="head_type"):
        attention_head_classifier("unused", "default", NAMES)


def _recipe(tmp_path, model_dir, shared_data, **model):
    return {
        "name": "attn", "seed": 5,
        "dataset": {"source": str(shared_data / "trec6"), "max_train_samples": 120},
        "model": {"name_or_path": str(model_dir), "max_length": 16, **model},
        "training": {"num_train_epochs": 1, "per_device_train_batch_size": 16, "learning_rate": 5e-3,
                     "logging_steps": 2, "class_weighting": "balanced"},
        "output": {"dir": str(tmp_path / "run")},
    }


def test_label_attention_recipe_runs_and_predict_matches_the_run(tmp_path, tiny_bert_dir, shared_data):
    from nlp_balance.evaluation import load_classifier
    from nlp_balance.runs import recipe_from_dict, run_recipe

    recipe = recipe_from_dict(_recipe(tmp_path, tiny_bert_dir, shared_data, head="label_attention"))
    result = run_recipe(recipe)
    model_dir = result.run_dir / "model"
    meta = json.loads((model_dir / ATTENTION_HEAD_FILENAME).read_text())
    assert meta["head_type"] == "label_attention"
    rows = [json.loads(line) for line in (result.run_dir / "predictions.jsonl").read_text().splitlines()]
    clf = load_classifier(result.run_dir, max_length=16, device="cpu")
    assert isinstance(clf.model, ModelWithAttentionHead)
    predicted = clf.predict([r["text"] for r in rows])
    assert [p["label"] for p in predicted] == [r["prediction"] for r in rows]
    np.testing.assert_allclose([[p["probabilities"][n] for n in clf.label_names] for p in predicted],
                               [r["probabilities"] for r in rows], atol=2e-6)


@pytest.mark.parametrize(("model", "extra_training", "needle"), [
    ({"head": "max"}, {}, r"model\.head must be one of .*'mean'"),
    ({"head": "attention", "aux_head": {"type": "one_vs_rest"}}, {}, r"model\.aux_head cannot be combined"),
    ({"head": "label_attention"}, {"embedding_synthesis": "smote"}, r"training\.embedding_synthesis: smote"),
])
def test_recipe_refuses_bad_heads_naming_the_key(tmp_path, tiny_bert_dir, shared_data, model, extra_training,
                                                  needle):
    from nlp_balance.runs import RecipeError, recipe_from_dict

    data = _recipe(tmp_path, tiny_bert_dir, shared_data, **model)
    data["training"].update(extra_training)
    with pytest.raises(RecipeError, match=needle):
        recipe_from_dict(data)


def test_methods_other_than_single_refuse_an_attention_head(tmp_path, tiny_bert_dir, shared_data):
    from nlp_balance.runs import RecipeError, recipe_from_dict
    from nlp_balance.runs.methods import check_method_options

    data = _recipe(tmp_path, tiny_bert_dir, shared_data, head="attention")
    data["method"] = "easy_ensemble"
    with pytest.raises(RecipeError, match=r"model\.head cannot be used with method: easy_ensemble"):
        check_method_options(recipe_from_dict(data))


def test_the_baseline_run_uses_the_default_head(tmp_path, tiny_bert_dir, shared_data):
    from nlp_balance.runs import baseline_recipe, recipe_from_dict

    recipe = recipe_from_dict(_recipe(tmp_path, tiny_bert_dir, shared_data, head="label_attention"))
    assert baseline_recipe(recipe).model.head == "default"
