"""Tests for nlp_balance.reporting.run_folder: the run-folder layout, its reader and its writers."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import pytest
from report_fixtures import make_run, read_jsonl, trec_data
from sklearn.metrics import confusion_matrix

import nlp_balance.reporting as reporting
from nlp_balance.data.distribution import ClassDistribution
from nlp_balance.evaluation.metrics import compute_imbalance_metrics
from nlp_balance.reporting import run_folder
from nlp_balance.reporting.run_folder import (
    baseline_run_dir,
    check_same_labels,
    load_run,
    read_metrics,
    run_dir_of_model,
    write_confusion_matrix,
    write_distribution,
    write_log_history,
    write_metrics,
    write_predictions,
    write_recipe,
    write_run_info,
)

NAMES = ["ham", "spam", "scam"]
LABELS = [0, 0, 0, 0, 1, 1, 2, 2, 0, 1]
PREDS = [0, 0, 1, 0, 1, 2, 2, 0, 0, 1]


def _write_all(folder: Path) -> dict:
    """Write a complete run folder through the public writers; returns what was written."""
    rng = np.random.default_rng(0)
    probs = rng.dirichlet(np.ones(3), size=len(LABELS))
    test, cm = compute_imbalance_metrics(PREDS, LABELS, NAMES)
    validation, _ = compute_imbalance_metrics(LABELS, LABELS, NAMES)
    before = {"train": ClassDistribution("train", tuple(NAMES), (80, 15, 5)),
              "test": ClassDistribution("test", tuple(NAMES), (5, 3, 2))}
    after = ClassDistribution("train", tuple(NAMES), (80, 80, 80))
    history = [{"loss": 1.0, "step": 10}, {"eval_loss": 0.8, "eval_macro_f1": 0.5, "step": 10}]
    texts = [f"message {i} ü" for i in range(len(LABELS))]
    write_recipe(folder, "name: written\nseed: 3\n")
    write_run_info(folder, {"name": "written", "kind": "balanced", "label_names": NAMES, "seed": 3})
    write_distribution(folder, before, after)
    # Trainer-style prefixed keys, as trainer.evaluate()/predict() return them.
    write_metrics(folder, {f"test_{k}": v for k, v in test.items()}, {f"eval_{k}": v for k, v in validation.items()})
    write_confusion_matrix(folder, NAMES, cm)
    write_log_history(folder, history)
    write_predictions(folder, texts, LABELS, PREDS, probs, NAMES)
    return {"test": test, "validation": validation, "cm": cm, "before": before, "after": after, "history": history,
            "texts": texts, "probs": probs}


def test_writers_produce_the_layout_the_reader_reads(tmp_path: Path) -> None:
    folder = tmp_path / "new" / "run"  # the writers create the folder
    made = _write_all(folder)
    assert sorted(p.name for p in folder.iterdir()) == sorted([
        "recipe.yaml", "run_info.json", "distribution.json", "metrics.json", "confusion_matrix.json",
        "log_history.json", "predictions.jsonl"])  # and no temporary file is left behind
    # The raw files hold the documented format.
    raw_metrics = json.loads((folder / "metrics.json").read_text())
    assert raw_metrics == {"test": made["test"], "validation": made["validation"]}  # prefixes dropped
    raw_dist = json.loads((folder / "distribution.json").read_text())
    assert raw_dist == {"before": {s: d.to_json() for s, d in made["before"].items()},
                        "after": {"train": made["after"].to_json()}}
    rows = read_jsonl(folder / "predictions.jsonl")
    assert [r["label"] for r in rows] == [NAMES[i] for i in LABELS]
    assert [r["prediction"] for r in rows] == [NAMES[i] for i in PREDS]
    assert [r["text"] for r in rows] == made["texts"]
    np.testing.assert_allclose([r["probabilities"] for r in rows], made["probs"], atol=5e-7)
    assert "ü" in (folder / "predictions.jsonl").read_text(encoding="utf-8")  # UTF-8, not \u escapes

    run = load_run(folder)
    assert run.name == "written" and run.kind == "balanced" and run.label_names == NAMES
    assert run.test == made["test"] and run.metrics["validation"] == made["validation"]
    np.testing.assert_array_equal(run.confusion, made["cm"])
    assert run.train_counts("before") == {"ham": 80, "spam": 15, "scam": 5}
    assert run.rebalanced_counts() == {"ham": 80, "spam": 80, "scam": 80}
    assert run.split_counts("test") == {"ham": 5, "spam": 3, "scam": 2}
    assert run.smallest_class() == ("scam", "5 train examples before balancing")
    assert run.log_history == made["history"]
    assert (folder / "recipe.yaml").read_text() == "name: written\nseed: 3\n"
    # Without confusion_matrix.json the matrix is rebuilt from the predictions: the same numbers.
    (folder / "confusion_matrix.json").unlink()
    np.testing.assert_array_equal(load_run(folder).confusion, confusion_matrix(LABELS, PREDS))


def test_writers_reject_what_readers_could_not_use(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="label_names"):
        write_run_info(tmp_path, {"name": "no labels"})
    with pytest.raises(ValueError, match="shape"):
        write_confusion_matrix(tmp_path, NAMES, np.zeros((2, 2)))
    with pytest.raises(ValueError, match="one entry per test example"):
        write_predictions(tmp_path, ["a", "b"], [0, 1], [0], np.full((2, 3), 1 / 3), NAMES)
    assert list(tmp_path.iterdir()) == []


def test_decision_rule_sections_round_trip_and_old_folders_have_none(tmp_path: Path) -> None:
    """metrics.json records a decision rule's effect: test before it, validation before and after it."""
    made = _write_all(tmp_path)
    assert load_run(tmp_path).rule_effect() == {}  # a folder written without them reads as before
    before, _ = compute_imbalance_metrics([0] * len(LABELS), LABELS, NAMES)
    val_before, _ = compute_imbalance_metrics(PREDS, LABELS, NAMES)
    write_metrics(tmp_path, {f"test_{k}": v for k, v in made["test"].items()}, made["validation"],
                  test_before_rule=before, validation_before_rule={f"eval_{k}": v for k, v in val_before.items()},
                  validation_after_rule=made["validation"])
    raw = json.loads((tmp_path / "metrics.json").read_text())
    assert set(raw) == {"test", "validation", "test_before_rule", "validation_before_rule", "validation_after_rule"}
    assert raw["validation_before_rule"] == val_before  # prefixes dropped here too
    effect = load_run(tmp_path).rule_effect()
    assert list(effect) == ["validation", "test"]
    assert effect["test"] == (before, made["test"]) and effect["validation"] == (val_before, made["validation"])
    write_metrics(tmp_path, made["test"], test_before_rule=before)  # test only: the validation side is absent
    assert list(load_run(tmp_path).rule_effect()) == ["test"]
    with pytest.raises(ValueError, match="give both or neither"):
        write_metrics(tmp_path, made["test"], validation_before_rule=val_before)


