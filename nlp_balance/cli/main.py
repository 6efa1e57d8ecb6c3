"""The ``nlp-balance`` command line: argument parsing and printing only; the work lives in the library."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = ["build_parser", "main"]

logger = logging.getLogger("nlp_balance")


def _parse_value(text: str) -> Any:
    """Parse a CLI value with YAML's scalar rules (numbers, booleans, lists, dicts), else keep the string."""
    import yaml

    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return text


def parse_sampling_strategy(text: str) -> Any:
    """``auto``/``not majority``/... stay strings; ``0.5`` becomes a float; ``{"spam": 900}`` a dict."""
    value = _parse_value(text)
    if isinstance(value, (int, float, dict, str)) and not isinstance(value, bool):
        return value
    raise argparse.ArgumentTypeError(f"cannot read sampling strategy {text!r}")


def _key_values(pairs: Sequence[str] | None, option: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for pair in pairs or []:
        if "=" not in pair:
            raise SystemExit(f"error: {option} expects KEY=VALUE, got {pair!r}")
        key, value = pair.split("=", 1)
        out[key.strip()] = _parse_value(value)
    return out


def _add_data_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "source", help="Hub dataset id, local file or folder (csv/tsv/json/jsonl/parquet), or a save_to_disk folder"
    )
    p.add_argument("--text-column", default="text")
    p.add_argument("--label-column", default="label")
    p.add_argument("--name", default=None, help="Hub dataset configuration name")
    p.add_argument(
        "--drop-invalid",
        action="store_true",
        help="drop rows with missing/blank text or missing labels (and report how many) instead of failing",
    )


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``nlp-balance`` (exposed for documentation and tests)."""
    parser = argparse.ArgumentParser(
        prog="nlp-balance",
        description="Make text classifiers good at their small classes: inspect, rebalance, train, report.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="more logging")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("inspect", help="class counts, shares and imbalance ratio per split")
    _add_data_args(p)
    p.add_argument("--plot", metavar="FILE.png", help="also draw a bar chart")
    p.add_argument("--json", action="store_true", help="print JSON for scripts")
    p.set_defaults(func=cmd_inspect)

    for name in ("balance", "augment"):
        p = sub.add_parser(
            name,
            help="rebalance the train split (by augmentation or duplication) and save it"
            + (" (same as 'balance')" if name == "augment" else ""),
        )
        _add_data_args(p)
        p.add_argument(
            "--augmenter",
            action="append",
            metavar="NAME",
            help="augmenter by name (repeat to chain them with Compose); none = duplicate examples",
        )
        p.add_argument(
            "--aug-param",
            action="append",
            metavar="KEY=VALUE",
            help="parameter for the augmenter(s), e.g. aug_p=0.2 (repeatable)",
        )
        p.add_argument(
            "--sampling-strategy",
            type=parse_sampling_strategy,
            default="auto",
            help="imbalanced-learn style: auto, minority, 'not majority', all, a float, or a JSON dict",
        )
        p.add_argument("--max-synthetic-per-example", type=int, default=None)
        p.add_argument("--seed", type=int, default=0)
        p.add_argument("--num-proc", type=int, default=None)
        p.add_argument("--on-shortfall", choices=["duplicate", "warn", "raise"], default="duplicate")
        p.add_argument(
            "--plan",
            choices=["global", "per-source"],
            default=None,
            help="global: retry failed sources with other sources (default); per-source: each source "
            "fills its own quota, the plan that can be sharded (implied by --shard)",
        )
        p.add_argument(
            "--shard",
            metavar="I/N",
            default=None,
            help="compute only part I of N (e.g. 0/4) to split the work across machines; the N "
            "outputs together equal one run with --plan per-source",
        )
        p.add_argument(
            "--out",
            required=True,
            metavar="PATH",
            help="a folder (save_to_disk of all splits), or FILE.jsonl / FILE.parquet / FILE.csv (train split)",
        )
        p.add_argument("--push-to-hub", metavar="REPO", help="also push the balanced dataset with a dataset card")
        p.add_argument("--private", action="store_true", help="with --push-to-hub: create a private repo")
        p.set_defaults(func=cmd_balance)

    p = sub.add_parser("demo", help="the quickstart end to end on the packaged demo data, offline (~8 min, 2 cores)")
    from nlp_balance.cli.demo import add_arguments as add_demo_arguments

    add_demo_arguments(p)
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("wordnet", help="find WordNet (NLTK data or a WordNet 3.0 database), cache it, and check it")
    p.set_defaults(func=cmd_wordnet)

    try:  # commands of the training half, present once those modules are installed
        from nlp_balance.cli.train import add_train_commands
    except ImportError:  # pragma: no cover - only while a partial install
        pass
    else:
        add_train_commands(sub)
    return parser


def _load(args: argparse.Namespace) -> Any:
    from nlp_balance.data.loading import load_text_dataset

    dataset, report = load_text_dataset(
        args.source,
        args.text_column,
        args.label_column,
        name=args.name,
        drop_invalid=args.drop_invalid,
        return_report=True,
    )
    if report.total_dropped:
        print(f"dropped {report.total_dropped} invalid row(s): {report.dropped}", file=sys.stderr)
    return dataset


def cmd_inspect(args: argparse.Namespace) -> int:
    from nlp_balance.data.distribution import class_distribution, format_distribution
    from nlp_balance.reporting.plots import plot_class_distribution

    dataset = _load(args)
    dists = class_distribution(dataset, args.label_column)
    if args.json:
        items = dists.values() if isinstance(dists, dict) else [dists]
        print(json.dumps({"source": str(args.source), "splits": [d.to_json() for d in items]}, indent=2))
    else:
        print(f"{args.source}")
        print(format_distribution(dists))
    if args.plot:
        path = plot_class_distribution(dists, args.plot)
        print(f"plot written to {path}", file=sys.stderr if args.json else sys.stdout)
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from nlp_balance.cli.demo import run

    return run(args)


def cmd_wordnet(args: argparse.Namespace) -> int:
    from nlp_balance.augment.wordnet import main as wordnet_main

    return wordnet_main([])


def build_augmenter(names: Sequence[str] | None, params: dict[str, Any]) -> Any:
    """One augmenter, a ``Compose`` of several, or ``None`` for duplication."""
    from nlp_balance.augment import get_augmenter

    names = [n for n in (names or []) if n.lower() not in ("none", "duplicate")]
    if not names:
        if params:
            raise SystemExit(f"error: --aug-param given without --augmenter: {params}")
        return None

    def build(name: str) -> Any:
        try:
            return get_augmenter(name, **params)
        except TypeError as err:  # an unknown or misspelt --aug-param
            raise ValueError(f"augmenter {name!r} does not take the parameters {sorted(params)}: {err}") from None

    if len(names) == 1:
        return build(names[0])
    from nlp_balance.augment import Compose  # type: ignore[attr-defined]

    return Compose([build(n) for n in names])


def cmd_balance(args: argparse.Namespace) -> int:
    import datasets

    from nlp_balance.data.distribution import class_distribution, format_distribution
    from nlp_balance.resampling.balancer import Balancer

    dataset = _load(args)
    if not isinstance(dataset, datasets.DatasetDict):
        dataset = datasets.DatasetDict({"train": dataset})
    augmenter = build_augmenter(args.augmenter, _key_values(args.aug_param, "--aug-param"))
    shard = None
    if args.shard is not None:
        from nlp_balance.resampling.sharding import parse_shard

        shard = parse_shard(args.shard)
        if args.plan == "global" and augmenter is not None:
            raise ValueError("--shard needs --plan per-source (the global plan cannot be split across machines)")
    plan = "per_source" if (args.plan == "per-source" or shard is not None) else "global"
    balancer = Balancer(
        augmenter,
        args.sampling_strategy,
        max_synthetic_per_example=args.max_synthetic_per_example,
        seed=args.seed,
        num_proc=args.num_proc,
        text_column=args.text_column,
        label_column=args.label_column,
        on_shortfall=args.on_shortfall,
        plan=plan,
        shard=shard,
    )
    before = class_distribution(dataset["train"], args.label_column)
    balanced = balancer.fit_resample(dataset)
    after = class_distribution(balanced["train"], args.label_column)
    if shard is not None:
        print(
            f"shard {shard[0]}/{shard[1]}: {len(balanced['train'])} rows (the union of all {shard[1]} shards is "
            "the balanced split)"
        )
    print("train split before and after balancing:")
    print(format_distribution({"before": before, "after": after}))
    out = Path(args.out)
    suffix = out.suffix.lower()
    train = balanced["train"]
    if suffix in (".jsonl", ".json"):
        train.to_json(str(out), lines=True, force_ascii=False)
    elif suffix == ".parquet":
        train.to_parquet(str(out), batch_size=50_000)  # bounded memory: the default batch can be the whole split
    elif suffix == ".csv":
        train.to_csv(str(out), index=False)
    else:
        from nlp_balance.reporting.hub import write_dataset_card

        balanced.save_to_disk(str(out))
        write_dataset_card(
            out,
            balanced,
            source=str(args.source),
            balancer=balancer,
            before=before,
            label_column=args.label_column,
            text_column=args.text_column,
        )
    print(f"balanced data written to {out}")
    if args.push_to_hub:
        from nlp_balance.reporting.hub import push_balanced_dataset

        url = push_balanced_dataset(
            balanced,
            args.push_to_hub,
            balancer=balancer,
            source=str(args.source),
            before=before,
            label_column=args.label_column,
            private=args.private,
        )
        print(f"pushed to {url}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``nlp-balance`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )
    if args.verbose:  # transformers' own log lines (the Trainer's raw metric dictionaries included)
        from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity_info()
    from nlp_balance.data.validation import DataValidationError

    try:
        code = int(args.func(args) or 0)
    except (DataValidationError, FileNotFoundError, KeyError, ValueError, PermissionError) as err:
        if args.verbose:
            raise
        message = err.args[0] if isinstance(err, KeyError) and err.args else err
        print(f"error: {message}", file=sys.stderr)
        return 2
    from nlp_balance.utils.distributed import finish_distributed

    finish_distributed()  # under torchrun / accelerate launch: every process ends its process group and exits
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
