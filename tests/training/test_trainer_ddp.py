"""Two gloo processes on the CPU train to the same weights as one process with the same global batch."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch

HERE = Path(__file__).resolve().parents[1]  # tests/
SCRIPT = HERE / "ddp_train_script.py"
WATCHDOG = HERE / "watchdog.py"
#: A rank still running after this many seconds prints its stacks and exits (a normal run takes ~15 s).
WATCHDOG_S = 120


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _run(cmd: list[str], tmp_path: Path) -> None:
    env = dict(os.environ, OMP_NUM_THREADS="1", TOKENIZERS_PARALLELISM="false")
    env["PYTHONPATH"] = str(HERE.parent) + os.pathsep + env.get("PYTHONPATH", "")
    # The watchdog ends a hung rank first; this timeout is the last resort if even that fails.
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=WATCHDOG_S + 60)
    assert proc.returncode == 0, f"{' '.join(cmd)} failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-6000:]}"


def _load(out: Path, rank: int) -> dict:
    return json.loads((out / f"rank{rank}.json").read_text())


def _single(script_args: list[str], tmp_path: Path) -> None:
    _run([sys.executable, str(WATCHDOG), str(WATCHDOG_S), str(SCRIPT), *script_args], tmp_path)


def _torchrun(script_args: list[str], tmp_path: Path) -> None:
    _run([sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_addr", "127.0.0.1",
          "--master_port", str(_free_port()), str(WATCHDOG), str(WATCHDOG_S), str(SCRIPT), *script_args], tmp_path)


@pytest.mark.slow  # over 25 s here: in CI's slow phase
def test_two_gloo_processes_match_one_process(tmp_path):
    single, ddp = tmp_path / "single", tmp_path / "ddp"
    # global batch 8 in both: 1 process x 4 x GA 2, and 2 processes x 2 x GA 2
    _single([str(single), "--per-device", "4", "--ga", "2"], tmp_path)
    _torchrun([str(ddp), "--per-device", "2", "--ga", "2"], tmp_path)
    one, r0, r1 = _load(single, 0), _load(ddp, 0), _load(ddp, 1)
    assert one["world"] == 1 and r0["world"] == 2 and r1["world"] == 2
    assert one["global_steps"] == r0["global_steps"] == r1["global_steps"] == 8

    # class weights come from the full label column, so every rank has the same ones
    assert one["class_weights"] == r0["class_weights"] == r1["class_weights"]

    # each rank read every other 2-example batch of one global sampler stream: together, the 1-process order
    rebuilt = [i for pair in zip(r0["batches"], r1["batches"]) for batch in pair for i in batch]
    flat_single = [i for batch in one["batches"] for i in batch]
    assert rebuilt == flat_single
    assert not {30, 31} & set(flat_single)  # the -100 rows are never drawn

    a = torch.load(single / "weights.pt")
    b = torch.load(ddp / "weights.pt")
    moved = max((a["final"][k] - a["initial"][k]).abs().max().item() for k in a["final"])
    assert moved > 1e-3
    for k in a["final"]:
        torch.testing.assert_close(b["final"][k], a["final"][k], atol=1e-5, rtol=0, msg=lambda m, k=k: f"{k}: {m}")


@pytest.mark.slow  # over 25 s here: in CI's slow phase
def test_embedding_synthesis_memory_bank_is_gathered_across_processes(tmp_path):
    """Under DDP every process ends with the same memory bank, built from both processes' examples."""
    out = tmp_path / "ddp_smote"
    ga = 2
    _torchrun([str(out), "--per-device", "2", "--ga", str(ga), "--synthesis", "smote"], tmp_path)
    r0, r1 = _load(out, 0), _load(out, 1)
    b0, b1 = torch.load(out / "rank0_bank.pt"), torch.load(out / "rank1_bank.pt")
    assert b0["synthesized"] > 0 and b1["synthesized"] > 0
    assert sorted(b0["bank"]) == sorted(b1["bank"]) and b0["bank"]
    for c in b0["bank"]:
        assert torch.equal(b0["bank"][c], b1["bank"][c]), f"class {c}: the ranks hold different banks"

    # The representations of a step join the bank at the next step, so all but the last step count,
    # from BOTH ranks (a rank-local bank would hold about half of them).
    sys.path.insert(0, str(HERE))
    from ddp_train_script import make_data

    labels = make_data()["labels"]
    expected: dict[int, int] = {}
    for rank in (r0, r1):
        for batch in rank["batches"][:-ga]:
            for i in batch:
                expected[labels[i]] = expected.get(labels[i], 0) + 1
    expected.pop(-100, None)
    assert {c: int(t.shape[0]) for c, t in b0["bank"].items()} == {c: min(n, 256) for c, n in expected.items()}


@pytest.mark.slow  # over 25 s here: in CI's slow phase
def test_tmix_under_ddp_gathers_the_partner_bank_and_keeps_the_ranks_in_step(tmp_path):
    """TMix's extra forward passes go through the unwrapped model inside one DDP backward: both ranks
    mix, hold the same partner bank (token rows from BOTH ranks) and end with the same weights."""
    out = tmp_path / "ddp_tmix"
    ga = 2
    _torchrun([str(out), "--per-device", "2", "--ga", str(ga), "--synthesis", "tmix"], tmp_path)
    r0, r1 = _load(out, 0), _load(out, 1)
    b0, b1 = torch.load(out / "rank0_bank.pt"), torch.load(out / "rank1_bank.pt")
    assert b0["synthesized"] > 0 and b1["synthesized"] > 0
    assert sorted(b0["bank"]) == sorted(b1["bank"]) and b0["bank"]
    for c in b0["bank"]:
        assert [t.tolist() for t in b0["bank"][c]] == [t.tolist() for t in b1["bank"][c]], f"class {c}"
    sys.path.insert(0, str(HERE))
    from ddp_train_script import OFFSET, make_data

    data = make_data()
    expected: dict[int, int] = {}
    for rank in (r0, r1):
        for batch in rank["batches"][:-ga]:
            for i in batch:
                expected[data["labels"][i]] = expected.get(data["labels"][i], 0) + 1
    expected.pop(-100, None)
    assert {c: len(rows) for c, rows in b0["bank"].items()} == {c: min(n, 256) for c, n in expected.items()}
    # a bank row is the example's token ids (its first token names the example)
    assert all(data["input_ids"][int(row[0]) - OFFSET] == row.tolist() for rows in b0["bank"].values() for row in rows)
    a = torch.load(out / "weights.pt")
    assert max((a["final"][k] - a["initial"][k]).abs().max().item() for k in a["final"]) > 1e-3
    for k in b0["final"]:
        torch.testing.assert_close(b1["final"][k], b0["final"][k], atol=0, rtol=0, msg=lambda m, k=k: f"{k}: {m}")
