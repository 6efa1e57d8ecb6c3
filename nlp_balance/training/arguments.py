"""``BalancedTrainingArguments``: ``transformers.TrainingArguments`` plus the imbalance options.

Every field is also a command-line flag through ``HfArgumentParser``. The options are checked by
:func:`~nlp_balance.training.imbalance_options.check_training_options`, the same validator that
:class:`~nlp_balance.training.BalancedTrainer` and recipes use.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from transformers import TrainingArguments

from nlp_balance.training.batch_sampler import SAMPLER_MODES
from nlp_balance.training.class_weights import CLASS_WEIGHTING_SCHEMES
from nlp_balance.training.embedding_synthesis import SYNTHESIS_METHODS
from nlp_balance.training.imbalance_options import IMBALANCE_OPTIONS, check_training_options
from nlp_balance.training.losses import LOSSES

__all__ = ["BalancedTrainingArguments"]


@dataclass
class BalancedTrainingArguments(TrainingArguments):
    """``TrainingArguments`` plus the imbalance options; every field is also a command-line flag."""

    loss: str = field(
        default="ce",
        metadata={"help": f"Loss name, one of {', '.join(LOSSES)}."},
    )
    loss_params: dict[str, Any] | str | None = field(
        default=None,
        metadata={"help": "Extra loss parameters as a JSON object, e.g. '{\"gamma\": 2.0}'."},
    )
    class_weighting: str | None = field(
        default=None,
        metadata={
            "help": "Compute class weights from the training labels with this scheme: "
            f"{', '.join(CLASS_WEIGHTING_SCHEMES)}. 'effective_number' reads beta from loss_params "
            "(default 0.999)."
        },
    )
    class_weights: list[float] | None = field(
        default=None,
        metadata={"help": "Explicit class weights, one per class in label-id order (overrides class_weighting)."},
    )
    sampler: str | None = field(
        default=None,
        metadata={
            "help": f"Balanced training sampler, one of {', '.join(SAMPLER_MODES)}: 'weighted' (every class "
            "equally often) or 'sqrt' (share proportional to sqrt(count)); seeded by data_seed or seed, "
            "with replacement."
        },
    )
    drw_epoch: float | None = field(
        default=None,
        metadata={"help": "Deferred re-weighting: train unweighted until this epoch, then with class weights."},
    )
    metric_for_best_model: str | None = field(
        default="macro_f1",
        metadata={"help": "Metric used to compare checkpoints (imbalance metrics report macro_f1)."},
    )
    greater_is_better: bool | None = field(
        default=True,
        metadata={"help": "Whether a larger metric_for_best_model is better."},
    )
    # Embedding-space synthesis (embedding_synthesis.py and hidden_mixup.py in nlp_balance/training
    # explain the methods and why they stay GA-exact).
    embedding_synthesis: str | None = field(
        default=None,
        metadata={
            "help": "Synthesise minority examples while training: 'smote' or 'mixup' at the head's input "
            f"(trains the head only), 'tmix' inside the encoder (TMix). One of {', '.join(SYNTHESIS_METHODS)}."
        },
    )
    synthesis_k: int = field(default=5, metadata={"help": "Nearest same-class neighbours for 'smote'."})
    synthesis_ratio: float = field(
        default=1.0, metadata={"help": "Synthetic points per labelled example of a synthesis class (expected)."}
    )
    synthesis_weight: float = field(default=1.0, metadata={"help": "Weight of the synthetic losses."})
    memory_bank_size: int = field(default=256, metadata={"help": "Pooled representations kept per class."})
    synthesis_classes: list[int] | None = field(
        default=None, metadata={"help": "Class ids that get synthetic points (default: every non-majority class)."}
    )
    mixup_alpha: float = field(
        default=0.4, metadata={"help": "Beta(alpha, alpha) mixing weight for 'mixup' and 'tmix'."}
    )
    tmix_layers: list[int] | None = field(
        default=None,
        metadata={
            "help": "Encoder layers (1-based) whose outputs 'tmix' may mix, one drawn per mixed example "
            "(default: TMix's {7, 9, 12} of 12 layers, scaled to the model's depth)."
        },
    )
    head_learning_rate: float | None = field(
        default=None,
        metadata={
            "help": "Learning rate of the classification head (classifier/score, and aux_head when present); "
            "default: learning_rate. The scheduler scales it like the encoder's."
        },
    )
    early_stopping_patience: int | None = field(
        default=None,
        metadata={
            "help": "Stop when metric_for_best_model has not improved for this many evaluations (transformers' "
            "EarlyStoppingCallback); with load_best_model_at_end the best evaluation's weights are kept."
        },
    )

    def __post_init__(self) -> None:
        patience = self.early_stopping_patience
        if patience is not None and (isinstance(patience, bool) or not isinstance(patience, int) or patience < 1):
            raise ValueError(f"early_stopping_patience must be an integer >= 1 or None, got {patience!r}")
        names = (*IMBALANCE_OPTIONS, "train_sampling_strategy", "label_smoothing_factor", "gradient_checkpointing")
        checked = check_training_options({name: getattr(self, name) for name in names if hasattr(self, name)})
        for name in IMBALANCE_OPTIONS:
            setattr(self, name, checked[name])
        super().__post_init__()
