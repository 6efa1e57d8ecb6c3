"""BalancedTrainingArguments: command-line flags, and option checks through check_training_options."""

from __future__ import annotations

import json

import pytest
from transformers import HfArgumentParser

from nlp_balance.training import LOSSES
from nlp_balance.training.arguments import BalancedTrainingArguments


def test_cli_flags_are_parsed(tmp_path):
    parser = HfArgumentParser(BalancedTrainingArguments)
    (args,) = parser.parse_args_into_dataclasses(
        [
            "--output_dir",
            str(tmp_path),
            "--loss",
            "focal",
            "--loss_params",
            '{"gamma": 1.5}',
            "--class_weights",
            "1",
            "2.5",
            "4",
            "--sampler",
            "sqrt",
            "--drw_epoch",
            "1.5",
            "--use_cpu",
        ]
    )
    assert args.loss == "focal" and args.loss_params == {"gamma": 1.5}
    assert args.class_weights == [1.0, 2.5, 4.0]
    assert args.sampler == "sqrt" and args.drw_epoch == 1.5
    assert args.metric_for_best_model == "macro_f1" and args.greater_is_better is True
    (args2,) = parser.parse_args_into_dataclasses(["--output_dir", str(tmp_path), "--class_weighting", "balanced"])
    assert args2.class_weighting == "balanced" and args2.loss == "ce"
    json.loads(args.to_json_string())  # serialisable with the extra fields


@pytest.mark.parametrize(
    ("field", "value", "needle"),
    [
        ("loss", "focall", "loss="),
        ("loss_params", "{gamma: 2}", "loss_params"),
        ("class_weighting", "sqrt", "class_weighting="),
        ("sampler", "oversample", "sampler="),
        ("drw_epoch", -1.0, "drw_epoch"),
        ("class_weights", [], "class_weights"),
    ],
)
def test_invalid_arguments_name_the_field(tmp_path, field, value, needle):
    with pytest.raises(ValueError, match=needle):
        BalancedTrainingArguments(output_dir=str(tmp_path), **{field: value})


def test_drw_without_weights_is_rejected(tmp_path):
    with pytest.raises(ValueError, match="drw_epoch"):
        BalancedTrainingArguments(output_dir=str(tmp_path), drw_epoch=1.0)


def test_options_come_back_normalised(tmp_path):
    args = BalancedTrainingArguments(
        output_dir=str(tmp_path), loss="Focal", loss_params='{"gamma": 1.0}', class_weights=(1, 2), drw_epoch=1
    )
    assert args.loss == "focal" and args.loss_params == {"gamma": 1.0}
    assert args.class_weights == [1.0, 2.0] and args.drw_epoch == 1.0
    assert BalancedTrainingArguments(output_dir=str(tmp_path)).loss_params == {}


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"loss": "focal", "loss_params": {"gama": 2.0}}, "loss_params: loss 'focal' does not take parameter(s)"),
        ({"loss": "dice", "class_weighting": "balanced"}, "class_weighting='balanced' cannot be used with loss='dice'"),
        ({"embedding_synthesis": "smote", "synthesis_k": 0}, "synthesis_k must be an integer >= 1"),
        ({"label_smoothing_factor": 0.1}, "label_smoothing_factor=0.1 is not supported by BalancedTrainer"),
        ({"sampler": "sqrt", "train_sampling_strategy": "sequential"}, "sampler='sqrt' replaces"),
    ],
)
def test_construction_fails_on_options_the_trainer_would_reject(tmp_path, extra, message):
    with pytest.raises(ValueError) as info:
        BalancedTrainingArguments(output_dir=str(tmp_path), **extra)
    assert str(info.value).startswith(message)


def test_help_lists_every_registered_loss():
    help_text = BalancedTrainingArguments.__dataclass_fields__["loss"].metadata["help"]
    assert all(name in help_text for name in LOSSES)
