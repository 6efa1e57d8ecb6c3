"""What ``method: auto`` chooses among: the training-argument candidates and the data options."""

from __future__ import annotations

from typing import Any

__all__ = ["DATA_OPTIONS", "PORTFOLIO", "SELECT_RULES"]

#: Training-argument candidates: every imbalance option is set in each, so trials do not leak into
#: each other. ``drw_epoch`` is a fraction of the trial's epochs.
PORTFOLIO: dict[str, dict[str, Any]] = {
    "ce": {"loss": "ce", "loss_params": {}, "class_weighting": None, "drw_epoch": None},
    "weighted_ce_balanced": {"loss": "weighted_ce", "loss_params": {}, "class_weighting": "balanced",
                             "drw_epoch": None},
    "weighted_ce_inverse_sqrt": {"loss": "weighted_ce", "loss_params": {}, "class_weighting": "inverse_sqrt",
                                 "drw_epoch": None},
    "ldam_drw": {"loss": "ldam", "loss_params": {"max_m": 0.5, "s": 1.0}, "class_weighting": "effective_number",
                 "drw_epoch": 0.75},
}
#: Data options: the train split as it is, or its small classes augmented up to ``auto.floor``.
DATA_OPTIONS = ("original", "augment_floor")
#: How the winner is picked from the candidates' validation scores: ``best`` (the highest; ties go to
#: the original data, then portfolio order) or ``one_standard_error`` (the first candidate in that
#: order whose score is within one bootstrap standard error of the highest: Breiman et al.'s rule,
#: which prefers the simpler choice unless validation clearly supports another).
SELECT_RULES = ("best", "one_standard_error")
