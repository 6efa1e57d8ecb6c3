"""Dataset and model cards: what a balanced dataset or a fine-tuned model is and how it was made.

A dataset card records the source, the augmenter(s) and their parameters, the seed and sampling strategy,
class counts before and after, the provenance columns and how to reproduce the data; a model card records
the base model, the data and its balancing, the loss and class weighting, the hyper-parameters, the test
metrics and the seed. A model saved in a run folder (``run_dir/model``) gets its facts from the run's
``run_info.json`` and ``metrics.json``. ``write_*_card`` leave the card on disk; :mod:`.hub_push` uploads.
"""

from __future__ import annotations

import dataclasses
import json
import re
import shlex
from collections.abc import Mapping
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from huggingface_hub import DatasetCard, DatasetCardData, EvalResult, ModelCard, ModelCardData

from nlp_balance.data.distribution import format_ratio, imbalance_ratio
from nlp_balance.data.labels import model_label_names
from nlp_balance.evaluation.decision_rules import POSTHOC_FILENAME, load_posthoc
from nlp_balance.evaluation.metrics import sanitize_label_names
from nlp_balance.reporting.card_markdown import card_text, json_block, plain, save_card, table
from nlp_balance.reporting.document import Table, markdown_inline, markdown_table
from nlp_balance.reporting.examples_section import SECTION_TITLE, example_sections, intro
from nlp_balance.reporting.run_folder import read_metrics, read_run_info, run_dir_of_model
from nlp_balance.resampling import AUGMENTATION_COLUMN, SOURCE_INDEX_COLUMN, augmentation_examples
from nlp_balance.utils.versions import __version__

if TYPE_CHECKING:  # pragma: no cover
    import datasets

    from nlp_balance.data.distribution import ClassDistribution
    from nlp_balance.resampling import Balancer

__all__ = [
    "TAGS",
    "dataset_card",
    "model_card",
    "model_card_info",
    "size_category",
    "with_metadata",
    "write_dataset_card",
    "write_model_card",
]