class _FailingTexts(Sequence[str]):
    """Texts whose third item cannot be read: the write fails half way through."""

    def __len__(self) -> int:
        return len(LABELS)

    def __getitem__(self, i):  # type: ignore[override]
        raise NotImplementedError

    def __iter__(self) -> Iterator[str]:
        yield "one"
        yield "two"
        raise OSError("disk gone")


def test_a_failed_write_leaves_the_previous_file(tmp_path: Path) -> None:
    _write_all(tmp_path)
    before = (tmp_path / "predictions.jsonl").read_bytes()
    with pytest.raises(OSError, match="disk gone"):
        write_predictions(tmp_path, _FailingTexts(), LABELS, PREDS, np.full((len(LABELS), 3), 1 / 3), NAMES)
    assert (tmp_path / "predictions.jsonl").read_bytes() == before
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".tmp-")]


def test_trainer_prefixed_metric_keys_are_accepted(tmp_path: Path) -> None:
    run = make_run(tmp_path / "p", name="p", kind="baseline", names=["ham", "spam"], train_before=[90, 10],
                   test_labels=[0] * 18 + [1] * 6, seed=6)
    plain = json.loads((run / "metrics.json").read_text())
    prefixed = {"test": {f"test_{k}": v for k, v in plain["test"].items()},
                "validation": {f"eval_{k}": v for k, v in plain["validation"].items()}}
    (run / "metrics.json").write_text(json.dumps(prefixed))
    loaded = load_run(run)
    assert loaded.class_metric("f1", "spam") == plain["test"]["f1_spam"]
    assert loaded.metrics["validation"]["macro_f1"] == plain["validation"]["macro_f1"]
    assert read_metrics(run) == plain


