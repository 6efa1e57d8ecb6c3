"""Share balanced datasets and fine-tuned models on the Hugging Face Hub, with cards that say how they were made.

A dataset card records the source, the augmenter(s) and their parameters, the seed and sampling strategy,
class counts before and after, the provenance columns and how to reproduce the data; a model card records
the base model, the data and its balancing, the loss and class weighting, the hyper-parameters, the test
metrics and the seed. ``write_*_card`` leave the card on disk; ``push_*`` upload through the real
``datasets`` / ``huggingface_hub`` clients (``DatasetDict.push_to_hub``, ``HfApi.upload_folder``).
"""

from __future__ import annotations

import json
import logging
import math
import re
import shlex
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from huggingface_hub import DatasetCard, DatasetCardData, EvalResult, HfApi, ModelCard, ModelCardData

from nlp_balance.data.distribution import format_ratio, imbalance_ratio
from nlp_balance.resampling.provenance import AUGMENTATION_COLUMN, SOURCE_INDEX_COLUMN, with_provenance_everywhere
from nlp_balance.utils.versions import __version__

if TYPE_CHECKING:  # pragma: no cover
    import datasets

    from nlp_balance.data.distribution import ClassDistribution
    from nlp_balance.resampling.balancer import Balancer

logger = logging.getLogger(__name__)

__all__ = [
    "METRICS_FILENAME",
    "RUN_INFO_FILENAME",
    "dataset_card",
    "model_card",
    "push_balanced_dataset",
    "push_trained_model",
    "size_category",
    "with_provenance_everywhere",
    "write_dataset_card",
    "write_model_card",
]

TAGS = ["nlp_balance", "imbalanced-classification", "data-augmentation"]
#: Files in a model folder that :func:`model_card` / :func:`push_trained_model` read when present.
RUN_INFO_FILENAME = "nlp_balance_run.json"
METRICS_FILENAME = "metrics.json"
POSTHOC_FILENAME = "posthoc.json"
#: Trainer leftovers that do not belong in a shared model repo.
_MODEL_IGNORE = ["checkpoint-*", "checkpoint-*/**", "runs/**", "optimizer.pt", "scheduler.pt", "rng_state*.pth",
                 "*.lock", ".cache/**"]
