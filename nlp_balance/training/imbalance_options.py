"""One validator for every imbalance option, used by the arguments, the trainer and recipes alike.

:func:`check_training_options` checks the options against the registries (:data:`LOSSES`,
:data:`CLASS_WEIGHTING_SCHEMES`, :data:`SAMPLER_MODES`, :data:`SYNTHESIS_METHODS`) and returns them
normalised. Each error is a ``ValueError`` whose message begins with the option's name
(``"class_weighting='foo' is not valid; ..."``), so a caller can prefix its own path
(``training.class_weighting=...``) and the user sees which key to fix.
"""

from __future__ import annotations

import difflib
import json
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from torch import nn

from nlp_balance.training.batch_sampler import SAMPLER_MODES
from nlp_balance.training.class_weights import CLASS_WEIGHTING_SCHEMES
from nlp_balance.training.embedding_synthesis import SYNTHESIS_METHODS
from nlp_balance.training.losses import LOSSES, LossSpec, build_loss, loss_spec

__all__ = ["IMBALANCE_OPTIONS", "TRAINER_OPTIONS", "check_training_options", "parse_loss_params"]

#: Options that :class:`~nlp_balance.training.BalancedTrainer` also takes as keyword overrides.
TRAINER_OPTIONS = ("loss", "loss_params", "class_weighting", "class_weights", "sampler", "drw_epoch")
#: Every imbalance option of :class:`~nlp_balance.training.BalancedTrainingArguments`.
IMBALANCE_OPTIONS = (
    *TRAINER_OPTIONS,
    "embedding_synthesis",
    "synthesis_k",
    "synthesis_ratio",
    "synthesis_weight",
    "memory_bank_size",
    "synthesis_classes",
    "mixup_alpha",
    "tmix_layers",
    "head_learning_rate",
)
# Classes of the dummy task the loss is built on to check loss_params (unless a per-class parameter
# fixes their number).
_DUMMY_CLASSES = 3


def check_training_options(values: Mapping[str, Any]) -> dict[str, Any]:
    """Validate the imbalance options in ``values``; return a copy with them normalised.

    Only the keys present are checked, and keys that are not imbalance options are passed through
    unchanged (so a whole recipe ``training`` section can be given). Normalised: ``loss`` to its
    registry name (an ``nn.Module`` is kept), ``loss_params`` from JSON to a dict, ``class_weights``
    to a list of floats (or a dict), ``drw_epoch`` and ``head_learning_rate`` to floats,
    ``tmix_layers`` to a sorted list of distinct ints. The named loss is built once on
    dummy classes so that a bad ``loss_params`` entry fails here rather than when training starts.
    ``train_sampling_strategy``, ``label_smoothing_factor`` and ``gradient_checkpointing``, when
    present, are checked against the options that rule them out. Raises ``ValueError`` whose message
    begins with the option name.
    """
    out = dict(values)
    spec = _check_loss(out)
    if "loss_params" in out:
        out["loss_params"] = parse_loss_params(out["loss_params"])
    for name, choices in (
        ("class_weighting", CLASS_WEIGHTING_SCHEMES),
        ("sampler", SAMPLER_MODES),
        ("embedding_synthesis", SYNTHESIS_METHODS),
    ):
        if out.get(name) is not None and out[name] not in choices:
            raise ValueError(_not_a_choice(name, out[name], choices, optional=True))
    if out.get("class_weights") is not None:
        out["class_weights"] = _check_class_weights(out["class_weights"])
    if out.get("drw_epoch") is not None:
        out["drw_epoch"] = _check_drw_epoch(out)
    _check_synthesis_fields(out)
    if out.get("tmix_layers") is not None:
        out["tmix_layers"] = _check_tmix_layers(out)
    if out.get("head_learning_rate") is not None:
        out["head_learning_rate"] = _check_head_learning_rate(out["head_learning_rate"])
    _check_transformers_fields(out)
    if spec is not None:
        _check_loss_builds(spec, out)
    return out


