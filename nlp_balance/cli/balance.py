"""``nlp-balance balance SOURCE --out PATH`` (alias ``augment``): rebalance the train split and save it."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from nlp_balance.cli.options import add_data_arguments, key_values, load_source, parse_sampling_strategy

__all__ = ["check_output", "register", "run"]

#: ``--out`` suffixes written as one file (the train split, labels as names); else a ``save_to_disk`` folder.
_FILE_SUFFIXES = (".jsonl", ".json", ".csv", ".tsv", ".parquet")


def register(sub: Any) -> None:
    """Add the ``balance`` verb and its alias ``augment``."""
    for name in ("balance", "augment"):
        p = sub.add_parser(
            name,
            help="rebalance the train split (by augmentation or duplication) and save it"
            + (" (same as 'balance')" if name == "augment" else ""),
        )
        add_data_arguments(p)
        p.add_argument("--augmenter", action="append", metavar="NAME",
                       help="augmenter by name (repeat to chain them with Compose); none = duplicate examples")
        p.add_argument("--aug-param", action="append", metavar="KEY=VALUE",
                       help="parameter for the augmenter(s), e.g. aug_p=0.2 (repeatable)")
        p.add_argument("--sampling-strategy", type=parse_sampling_strategy, default="auto",
                       help="imbalanced-learn style: auto, minority, 'not majority', all, a float, or a JSON dict")
        p.add_argument("--max-synthetic-per-example", type=int, default=None)
        p.add_argument("--seed", type=int, default=0)
        p.add_argument("--num-proc", type=int, default=None)
        p.add_argument("--on-shortfall", choices=["duplicate", "warn", "raise"], default="duplicate")
        p.add_argument("--plan", choices=["global", "per-source"], default=None,
                       help="global: retry failed sources with other sources (default); per-source: each source "
                       "fills its own quota, the plan that can be sharded (implied by --shard)")
        p.add_argument("--shard", metavar="I/N", default=None,
                       help="compute only part I of N (e.g. 0/4) to split the work across machines; the N "
                       "outputs together equal one run with --plan per-source")
        p.add_argument("--out", required=True, metavar="PATH",
                       help="a folder (save_to_disk of all splits), or FILE.jsonl/.csv/.tsv/.parquet (train split)")
        p.add_argument("--push-to-hub", metavar="REPO", help="also push the balanced dataset with a dataset card")
        p.add_argument("--private", action="store_true", help="with --push-to-hub: create a private repo")
        p.set_defaults(func=run)


def _augmenter(names: list[str] | None, params: dict[str, Any]) -> Any:
    from nlp_balance.augment import build_augmenter

    names = [n for n in (names or []) if n.lower() not in ("none", "duplicate")]
    if params and not names:
        raise ValueError(f"--aug-param given without --augmenter: {params}")
    return build_augmenter([(n, params) for n in names])


def check_output(out: Path, source: str) -> None:
    """Refuse, before any work, an ``--out`` that is, holds or lies inside the input, or a folder that is
    not a saved dataset (it would be replaced)."""
    target = out.expanduser().resolve()
    blocking = next((parent for parent in target.parents if parent.exists() and not parent.is_dir()), None)
    if blocking is not None:
        raise ValueError(f"--out {str(out)!r} cannot be written: {str(blocking)!r} is a file, not a folder")
    src = Path(source).expanduser()
    if src.exists():
        src = src.resolve()
        if target == src or target in src.parents or (src.is_dir() and src in target.parents):
            raise ValueError(f"--out {str(out)!r} is, holds or lies inside the input {source!r}; write the "
                             "output elsewhere")
    if out.suffix.lower() in _FILE_SUFFIXES:
        if target.is_dir():
            raise ValueError(f"--out {str(out)!r} is a folder; give a new file name")
        return
    if target.is_file():
        raise ValueError(f"--out {str(out)!r} is a file; give a folder (or a .jsonl/.csv/.parquet file name)")
    if target.is_dir() and any(target.iterdir()) and not (target / "dataset_dict.json").is_file():
        raise ValueError(f"--out {str(out)!r} is a folder that holds something other than a saved dataset; "
                         "refusing to replace it")


def _check_push(repo_id: str | None) -> None:
    """Fail before the work when a push cannot happen (offline, or no Hugging Face token)."""
    if not repo_id:
        return
    import os

    if os.environ.get("HF_HUB_OFFLINE") == "1":
        raise ValueError("--push-to-hub needs the network, but HF_HUB_OFFLINE=1")
    from huggingface_hub import HfApi

    try:
        HfApi().whoami()
    except Exception as err:  # no token, a bad token, or no network: all mean the push would fail
        raise ValueError(f"--push-to-hub {repo_id!r}: cannot reach the Hub as a logged-in user ({err})") from None


def run(args: argparse.Namespace) -> int:
    """Balance the train split of SOURCE, print before/after, write it to ``--out`` (and the Hub)."""
    import datasets

    from nlp_balance.data.distribution import class_distribution, format_distribution
    from nlp_balance.resampling import Balancer

    out = Path(args.out)
    check_output(out, args.source)
    _check_push(args.push_to_hub)
    augmenter = _augmenter(args.augmenter, key_values(args.aug_param, "--aug-param"))
    shard = None
    if args.shard is not None:
        from nlp_balance.resampling import parse_shard

        shard = parse_shard(args.shard)
        if args.plan == "global" and augmenter is not None:
            raise ValueError("--shard needs --plan per-source (the global plan cannot be split across machines)")
    dataset = load_source(args)
    if not isinstance(dataset, datasets.DatasetDict):
        dataset = datasets.DatasetDict({"train": dataset})
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
        print(f"shard {shard[0]}/{shard[1]}: {len(balanced['train'])} rows (the union of all {shard[1]} shards is "
              "the balanced split)")
    print("train split before and after balancing:")
    print(format_distribution({"before": before, "after": after}))
    if out.suffix.lower() in _FILE_SUFFIXES:
        from nlp_balance.data import write_split

        write_split(balanced["train"], out, label_column=args.label_column)
    else:
        from nlp_balance.reporting import write_dataset_card
        from nlp_balance.utils.atomic import atomic_directory

        with atomic_directory(out) as staging:
            balanced.save_to_disk(str(staging))
            write_dataset_card(staging, balanced, source=str(args.source), balancer=balancer, before=before,
                               label_column=args.label_column, text_column=args.text_column)
    print(f"balanced data written to {out}")
    if args.push_to_hub:
        from nlp_balance.reporting import push_balanced_dataset

        url = push_balanced_dataset(balanced, args.push_to_hub, balancer=balancer, source=str(args.source),
                                    before=before, label_column=args.label_column, private=args.private)
        print(f"pushed to {url}")
    return 0
