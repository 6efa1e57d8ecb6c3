"""``BalancedTrainer``: a drop-in ``transformers.Trainer`` that trains with imbalance-aware losses.

Swapping ``Trainer`` for :class:`BalancedTrainer` (and ``TrainingArguments`` for
:class:`~nlp_balance.training.BalancedTrainingArguments`) adds, with no other change to a training script:

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

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from transformers import Trainer, TrainingArguments
from transformers.trainer_callback import PrinterCallback, ProgressCallback
from transformers.utils import logging as hf_logging

from nlp_balance.data.labels import model_label_names
from nlp_balance.evaluation.decision_rules import PosthocAdjustment
from nlp_balance.evaluation.metrics import imbalance_metrics, sanitize_label_names
from nlp_balance.training.arguments import BalancedTrainingArguments
from nlp_balance.training.batch_sampler import BalancedSampler
from nlp_balance.training.class_weights import (
    CLASS_WEIGHTING_SCHEMES,
    class_counts,
    compute_class_weights,
    resolve_class_weights,
    weights_from_counts,
)
from nlp_balance.training.console import CompactPrinterCallback, CompactProgressCallback
from nlp_balance.training.dataset_labels import dataset_labels
from nlp_balance.training.deferred_reweighting import DeferredReweightingCallback
from nlp_balance.training.embedding_synthesis import EmbeddingSynthesizer
from nlp_balance.training.imbalance_options import TRAINER_OPTIONS, check_training_options
from nlp_balance.training.losses import LOSSES, build_loss
from nlp_balance.training.optimizer_groups import set_head_learning_rate
from nlp_balance.training.trainer_decision_rule import DecisionRuleMixin

# BalancedTrainingArguments and CLASS_WEIGHTING_SCHEMES are also importable from here, for callers
# that import this module rather than nlp_balance.training.
__all__ = ["CLASS_WEIGHTING_SCHEMES", "BalancedTrainer", "BalancedTrainingArguments"]

logger = logging.getLogger(__name__)

_MULTI_LABEL = "multi_label_classification"
# Positions in Trainer.__init__'s positional arguments after (model, args).
_COMPUTE_LOSS_FUNC_POSITION = 5
_COMPUTE_METRICS_POSITION = 6


class BalancedTrainer(DecisionRuleMixin, Trainer):
    """``transformers.Trainer`` with imbalance-aware losses, class weights, sampling and metrics.

    Options given here override those in ``args`` (a :class:`~nlp_balance.training.BalancedTrainingArguments`;
    a plain ``TrainingArguments`` works too and means "no imbalance option" unless given here). Both
    are checked by :func:`~nlp_balance.training.check_training_options`.

    Args:
        loss: loss name (a key of :data:`~nlp_balance.training.LOSSES`) or an ``nn.Module`` with
            ``forward(logits, target)`` and a settable ``reduction``.
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
        compute_loss_func = (
            trainer_args[_COMPUTE_LOSS_FUNC_POSITION]
            if len(trainer_args) > _COMPUTE_LOSS_FUNC_POSITION
            else trainer_kwargs.get("compute_loss_func")
        )
        if compute_loss_func is not None:
            raise ValueError("BalancedTrainer computes the loss itself: pass loss=... instead of compute_loss_func")
        overrides = {
            "loss": loss,
            "loss_params": loss_params,
            "class_weights": class_weights,
            "class_weighting": class_weighting,
            "sampler": sampler,
            "drw_epoch": drw_epoch,
        }
        options = _trainer_options(args, overrides)
        user_metrics = (
            trainer_args[_COMPUTE_METRICS_POSITION]
            if len(trainer_args) > _COMPUTE_METRICS_POSITION
            else trainer_kwargs.get("compute_metrics")
        )
        super().__init__(model, args, *trainer_args, **trainer_kwargs)
        self.loss_params: dict[str, Any] = options["loss_params"]
        self.class_weighting: str | None = options["class_weighting"]
        self.sampler_mode: str | None = options["sampler"]
        self.drw_epoch: float | None = options["drw_epoch"]
        self._read_model_config()
        self._count_training_labels(options["loss"])
        self.class_weights_ = self._resolve_weights(options["class_weights"])
        if not self.label_names and self.args.label_names is None:
            # A model whose forward() takes no `labels` (a wrapper) would otherwise lose the column.
            self.label_names = ["labels"]
        self.loss_fn = self._build_loss(options["loss"])
        if self.drw_epoch is not None:
            self.add_callback(DeferredReweightingCallback(self.loss_fn, self.class_weights_, self.drw_epoch))
        if user_metrics is None:
            self.compute_metrics = imbalance_metrics(self.label_names_, multi_label=self.multi_label)
        self._warned_missing_metric = False
        self.posthoc = self._resolve_posthoc(posthoc)
        self._use_compact_console()
        self._stop_early()
        self.embedding_synthesizer = self._attach_embedding_synthesis()

    # ---- set-up helpers -------------------------------------------------------------------------

    def _read_model_config(self) -> None:
        config = getattr(self.accelerator.unwrap_model(self.model), "config", None)
        self.num_labels = int(getattr(config, "num_labels", 0) or 0)
        if self.num_labels < 1:
            raise ValueError("BalancedTrainer needs a classification model whose config sets num_labels")
        self.label_names_ = model_label_names(config)
        self.multi_label = getattr(config, "problem_type", None) == _MULTI_LABEL

    def _count_training_labels(self, loss: str | nn.Module) -> None:
        """Class counts of the FULL training set, before any sharding between processes."""
        uses_counts = isinstance(loss, str) and LOSSES[loss].uses_class_counts
        needs_labels = self.class_weighting is not None or self.sampler_mode is not None
        labels = dataset_labels(self.train_dataset, allow_iterate=needs_labels or uses_counts)
        self.class_counts_ = self._class_counts(labels) if labels is not None else None
        if needs_labels and self.class_counts_ is None:
            what = "class_weighting" if self.class_weighting is not None else "sampler"
            raise ValueError(f"{what} needs the training labels, but train_dataset has no 'labels' or 'label' column")
        if self.sampler_mode is not None and self.multi_label:
            raise ValueError(f"sampler={self.sampler_mode!r} needs single-label data; this model is multi-label")

    def _attach_embedding_synthesis(self) -> EmbeddingSynthesizer | None:
        if getattr(self.args, "embedding_synthesis", None) is None:
            return None
        if self.multi_label:
            raise ValueError("embedding_synthesis supports single-label classification only")
        synthesizer = EmbeddingSynthesizer.from_args(self.args, self.num_labels, self.class_counts_)
        synthesizer.attach(self.model)
        return synthesizer

    def _class_counts(self, labels: np.ndarray) -> np.ndarray:
        if self.multi_label:
            if labels.ndim != 2 or labels.shape[1] != self.num_labels:
                raise ValueError(
                    f"multi-label training labels must be [N, {self.num_labels}] rows, got shape {labels.shape}"
                )
            valid = labels != -100
            return np.where(valid, labels, 0).astype(np.float64).sum(axis=0).round().astype(np.int64)
        return class_counts(labels, num_classes=self.num_labels)

    def _resolve_weights(self, raw_weights: Any) -> torch.Tensor | None:
        if raw_weights is not None:
            return resolve_class_weights(raw_weights, self.num_labels, label_names=self.label_names_)
        if self.class_weighting is None:
            return None
        assert self.class_counts_ is not None
        beta = float(self.loss_params.get("beta", 0.999))
        # The class set is the model's, so a class the training labels lack gets weight 0 and a
        # warning that names it by its label.
        if self.multi_label:
            w = weights_from_counts(
                self.class_counts_, self.class_weighting, beta=beta, label_names=self.label_names_, allow_empty=True
            )
        else:
            labels = np.repeat(np.arange(self.num_labels), self.class_counts_)
            w = compute_class_weights(
                labels, self.class_weighting, beta=beta, num_classes=self.num_labels, label_names=self.label_names_
            )
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

    def _stop_early(self) -> None:
        """Add transformers' EarlyStoppingCallback when ``early_stopping_patience`` is set."""
        patience = getattr(self.args, "early_stopping_patience", None)
        if patience is None:
            return
        if self.args.eval_strategy == "no" or self.args.metric_for_best_model is None:
            raise ValueError("early_stopping_patience needs evaluations (eval_strategy) and metric_for_best_model")
        from transformers import EarlyStoppingCallback

        self.add_callback(EarlyStoppingCallback(early_stopping_patience=patience))

    def _use_compact_console(self) -> None:
        """One line per evaluation instead of transformers' raw log dictionaries (unless logging is at INFO)."""
        if hf_logging.get_verbosity() <= hf_logging.INFO:
            return  # verbose runs keep transformers' own log lines
        kinds = {type(cb) for cb in self.callback_handler.callbacks}
        stock = ProgressCallback if ProgressCallback in kinds else PrinterCallback if PrinterCallback in kinds else None
        if stock is None:
            return  # a progress or printer callback of the user's own (or a notebook's): leave it
        name = key = None
        if self.class_counts_ is not None and not self.multi_label and len(self.class_counts_):
            smallest = int(np.argmin(self.class_counts_))
            name, key = self.label_names_[smallest], sanitize_label_names(self.label_names_)[smallest]
        compact = CompactProgressCallback if stock is ProgressCallback else CompactPrinterCallback
        self.callback_handler.remove_callback(stock)
        self.add_callback(compact(smallest_class=name, smallest_key=key))

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

    def create_optimizer(self, model: nn.Module | None = None) -> torch.optim.Optimizer:
        """``Trainer.create_optimizer``, then the head's own learning rate when ``head_learning_rate`` is set."""
        ours = self.optimizer is None
        optimizer = super().create_optimizer(model)
        head_lr = getattr(self.args, "head_learning_rate", None)
        if head_lr is not None:
            if not ours:
                raise ValueError("head_learning_rate needs BalancedTrainer to create the optimizer; "
                                 "set the head's rate in the optimizer passed as optimizers=(...)")
            set_head_learning_rate(optimizer, self.model if model is None else model, head_lr)
        return optimizer

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
        process every ``world``-th batch of that one global stream (disjoint, deterministic slices).

        With ``train_sampling_strategy="group_by_length"`` the stream is sorted by length inside
        windows of global batches (:class:`LengthGroupedBalancedSampler`); without a balanced sampler
        the Trainer's own sampler (and its length grouping) is used.
        """
        from nlp_balance.training.batch_sampler import LengthGroupedBalancedSampler, example_lengths

        if self.sampler_mode is None:
            return super()._get_train_sampler(train_dataset)
        strategy = self.args.train_sampling_strategy
        if strategy not in ("random", "group_by_length"):
            raise ValueError(f"sampler={self.sampler_mode!r} replaces the Trainer's own sampler; "
                             f"train_sampling_strategy={strategy!r} cannot be used with it")
        dataset = self.train_dataset if train_dataset is None else train_dataset
        labels = dataset_labels(dataset)
        if labels is None:
            raise ValueError(f"sampler={self.sampler_mode!r} needs a train dataset with a 'labels' or 'label' column")
        seed = self.args.data_seed if self.args.data_seed is not None else self.args.seed
        if strategy == "random":
            return BalancedSampler(labels, self.sampler_mode, seed=seed, num_classes=self.num_labels)
        names = getattr(self.processing_class, "model_input_names", None) or ["input_ids"]
        lengths = example_lengths(dataset, self.args.length_column_name, names[0])
        global_batch = self.args.train_batch_size * self.args.gradient_accumulation_steps * max(1, self.args.world_size)
        return LengthGroupedBalancedSampler(labels, lengths, global_batch, self.sampler_mode, seed=seed,
                                            num_classes=self.num_labels)

    # ---- evaluation and prediction ---------------------------------------------------------------

    def _get_eval_sampler(self, eval_dataset: Any) -> torch.utils.data.Sampler | None:
        """Evaluation and prediction read the dataset in its own order, whatever the train strategy.

        With ``train_sampling_strategy="group_by_length"`` the stock Trainer also groups evaluation
        batches with a seeded random ``LengthGroupedSampler``, so ``predict(ds).predictions[i]`` is no
        longer row ``i`` of ``ds``; metrics computed inside ``evaluate`` are unaffected, but any caller
        that pairs predictions with the dataset's rows is silently wrong. Length grouping is a training
        speed-up only here.
        """
        strategy = self.args.train_sampling_strategy
        if strategy != "group_by_length":
            return super()._get_eval_sampler(eval_dataset)
        self.args.train_sampling_strategy = "random"
        try:
            return super()._get_eval_sampler(eval_dataset)
        finally:
            self.args.train_sampling_strategy = strategy


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

    # ---- hyperparameter search ---------------------------------------------------------------------

    def _hp_search_setup(self, trial: Any) -> None:
        """Apply a trial's values; when they touch the imbalance options, rebuild the loss, the class
        weights, the sampler mode and deferred re-weighting from them, as ``__init__`` does.

        ``Trainer`` would cast a trial's ``None`` to the previous value's type (``"None"``), so the
        imbalance options are cleared first and set as given.
        """
        params = self.hp_space(trial) if self.hp_search_backend is not None and trial is not None else {}
        chosen = {name: params[name] for name in TRAINER_OPTIONS if name in params}
        for name in chosen:
            setattr(self.args, name, None)
        super()._hp_search_setup(trial)
        if not chosen:
            return
        options = _trainer_options(self.args, {name: None for name in TRAINER_OPTIONS})
        for name in TRAINER_OPTIONS:
            setattr(self.args, name, options[name])
        self.loss_params = options["loss_params"]
        self.class_weighting, self.sampler_mode, self.drw_epoch = (
            options["class_weighting"], options["sampler"], options["drw_epoch"])
        self._count_training_labels(options["loss"])
        self.class_weights_ = self._resolve_weights(options["class_weights"])
        self.loss_fn = self._build_loss(options["loss"])
        self.callback_handler.remove_callback(DeferredReweightingCallback)
        if self.drw_epoch is not None:
            self.add_callback(DeferredReweightingCallback(self.loss_fn, self.class_weights_, self.drw_epoch))

def _trainer_options(args: TrainingArguments | None, overrides: Mapping[str, Any]) -> dict[str, Any]:
    """The imbalance options in force: each keyword override, else the value in ``args``; validated."""
    values = {
        name: overrides[name] if overrides[name] is not None else getattr(args, name, None)
        for name in TRAINER_OPTIONS
    }
    if values["loss"] is None:
        values["loss"] = "ce"
    for name in ("train_sampling_strategy", "label_smoothing_factor"):
        if hasattr(args, name):
            values[name] = getattr(args, name)
    return check_training_options(values)
