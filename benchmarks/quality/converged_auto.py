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
                 "floor": params["floor"], "select": params.get("auto_select", "best")},
        "dataset": {"source": source},
        "model": {"max_length": params["max_length"]},
        "training": {"learning_rate": params["lr"], "num_train_epochs": params["max_epochs"],
                     "per_device_train_batch_size": params["batch_size"], "per_device_eval_batch_size": 64,
                     "early_stopping_patience": params["patience"], "use_cpu": True,
                     "disable_tqdm": True, "logging_strategy": "no"},
        "output": {"dir": out_dir, "posthoc": None, "baseline": False, "save_model": True},
    }


def _logits_of(model_dir: str, prep: Any, max_length: int) -> tuple[np.ndarray, np.ndarray]:
    """Validation and test logits of a saved model (or checkpoint), in the splits' own order."""
    from nlp_balance.evaluation import load_classifier

    classifier = load_classifier(model_dir, max_length=max_length)
    classifier.posthoc = None
    return (np.asarray(classifier.logits(list(prep.dd["validation"]["text"])), np.float32),
            np.asarray(classifier.logits(list(prep.dd["test"]["text"])), np.float32))


def auto_logits(prep: Any, params: dict[str, Any], seed: int) -> dict[str, Any]:
    """Run ``method: auto`` on the variant; validation/test logits of the model it chose, and what it tried.

    The run's ``select`` rule picks the model. The other rule's pick comes from the same search: a
    hook around :func:`nlp_balance.runs.auto.select_candidates` reads its logits while the trial
    checkpoints still exist, and the result carries them under ``other_select`` (the runner caches
    them as that rule's row), so both rules are scored from one search without training twice.
    """
    from unittest import mock

    from transformers.utils import logging as hf_logging

    import nlp_balance.runs.auto as auto_module
    from nlp_balance.runs import recipe_from_dict, run_recipe

    select = params.get("auto_select", "best")
    other = "one_standard_error" if select == "best" else "best"
    picked: dict[str, Any] = {}
    choose = auto_module.select_candidates

    def recording(rows: list[dict[str, Any]], standard_error: Any) -> tuple[dict, dict, float]:
        best, within, se = choose(rows, standard_error)
        row = within if other == "one_standard_error" else best
        picked.update(row={k: row[k] for k in ("data", "candidate", "validation")}, standard_error=se)
        picked["logits"] = _logits_of(row["checkpoint"], prep, params["max_length"])
        return best, within, se

    hf_logging.set_verbosity_error()
    with tempfile.TemporaryDirectory() as tmp:
        source = str(Path(tmp) / "data")
        prep.dd.save_to_disk(source)
        recipe = recipe_from_dict(auto_recipe(source, str(Path(tmp) / "run"), params, seed))
        t0 = time.perf_counter()
        with mock.patch.object(auto_module, "select_candidates", recording):
            result = run_recipe(recipe)
        seconds = time.perf_counter() - t0
        info = json.loads((Path(result.run_dir) / "run_info.json").read_text())
        val_logits, test_logits = _logits_of(str(Path(result.run_dir) / "model"), prep, params["max_length"])
    summary = info["auto"]
    winner = summary["winner"]
    details = {k: summary[k] for k in ("winner", "candidates", "select", "standard_error", "highest",
                                       "within_one_standard_error") if k in summary}
    out = {"val_logits": val_logits, "test_logits": test_logits,
           "val_history": [], "best_epoch": None, "val_macro_f1": float(winner["validation"]),
           "train_seconds": seconds, "epochs_run": None, "order": "dataset", "auto": details}
    if picked:
        other_val, other_test = picked["logits"]
        out["other_select"] = {"select": other, "val_logits": other_val, "test_logits": other_test,
                               "meta": {**{k: v for k, v in out.items() if not k.endswith("_logits")},
                                        "val_macro_f1": float(picked["row"]["validation"]),
                                        "auto": {**details, "winner": picked["row"], "select": other}}}
    return out
