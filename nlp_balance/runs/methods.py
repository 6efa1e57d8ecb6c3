"""The ways a recipe can fit a classifier, behind one interface the runner calls.

Every method takes the prepared data of a run and returns a :class:`FittedModel`: a classifier that
predicts (the same class ``nlp-balance predict`` loads), validation metrics, the training history,
what the run folder records about the method, and how to save the model folder. Everything around
the fit (data, balancing, scoring, decision rule, run folder, report, Hub) is shared by the runner,
so an option works the same for every method, or :func:`check_method_options` refuses it up front,
naming the key.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from nlp_balance.data import label_array
from nlp_balance.evaluation import TextClassifier, compute_imbalance_metrics
from nlp_balance.runs.auto import fit_auto
from nlp_balance.runs.fitted import FittedModel, PreparedRun
from nlp_balance.runs.recipe import Recipe, RecipeError
from nlp_balance.runs.stages import new_model

logger = logging.getLogger(__name__)

__all__ = ["METHODS", "FittedModel", "PreparedRun", "check_method_options", "fit"]


def _fit_single(recipe: Recipe, run: PreparedRun, resume_from: str | None) -> FittedModel:
    """One BalancedTrainer; the best epoch on validation macro-F1 is kept (``load_best_model_at_end``)."""
    from transformers import DataCollatorWithPadding

    from nlp_balance.training import BalancedTrainer

    model = new_model(recipe, run.model_path, run.names, run.train)
    trainer = BalancedTrainer(model=model, args=run.args, train_dataset=run.tokenized["train"],
                              eval_dataset=run.tokenized["validation"], processing_class=run.tokenizer,
                              data_collator=DataCollatorWithPadding(run.tokenizer))
    started = time.time()
    trainer.train(resume_from_checkpoint=resume_from)
    train_time = time.time() - started
    validation = {k.removeprefix("eval_"): v for k, v in trainer.evaluate().items()}
    classifier = TextClassifier(trainer.accelerator.unwrap_model(trainer.model), run.tokenizer,
                                max_length=recipe.model.max_length)

    def save(model_dir: Path) -> None:
        if recipe.model.aux_head is not None:  # the wrapper saves base model + head; loads as a plain classifier
            trainer.model.save_pretrained(str(model_dir))
            run.tokenizer.save_pretrained(str(model_dir))
        else:
            trainer.save_model(str(model_dir))

    weights = None if trainer.class_weights_ is None else [round(float(w), 6) for w in trainer.class_weights_]
    info = {"loss": trainer.args.loss, "loss_params": trainer.loss_params, "class_weights": weights}
    return FittedModel(classifier, validation, list(trainer.state.log_history), train_time, trainer.args, save, info)


def _fit_easy_ensemble(recipe: Recipe, run: PreparedRun, resume_from: str | None) -> FittedModel:
    """EasyEnsemble: one member per under-sampled subset, probabilities averaged."""
    from transformers import DataCollatorWithPadding

    from nlp_balance.training import EasyEnsemble

    train_tok = run.tokenized["train"]
    label_column = "label" if "label" in train_tok.column_names else "labels"
    ens = EasyEnsemble(recipe.ensemble.n_members, sampling_strategy=recipe.ensemble.sampling_strategy,
                       seed=recipe.seed, label_column=label_column)
    started = time.time()
    ens.fit(train_tok, lambda: new_model(recipe, run.model_path, run.names, run.train), run.args,
            eval_dataset=run.tokenized["validation"], processing_class=run.tokenizer,
            data_collator=DataCollatorWithPadding(run.tokenizer))
    train_time = time.time() - started
    classifier = ens.classifier(max_length=recipe.model.max_length)
    validation_split = run.splits["validation"]
    val_probs = classifier.predict_proba(validation_split[recipe.dataset.text_column])
    validation, _ = compute_imbalance_metrics(val_probs.argmax(-1),
                                              label_array(validation_split, recipe.dataset.label_column), run.names)
    trainer = ens.last_trainer_
    history = [dict(entry, member=i) for i, out in enumerate(ens.histories_) for entry in out]
    info = {
        "loss": getattr(trainer.args, "loss", "ce"), "loss_params": getattr(trainer, "loss_params", {}),
        "class_weights": None,
        "ensemble": {"n_members": ens.n_members, "member_seeds": ens.member_seeds, "subset_sizes": ens.subset_sizes_,
                     "sampling_strategy": recipe.ensemble.sampling_strategy},
    }
    first_member = train_tok.select(ens.member_indices(train_tok)[0])
    return FittedModel(classifier, validation, history, train_time, trainer.args, ens.save_pretrained, info,
                       seen_train=first_member)


@dataclass(frozen=True)
class Method:
    """A fitting method: its function, and the recipe options it cannot honour (key path -> why)."""

    fit: Callable[[Recipe, PreparedRun, str | None], FittedModel]
    supports_resume: bool = True
    single_process: bool = False
    unsupported: tuple[tuple[str, Callable[[Recipe], bool]], ...] = ()


#: The methods a recipe's ``method:`` can name.
METHODS: dict[str, Method] = {
    "single": Method(_fit_single),
    "easy_ensemble": Method(
        _fit_easy_ensemble,
        supports_resume=False,
        unsupported=(("model.aux_head", lambda r: r.model.aux_head is not None),),
    ),
    "auto": Method(
        fit_auto,
        supports_resume=False,
        single_process=True,
        unsupported=(("model.aux_head", lambda r: r.model.aux_head is not None),
                     ("training.loss", lambda r: "loss" in r.training),
                     ("training.class_weighting", lambda r: "class_weighting" in r.training),
                     ("balancing.sampling_strategy", lambda r: r.balancing.sampling_strategy is not None)),
    ),
}


def check_method_options(recipe: Recipe, *, resume: bool = False) -> None:
    """Refuse, before any work, an option the recipe's method cannot honour (a ``RecipeError`` naming it)."""
    method = METHODS.get(recipe.method)
    if method is None:
        raise RecipeError(f"method must be one of {', '.join(METHODS)}, got {recipe.method!r}")
    for key, used in method.unsupported:
        if used(recipe):
            raise RecipeError(f"{key} cannot be used with method: {recipe.method}; remove it or use method: single")
    if resume and not method.supports_resume:
        raise RecipeError(f"--resume is not supported with method: {recipe.method}; run it again without --resume")
    if method.single_process and int(os.environ.get("WORLD_SIZE", "1")) > 1:
        raise RecipeError(f"method: {recipe.method} runs in one process; start it without torchrun/accelerate launch")


def fit(recipe: Recipe, run: PreparedRun, resume_from: str | None = None) -> FittedModel:
    """Fit the recipe's method on the prepared run."""
    check_method_options(recipe, resume=resume_from is not None)
    return METHODS[recipe.method].fit(recipe, run, resume_from)
