"""`nlp-balance train` end to end on a tiny local model: every artefact written, valid, and reproducible."""

from __future__ import annotations

import json
from html.parser import HTMLParser
from pathlib import Path

import pytest
from PIL import Image

from nlp_balance.cli.main import main


def _write_recipe(path: Path, model_dir: Path, run_dir: Path, shared: Path, **training) -> Path:
    train = {
        "num_train_epochs": 1,
        "per_device_train_batch_size": 16,
        "learning_rate": 5e-3,
        "logging_steps": 2,
        "loss": "focal",
        "class_weighting": "balanced",
        **training,
    }
    lines = [
        "# test recipe. How long: seconds.",
        "name: tiny",
        "seed: 7",
        "dataset:",
        f"  source: {shared / 'trec6'}",
        "  max_train_samples: 240",
        "balancing:",
        "  sampling_strategy: {ABBR: 40}",
        "  augmenters: [{name: random_swap, params: {aug_p: 0.3}}]",
        "model:",
        f"  name_or_path: {model_dir}",
        "  max_length: 24",
        "training:",
        *[f"  {k}: {json.dumps(v)}" for k, v in train.items()],
        "output:",
        f"  dir: {run_dir}",
        "  baseline: true",
        "  posthoc: logit_adjustment",
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


class _Checker(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.images = 0
        self.errors: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "img":
            src = dict(attrs).get("src", "")
            self.images += src.startswith("data:image/png;base64,")
        elif tag not in ("meta", "br", "hr", "link", "input"):
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if tag in ("meta", "br", "hr", "link", "input", "img"):
            return
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"unbalanced </{tag}>")
        else:
            self.stack.pop()


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory, tiny_bert_dir, shared_data):
    root = tmp_path_factory.mktemp("runs")
    recipe = _write_recipe(root / "tiny.yaml", tiny_bert_dir, root / "run", shared_data)
    assert main(["train", str(recipe)]) == 0
    return recipe, root / "run"


def test_train_writes_every_artefact(trained_run):
    _, run = trained_run
    for folder in (run, run / "baseline"):
        for name in (
            "recipe.yaml",
            "run_info.json",
            "distribution.json",
            "metrics.json",
            "confusion_matrix.json",
            "log_history.json",
            "predictions.jsonl",
            "report.md",
            "report.html",
        ):
            assert (folder / name).is_file(), f"{folder / name} missing"
        assert (folder / "model" / "config.json").is_file()
        assert not (folder / "checkpoints").exists()
        pngs = sorted((folder / "plots").glob("*.png"))
        assert len(pngs) >= 4
        for png in pngs:
            with Image.open(png) as img:
                img.verify()
        checker = _Checker()
        checker.feed((folder / "report.html").read_text())
        assert not checker.errors and checker.images >= 4
    metrics = json.loads((run / "metrics.json").read_text())
    assert {"macro_f1", "balanced_accuracy", "f1_abbr", "recall_abbr"} <= set(metrics["test"])
    info = json.loads((run / "run_info.json").read_text())
    assert info["kind"] == "balanced" and info["loss"] == "focal" and info["class_weights"]
    assert json.loads((run / "baseline" / "run_info.json").read_text())["kind"] == "baseline"
    dist = json.loads((run / "distribution.json").read_text())
    assert dist["after"]["train"]["counts"]["ABBR"] == 40 > dist["before"]["train"]["counts"]["ABBR"]
    assert dist["before"]["test"]["rows"] == 500  # the test split is never changed
    rows = (run / "predictions.jsonl").read_text().splitlines()
    assert len(rows) == 500 and set(json.loads(rows[0])) == {"text", "label", "prediction", "probabilities"}
    # What the augmenter wrote: a few ABBR rows beside their sources, shown in the report; the baseline has none.
    examples = json.loads((run / "augmentation_examples.json").read_text())["classes"]
    abbr = next(c for c in examples if c["label"] == "ABBR")
    assert 0 < len(abbr["pairs"]) <= 5 and abbr["added"] == 40 - dist["before"]["train"]["counts"]["ABBR"]
    assert all(p["augmentation"] == "random_swap" and p["source"] != p["synthetic"] for p in abbr["pairs"])
    assert "## What augmentation wrote" in (run / "report.md").read_text()
    assert not (run / "baseline" / "augmentation_examples.json").exists()


@pytest.mark.slow  # over 25 s here: in CI's slow phase
def test_same_recipe_and_seed_give_the_same_metrics(trained_run, tmp_path):
    recipe, run = trained_run
    assert main(["train", str(recipe), "--no-baseline", f"--set=output.dir={tmp_path / 'again'}"]) == 0
    first = json.loads((run / "metrics.json").read_text())["test"]
    second = json.loads((tmp_path / "again" / "metrics.json").read_text())["test"]
    assert first == second


