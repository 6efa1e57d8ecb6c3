"""``method: easy_ensemble``: members on under-sampled subsets, probabilities averaged."""

from __future__ import annotations

import time

from nlp_balance.data import label_array
from nlp_balance.evaluation import compute_imbalance_metrics
from nlp_balance.runs.fitted import FittedModel, PreparedRun
from nlp_balance.runs.recipe import Recipe
from nlp_balance.runs.stages import new_model

__all__ = ["fit_easy_ensemble"]


def fit_easy_ensemble(recipe: Recipe, run: PreparedRun, resume_from: str | None) -> FittedModel:
    """EasyEnsemble: one member per under-sampled subset, probabilities averaged."""
    from transformers import DataCollatorWithPadding

    from nlp_balance.training import EasyEnsemble

    train_tok = run.tokenized["train"]
    label_column = "label" if "label" in train_tok.column_names else "labels"
    ens = EasyEnsemble(recipe.ensemble.n_members, sampling_strategy=recipe.ensemble.sampling_strategy,
                       seed=recipe.seed, label_column=label_column, member_steps=recipe.ensemble.member_steps,
                       warm_start=recipe.ensemble.warm_start)
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
    shared = getattr(ens, "shared_history_", None)
    if shared:
        history = [dict(entry, member="shared") for entry in shared] + history
    info = {
        "loss": getattr(trainer.args, "loss", "ce"), "loss_params": getattr(trainer, "loss_params", {}),
        "class_weights": None,
        "ensemble": {"n_members": ens.n_members, "member_seeds": ens.member_seeds, "subset_sizes": ens.subset_sizes_,
                     "sampling_strategy": recipe.ensemble.sampling_strategy, "cost": ens.cost_summary()},
    }
    first_member = train_tok.select(ens.member_indices(train_tok)[0])
    return FittedModel(classifier, validation, history, train_time, trainer.args, ens.save_pretrained, info,
                       seen_train=first_member)
