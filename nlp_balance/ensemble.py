"""EasyEnsemble for transformers: members fine-tuned on balanced subsets, predictions averaged.

EasyEnsemble (Liu, Wu & Zhou, 2009) trains each member on every minority example plus a different
random subset of the majority classes, so no example is thrown away by the ensemble as a whole and
every member sees balanced data. The subset rule is imbalanced-learn's ``EasyEnsembleClassifier``:
member ``i`` trains on ``RandomUnderSampler(sampling_strategy, replacement=False,
random_state=seed_i).fit_resample(train)`` (the package's own :class:`~nlp_balance.RandomUnderSampler`,
so the ``sampling_strategy`` rules are the same everywhere). The member seeds are derived from the one
user seed with ``numpy.random.SeedSequence(seed).spawn(n_members)``, so adding members keeps the
earlier members' subsets.

The ensemble predicts the mean of its members' softmax probabilities. It saves as one folder::

    ensemble_dir/
      ensemble.json        format, members, their seeds and subset sizes, label names
      tokenizer files      shared by the members (so AutoTokenizer.from_pretrained(ensemble_dir) works)
      member_0/ ...        each member's from_pretrained folder
      posthoc.json         optional post-hoc adjustment applied to the averaged prediction

Members train **one after another**. Under ``torchrun``/``accelerate launch`` every member's
``Trainer`` is itself data-parallel over all processes (each process holds the same member at the
same time), so a multi-process launch speeds up each member rather than spreading members over
processes; only process 0 writes files.
"""

from __future__ import annotations

import copy
import json
import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .inference import TextClassifier
from .sampling import label_array

__all__ = [
    "ENSEMBLE_FILENAME",
    "EasyEnsemble",
    "EnsembleClassifier",
    "is_ensemble_dir",
    "load_ensemble",
    "run_easy_ensemble_recipe",
]

logger = logging.getLogger(__name__)

#: Name of the file that marks a folder as a saved ensemble.
ENSEMBLE_FILENAME = "ensemble.json"
_FORMAT = "nlp_balance.easy_ensemble"
_FORMAT_VERSION = 1


def is_ensemble_dir(path: str | Path) -> bool:
    """True when ``path`` is a folder written by :meth:`EasyEnsemble.save_pretrained`."""
    return (Path(path) / ENSEMBLE_FILENAME).is_file()


def _softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=-1, keepdims=True)
    e = np.exp(shifted)
    return e / e.sum(axis=-1, keepdims=True)