def parse_loss_params(value: Any) -> dict[str, Any]:
    """``loss_params`` as a dict: ``None`` is ``{}``, a string is parsed as a JSON object."""
    if value is None:
        return {}
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as err:
            raise ValueError(
                f"loss_params must be a JSON object such as '{{\"gamma\": 2.0}}', got {value!r} ({err})"
            ) from err
    if not isinstance(value, Mapping):
        raise ValueError(f"loss_params must be a dict (or a JSON object string), got {value!r}")
    return dict(value)


def _not_a_choice(name: str, value: Any, choices: Sequence[str], *, optional: bool = False) -> str:
    close = difflib.get_close_matches(str(value), list(choices), n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    none = "None or " if optional else ""
    return f"{name}={value!r} is not valid; use {none}one of {list(choices)}{hint}"


def _check_loss(out: dict[str, Any]) -> LossSpec | None:
    """The spec of the named loss (``"ce"`` when ``loss`` is absent), or ``None`` for a loss module."""
    value = out.get("loss", "ce")
    if isinstance(value, nn.Module):
        return None
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"loss must be a loss name (one of {sorted(LOSSES)}) or an nn.Module, got {value!r}")
    try:
        spec = loss_spec(value)
    except ValueError:
        raise ValueError(_not_a_choice("loss", value, sorted(LOSSES))) from None
    if "loss" in out:
        out["loss"] = spec.name
    return spec


def _check_class_weights(weights: Any) -> list[float] | dict[Any, float]:
    """Numbers >= 0, not all zero: a list in class-id order, or a dict keyed by class id or label name."""
    if isinstance(weights, (str, bytes)):
        raise ValueError(
            f"class_weights must be numbers, got the string {weights!r}; to compute weights from the "
            f"labels set class_weighting to one of {list(CLASS_WEIGHTING_SCHEMES)}"
        )
    if isinstance(weights, Mapping):
        keys, values = list(weights), list(weights.values())
    else:
        keys = None
        try:
            values = weights.tolist() if hasattr(weights, "tolist") else list(weights)  # array, tensor
        except TypeError as err:
            raise ValueError(f"class_weights must be a list of numbers or a dict, got {weights!r}") from err
        if not values:
            raise ValueError("class_weights is an empty list; give one weight per class or leave it unset")
    for w in values:
        if isinstance(w, bool) or not isinstance(w, (int, float, np.integer, np.floating)) or not math.isfinite(w):
            raise ValueError(f"class_weights must be finite numbers, got {weights!r}")
    floats = [float(w) for w in values]
    if min(floats) < 0 or not any(floats):
        raise ValueError(f"class_weights must be non-negative numbers, not all zero; got {weights!r}")
    return floats if keys is None else dict(zip(keys, floats))


def _check_drw_epoch(out: Mapping[str, Any]) -> float:
    value = out["drw_epoch"]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        raise ValueError(f"drw_epoch must be a number >= 0, got {value!r}")
    if out.get("class_weighting") is None and out.get("class_weights") is None:
        raise ValueError("drw_epoch (deferred re-weighting) needs class weights: set class_weighting or class_weights")
    return float(value)


def _check_synthesis_fields(out: Mapping[str, Any]) -> None:
    """The numeric fields of embedding synthesis, with the bounds :class:`EmbeddingSynthesizer` needs."""
    integers = {"synthesis_k": 1, "memory_bank_size": 1}
    for name, low in integers.items():
        value = out.get(name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low):
            raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")
    numbers = {"synthesis_ratio": "> 0", "synthesis_weight": ">= 0", "mixup_alpha": "> 0"}
    for name, bound in numbers.items():
        value = out.get(name)
        if value is None:
            continue
        number = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
        if not number or (value <= 0 if bound == "> 0" else value < 0):
            raise ValueError(f"{name} must be a number {bound}, got {value!r}")
    classes = out.get("synthesis_classes")
    if classes is not None:
        ids = list(classes) if isinstance(classes, (list, tuple)) else None
        if not ids or any(isinstance(c, bool) or not isinstance(c, (int, np.integer)) or c < 0 for c in ids):
            raise ValueError(f"synthesis_classes must be a non-empty list of class ids >= 0, got {classes!r}")


