"""How :class:`~nlp_balance.training.BalancedTrainer` applies, fits and stores a decision rule.

A decision rule (per-class logit offsets, :class:`~nlp_balance.evaluation.PosthocAdjustment`) is
applied to the logits of ``predict``/``evaluate``, fitted on the validation split by
:meth:`DecisionRuleMixin.fit_posthoc`, and saved as ``posthoc.json`` beside the model.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from nlp_balance.evaluation.decision_rules import DECISION_RULES, PosthocAdjustment, fit_decision_rule, load_posthoc

__all__ = ["DecisionRuleMixin"]

logger = logging.getLogger(__name__)


class DecisionRuleMixin:
    """The decision-rule half of BalancedTrainer (mixed into a ``transformers.Trainer`` subclass)."""

    posthoc: PosthocAdjustment | None

    def _resolve_posthoc(self, posthoc: Any) -> PosthocAdjustment | None:
        if posthoc is False:
            return None
        if isinstance(posthoc, PosthocAdjustment):
            return posthoc
        if isinstance(posthoc, (str, Path)):
            found = load_posthoc(posthoc)
            if found is None:
                raise ValueError(f"posthoc={str(posthoc)!r}: no posthoc.json in that folder")
            return found
        if posthoc is None:
            source = getattr(getattr(self.model, "config", None), "_name_or_path", None)
            if source and Path(source).is_dir():
                found = load_posthoc(source)
                if found is not None:
                    logger.info("loaded the post-hoc adjustment saved with the model in %s", source)
                return found
            return None
        raise ValueError(f"posthoc must be a PosthocAdjustment, a folder, None or False, got {posthoc!r}")

    def prediction_step(
        self,
        model: nn.Module,
        inputs: dict[str, Any],
        prediction_loss_only: bool,
        ignore_keys: list[str] | None = None,
    ) -> tuple[torch.Tensor | None, Any, Any]:
        """``Trainer.prediction_step`` with the active post-hoc adjustment applied to the logits."""
        loss, logits, labels = super().prediction_step(model, inputs, prediction_loss_only, ignore_keys)
        if self.posthoc is not None and isinstance(logits, torch.Tensor):
            logits = self.posthoc.apply(logits)
        return loss, logits, labels

    def set_posthoc(self, adjustment: PosthocAdjustment | None) -> None:
        """Use ``adjustment`` in ``predict``/``evaluate`` from now on; saved by ``save_model``."""
        if adjustment is not None and len(adjustment.offsets) != self.num_labels:
            raise ValueError(f"adjustment has {len(adjustment.offsets)} offsets for {self.num_labels} classes")
        self.posthoc = adjustment

    def fit_posthoc(self, method: str = "class_offsets", eval_dataset: Any = None, **params: Any) -> PosthocAdjustment:
        """Fit a decision rule on the evaluation split's logits and use it in ``predict``/``evaluate`` from now on.

        ``method`` names a rule of :data:`~nlp_balance.evaluation.DECISION_RULES`; ``params`` go to
        :func:`~nlp_balance.evaluation.fit_decision_rule` (``metric``, ``guard``, ``tau``, ...). The
        training class counts are the priors of a logit adjustment; the seed is ``args.seed``.
        """
        if self.multi_label:
            raise ValueError("fit_posthoc supports single-label classification only")
        if method not in DECISION_RULES:
            raise ValueError(f"decision rule must be one of {sorted(DECISION_RULES)}, got {method!r}")
        evaluation = eval_dataset if eval_dataset is not None else self.eval_dataset
        if evaluation is None and method == "logit_adjustment" and isinstance(params.get("tau"), (int, float)):
            if self.class_counts_ is None:  # a fixed tau needs only the training priors
                raise ValueError("logit adjustment needs training labels to estimate the class priors")
            adjustment = PosthocAdjustment.from_priors(np.maximum(self.class_counts_, 1), tau=float(params["tau"]))
            self.set_posthoc(adjustment)
            return adjustment
        if evaluation is None:
            raise ValueError(f"fit_posthoc({method!r}) fits on validation logits: pass eval_dataset or give the "
                             "trainer one")
        saved, self.posthoc = self.posthoc, None
        try:
            out = self.predict(evaluation)
        finally:
            self.posthoc = saved
        logits = out.predictions[0] if isinstance(out.predictions, tuple) else out.predictions
        keep = out.label_ids != -100
        adjustment = fit_decision_rule(np.asarray(logits)[keep], out.label_ids[keep], method,
                                       train_counts=self.class_counts_, seed=self.args.seed, **params)
        self.set_posthoc(adjustment)
        return adjustment

    def save_model(self, output_dir: str | None = None, _internal_call: bool = False) -> None:
        """Save the model as ``Trainer`` does, plus ``posthoc.json`` when an adjustment is active."""
        super().save_model(output_dir, _internal_call)
        if self.posthoc is not None and self.args.should_save:
            self.posthoc.save(output_dir if output_dir is not None else self.args.output_dir)
