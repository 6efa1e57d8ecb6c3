"""The training console: one compact line per evaluation and a final table, raw dictionaries only when verbose."""

from __future__ import annotations

import re

import pytest
from datasets import ClassLabel, Dataset
from transformers import AutoModelForSequenceClassification, AutoTokenizer, DataCollatorWithPadding
from transformers.utils import logging as hf_logging

from nlp_balance.training.arguments import BalancedTrainingArguments
from nlp_balance.training.console import CompactPrinterCallback, CompactProgressCallback
from nlp_balance.training.trainer import BalancedTrainer

NAMES = ["big", "middle", "tiny class"]


def _trainer(tiny_bert_dir, tmp_path, *, disable_tqdm: bool = False) -> BalancedTrainer:
    tok = AutoTokenizer.from_pretrained(tiny_bert_dir)
    texts = [f"example number {i} about {NAMES[i % 3]}" for i in range(48)]
    labels = [0] * 30 + [1] * 12 + [2] * 6
    ds = Dataset.from_dict({"text": texts, "label": labels}).cast_column("label", ClassLabel(names=NAMES))
    ds = ds.map(lambda b: tok(b["text"], truncation=True, max_length=16), batched=True, remove_columns=["text"])
    model = AutoModelForSequenceClassification.from_pretrained(
        tiny_bert_dir, num_labels=3, id2label=dict(enumerate(NAMES)), label2id={n: i for i, n in enumerate(NAMES)})
    args = BalancedTrainingArguments(output_dir=str(tmp_path), num_train_epochs=2, per_device_train_batch_size=16,
                                     eval_strategy="epoch", logging_steps=1, save_strategy="no", report_to="none",
                                     use_cpu=True, learning_rate=1e-3,
                                     # set either way, whatever verbosity earlier test modules left set
                                     disable_tqdm=disable_tqdm)
    return BalancedTrainer(model=model, args=args, train_dataset=ds, eval_dataset=ds,
                           data_collator=DataCollatorWithPadding(tok))


@pytest.mark.parametrize("disable_tqdm", [False, True], ids=["progress-bars", "no-bars"])
def test_one_line_per_evaluation_and_a_final_table(tiny_bert_dir, tmp_path, capsys, disable_tqdm):
    """With bars or without (transformers' PrinterCallback would print ~40 keys per evaluation)."""
    trainer = _trainer(tiny_bert_dir, tmp_path, disable_tqdm=disable_tqdm)
    kind = CompactPrinterCallback if disable_tqdm else CompactProgressCallback
    compact = [cb for cb in trainer.callback_handler.callbacks if isinstance(cb, kind)]
    assert len(compact) == 1 and compact[0].smallest_class == "tiny class"
    stock = [type(cb).__name__ for cb in trainer.callback_handler.callbacks]
    assert "PrinterCallback" not in stock and "ProgressCallback" not in stock
    trainer.train()
    out = capsys.readouterr()
    text = out.out + out.err
    lines = re.findall(r"epoch (\d\.\d\d) \| train loss [\d.]+ \| val macro-F1 [\d.]+ \| bal\. acc\. [\d.]+ \| "
                       r"smallest class 'tiny class' F1 [\d.]+", text)
    assert lines == ["1.00", "2.00"]
    assert "{'eval_loss'" not in text and "'loss':" not in text  # no raw log dictionaries
    assert "validation per evaluation" in text and "tiny class F1" in text
    # the full metrics are still logged
    evals = [h for h in trainer.state.log_history if "eval_macro_f1" in h]
    assert len(evals) == 2 and "eval_f1_tiny_class" in evals[0]


@pytest.fixture
def verbose_transformers():
    before = hf_logging.get_verbosity()
    hf_logging.set_verbosity_info()
    yield
    hf_logging.set_verbosity(before)


def test_verbose_logging_keeps_the_raw_log_lines(tiny_bert_dir, tmp_path, capsys, verbose_transformers):
    trainer = _trainer(tiny_bert_dir, tmp_path)
    assert not any(isinstance(cb, (CompactProgressCallback, CompactPrinterCallback))
                   for cb in trainer.callback_handler.callbacks)
    trainer.train()
    out = capsys.readouterr()
    assert "'eval_macro_f1'" in out.out + out.err
