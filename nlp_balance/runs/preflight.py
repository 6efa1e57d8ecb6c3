"""Every check that needs only the recipe and the data, run before any training (and by ``--dry-run``).

A recipe that would fail after minutes of training (an unknown augmenter, a class that the data
does not have, a strategy that cannot be met, a model folder without tokenizer files, an output
path that is a file or an input) fails here instead, with one error that names the key and value.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import numpy as np

from nlp_balance.data import label_array, require_classes
from nlp_balance.resampling import resolve_sampling_strategy
from nlp_balance.runs.methods import check_method_options
from nlp_balance.runs.recipe import Recipe, RecipeError, decision_rule_spec
from nlp_balance.runs.stages import build_balancer, prepare_splits, resolve_model_path

logger = logging.getLogger(__name__)

__all__ = ["PreflightReport", "preflight"]

#: Files a local model folder needs: a config, and a tokenizer in one of its saved forms.
_TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "vocab.txt", "spiece.model", "sentencepiece.bpe.model")


class PreflightReport(dict):
    """What the checks saw: class counts of each split and the resolved balancing targets (printable)."""


def preflight(recipe: Recipe, *, resume: bool = False) -> PreflightReport:
    """Check ``recipe`` against its data, model and output folder; raise one ``RecipeError`` (or the data's
    ``DataValidationError``) naming the first problem, else return what was checked."""
    check_method_options(recipe, resume=resume)
    _check_output(recipe)
    _check_model(recipe)
    splits = prepare_splits(recipe)
    label_col = recipe.dataset.label_column
    names = list(splits["train"].features[label_col].names)
    require_classes(splits, label_col, split="train")
    train_y = label_array(splits["train"], label_col)
    counts = np.bincount(train_y, minlength=len(names))
    missing = [n for n, c in zip(names, counts) if not c]
    if missing:
        logger.warning("the train split has no example of class(es) %s, which the other splits or "
                       "dataset.label_names declare; the model will never predict them", missing)
    report = PreflightReport(classes=names, train_counts={n: int(c) for n, c in zip(names, counts)})
    _check_balancing(recipe, train_y, names, report)
    _check_model_options(recipe, names)
    return report


def _check_output(recipe: Recipe) -> None:
    """``output.dir`` must be a folder (or nothing yet), apart from the data source."""
    run_dir = recipe.run_dir.resolve()
    if run_dir.exists() and not run_dir.is_dir():
        raise RecipeError(f"output.dir {str(recipe.run_dir)!r} is a file, not a folder")
    source = Path(os.path.expanduser(recipe.dataset.source))
    if source.exists():
        source = source.resolve()
        if run_dir == source or run_dir in source.parents or (source.is_dir() and source in run_dir.parents):
            raise RecipeError(f"output.dir {str(recipe.run_dir)!r} is, holds or lies inside the data source "
                              f"{str(source)!r}; the run folder is replaced as a whole: keep it apart from the input")


def _check_model(recipe: Recipe) -> None:
    """A local model folder must hold a config and tokenizer files; anything else must look like a Hub id."""
    name = recipe.model.name_or_path
    path = Path(resolve_model_path(name)).expanduser()
    if path.exists():
        if not path.is_dir() or not (path / "config.json").is_file():
            raise RecipeError(f"model.name_or_path {str(path)!r} is not a model folder (no config.json)")
        if not any((path / f).is_file() for f in _TOKENIZER_FILES):
            raise RecipeError(f"model.name_or_path {str(path)!r} has no tokenizer files (looked for "
                              f"{', '.join(_TOKENIZER_FILES)})")
        return
    text = str(name or "")
    if text.startswith((".", "/", "~")) or text.count("/") > 1 or not text:
        raise RecipeError(f"model.name_or_path {text!r} does not exist")
    if os.environ.get("HF_HUB_OFFLINE") == "1":
        from huggingface_hub import try_to_load_from_cache

        if try_to_load_from_cache(text, "config.json", revision=recipe.model.revision) is None:
            raise RecipeError(f"model.name_or_path {text!r} is a Hub id, but HF_HUB_OFFLINE=1 and it is not in "
                              "the local Hugging Face cache; give a local model folder or go online")


def _check_balancing(recipe: Recipe, train_y: np.ndarray, names: list[str], report: PreflightReport) -> None:
    """Build the augmenters (names, parameters) and resolve both strategies on the real class counts."""
    cfg = recipe.balancing
    if cfg.undersample is not None:
        try:
            targets = resolve_sampling_strategy(train_y, cfg.undersample, "under-sampling", label_names=names)
        except (ValueError, TypeError) as err:
            raise RecipeError(f"balancing.undersample: {err}") from None
        report["undersample_targets"] = {names[k]: v for k, v in targets.items()}
        counts = np.bincount(train_y, minlength=len(names))
        train_y = np.repeat(np.arange(len(names)), [targets.get(i, c) for i, c in enumerate(counts)])
    try:
        balancer = build_balancer(recipe)
    except (ValueError, TypeError) as err:
        raise RecipeError(f"balancing.augmenters: {err}") from None
    if balancer is not None:
        try:
            targets = resolve_sampling_strategy(train_y, cfg.sampling_strategy, "over-sampling", label_names=names)
        except (ValueError, TypeError) as err:
            raise RecipeError(f"balancing.sampling_strategy: {err}") from None
        report["balancing_targets"] = {names[k]: v for k, v in targets.items()}


def _check_model_options(recipe: Recipe, names: list[str]) -> None:
    """Options that name classes or count them must agree with the data."""
    aux = recipe.model.aux_head
    if aux is not None and aux.minority_classes is not None:
        unknown = [c for c in aux.minority_classes if c not in names]
        if unknown:
            raise RecipeError(f"model.aux_head.minority_classes names unknown classes {unknown}; classes are {names}")
    if recipe.output.posthoc is not None:
        from nlp_balance.evaluation import DECISION_RULES

        spec = decision_rule_spec(recipe.output.posthoc, "output.posthoc")
        if DECISION_RULES[spec["method"]].binary_only and len(names) != 2:
            raise RecipeError(f"output.posthoc: {spec['method']!r} needs two classes, the data has {len(names)}")
        target = spec.get("target_class")
        if target is not None and target not in names:
            raise RecipeError(f"output.posthoc.target_class {target!r} is not a class; classes are {names}")
    weights: Any = recipe.training.get("class_weights")
    if isinstance(weights, (list, tuple)) and len(weights) != len(names):
        raise RecipeError(f"training.class_weights has {len(weights)} entries but the data has {len(names)} classes "
                          f"{names}; give one weight per class in this order, or a mapping by class name")
    if isinstance(weights, dict):
        unknown = [k for k in weights if str(k) not in names and not (isinstance(k, int) and 0 <= k < len(names))]
        if unknown:
            raise RecipeError(f"training.class_weights names unknown classes {unknown}; classes are {names}")
