"""``method: auto`` (and ``nlp-balance tune``): choose, on validation only, how to train for imbalance.

Two levels, both searched with Optuna:

* the data: the train split as it is, or with the classes that have fewer than ``auto.floor``
  examples augmented up to that floor (Optuna directly, a grid over the data options, because the
  choice changes the data);
* the training arguments: a small portfolio of losses and class weightings
  (:data:`PORTFOLIO`), through ``Trainer.hyperparameter_search`` with a grid sampler, so every
  candidate trains with the same budget (``auto.epochs_per_trial``) and is scored by its best
  validation macro-F1 over its epochs.

The winner is the candidate with the best validation score (``auto.select: best``), or the
simplest one within one bootstrap standard error of it (``auto.select: one_standard_error``); its
best checkpoint is the model, so nothing is trained twice. Both picks are recorded either way.
The decision rule is then fitted on validation by the runner, like for every method. The run
folder records every candidate, its validation score and its cost.
"""

from __future__ import annotations

import copy
import json
import logging
import time
from pathlib import Path
from typing import Any

import datasets
import numpy as np

from nlp_balance.runs.fitted import FittedModel, PreparedRun
from nlp_balance.runs.portfolio import DATA_OPTIONS, PORTFOLIO
from nlp_balance.runs.recipe import Recipe, RecipeError
from nlp_balance.runs.single import fit_single
from nlp_balance.runs.stages import new_model, tokenize_splits, training_arguments

logger = logging.getLogger(__name__)

__all__ = ["data_options", "fit_auto", "floor_strategy", "select_candidates"]

def floor_strategy(counts: np.ndarray, names: list[str], floor: int) -> dict[str, int]:
    """``sampling_strategy`` that lifts every class with fewer than ``floor`` examples (but at least one) to it."""
    return {n: int(floor) for n, c in zip(names, counts) if 0 < c < floor}


def data_options(recipe: Recipe, counts: np.ndarray, names: list[str]) -> list[str]:
    """The data options that apply: augmentation only when some class is below the floor."""
    return [o for o in DATA_OPTIONS if o == "original" or floor_strategy(counts, names, recipe.auto.floor)]


def _augmented(recipe: Recipe, train: datasets.Dataset, names: list[str]) -> datasets.Dataset:
    from nlp_balance.augment import build_augmenter
    from nlp_balance.data import label_array
    from nlp_balance.resampling import Balancer

    counts = np.bincount(label_array(train, recipe.dataset.label_column), minlength=len(names))
    augmenter = build_augmenter([(a.name, a.params) for a in recipe.auto.augmenters], recipe.auto.combine)
    balancer = Balancer(augmenter, floor_strategy(counts, names, recipe.auto.floor), seed=recipe.seed,
                        text_column=recipe.dataset.text_column, label_column=recipe.dataset.label_column)
    return balancer.fit_resample(train)


def _hp_space(candidates: list[str], epochs: float) -> Any:
    def space(trial: Any) -> dict[str, Any]:
        values = dict(PORTFOLIO[trial.suggest_categorical("candidate", candidates)])
        if values["drw_epoch"] is not None:
            values["drw_epoch"] = float(values["drw_epoch"]) * epochs
        return values

    return space


def _best_checkpoint(run_dir: Path) -> str:
    """The best checkpoint of one trial's folder (``load_best_model_at_end`` keeps it)."""
    states = sorted(run_dir.glob("checkpoint-*/trainer_state.json"), key=lambda p: int(p.parent.name.split("-")[1]))
    if not states:
        raise RuntimeError(f"no checkpoint in {run_dir}; method: auto needs save_strategy matching eval_strategy")
    best = json.loads(states[-1].read_text()).get("best_model_checkpoint")
    return best or str(states[-1].parent)


