"""nlp-balance train killed with SIGKILL after a checkpoint, then --resume: the same metrics as an
uninterrupted run, resumed from the newest complete checkpoint."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from process_helpers import child_env, kill_group, start, wait_for

from nlp_balance.runs.runner import work_dir


def _recipe(path: Path, model_dir: Path, run_dir: Path, shared: Path) -> Path:
    lines = [
        "name: resume", "seed: 11", "dataset:", f"  source: {shared / 'sms_spam'}", "  max_train_samples: 1200",
        "balancing:", "  sampling_strategy: auto", "  augmenters: [{name: random_swap, params: {aug_p: 0.3}}]",
        "model:", f"  name_or_path: {model_dir}", "  max_length: 32",
        "training:", "  num_train_epochs: 3", "  per_device_train_batch_size: 8", "  learning_rate: 0.003",
        "  eval_strategy: steps", "  eval_steps: 40", "  save_strategy: steps", "  save_steps: 40",
        "  save_total_limit: 3", "  logging_steps: 20", "  loss: focal", "  class_weighting: balanced",
        "output:", f"  dir: {run_dir}", "  baseline: false",
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _comparable(metrics_file: Path) -> dict:
    data = json.loads(metrics_file.read_text())
    volatile = ("runtime", "per_second", "epoch")
    return {"test": data["test"],
            "validation": {k: v for k, v in data["validation"].items() if not any(w in k for w in volatile)}}


@pytest.mark.slow
def test_training_killed_and_resumed_ends_with_the_same_metrics(tmp_path, tiny_bert_dir, shared_data):
    cli = [sys.executable, "-m", "nlp_balance.cli", "train"]
    env = child_env(tmp_path, OMP_NUM_THREADS="1")
    straight = _recipe(tmp_path / "straight.yaml", tiny_bert_dir, tmp_path / "straight", shared_data)
    subprocess.run([*cli, str(straight)], env=env, check=True, capture_output=True, timeout=900)

    run = tmp_path / "killed"
    recipe = _recipe(tmp_path / "killed.yaml", tiny_bert_dir, run, shared_data)
    log = tmp_path / "killed.log"
    proc = start([*cli, str(recipe)], env, log)

    def second_checkpoint_saved() -> bool:
        done = [c for c in (work_dir(run) / "checkpoints").glob("checkpoint-*") if (c / "trainer_state.json").exists()]
        return len(done) >= 2

    wait_for(second_checkpoint_saved, proc, log)
    kill_group(proc)
    # the run folder appears only when the run has finished: a killed run leaves none
    assert not run.exists(), "the run finished before it could be killed"
    state = max((work_dir(run) / "checkpoints").glob("checkpoint-*"), key=lambda p: int(p.name.split("-")[1]))
    killed_at = int(state.name.split("-")[1])
    state_file = state / "trainer_state.json"
    trainer_state = json.loads(state_file.read_text())
    trainer_state["log_history"].append({"resume_sentinel": killed_at, "step": killed_at})
    state_file.write_text(json.dumps(trainer_state))
    # What a kill during a save leaves behind: a newer checkpoint folder without its trainer state.
    partial = work_dir(run) / "checkpoints" / f"checkpoint-{killed_at + 40}"
    partial.mkdir(exist_ok=True)
    (partial / "trainer_state.json").unlink(missing_ok=True)
    (partial / "model.safetensors").write_bytes(b"truncated")

    resumed = subprocess.run([*cli, str(recipe), "--resume"], env=env, capture_output=True, text=True, timeout=900)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert "no checkpoint" not in resumed.stderr
    # the Trainer restores log_history from the checkpoint it resumes from: the sentinel proves which one
    history = json.loads((run / "log_history.json").read_text())
    assert {"resume_sentinel": killed_at, "step": killed_at} in history
    assert _comparable(run / "metrics.json") == _comparable(tmp_path / "straight" / "metrics.json")
