"""check_training_options: every imbalance option checked in one place, errors that begin with the option name."""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch

from nlp_balance.training import (
    CLASS_WEIGHTING_SCHEMES,
    IMBALANCE_OPTIONS,
    LOSSES,
    SAMPLER_MODES,
    SYNTHESIS_METHODS,
    check_training_options,
)
from nlp_balance.training.imbalance_options import TRAINER_OPTIONS, parse_loss_params
from nlp_balance.training.losses import FocalLoss


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"loss": "focall"}, "loss='focall' is not valid; use one of [" + ", ".join(map(repr, sorted(LOSSES)))),
        ({"loss": 3}, "loss must be a loss name"),
        ({"loss_params": "{gamma: 2}"}, "loss_params must be a JSON object"),
        ({"loss_params": [1, 2]}, "loss_params must be a dict"),
        ({"loss": "focal", "loss_params": {"gama": 2}}, "loss_params: loss 'focal' does not take parameter(s)"),
        ({"loss": "focal", "loss_params": {"gamma": -1}}, "loss_params: gamma must be >= 0, got -1 (loss='focal', "),
        ({"loss": "ldam", "loss_params": {"s": 0}}, "loss_params: s must be > 0, got 0 (loss='ldam', loss_params="),
        ({"class_weighting": "sqrt"}, "class_weighting='sqrt' is not valid; use None or one of"),
        ({"class_weights": []}, "class_weights is an empty list"),
        ({"class_weights": "balanced"}, "class_weights must be numbers, got the string 'balanced'"),
        ({"class_weights": [1, -2]}, "class_weights must be non-negative numbers, not all zero; got [1, -2]"),
        ({"class_weights": [1, float("nan")]}, "class_weights must be finite numbers"),
        ({"class_weights": [0, 0]}, "class_weights must be non-negative numbers, not all zero; got [0, 0]"),
        ({"class_weights": 3}, "class_weights must be a list of numbers or a dict"),
        ({"loss": "dice", "class_weighting": "balanced"}, "class_weighting='balanced' cannot be used with loss='dice'"),
        ({"loss": "sigmoid_focal", "class_weights": [1, 2]}, "class_weights=[1.0, 2.0] cannot be used with loss="),
        ({"loss": "focal", "class_weights": [1, 2], "loss_params": {"alpha": [1, 2]}}, "loss_params: give the class"),
        ({"sampler": "oversample"}, "sampler='oversample' is not valid; use None or one of ['weighted', 'sqrt']"),
        ({"sampler": "sqrt", "train_sampling_strategy": "sequential"}, "sampler='sqrt' replaces the Trainer's"),
        ({"drw_epoch": -1.0, "class_weighting": "balanced"}, "drw_epoch must be a number >= 0"),
        ({"drw_epoch": True, "class_weighting": "balanced"}, "drw_epoch must be a number >= 0"),
        ({"drw_epoch": 1.0}, "drw_epoch (deferred re-weighting) needs class weights"),
        ({"embedding_synthesis": "adasyn"}, "embedding_synthesis='adasyn' is not valid; use None or one of"),
        ({"synthesis_k": 0}, "synthesis_k must be an integer >= 1"),
        ({"memory_bank_size": 2.5}, "memory_bank_size must be an integer >= 1"),
        ({"synthesis_ratio": 0}, "synthesis_ratio must be a number > 0"),
        ({"synthesis_weight": -1}, "synthesis_weight must be a number >= 0"),
        ({"mixup_alpha": float("inf")}, "mixup_alpha must be a number > 0"),
        ({"synthesis_classes": []}, "synthesis_classes must be a non-empty list of class ids"),
        ({"synthesis_classes": [1, -1]}, "synthesis_classes must be a non-empty list of class ids"),
        ({"label_smoothing_factor": 0.1}, "label_smoothing_factor=0.1 is not supported by BalancedTrainer"),
    ],
)
def test_errors_begin_with_the_option_name(values, message):
    with pytest.raises(ValueError) as info:
        check_training_options(values)
    text = str(info.value)
    assert re.match(r"\w+", text).group() in values, text  # the option that failed comes first
    assert message in text, text


