"""Scale benchmark: balance (duplicate or synonym-augment) a large dataset and record time and peak memory.

The input is built by repeating and perturbing ``data/benchmarks/davidson_hate/train.jsonl`` (19,826
tweets, 3 classes at 77/17/6 %) to the asked number of rows, written to Parquet under ``--work``
(default ``/tmp/nlpb_scale``; never in the repo). Each measured stage runs in its own child process;
the parent samples the resident memory of that child **and all its descendants** (the ``num_proc``
workers) every 50 ms with psutil, so the peak is the whole process tree's. Usage::

    python benchmarks/scale.py --rows 200000 1000000 --stages duplicate synonym --num-proc 2 \
        --json docs/benchmarks/scale.json

A stage is ``duplicate`` (Balancer without augmenter, ``sampling_strategy="auto"``) or ``synonym``
(Balancer with ``SynonymReplacement``, same targets); both load the Parquet with
``load_text_dataset`` and write the balanced split back to Parquet, so the timing covers read,
validate, encode, plan, augment, deduplicate and write.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import subprocess
import sys
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from benchmarks.data import dataset_dir  # noqa: E402

SHARED = dataset_dir("davidson_hate") / "train.jsonl"
_SUFFIXES = ["lol", "smh", "fr", "tbh", "ngl", "idk", "omg", "wtf", "imo", "btw"]


def build_input(rows: int, work: Path) -> Path:
    """Repeat and perturb the Davidson train split to ``rows`` rows (seeded); cached by row count."""
    out = work / f"davidson_{rows}.parquet"
    if out.exists():
        return out
    import pyarrow as pa
    import pyarrow.parquet as pq

    base = [json.loads(line) for line in SHARED.read_text(encoding="utf-8").splitlines()]
    rng = random.Random(0)
    texts, labels = [], []
    for i in range(rows):
        row = base[i % len(base)]
        text = row["text"]
        copy = i // len(base)
        if copy:  # perturb: a seeded filler word and the copy number, so repeats are distinct texts
            words = text.split()
            words.insert(rng.randrange(len(words) + 1), rng.choice(_SUFFIXES))
            text = " ".join(words) + f" #{copy}"
        texts.append(text)
        labels.append(row["label"])
    work.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp")
    pq.write_table(pa.table({"text": texts, "label": labels}), tmp, row_group_size=50_000)
    os.replace(tmp, out)
    return out


def run_stage(stage: str, path: Path, num_proc: int, out: Path) -> dict:
    """The measured work (runs in the child process)."""
    started = time.perf_counter()
    sys.path.insert(0, str(REPO))
    from nlp_balance import Balancer, load_text_dataset

    augmenter = None
    if stage == "synonym":
        from nlp_balance.augment import SynonymReplacement

        augmenter = SynonymReplacement()
    ds = load_text_dataset(str(path), split="train")
    loaded = time.perf_counter()
    balancer = Balancer(augmenter, "auto", seed=0, num_proc=num_proc, batch_size=1000)
    balanced = balancer.fit_resample(ds)
    after_balance = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # KiB -> GiB
    balanced.to_parquet(str(out), batch_size=50_000)  # bounded batches: the default can be the whole split
    done = time.perf_counter()
    return {
        "main_maxrss_after_balance_gib": round(after_balance, 3),
        "rows_in": len(ds), "rows_out": len(balanced), "load_s": round(loaded - started, 1),
        "balance_and_write_s": round(done - loaded, 1), "total_s": round(done - started, 1),
        "report": balancer.report_.to_dict(),
    }


def measure(cmd: list[str], env: dict[str, str]) -> tuple[dict, float, dict[str, float]]:
    """Run ``cmd``; return its JSON result, wall seconds and peak memory (GiB) of its process tree.

    ``pss`` (proportional set size) counts a page shared by k processes as 1/k in each, so the sum
    over the tree is the memory the tree really holds; ``rss_sum`` counts shared pages (the forked
    ``num_proc`` workers share the parent's pages copy-on-write, and all map the same Arrow files)
    once per process, so it over-states; ``rss_main`` is the parent alone.
    """
    import psutil

    peak = {"pss": 0, "rss_sum": 0, "rss_main": 0}
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, text=True)
    root = psutil.Process(proc.pid)
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            try:
                procs = [root, *root.children(recursive=True)]
                pss = rss = 0
                for p in procs:
                    try:
                        info = p.memory_full_info()
                        pss += info.pss
                        rss += info.rss
                    except psutil.Error:
                        pass
                peak["pss"] = max(peak["pss"], pss)
                peak["rss_sum"] = max(peak["rss_sum"], rss)
                peak["rss_main"] = max(peak["rss_main"], root.memory_info().rss)
            except psutil.Error:
                pass
            stop.wait(0.1)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    stdout, _ = proc.communicate()
    stop.set()
    thread.join()
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"stage failed ({proc.returncode}): {' '.join(cmd)}")
    return json.loads(stdout.strip().splitlines()[-1]), wall, {k: v / 2**30 for k, v in peak.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[200_000, 1_000_000])
    parser.add_argument("--stages", nargs="+", choices=["duplicate", "synonym"], default=["duplicate", "synonym"])
    parser.add_argument("--num-proc", type=int, default=2)
    parser.add_argument("--work", type=Path, default=Path("/tmp/nlpb_scale"))
    parser.add_argument("--json", type=Path, help="append results to this JSON file")
    parser.add_argument("--child", nargs=3, metavar=("STAGE", "INPUT", "OUTPUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        stage, path, out = args.child
        print(json.dumps(run_stage(stage, Path(path), args.num_proc, Path(out))))
        return
    env = {**os.environ, "HF_DATASETS_CACHE": str(args.work / "hf_cache"), "TOKENIZERS_PARALLELISM": "false",
           "PYTHONPATH": str(REPO)}
    results = []
    for rows in args.rows:
        path = build_input(rows, args.work)
        for stage in args.stages:
            out = args.work / f"out_{stage}_{rows}.parquet"
            cmd = [sys.executable, __file__, "--num-proc", str(args.num_proc), "--child", stage, str(path), str(out)]
            result, wall, peak = measure(cmd, env)
            row = {"stage": stage, "rows": rows, "num_proc": args.num_proc, "wall_s": round(wall, 1),
                   **{f"peak_{k}_gib": round(v, 3) for k, v in peak.items()},
                   **{k: v for k, v in result.items() if k != "report"},
                   "synthetic": sum(c["synthetic"] for c in result["report"]["classes"]),
                   "duplicated": sum(c["duplicated"] for c in result["report"]["classes"])}
            print(json.dumps(row), flush=True)
            results.append(row)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        old = json.loads(args.json.read_text()) if args.json.exists() else {"runs": []}
        old["machine"] = {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()}
        old["runs"] += results
        args.json.write_text(json.dumps(old, indent=2) + "\n")


if __name__ == "__main__":
    main()