_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*(/[A-Za-z0-9][\w.-]*)?$")
_SIZE_BOUNDS = [(1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"), (1_000_000, "100K<n<1M"),
                (10_000_000, "1M<n<10M"), (100_000_000, "10M<n<100M"), (1_000_000_000, "100M<n<1B")]


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


def _plain(value: Any) -> Any:
    """JSON/YAML-safe copy (tuples to lists, keys to str, numpy scalars and callables to plain values)."""
    return json.loads(json.dumps(value, default=_json_default))


def _json_default(value: Any) -> Any:
    if hasattr(value, "item"):
        return value.item()
    if hasattr(value, "tolist"):
        return value.tolist()
    if callable(value):
        return getattr(value, "__name__", repr(value))
    return str(value)


def _looks_like_hub_id(name: str | None) -> bool:
    """True for ``user/name`` or ``name`` that is not an existing local path (Hub metadata wants repo ids)."""
    return bool(name) and bool(_HUB_ID.match(str(name))) and not Path(str(name)).exists()


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        if math.isnan(value):
            return "n/a"
        return "inf" if math.isinf(value) else f"{value:.4f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return "–" if value is None else str(value)


def _table(header: list[str], rows: list[list[Any]]) -> str:
    def cell(v: Any) -> str:
        return _fmt(v).replace("|", "\\|").replace("\n", " ")

    numeric = [j > 0 and all(isinstance(r[j], (int, float)) or r[j] is None for r in rows) for j in range(len(header))]
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---:" if n else "---" for n in numeric) + "|"]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def _json_block(value: Any) -> str:
    return "```json\n" + json.dumps(_plain(value), indent=2, sort_keys=False) + "\n```"


def _card_text(data: DatasetCardData | ModelCardData, body: str) -> str:
    return f"---\n{data.to_yaml()}\n---\n\n{body.strip()}\n"


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
            args += ["--aug-param", f"{key}={json.dumps(_plain(value))}"]
    strategy = _plain(balancer.get_config()["sampling_strategy"])
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
        lines.append(f"augmenter = get_augmenter({d['name']!r}, **{_plain(d['config'])!r})")
    lines.append(
        f"balancer = Balancer(augmenter, {_plain(config['sampling_strategy'])!r}, "
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
    train = balanced[split]
    rows, header = _class_rows(train, before, label_column, report)
    total = sum(len(ds) for ds in balanced.values())

    meta = DatasetCardData(
        task_categories=["text-classification"],
        tags=list(TAGS),
        size_categories=[size_category(total)],
        pretty_name=f"{Path(source).name if Path(source).exists() else source} (balanced)",
        nlp_balance={"version": __version__, "source": source, "split": split, "balancer": _plain(config),
                     "rounds": report["rounds"], "classes": _plain(report["classes"])},
    )
    augmenter = config["augmenter"]
    if augmenter is None:
        aug_text = ("No augmenter: minority classes were brought to their targets by **duplicating** existing "
                    "examples (random over-sampling).")
    else:
        aug_text = (f"Augmenter **`{augmenter['name']}`** (version {augmenter['version']}) with these "
                    f"parameters:\n\n{_json_block(augmenter['config'])}")
    other = [s for s in balanced if s != split]
    split_rows = [[s, len(balanced[s]), "rebalanced" if s == split else "unchanged"] for s in balanced]
    command = _reproduce_command(source, balancer, label_column, text_column)
    strategy = _plain(config["sampling_strategy"])
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
        aug_text,
        f"- Sampling strategy: `{json.dumps(strategy)}` (imbalanced-learn's over-sampling rules)\n"
        f"- Seed: `{balancer.seed}` (every random choice, including each augmentation, follows from it)\n"
        f"- At most new rows per source example: "
        f"{'no limit' if balancer.max_synthetic_per_example is None else balancer.max_synthetic_per_example}\n"
        f"- When the augmenter fell short: `{balancer.on_shortfall}`\n"
        f"- Augmentation rounds: {report['rounds']}",
        f"## Class counts in `{split}`",
        _table(header, rows),
        f"Imbalance ratio (largest / smallest class): {format_ratio(before.imbalance_ratio)} before, "
        f"{format_ratio(imbalance_ratio([r[3] for r in rows[:-1]]))} after.",
        "## Splits",
        _table(["split", "rows", "status"], split_rows),
        "## Provenance columns",
        f"Every row of `{split}` carries two extra columns, so original and generated examples can always be "
        "told apart (and, for example, generated rows dropped or down-weighted):\n\n"
        f"- `{SOURCE_INDEX_COLUMN}`: the row of the original `{split}` split this row was made from (an original "
        "row points to itself).\n"
        f"- `{AUGMENTATION_COLUMN}`: `original` for source rows, `duplicate` for copies, otherwise the name of the "
        "augmenter that wrote the row.\n\n"
        "On the Hub every split shares one schema, so the evaluation splits carry the same two columns with "
        "trivial values (`original`, and each row's own index).",
        "## Reproduce",
        ("With the command line:\n\n```bash\n" + command + "\n```\n\nor in Python:" if command else "In Python:"),
        _python_recipe(source, balancer, label_column, text_column),
        "The full balancer configuration and per-class report are also in this card's metadata, under "
        "`nlp_balance`.",
    ]
    return DatasetCard(_card_text(meta, "\n\n".join(body)))


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
    return _save(card, path)


def _save(card: DatasetCard | ModelCard, path: str | Path) -> Path:
    path = Path(path)
    if path.suffix.lower() != ".md":
        path.mkdir(parents=True, exist_ok=True)
        path = path / "README.md"
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
    card.save(path)
    return path


def _merge_metadata(pushed: dict[str, Any], ours: dict[str, Any]) -> dict[str, Any]:
    """Our card's metadata over what ``datasets`` wrote; ``configs``/``dataset_info`` stay theirs, tags unite."""
    merged = dict(pushed)
    for key, value in ours.items():
        if key in ("configs", "dataset_info"):
            continue
        if key == "tags" and isinstance(pushed.get("tags"), list):
            merged["tags"] = list(dict.fromkeys([*pushed["tags"], *value]))
        else:
            merged[key] = value
    return merged


def _full_repo_id(api: HfApi, repo_id: str) -> str:
    if not isinstance(repo_id, str) or not repo_id.strip() or repo_id.count("/") > 1:
        raise ValueError(f"repo_id must look like 'user/name' or 'name', got {repo_id!r}")
    if "/" in repo_id:
        return repo_id
    return f"{api.whoami()['name']}/{repo_id}"


def push_balanced_dataset(
    balanced: datasets.DatasetDict,
    repo_id: str,
    *,
    balancer: Balancer,
    source: str,
    before: ClassDistribution,
    label_column: str = "label",
    text_column: str = "text",
    private: bool = False,
    token: str | None = None,
    commit_message: str | None = None,
) -> str:
    """Push every split as parquet (``DatasetDict.push_to_hub``), then our card merged into its README; returns the URL.

    The README keeps the ``configs``/``dataset_info`` metadata that ``datasets`` wrote (the Hub and
    ``load_dataset`` need them) and gets our metadata and body; the card commit names the commit it
    read, so a concurrent change makes it fail instead of being overwritten.
    """
    card = dataset_card(balanced, source=source, balancer=balancer, before=before,
                        label_column=label_column, text_column=text_column)  # fail before uploading anything
    api = HfApi(token=token)
    repo_id = _full_repo_id(api, repo_id)
    with_provenance_everywhere(balanced, balancer.split).push_to_hub(
        repo_id, private=private, token=token,
                         commit_message=commit_message or f"Upload {source} rebalanced with nlp_balance")
    head = api.repo_info(repo_id, repo_type="dataset", token=token).sha
    readme = api.hf_hub_download(repo_id, "README.md", repo_type="dataset", revision=head, token=token)
    pushed = DatasetCard.load(readme)
    merged = DatasetCardData(**_merge_metadata(pushed.data.to_dict(), card.data.to_dict()))
    final = DatasetCard(_card_text(merged, card.text))
    # Our own HfApi, not card.push_to_hub: that uses a module-level client bound to the endpoint at import.
    api.upload_file(path_or_fileobj=str(final).encode("utf-8"), path_in_repo="README.md", repo_id=repo_id,
                    repo_type="dataset", token=token, parent_commit=head,
                    commit_message="Dataset card: how the data was balanced (nlp_balance)")
    url = f"{api.endpoint}/datasets/{repo_id}"
    logger.info("pushed balanced dataset to %s", url)
    return url


# ---------------------------------------------------------------------------------------------------------
# model cards
def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise ValueError(f"{path} is not valid JSON: {err}") from err


def collect_run_info(model_dir: str | Path, card_info: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Merge a model folder's ``nlp_balance_run.json``, ``metrics.json``, ``posthoc.json`` and label names
    from ``config.json`` with ``card_info`` (which wins)."""
    model_dir = Path(model_dir)
    if not model_dir.is_dir():
        raise FileNotFoundError(f"model folder {str(model_dir)!r} does not exist")
    info: dict[str, Any] = {}
    if (model_dir / RUN_INFO_FILENAME).exists():
        run = _read_json(model_dir / RUN_INFO_FILENAME)
        if not isinstance(run, dict):
            raise ValueError(f"{model_dir / RUN_INFO_FILENAME} must hold a JSON object")
        info.update(run)
    if "metrics" not in info and (model_dir / METRICS_FILENAME).exists():
        info["metrics"] = _read_json(model_dir / METRICS_FILENAME)
    if "posthoc" not in info and (model_dir / POSTHOC_FILENAME).exists():
        info["posthoc"] = _read_json(model_dir / POSTHOC_FILENAME)
    if "label_names" not in info and (model_dir / "config.json").exists():
        id2label = _read_json(model_dir / "config.json").get("id2label") or {}
        if id2label:
            info["label_names"] = [id2label[k] for k in sorted(id2label, key=int)]
    info.update(dict(card_info or {}))
    return info


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
    ``seed``, ``model_name``, ``license``, ``language``.
    """
    if not isinstance(run_info, Mapping):
        raise TypeError(f"run_info must be a mapping, got {type(run_info).__name__}")
    info = _plain(dict(run_info))
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
             _table(["parameter", "value"], [[k, _hparam(v)] for k, v in training.items()])
             if training else "Not recorded.",
             f"Seed: `{info.get('seed', 'not recorded')}`."]
    body += ["## Test results", _metrics_section(metrics, info.get("label_names"))]
    if info.get("posthoc"):
        body += ["## Post-hoc adjustment",
                 "Predictions apply these per-class logit offsets (saved as `posthoc.json` beside the model and "
                 "applied by `BalancedTrainer.predict`; plain `transformers` pipelines do not apply them):",
                 _json_block(info["posthoc"])]
    body += ["## Use", "```python\nfrom transformers import pipeline\n\nclf = pipeline(\"text-classification\", "
             "model=\"<this repo>\")\nclf(\"an example sentence\")\n```"]
    return ModelCard(_card_text(meta, "\n\n".join(body)))


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
                         f"`{balance.get('seed')}`), parameters:\n\n{_json_block(augmenter.get('config', {}))}")
        else:
            parts.append("The training split was rebalanced by duplicating examples (sampling strategy "
                         f"`{json.dumps(balance.get('sampling_strategy'))}`, seed `{balance.get('seed')}`).")
    else:
        parts.append("The training data was not rebalanced before training.")
    if before or after:
        names = list(dict.fromkeys([*before, *after]))
        parts.append(_table(["class", "train before", "train after"],
                            [[n, before.get(n), after.get(n)] for n in names]))
    return "\n\n".join(parts)


