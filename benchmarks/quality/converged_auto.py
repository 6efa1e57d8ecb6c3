"""``method: auto`` in the converged protocol: the library's own runner, on the variant's splits.

The variant (train / validation / test, validation carved from train exactly as for every other
row) is written to a temporary folder and run as a recipe with ``method: auto``. Each candidate
gets the protocol's budget (the dataset's maximum epochs, early stopping after ``PATIENCE``
epochs without a validation macro-F1 gain, best epoch kept), so ``auto`` is held to the same rule
as the bars. The row's cost is the whole search: every trial plus the scoring. The decision rule
is left to the protocol's ``auto_class_offsets`` row, fitted like the others on validation logits.
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np


def auto_recipe(source: str, out_dir: str, params: dict[str, Any], seed: int) -> dict[str, Any]:
    """The recipe (as a dict) that runs ``method: auto`` with the protocol's budget and settings."""
    return {
        "name": "converged-auto", "seed": seed, "method": "auto",
        "auto": {"portfolio": list(params["portfolio"]), "epochs_per_trial": params["max_epochs"],
                 "floor": params["floor"]},
        "dataset": {"source": source},
        "model": {"max_length": params["max_length"]},
        "training": {"learning_rate": params["lr"], "num_train_epochs": params["max_epochs"],
                     "per_device_train_batch_size": params["batch_size"], "per_device_eval_batch_size": 64,
                     "early_stopping_patience": params["patience"], "use_cpu": True,
                     "disable_tqdm": True, "logging_strategy": "no"},
        "output": {"dir": out_dir, "posthoc": None, "baseline": False, "save_model": True},
    }


def auto_logits(prep: Any, params: dict[str, Any], seed: int) -> dict[str, Any]:
    """Run ``method: auto`` on the variant; validation/test logits of the model it chose, and what it tried."""
    from transformers.utils import logging as hf_logging

    from nlp_balance.evaluation import load_classifier
    from nlp_balance.runs import recipe_from_dict, run_recipe

    hf_logging.set_verbosity_error()
    with tempfile.TemporaryDirectory() as tmp:
        source = str(Path(tmp) / "data")
        prep.dd.save_to_disk(source)
        recipe = recipe_from_dict(auto_recipe(source, str(Path(tmp) / "run"), params, seed))
        t0 = time.perf_counter()
        result = run_recipe(recipe)
        seconds = time.perf_counter() - t0
        info = json.loads((Path(result.run_dir) / "run_info.json").read_text())
        classifier = load_classifier(str(Path(result.run_dir) / "model"), max_length=params["max_length"])
        classifier.posthoc = None
        val_logits = classifier.logits(list(prep.dd["validation"]["text"]))
        test_logits = classifier.logits(list(prep.dd["test"]["text"]))
    summary = info["auto"]
    winner = summary["winner"]
    return {"val_logits": np.asarray(val_logits, np.float32), "test_logits": np.asarray(test_logits, np.float32),
            "val_history": [], "best_epoch": None, "val_macro_f1": float(winner["validation"]),
            "train_seconds": seconds, "epochs_run": None, "order": "dataset",
            "auto": {"winner": winner, "candidates": summary["candidates"]}}