def test_compare_predict_and_evaluate_read_the_run(trained_run, capsys, shared_data):
    _, run = trained_run
    assert main(["compare", str(run)]) == 0
    table = capsys.readouterr().out
    assert "macro" in table.lower() and "abbr" in table.lower()
    assert main(["predict", str(run / "model"), "What does NASA stand for ?", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out[0]["label"] in out[0]["probabilities"]
    assert main(["evaluate", str(run / "model"), str(shared_data / "trec6"), "--json"]) == 0
    evaluated = json.loads(capsys.readouterr().out)
    saved = json.loads((run / "metrics.json").read_text())["test"]
    # the saved post-hoc adjustment is applied once, by predict/evaluate as in training's test metrics
    assert (run / "model" / "posthoc.json").is_file()
    assert evaluated["macro_f1"] == pytest.approx(saved["macro_f1"], abs=1e-9)


@pytest.mark.slow  # over 25 s here: in CI's slow phase
def test_aux_head_recipe_trains_and_saves_a_plain_classifier(tmp_path, tiny_bert_dir, shared_data):
    from nlp_balance.evaluation.classifier import load_classifier

    recipe = _write_recipe(tmp_path / "aux.yaml", tiny_bert_dir, tmp_path / "run", shared_data)
    text = recipe.read_text().replace(
        "  max_length: 24\n", "  max_length: 24\n  aux_head: {type: minority_vs_majority}\n"
    )
    recipe.write_text(text.replace("  baseline: true\n", "  baseline: false\n"))
    assert main(["train", str(recipe)]) == 0
    clf = load_classifier(tmp_path / "run" / "model")
    saved = json.loads((tmp_path / "run" / "metrics.json").read_text())["test"]
    from nlp_balance import load_text_dataset

    test = load_text_dataset(shared_data / "trec6", split="test")
    assert clf.evaluate(test)["macro_f1"] == pytest.approx(saved["macro_f1"], abs=1e-9)


def _custom_column_data(folder: Path, shared: Path) -> Path:
    """trec6 rows with the text in `body` and the label in `category` (and an extra column)."""
    folder.mkdir(parents=True)
    for split, n in (("train", 300), ("test", 120)):
        rows = [json.loads(line) for line in (shared / "trec6" / f"{split}.jsonl").read_text().splitlines()[:n]]
        if split == "train":  # keep a few of the rare class in both splits
            rows += [json.loads(line) for line in (shared / "trec6" / "train.jsonl").read_text().splitlines()
                     if '"ABBR"' in line][:12]
        with open(folder / f"{split}.jsonl", "w", encoding="utf-8") as fh:
            for i, row in enumerate(rows):
                fh.write(json.dumps({"id": i, "body": row["text"], "category": row["label"]}) + "\n")
    return folder


@pytest.mark.parametrize("method", ["single", pytest.param("easy_ensemble", marks=pytest.mark.slow)])
def test_custom_text_and_label_columns_train_evaluate_predict_and_report(tmp_path, tiny_bert_dir, shared_data,
                                                                       method, capsys):
    data = _custom_column_data(tmp_path / "data", shared_data)
    run = tmp_path / "run"
    recipe = tmp_path / "custom.yaml"
    recipe.write_text("\n".join([
        "name: custom", "seed: 5", f"method: {method}", "ensemble: {n_members: 2}",
        "dataset:", f"  source: {data}", "  text_column: body", "  label_column: category",
        "balancing:", "  sampling_strategy: not majority", "  undersample: null",
        "model:", f"  name_or_path: {tiny_bert_dir}", "  max_length: 24",
        "training: {num_train_epochs: 1, per_device_train_batch_size: 16, learning_rate: 5.0e-3,",
        "           class_weighting: balanced, loss: weighted_ce}",
        "output:", f"  dir: {run}", "  baseline: true",
    ]) + "\n")
    assert main(["train", str(recipe)]) == 0
    info = json.loads((run / "run_info.json").read_text())
    assert info["method"] == method and "ABBR" in info["label_names"]
    assert (run / "report.html").is_file() and (run / "baseline" / "report.html").is_file()
    test_rows = sum(json.loads((run / "metrics.json").read_text())["test"][f"support_{k}"]
                    for k in ("abbr", "desc", "enty", "hum", "loc", "num"))
    assert test_rows == 120
    capsys.readouterr()
    assert main(["evaluate", str(run), str(data), "--text-column", "body", "--label-column", "category",
                 "--max-length", "24", "--json"]) == 0
    evaluated = json.loads(capsys.readouterr().out)
    assert evaluated["macro_f1"] == pytest.approx(json.loads((run / "metrics.json").read_text())["test"]["macro_f1"])
    assert main(["predict", str(run), "What does NASA stand for ?", "--max-length", "24"]) == 0
    assert capsys.readouterr().out.split("\t")[0] in info["label_names"]


@pytest.mark.slow  # over 25 s here: in CI's slow phase
def test_an_interrupted_run_keeps_the_previous_run_folder(tmp_path, tiny_bert_dir, shared_data, monkeypatch):
    recipe = tmp_path / "r.yaml"
    run = tmp_path / "run"
    recipe.write_text("\n".join([
        "name: keep", "seed: 3", "dataset:", f"  source: {shared_data / 'sms_spam'}", "  max_train_samples: 80",
        "model:", f"  name_or_path: {tiny_bert_dir}", "  max_length: 16",
        "training: {num_train_epochs: 1, per_device_train_batch_size: 16}", "output:", f"  dir: {run}",
    ]) + "\n")
    assert main(["train", str(recipe)]) == 0
    before = {p.relative_to(run): p.read_bytes() for p in run.rglob("*") if p.is_file()}

    from nlp_balance.training import BalancedTrainer

    def interrupted(self, *args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(BalancedTrainer, "train", interrupted)
    assert main(["train", str(recipe)]) == 130
    after = {p.relative_to(run): p.read_bytes() for p in run.rglob("*") if p.is_file()}
    assert after == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".tmp-")] == []
