"""Run the quality benchmark grid and append one JSONL row per (dataset, method, seed); resumes.

    python -m benchmarks.quality.run --protocol fast                       # the whole fast grid
    python -m benchmarks.quality.run --protocol fast --datasets trec6 --methods ce focal_g2 --seeds 0 1
    python -m benchmarks.quality.run --protocol full --datasets sms_spam --methods ce --seeds 0

Rows already in the results file (same protocol, dataset, method, seed and parameters) are skipped,
so an interrupted run continues where it stopped when the same command is run again.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .methods import AUG_METHODS, LATE, LOSS_METHODS, METHODS
from .results_io import append_row, done_keys, read_rows, row_key
from .variants import DATASETS

RESULTS_DIR = Path(__file__).resolve().parent / "results"
DEFAULT_SEEDS = {"fast": (0, 1, 2, 3, 4), "full": (0, 1, 2), "converged": (0, 1, 2, 3, 4)}
# Cheap, small datasets first; davidson (25k texts) last so that a partial grid covers the rest.
DATASET_ORDER = ("trec6", "sms_spam", "trec6_lt10", "trec6_lt100", "davidson_hate")


def versions() -> dict[str, str]:
    """Library versions and the code revision recorded with every row."""
    import datasets
    import sklearn
    import torch
    import transformers

    import nlp_balance

    try:
        rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                             cwd=Path(__file__).resolve().parent, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        rev = ""
    return {"nlp_balance": nlp_balance.__version__, "torch": torch.__version__,
            "transformers": transformers.__version__, "datasets": datasets.__version__,
            "sklearn": sklearn.__version__, "numpy": np.__version__,
            "python": platform.python_version(), "git": rev}


@dataclass
class Prepared:
    """One dataset variant, loaded and embedded once per process."""

    name: str
    dd: Any
    names: list[str]
    counts: np.ndarray
    smallest: int
    emb: dict[str, np.ndarray]
    derived: dict[str, Any] = field(default_factory=dict)  # augmented sets, per method


class Session:
    """State of one invocation: results file, caches, timing and load."""

    def __init__(self, protocol: str, out: Path, max_epochs: int | None = None) -> None:
        self.protocol = protocol
        self.out = out
        self.rows = read_rows(out)
        self.done = done_keys(self.rows)
        self.t0 = time.time()
        self.session_id = time.strftime("%Y%m%dT%H%M%S", time.gmtime(self.t0))
        self.versions = versions()
        self.prepared: dict[str, Prepared] = {}
        self.max_epochs = max_epochs
        self._store = None

    @property
    def store(self):
        if self._store is None:
            from .embed import EmbeddingStore

            self._store = EmbeddingStore()
        return self._store

    def prepare(self, name: str, embed: bool = True) -> Prepared:
        if name not in self.prepared:
            from .variants import load_variant

            dd = load_variant(name)
            names = list(dd["train"].features["label"].names)
            counts = np.bincount(np.asarray(dd["train"]["label"]), minlength=len(names))
            smallest = int(np.argmin(counts))
            emb = {}
            if embed:
                emb = {s: self.store.embed(list(dd[s]["text"])) for s in ("train", "validation", "test")}
            self.prepared[name] = Prepared(name, dd, names, counts, smallest, emb)
        return self.prepared[name]

    def record(self, row: dict[str, Any]) -> None:
        row.update({
            "protocol": self.protocol,
            "versions": self.versions,
            "session": self.session_id,
            "session_elapsed_s": round(time.time() - self.t0, 2),
            "loadavg_1m": round(os.getloadavg()[0], 2),
            "cpu_count": os.cpu_count(),
            "timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        })
        if self._store is not None:
            row["session_embed_s"] = round(self._store.embed_seconds, 1)
            row["session_embedded_texts"] = self._store.embedded
        append_row(self.out, row)
        self.rows.append(row)
        self.done.add(row_key(row))


# -------------------------------------------------------------------------------------------------
# fast protocol
def _augmented(sess: Session, prep: Prepared, method: str) -> tuple[np.ndarray, np.ndarray, float]:
    """Train embeddings and labels after augmenting to the method's target (once per process)."""
    if method in prep.derived:
        return prep.derived[method]
    from nlp_balance import Balancer
    from nlp_balance.augment import EDA, SynonymReplacement

    spec = METHODS[method]
    t0 = time.perf_counter()
    aug_cls = {"synonym": SynonymReplacement, "eda": EDA}[spec["augmenter"]]
    balancer = Balancer(aug_cls(**spec["aug_params"]), sampling_strategy=spec["sampling_strategy"],
                        seed=spec["aug_seed"])
    out = balancer.fit_resample(prep.dd["train"])
    x = sess.store.embed(list(out["text"]))
    y = np.asarray(out["label"])
    prep.derived[method] = (x, y, time.perf_counter() - t0)
    return prep.derived[method]


