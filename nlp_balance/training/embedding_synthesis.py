"""Synthetic minority examples in the classifier head's input space, during fine-tuning.

Used by :class:`~nlp_balance.BalancedTrainer` when ``embedding_synthesis`` is set in
:class:`~nlp_balance.BalancedTrainingArguments`:

* ``"smote"``: for each labelled example of a synthesis class, interpolate its pooled representation
  ``h`` with one of its ``synthesis_k`` nearest same-class neighbours ``n`` from a memory bank:
  ``h + u * (n - h)``, ``u ~ U[0, 1)``, labelled with the example's class (SMOTE, in embedding space);
* ``"mixup"``: mix ``h`` with a random bank entry of any class, ``lam * h + (1 - lam) * m`` with
  ``lam ~ Beta(mixup_alpha, mixup_alpha)``, and train with ``lam * loss(y) + (1 - lam) * loss(y_m)``.

The pooled representation is the **input of the classification head** (``model.classifier`` or
``model.score``), captured by a forward hook; the synthetic points go through that head only, from
detached inputs, so they train the head and never the encoder (``head_learning_rate`` lets the
head learn at its own rate). Their per-item losses come from the trainer's own loss function (class
weights, focal, ... apply).

``"tmix"`` mixes hidden states inside the encoder instead, so its synthetic examples train the
encoder too: :meth:`EmbeddingSynthesizer.from_args` returns a
:class:`~nlp_balance.training.hidden_mixup.HiddenStateMixup` for it.

Why it stays exact under gradient accumulation (accumulating 4 micro-batches of 2 == one batch of 8):

1. The memory bank is **frozen during an optimizer step**. Representations seen during a step go to a
   pending buffer, which joins the bank (per-class FIFO queues of ``memory_bank_size``) at the first
   loss computation of the next step. The bank therefore holds the same points, in the same order,
   however the step is split into micro-batches (the micro-batches of a step are consecutive slices of
   the same sample stream). Under DDP the pending buffers of all processes are gathered first, so every
   process holds the same bank.
2. Every random choice (how many synthetic points, which neighbour, ``u`` or ``lam``) is drawn from a
   generator seeded by ``(seed, global step, process rank, position of the example within the step)``,
   which does not depend on the micro-batch split.
3. The synthetic losses are **summed and divided by the same ``num_items_in_batch``** as the real
   ones (the number of labelled real items in the whole step, fixed before the step), times
   ``synthesis_weight``: the total is a sum over examples, split-independent.

Consequences: the first optimizer step synthesises nothing (the bank is empty), and the bank may hold
an earlier representation of the example itself (from an earlier step or epoch).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

from nlp_balance.training.hidden_mixup import HiddenStateMixup
from nlp_balance.utils.seeding import numpy_rng

__all__ = ["SYNTHESIS_METHODS", "EmbeddingSynthesizer", "find_classifier_head"]

#: Values of ``embedding_synthesis``: synthesis at the head's input, or TMix inside the encoder.
SYNTHESIS_METHODS = ("smote", "mixup", "tmix")
_HEAD_INPUT_METHODS = ("smote", "mixup")
_HEAD_NAMES = ("classifier", "score")


def find_classifier_head(model: nn.Module) -> tuple[str, nn.Module]:
    """The classification head of a ``*ForSequenceClassification`` model (``classifier`` or ``score``)."""
    inner = model
    for _ in range(4):  # unwrap DDP / wrappers that keep the model in .module or .base_model
        for name in _HEAD_NAMES:
            head = getattr(inner, name, None)
            if isinstance(head, nn.Module):
                return name, head
        # DDP keeps the model in .module, ModelWithAuxiliaryHead in .base, PEFT models in .base_model
        inner = getattr(inner, "module", None) or getattr(inner, "base", None) or getattr(inner, "base_model", None)
        if inner is None:
            break
    raise ValueError(f"embedding synthesis needs a classification head named {' or '.join(_HEAD_NAMES)}; "
                     f"{type(model).__name__} has none")


class EmbeddingSynthesizer:
    """Memory bank + synthesis of head inputs; the trainer calls :meth:`capture` and :meth:`loss_sum`.

    Args:
        method: ``"smote"`` or ``"mixup"``.
        num_labels: number of classes.
        synthesis_classes: class ids that get synthetic points (anchors).
        k: neighbours considered by ``"smote"``.
        ratio: expected synthetic points per labelled example of a synthesis class (``floor(ratio)``
            always, plus one more with probability ``ratio - floor(ratio)``).
        weight: multiplies the synthetic losses.
        bank_size: representations kept per class.
        mixup_alpha: Beta parameter of ``"mixup"``.
        seed: seeds every random choice.
    """

    def __init__(self, method: str, num_labels: int, synthesis_classes: Sequence[int], *, k: int = 5,
                 ratio: float = 1.0, weight: float = 1.0, bank_size: int = 256, mixup_alpha: float = 0.4,
                 seed: int = 0) -> None:
        if method not in _HEAD_INPUT_METHODS:
            hint = "; 'tmix' is HiddenStateMixup" if method == "tmix" else ""
            raise ValueError(f"EmbeddingSynthesizer methods are {_HEAD_INPUT_METHODS}, got {method!r}{hint}")
        if isinstance(k, bool) or not isinstance(k, int) or k < 1:
            raise ValueError(f"synthesis_k must be an integer >= 1, got {k!r}")
        if not isinstance(ratio, (int, float)) or not np.isfinite(ratio) or ratio <= 0:
            raise ValueError(f"synthesis_ratio must be a number > 0, got {ratio!r}")
        if not isinstance(weight, (int, float)) or not np.isfinite(weight) or weight < 0:
            raise ValueError(f"synthesis_weight must be a number >= 0, got {weight!r}")
        if isinstance(bank_size, bool) or not isinstance(bank_size, int) or bank_size < 1:
            raise ValueError(f"memory_bank_size must be an integer >= 1, got {bank_size!r}")
        if not isinstance(mixup_alpha, (int, float)) or not mixup_alpha > 0:
            raise ValueError(f"mixup_alpha must be a number > 0, got {mixup_alpha!r}")
        classes = sorted({int(c) for c in synthesis_classes})
        bad = [c for c in classes if not 0 <= c < num_labels]
        if bad or not classes:
            raise ValueError(
                f"synthesis_classes must be class ids in [0, {num_labels}), got {list(synthesis_classes)!r}")
        self.method, self.num_labels, self.classes = method, num_labels, classes
        self.k, self.ratio, self.weight, self.bank_size = k, float(ratio), float(weight), bank_size
        self.mixup_alpha, self.seed = float(mixup_alpha), int(seed)
        self.bank: dict[int, torch.Tensor] = {}
        self._pending: list[tuple[torch.Tensor, torch.Tensor]] = []
        self._step: int | None = None
        self._offset = 0
        self._captured: torch.Tensor | None = None
        self._capturing = False
        self._hook: Any = None
        self._head: nn.Module | None = None
        self.synthesized_ = 0  # synthetic items made so far (for logs and tests)

    # ---- capture ------------------------------------------------------------------------------

    def attach(self, model: nn.Module) -> None:
        """Register the forward hook on the model's classification head (once)."""
        if self._hook is not None:
            return
        _, head = find_classifier_head(model)
        self._head = head

        def hook(module: nn.Module, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
            if self._capturing:
                x = args[0] if args else next(iter(kwargs.values()))
                self._captured = x

        self._hook = head.register_forward_pre_hook(hook, with_kwargs=True)

    def detach(self) -> None:
        """Remove the hook."""
        if self._hook is not None:
            self._hook.remove()
            self._hook = None

    def _pooled(self) -> torch.Tensor:
        x = self._captured
        if x is None:
            raise RuntimeError("the classification head was not called during the forward pass")
        if x.dim() == 2:
            return x
        if x.dim() == 3 and type(self._head).__name__.endswith("ClassificationHead"):
            return x[:, 0, :]  # RoBERTa-style heads pool the first token themselves
        raise ValueError(f"embedding synthesis needs a head whose input is [batch, hidden]; "
                         f"{type(self._head).__name__} gets shape {tuple(x.shape)}")

    def _head_forward(self, pooled: torch.Tensor) -> torch.Tensor:
        assert self._head is not None and self._captured is not None
        if self._captured.dim() == 3:
            pooled = pooled.unsqueeze(1)
        return self._head(pooled)

    # ---- bank ---------------------------------------------------------------------------------

    def _sync_step(self, step: int, accelerator: Any) -> None:
        """At the first call of a new optimizer step, move last step's representations into the bank."""
        if self._step == step:
            return
        if self._pending:
            reps = torch.cat([r for r, _ in self._pending])
            labels = torch.cat([y for _, y in self._pending])
            if accelerator is not None and accelerator.num_processes > 1:
                reps, labels = self._gather(reps, labels, accelerator)
            for c in labels.unique().tolist():
                rows = reps[labels == c]
                old = self.bank.get(int(c))
                merged = rows if old is None else torch.cat([old, rows])
                self.bank[int(c)] = merged[-self.bank_size:]
        self._pending = []
        self._step = step
        self._offset = 0

    @staticmethod
    def _gather(reps: torch.Tensor, labels: torch.Tensor, accelerator: Any) -> tuple[torch.Tensor, torch.Tensor]:
        reps = accelerator.pad_across_processes(reps, dim=0)
        labels = accelerator.pad_across_processes(labels, dim=0, pad_index=-1)
        reps, labels = accelerator.gather(reps), accelerator.gather(labels)
        keep = labels >= 0
        return reps[keep], labels[keep]

    # ---- synthesis ----------------------------------------------------------------------------

    def capture(self) -> _Capture:
        """Context manager around the model's forward pass that records the head's input."""
        return _Capture(self)

    def loss_sum(self, labels: torch.Tensor, loss_fn: nn.Module, *, step: int, rank: int = 0,
                 accelerator: Any = None) -> torch.Tensor:
        """Sum over this micro-batch's synthetic items of ``weight * per-item loss`` (0 when none)."""
        pooled = self._pooled()
        self._sync_step(step, accelerator)
        labels = labels.view(-1)
        mask = labels != -100
        reps = pooled.detach()
        self._pending.append((reps[mask].clone(), labels[mask].clone()))
        zero = pooled.sum() * 0.0
        anchors, partners, steps, anchor_y, partner_y = [], [], [], [], []
        for j in range(labels.shape[0]):
            position = self._offset + j
            y = int(labels[j])
            if y == -100 or y not in self.classes:
                continue
            rng = numpy_rng("embedding_synthesis", self.seed, step, rank, position)
            n_new = int(np.floor(self.ratio)) + int(rng.random() < self.ratio - np.floor(self.ratio))
            for _ in range(n_new):
                picked = self._pick(reps[j], y, rng)
                if picked is None:
                    break
                partner, partner_label, t = picked
                anchors.append(reps[j])
                partners.append(partner)
                steps.append(t)
                anchor_y.append(y)
                partner_y.append(partner_label)
        self._offset += labels.shape[0]
        if not anchors:
            return zero
        a, p = torch.stack(anchors), torch.stack(partners)
        t = torch.tensor(steps, dtype=a.dtype, device=a.device).unsqueeze(1)
        synthetic = a + t * (p - a)  # smote: t = u; mixup: t = 1 - lam
        logits = self._head_forward(synthetic)
        ya = torch.tensor(anchor_y, dtype=torch.long, device=logits.device)
        self.synthesized_ += len(anchors)
        if self.method == "smote":
            per = loss_fn(logits, ya)
        else:
            yb = torch.tensor(partner_y, dtype=torch.long, device=logits.device)
            lam = 1.0 - t.view(-1).to(logits.dtype)
            per = lam * loss_fn(logits, ya) + (1.0 - lam) * loss_fn(logits, yb)
        if per.dim() != 1 or per.shape[0] != len(anchors):
            raise ValueError(
                f"the loss must return one value per item (reduction='none'), got shape {tuple(per.shape)}")
        return zero + self.weight * per.sum()

    def _pick(self, rep: torch.Tensor, y: int, rng: np.random.Generator) -> tuple[torch.Tensor, int, float] | None:
        if self.method == "smote":
            bank = self.bank.get(y)
            if bank is None or bank.shape[0] == 0:
                return None
            dist = ((bank - rep) ** 2).sum(dim=1)
            order = torch.sort(dist, stable=True).indices[: self.k]
            choice = int(order[int(rng.integers(order.shape[0]))])
            return bank[choice], y, float(rng.random())
        classes = sorted(self.bank)
        sizes = [self.bank[c].shape[0] for c in classes]
        total = sum(sizes)
        if total == 0:
            return None
        flat = int(rng.integers(total))
        for c, n in zip(classes, sizes):
            if flat < n:
                lam = float(rng.beta(self.mixup_alpha, self.mixup_alpha))
                return self.bank[c][flat], c, 1.0 - lam
            flat -= n
        return None  # pragma: no cover - unreachable

    # ---- construction from training arguments ---------------------------------------------------

    @classmethod
    def from_args(cls, args: Any, num_labels: int,
                  class_counts: Any) -> EmbeddingSynthesizer | HiddenStateMixup | None:
        """The synthesizer of ``args.embedding_synthesis`` (a :class:`HiddenStateMixup` for ``"tmix"``),
        built from ``BalancedTrainingArguments`` fields; ``None`` when synthesis is off."""
        method = getattr(args, "embedding_synthesis", None)
        if method is None:
            return None
        classes = getattr(args, "synthesis_classes", None)
        if classes is None:
            if class_counts is None:
                raise ValueError("embedding_synthesis needs synthesis_classes or training labels to find the "
                                 "minority classes")
            counts = np.asarray(class_counts)
            classes = [c for c in range(num_labels) if counts[c] < counts.max()]  # "not majority"
            if not classes:
                raise ValueError(f"embedding_synthesis: every class has {int(counts.max())} examples; "
                                 "set synthesis_classes explicitly")
        if method == "tmix":
            return HiddenStateMixup(num_labels, classes, layers=getattr(args, "tmix_layers", None),
                                    ratio=getattr(args, "synthesis_ratio", 1.0),
                                    weight=getattr(args, "synthesis_weight", 1.0),
                                    bank_size=getattr(args, "memory_bank_size", 256),
                                    alpha=getattr(args, "mixup_alpha", 0.4), seed=getattr(args, "seed", 0))
        return cls(method, num_labels, classes, k=getattr(args, "synthesis_k", 5),
                   ratio=getattr(args, "synthesis_ratio", 1.0), weight=getattr(args, "synthesis_weight", 1.0),
                   bank_size=getattr(args, "memory_bank_size", 256), mixup_alpha=getattr(args, "mixup_alpha", 0.4),
                   seed=getattr(args, "seed", 0))


class _Capture:
    def __init__(self, synth: EmbeddingSynthesizer) -> None:
        self.synth = synth

    def __enter__(self) -> EmbeddingSynthesizer:
        self.synth._captured = None
        self.synth._capturing = True
        return self.synth

    def __exit__(self, *exc: Any) -> None:
        self.synth._capturing = False
