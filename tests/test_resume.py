"""Interrupted work resumes: training killed and restarted with --resume, augmentation killed and rerun
from the datasets cache, and the back-translation cache after its writer is killed (SIGKILL, no cleanup).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from nlp_balance.runs.runner import work_dir

REPO = Path(__file__).resolve().parents[1]


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(REPO), "HF_DATASETS_CACHE": str(tmp_path / "hf"),
            "NLP_BALANCE_CACHE": str(tmp_path / "nlpb"), "TOKENIZERS_PARALLELISM": "false", **extra}


def _start(cmd: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    # Own session, so that the kill reaches the datasets worker processes too.
    return subprocess.Popen(cmd, env=env, stdout=open(log, "wb"), stderr=subprocess.STDOUT, start_new_session=True)


def _kill_group(proc: subprocess.Popen) -> None:
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)


def _wait_for(predicate, proc: subprocess.Popen, log: Path, timeout: float = 300) -> None:
    deadline = time.time() + timeout
    while not predicate():
        if proc.poll() is not None:
            raise AssertionError(f"process ended (rc {proc.returncode}) before the awaited state:\n"
                                 + log.read_text(errors="replace")[-3000:])
        if time.time() > deadline:
            _kill_group(proc)
            raise AssertionError("timed out waiting:\n" + log.read_text(errors="replace")[-3000:])
        time.sleep(0.05)


# ---------------------------------------------------------------------------------------------------
# 1. training: SIGKILL after a checkpoint, then --resume == uninterrupted
# ---------------------------------------------------------------------------------------------------
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
    env = _env(tmp_path, OMP_NUM_THREADS="1")
    straight = _recipe(tmp_path / "straight.yaml", tiny_bert_dir, tmp_path / "straight", shared_data)
    subprocess.run([*cli, str(straight)], env=env, check=True, capture_output=True, timeout=900)

    run = tmp_path / "killed"
    recipe = _recipe(tmp_path / "killed.yaml", tiny_bert_dir, run, shared_data)
    log = tmp_path / "killed.log"
    proc = _start([*cli, str(recipe)], env, log)

    def second_checkpoint_saved() -> bool:
        done = [c for c in (work_dir(run) / "checkpoints").glob("checkpoint-*") if (c / "trainer_state.json").exists()]
        return len(done) >= 2

    _wait_for(second_checkpoint_saved, proc, log)
    _kill_group(proc)
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


# ---------------------------------------------------------------------------------------------------
# 2. augmentation: a killed Balancer run reuses the finished datasets.map shards on rerun
# ---------------------------------------------------------------------------------------------------
_AUGMENT_CHILD = textwrap.dedent("""
    import os, sys, time, json, random
    from pathlib import Path
    from nlp_balance import Balancer, load_text_dataset
    from nlp_balance.augment import Augmenter

    class Logged(Augmenter):
        '''Swaps two words; logs every call; with STALL set, the second worker to start hangs.'''
        name = "test_logged_swap"

        def __init__(self, p: float = 1.0) -> None:
            super().__init__(p=p)

        def augment_batch(self, texts, rngs):
            log_dir = os.environ["CALL_LOG_DIR"]  # not config: it must not change the cache fingerprint
            state = self.__dict__.setdefault("_state", {})
            if "role" not in state:
                try:
                    os.close(os.open(os.path.join(log_dir, "first"), os.O_CREAT | os.O_EXCL))
                    state["role"] = "first"
                except FileExistsError:
                    state["role"] = "second"
            if os.environ.get("STALL") and state["role"] == "second":
                time.sleep(3600)
            with open(os.path.join(log_dir, f"calls-{os.getpid()}.log"), "a") as fh:
                fh.write(f"{len(texts)}\\n")
            return super().augment_batch(texts, rngs)

        def augment_one(self, text, rng):
            words = text.split()
            if len(words) < 2:
                return None
            i, j = rng.sample(range(len(words)), 2)
            words[i], words[j] = words[j], words[i]
            return " ".join(words)

    data, out = sys.argv[1:3]
    ds = load_text_dataset(data, split="train")
    balanced = Balancer(Logged(), "auto", seed=3, num_proc=2, batch_size=64).fit_resample(ds)
    balanced.to_json(out)