def test_confusion_rebuilt_from_predictions_or_reordered(tmp_path: Path) -> None:
    trec = trec_data()
    run = make_run(tmp_path / "r", name="r", kind="balanced", names=trec["names"], train_before=trec["train_counts"],
                   test_labels=trec["labels"], with_confusion=False, seed=11)
    rows = read_jsonl(run / "predictions.jsonl")
    expected = confusion_matrix([r["label"] for r in rows], [r["prediction"] for r in rows], labels=trec["names"])
    np.testing.assert_array_equal(load_run(run).confusion, expected)
    # Index-valued labels give the same matrix.
    idx = {n: i for i, n in enumerate(trec["names"])}
    (run / "predictions.jsonl").write_text("".join(
        json.dumps({**r, "label": idx[r["label"]], "prediction": idx[r["prediction"]]}) + "\n" for r in rows))
    np.testing.assert_array_equal(load_run(run).confusion, expected)
    # A saved matrix in another label order is put into the run's order.
    order = list(reversed(trec["names"]))
    reordered = confusion_matrix([r["label"] for r in rows], [r["prediction"] for r in rows], labels=order)
    (run / "confusion_matrix.json").write_text(json.dumps({"labels": order, "matrix": reordered.tolist()}))
    np.testing.assert_array_equal(load_run(run).confusion, expected)
    (run / "confusion_matrix.json").write_text(json.dumps({"labels": order[:3], "matrix": [[1]]}))
    with pytest.raises(ValueError, match="do not match"):
        load_run(run)


def test_label_index_accepts_ids_and_names_only(tmp_path: Path) -> None:
    run = load_run(make_run(tmp_path / "r", name="r", kind="baseline", names=NAMES, train_before=[5, 3, 2],
                            test_labels=[0, 1, 2], seed=1))
    assert [run.label_index(v) for v in (0, 2, np.int64(1), "spam")] == [0, 2, 1, 1]
    assert [run.label_index(v) for v in (3, -1, True, None, "eggs")] == [None] * 5


def test_reader_errors_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_run(tmp_path / "nowhere")
    run = make_run(tmp_path / "r", name="r", kind="baseline", names=NAMES, train_before=[5, 3, 2],
                   test_labels=[0, 1, 2], seed=1)
    (run / "log_history.json").write_text("{not json")
    with pytest.raises(ValueError, match=r"log_history\.json.*not valid JSON"):
        load_run(run)
    (run / "log_history.json").unlink()
    (run / "run_info.json").write_text(json.dumps({"name": "r", "label_names": []}))
    with pytest.raises(ValueError, match="label_names"):
        load_run(run)
    (run / "run_info.json").unlink()
    with pytest.raises(FileNotFoundError, match=r"run_info\.json"):
        load_run(run)


def test_nested_baseline_and_model_folders_are_found(tmp_path: Path) -> None:
    run = make_run(tmp_path / "r", name="r", kind="balanced", names=NAMES, train_before=[5, 3, 2],
                   test_labels=[0, 1, 2], seed=1)
    assert baseline_run_dir(run) is None
    (run / "baseline").mkdir()
    assert baseline_run_dir(run) is None  # an empty folder is not a run
    make_run(run / "baseline", name="b", kind="baseline", names=NAMES, train_before=[5, 3, 2],
             test_labels=[0, 1, 2], seed=2)
    assert baseline_run_dir(run) == run / "baseline"
    (run / "model").mkdir()
    assert run_dir_of_model(run / "model") == run.resolve()
    (tmp_path / "elsewhere" / "model").mkdir(parents=True)
    assert run_dir_of_model(tmp_path / "elsewhere" / "model") is None  # no run_info.json beside it
    assert run_dir_of_model(run) is None  # a run folder is not a model folder


def test_check_same_labels_names_both_runs(tmp_path: Path) -> None:
    a = load_run(make_run(tmp_path / "a", name="first", kind="baseline", names=NAMES, train_before=[5, 3, 2],
                          test_labels=[0, 1, 2], seed=1))
    b = load_run(make_run(tmp_path / "b", name="second", kind="baseline", names=["x", "y"], train_before=[5, 3],
                          test_labels=[0, 1], seed=2))
    check_same_labels([a, a])
    with pytest.raises(ValueError, match=r"different label sets: 'first'.*'second'"):
        check_same_labels([a, b])


def test_run_folder_names_are_spelled_only_in_run_folder() -> None:
    """Every other reporting module uses the constants, so the layout changes in one place."""
    names = [getattr(run_folder, n) for n in run_folder.__all__ if n.endswith(("_FILENAME", "_DIRNAME", "_PLOT"))]
    assert len(names) == 18
    patterns = []
    for name in names:
        if "." in name:  # a file name in quotes
            patterns.append(rf"""["']{re.escape(name)}["']""")
        else:  # a folder name as a path part ("baseline" is also an ordinary word in a report)
            patterns.append(rf"""/\s*["']{re.escape(name)}["/']|["']{re.escape(name)}/""")
    package = Path(reporting.__file__).parent
    offenders = []
    for path in package.glob("*.py"):
        if path.name == "run_folder.py":
            continue
        code = path.read_text(encoding="utf-8")
        offenders += [f"{path.name}: {p}" for p in patterns if re.search(p, code)]
    assert offenders == []
