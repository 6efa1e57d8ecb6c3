"""A Balancer run killed mid-augmentation (SIGKILL) reuses the finished datasets.map shards on rerun,
and the rerun's output is byte-identical to an uninterrupted run."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from process_helpers import child_env, kill_group, start, wait_for

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


@pytest.mark.slow  # over 10 s here: in CI's slow phase
def test_killed_augmentation_reuses_finished_shards(tmp_path, shared_data):
    script = tmp_path / "augment_child.py"
    script.write_text(_AUGMENT_CHILD, encoding="utf-8")
    data = shared_data / "sms_spam" / "train.jsonl"  # loaded from files, so datasets.map caches to disk
    logs = [tmp_path / f"log{i}" for i in range(3)]
    for d in logs:
        d.mkdir()

    # Reference: uninterrupted, in its own datasets cache.
    ref_env = child_env(tmp_path / "ref")
    subprocess.run([sys.executable, str(script), str(data), str(tmp_path / "ref.jsonl")],
                   env={**ref_env, "CALL_LOG_DIR": str(logs[0])}, check=True, capture_output=True, timeout=600)
    full_calls = _calls(logs[0])

    # Interrupted: one worker finishes its shard, the other hangs; kill everything.
    env = child_env(tmp_path / "run")
    log = tmp_path / "child.log"
    proc = start([sys.executable, str(script), str(data), str(tmp_path / "out.jsonl")],
                 {**env, "STALL": "1", "CALL_LOG_DIR": str(logs[1])}, log)
    cache_root = tmp_path / "run" / "hf"

    def one_shard_cached() -> bool:
        return any("_of_00002" in f.name for f in cache_root.rglob("cache-*.arrow"))

    wait_for(one_shard_cached, proc, log)
    time.sleep(0.5)
    kill_group(proc)
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