class EasyEnsemble:
    """Train ``n_members`` classifiers on EasyEnsemble subsets and average their probabilities.

    Args:
        n_members: number of members (imbalanced-learn's ``n_estimators``).
        sampling_strategy: under-sampling ``sampling_strategy`` for each member's subset (``"auto"``
            = every class down to the minority count).
        seed: the user seed all member seeds derive from.
        label_column: label column of the training ``Dataset`` (``"label"`` or ``"labels"``).

    ``fit`` trains members; ``predict_proba``/``predict`` score texts; ``save_pretrained`` /
    ``from_pretrained`` round-trip the whole ensemble.
    """

    def __init__(
        self,
        n_members: int = 5,
        *,
        sampling_strategy: Any = "auto",
        seed: int = 0,
        label_column: str = "label",
    ) -> None:
        if isinstance(n_members, bool) or not isinstance(n_members, (int, np.integer)) or n_members < 1:
            raise ValueError(f"n_members must be an integer >= 1, got {n_members!r}")
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
            raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
        self.n_members = int(n_members)
        self.sampling_strategy = sampling_strategy
        self.seed = int(seed)
        self.label_column = label_column
        self.members: list[Any] = []
        self.tokenizer: Any = None
        self.label_names: list[str] | None = None
        self.subset_sizes_: list[int] = []
        self.posthoc: Any = None

    # ---- subsets -------------------------------------------------------------------------------

    @property
    def member_seeds(self) -> list[int]:
        """One 31-bit seed per member, derived from ``seed`` (stable when ``n_members`` grows)."""
        children = np.random.SeedSequence(self.seed).spawn(self.n_members)
        return [int(c.generate_state(1, dtype=np.uint32)[0] >> 1) for c in children]

    def member_indices(self, dataset: Any) -> list[np.ndarray]:
        """Row indices of each member's subset: ``RandomUnderSampler(..., random_state=seed_i)``.

        The sampler's own selection rule is applied to the label column read once through Arrow
        (``RandomUnderSampler.fit_resample`` would re-read the column for every member).
        """
        import datasets

        from .sampling import RandomUnderSampler, _random_state, resolve_sampling_strategy

        column = self.label_column
        if column not in dataset.column_names:
            alt = "labels" if column == "label" else "label"
            if alt not in dataset.column_names:
                raise ValueError(f"label_column={column!r} not found; columns are {dataset.column_names}")
            column = alt
        y = dataset.with_format("arrow", columns=[column])[:][column].to_numpy(zero_copy_only=False)
        if y.ndim != 1 or not np.issubdtype(y.dtype, np.integer) or (y < 0).any():
            raise ValueError(f"EasyEnsemble needs single-label integer class ids >= 0 in {column!r}")
        y = y.astype(np.int64)
        feature = dataset.features[column]
        names = feature.names if isinstance(feature, datasets.ClassLabel) else None
        targets = resolve_sampling_strategy(y, self.sampling_strategy, "under-sampling", label_names=names)
        out = []
        for seed in self.member_seeds:
            sampler = RandomUnderSampler(self.sampling_strategy, random_state=seed, replacement=False,
                                         label_column=column)
            out.append(np.asarray(sampler._select_indices(y, targets, _random_state(seed)), dtype=np.int64))
        return out

    def member_subsets(self, dataset: Any) -> list[Any]:
        """Each member's training ``Dataset`` (``dataset.select`` of :meth:`member_indices`)."""
        return [dataset.select(idx) for idx in self.member_indices(dataset)]

    # ---- training ------------------------------------------------------------------------------

    def fit(
        self,
        train_dataset: Any,
        model_init: Callable[[], Any],
        args: Any,
        *,
        eval_dataset: Any = None,
        processing_class: Any = None,
        data_collator: Any = None,
        trainer_cls: type | None = None,
        **trainer_kwargs: Any,
    ) -> EasyEnsemble:
        """Fine-tune one member per subset, one after another.

        ``model_init()`` returns a fresh model (called after seeding with the member's seed, so each
        member's new head differs); ``args`` are the ``TrainingArguments`` every member uses, with
        ``output_dir`` set to ``<output_dir>/member_<i>`` and ``seed`` to the member's seed.
        ``trainer_cls`` defaults to :class:`~nlp_balance.BalancedTrainer` (the recipe's loss applies
        to every member); extra keyword arguments go to it.
        """
        import transformers

        if trainer_cls is None:
            from .trainer import BalancedTrainer

            trainer_cls = BalancedTrainer
        subsets = self.member_subsets(train_dataset)
        self.members, self.subset_sizes_ = [], []
        self.train_outputs_ = []
        self.histories_: list[list[dict[str, Any]]] = []
        for i, (seed, subset) in enumerate(zip(self.member_seeds, subsets)):
            transformers.set_seed(seed)
            model = model_init()
            member_args = copy.deepcopy(args)
            member_args.output_dir = str(Path(args.output_dir) / f"member_{i}")
            member_args.seed = seed
            trainer = trainer_cls(model=model, args=member_args, train_dataset=subset, eval_dataset=eval_dataset,
                                  processing_class=processing_class, data_collator=data_collator, **trainer_kwargs)
            logger.info("EasyEnsemble: training member %d/%d on %d rows (seed %d)", i + 1, self.n_members,
                        len(subset), seed)
            self.train_outputs_.append(trainer.train())
            self.members.append(trainer.model)
            self.histories_.append(list(trainer.state.log_history))
            self.subset_sizes_.append(len(subset))
            self.last_trainer_ = trainer
        self.tokenizer = processing_class
        config = self.members[0].config
        self.label_names = [str(config.id2label.get(i, i)) for i in range(config.num_labels)]
        return self

    # ---- prediction ----------------------------------------------------------------------------

    def classifier(self, *, max_length: int = 128) -> EnsembleClassifier:
        """A :class:`EnsembleClassifier` over the fitted members (needs the tokenizer given to ``fit``)."""
        if not self.members:
            raise ValueError("the ensemble has no members yet; call fit() or from_pretrained() first")
        if self.tokenizer is None:
            raise ValueError("the ensemble has no tokenizer; pass processing_class= to fit()")
        return EnsembleClassifier(self.members, self.tokenizer, posthoc=self.posthoc, max_length=max_length)

    def predict_proba(self, texts: Sequence[str], *, batch_size: int = 64, max_length: int = 128) -> np.ndarray:
        """Mean of the members' softmax probabilities, ``[n_texts, n_classes]``."""
        return self.classifier(max_length=max_length).predict_proba(texts, batch_size=batch_size)

    def predict(self, texts: Sequence[str], *, batch_size: int = 64, max_length: int = 128) -> list[dict[str, Any]]:
        """One dict per text (label, score, probabilities), as :meth:`TextClassifier.predict`."""
        return self.classifier(max_length=max_length).predict(texts, batch_size=batch_size)

    # ---- persistence ---------------------------------------------------------------------------

    def save_pretrained(self, save_directory: str | Path) -> Path:
        """Write the members (``member_<i>/``), the tokenizer and ``ensemble.json`` into one folder."""
        if not self.members:
            raise ValueError("nothing to save: the ensemble has no members; call fit() first")
        out = Path(save_directory)
        out.mkdir(parents=True, exist_ok=True)
        names = []
        for i, member in enumerate(self.members):
            name = f"member_{i}"
            member.save_pretrained(out / name)
            if self.tokenizer is not None:
                self.tokenizer.save_pretrained(out / name)  # each member folder is usable on its own
            names.append(name)
        if self.tokenizer is not None:
            self.tokenizer.save_pretrained(out)
        if self.posthoc is not None:
            self.posthoc.save(out)
        strategy = self.sampling_strategy
        meta = {
            "format": _FORMAT, "format_version": _FORMAT_VERSION, "method": "easy_ensemble",
            "combine": "mean_probability", "n_members": len(names), "members": names,
            "seed": self.seed, "member_seeds": self.member_seeds[: len(names)],
            "sampling_strategy": strategy if isinstance(strategy, (str, int, float, dict)) else repr(strategy),
            "label_column": self.label_column, "subset_sizes": list(self.subset_sizes_),
            "label_names": self.label_names,
        }
        (out / ENSEMBLE_FILENAME).write_text(json.dumps(meta, indent=2, default=str) + "\n", encoding="utf-8")
        return out

    @classmethod
    def from_pretrained(cls, directory: str | Path, *, device: str | None = None) -> EasyEnsemble:
        """Load an ensemble folder written by :meth:`save_pretrained`."""
        import torch
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        from .posthoc import load_posthoc

        directory = Path(directory)
        meta = _read_meta(directory)
        ens = cls(n_members=meta["n_members"], sampling_strategy=meta.get("sampling_strategy", "auto"),
                  seed=meta.get("seed", 0), label_column=meta.get("label_column", "label"))
        target = device or ("cuda" if torch.cuda.is_available() else "cpu")
        ens.members = [AutoModelForSequenceClassification.from_pretrained(directory / name).to(target).eval()
                       for name in meta["members"]]
        tok_dir = directory if (directory / "tokenizer_config.json").is_file() else directory / meta["members"][0]
        ens.tokenizer = AutoTokenizer.from_pretrained(tok_dir)
        ens.subset_sizes_ = list(meta.get("subset_sizes", []))
        config = ens.members[0].config
        ens.label_names = [str(config.id2label.get(i, i)) for i in range(config.num_labels)]
        ens.posthoc = load_posthoc(directory)
        return ens


