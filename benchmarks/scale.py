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

The ``synonym`` stage also times, in the same child process, the augmenter alone on up to
``--aug-texts`` of the input texts, before and after balancing (:func:`augmenter_speed`): a first
pass with a fresh augmenter (after a warm-up on other texts), then a repeated pass, with the random
generators built off the clock as in docs/benchmarks/augment.md, and the repeated pass once more
with them on the clock. The Balancer gets its own fresh augmenter, so its run starts cold too.
Each synonym row then gives ``balancer_vs_augmenter``: the Balancer's new rows/s per process
(``num_proc``) over the augmenter's texts/s in one process, against the median of the before/after
first and repeated passes.

``--md`` (re)writes the generated section of docs/benchmarks/scale.md (between the
``<!-- scale.py:begin -->`` and ``<!-- scale.py:end -->`` markers) from the ``--json`` file's runs
that carry that comparison; ``--report`` does only that, without running anything.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
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


def augmenter_speed(texts: list[str], warm_up: list[str], seed: int) -> dict[str, float]:
    """Texts/s of a fresh SynonymReplacement on ``texts``: first pass (after ``warm_up``), repeated
    pass, and repeated pass with ``example_rng`` built on the clock."""
    from nlp_balance.augment import SynonymReplacement
    from nlp_balance.augment.base import example_rng

    aug = SynonymReplacement()
    aug.augment_batch(warm_up, [example_rng(seed, i, 9) for i in range(len(warm_up))])
    out = {}
    for name in ("first_pass", "repeated_pass"):
        rngs = [example_rng(seed, i, 0) for i in range(len(texts))]
        start = time.perf_counter()
        aug.augment_batch(texts, rngs)
        out[name] = len(texts) / (time.perf_counter() - start)
    start = time.perf_counter()
    aug.augment_batch(texts, [example_rng(seed, i, 1) for i in range(len(texts))])
    out["repeated_pass_with_rngs"] = len(texts) / (time.perf_counter() - start)
    return {k: round(v, 1) for k, v in out.items()}


def run_stage(stage: str, path: Path, num_proc: int, out: Path, aug_texts: int) -> dict:
    """The measured work (runs in the child process)."""
    started = time.perf_counter()
    sys.path.insert(0, str(REPO))
    from nlp_balance import Balancer, load_text_dataset

    augmenter = None
    ds = load_text_dataset(str(path), split="train")
    loaded = time.perf_counter()
    speed: dict[str, dict[str, float]] = {}
    if stage == "synonym":
        from nlp_balance.augment import SynonymReplacement

        texts = ds.select_columns(["text"])[: aug_texts + 200]["text"]
        speed["before"] = augmenter_speed(texts[:aug_texts], texts[aug_texts:], seed=1)
        augmenter = SynonymReplacement()
    # load_from_cache_file=False: a rerun must not read the rounds of an earlier run from the cache
    balancer = Balancer(augmenter, "auto", seed=0, num_proc=num_proc, batch_size=1000, load_from_cache_file=False)
    began = time.perf_counter()
    balanced = balancer.fit_resample(ds)
    balanced_at = time.perf_counter()
    after_balance = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # KiB -> GiB
    balanced.to_parquet(str(out), batch_size=50_000)  # bounded batches: the default can be the whole split
    done = time.perf_counter()
    if stage == "synonym":
        speed["after"] = augmenter_speed(texts[:aug_texts], texts[aug_texts:], seed=2)
    return {
        "main_maxrss_after_balance_gib": round(after_balance, 3),
        "rows_in": len(ds), "rows_out": len(balanced), "load_s": round(loaded - started, 1),
        "fit_resample_s": round(balanced_at - began, 2), "write_s": round(done - balanced_at, 1),
        "total_s": round(done - started - (began - loaded), 1), "augmenter_texts_per_s": speed,
        "report": balancer.report_.to_dict(),
    }


TARGETS = {"ratio_20k": 0.70, "wall_1m_s": 120.0, "peak_gib": 2.0}
BEGIN, END = "<!-- scale.py:begin -->", "<!-- scale.py:end -->"


def balancer_vs_augmenter(row: dict) -> dict:
    """Balancer new rows/s per process over the augmenter's own texts/s (one process, same run)."""
    speeds = row["augmenter_texts_per_s"]
    per_proc = row["balancer_new_rows_per_s"] / row["num_proc"]
    out: dict = {"balancer_new_rows_per_s_per_process": round(per_proc, 1)}
    for name in ("first_pass", "repeated_pass"):
        aug = statistics.median(speeds[when][name] for when in ("before", "after") if when in speeds)
        out[f"augmenter_{name}_texts_per_s"] = round(aug, 1)
        out[f"ratio_to_{name}"] = round(per_proc / aug, 3)
    return out


