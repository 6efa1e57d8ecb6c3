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

from nlp_balance.data.labels import model_label_names
from nlp_balance.evaluation.classifier import (
    ENSEMBLE_FILENAME,
    ENSEMBLE_FORMAT,
    ENSEMBLE_FORMAT_VERSION,
    EnsembleClassifier,
    load_ensemble_parts,
)

__all__ = ["EasyEnsemble"]

logger = logging.getLogger(__name__)


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

        from nlp_balance.resampling import resolve_sampling_strategy, under_sample_indices

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
        out = [np.asarray(under_sample_indices(y, targets, seed), dtype=np.int64) for seed in self.member_seeds]
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
            from nlp_balance.training.trainer import BalancedTrainer

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
        self.label_names = model_label_names(config)
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
            "format": ENSEMBLE_FORMAT, "format_version": ENSEMBLE_FORMAT_VERSION, "method": "easy_ensemble",
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
        members, tokenizer, meta, posthoc = load_ensemble_parts(directory, device=device)
        ens = cls(n_members=meta["n_members"], sampling_strategy=meta.get("sampling_strategy", "auto"),
                  seed=meta.get("seed", 0), label_column=meta.get("label_column", "label"))
        ens.members, ens.tokenizer, ens.posthoc = members, tokenizer, posthoc
        ens.subset_sizes_ = list(meta.get("subset_sizes", []))
        config = ens.members[0].config
        ens.label_names = model_label_names(config)
        return ens