def test_a_wrong_name_gets_a_suggestion():
    with pytest.raises(ValueError, match=r"did you mean 'balanced_softmax'\?"):
        check_training_options({"loss": "balanced_softmx"})
    with pytest.raises(ValueError, match=r"did you mean 'effective_number'\?"):
        check_training_options({"class_weighting": "effective_numbers"})


def test_values_come_back_normalised_and_other_keys_untouched():
    values = {
        "loss": " Balanced-Softmax ",
        "loss_params": "{}",
        "class_weights": np.array([1, 2.5, 4]),
        "drw_epoch": 1,
        "learning_rate": 3e-5,
        "output_dir": "somewhere",
    }
    out = check_training_options(values)
    assert out == {
        "loss": "balanced_softmax",
        "loss_params": {},
        "class_weights": [1.0, 2.5, 4.0],
        "drw_epoch": 1.0,
        "learning_rate": 3e-5,
        "output_dir": "somewhere",
    }
    assert isinstance(out["drw_epoch"], float)
    assert values["loss"] == " Balanced-Softmax "  # the input is not modified
    assert check_training_options({}) == {}
    keyed = check_training_options({"class_weights": {"neg": 1, 1: 3}})
    assert keyed["class_weights"] == {"neg": 1.0, 1: 3.0}
    assert check_training_options({"class_weights": torch.tensor([1.0, 2.0])})["class_weights"] == [1.0, 2.0]


def test_every_registered_choice_is_accepted():
    for name, spec in LOSSES.items():
        weighting = "balanced" if spec.takes_class_weights else None
        assert check_training_options({"loss": name, "class_weighting": weighting, "drw_epoch": None})["loss"] == name
    for scheme in CLASS_WEIGHTING_SCHEMES:
        check_training_options({"class_weighting": scheme})
    for mode in SAMPLER_MODES:
        check_training_options({"sampler": mode, "train_sampling_strategy": "random"})
    for method in SYNTHESIS_METHODS:
        check_training_options({"embedding_synthesis": method, "synthesis_k": 3, "synthesis_classes": [1, 2]})


def test_per_class_loss_parameters_of_any_length_pass():
    """The dummy loss takes its class count from a per-class parameter, so a binary alpha is not rejected."""
    check_training_options({"loss": "focal", "loss_params": {"alpha": [0.25, 0.75]}})
    check_training_options({"loss": "logit_adjusted", "loss_params": {"class_priors": [0.5, 0.3, 0.1, 0.1]}})
    check_training_options({"loss": "bce", "loss_params": {"pos_weight": [3.0, 1.0]}, "class_weights": [1, 2]})
    mismatch = {"loss": "logit_adjusted", "loss_params": {"class_priors": [0.5, 0.5]}, "class_weights": [1, 1, 1]}
    with pytest.raises(ValueError, match=r"^loss_params: expected 2 class weights .*\(loss='logit_adjusted'"):
        check_training_options(mismatch)


def test_a_loss_module_is_kept_and_not_built():
    module = FocalLoss(gamma=1.0)
    out = check_training_options({"loss": module, "loss_params": {"anything": 1}, "class_weighting": "balanced"})
    assert out["loss"] is module and out["loss_params"] == {"anything": 1}


def test_the_default_loss_is_checked_when_loss_is_absent():
    with pytest.raises(ValueError, match=re.escape("loss_params: loss 'ce' does not take parameter(s) ['gamma']")):
        check_training_options({"loss_params": {"gamma": 2.0}})


def test_option_lists_and_json_parsing():
    assert set(TRAINER_OPTIONS) < set(IMBALANCE_OPTIONS)
    assert parse_loss_params(None) == {} and parse_loss_params('{"gamma": 1.5}') == {"gamma": 1.5}