def _loss_section(info: dict[str, Any]) -> str:
    loss, weights = info.get("loss"), info.get("class_weights")
    parts = []
    if isinstance(loss, dict):
        parts.append(f"Loss: **`{loss.get('name', '?')}`** with\n\n{_json_block(loss)}")
    else:
        parts.append(f"Loss: **`{loss}`**." if loss else "Loss: not recorded.")
    if isinstance(weights, dict):
        parts.append(f"Class weighting:\n\n{_json_block(weights)}")
    else:
        parts.append(f"Class weighting: `{weights}`." if weights else "Class weighting: not recorded.")
    return "\n\n".join(parts)


def _metrics_section(metrics: dict[str, float], label_names: list[str] | None) -> str:
    if not metrics:
        return "No test metrics were recorded."
    parts = [_table(["metric", "value"], [[label, metrics[key]] for key, label in _HEADLINE if key in metrics])]
    per_class = [key[3:] for key in metrics if key.startswith("f1_")]
    if per_class:
        order = [n for n in (label_names or []) if n in per_class]
        order += [n for n in per_class if n not in order]
        rows = [[n, metrics.get(f"f1_{n}"), metrics.get(f"precision_{n}"), metrics.get(f"recall_{n}"),
                 int(metrics[f"support_{n}"]) if f"support_{n}" in metrics else None] for n in order]
        parts += ["Per class:", _table(["class", "F1", "precision", "recall", "support"], rows)]
    return "\n\n".join(parts)


