"""The ``fast`` protocol: frozen MiniLM sentence embeddings + a linear head trained in torch.

Each method changes only the training of the head (loss, sampling, resampled or augmented rows,
post-hoc adjustment). Full-batch Adam (lr 0.05) for ``MAX_EPOCHS`` steps (one step = one pass over the
training rows; with a sampler, one step = ``n`` balanced draws). Every ``EVAL_EVERY`` steps the head
is scored on the validation split and the best one is kept (early stopping on validation, never on
test). Full batches keep the per-run cost at ~1-3 s on a loaded 2-core machine, where a minibatch
loop of a 384x6 layer costs ~15 ms a step in framework overhead alone.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from .metrics import scores

MAX_EPOCHS = 100
EVAL_EVERY = 5
LR = 5e-2
WEIGHT_DECAY = 1e-4
TAU_GRID = (0.0, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 2.0)


@dataclass
class HeadData:
    """Standardised features and labels of one dataset variant (train may include new rows)."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    num_classes: int


def standardise(train: np.ndarray, *others: np.ndarray) -> list[np.ndarray]:
    """Scale every array with the training mean and std (features of MiniLM have unequal scales)."""
    mu = train.mean(0, keepdims=True)
    sd = train.std(0, keepdims=True) + 1e-6
    return [((a - mu) / sd).astype(np.float32) for a in (train, *others)]


def _macro_f1(y: np.ndarray, pred: np.ndarray, k: int) -> float:
    from sklearn.metrics import f1_score

    return float(f1_score(y, pred, labels=np.arange(k), average="macro", zero_division=0))


def train_head(
    data: HeadData,
    loss_fn: nn.Module,
    seed: int,
    *,
    per_example: bool,
    sampler_mode: str | None = None,
    drw: tuple[int, torch.Tensor] | None = None,
    max_epochs: int = MAX_EPOCHS,
) -> dict[str, Any]:
    """Train a linear head; return the best-on-validation logits for val and test and the epoch.

    ``per_example``: the loss returns per-example values (``reduction="none"``) that are averaged over
    the batch, as ``BalancedTrainer`` does (``sum / num_items``); otherwise the loss reduces itself.
    ``drw``: (epoch, weights) from which ``loss_fn.set_class_weights(weights)`` applies.
    """
    from nlp_balance.training.batch_sampler import BalancedSampler

    torch.set_num_threads(1)  # on a shared 2-core machine, two spinning threads only add contention
    torch.manual_seed(seed)
    k = data.num_classes
    head = nn.Linear(data.x_train.shape[1], k)
    opt = torch.optim.Adam(head.parameters(), lr=LR, weight_decay=WEIGHT_DECAY)
    xt = torch.from_numpy(data.x_train)
    yt = torch.from_numpy(data.y_train.astype(np.int64))
    xv = torch.from_numpy(data.x_val)
    xs = torch.from_numpy(data.x_test)
    n = len(yt)
    sampler = None
    if sampler_mode is not None:
        sampler = BalancedSampler(data.y_train, mode=sampler_mode, num_samples=n, seed=seed, num_classes=k)
    best: dict[str, Any] = {"val_macro_f1": -1.0}
    t0 = time.perf_counter()
    for epoch in range(max_epochs):
        if drw is not None and epoch == drw[0]:
            loss_fn.set_class_weights(drw[1])
        head.train()
        if sampler is not None:
            sampler.set_epoch(epoch)
            idx = torch.from_numpy(np.fromiter(iter(sampler), dtype=np.int64, count=n))
            logits, target = head(xt[idx]), yt[idx]
        else:
            logits, target = head(xt), yt
        loss = loss_fn(logits, target)
        if per_example:
            loss = loss.mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if (epoch + 1) % EVAL_EVERY and epoch + 1 != max_epochs:
            continue
        head.eval()
        with torch.no_grad():
            val_logits = head(xv).numpy()
        f1 = _macro_f1(data.y_val, val_logits.argmax(1), k)
        if f1 > best["val_macro_f1"]:
            with torch.no_grad():
                best = {"val_macro_f1": f1, "best_epoch": epoch + 1, "val_logits": val_logits,
                        "test_logits": head(xs).numpy()}
    best["train_seconds"] = time.perf_counter() - t0
    best["epochs_run"] = max_epochs
    return best


def softmax(logits: np.ndarray) -> np.ndarray:
    z = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def evaluate_logits(logits: np.ndarray, y_test: np.ndarray, names: list[str], smallest: int) -> dict[str, Any]:
    return scores(y_test, logits.argmax(1), names, smallest)


def tune_tau(val_logits: np.ndarray, y_val: np.ndarray, priors: np.ndarray, k: int) -> float:
    """The post-hoc tau with the best validation macro-F1 (ties: the smallest tau)."""
    from nlp_balance.evaluation.decision_rules import adjust_logits

    best_tau, best_f1 = 0.0, -1.0
    for tau in TAU_GRID:
        f1 = _macro_f1(y_val, adjust_logits(val_logits, priors, tau=tau).argmax(1), k)
        if f1 > best_f1 + 1e-12:
            best_tau, best_f1 = tau, f1
    return best_tau
