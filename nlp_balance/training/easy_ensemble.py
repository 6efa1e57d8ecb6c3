"""EasyEnsemble for transformers: members fine-tuned on balanced subsets, predictions averaged.

EasyEnsemble (Liu, Wu & Zhou, 2009) trains each member on every minority example plus a different
random subset of the majority classes, so no example is thrown away by the ensemble as a whole and
every member sees balanced data. The subset rule is imbalanced-learn's ``EasyEnsembleClassifier``:
member ``i`` trains on ``RandomUnderSampler(sampling_strategy, replacement=False,
random_state=seed_i).fit_resample(train)`` (the package's own :class:`~nlp_balance.RandomUnderSampler`,
so the ``sampling_strategy`` rules are the same everywhere). The member seeds are derived from the one
user seed with ``numpy.random.SeedSequence(seed).spawn(n_members)``, so adding members keeps the
earlier members' subsets.

Members on small subsets see few batches: with a single-model run's arguments, a balanced subset of
trec6 gives a member about 28 optimizer steps, too few to fine-tune. Two options add steps:

* ``member_steps="match_full"`` (the default) gives every member as many optimizer steps as training
  on the whole train split with the same arguments would take (``max_steps`` set to that count;
  evaluation, saving and logging "per epoch" happen every full-split epoch's worth of steps);
  ``"subset"`` keeps the arguments as given (epochs of the member's own subset);
* ``warm_start="shared"`` first fine-tunes one model on the whole train split, then starts every
  member from its weights and continues on the member's balanced subset. With ``member_steps="subset"``
  this costs one full run plus short continuations.

Each member's cost (optimizer steps, seconds) and the shared fine-tune's are recorded in
:meth:`EasyEnsemble.cost_summary` and saved in ``ensemble.json``.

The ensemble predicts the mean of its members' softmax probabilities. It saves as one folder::

    ensemble_dir/
      ensemble.json        format, members, their seeds, subset sizes and costs, label names
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
import math
import time
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

__all__ = ["MEMBER_STEPS", "WARM_STARTS", "EasyEnsemble", "full_run_steps"]

logger = logging.getLogger(__name__)

#: Values of ``member_steps``: as many optimizer steps as a full-split run, or the arguments as given.
MEMBER_STEPS = ("match_full", "subset")
#: Values of ``warm_start`` (``None``: every member starts from ``model_init()``).
WARM_STARTS = ("shared",)


def full_run_steps(n_rows: int, args: Any) -> tuple[int, int]:
    """``(optimizer steps, optimizer steps per epoch)`` of a ``Trainer`` run on ``n_rows`` rows with
    ``args``, computed as ``Trainer`` does (accelerate shards every ``world``-th batch to a process)."""
    batch = int(args.train_batch_size)
    world = max(1, int(getattr(args, "world_size", 1)))
    drop_last = bool(getattr(args, "dataloader_drop_last", False))
    batches = n_rows // batch if drop_last else math.ceil(n_rows / batch)
    per_process = batches // world if drop_last else math.ceil(batches / world)
    ga = int(args.gradient_accumulation_steps)
    per_epoch = max(per_process // ga + int(per_process % ga > 0), 1)
    if args.max_steps > 0:
        return int(args.max_steps), per_epoch
    return math.ceil(args.num_train_epochs * per_epoch), per_epoch


class EasyEnsemble:
    """Train ``n_members`` classifiers on EasyEnsemble subsets and average their probabilities.

    Args:
        n_members: number of members (imbalanced-learn's ``n_estimators``).
        sampling_strategy: under-sampling ``sampling_strategy`` for each member's subset (``"auto"``
            = every class down to the minority count).
        seed: the user seed all member seeds derive from (and the shared fine-tune's seed).
        label_column: label column of the training ``Dataset`` (``"label"`` or ``"labels"``).
        member_steps: ``"match_full"`` (each member takes as many optimizer steps as training on the
            whole train split would) or ``"subset"`` (the training arguments as given).
        warm_start: ``"shared"`` (start every member from one fine-tune on the whole train split) or
            ``None`` (from ``model_init()``).

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
        member_steps: str = "match_full",
        warm_start: str | None = None,
    ) -> None:
        if isinstance(n_members, bool) or not isinstance(n_members, (int, np.integer)) or n_members < 1:
            raise ValueError(f"n_members must be an integer >= 1, got {n_members!r}")
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
            raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
        if member_steps not in MEMBER_STEPS:
            raise ValueError(f"member_steps={member_steps!r} is not valid; use one of {list(MEMBER_STEPS)}")
        if warm_start is not None and warm_start not in WARM_STARTS:
            raise ValueError(f"warm_start={warm_start!r} is not valid; use None or one of {list(WARM_STARTS)}")
        self.n_members = int(n_members)
        self.sampling_strategy = sampling_strategy
        self.seed = int(seed)
        self.label_column = label_column
        self.member_steps = member_steps
        self.warm_start = warm_start
        self.members: list[Any] = []
        self.tokenizer: Any = None
        self.label_names: list[str] | None = None
        self.subset_sizes_: list[int] = []
        self.member_costs_: list[dict[str, Any]] = []  # per member: rows, optimizer_steps, epochs, train_seconds
        self.shared_cost_: dict[str, Any] | None = None  # the same for the shared fine-tune (warm_start)
        self.full_run_steps_: int | None = None  # optimizer steps of one run on the whole train split
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
        """Fine-tune one member per subset, one after another (after the shared fine-tune, if any).

        ``model_init()`` returns a fresh model (called after seeding with the member's seed, so each
        member's new head differs, unless ``warm_start="shared"`` loads the shared weights into it);
        ``args`` are the ``TrainingArguments`` every member uses, with ``output_dir`` set to
        ``<output_dir>/member_<i>``, ``seed`` to the member's seed and, with ``member_steps="match_full"``,
        the optimizer steps of a full-split run. The shared fine-tune trains on ``train_dataset`` with
        ``args``, seed ``seed``, in ``<output_dir>/shared``. ``trainer_cls`` defaults to
        :class:`~nlp_balance.BalancedTrainer` (the recipe's loss applies to every member); extra keyword
        arguments go to it.
        """
        import transformers

        if trainer_cls is None:
            from nlp_balance.training.trainer import BalancedTrainer

            trainer_cls = BalancedTrainer
        subsets = self.member_subsets(train_dataset)
        self.full_run_steps_, per_epoch = full_run_steps(len(train_dataset), args)
        common = dict(eval_dataset=eval_dataset, processing_class=processing_class, data_collator=data_collator,
                      **trainer_kwargs)
        self.members, self.subset_sizes_, self.member_costs_ = [], [], []
        self.train_outputs_ = []
        self.histories_: list[list[dict[str, Any]]] = []
        self.shared_cost_, self.shared_history_ = None, None
        shared_state = None
        if self.warm_start == "shared":
            transformers.set_seed(self.seed)
            shared_args = copy.deepcopy(args)
            shared_args.output_dir, shared_args.seed = str(Path(args.output_dir) / "shared"), self.seed
            logger.info("EasyEnsemble: shared fine-tune on all %d rows", len(train_dataset))
            trainer = trainer_cls(model=model_init(), args=shared_args, train_dataset=train_dataset, **common)
            _, self.shared_cost_ = _timed_train(trainer, len(train_dataset))
            self.shared_history_ = list(trainer.state.log_history)
            shared_state = {k: v.detach().clone() for k, v in trainer.model.state_dict().items()}
            del trainer
        for i, (seed, subset) in enumerate(zip(self.member_seeds, subsets)):
            transformers.set_seed(seed)
            model = model_init()
            if shared_state is not None:
                model.load_state_dict(shared_state)
            member_args = self._member_args(args, i, seed, per_epoch)
            trainer = trainer_cls(model=model, args=member_args, train_dataset=subset, **common)
            logger.info("EasyEnsemble: training member %d/%d on %d rows (seed %d)", i + 1, self.n_members,
                        len(subset), seed)
            output, cost = _timed_train(trainer, len(subset))
            self.member_costs_.append({"member": i, **cost})
            self.train_outputs_.append(output)
            self.members.append(trainer.model)
            self.histories_.append(list(trainer.state.log_history))
            self.subset_sizes_.append(len(subset))
            self.last_trainer_ = trainer
        self.tokenizer = processing_class
        config = self.members[0].config
        self.label_names = model_label_names(config)
        return self

    def _member_args(self, args: Any, index: int, seed: int, full_epoch_steps: int) -> Any:
        """``args`` for member ``index``: its folder and seed, and the full run's step budget when matched.

        A matched member's "epoch" is a full-split epoch's worth of optimizer steps, so evaluation,
        checkpoints and logs per epoch come as often as in the full run (not once per short subset pass)."""
        from transformers.trainer_utils import IntervalStrategy, SaveStrategy

        member_args = copy.deepcopy(args)
        member_args.output_dir = str(Path(args.output_dir) / f"member_{index}")
        member_args.seed = seed
        if self.member_steps == "match_full" and args.max_steps <= 0:
            assert self.full_run_steps_ is not None
            member_args.max_steps = self.full_run_steps_
            if member_args.eval_strategy == IntervalStrategy.EPOCH:
                member_args.eval_strategy, member_args.eval_steps = IntervalStrategy.STEPS, full_epoch_steps
            if member_args.save_strategy == SaveStrategy.EPOCH:
                member_args.save_strategy, member_args.save_steps = SaveStrategy.STEPS, full_epoch_steps
            if member_args.logging_strategy == IntervalStrategy.EPOCH:
                member_args.logging_strategy, member_args.logging_steps = IntervalStrategy.STEPS, full_epoch_steps
        return member_args

    def cost_summary(self) -> dict[str, Any]:
        """What training cost: per member and for the shared fine-tune (rows, optimizer steps, epochs,
        seconds), their totals, and the totals relative to one run on the whole train split."""
        parts = [*([self.shared_cost_] if self.shared_cost_ else []), *self.member_costs_]
        steps = sum(int(c["optimizer_steps"]) for c in parts)
        seconds = sum(float(c["train_seconds"]) for c in parts)
        full = self.full_run_steps_
        return {
            "member_steps": self.member_steps, "warm_start": self.warm_start, "full_run_optimizer_steps": full,
            "shared": self.shared_cost_, "members": list(self.member_costs_),
            "total_optimizer_steps": steps, "total_train_seconds": round(seconds, 3),
            "optimizer_steps_vs_full_run": round(steps / full, 4) if full else None,
        }

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
            "label_names": self.label_names, "member_steps": self.member_steps, "warm_start": self.warm_start,
            "cost": self.cost_summary(),
        }
        (out / ENSEMBLE_FILENAME).write_text(json.dumps(meta, indent=2, default=str) + "\n", encoding="utf-8")
        return out

    @classmethod
    def from_pretrained(cls, directory: str | Path, *, device: str | None = None) -> EasyEnsemble:
        """Load an ensemble folder written by :meth:`save_pretrained`."""
        members, tokenizer, meta, posthoc = load_ensemble_parts(directory, device=device)
        ens = cls(n_members=meta["n_members"], sampling_strategy=meta.get("sampling_strategy", "auto"),
                  seed=meta.get("seed", 0), label_column=meta.get("label_column", "label"),
                  member_steps=meta.get("member_steps", "subset"), warm_start=meta.get("warm_start"))
        ens.members, ens.tokenizer, ens.posthoc = members, tokenizer, posthoc
        ens.subset_sizes_ = list(meta.get("subset_sizes", []))
        cost = meta.get("cost") or {}
        ens.member_costs_ = list(cost.get("members") or [])
        ens.shared_cost_ = cost.get("shared")
        ens.full_run_steps_ = cost.get("full_run_optimizer_steps")
        config = ens.members[0].config
        ens.label_names = model_label_names(config)
        return ens


def _timed_train(trainer: Any, rows: int) -> tuple[Any, dict[str, Any]]:
    """``trainer.train()`` and what it cost: rows, optimizer steps, epochs and wall seconds."""
    started = time.perf_counter()
    output = trainer.train()
    seconds = time.perf_counter() - started
    state = trainer.state
    return output, {"rows": rows, "optimizer_steps": int(state.global_step),
                    "epochs": round(float(state.epoch or 0), 4), "train_seconds": round(seconds, 3)}
