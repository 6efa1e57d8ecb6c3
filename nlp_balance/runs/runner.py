"""The one runner: every method (``single``, ``easy_ensemble``) goes through the same stages.

The run folder's layout is described and owned by :mod:`nlp_balance.reporting.run_folder`.

load and split -> rebalance the train split -> tokenize -> fit (the recipe's method) -> decision
rule on validation -> score the test split -> write the run folder -> report -> (push). The plain
cross-entropy baseline, when asked for, is the same run with every imbalance measure off, written
into the run folder's ``baseline/`` first so that the report compares with it.

The run folder is assembled in a temporary sibling and renamed into place at the end, so an
interrupted run leaves the previous run folder (or none), never a mix. Checkpoints live beside it
in ``.<name>.work/`` for ``--resume`` and are removed after a successful run. Under ``torchrun`` or
``accelerate launch`` every process runs the same code: data work happens on the main process first
(``main_process_first``), every process scores the whole test split, and only the main process
writes files.
"""

from __future__ import annotations

import contextlib
import copy
import logging
import math
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from nlp_balance.data import class_distribution
from nlp_balance.evaluation import compute_imbalance_metrics
from nlp_balance.reporting import push_trained_model, render_report, write_model_card
from nlp_balance.reporting import run_folder as rf
from nlp_balance.resampling import augmentation_examples
from nlp_balance.runs.methods import PreparedRun, fit
from nlp_balance.runs.preflight import preflight
from nlp_balance.runs.recipe import DEFAULT_MODEL, Recipe
from nlp_balance.runs.stages import (
    fit_decision_rule,
    prepare_splits,
    rebalance_train,
    resolve_model_path,
    score_split,
    tokenize_splits,
    training_arguments,
)
from nlp_balance.utils.atomic import atomic_directory
from nlp_balance.utils.distributed import is_main_process, wait_for_everyone
from nlp_balance.utils.versions import library_versions

logger = logging.getLogger(__name__)

__all__ = ["RunResult", "baseline_recipe", "run_recipe", "work_dir"]


@dataclass
class RunResult:
    """Where a run wrote its files, and its headline test figures."""

    run_dir: Path
    metrics: dict[str, float]
    baseline: RunResult | None = None


def baseline_recipe(recipe: Recipe) -> Recipe:
    """The same run with every imbalance measure off: plain cross-entropy on the original data."""
    base = copy.deepcopy(recipe)
    base.name = f"{recipe.name}-baseline"
    base.balancing.sampling_strategy = None
    base.balancing.augmenters = []
    base.balancing.undersample = None
    for key in ("class_weighting", "class_weights", "sampler", "drw_epoch", "loss_params", "embedding_synthesis",
                "tmix_layers", "head_learning_rate"):
        base.training.pop(key, None)
    base.training["loss"] = "ce"
    base.output.baseline = False
    base.method = "single"
    base.model.aux_head = None
    base.model.head = "default"
    base.output.posthoc = None
    base.output.push_to_hub = None
    base.output.dir = str(recipe.run_dir / rf.BASELINE_DIRNAME)
    return base


def work_dir(run_dir: Path) -> Path:
    """The folder beside a run folder that holds its checkpoints while it trains (kept for ``--resume``)."""
    return run_dir.parent / f".{run_dir.name}.work"


def run_recipe(recipe: Recipe, *, resume: bool = False, with_baseline: bool | None = None,
               check: bool = True) -> RunResult:
    """Run ``recipe`` (and its plain cross-entropy baseline when ``output.baseline`` is true).

    ``check`` runs :func:`~nlp_balance.runs.preflight.preflight` first; pass ``False`` only when it
    has just run on the same recipe.
    """
    if check:
        preflight(recipe, resume=resume)
    want_baseline = with_baseline if with_baseline is not None else recipe.output.baseline
    run_dir, work = recipe.run_dir, work_dir(recipe.run_dir)
    with _staging(run_dir) as staging:
        baseline = None
        if want_baseline:
            base = baseline_recipe(recipe)
            baseline = _run_one(base, "baseline", _sub(staging, rf.BASELINE_DIRNAME),
                                work / f"{rf.BASELINE_DIRNAME}-{rf.CHECKPOINTS_DIRNAME}", resume)
            baseline.run_dir = run_dir / rf.BASELINE_DIRNAME
        result = _run_one(recipe, "balanced", staging, work / rf.CHECKPOINTS_DIRNAME, resume)
    result.run_dir, result.baseline = run_dir, baseline
    if is_main_process():
        shutil.rmtree(work, ignore_errors=True)
    return result


@contextlib.contextmanager
def _staging(run_dir: Path) -> Iterator[Path | None]:
    """A temporary sibling that replaces ``run_dir`` when the block succeeds (main process); else ``None``."""
    if not is_main_process():
        yield None
        return
    if run_dir.exists() and not run_dir.is_dir():
        from nlp_balance.runs.recipe import RecipeError

        raise RecipeError(f"output.dir {str(run_dir)!r} is a file, not a folder")
    with atomic_directory(run_dir) as staging:
        yield staging


def _sub(folder: Path | None, name: str) -> Path | None:
    if folder is None:
        return None
    (folder / name).mkdir()
    return folder / name


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


