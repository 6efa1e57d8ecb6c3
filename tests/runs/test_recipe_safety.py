"""Safety of what a recipe can make the package do: YAML is read safely (no tag runs code, nothing is
unpickled), and trust_remote_code is off unless the user turns it on. Both are checked over the whole
package source, since a recipe reaches data loading, models, the classifier and back-translation."""

from __future__ import annotations

import importlib
import inspect
import re
from pathlib import Path

import yaml

from nlp_balance import load_text_dataset

REPO = Path(__file__).resolve().parents[2]


def test_recipes_and_cli_values_use_safe_yaml_only():
    for path in (REPO / "nlp_balance").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert "yaml.unsafe_load" not in text and "UnsafeLoader" not in text, path
        assert "pickle.load" not in text, f"{path} unpickles data"
        # yaml.load only with a Loader that is a yaml.SafeLoader (e.g. one that refuses duplicate keys)
        for call in re.finditer(r"yaml\.load\(([^)]*)\)", text):
            loader = re.search(r"Loader=([A-Za-z_][\w.]*)", call.group(1))
            assert loader, f"{path}: {call.group(0)} names no Loader"
            module = importlib.import_module(".".join(path.relative_to(REPO).with_suffix("").parts))
            cls = module
            for part in loader.group(1).split("."):
                cls = getattr(cls, part)
            assert isinstance(cls, type) and issubclass(cls, yaml.SafeLoader), f"{path}: {call.group(0)}"


def test_trust_remote_code_is_off_unless_asked():
    from nlp_balance.augment.backtranslate import BackTranslation
    from nlp_balance.evaluation.classifier import load_classifier
    from nlp_balance.runs.recipe import ModelConfig

    assert ModelConfig().trust_remote_code is False
    assert inspect.signature(load_text_dataset).parameters["trust_remote_code"].default is False
    assert inspect.signature(load_classifier).parameters["trust_remote_code"].default is False
    params = inspect.signature(BackTranslation.__init__).parameters
    if "trust_remote_code" in params:
        assert params["trust_remote_code"].default is False
    for path in (REPO / "nlp_balance").rglob("*.py"):
        assert "trust_remote_code=True" not in path.read_text(encoding="utf-8"), path
