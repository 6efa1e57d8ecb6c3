"""What every fitting method starts from (:class:`PreparedRun`) and returns (:class:`FittedModel`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import datasets

from nlp_balance.evaluation import TextClassifier

__all__ = ["FittedModel", "PreparedRun"]


@dataclass
class PreparedRun:
    """What every method starts from: the splits, the rebalanced train split, tokenized data, tokenizer."""

    splits: datasets.DatasetDict
    names: list[str]
    train: datasets.Dataset
    tokenized: dict[str, datasets.Dataset]
    tokenizer: Any
    model_path: str
    args: Any  # BalancedTrainingArguments, output_dir = the checkpoints folder


@dataclass
class FittedModel:
    """A fitted classifier and what the run folder records about how it was fitted."""

    classifier: TextClassifier
    validation_metrics: dict[str, Any]
    log_history: list[dict[str, Any]]
    train_time_s: float
    args: Any  # the TrainingArguments it trained with: world size, device, precision
    save: Callable[[Path], None]  # writes the model folder (without the decision rule)
    info: dict[str, Any] = field(default_factory=dict)
    #: The training data the model saw, when it is not the rebalanced train split (an ensemble member's).
    seen_train: datasets.Dataset | None = None
