"""``early_stopping_patience``: training stops once validation stops improving; bad values fail at once."""

from __future__ import annotations

import pytest
from datasets import ClassLabel, Dataset
from transformers import AutoModelForSequenceClassification, AutoTokenizer, DataCollatorWithPadding

from nlp_balance.training import BalancedTrainer, BalancedTrainingArguments


def _trainer(tiny_bert_dir, tmp_path, **args):
    tok = AutoTokenizer.from_pretrained(tiny_bert_dir)
    ds = Dataset.from_dict({"text": [f"text {i}" for i in range(24)], "label": [0] * 16 + [1] * 8})
    ds = ds.cast_column("label", ClassLabel(names=["a", "b"]))
    ds = ds.map(lambda b: tok(b["text"], truncation=True, max_length=8), batched=True, remove_columns=["text"])
    model = AutoModelForSequenceClassification.from_pretrained(tiny_bert_dir, num_labels=2)
    values = {"output_dir": str(tmp_path), "num_train_epochs": 6, "per_device_train_batch_size": 8,
              "eval_strategy": "epoch", "save_strategy": "epoch", "load_best_model_at_end": True,
              "report_to": "none", "use_cpu": True, **args}
    return BalancedTrainer(model=model, args=BalancedTrainingArguments(**values), train_dataset=ds, eval_dataset=ds,
                           data_collator=DataCollatorWithPadding(tok))


@pytest.mark.slow  # over 25 s here: in CI's slow phase
def test_training_stops_after_the_patience_runs_out(tiny_bert_dir, tmp_path):
    # learning rate 0: validation never improves after the first evaluation
    trainer = _trainer(tiny_bert_dir, tmp_path, learning_rate=0.0, early_stopping_patience=2)
    trainer.train()
    evaluated = [h["epoch"] for h in trainer.state.log_history if "eval_macro_f1" in h]
    assert evaluated == [1.0, 2.0, 3.0]  # the best, then two evaluations without a gain


def test_without_patience_every_epoch_runs(tiny_bert_dir, tmp_path):
    trainer = _trainer(tiny_bert_dir, tmp_path, learning_rate=0.0, num_train_epochs=3)
    trainer.train()
    assert trainer.state.epoch == 3.0


@pytest.mark.parametrize("bad", [0, -1, 1.5, True])
def test_a_bad_patience_names_the_value(tmp_path, bad):
    with pytest.raises(ValueError, match="early_stopping_patience must be an integer >= 1"):
        BalancedTrainingArguments(output_dir=str(tmp_path), early_stopping_patience=bad, report_to="none")