def _search_training_arguments(recipe: Recipe, run: Any, train: datasets.Dataset, option: str,
                               epochs: float) -> list[dict[str, Any]]:
    """One ``hyperparameter_search`` over the portfolio on ``train``; a row per trial."""
    import optuna
    from transformers import DataCollatorWithPadding

    from nlp_balance.training import BalancedTrainer

    candidates = list(recipe.auto.portfolio)
    args = run.args
    args.output_dir = str(Path(args.output_dir) / option)
    args.num_train_epochs = epochs
    tokenized = tokenize_splits(run.tokenizer, {"train": train}, recipe)["train"]
    trainer = BalancedTrainer(model_init=lambda trial=None: new_model(recipe, run.model_path, run.names, train),
                              args=args, train_dataset=tokenized, eval_dataset=run.tokenized["validation"],
                              processing_class=run.tokenizer, data_collator=DataCollatorWithPadding(run.tokenizer))
    metric = f"eval_{recipe.auto.metric}"

    def best_so_far(metrics: dict[str, float]) -> float:
        best = trainer.state.best_metric
        return max(float(metrics[metric]), float(best) if best is not None else -np.inf)

    n_trials = len(candidates) if recipe.auto.trials is None else min(recipe.auto.trials, len(candidates))
    sampler = optuna.samplers.GridSampler({"candidate": candidates}, seed=recipe.seed)
    storage = f"sqlite:///{Path(args.output_dir) / 'trials.db'}"  # where the search's trials can be read back
    Path(args.output_dir).mkdir(parents=True, exist_ok=True)
    trainer.hyperparameter_search(hp_space=_hp_space(candidates, epochs), compute_objective=best_so_far,
                                  n_trials=n_trials, direction="maximize", backend="optuna", sampler=sampler,
                                  study_name=option, storage=storage)
    rows = []
    for trial in optuna.load_study(study_name=option, storage=storage).get_trials(deepcopy=False):
        if trial.state != optuna.trial.TrialState.COMPLETE:
            continue
        rows.append({"data": option, "candidate": trial.params["candidate"], "validation": float(trial.value),
                     "epochs": epochs, "seconds": round((trial.datetime_complete - trial.datetime_start)
                                                        .total_seconds(), 1),
                     "train_rows": len(train),
                     "checkpoint": _best_checkpoint(Path(args.output_dir) / f"run-{trial.number}")})
    return rows


def fit_auto(recipe: Recipe, run: Any, resume_from: str | None) -> Any:
    """The ``auto`` method: search data options x training candidates on validation; keep the winner."""
    import optuna

    from nlp_balance.data import label_array
    from nlp_balance.evaluation import compute_imbalance_metrics

    if resume_from is not None:
        raise RecipeError("--resume is not supported with method: auto")
    counts = np.bincount(label_array(run.train, recipe.dataset.label_column), minlength=len(run.names))
    options = data_options(recipe, counts, run.names)
    full_epochs = float(run.args.num_train_epochs)
    epochs = float(recipe.auto.epochs_per_trial or full_epochs)
    root = Path(run.args.output_dir)
    rows: list[dict[str, Any]] = []
    started = time.time()

    trains: dict[str, datasets.Dataset] = {}

    def objective(trial: optuna.Trial) -> float:
        option = trial.suggest_categorical("data", options)
        trains[option] = run.train if option == "original" else _augmented(recipe, run.train, run.names)
        run.args.output_dir = str(root)
        found = _search_training_arguments(recipe, run, trains[option], option, epochs)
        rows.extend(found)
        return max(r["validation"] for r in found)

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.GridSampler({"data": options},
                                                                                           seed=recipe.seed))
    study.optimize(objective, n_trials=len(options))
    best, within, standard_error = select_candidates(rows, _bootstrap_standard_error(recipe, run))
    winner = within if recipe.auto.select == "one_standard_error" else best
    run.args.output_dir, run.args.num_train_epochs = str(root), full_epochs
    if winner is best:
        why = (f"highest validation {recipe.auto.metric} ({winner['validation']:.4f}) of {len(rows)} candidates "
               "trained with the same budget; ties go to the original data, then the simpler candidate")
    else:
        why = (f"the simplest of {len(rows)} candidates within one bootstrap standard error "
               f"({standard_error:.4f}) of the highest validation {recipe.auto.metric} ({best['validation']:.4f})")
    keys = ("data", "candidate", "validation")
    summary = {
        "winner": {k: winner[k] for k in keys},
        "why": why,
        "select": recipe.auto.select,
        "standard_error": round(standard_error, 6),
        "highest": {k: best[k] for k in keys},
        "within_one_standard_error": {k: within[k] for k in keys},
        "candidates": [{k: r[k] for k in ("data", "candidate", "validation", "epochs", "seconds", "train_rows")}
                       for r in rows],
        "trials": len(rows), "epochs_per_trial": epochs, "floor": recipe.auto.floor,
    }
    if epochs < full_epochs:  # chosen on a short budget: train the winner with the full one
        fitted = _retrain(recipe, run, trains[winner["data"]], winner["candidate"], full_epochs, root / "final")
        summary["final"] = {"epochs": full_epochs, "seconds": round(fitted.train_time_s, 1),
                            "validation": fitted.validation_metrics.get(recipe.auto.metric)}
        fitted.info = {**fitted.info, "auto": summary}
        fitted.train_time_s = time.time() - started
        fitted.seen_train = trains[winner["data"]]
        return fitted
    classifier, predicted, labels = _validation_predictions(recipe, run, winner["checkpoint"])
    model = classifier.model
    validation, _ = compute_imbalance_metrics(predicted, labels, run.names)
    chosen = PORTFOLIO[winner["candidate"]]
    info = {"loss": chosen["loss"], "loss_params": chosen["loss_params"], "class_weights": None, "auto": summary}
    history = json.loads((Path(winner["checkpoint"]) / "trainer_state.json").read_text())["log_history"]

    def save(model_dir: Path) -> None:
        model.save_pretrained(str(model_dir))
        run.tokenizer.save_pretrained(str(model_dir))

    return FittedModel(classifier, validation, history, time.time() - started, run.args, save, info,
                       seen_train=trains[winner["data"]])