def _best_by_val(sess: Session, dataset: str, candidates: tuple[str, ...]) -> str | None:
    means = {}
    for m in candidates:
        vals = [r["val_macro_f1"] for r in sess.rows
                if r["protocol"] == sess.protocol and r["dataset"] == dataset and r["method"] == m]
        if vals:
            means[m] = float(np.mean(vals))
    return max(means, key=means.get) if means else None


def resolve_params(sess: Session, dataset: str, method: str) -> dict[str, Any] | None:
    """The row's parameters; for ``aug_best_loss`` the validation-chosen parts (None: not yet known)."""
    spec = dict(METHODS[method])
    if spec["kind"] == "combo":
        loss = _best_by_val(sess, dataset, LOSS_METHODS)
        aug = _best_by_val(sess, dataset, AUG_METHODS)
        if loss is None or aug is None:
            return None
        spec.update({"loss_method": loss, "augment_method": aug})
    return spec


def _easy_ensemble(sess: Session, prep: Prepared, data: Any, params: dict[str, Any], seed: int,
                   loss_fn: Any) -> dict[str, Any]:
    """One head per EasyEnsemble subset (the library's subset rule); mean of their softmax outputs."""
    from nlp_balance.training.easy_ensemble import EasyEnsemble

    from . import fast

    ens = EasyEnsemble(n_members=params["n_members"], sampling_strategy=params["sampling_strategy"], seed=seed)
    members = ens.member_indices(prep.dd["train"])
    val_p, test_p, secs = 0.0, 0.0, 0.0
    for i, idx in enumerate(members):
        sub = fast.HeadData(data.x_train[idx], data.y_train[idx], data.x_val, data.y_val, data.x_test,
                            data.y_test, data.num_classes)
        r = fast.train_head(sub, loss_fn, seed * 1000 + i, per_example=True,
                            max_epochs=sess.max_epochs or fast.MAX_EPOCHS)
        val_p = val_p + fast.softmax(r["val_logits"]) / len(members)
        test_p = test_p + fast.softmax(r["test_logits"]) / len(members)
        secs += r["train_seconds"]
    val_f1 = fast._macro_f1(data.y_val, val_p.argmax(1), data.num_classes)
    return {"val_macro_f1": val_f1, "best_epoch": None, "val_logits": np.log(val_p), "test_logits": np.log(test_p),
            "train_seconds": secs, "epochs_run": sess.max_epochs or fast.MAX_EPOCHS,
            "member_sizes": [len(m) for m in members]}


