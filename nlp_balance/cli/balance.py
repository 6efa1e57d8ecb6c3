"""``nlp-balance balance SOURCE --out PATH`` (alias ``augment``): rebalance the train split and save it."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from nlp_balance.cli.options import add_data_arguments, key_values, load_source, parse_sampling_strategy

__all__ = ["register", "run"]


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
                       help="a folder (save_to_disk of all splits), or FILE.jsonl / .parquet / .csv (train split)")
        p.add_argument("--push-to-hub", metavar="REPO", help="also push the balanced dataset with a dataset card")
        p.add_argument("--private", action="store_true", help="with --push-to-hub: create a private repo")
        p.set_defaults(func=run)


def _augmenter(names: list[str] | None, params: dict[str, Any]) -> Any:
    from nlp_balance.augment import build_augmenter

    names = [n for n in (names or []) if n.lower() not in ("none", "duplicate")]
    if params and not names:
        raise ValueError(f"--aug-param given without --augmenter: {params}")
    return build_augmenter([(n, params) for n in names])


def run(args: argparse.Namespace) -> int:
    """Balance the train split of SOURCE, print before/after, write it to ``--out`` (and the Hub)."""
    import datasets

    from nlp_balance.data.distribution import class_distribution, format_distribution
    from nlp_balance.resampling.balancer import Balancer

    augmenter = _augmenter(args.augmenter, key_values(args.aug_param, "--aug-param"))
    shard = None
    if args.shard is not None:
        from nlp_balance.resampling.sharding import parse_shard

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
        from nlp_balance.reporting import write_dataset_card

        balanced.save_to_disk(str(out))
        write_dataset_card(out, balanced, source=str(args.source), balancer=balancer, before=before,
                           label_column=args.label_column, text_column=args.text_column)
    print(f"balanced data written to {out}")
    if args.push_to_hub:
        from nlp_balance.reporting import push_balanced_dataset

        url = push_balanced_dataset(balanced, args.push_to_hub, balancer=balancer, source=str(args.source),
                                    before=before, label_column=args.label_column, private=args.private)
        print(f"pushed to {url}")
    return 0