def _simplicity(row: dict[str, Any]) -> tuple[bool, int]:
    """Sort key, simplest first: the original data before augmented data, then portfolio order."""
    return row["data"] != "original", list(PORTFOLIO).index(row["candidate"])


def select_candidates(rows: list[dict[str, Any]], standard_error: Any) -> tuple[dict, dict, float]:
    """``(highest, within, se)``: the candidate with the highest validation score (ties: the simplest),
    and the simplest candidate within ``se`` of it. ``standard_error`` is a number, or a callable that
    gets the highest row and returns one (so it is only computed from that candidate's predictions)."""
    if not rows:
        raise RuntimeError("method: auto finished no trial; see the log of the search above")
    best = min(rows, key=lambda r: (-round(r["validation"], 6), _simplicity(r)))
    se = float(standard_error(best) if callable(standard_error) else standard_error)
    if not se >= 0:
        raise ValueError(f"a standard error must be >= 0, got {se!r}")
    within = min((r for r in rows if round(r["validation"], 6) >= round(best["validation"] - se, 6)),
                 key=_simplicity)
    return best, within, se


def _validation_predictions(recipe: Recipe, run: Any, checkpoint: str) -> tuple[Any, np.ndarray, np.ndarray]:
    """A trial checkpoint as a ``TextClassifier``, its predicted class ids on the validation split, and the labels."""
    from transformers import AutoModelForSequenceClassification

    from nlp_balance.data import label_array
    from nlp_balance.evaluation import TextClassifier

    model = AutoModelForSequenceClassification.from_pretrained(checkpoint).eval()
    classifier = TextClassifier(model, run.tokenizer, max_length=recipe.model.max_length)
    validation = run.splits["validation"]
    predicted, _ = classifier.predict_ids(validation[recipe.dataset.text_column])
    return classifier, np.asarray(predicted), np.asarray(label_array(validation, recipe.dataset.label_column))


def _bootstrap_standard_error(recipe: Recipe, run: Any, resamples: int = 200) -> Any:
    """A callable: the bootstrap standard error of a candidate's validation score, from its checkpoint's
    predictions, over ``resamples`` resamples drawn from ``recipe.seed`` (the same seed, the same value)."""

    def standard_error(row: dict[str, Any]) -> float:
        from nlp_balance.evaluation import compute_imbalance_metrics
        from nlp_balance.utils import numpy_rng

        _, predicted, labels = _validation_predictions(recipe, run, row["checkpoint"])
        rng = numpy_rng(recipe.seed, "auto", "standard_error")
        scores = []
        for _ in range(resamples):
            idx = rng.integers(0, len(labels), len(labels))
            metrics, _ = compute_imbalance_metrics(predicted[idx], labels[idx], run.names)
            scores.append(float(metrics[recipe.auto.metric]))
        return float(np.std(scores, ddof=1))

    return standard_error


def _retrain(recipe: Recipe, run: Any, train: datasets.Dataset, candidate: str, epochs: float,
             output_dir: Path) -> FittedModel:
    """Train the winning candidate on its data with the full budget, as ``method: single`` would."""
    import transformers

    final = copy.deepcopy(recipe)
    values = dict(PORTFOLIO[candidate])
    if values["drw_epoch"] is not None:
        values["drw_epoch"] = float(values["drw_epoch"]) * epochs
    final.training.update({k: v for k, v in values.items() if v is not None or k in final.training})
    final.training["num_train_epochs"] = epochs
    args = training_arguments(final, output_dir)
    tokenized = tokenize_splits(run.tokenizer, {"train": train, "validation": run.splits["validation"]}, recipe)
    transformers.set_seed(recipe.seed)
    return fit_single(final, PreparedRun(run.splits, run.names, train, tokenized, run.tokenizer, run.model_path,
                                         args), None)