def run_fast_one(sess: Session, prep: Prepared, method: str, params: dict[str, Any], seed: int) -> dict[str, Any]:
    import torch

    from nlp_balance import RandomOverSampler, build_loss, compute_class_weights
    from nlp_balance.evaluation.decision_rules import adjust_logits

    from . import fast

    k = len(prep.names)
    x_tr, y_tr = prep.emb["train"], np.asarray(prep.dd["train"]["label"])
    kind = params["kind"]
    loss_spec = params
    prep_s = 0.0
    if kind == "combo":
        x_tr, y_tr, prep_s = _augmented(sess, prep, params["augment_method"])
        loss_spec = METHODS[params["loss_method"]]
    elif kind == "augment":
        x_tr, y_tr, prep_s = _augmented(sess, prep, method)
    elif kind == "ros":
        ros = RandomOverSampler(sampling_strategy=params["sampling_strategy"], random_state=seed)
        ros.fit_resample(prep.dd["train"])
        x_tr, y_tr = x_tr[ros.sample_indices_], y_tr[ros.sample_indices_]
    elif kind == "smote":
        from nlp_balance.resampling import EmbeddingSMOTE

        sm = EmbeddingSMOTE(sampling_strategy=params["sampling_strategy"], k_neighbors=params["k_neighbors"],
                            random_state=seed)
        x_tr, y_tr = sm.fit_resample(x_tr, y_tr)
    xs = fast.standardise(prep.emb["train"], x_tr, prep.emb["validation"], prep.emb["test"])
    data = fast.HeadData(xs[1], y_tr, xs[2], np.asarray(prep.dd["validation"]["label"]), xs[3],
                         np.asarray(prep.dd["test"]["label"]), k)
    counts = np.bincount(y_tr, minlength=k)
    per_example, drw, sampler_mode = True, None, None
    lkind = loss_spec["kind"]
    if lkind == "hand_weighted_ce":
        from sklearn.utils.class_weight import compute_class_weight

        w = compute_class_weight("balanced", classes=np.arange(k), y=y_tr)
        loss_fn = torch.nn.CrossEntropyLoss(weight=torch.tensor(w, dtype=torch.float32))
        per_example = False
    elif lkind == "loss":
        weights = None
        if "weights" in loss_spec:
            weights = compute_class_weights(y_tr, loss_spec["weights"], num_classes=k)
        loss_fn = build_loss(loss_spec["loss"], num_classes=k, class_weights=weights, class_counts=counts,
                             reduction="none", **loss_spec.get("params", {}))
        if "drw" in loss_spec:
            d = loss_spec["drw"]
            w = compute_class_weights(y_tr, d["weights"], beta=d["beta"], num_classes=k, normalize="classes")
            epochs = sess.max_epochs or fast.MAX_EPOCHS
            drw = (int(d["start_fraction"] * epochs), torch.tensor(w, dtype=torch.float32))
    else:  # ce underneath: sampler, ros, augment, posthoc, smote
        loss_fn = build_loss("ce", num_classes=k, reduction="none")
        if lkind == "sampler":
            sampler_mode = loss_spec["mode"]
    if kind == "easy_ensemble":
        res = _easy_ensemble(sess, prep, data, params, seed, loss_fn)
    else:
        res = fast.train_head(data, loss_fn, seed, per_example=per_example, sampler_mode=sampler_mode, drw=drw,
                              max_epochs=sess.max_epochs or fast.MAX_EPOCHS)
    test_logits = res["test_logits"]
    extra: dict[str, Any] = {}
    if kind == "posthoc":
        tau = params["tau"]
        if tau == "val":
            tau = fast.tune_tau(res["val_logits"], data.y_val, counts, k)
        extra["tau_used"] = tau
        test_logits = adjust_logits(test_logits, counts, tau=float(tau))
        val_adjusted = adjust_logits(res["val_logits"], counts, tau=float(tau))
        extra["val_macro_f1_unadjusted"] = res["val_macro_f1"]
        res["val_macro_f1"] = fast._macro_f1(data.y_val, val_adjusted.argmax(1), k)
    row = {"dataset": prep.name, "method": method, "params": params, "seed": seed,
           **fast.evaluate_logits(test_logits, data.y_test, prep.names, prep.smallest),
           "val_macro_f1": res["val_macro_f1"], "best_epoch": res["best_epoch"], "epochs": res["epochs_run"],
           "train_seconds": round(res["train_seconds"], 3), "prep_seconds": round(prep_s, 2),
           "n_train": len(y_tr), "train_counts": counts.tolist(),
           "original_train_counts": prep.counts.tolist(), **extra}
    if "member_sizes" in res:
        row["member_sizes"] = res["member_sizes"]
    return row


def run_grid(sess: Session, datasets: list[str], methods: list[str], seeds: list[int]) -> None:
    early = [m for m in methods if m not in LATE]
    late = [m for m in methods if m in LATE]
    # The first three seeds of everything come before the last two, so a partial grid is usable.
    seed_groups = [seeds[:3], seeds[3:]] if len(seeds) > 3 else [seeds]
    for seed_group in seed_groups:
        for phase in (early, late):
            run_phase(sess, [d for d in DATASET_ORDER if d in datasets], phase, seed_group)


