"""load_recipe on a bad recipe file: one RecipeError that names the key path (or the YAML line)."""

from __future__ import annotations

import pytest

from nlp_balance.runs.recipe import RecipeError, load_recipe


@pytest.mark.parametrize(
    ("body", "pattern"),
    [
        ("name: x\ndataset: {source: d\n", r"not valid YAML at line"),
        ("name: x\ndataset: {source: d}\nbalancing: {sampling_stratgy: auto}\n",
         r"unknown key 'balancing.sampling_stratgy'; did you mean 'sampling_strategy'"),
        ("name: x\ndataset: {source: d}\nmodel: {max_length: long}\n", r"model.max_length must be an integer"),
        ("name: x\ndataset: {source: d}\ntraining: {learning_rate: -1}\n", r"training.learning_rate must be > 0"),
        ("name: x\ndataset: {source: d}\ntraining: {loss: focal, loss_params: {gamma: -1}}\n",
         r"training.loss_params: .*gamma"),
        ("name: x\ndataset: {source: d}\ntraining: {class_weights: [0, 0]}\n",
         r"training.class_weights must be non-negative numbers, not all zero"),
        ("name: x\ndataset: {source: d}\ntraining: {class_weights: [1, -2]}\n", r"training.class_weights"),
        ("!!python/object/apply:os.system [echo pwned]\n", r"not valid YAML"),
    ],
    ids=["invalid_yaml", "unknown_key", "wrong_type", "out_of_range", "negative_gamma", "zero_weights",
         "negative_weight", "unsafe_tag"],
)
def test_recipe_errors_name_the_key_path(tmp_path, body, pattern):
    path = tmp_path / "r.yaml"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(RecipeError, match=pattern):
        load_recipe(path)