def _read_meta(directory: Path) -> dict[str, Any]:
    path = directory / ENSEMBLE_FILENAME
    if not path.is_file():
        raise FileNotFoundError(f"{directory} is not an ensemble folder: it has no {ENSEMBLE_FILENAME}")
    meta = json.loads(path.read_text(encoding="utf-8"))
    if meta.get("format") != _FORMAT:
        raise ValueError(f"{path}: format is {meta.get('format')!r}, expected {_FORMAT!r}")
    if int(meta.get("format_version", 0)) > _FORMAT_VERSION:
        raise ValueError(f"{path}: format_version {meta['format_version']} is newer than this nlp_balance "
                         f"understands ({_FORMAT_VERSION}); upgrade nlp_balance")
    missing = [m for m in meta.get("members", []) if not (directory / m).is_dir()]
    if not meta.get("members") or missing:
        raise ValueError(f"{path}: member folders missing: {missing or 'none listed'}")
    return meta


class EnsembleClassifier(TextClassifier):
    """:class:`~nlp_balance.inference.TextClassifier` over several members: probabilities averaged.

    ``logits`` returns ``log(mean probability)``, so everything built on logits (softmax
    probabilities, argmax, a post-hoc adjustment) sees the ensemble's averaged prediction.
    """

    def __init__(self, members: Sequence[Any], tokenizer: Any, *, posthoc: Any = None, max_length: int = 128) -> None:
        if not members:
            raise ValueError("an ensemble needs at least one member")
        super().__init__(members[0], tokenizer, posthoc=posthoc, max_length=max_length)
        self.members = [m.eval() for m in members]
        for i, m in enumerate(self.members[1:], start=1):
            names = [str(m.config.id2label.get(j, j)) for j in range(m.config.num_labels)]
            if names != self.label_names:
                raise ValueError(f"member {i} has labels {names}, member 0 has {self.label_names}")

    def predict_proba(self, texts: Sequence[str], *, batch_size: int = 64) -> np.ndarray:
        """Mean of the members' softmax probabilities, ``[n_texts, n_classes]`` (float64)."""
        total = None
        for member in self.members:
            self.model = member
            probs = _softmax(TextClassifier.logits(self, texts, batch_size=batch_size).astype(np.float64))
            total = probs if total is None else total + probs
        self.model = self.members[0]
        assert total is not None
        return total / len(self.members)

    def logits(self, texts: Sequence[str], *, batch_size: int = 64) -> np.ndarray:
        """``log`` of the averaged probabilities (softmax of it gives them back)."""
        probs = self.predict_proba(texts, batch_size=batch_size)
        return np.log(np.clip(probs, 1e-30, None)).astype(np.float32)


