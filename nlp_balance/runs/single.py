"""``method: single``: one BalancedTrainer; the best validation epoch is the model."""

from __future__ import annotations

import time
from pathlib import Path

from nlp_balance.evaluation import TextClassifier
from nlp_balance.runs.fitted import FittedModel, PreparedRun
from nlp_balance.runs.recipe import Recipe
from nlp_balance.runs.stages import new_model

__all__ = ["fit_single"]


def fit_single(recipe: Recipe, run: PreparedRun, resume_from: str | None) -> FittedModel:
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
        # A wrapper saves itself: the aux head's folder loads as a plain classifier, an attention head's
        # folder loads with its head (load_classifier); Trainer.save_model would write only a state dict.
        if recipe.model.aux_head is not None or recipe.model.head != "default":
            trainer.accelerator.unwrap_model(trainer.model).save_pretrained(str(model_dir))
            run.tokenizer.save_pretrained(str(model_dir))
        else:
            trainer.save_model(str(model_dir))

    weights = None if trainer.class_weights_ is None else [round(float(w), 6) for w in trainer.class_weights_]
    info = {"loss": trainer.args.loss, "loss_params": trainer.loss_params, "class_weights": weights}
    return FittedModel(classifier, validation, list(trainer.state.log_history), train_time, trainer.args, save, info)
