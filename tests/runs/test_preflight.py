"""Checks before training: what --dry-run and run_recipe refuse, and what they report when all is well."""

from __future__ import annotations

from pathlib import Path

import pytest

from nlp_balance.cli.main import main
from nlp_balance.runs import RecipeError, preflight, recipe_from_dict

DEMO = Path(__file__).resolve().parents[2] / "data" / "demo"


def _recipe(tmp_path, model_dir, **sections):
    data = {"name": "pf", "dataset": {"source": str(DEMO)}, "model": {"name_or_path": str(model_dir)},
            "output": {"dir": str(tmp_path / "run")}}
    for key, value in sections.items():
        data[key] = {**data.get(key, {}), **value} if isinstance(value, dict) else value
    return recipe_from_dict(data)


def test_a_good_recipe_reports_classes_counts_and_targets(tmp_path, tiny_bert_dir):
    recipe = _recipe(tmp_path, tiny_bert_dir, balancing={"sampling_strategy": {"security_fraud": 100},
                                                          "undersample": {"delivery": 300}})
    report = preflight(recipe)
    assert report["classes"][0] == "account_access" and sum(report["train_counts"].values()) == 1440
    assert report["balancing_targets"]["security_fraud"] == 100
    assert report["undersample_targets"]["delivery"] == 300
    assert not (tmp_path / "run").exists()  # nothing written


@pytest.mark.parametrize(("sections", "pattern"), [
    ({"balancing": {"sampling_strategy": {"nope": 10}}}, r"balancing.sampling_strategy: .*'nope'"),
    ({"balancing": {"sampling_strategy": {"delivery": 10}}}, r"balancing.sampling_strategy"),
    ({"balancing": {"undersample": {"delivery": 5000}}}, r"balancing.undersample"),
    ({"balancing": {"sampling_strategy": "auto", "augmenters": [{"name": "eda", "params": {"nope": 1}}]}},
     r"balancing.augmenters: augmenter 'eda' does not take"),
    ({"model": {"aux_head": {"minority_classes": ["nope"]}}}, r"model.aux_head.minority_classes names unknown"),
    ({"training": {"class_weights": [1, 2]}}, r"training.class_weights has 2 entries but the data has 6"),
    ({"training": {"class_weights": {"nope": 2.0}}}, r"training.class_weights names unknown classes"),
])
def test_problems_that_only_the_data_reveals_fail_before_training(tmp_path, tiny_bert_dir, sections, pattern):
    with pytest.raises(RecipeError, match=pattern):
        preflight(_recipe(tmp_path, tiny_bert_dir, **sections))


def test_a_model_folder_without_tokenizer_files_is_refused(tmp_path, tiny_bert_dir):
    bare = tmp_path / "bare"
    bare.mkdir()
    (bare / "config.json").write_text((tiny_bert_dir / "config.json").read_text())
    with pytest.raises(RecipeError, match="has no tokenizer files"):
        preflight(_recipe(tmp_path, bare))


def test_dry_run_prints_the_checks_and_trains_nothing(tmp_path, tiny_bert_dir, capsys):
    path = tmp_path / "r.yaml"
    path.write_text(f"name: pf\ndataset: {{source: {DEMO}}}\nmodel: {{name_or_path: {tiny_bert_dir}}}\n"
                    f"balancing: {{sampling_strategy: not majority}}\noutput: {{dir: {tmp_path / 'run'}}}\n")
    assert main(["train", str(path), "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "# balancing_targets: {" in out and "# checks passed" in out
    assert not (tmp_path / "run").exists()


def test_method_auto_without_optuna_is_refused_before_training(tmp_path, tiny_bert_dir, monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "optuna" else real(name, *a))
    with pytest.raises(RecipeError, match=r"method: auto searches with Optuna.*nlp_balance\[tune\]"):
        preflight(_recipe(tmp_path, tiny_bert_dir, method="auto"))
    assert not (tmp_path / "run").exists()