def run_phase(sess: Session, datasets: list[str], methods: list[str], seeds: list[int]) -> None:
    """Run every missing (dataset, method, seed) of one phase, appending a row after each run."""
    for ds in datasets:
        for method in methods:
            for seed in seeds:
                params = resolve_params(sess, ds, method) if sess.protocol == "fast" else None
                if sess.protocol == "fast" and params is None:
                    print(f"skip {ds}/{method}: needs the loss and augmentation rows first", flush=True)
                    break
                if sess.protocol == "full":
                    from .full import full_params

                    params = full_params(ds, method)
                elif sess.protocol == "converged":
                    from .converged import converged_params

                    params = converged_params(ds, method)
                key = row_key({"protocol": sess.protocol, "dataset": ds, "method": method, "seed": seed,
                               "params": params})
                if key in sess.done:
                    continue
                t0 = time.perf_counter()
                if sess.protocol == "fast":
                    row = run_fast_one(sess, sess.prepare(ds), method, params, seed)
                elif sess.protocol == "converged":
                    from .converged import run_converged_one

                    row = run_converged_one(sess.prepare(ds, embed=False), method, params, seed)
                else:
                    from .full import run_full_one

                    row = run_full_one(sess.prepare(ds, embed=False), method, params, seed)
                row["wall_seconds"] = round(time.perf_counter() - t0, 2)
                posthoc = row.pop("posthoc_la", None)
                sess.record(row)
                if posthoc is not None:  # the full protocol's CE model, its test logits adjusted (tau 1)
                    sess.record({**row, **posthoc, "method": "posthoc_la", "tau_used": 1.0, "val_macro_f1": None,
                                 "val_history": None})
                print(f"{ds:14s} {method:26s} seed {seed}: macro-F1 {row['macro_f1']:.4f} "
                      f"smallest {row['smallest_class_f1']:.4f} (epoch {row['best_epoch']}, "
                      f"{row['wall_seconds']:.1f} s, load {row['loadavg_1m']})", flush=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--protocol", choices=("fast", "full", "converged"), default="fast")
    ap.add_argument("--datasets", nargs="+", default=list(DATASET_ORDER), choices=DATASETS)
    ap.add_argument("--methods", nargs="+", default=None, help=f"default: all; known: {', '.join(METHODS)}")
    ap.add_argument("--seeds", nargs="+", type=int, default=None)
    ap.add_argument("--out", type=Path, default=None, help="results file (default results/<protocol>.jsonl)")
    ap.add_argument("--max-epochs", type=int, default=None,
                    help="fast protocol: full-batch steps per head (default 100)")
    args = ap.parse_args(argv)
    if args.protocol == "full":
        from .full import FULL_METHODS

        methods = args.methods or list(FULL_METHODS)
        unknown = [m for m in methods if m not in FULL_METHODS]
    elif args.protocol == "converged":
        from .converged import METHODS as CONVERGED_METHODS

        methods = args.methods or list(CONVERGED_METHODS)
        unknown = [m for m in methods if m not in CONVERGED_METHODS]
    else:
        methods = args.methods or list(METHODS)
        unknown = [m for m in methods if m not in METHODS]
    if unknown:
        ap.error(f"unknown method(s) {unknown} for protocol {args.protocol}")
    seeds = args.seeds if args.seeds is not None else list(DEFAULT_SEEDS[args.protocol])
    out = args.out or RESULTS_DIR / f"{args.protocol}.jsonl"
    sess = Session(args.protocol, out, max_epochs=args.max_epochs)
    print(json.dumps({"protocol": args.protocol, "datasets": args.datasets, "methods": methods,
                      "seeds": seeds, "out": str(out), "rows_present": len(sess.rows)}), flush=True)
    run_grid(sess, args.datasets, methods, seeds)
    print(f"done in {time.time() - sess.t0:.1f} s; {len(sess.rows)} rows in {out}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
