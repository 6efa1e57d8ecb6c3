"""Options and value parsing shared by several verbs: the data source arguments and ``KEY=VALUE`` pairs."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

__all__ = ["add_data_arguments", "key_values", "load_source", "parse_sampling_strategy", "parse_value"]


def parse_value(text: str) -> Any:
    """Parse a CLI value with YAML's scalar rules (numbers, booleans, lists, dicts), else keep the string."""
    import yaml

    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return text


def parse_sampling_strategy(text: str) -> Any:
    """``auto``/``not majority``/... stay strings; ``0.5`` becomes a float; ``{"spam": 900}`` a dict."""
    value = parse_value(text)
    if isinstance(value, (int, float, dict, str)) and not isinstance(value, bool):
        return value
    raise argparse.ArgumentTypeError(f"cannot read sampling strategy {text!r}")


def key_values(pairs: Sequence[str] | None, option: str) -> dict[str, Any]:
    """``["aug_p=0.2", "n=2"]`` -> ``{"aug_p": 0.2, "n": 2}``; a pair without ``=`` is an error naming it."""
    out: dict[str, Any] = {}
    for pair in pairs or []:
        if "=" not in pair:
            raise ValueError(f"{option} expects KEY=VALUE, got {pair!r}")
        key, value = pair.split("=", 1)
        out[key.strip()] = parse_value(value)
    return out


def add_data_arguments(p: argparse.ArgumentParser) -> None:
    """SOURCE and the options that say how to read it."""
    p.add_argument(
        "source", help="Hub dataset id, local file or folder (csv/tsv/json/jsonl/parquet), or a save_to_disk folder"
    )
    p.add_argument("--text-column", default="text")
    p.add_argument("--label-column", default="label")
    p.add_argument("--name", default=None, help="Hub dataset configuration name")
    p.add_argument("--encoding", default=None,
                   help="text encoding of local csv/tsv/json/jsonl files (default: strict UTF-8), e.g. latin-1")
    p.add_argument(
        "--drop-invalid",
        action="store_true",
        help="drop rows with missing/blank text, or missing, blank, mixed-type or whitespace-variant labels "
        "(and report how many of each) instead of failing",
    )


def load_source(args: argparse.Namespace) -> Any:
    """Load ``args.source`` with the data arguments; dropped rows are counted on stderr."""
    from nlp_balance.data.loading import load_text_dataset

    dataset, report = load_text_dataset(
        args.source,
        args.text_column,
        args.label_column,
        name=args.name,
        drop_invalid=args.drop_invalid,
        encoding=args.encoding,
        return_report=True,
    )
    if report.total_dropped:
        print(f"dropped {report.total_dropped} invalid row(s): {report.dropped}", file=sys.stderr)
    return dataset