def write_model_card(model_dir: str | Path, card_info: Mapping[str, Any] | None = None) -> Path:
    """Write ``README.md`` into ``model_dir`` from its run files and ``card_info`` (see :func:`model_card`)."""
    info = collect_run_info(model_dir, card_info)
    return _save(model_card(info), Path(model_dir))


def push_trained_model(
    model_dir: str | Path,
    repo_id: str,
    *,
    card_info: Mapping[str, Any] | None = None,
    private: bool = False,
    token: str | None = None,
    commit_message: str | None = None,
) -> str:
    """Write the model card into ``model_dir`` and upload the folder (``HfApi.upload_folder``); returns the URL.

    Trainer leftovers (``checkpoint-*``, ``runs/``, optimizer and RNG states) are not uploaded.
    """
    model_dir = Path(model_dir)
    if not (model_dir / "config.json").exists():
        raise FileNotFoundError(f"{str(model_dir)!r} is not a saved model folder (no config.json)")
    write_model_card(model_dir, card_info)
    api = HfApi(token=token)
    repo_id = _full_repo_id(api, repo_id)
    url = api.create_repo(repo_id, private=private, exist_ok=True, token=token)
    api.upload_folder(folder_path=str(model_dir), repo_id=repo_id, token=token, ignore_patterns=_MODEL_IGNORE,
                      commit_message=commit_message or "Upload model fine-tuned with nlp_balance")
    logger.info("pushed model to %s", url)
    return str(url)
