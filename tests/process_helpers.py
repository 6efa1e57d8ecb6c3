"""Helpers for the tests that kill a child process and check what it left behind (resume tests)."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
#: The tests folder: a child script puts it on sys.path to import conftest's builders.
TESTS = REPO / "tests"


def child_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """Environment of a child process: the repository importable, private datasets and nlp_balance caches."""
    return {**os.environ, "PYTHONPATH": str(REPO), "HF_DATASETS_CACHE": str(tmp_path / "hf"),
            "NLP_BALANCE_CACHE": str(tmp_path / "nlpb"), "TOKENIZERS_PARALLELISM": "false", **extra}


def start(cmd: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    """Start ``cmd`` in its own session, so that a kill reaches the datasets worker processes too."""
    return subprocess.Popen(cmd, env=env, stdout=open(log, "wb"), stderr=subprocess.STDOUT, start_new_session=True)


def kill_group(proc: subprocess.Popen) -> None:
    """SIGKILL the whole process group: no cleanup handler runs."""
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)


def wait_for(predicate, proc: subprocess.Popen, log: Path, timeout: float = 300) -> None:
    """Poll ``predicate`` until true; fail with the log's tail if the process ends first or time runs out."""
    deadline = time.time() + timeout
    while not predicate():
        if proc.poll() is not None:
            raise AssertionError(f"process ended (rc {proc.returncode}) before the awaited state:\n"
                                 + log.read_text(errors="replace")[-3000:])
        if time.time() > deadline:
            kill_group(proc)
            raise AssertionError("timed out waiting:\n" + log.read_text(errors="replace")[-3000:])
        time.sleep(0.05)