def write_md(runs: list[dict], machine: dict, md: Path) -> None:
    """The generated section of scale.md: the synonym runs with the comparison from the latest
    invocation of the script, each run a line; the targets are judged on the median per row count."""
    compared = [r for r in runs if r["stage"] == "synonym" and "balancer_vs_augmenter" in r]
    last = compared[-1].get("invocation") if compared else None
    shown = [r for r in compared if r.get("invocation") == last]
    by_rows: dict[int, list[dict]] = {}
    for r in shown:
        by_rows.setdefault(r["rows"], []).append(r)

    def med(rows: int, get: Callable[[dict], float]) -> float:
        return statistics.median(get(r) for r in by_rows[rows])

    lines = [BEGIN, "", "## Balancer against its augmenter, same run (generated by `benchmarks/scale.py --md`)", ""]
    if not shown:
        lines += ["No run with the comparison yet.", "", END]
    else:
        lines += [
            f"Machine: {machine.get('cpus')} CPUs, {machine.get('platform')}; Python {machine.get('python')}, "
            f"datasets {machine.get('datasets')}, pyarrow {machine.get('pyarrow')}. Seeds: Balancer 0, "
            "augmenter timings 1 (before balancing) and 2 (after). The 1-minute load average before each stage "
            "is in the table; above the CPU count, other jobs shared the machine.",
            "",
            "*Balancer* is `Balancer(SynonymReplacement(), \"auto\", seed=0, num_proc=N, batch_size=1000)"
            ".fit_resample` (fresh augmenter, cold), new rows over the `fit_resample` seconds, divided by N for the "
            "per-process figure. *Augmenter* is `SynonymReplacement().augment_batch` alone in the same child "
            "process, one process, on the first texts of the same input (*timed texts*), generators built "
            "off the clock, median of the run before and the run after balancing: *first pass* is a fresh "
            "augmenter after a 200-text warm-up on other texts, *repeated* the same texts again (every word in "
            "its memo, as the Balancer's many copies of a minority text are). The ratio is the per-process "
            "Balancer figure over the augmenter's.",
            "",
            "| input rows | N | load (1 min) | new rows | fit_resample | Balancer rows/s | per process | "
            "timed texts | augmenter first pass /s | repeated /s | ratio to first | ratio to repeated | stage wall | "
            "peak PSS (tree) | peak RSS sum |",
            "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for r in sorted(shown, key=lambda r: r["rows"]):
            c = r["balancer_vs_augmenter"]
            lines.append(
                f"| {r['rows']:,} | {r['num_proc']} | {r['loadavg_before'][0]} | "
                f"{r['synthetic'] + r['duplicated']:,} | "
                f"{r['fit_resample_s']:.1f} s | {r['balancer_new_rows_per_s']:,.0f} | "
                f"{c['balancer_new_rows_per_s_per_process']:,.0f} | {r['aug_texts']:,} | "
                f"{c['augmenter_first_pass_texts_per_s']:,.0f} | "
                f"{c['augmenter_repeated_pass_texts_per_s']:,.0f} | {c['ratio_to_first_pass']:.0%} | "
                f"{c['ratio_to_repeated_pass']:.0%} | {r['wall_s']:.1f} s | {r['peak_pss_gib']:.2f} GiB | "
                f"{r['peak_rss_sum_gib']:.2f} GiB |"
            )
        def ratio(name: str) -> Callable[[dict], float]:
            return lambda r: r["balancer_vs_augmenter"][f"ratio_to_{name}"]

        lines += ["", "Targets of issue #18 (median over the runs above of each size):", ""]
        if 20_000 in by_rows:
            rep, first = med(20_000, ratio("repeated_pass")), med(20_000, ratio("first_pass"))
            met = rep >= TARGETS["ratio_20k"]
            lines.append(
                f"- Balancer against its augmenter at 20k rows, on this cold 2-process measure (worker start-up and "
                f"each worker's table load included, which 20k rows do not amortise): {rep:.0%} of the repeated "
                f"pass ({first:.0%} of the first pass), {'at or above' if met else 'far below'} the issue's "
                f"{TARGETS['ratio_20k']:.0%}. The issue's own measure (one process, warm augmenter, the one behind "
                f"its 24-34% before) is the in-process section further down."
            )
        if 1_000_000 in by_rows:
            wall = med(1_000_000, lambda r: r["wall_s"])
            fit = med(1_000_000, lambda r: r["fit_resample_s"])
            pss = max(r["peak_pss_gib"] for r in by_rows[1_000_000])
            rss = max(r["peak_rss_sum_gib"] for r in by_rows[1_000_000])
            mem_met = "met" if pss < TARGETS["peak_gib"] else "missed"
            lines += [
                f"- 1M-row synonym stage under {TARGETS['wall_1m_s']:.0f} s: "
                f"**{'met' if wall < TARGETS['wall_1m_s'] else 'missed'}**, {wall:.1f} s wall for the whole stage "
                f"(load, fit_resample {fit:.1f} s, write, and the augmenter timings); 341 s before.",
                f"- Peak memory under {TARGETS['peak_gib']:.0f} GB: **{mem_met}**"
                f", highest {pss:.2f} GiB PSS over the process tree (what the tree holds; the RSS sum, which counts "
                f"pages shared by the forked workers once per process, peaked at {rss:.2f} GiB).",
                f"- Ratio at 1M rows: {med(1_000_000, ratio('repeated_pass')):.0%} of the repeated pass "
                f"({med(1_000_000, ratio('first_pass')):.0%} of the first pass).",
            ]
        lines += ["", END]
    text = md.read_text() if md.exists() else ""
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        text = head + "\n".join(lines) + rest.split(END, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + "\n".join(lines) + "\n"
    md.write_text(text)


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
    parser.add_argument("--aug-texts", type=int, default=19_000, help="texts the augmenter alone is timed on")
    parser.add_argument("--repeats", type=int, default=1, help="runs of each stage, one after the other")
    parser.add_argument("--json", type=Path, help="append results to this JSON file")
    parser.add_argument("--md", type=Path, help="rewrite the generated section of this page (scale.md)")
    parser.add_argument("--report", action="store_true", help="only rewrite --md from --json, run nothing")
    parser.add_argument("--child", nargs=3, metavar=("STAGE", "INPUT", "OUTPUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        stage, path, out = args.child
        print(json.dumps(run_stage(stage, Path(path), args.num_proc, Path(out), args.aug_texts)))
        return
    if args.report:
        data = json.loads(args.json.read_text())
        write_md(data["runs"], data["machine"], args.md)
        return
    env = {**os.environ, "HF_DATASETS_CACHE": str(args.work / "hf_cache"), "TOKENIZERS_PARALLELISM": "false",
           "PYTHONPATH": str(REPO)}
    results = []
    invocation = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    for rows in args.rows:
        path = build_input(rows, args.work)
        for stage in [s for s in args.stages for _ in range(args.repeats)]:
            out = args.work / f"out_{stage}_{rows}.parquet"
            cmd = [sys.executable, __file__, "--num-proc", str(args.num_proc), "--aug-texts", str(args.aug_texts),
                   "--child", stage, str(path), str(out)]
            load = os.getloadavg()
            result, wall, peak = measure(cmd, env)
            row = {"stage": stage, "rows": rows, "num_proc": args.num_proc, "wall_s": round(wall, 1),
                   "loadavg_before": [round(x, 2) for x in load],
                   **{f"peak_{k}_gib": round(v, 3) for k, v in peak.items()},
                   **{k: v for k, v in result.items() if k != "report"},
                   "synthetic": sum(c["synthetic"] for c in result["report"]["classes"]),
                   "duplicated": sum(c["duplicated"] for c in result["report"]["classes"]),
                   "rounds": result["report"].get("rounds")}
            row["balancer_new_rows_per_s"] = round((row["synthetic"] + row["duplicated"]) / result["fit_resample_s"], 1)
            row["loadavg_after"] = [round(x, 2) for x in os.getloadavg()]
            row["date"] = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
            row["invocation"] = invocation
            row["seeds"] = {"balancer": 0, "augmenter_before": 1, "augmenter_after": 2}
            if stage == "synonym":
                row["aug_texts"] = min(args.aug_texts, rows - 200)
                row["balancer_vs_augmenter"] = balancer_vs_augmenter(row)
            print(json.dumps(row), flush=True)
            results.append(row)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        old = json.loads(args.json.read_text()) if args.json.exists() else {"runs": []}
        import datasets
        import pyarrow

        old["machine"] = {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform(),
                          "datasets": datasets.__version__, "pyarrow": pyarrow.__version__}
        old["runs"] += results
        args.json.write_text(json.dumps(old, indent=2) + "\n")
        if args.md:
            write_md(old["runs"], old["machine"], args.md)


if __name__ == "__main__":
    main()
