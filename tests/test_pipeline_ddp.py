"""`nlp-balance train` unchanged under torchrun: 2 gloo processes write one complete run folder."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest


@pytest.mark.slow
def test_train_under_torchrun_with_two_processes(tmp_path, tiny_bert_dir, shared_data):
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
    cmd = [str(torchrun), "--nproc_per_node", "2", "-m", "nlp_balance.cli", "train", str(recipe)]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    info = json.loads((tmp_path / "run" / "run_info.json").read_text())
    assert info["world_size"] == 2
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())["test"]
    # the whole test split is scored once, not one process's shard
    assert sum(v for k, v in metrics.items() if k.startswith("support_")) == 500
    assert len((tmp_path / "run" / "predictions.jsonl").read_text().splitlines()) == 500
    assert (tmp_path / "run" / "report.html").is_file()
