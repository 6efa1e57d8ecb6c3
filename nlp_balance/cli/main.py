"""The ``nlp-balance`` command: registers one module per verb and runs the chosen one.

Every verb lives in its own module of this folder with ``register(subparsers)`` and ``run(args)``;
this module only builds the parser, sets up logging, and turns failures into one ``error:`` line.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from nlp_balance.cli import balance, compare, demo, evaluate, inspect, predict, train, tune, wordnet

__all__ = ["VERBS", "build_parser", "describe_error", "main"]

#: The verb modules, in the order ``--help`` lists them.
VERBS = (inspect, balance, train, tune, compare, evaluate, predict, demo, wordnet)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``nlp-balance`` (exposed for documentation and tests)."""
    parser = argparse.ArgumentParser(
        prog="nlp-balance",
        description="Make text classifiers good at their small classes: inspect, rebalance, train, report.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="more logging, and tracebacks on errors")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for verb in VERBS:
        verb.register(sub)
    return parser


#: Failures that come from the input (data, recipe, paths, network, missing extras): shown without their type.
_INPUT_ERRORS: tuple[type[BaseException], ...] = (ValueError, KeyError, OSError, TypeError, ImportError)


def describe_error(err: BaseException) -> str:
    """One line for ``err``: its message (the type too when it is not an input error), newlines folded."""
    message = err.args[0] if isinstance(err, KeyError) and err.args else str(err)
    message = " ".join(part.strip() for part in str(message).splitlines() if part.strip()) or type(err).__name__
    return message if isinstance(err, _INPUT_ERRORS) else f"{type(err).__name__}: {message}"


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``nlp-balance`` console script.

    Every failure is one ``error:`` line on stderr and exit status 2 (``--verbose`` shows the
    traceback instead); Ctrl-C is one line and status 130. Outputs are written atomically, so an
    interrupted command leaves the previous output or none.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )
    if args.verbose:  # transformers' own log lines (the Trainer's raw metric dictionaries included)
        from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity_info()
    try:
        code = int(args.func(args) or 0)
    except KeyboardInterrupt:
        if args.verbose:
            raise
        print("error: interrupted; no output was left half-written", file=sys.stderr)
        return 130
    except Exception as err:
        if args.verbose:
            raise
        print(f"error: {describe_error(err)} (--verbose shows the traceback)", file=sys.stderr)
        return 2
    from nlp_balance.utils.distributed import finish_distributed

    finish_distributed()  # under torchrun / accelerate launch: every process ends its process group and exits
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