def _check_tmix_layers(out: Mapping[str, Any]) -> list[int]:
    """Encoder layer numbers (1-based) whose outputs TMix may mix; the model bounds them when it is known."""
    layers = out["tmix_layers"]
    ids = list(layers) if isinstance(layers, (list, tuple)) else None
    if not ids or any(isinstance(m, bool) or not isinstance(m, (int, np.integer)) or m < 1 for m in ids):
        raise ValueError(f"tmix_layers must be a non-empty list of encoder layer numbers >= 1, got {layers!r}")
    method = out.get("embedding_synthesis")
    if method is not None and method != "tmix":
        raise ValueError(f"tmix_layers is used by embedding_synthesis='tmix' only, not {method!r}")
    return sorted({int(m) for m in ids})


def _check_head_learning_rate(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        raise ValueError(f"head_learning_rate must be a number > 0 (or None: the head learns at learning_rate), "
                         f"got {value!r}")
    return float(value)


def _check_transformers_fields(out: Mapping[str, Any]) -> None:
    """``TrainingArguments`` fields that the imbalance options rule out."""
    strategy = out.get("train_sampling_strategy", "random")
    if out.get("sampler") is not None and strategy not in ("random", "group_by_length"):
        raise ValueError(
            f"sampler={out['sampler']!r} replaces the Trainer's own sampler; "
            f"train_sampling_strategy={strategy!r} cannot be used with it"
        )
    if out.get("embedding_synthesis") == "tmix" and out.get("gradient_checkpointing"):
        raise ValueError(
            "embedding_synthesis='tmix' mixes hidden states with forward hooks, which gradient checkpointing "
            "bypasses when it recomputes the layers; set gradient_checkpointing to false"
        )
    smoothing = out.get("label_smoothing_factor", 0)
    if smoothing:
        raise ValueError(
            f"label_smoothing_factor={smoothing} is not supported by BalancedTrainer; "
            "choose a loss with smoothing through loss_params if it offers one"
        )


def _check_loss_builds(spec: LossSpec, out: Mapping[str, Any]) -> None:
    """Build the loss once on dummy classes so that a bad parameter (or class-weight clash) fails now."""
    weighted = out.get("class_weights") is not None or out.get("class_weighting") is not None
    if weighted and not spec.takes_class_weights:
        source = "class_weights" if out.get("class_weights") is not None else "class_weighting"
        takers = sorted(n for n, s in LOSSES.items() if s.takes_class_weights)
        raise ValueError(
            f"{source}={out[source]!r} cannot be used with loss={spec.name!r}, which takes no class weights; "
            f"use one of {takers}"
        )
    params = parse_loss_params(out.get("loss_params"))
    k = _dummy_class_count(params, out.get("class_weights"))
    weights = out.get("class_weights")
    if weighted and not isinstance(weights, list):
        weights = [1.0] * k  # weights that exist but are keyed by name or computed later
    try:
        build_loss(
            spec.name,
            num_classes=k,
            class_weights=weights,
            class_counts=np.arange(k, 0, -1) * 10,
            problem_type=spec.problem_type,
            **params,
        )
    except (ValueError, TypeError) as err:
        raise ValueError(f"loss_params: {err} (loss={spec.name!r}, loss_params={params!r})") from err


def _dummy_class_count(params: Mapping[str, Any], class_weights: Any) -> int:
    """The number of classes a per-class value fixes (a list of class weights, ``alpha=[...]``), else 3."""
    for value in (class_weights, *params.values()):
        if isinstance(value, (list, tuple, np.ndarray, Mapping)) and len(value) > 0:
            return len(value)
    return _DUMMY_CLASSES