""")


def _calls(log_dir: Path) -> int:
    return sum(int(n) for f in log_dir.glob("calls-*.log") for n in f.read_text().split())


def test_killed_augmentation_reuses_finished_shards(tmp_path, shared_data):
    script = tmp_path / "augment_child.py"
    script.write_text(_AUGMENT_CHILD, encoding="utf-8")
    data = shared_data / "sms_spam" / "train.jsonl"  # loaded from files, so datasets.map caches to disk
    logs = [tmp_path / f"log{i}" for i in range(3)]
    for d in logs:
        d.mkdir()

    # Reference: uninterrupted, in its own datasets cache.
    ref_env = _env(tmp_path / "ref")
    subprocess.run([sys.executable, str(script), str(data), str(tmp_path / "ref.jsonl")],
                   env={**ref_env, "CALL_LOG_DIR": str(logs[0])}, check=True, capture_output=True, timeout=600)
    full_calls = _calls(logs[0])

    # Interrupted: one worker finishes its shard, the other hangs; kill everything.
    env = _env(tmp_path / "run")
    log = tmp_path / "child.log"
    proc = _start([sys.executable, str(script), str(data), str(tmp_path / "out.jsonl")],
                  {**env, "STALL": "1", "CALL_LOG_DIR": str(logs[1])}, log)
    cache_root = tmp_path / "run" / "hf"

    def one_shard_cached() -> bool:
        return any("_of_00002" in f.name for f in cache_root.rglob("cache-*.arrow"))

    _wait_for(one_shard_cached, proc, log)
    time.sleep(0.5)
    _kill_group(proc)
    done_first_run = _calls(logs[1])
    assert 0 < done_first_run < full_calls

    # Rerun: the finished shard comes from the cache; only the other one is augmented again.
    subprocess.run([sys.executable, str(script), str(data), str(tmp_path / "out.jsonl")],
                   env={**env, "CALL_LOG_DIR": str(logs[2])}, check=True, capture_output=True, timeout=600)
    redone = _calls(logs[2])
    assert redone < full_calls
    assert redone + done_first_run >= full_calls  # nothing was lost: together they cover the work
    assert redone <= full_calls - done_first_run + 64 * 2  # finished batches were not redone (one batch slack)
    assert (tmp_path / "out.jsonl").read_bytes() == (tmp_path / "ref.jsonl").read_bytes()


# ---------------------------------------------------------------------------------------------------
# 3. back-translation cache: writer killed mid-way leaves only complete, readable entries
# ---------------------------------------------------------------------------------------------------
_BT_CHILD = textwrap.dedent("""
    import sys
    from pathlib import Path
    sys.path.insert(0, sys.argv[3])
    from conftest import build_tiny_marian
    from nlp_balance.augment import BackTranslation

    models = [str(build_tiny_marian(Path(sys.argv[1]) / f"m{i}", seed=i)) for i in range(2)]
    Path(sys.argv[1], "ready").write_text("\\n".join(models))
    aug = BackTranslation(models, num_beams=1, batch_size=1, max_new_tokens=12, cache=sys.argv[2])
    texts = [f"message number {i} is about the weather and the train" for i in range(100000)]
    aug.variants(texts)
""")


@pytest.mark.slow
def test_backtranslation_cache_survives_a_killed_writer(tmp_path):
    from nlp_balance.augment import BackTranslation
    from nlp_balance.utils.cache import DiskCache

    script = tmp_path / "bt_child.py"
    script.write_text(_BT_CHILD, encoding="utf-8")
    models_dir, cache = tmp_path / "models", tmp_path / "btcache"
    models_dir.mkdir()
    log = tmp_path / "bt.log"
    proc = _start([sys.executable, str(script), str(models_dir), str(cache), str(REPO / "tests")],
                  _env(tmp_path), log)
    entries = cache / "backtranslation"
    _wait_for(lambda: entries.is_dir() and sum(1 for _ in entries.rglob("*.json")) >= 20, proc, log)
    _kill_group(proc)

    files = list(entries.rglob("*.json"))
    assert len(files) >= 20
    for f in files:  # every visible entry is complete JSON with its key (temp files are not entries)
        entry = json.loads(f.read_text(encoding="utf-8"))
        assert set(entry) == {"key", "value"} and entry["value"]
    assert len(DiskCache("backtranslation", root=cache)) == len(files)
    # A new process reads the cache as if nothing happened, and cached results equal fresh ones.
    models = (models_dir / "ready").read_text().splitlines()
    texts = [f"message number {i} is about the weather and the train" for i in range(5)]
    kwargs = {"num_beams": 1, "batch_size": 1, "max_new_tokens": 12}
    assert BackTranslation(models, cache=str(cache), **kwargs).variants(texts) == \
        BackTranslation(models, cache=False, **kwargs).variants(texts)