#: Tags of every card nlp_balance writes.
TAGS = ["nlp_balance", "imbalanced-classification", "data-augmentation"]
_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*(/[A-Za-z0-9][\w.-]*)?$")
_SIZE_BOUNDS = [(1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"), (1_000_000, "100K<n<1M"),
                (10_000_000, "1M<n<10M"), (100_000_000, "10M<n<100M"), (1_000_000_000, "100M<n<1B")]
_MODEL_CONFIG = "config.json"  # transformers' file name, not the run folder's


# ---------------------------------------------------------------------------------------------------------
# small helpers
def size_category(rows: int) -> str:
    """The Hub's ``size_categories`` bucket for a dataset of ``rows`` examples."""
    if not isinstance(rows, int) or rows < 0:
        raise ValueError(f"rows must be a non-negative int, got {rows!r}")
    for bound, name in _SIZE_BOUNDS:
        if rows < bound:
            return name
    return "n>1B"


def _looks_like_hub_id(name: str | None) -> bool:
    """True for ``user/name`` or ``name`` that is not an existing local path (Hub metadata wants repo ids)."""
    return bool(name) and bool(_HUB_ID.match(str(name))) and not Path(str(name)).exists()


def with_metadata(card: DatasetCard, data: DatasetCardData) -> DatasetCard:
    """The same card body under other metadata (a pushed README's metadata merged with ours, for instance)."""
    return DatasetCard(card_text(data, card.text))


# ---------------------------------------------------------------------------------------------------------
# dataset cards
def _reproduce_command(source: str, balancer: Balancer, label_column: str, text_column: str) -> str | None:
    """The ``nlp-balance balance`` command that rebuilds the data, or ``None`` if the CLI cannot express it."""
    args = ["nlp-balance", "balance", source]
    if text_column != "text":
        args += ["--text-column", text_column]
    if label_column != "label":
        args += ["--label-column", label_column]
    if balancer.augmenter is not None:
        described = balancer.augmenter.describe()
        args += ["--augmenter", described["name"]]
        for key, value in described["config"].items():
            if isinstance(value, dict) or (isinstance(value, list) and any(isinstance(v, dict) for v in value)):
                return None  # nested augmenters (Compose with per-step parameters): use the Python recipe
            args += ["--aug-param", f"{key}={json.dumps(plain(value))}"]
    strategy = plain(balancer.get_config()["sampling_strategy"])
    if callable(balancer.sampling_strategy):
        return None
    args += ["--sampling-strategy", strategy if isinstance(strategy, str) else json.dumps(strategy)]
    if balancer.max_synthetic_per_example is not None:
        args += ["--max-synthetic-per-example", str(balancer.max_synthetic_per_example)]
    args += ["--seed", str(balancer.seed), "--on-shortfall", balancer.on_shortfall]
    if balancer.split != "train":
        return None  # the CLI always rebalances "train"
    args += ["--out", "balanced/"]
    return " ".join(shlex.quote(a) for a in args)


def _python_recipe(source: str, balancer: Balancer, label_column: str, text_column: str) -> str:
    config = balancer.get_config()
    lines = ["from nlp_balance import Balancer, get_augmenter, load_text_dataset", "",
             f"dataset = load_text_dataset({source!r}, {text_column!r}, {label_column!r})"]
    if balancer.augmenter is None:
        lines.append("augmenter = None  # duplicate existing examples")
    else:
        d = balancer.augmenter.describe()
        lines.append(f"augmenter = get_augmenter({d['name']!r}, **{plain(d['config'])!r})")
    lines.append(
        f"balancer = Balancer(augmenter, {plain(config['sampling_strategy'])!r}, "
        f"max_synthetic_per_example={balancer.max_synthetic_per_example!r}, seed={balancer.seed!r}, "
        f"text_column={text_column!r}, label_column={label_column!r}, on_shortfall={balancer.on_shortfall!r}, "
        f"split={balancer.split!r})")
    lines.append("balanced = balancer.fit_resample(dataset)")
    return "```python\n" + "\n".join(lines) + "\n```"


def _class_rows(
    train: datasets.Dataset, before: ClassDistribution, label_column: str, report: dict[str, Any] | None,
) -> tuple[list[list[Any]], list[str]]:
    from nlp_balance.data.distribution import class_distribution

    after = class_distribution(train, label_column)
    assert not isinstance(after, dict)
    if tuple(after.label_names) != tuple(before.label_names):
        raise ValueError(f"`before` has classes {list(before.label_names)} but the balanced split has "
                         f"{list(after.label_names)}; pass the distribution of the same train split")
    kinds: dict[str, dict[str, int]] = {n: {} for n in after.label_names}
    if AUGMENTATION_COLUMN in train.column_names:
        names = after.label_names
        for label, kind in zip(train[label_column], train[AUGMENTATION_COLUMN]):
            bucket = kinds[names[label]]
            bucket[kind] = bucket.get(kind, 0) + 1
    targets = {c["label"]: c["target"] for c in (report or {}).get("classes", [])}
    rows = []
    for name, b, a in zip(after.label_names, before.counts, after.counts):
        k = kinds[name]
        synthetic = sum(v for kind, v in k.items() if kind not in ("original", "duplicate"))
        rows.append([name, b, targets.get(name), a, synthetic, k.get("duplicate", 0)])
    rows.append(["**total**", before.total, sum(targets.values()) if targets else None, after.total,
                 sum(r[4] for r in rows), sum(r[5] for r in rows)])
    header = ["class", "before", "target", "after", "new (augmented)", "duplicated"]
    return rows, header


def dataset_card(
    balanced: datasets.DatasetDict,
    *,
    source: str,
    balancer: Balancer,
    before: ClassDistribution | Mapping[str, ClassDistribution],
    label_column: str = "label",
    text_column: str = "text",
) -> DatasetCard:
    """Build the dataset card of a rebalanced ``DatasetDict``: Hub metadata plus a body saying how it was made.

    ``before`` is the class distribution of the balanced split before balancing; the counts after are
    read from ``balanced`` itself, and the augmenter, seed and strategy from the fitted ``balancer``.
    """
    import datasets

    if not isinstance(balanced, datasets.DatasetDict):
        raise TypeError(f"balanced must be a datasets.DatasetDict, got {type(balanced).__name__}")
    split = balancer.split
    if isinstance(before, Mapping):  # class_distribution(DatasetDict) gives one per split
        before = before[split]
    if split not in balanced:
        raise KeyError(f"the balancer rebalanced split {split!r}, which is not in the DatasetDict "
                       f"(splits: {sorted(balanced)})")
    report = balancer.report_.to_dict() if hasattr(balancer, "report_") else None
    if report is None:
        raise ValueError("the balancer has not been fitted (no report_); call balancer.fit_resample first")
    config = balancer.get_config()
    rows, header = _class_rows(balanced[split], before, label_column, report)
    total = sum(len(ds) for ds in balanced.values())

    meta = DatasetCardData(
        task_categories=["text-classification"],
        tags=list(TAGS),
        size_categories=[size_category(total)],
        pretty_name=f"{Path(source).name if Path(source).exists() else source} (balanced)",
        nlp_balance={"version": __version__, "source": source, "split": split, "balancer": plain(config),
                     "rounds": report["rounds"], "classes": plain(report["classes"])},
    )
    other = [s for s in balanced if s != split]
    split_rows = [[s, len(balanced[s]), "rebalanced" if s == split else "unchanged"] for s in balanced]
    body = [
        f"# {meta.pretty_name}",
        f"A rebalanced copy of **`{source}`** for text classification, made with "
        f"[nlp_balance](https://pypi.org/project/nlp-balance/) {__version__}. Only the `{split}` split was "
        "changed: its small classes were brought up to their target counts with new examples. "
        + (f"The evaluation split(s) {', '.join(f'`{s}`' for s in other)} are the source's, **untouched**, so "
           "scores on them stay comparable with models trained on the original data." if other else
           "There are no other splits."),
        "## Source",
        f"- Dataset: `{source}`\n- Text column: `{text_column}`; label column: `{label_column}` "
        f"(`ClassLabel` with {len(before.label_names)} classes)",
        "## How it was balanced",
        _balancing_section(balancer, config, report),
        f"## Class counts in `{split}`",
        table(header, rows),
        f"Imbalance ratio (largest / smallest class): {format_ratio(before.imbalance_ratio)} before, "
        f"{format_ratio(imbalance_ratio([r[3] for r in rows[:-1]]))} after.",
        *_examples_section(balanced[split], label_column, text_column),
        "## Splits",
        table(["split", "rows", "status"], split_rows),
        "## Provenance columns",
        _provenance_section(split),
        "## Reproduce",
        _reproduce_section(source, balancer, label_column, text_column),
        "The full balancer configuration and per-class report are also in this card's metadata, under "
        "`nlp_balance`.",
    ]
    return DatasetCard(card_text(meta, "\n\n".join(body)))


def _examples_section(train: datasets.Dataset, label_column: str, text_column: str) -> list[str]:
    """"What augmentation wrote": per augmented class a few new texts beside their sources (none: no section).

    Unlike the card's other tables, these cells are data, not trusted Markdown, so every text is escaped.
    """
    if SOURCE_INDEX_COLUMN not in train.column_names or AUGMENTATION_COLUMN not in train.column_names:
        return []
    classes = [c.to_dict() for c in augmentation_examples(train, text_column=text_column, label_column=label_column)]
    sections = example_sections(classes)
    if not sections:
        return []
    parts = [f"## {SECTION_TITLE}", markdown_inline(intro())]
    for section in sections:
        parts.append(markdown_inline(section.caption))
        if section.rows:
            parts.append(markdown_table(Table(["source", "synthetic"], section.rows, align_left=2)))
    return parts


def _balancing_section(balancer: Balancer, config: dict[str, Any], report: dict[str, Any]) -> str:
    """The augmenter and its parameters (or duplication), then strategy, seed, limits and rounds."""
    augmenter = config["augmenter"]
    if augmenter is None:
        aug_text = ("No augmenter: minority classes were brought to their targets by **duplicating** existing "
                    "examples (random over-sampling).")
    else:
        aug_text = (f"Augmenter **`{augmenter['name']}`** (version {augmenter['version']}) with these "
                    f"parameters:\n\n{json_block(augmenter['config'])}")
    strategy = plain(config["sampling_strategy"])
    limit = balancer.max_synthetic_per_example
    return (
        f"{aug_text}\n\n"
        f"- Sampling strategy: `{json.dumps(strategy)}` (imbalanced-learn's over-sampling rules)\n"
        f"- Seed: `{balancer.seed}` (every random choice, including each augmentation, follows from it)\n"
        f"- At most new rows per source example: {'no limit' if limit is None else limit}\n"
        f"- When the augmenter fell short: `{balancer.on_shortfall}`\n"
        f"- Augmentation rounds: {report['rounds']}"
    )


def _provenance_section(split: str) -> str:
    return (
        f"Every row of `{split}` carries two extra columns, so original and generated examples can always be "
        "told apart (and, for example, generated rows dropped or down-weighted):\n\n"
        f"- `{SOURCE_INDEX_COLUMN}`: the row of the original `{split}` split this row was made from (an original "
        "row points to itself).\n"
        f"- `{AUGMENTATION_COLUMN}`: `original` for source rows, `duplicate` for copies, otherwise the name of the "
        "augmenter that wrote the row.\n\n"
        "On the Hub every split shares one schema, so the evaluation splits carry the same two columns with "
        "trivial values (`original`, and each row's own index)."
    )


def _reproduce_section(source: str, balancer: Balancer, label_column: str, text_column: str) -> str:
    command = _reproduce_command(source, balancer, label_column, text_column)
    lead = "With the command line:\n\n```bash\n" + command + "\n```\n\nor in Python:" if command else "In Python:"
    return lead + "\n\n" + _python_recipe(source, balancer, label_column, text_column)


def write_dataset_card(
    path: str | Path,
    balanced: datasets.DatasetDict,
    *,
    source: str,
    balancer: Balancer,
    before: ClassDistribution,
    label_column: str = "label",
    text_column: str = "text",
) -> Path:
    """Write the dataset card to ``path`` (a folder gets ``README.md``; a ``.md`` path is used as is)."""
    card = dataset_card(balanced, source=source, balancer=balancer, before=before,
                        label_column=label_column, text_column=text_column)
    return save_card(card, path)


# ---------------------------------------------------------------------------------------------------------
# model cards
def model_card_info(model_dir: str | Path, card_info: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """What :func:`model_card` is built from: the run folder's facts, the model folder's, then ``card_info``.

    For a model saved as ``run_dir/model`` the run's ``run_info.json`` and the ``test`` section of its
    ``metrics.json`` come first; then the model folder's ``posthoc.json`` and the label names of its
    ``config.json``; ``card_info`` wins over both.
    """
    model_dir = Path(model_dir)
    if not model_dir.is_dir():
        raise FileNotFoundError(f"model folder {str(model_dir)!r} does not exist")
    info: dict[str, Any] = {}
    run_dir = run_dir_of_model(model_dir)
    if run_dir is not None:
        info.update(read_run_info(run_dir))
        try:
            info["metrics"] = read_metrics(run_dir)["test"]
        except FileNotFoundError:  # the run is still being written
            pass
    if not info.get("posthoc"):
        posthoc = load_posthoc(model_dir)
        if posthoc is not None:
            info["posthoc"] = dataclasses.asdict(posthoc)
    if "label_names" not in info and (model_dir / _MODEL_CONFIG).exists():
        config = json.loads((model_dir / _MODEL_CONFIG).read_text(encoding="utf-8"))
        id2label = config.get("id2label") or {}
        if id2label:
            info["label_names"] = model_label_names(SimpleNamespace(num_labels=len(id2label), id2label=id2label))
    info.update(dict(card_info or {}))
    return info


def _from_run_info(info: dict[str, Any]) -> dict[str, Any]:
    """Fill the card's fields from ``run_info.json``'s names where the card's own are not given.

    ``model`` -> ``base_model``, ``source`` -> ``dataset``, ``balance_report`` -> ``balance``, a loss
    name with ``loss_params`` -> one loss dict, ``class_weighting`` and the ``class_weights`` list ->
    ``class_weights`` (method and the weight of each class).
    """
    out = dict(info)
    for card_key, run_key in (("base_model", "model"), ("dataset", "source"), ("balance", "balance_report")):
        if out.get(card_key) is None and info.get(run_key) is not None:
            out[card_key] = info[run_key]
    loss, params = out.get("loss"), info.get("loss_params")
    if isinstance(loss, str) and isinstance(params, Mapping) and params:
        out["loss"] = {"name": loss, **params}
    weights, method = out.get("class_weights"), info.get("class_weighting")
    if isinstance(weights, list):
        names = [str(n) for n in info.get("label_names") or []]
        if len(names) != len(weights):
            names = [str(i) for i in range(len(weights))]
        out["class_weights"] = {"method": method or "given", "weights": dict(zip(names, weights))}
    elif weights is None and method:
        out["class_weights"] = method
    return out


_HEADLINE = [("macro_f1", "macro-F1"), ("balanced_accuracy", "balanced accuracy"), ("accuracy", "accuracy"),
             ("g_mean", "G-mean"), ("macro_precision", "macro precision"), ("macro_recall", "macro recall"),
             ("weighted_f1", "weighted F1")]


def _test_metrics(metrics: Mapping[str, Any]) -> dict[str, float]:
    """Flat metric keys without the Trainer's ``test_``/``eval_`` prefix (``test_`` wins over ``eval_``)."""
    out: dict[str, float] = {}
    for prefix in ("eval_", "", "test_"):  # later prefixes overwrite earlier ones
        for key, value in metrics.items():
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                if prefix and key.startswith(prefix):
                    out[key[len(prefix):]] = float(value)
                elif not prefix and not key.startswith(("eval_", "test_")):
                    out[key] = float(value)
    return out


def model_card(run_info: Mapping[str, Any]) -> ModelCard:
    """Build the model card of a fine-tuned classifier from a run description.

    Recognised keys (all optional): ``base_model``, ``dataset``, ``label_names``, ``balance`` (a
    ``BalanceReport.to_dict()``), ``class_counts_before`` / ``class_counts_after`` (class -> count), ``loss``
    (name or dict), ``class_weights`` (method name or dict), ``training`` (hyper-parameters), ``metrics``
    (flat test metrics as from ``imbalance_metrics``, ``test_``/``eval_`` prefixes allowed), ``posthoc``,
    ``seed``, ``model_name``, ``license``, ``language``. A run folder's ``run_info.json`` can be passed
    as it is: its ``model``, ``source``, ``balance_report``, ``loss_params``, ``class_weighting`` and
    ``class_weights`` fill the fields above that are not given.
    """
    if not isinstance(run_info, Mapping):
        raise TypeError(f"run_info must be a mapping, got {type(run_info).__name__}")
    info = _from_run_info(plain(dict(run_info)))
    base_model, dataset = info.get("base_model"), info.get("dataset")
    name = info.get("model_name") or (f"{Path(str(base_model)).name} fine-tuned with nlp_balance"
                                      if base_model else "Text classifier fine-tuned with nlp_balance")
    metrics = _test_metrics(info.get("metrics") or {})
    eval_results = []
    if dataset and _looks_like_hub_id(str(dataset)):
        for key, label in _HEADLINE[:2]:
            if key in metrics:
                eval_results.append(EvalResult(
                    task_type="text-classification", dataset_type=str(dataset), dataset_name=str(dataset),
                    dataset_split="test", metric_type=key, metric_name=label, metric_value=metrics[key]))
    meta = ModelCardData(
        base_model=str(base_model) if base_model and _looks_like_hub_id(str(base_model)) else None,
        datasets=[str(dataset)] if dataset and _looks_like_hub_id(str(dataset)) else None,
        language=info.get("language"), license=info.get("license"), library_name="transformers",
        pipeline_tag="text-classification", tags=[*TAGS[:2], "text-classification"],
        model_name=name if eval_results else None, eval_results=eval_results or None,
        nlp_balance={"version": __version__, "seed": info.get("seed")},
    )
    body = [f"# {name}",
            f"A text classifier fine-tuned from `{base_model or 'unknown'}` on `{dataset or 'unknown'}` with "
            f"[nlp_balance](https://pypi.org/project/nlp-balance/) {__version__}, which targets good scores on "
            "the small classes (macro-F1 and balanced accuracy, not only accuracy)."]
    body += ["## Training data and balancing", _balance_section(info)]
    body += ["## Loss and class weighting", _loss_section(info)]
    training = info.get("training") or {}
    body += ["## Training hyper-parameters",
             table(["parameter", "value"], [[k, _hparam(v)] for k, v in training.items()])
             if training else "Not recorded.",
             f"Seed: `{info.get('seed', 'not recorded')}`."]
    body += ["## Test results", _metrics_section(metrics, info.get("label_names"))]
    if info.get("posthoc"):
        body += ["## Post-hoc adjustment",
                 f"Predictions apply these per-class logit offsets (saved as `{POSTHOC_FILENAME}` beside the model and "
                 "applied by `BalancedTrainer.predict`; plain `transformers` pipelines do not apply them):",
                 json_block(info["posthoc"])]
    body += ["## Use", "```python\nfrom transformers import pipeline\n\nclf = pipeline(\"text-classification\", "
             "model=\"<this repo>\")\nclf(\"an example sentence\")\n```"]
    return ModelCard(card_text(meta, "\n\n".join(body)))


def _hparam(value: Any) -> str:
    """Hyper-parameters verbatim (``5e-05``, not a rounded ``0.0000``)."""
    if isinstance(value, float):
        return f"{value:g}"
    return json.dumps(value) if isinstance(value, (dict, list, bool)) or value is None else str(value)


def _balance_section(info: dict[str, Any]) -> str:
    balance = info.get("balance") or {}
    before = dict(info.get("class_counts_before") or {})
    after = dict(info.get("class_counts_after") or {})
    for c in balance.get("classes", []):
        before.setdefault(c["label"], c.get("before"))
        after.setdefault(c["label"], c.get("after"))
    parts = [f"Dataset: `{info.get('dataset', 'not recorded')}`."]
    augmenter = balance.get("augmenter")
    if balance:
        if augmenter:
            parts.append(f"The training split was rebalanced with the augmenter **`{augmenter.get('name')}`** "
                         f"(sampling strategy `{json.dumps(balance.get('sampling_strategy'))}`, seed "
                         f"`{balance.get('seed')}`), parameters:\n\n{json_block(augmenter.get('config', {}))}")
        else:
            parts.append("The training split was rebalanced by duplicating examples (sampling strategy "
                         f"`{json.dumps(balance.get('sampling_strategy'))}`, seed `{balance.get('seed')}`).")
    else:
        parts.append("The training data was not rebalanced before training.")
    if before or after:
        names = list(dict.fromkeys([*before, *after]))
        parts.append(table(["class", "train before", "train after"], [[n, before.get(n), after.get(n)] for n in names]))
    return "\n\n".join(parts)


def _loss_section(info: dict[str, Any]) -> str:
    loss, weights = info.get("loss"), info.get("class_weights")
    parts = []
    if isinstance(loss, dict):
        parts.append(f"Loss: **`{loss.get('name', '?')}`** with\n\n{json_block(loss)}")
    else:
        parts.append(f"Loss: **`{loss}`**." if loss else "Loss: not recorded.")
    if isinstance(weights, dict):
        parts.append(f"Class weighting:\n\n{json_block(weights)}")
    else:
        parts.append(f"Class weighting: `{weights}`." if weights else "Class weighting: not recorded.")
    return "\n\n".join(parts)


def _metrics_section(metrics: dict[str, float], label_names: list[str] | None) -> str:
    if not metrics:
        return "No test metrics were recorded."
    parts = [table(["metric", "value"], [[label, metrics[key]] for key, label in _HEADLINE if key in metrics])]
    per_class = [key[3:] for key in metrics if key.startswith("f1_")]
    if per_class:
        # Metric keys hold sanitize_label_names' fragments ("Promo Offer!" -> promo_offer); show the names.
        names = [str(n) for n in label_names or []]
        shown = dict(zip(sanitize_label_names(names), names))
        order = [k for k in shown if k in per_class] + [k for k in per_class if k not in shown]
        rows = [[shown.get(k, k), metrics.get(f"f1_{k}"), metrics.get(f"precision_{k}"), metrics.get(f"recall_{k}"),
                 int(metrics[f"support_{k}"]) if f"support_{k}" in metrics else None] for k in order]
        parts += ["Per class:", table(["class", "F1", "precision", "recall", "support"], rows)]
    return "\n\n".join(parts)


def write_model_card(model_dir: str | Path, card_info: Mapping[str, Any] | None = None) -> Path:
    """Write ``README.md`` into ``model_dir`` from its run's files and ``card_info`` (see :func:`model_card_info`)."""
    return save_card(model_card(model_card_info(model_dir, card_info)), Path(model_dir))
