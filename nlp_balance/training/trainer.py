"""``BalancedTrainer``: a drop-in ``transformers.Trainer`` that trains with imbalance-aware losses.

Swapping ``Trainer`` for :class:`BalancedTrainer` (and ``TrainingArguments`` for
:class:`BalancedTrainingArguments`) adds, with no other change to a training script:

* a loss chosen by name (``"focal"``, ``"ldam"``, ``"balanced_softmax"`` ...) or given as a module;
* class weights computed from the FULL training labels (so every process of a distributed run
  agrees), or given as a list / Keras-style dict keyed by class id or label name;
* a class-balanced sampler (``"weighted"`` or ``"sqrt"``), seeded, with replacement;
* deferred re-weighting (plain loss first, class-weighted loss from ``drw_epoch`` on);
* imbalance metrics (macro F1, balanced accuracy, per-class figures) when no ``compute_metrics``
  is given, and ``macro_f1`` as the default model-selection metric;
* a post-hoc logit adjustment or decision threshold saved next to the model and applied by ``predict``.

The loss is exact under gradient accumulation and DDP: per-example losses are summed and divided by
the number of labelled items in the whole optimizer step across all processes (``num_items_in_batch``),
so accumulating 4 micro-batches of 2 gives the same update as one batch of 8.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from transformers import Trainer, TrainerCallback, TrainingArguments
from transformers.trainer_utils import has_length

from nlp_balance.data.labels import model_label_names
from nlp_balance.evaluation.decision_rules import PosthocAdjustment, load_posthoc, tune_threshold
from nlp_balance.evaluation.metrics import imbalance_metrics
from nlp_balance.training.batch_sampler import SAMPLER_MODES, BalancedSampler

__all__ = [
    "CLASS_WEIGHTING_SCHEMES",
    "LOSS_NAMES",
    "BalancedTrainer",
    "BalancedTrainingArguments",
    "DeferredReweightingCallback",
]

logger = logging.getLogger(__name__)

#: Loss names understood by :func:`nlp_balance.training.losses.build_loss`.
LOSS_NAMES = (
    "ce",
    "weighted_ce",
    "focal",
    "class_balanced",
    "logit_adjusted",
    "balanced_softmax",
    "ldam",
    "dice",
    "bce",
    "sigmoid_focal",
)
#: Accepted values of ``class_weighting`` (see :func:`nlp_balance.training.class_weights.compute_class_weights`).
CLASS_WEIGHTING_SCHEMES = ("balanced", "inverse", "inverse_sqrt", "effective_number")
_LABEL_COLUMNS = ("labels", "label")
_MULTI_LABEL = "multi_label_classification"
# Losses that need the class counts of the training labels (priors, margins, effective numbers).
_COUNT_LOSSES = ("class_balanced", "logit_adjusted", "balanced_softmax", "ldam", "weighted_ce")


def _parse_loss_params(value: Any, where: str) -> dict[str, Any]:
    if value is None:
        return {}
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as err:
            raise ValueError(f"{where} must be a JSON object such as '{{\"gamma\": 2.0}}', got {value!r}") from err
    if not isinstance(value, Mapping):
        raise ValueError(f"{where} must be a dict (or a JSON object string), got {value!r}")
    return dict(value)


@dataclass
class BalancedTrainingArguments(TrainingArguments):
    """``TrainingArguments`` plus the imbalance options; every field is also a command-line flag."""

    loss: str = field(
        default="ce",
        metadata={"help": f"Loss name, one of {', '.join(LOSS_NAMES)}."},
    )
    loss_params: dict[str, Any] | str | None = field(
        default=None,
        metadata={"help": "Extra loss parameters as a JSON object, e.g. '{\"gamma\": 2.0}'."},
    )
    class_weighting: str | None = field(
        default=None,
        metadata={
            "help": "Compute class weights from the training labels with this scheme: "
            f"{', '.join(CLASS_WEIGHTING_SCHEMES)}. 'effective_number' reads beta from loss_params "
            "(default 0.999)."
        },
    )
    class_weights: list[float] | None = field(
        default=None,
        metadata={"help": "Explicit class weights, one per class in label-id order (overrides class_weighting)."},
    )
    sampler: str | None = field(
        default=None,
        metadata={
            "help": "Balanced training sampler: 'weighted' (every class equally often) or 'sqrt' "
            "(share proportional to sqrt(count)); seeded by data_seed or seed, with replacement."
        },
    )
    drw_epoch: float | None = field(
        default=None,
        metadata={"help": "Deferred re-weighting: train unweighted until this epoch, then with class weights."},
    )
    metric_for_best_model: str | None = field(
        default="macro_f1",
        metadata={"help": "Metric used to compare checkpoints (imbalance metrics report macro_f1)."},
    )
    greater_is_better: bool | None = field(
        default=True,
        metadata={"help": "Whether a larger metric_for_best_model is better."},
    )
    # Embedding-space synthesis (nlp_balance/embedding_synthesis.py explains the method and why it stays GA-exact).
    embedding_synthesis: str | None = field(
        default=None,
        metadata={"help": "Synthesise head inputs for minority classes while training: 'smote' or 'mixup'."},
    )
    synthesis_k: int = field(default=5, metadata={"help": "Nearest same-class neighbours for 'smote'."})
    synthesis_ratio: float = field(
        default=1.0, metadata={"help": "Synthetic points per labelled example of a synthesis class (expected)."}
    )
    synthesis_weight: float = field(default=1.0, metadata={"help": "Weight of the synthetic losses."})
    memory_bank_size: int = field(default=256, metadata={"help": "Pooled representations kept per class."})
    synthesis_classes: list[int] | None = field(
        default=None, metadata={"help": "Class ids that get synthetic points (default: every non-majority class)."}
    )
    mixup_alpha: float = field(default=0.4, metadata={"help": "Beta(alpha, alpha) mixing weight for 'mixup'."})

    def __post_init__(self) -> None:
        if not isinstance(self.loss, str) or not self.loss:
            raise ValueError(f"loss must be a loss name ({', '.join(LOSS_NAMES)}), got {self.loss!r}")
        known = _known_loss_names()
        if self.loss not in known:
            raise ValueError(f"loss={self.loss!r} is not a known loss; choose one of {sorted(known)}")
        self.loss_params = _parse_loss_params(self.loss_params, "loss_params")
        if self.class_weighting is not None and self.class_weighting not in CLASS_WEIGHTING_SCHEMES:
            raise ValueError(
                f"class_weighting={self.class_weighting!r} is not valid; use None or one of {CLASS_WEIGHTING_SCHEMES}"
            )
        if self.class_weights is not None:
            if isinstance(self.class_weights, Mapping):
                self.class_weights = dict(self.class_weights)
            else:
                try:
                    self.class_weights = [float(w) for w in self.class_weights]
                except (TypeError, ValueError) as err:
                    raise ValueError(f"class_weights must be numbers, got {self.class_weights!r}") from err
                if not self.class_weights:
                    raise ValueError("class_weights is an empty list; give one weight per class or leave it unset")
        if self.sampler is not None and self.sampler not in SAMPLER_MODES:
            raise ValueError(f"sampler={self.sampler!r} is not valid; use None or one of {SAMPLER_MODES}")
        if self.embedding_synthesis is not None:
            from nlp_balance.training.embedding_synthesis import SYNTHESIS_METHODS

            if self.embedding_synthesis not in SYNTHESIS_METHODS:
                raise ValueError(
                    f"embedding_synthesis={self.embedding_synthesis!r} is not valid; "
                    f"use None or one of {SYNTHESIS_METHODS}"
                )
        if self.drw_epoch is not None:
            if not isinstance(self.drw_epoch, (int, float)) or not math.isfinite(self.drw_epoch) or self.drw_epoch < 0:
                raise ValueError(f"drw_epoch must be a number >= 0, got {self.drw_epoch!r}")
            if self.class_weighting is None and self.class_weights is None:
                raise ValueError(
                    "drw_epoch (deferred re-weighting) needs class weights: set class_weighting or class_weights"
                )
        super().__post_init__()


def _known_loss_names() -> set[str]:
    try:
        from nlp_balance.training import losses as _losses
    except ImportError:
        return set(LOSS_NAMES)
    for attr in ("LOSS_NAMES", "LOSSES", "LOSS_REGISTRY"):
        registry = getattr(_losses, attr, None)
        if registry:
            return set(LOSS_NAMES) | set(registry)
    return set(LOSS_NAMES)


class DeferredReweightingCallback(TrainerCallback):
    """Deferred re-weighting (Cao et al., 2019): unit class weights until ``start_epoch``, then ``weights``.

    The switch happens at an optimizer-step boundary, so all micro-batches of one accumulated step use
    the same weights.
    """

    def __init__(self, loss_fn: nn.Module, weights: torch.Tensor, start_epoch: float) -> None:
        if not hasattr(loss_fn, "set_class_weights"):
            raise ValueError(
                f"deferred re-weighting needs a loss with set_class_weights(); {type(loss_fn).__name__} has none"
            )
        self.loss_fn = loss_fn
        self.weights = weights
        self.start_epoch = float(start_epoch)
        self.active = False

    def _update(self, epoch: float) -> None:
        want = epoch >= self.start_epoch - 1e-9
        if want == self.active:
            return
        weights = self.weights if want else torch.ones_like(self.weights)
        self.loss_fn.set_class_weights(weights)
        self.active = want
        if want:
            logger.info("deferred re-weighting: class weights switched on at epoch %.3f", epoch)

    def on_train_begin(self, args, state, control, **kwargs):
        self.active = True  # force a first update
        self._update(state.epoch or 0.0)

    def on_step_begin(self, args, state, control, **kwargs):
        self._update(state.epoch or 0.0)


def _dataset_labels(dataset: Any, allow_iterate: bool = True) -> np.ndarray | None:
    """All labels of a dataset (``labels`` or ``label`` column), or ``None`` when it has no such column.

    A ``datasets.Dataset`` is read column-wise; another map-style dataset is read item by item, which
    only happens when ``allow_iterate`` (its ``__getitem__`` may be expensive).
    """
    if dataset is None:
        return None
    column_names = getattr(dataset, "column_names", None)
    if isinstance(column_names, list):
        for col in _LABEL_COLUMNS:
            if col in column_names:
                values = dataset[col]
                return np.asarray(values.to_pylist() if hasattr(values, "to_pylist") else list(values))
        return None
    if not allow_iterate or not has_length(dataset) or isinstance(dataset, torch.utils.data.IterableDataset):
        return None
    rows = []
    for i in range(len(dataset)):
        item = dataset[i]
        if not isinstance(item, Mapping):
            return None
        key = next((c for c in _LABEL_COLUMNS if c in item), None)
        if key is None:
            return None
        value = item[key]
        rows.append(value.tolist() if hasattr(value, "tolist") else value)
    return np.asarray(rows)


class BalancedTrainer(Trainer):
    """``transformers.Trainer`` with imbalance-aware losses, class weights, sampling and metrics.

    Options given here override those in ``args`` (a :class:`BalancedTrainingArguments`; a plain
    ``TrainingArguments`` works too and means "no imbalance option" unless given here).

    Args:
        loss: loss name (see :data:`LOSS_NAMES`) or an ``nn.Module`` with ``forward(logits, target)``
            and a settable ``reduction``.
        loss_params: extra keyword arguments for ``build_loss`` (dict or JSON string).
        class_weights: explicit weights: list/array/tensor in id order, or a dict keyed by id or label
            name (names from ``model.config.id2label``).
        class_weighting: scheme to compute weights from the full training labels.
        sampler: ``"weighted"`` or ``"sqrt"`` balanced sampling of the training set.
        drw_epoch: deferred re-weighting start epoch.
        posthoc: a :class:`~nlp_balance.evaluation.decision_rules.PosthocAdjustment`, a model folder holding
            ``posthoc.json``, ``None`` (load ``posthoc.json`` from the model's folder when present) or
            ``False`` (never adjust).
        Other arguments are those of ``transformers.Trainer`` (``compute_loss_func`` is not supported:
        pass ``loss=`` instead).
    """

    def __init__(
        self,
        model: Any = None,
        args: TrainingArguments | None = None,
        *trainer_args: Any,
        loss: str | nn.Module | None = None,
        loss_params: dict[str, Any] | str | None = None,
        class_weights: Any = None,
        class_weighting: str | None = None,
        sampler: str | None = None,
        drw_epoch: float | None = None,
        posthoc: PosthocAdjustment | str | Path | bool | None = None,
        **trainer_kwargs: Any,
    ) -> None:
        if trainer_kwargs.get("compute_loss_func") is not None:
            raise ValueError("BalancedTrainer computes the loss itself: pass loss=... instead of compute_loss_func")
        if args is not None and getattr(args, "label_smoothing_factor", 0) != 0:
            raise ValueError(
                f"label_smoothing_factor={args.label_smoothing_factor} is not supported by BalancedTrainer; "
                "choose a loss with smoothing through loss_params if it offers one"
            )
        # Positional order after (model, args): data_collator, train_dataset, eval_dataset,
        # processing_class, model_init, compute_loss_func, compute_metrics, ...
        if len(trainer_args) > 5 and trainer_args[5] is not None:
            raise ValueError("BalancedTrainer computes the loss itself: pass loss=... instead of compute_loss_func")
        user_metrics = trainer_args[6] if len(trainer_args) > 6 else trainer_kwargs.get("compute_metrics")
        super().__init__(model, args, *trainer_args, **trainer_kwargs)

        def pick(value: Any, name: str, default: Any) -> Any:
            return value if value is not None else getattr(self.args, name, default)

        loss_spec = pick(loss, "loss", "ce")
        self.loss_params = _parse_loss_params(pick(loss_params, "loss_params", None), "loss_params")
        self.class_weighting = pick(class_weighting, "class_weighting", None)
        if self.class_weighting is not None and self.class_weighting not in CLASS_WEIGHTING_SCHEMES:
            raise ValueError(
                f"class_weighting={self.class_weighting!r} is not valid; use None or one of {CLASS_WEIGHTING_SCHEMES}"
            )
        self.sampler_mode = pick(sampler, "sampler", None)
        if self.sampler_mode is not None and self.sampler_mode not in SAMPLER_MODES:
            raise ValueError(f"sampler={self.sampler_mode!r} is not valid; use None or one of {SAMPLER_MODES}")
        strategy = getattr(self.args, "train_sampling_strategy", "random")
        if self.sampler_mode is not None and strategy != "random":
            raise ValueError(
                f"sampler={self.sampler_mode!r} replaces the Trainer's own sampler; "
                f"train_sampling_strategy={strategy!r} cannot be used with it"
            )
        self.drw_epoch = pick(drw_epoch, "drw_epoch", None)
        raw_weights = pick(class_weights, "class_weights", None)

        config = getattr(self.accelerator.unwrap_model(self.model), "config", None)
        self.num_labels = int(getattr(config, "num_labels", 0) or 0)
        if self.num_labels < 1:
            raise ValueError("BalancedTrainer needs a classification model whose config sets num_labels")
        self.label_names_ = model_label_names(config)
        self.multi_label = getattr(config, "problem_type", None) == _MULTI_LABEL

        # Class statistics from the FULL training set, before any sharding between processes.
        loss_name = loss_spec if isinstance(loss_spec, str) else None
        needs_counts = self.class_weighting is not None or self.sampler_mode is not None or loss_name in _COUNT_LOSSES
        labels = _dataset_labels(self.train_dataset, allow_iterate=needs_counts)
        self.class_counts_ = self._class_counts(labels) if labels is not None else None
        needs_labels = self.class_weighting is not None or self.sampler_mode is not None
        if needs_labels and self.class_counts_ is None:
            what = "class_weighting" if self.class_weighting is not None else "sampler"
            raise ValueError(f"{what} needs the training labels, but train_dataset has no 'labels' or 'label' column")
        if self.sampler_mode is not None and self.multi_label:
            raise ValueError(f"sampler={self.sampler_mode!r} needs single-label data; this model is multi-label")
        self.class_weights_ = self._resolve_weights(raw_weights)

        if self.drw_epoch is not None and self.class_weights_ is None:
            raise ValueError("drw_epoch (deferred re-weighting) needs class_weights or class_weighting")

        if not self.label_names and self.args.label_names is None:
            # A model whose forward() takes no `labels` (a wrapper) would otherwise lose the column.
            self.label_names = ["labels"]
        self.loss_fn = self._build_loss(loss_spec)
        if self.drw_epoch is not None:
            self.add_callback(DeferredReweightingCallback(self.loss_fn, self.class_weights_, self.drw_epoch))

        if user_metrics is None:
            self.compute_metrics = imbalance_metrics(self.label_names_, multi_label=self.multi_label)
        self._warned_missing_metric = False
        self.posthoc = self._resolve_posthoc(posthoc)
        self._use_compact_console()
        self.embedding_synthesizer = None
        if getattr(self.args, "embedding_synthesis", None) is not None:
            from nlp_balance.training.embedding_synthesis import EmbeddingSynthesizer

            if self.multi_label:
                raise ValueError("embedding_synthesis supports single-label classification only")
            self.embedding_synthesizer = EmbeddingSynthesizer.from_args(self.args, self.num_labels, self.class_counts_)
            self.embedding_synthesizer.attach(self.model)

    # ---- set-up helpers -------------------------------------------------------------------------

    def _class_counts(self, labels: np.ndarray) -> np.ndarray:
        from nlp_balance.training.class_weights import class_counts

        if self.multi_label:
            if labels.ndim != 2 or labels.shape[1] != self.num_labels:
                raise ValueError(
                    f"multi-label training labels must be [N, {self.num_labels}] rows, got shape {labels.shape}"
                )
            valid = labels != -100
            return np.where(valid, labels, 0).astype(np.float64).sum(axis=0).round().astype(np.int64)
        return class_counts(labels, num_classes=self.num_labels)

    def _resolve_weights(self, raw_weights: Any) -> torch.Tensor | None:
        from nlp_balance.training.class_weights import compute_class_weights, resolve_class_weights, weights_from_counts

        if raw_weights is not None:
            return resolve_class_weights(raw_weights, self.num_labels, label_names=self.label_names_)
        if self.class_weighting is None:
            return None
        assert self.class_counts_ is not None
        beta = float(self.loss_params.get("beta", 0.999))
        if self.multi_label:
            w = weights_from_counts(self.class_counts_, self.class_weighting, beta=beta, allow_empty=True)
        else:
            labels = np.repeat(np.arange(self.num_labels), self.class_counts_)
            w = compute_class_weights(labels, self.class_weighting, beta=beta, num_classes=self.num_labels)
        return torch.as_tensor(w, dtype=torch.float32)

    def _build_loss(self, spec: str | nn.Module) -> nn.Module:
        if isinstance(spec, nn.Module):
            loss_fn = spec
            if self.class_weights_ is not None:
                if not hasattr(loss_fn, "set_class_weights"):
                    raise ValueError(
                        f"class weights were requested but the loss module {type(loss_fn).__name__} "
                        "has no set_class_weights()"
                    )
                loss_fn.set_class_weights(self.class_weights_)
        elif isinstance(spec, str):
            from nlp_balance.training.losses import build_loss

            problem_type = _MULTI_LABEL if self.multi_label else "single_label_classification"
            counts = None if self.class_counts_ is None else np.asarray(self.class_counts_)
            loss_fn = build_loss(
                spec,
                num_classes=self.num_labels,
                class_weights=self.class_weights_,
                class_counts=counts,
                problem_type=problem_type,
                label_names=self.label_names_,
                **self.loss_params,
            )
        else:
            raise ValueError(f"loss must be a loss name or an nn.Module, got {spec!r}")
        try:
            loss_fn.reduction = "none"
        except AttributeError as err:
            raise ValueError(f"the loss {type(loss_fn).__name__} must have a settable `reduction`") from err
        return loss_fn.to(self.args.device)

    def _use_compact_console(self) -> None:
        """One line per evaluation instead of transformers' raw log dictionaries (unless logging is at INFO)."""
        from transformers.trainer_callback import ProgressCallback
        from transformers.utils import logging as hf_logging

        from nlp_balance.evaluation.metrics import sanitize_label_names
        from nlp_balance.training.console import CompactProgressCallback

        if hf_logging.get_verbosity() <= hf_logging.INFO:
            return  # verbose runs keep transformers' own log lines
        if not any(type(cb) is ProgressCallback for cb in self.callback_handler.callbacks):
            return  # no progress bars (disable_tqdm) or a progress callback of the user's own
        name = key = None
        if self.class_counts_ is not None and not self.multi_label and len(self.class_counts_):
            smallest = int(np.argmin(self.class_counts_))
            name, key = self.label_names_[smallest], sanitize_label_names(self.label_names_)[smallest]
        self.callback_handler.remove_callback(ProgressCallback)
        self.add_callback(CompactProgressCallback(smallest_class=name, smallest_key=key))

    def _resolve_posthoc(self, posthoc: Any) -> PosthocAdjustment | None:
        if posthoc is False:
            return None
        if isinstance(posthoc, PosthocAdjustment):
            return posthoc
        if isinstance(posthoc, (str, Path)):
            found = load_posthoc(posthoc)
            if found is None:
                raise ValueError(f"posthoc={str(posthoc)!r}: no posthoc.json in that folder")
            return found
        if posthoc is None:
            source = getattr(getattr(self.model, "config", None), "_name_or_path", None)
            if source and Path(source).is_dir():
                found = load_posthoc(source)
                if found is not None:
                    logger.info("loaded the post-hoc adjustment saved with the model in %s", source)
                return found
            return None
        raise ValueError(f"posthoc must be a PosthocAdjustment, a folder, None or False, got {posthoc!r}")

    # ---- loss ------------------------------------------------------------------------------------

    def _loss_sum(self, logits: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Sum of per-item losses over labelled items and how many items were summed."""
        if self.multi_label:
            if labels.shape != logits.shape:
                raise ValueError(
                    f"multi-label targets must have the logits' shape {tuple(logits.shape)}, got {tuple(labels.shape)}"
                )
            mask = labels != -100
            target = torch.where(mask, labels, torch.zeros_like(labels)).to(logits.dtype)
            per = self.loss_fn(logits, target)
            if per.shape == logits.shape:
                return (per * mask).sum(), mask.sum()
            if per.shape == logits.shape[:1]:  # per-example loss: count columns so units match num_items
                rows = mask.all(dim=-1)
                return (per * rows).sum() * logits.shape[-1], rows.sum() * logits.shape[-1]
            raise ValueError(
                f"loss with reduction='none' returned shape {tuple(per.shape)}; expected {tuple(logits.shape)}"
            )
        labels = labels.view(-1).long()
        mask = labels != -100
        # No host-device sync here (no int()/bool() of a tensor, no boolean indexing): ignored rows get
        # a placeholder label and their loss is multiplied by 0, which also keeps every parameter in
        # the graph when a batch has no labelled row (DDP).
        per = self.loss_fn(logits, torch.where(mask, labels, torch.zeros_like(labels)).long())
        if per.dim() != 1 or per.shape[0] != labels.shape[0]:
            raise ValueError(
                f"loss with reduction='none' must return one value per example, got shape {tuple(per.shape)}"
            )
        return (per * mask).sum(), mask.sum()

    def compute_loss(
        self,
        model: nn.Module,
        inputs: dict[str, Any],
        return_outputs: bool = False,
        num_items_in_batch: torch.Tensor | int | None = None,
    ) -> torch.Tensor | tuple[torch.Tensor, Any]:
        """Sum of per-example losses / labelled items in the whole step (all micro-batches and processes).

        Without ``num_items_in_batch`` (called directly) it is the mean over this batch's labelled items.
        """
        # True: normalised over the whole accumulated step here. False: training_step divides by GA.
        self.loss_is_scaled_for_ga = num_items_in_batch is not None
        if "labels" not in inputs:
            raise ValueError(f"BalancedTrainer needs a 'labels' entry in each batch, got keys {sorted(inputs)}")
        inputs = dict(inputs)
        labels = inputs.pop("labels")
        synth = self.embedding_synthesizer if model.training else None
        if synth is not None:
            with synth.capture():
                outputs = model(**inputs)
        else:
            outputs = model(**inputs)  # no labels: the model computes no loss of its own
        logits = outputs["logits"] if isinstance(outputs, Mapping) else outputs[0]
        total, count = self._loss_sum(logits, labels)
        # Hybrid terms, summed over items like the main loss so the normalisation below keeps GA exact:
        # an auxiliary head's loss (nlp_balance.training.heads) and embedding-space synthetic examples.
        aux = getattr(self.accelerator.unwrap_model(model), "auxiliary_loss_sum", None)
        extra = aux(outputs, labels) if callable(aux) else None
        if extra is not None:
            total = total + extra
        if synth is not None:
            total = total + synth.loss_sum(
                labels,
                self.loss_fn,
                step=self.state.global_step,
                rank=self.args.process_index,
                accelerator=self.accelerator,
            )
        if num_items_in_batch is None:
            loss = total / count.clamp(min=1).to(total.dtype)
        else:
            loss = total / num_items_in_batch
            if self.args.average_tokens_across_devices and self.accelerator.num_processes > 1:
                loss = loss * self.accelerator.num_processes  # DDP averages gradients over processes
        return (loss, outputs) if return_outputs else loss

    def _get_num_items_in_batch(self, batch_samples: list, device: torch.device) -> torch.Tensor | int | None:
        # Count labelled items even for models whose forward has no **kwargs: our loss never passes
        # num_items_in_batch to the model, so the count is always usable and keeps GA exact.
        saved = self.model_accepts_loss_kwargs
        self.model_accepts_loss_kwargs = True
        try:
            return super()._get_num_items_in_batch(batch_samples, device)
        finally:
            self.model_accepts_loss_kwargs = saved

    # ---- data ------------------------------------------------------------------------------------

    def _get_train_sampler(self, train_dataset: Any = None) -> torch.utils.data.Sampler | None:
        """Balanced sampler over the full dataset; accelerate's ``BatchSamplerShard`` then gives each
        process every ``world``-th batch of that one global stream (disjoint, deterministic slices)."""
        if self.sampler_mode is None:
            return super()._get_train_sampler(train_dataset)
        dataset = self.train_dataset if train_dataset is None else train_dataset
        labels = _dataset_labels(dataset)
        if labels is None:
            raise ValueError(f"sampler={self.sampler_mode!r} needs a train dataset with a 'labels' or 'label' column")
        seed = self.args.data_seed if self.args.data_seed is not None else self.args.seed
        return BalancedSampler(labels, self.sampler_mode, seed=seed, num_classes=self.num_labels)

    # ---- evaluation and prediction ---------------------------------------------------------------

    def _determine_best_metric(self, metrics: dict[str, float], trial: Any) -> bool:
        name = self.args.metric_for_best_model
        key = name if name is None or name.startswith("eval_") else f"eval_{name}"
        needed = self.args.load_best_model_at_end or self.args.save_strategy == "best"
        if key is not None and key not in metrics and not needed:
            if not self._warned_missing_metric:
                logger.warning(
                    "metric_for_best_model=%r is not among the evaluation metrics %s; best-model tracking is off",
                    name,
                    sorted(metrics),
                )
                self._warned_missing_metric = True
            return False
        return super()._determine_best_metric(metrics, trial)

    def prediction_step(self, model, inputs, prediction_loss_only, ignore_keys=None):
        loss, logits, labels = super().prediction_step(model, inputs, prediction_loss_only, ignore_keys)
        if self.posthoc is not None and isinstance(logits, torch.Tensor):
            logits = self.posthoc.apply(logits)
        return loss, logits, labels

    def set_posthoc(self, adjustment: PosthocAdjustment | None) -> None:
        """Use ``adjustment`` in ``predict``/``evaluate`` from now on; saved by ``save_model``."""
        if adjustment is not None and len(adjustment.offsets) != self.num_labels:
            raise ValueError(f"adjustment has {len(adjustment.offsets)} offsets for {self.num_labels} classes")
        self.posthoc = adjustment

    def fit_posthoc(
        self,
        method: str = "logit_adjustment",
        eval_dataset: Any = None,
        tau: float = 1.0,
        metric: str = "f1",
    ) -> PosthocAdjustment:
        """Fit and activate a post-hoc adjustment.

        ``"logit_adjustment"`` subtracts ``tau * log(train priors)``; ``"threshold"`` (binary tasks)
        tunes the positive-class threshold for ``metric`` on ``eval_dataset`` (default: the eval set).
        """
        if self.multi_label:
            raise ValueError("fit_posthoc supports single-label classification only")
        if method == "logit_adjustment":
            if self.class_counts_ is None:
                raise ValueError("logit adjustment needs training labels to estimate the class priors")
            adjustment = PosthocAdjustment.from_priors(np.maximum(self.class_counts_, 1), tau=tau)
        elif method == "threshold":
            if self.num_labels != 2:
                raise ValueError(f"threshold tuning needs a binary task, this model has {self.num_labels} classes")
            saved, self.posthoc = self.posthoc, None
            try:
                out = self.predict(eval_dataset if eval_dataset is not None else self.eval_dataset)
            finally:
                self.posthoc = saved
            logits = out.predictions[0] if isinstance(out.predictions, tuple) else out.predictions
            keep = out.label_ids != -100
            probs = torch.softmax(torch.as_tensor(logits[keep], dtype=torch.float64), dim=-1)[:, 1].numpy()
            result = tune_threshold(probs, out.label_ids[keep], metric=metric)
            adjustment = PosthocAdjustment.from_threshold(result.threshold)
            adjustment.params.update({"metric": metric, "validation_score": result.score})
        else:
            raise ValueError(f"method must be 'logit_adjustment' or 'threshold', got {method!r}")
        self.set_posthoc(adjustment)
        return adjustment

    def save_model(self, output_dir: str | None = None, _internal_call: bool = False) -> None:
        """Save the model as ``Trainer`` does, plus ``posthoc.json`` when an adjustment is active."""
        super().save_model(output_dir, _internal_call)
        if self.posthoc is not None and self.args.should_save:
            self.posthoc.save(output_dir if output_dir is not None else self.args.output_dir)
