"""Recipe validation: errors name the key path and suggest the closest key; env vars and --set work."""

from __future__ import annotations

from pathlib import Path

import pytest

from nlp_balance.runs.recipe import RecipeError, apply_overrides, load_recipe, recipe_from_dict

REPO = Path(__file__).resolve().parents[2]


def _base(**changes):
    data = {"name": "t", "dataset": {"source": "data/demo"}, "training": {"learning_rate": 1e-4}}
    for key, value in changes.items():
        data[key] = value
    return data


def test_every_shipped_recipe_validates(monkeypatch):
    recipes = sorted((REPO / "recipes").glob("*.yaml"))
    assert recipes, "recipes/ holds no recipe"
    for path in recipes:
        recipe = load_recipe(path)
        assert recipe.name and "${" not in recipe.dataset.source
        text = path.read_text()
        assert text.lstrip().startswith("#"), f"{path.name} must start with a comment saying what it is for"
        assert "How long" in text or "how long" in text, f"{path.name} must say how long it takes"


@pytest.mark.parametrize(
    ("data", "match"),
    [
        (_base(trainning={}), r"unknown key 'trainning'; did you mean 'training'\?"),
        (
            _base(dataset={"source": "x", "text_colum": "t"}),
            r"unknown key 'dataset.text_colum'; did you mean 'text_column'",
        ),
        (_base(training={"learning_rat": 1e-4}), r"unknown key 'training.learning_rat'; did you mean 'learning_rate'"),
        (_base(training={"learning_rate": "fast"}), r"training.learning_rate must be a number, got 'fast'"),
        (_base(training={"num_train_epochs": -1}), r"training.num_train_epochs must be > 0"),
        (_base(training={"loss": "focal", "loss_params": {"gamma": -1}}), r"training.loss_params: .*gamma"),
        (
            _base(training={"class_weights": [0, 0, 0]}),
            r"training.class_weights must be non-negative numbers, not all zero",
        ),
        (
            _base(training={"class_weighting": "balance"}),
            r"training.class_weighting='balance' is not valid; use None or one of .*did you mean 'balanced'",
        ),
        (_base(training={"sampler": "uniform"}), r"training.sampler='uniform' is not valid; use None or one of"),
        (_base(training={"output_dir": "x"}), r"training.output_dir cannot be set in a recipe"),
        (_base(model={"max_length": "long"}), r"model.max_length must be an integer, got 'long'"),
        (_base(balancing={"augmenters": [{"name": "synonym"}]}), r"balancing.augmenters are given but"),
        (
            _base(balancing={"sampling_strategy": "auto", "augmenters": [{"nme": "synonym"}]}),
            r"unknown key 'balancing.augmenters\[0\].nme'; did you mean 'name'",
        ),
        (_base(output={"posthoc": "magic"}), r"output.posthoc: the rule must be one of \['class_offsets'"),
        (_base(seed="one"), r"seed must be an integer"),
        ({"dataset": {"source": "x"}}, r"missing required key\(s\): name"),
        (_base(name="bad name!"), r"name must be a non-empty string"),
        (
            _base(dataset={"source": "${NLPB_SURELY_UNSET_VAR}"}),
            r"dataset.source: environment variable NLPB_SURELY_UNSET_VAR",
        ),
    ],
)
def test_bad_recipes_name_the_key_path(data, match):
    with pytest.raises(RecipeError, match=match):
        recipe_from_dict(data)


def test_env_vars_defaults_and_overrides(monkeypatch, tmp_path):
    path = tmp_path / "r.yaml"
    path.write_text("name: r\ndataset:\n  source: ${NLPB_DATA:-fallback/data}\ntraining:\n  learning_rate: 1.0e-4\n")
    assert load_recipe(path).dataset.source == "fallback/data"
    monkeypatch.setenv("NLPB_DATA", "/elsewhere")
    recipe = load_recipe(
        path,
        [
            "training.learning_rate=3e-5",
            "balancing.sampling_strategy=not majority",
            "model.max_length=32",
            "output.baseline=true",
        ],
    )
    assert recipe.dataset.source == "/elsewhere"
    assert recipe.training["learning_rate"] == pytest.approx(3e-5)
    assert recipe.balancing.sampling_strategy == "not majority"
    assert recipe.model.max_length == 32 and recipe.output.baseline is True
    with pytest.raises(RecipeError, match=r"unknown key 'model\.max_lenght'; did you mean 'max_length'"):
        load_recipe(path, ["model.max_lenght=32"])


def test_invalid_yaml_and_unsafe_tags_are_errors(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\ndataset: [unclosed\n")
    with pytest.raises(RecipeError, match=r"not valid YAML at line \d+"):
        load_recipe(bad)
    unsafe = tmp_path / "unsafe.yaml"
    unsafe.write_text("name: !!python/object/apply:os.system ['echo hacked']\ndataset: {source: x}\n")
    with pytest.raises(RecipeError, match="not valid YAML"):
        load_recipe(unsafe)


def test_overrides_do_not_touch_the_input():
    raw = {"name": "x", "training": {"learning_rate": 1}}
    out = apply_overrides(raw, ["training.learning_rate=2"])
    assert raw["training"]["learning_rate"] == 1 and out["training"]["learning_rate"] == 2