def _prepare(recipe: Recipe, args: Any) -> tuple[PreparedRun, Any, dict[str, Any]]:
    """Load, split, rebalance and tokenize on the main process first; the others reuse its cache."""
    from transformers import AutoTokenizer

    label_col = recipe.dataset.label_column
    with args.main_process_first(desc="data preparation"):
        splits = prepare_splits(recipe)
        names = list(splits["train"].features[label_col].names)
        before = {k: v.to_json() for k, v in class_distribution(splits, label_col).items()}
        train, balancer = rebalance_train(recipe, splits["train"])
        model_path = resolve_model_path(recipe.model.name_or_path)
        tokenizer = AutoTokenizer.from_pretrained(model_path, revision=recipe.model.revision,
                                                  trust_remote_code=recipe.model.trust_remote_code)
        tokenized = tokenize_splits(tokenizer, {"train": train, "validation": splits["validation"]}, recipe)
    run = PreparedRun(splits, names, train, tokenized, tokenizer, model_path, args)
    return run, balancer, before


def _run_one(recipe: Recipe, kind: str, out_dir: Path | None, checkpoints: Path, resume: bool) -> RunResult:
    """One model: prepare, fit, decide, score, and (main process) write ``out_dir``."""
    import transformers

    started = time.time()
    transformers.set_seed(recipe.seed)
    args = training_arguments(recipe, checkpoints)
    run, balancer, before = _prepare(recipe, args)
    resume_from = None
    if resume:
        resume_from = _last_complete_checkpoint(checkpoints)
        if resume_from is None:
            logger.warning("--resume: no checkpoint in %s; starting from scratch", checkpoints)
    fitted = fit(recipe, run, resume_from)
    seen = fitted.seen_train if fitted.seen_train is not None else run.train  # the training data the model saw
    seen_label = recipe.dataset.label_column if recipe.dataset.label_column in seen.column_names else "labels"
    train_counts = np.bincount(np.asarray(seen[seen_label]), minlength=len(run.names))
    eval_batch = args.per_device_eval_batch_size
    rule, effect = fit_decision_rule(recipe, fitted.classifier, run.splits["validation"], train_counts, eval_batch)
    fitted.classifier.posthoc = rule
    test_metrics, cm, preds, probs, refs = score_split(fitted.classifier, run.splits["test"], recipe, eval_batch)
    if rule is not None:  # the same test split without the rule, for the report's before/after table
        effect["test_before_rule"] = compute_imbalance_metrics(np.asarray(probs).argmax(-1), refs, run.names)[0]
    if out_dir is not None:
        trained_with = fitted.args
        run_info = {
            "name": recipe.name, "kind": kind, "method": recipe.method, "seed": recipe.seed,
            "source": recipe.dataset.source, "label_names": run.names,
            "model": run.model_path if recipe.model.name_or_path else DEFAULT_MODEL,
            **fitted.info,
            "class_weighting": recipe.training.get("class_weighting"),
            "sampler": recipe.training.get("sampler"),
            "augmenters": [] if balancer is None or balancer.augmenter is None else [balancer.augmenter.describe()],
            "sampling_strategy": recipe.balancing.sampling_strategy,
            "balance_report": None if balancer is None else balancer.report_.to_dict(),
            "posthoc": None if rule is None else rule.__dict__,
            "train_rows": len(run.train),
            "train_time_s": round(fitted.train_time_s, 2),
            "wall_time_s": round(time.time() - started, 2),
            "world_size": trained_with.world_size,
            "device": str(trained_with.device),
            "mixed_precision": "bf16" if trained_with.bf16 else "fp16" if trained_with.fp16 else "no",
            "versions": library_versions(),
        }
        rf.write_recipe(out_dir, recipe.to_yaml())
        rf.write_run_info(out_dir, run_info)
        rf.write_distribution(out_dir, before, class_distribution(seen, seen_label))
        rf.write_metrics(out_dir, test_metrics, fitted.validation_metrics, **effect)
        rf.write_confusion_matrix(out_dir, run.names, cm)
        rf.write_log_history(out_dir, fitted.log_history)
        rf.write_predictions(out_dir, run.splits["test"][recipe.dataset.text_column], refs, preds, probs, run.names)
        if balancer is not None:  # the report's "What augmentation wrote"
            rf.write_augmentation_examples(out_dir, augmentation_examples(
                run.train, text_column=recipe.dataset.text_column, label_column=recipe.dataset.label_column))
        model_dir = out_dir / rf.MODEL_DIRNAME
        if recipe.output.save_model:
            _save_model(model_dir, fitted, rule, run_info, test_metrics)
        render_report(out_dir)
        if recipe.output.push_to_hub:
            push_trained_model(model_dir, recipe.output.push_to_hub, card_info=run_info | {"metrics": test_metrics})
    wait_for_everyone()
    headline = {k: test_metrics[k] for k in ("macro_f1", "balanced_accuracy", "accuracy") if k in test_metrics}
    finite = {k: v for k, v in headline.items() if not (isinstance(v, float) and math.isnan(v))}
    return RunResult(run_dir=out_dir if out_dir is not None else recipe.run_dir, metrics=finite)


def _save_model(model_dir: Path, fitted: Any, rule: Any, run_info: dict[str, Any], metrics: dict[str, Any]) -> None:
    """The model folder: ``from_pretrained`` files, the decision rule, and the model card."""
    fitted.save(model_dir)
    if rule is not None:
        rule.save(model_dir)
    write_model_card(model_dir, run_info | {"metrics": metrics})