def load_ensemble(path: str | Path, *, max_length: int = 128, device: str | None = None) -> EnsembleClassifier:
    """Load a saved ensemble folder as an :class:`EnsembleClassifier` (used by ``load_classifier``)."""
    ens = EasyEnsemble.from_pretrained(path, device=device)
    return ens.classifier(max_length=max_length)


def run_easy_ensemble_recipe(recipe: Any, *, kind: str = "balanced") -> Any:
    """Run a recipe with ``method: easy_ensemble``: the run folder of ``pipeline.run_recipe``, with the
    ensemble saved under ``run_dir/model/`` (called by :func:`nlp_balance.pipeline.run_recipe`)."""
    import math
    import shutil
    import time

    import transformers
    from transformers import AutoModelForSequenceClassification, AutoTokenizer, DataCollatorWithPadding

    from . import pipeline as pl
    from .distribution import class_distribution
    from .metrics import compute_imbalance_metrics

    started = time.time()
    transformers.set_seed(recipe.seed)
    run_dir = recipe.run_dir
    checkpoints = run_dir / "checkpoints"
    args = pl._training_arguments(recipe, checkpoints)
    text_col, label_col = recipe.dataset.text_column, recipe.dataset.label_column
    with args.main_process_first(desc="data preparation"):
        splits = pl.prepare_splits(recipe)
        names = list(splits["train"].features[label_col].names)
        before = {k: v.to_json() for k, v in class_distribution(splits, label_col).items()}
        train = splits["train"]
        balancer = pl.build_balancer(recipe)
        if balancer is not None:
            train = balancer.fit_resample(train)
        model_path = pl.resolve_model_path(recipe.model.name_or_path)
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
            "model": model_path if recipe.model.name_or_path else pl.DEFAULT_MODEL,
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
            "device": str(trainer.args.device), "versions": pl._versions(),
        }
        pl._write_json(run_dir / "run_info.json", run_info)
        after = class_distribution(train_tok.select(ens.member_indices(train_tok)[0]), label_col).to_json()
        pl._write_json(run_dir / "distribution.json", {"before": before, "after": {"train": after}})
        pl._write_json(run_dir / "metrics.json", {"test": test_metrics, "validation": val_metrics})
        pl._write_json(run_dir / "confusion_matrix.json", {"labels": names, "matrix": np.asarray(cm).tolist()})
        history = [dict(entry, member=i) for i, out in enumerate(ens.histories_) for entry in out]
        pl._write_json(run_dir / "log_history.json", history)
        with open(run_dir / "predictions.jsonl", "w", encoding="utf-8") as fh:
            for text, ref, pred, p in zip(splits["test"][text_col], refs, preds, probs):
                fh.write(json.dumps({"text": text, "label": names[int(ref)], "prediction": names[int(pred)],
                                     "probabilities": [round(float(x), 6) for x in p]}, ensure_ascii=False) + "\n")
        shutil.rmtree(checkpoints, ignore_errors=True)
        pl._render(run_dir)
    trainer.accelerator.wait_for_everyone()
    headline = {k: test_metrics[k] for k in ("macro_f1", "balanced_accuracy", "accuracy") if k in test_metrics}
    finite = {k: v for k, v in headline.items() if not (isinstance(v, float) and math.isnan(v))}
    return pl.RunResult(run_dir=run_dir, metrics=finite)
