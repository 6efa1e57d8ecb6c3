"""Run a script or module under a watchdog: ``python tests/watchdog.py SECONDS (-m MODULE | SCRIPT) [ARGS...]``.

The multi-process tests start every rank through this file (``torchrun ... tests/watchdog.py 90 -m
nlp_balance.cli train ...``). A rank still running after SECONDS prints the Python stack of each of
its threads to stderr (``faulthandler``) and exits with status 1, so a hang fails the test within
seconds of the limit and shows where it hung, instead of waiting for the test's own timeout.
"""

from __future__ import annotations

import faulthandler
import runpy
import sys


def main() -> None:
    if len(sys.argv) < 3:
        raise SystemExit(__doc__)
    seconds = float(sys.argv[1])
    faulthandler.dump_traceback_later(seconds, exit=True)
    if sys.argv[2] == "-m":
        module, sys.argv = sys.argv[3], [sys.argv[3], *sys.argv[4:]]
        runpy.run_module(module, run_name="__main__", alter_sys=True)
    else:
        script, sys.argv = sys.argv[2], sys.argv[2:]
        runpy.run_path(script, run_name="__main__")


if __name__ == "__main__":
    main()
