"""`nlp-balance train` unchanged under torchrun: 2 gloo processes write one complete run folder."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

WATCHDOG = Path(__file__).resolve().parents[1] / "watchdog.py"
#: A rank still running after this many seconds prints its stacks and exits (a normal run takes ~1 min).
WATCHDOG_S = 240


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
@pytest.mark.parametrize("head", ["default", "label_attention"])  # an attention head: no unused parameters
def test_train_under_torchrun_with_two_processes(tmp_path, tiny_bert_dir, shared_data, head):
    recipe = tmp_path / "ddp.yaml"
    recipe.write_text(
        "\n".join(
            [
                "# 2-process test recipe. How long: a minute.",
                "name: ddp",
                "seed: 3",
                "dataset:",
                f"  source: {shared_data / 'trec6'}",
                "  max_train_samples: 160",
                "balancing:",
                "  sampling_strategy: {ABBR: 20}",
                "model:",
                f"  name_or_path: {tiny_bert_dir}",
                "  max_length: 16",
                f"  head: {head}",
                "training: {num_train_epochs: 1, per_device_train_batch_size: 8, learning_rate: 1.0e-3, loss: focal,",
                "           class_weighting: balanced, sampler: weighted}",
                "output:",
                f"  dir: {tmp_path / 'run'}",
            ]
        )
        + "\n"
    )
    torchrun = Path(sys.executable).with_name("torchrun")
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    # Each rank runs under the watchdog: a hung rank prints its stacks and exits after WATCHDOG_S.
    cmd = [str(torchrun), "--nproc_per_node", "2", "--master_addr", "127.0.0.1", "--master_port", str(_free_port()),
           str(WATCHDOG), str(WATCHDOG_S), "-m", "nlp_balance.cli", "train",
           str(recipe)]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=WATCHDOG_S + 60)
    assert done.returncode == 0, done.stderr[-6000:]
    info = json.loads((tmp_path / "run" / "run_info.json").read_text())
    assert info["world_size"] == 2
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())["test"]
    # the whole test split is scored once, not one process's shard
    assert sum(v for k, v in metrics.items() if k.startswith("support_")) == 500
    assert len((tmp_path / "run" / "predictions.jsonl").read_text().splitlines()) == 500
    assert (tmp_path / "run" / "report.html").is_file()
    assert (tmp_path / "run" / "model" / "attention_head.json").is_file() == (head != "default")
