"""Tests for nlp_balance.reporting.compare: compare_runs and the tables of CompareResult."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image
from report_fixtures import TREC_NAMES, make_run, make_runs, metrics_of

from nlp_balance.reporting.compare import compare_runs


@pytest.fixture()
def runs(tmp_path: Path) -> dict[str, Path]:
    return make_runs(tmp_path)


def test_compare_runs_values_match_folders(tmp_path: Path, runs: dict[str, Path]) -> None:
    result = compare_runs([runs["baseline"], runs["balanced"], runs["balanced"]], out=tmp_path / "cmp")
    # The repeated folder counts once; the nested baseline is expanded after its run.
    assert [r["path"] for r in result.table] == [str(runs["baseline"]), str(runs["balanced"]), str(runs["nested"])]
    assert [r["kind"] for r in result.table] == ["baseline", "balanced", "baseline"]
    assert result.label_names == TREC_NAMES
    assert result.smallest_class == "ABBR"
    for row in result.table:
        folder = Path(row["path"])
        m = metrics_of(folder)
        info = json.loads((folder / "run_info.json").read_text())
        assert row["name"] == info["name"]
        assert row["macro_f1"] == m["macro_f1"]
        assert row["balanced_accuracy"] == m["balanced_accuracy"]
        assert row["accuracy"] == m["accuracy"]
        assert row["train_time_s"] == info["train_time_s"]
        assert list(row["class_f1"]) == TREC_NAMES
        assert row["class_f1"] == {n: m[f"f1_{n.lower()}"] for n in TREC_NAMES}
    text = result.to_text()
    assert str(result) == text
    assert "F1 ABBR*" in text and "smallest class: ABBR (84 train examples" in text
    assert text.count("*") == 1 + len(result.table) + 1  # header, one cell per row, the note
    md = result.to_markdown()
    assert "**F1 ABBR**" in md
    for row in result.table:
        assert f"**{row['class_f1']['ABBR']:.4f}**" in md
        assert f"| {row['macro_f1']:.4f} |" in md
    assert md.splitlines()[1].count("|") == md.splitlines()[0].count("|")
    written = (tmp_path / "cmp" / "compare.md").read_text()
    assert "](compare.png)" in written and md in written
    with Image.open(tmp_path / "cmp" / "compare.png") as im:
        im.verify()
    only = compare_runs([runs["balanced"]], include_baselines=False)
    assert [r["kind"] for r in only.table] == ["balanced"]


def test_compare_runs_reorders_columns_to_first_run(tmp_path: Path) -> None:
    labels = [0, 1, 2] * 20
    a = make_run(tmp_path / "a", name="a", kind="baseline", names=["x", "y", "z"], train_before=[100, 10, 50],
                 test_labels=labels, seed=1)
    b = make_run(tmp_path / "b", name="b", kind="balanced", names=["z", "x", "y"], train_before=[50, 100, 10],
                 test_labels=labels, seed=2)
    result = compare_runs([a, b])
    assert result.label_names == ["x", "y", "z"] and result.smallest_class == "y"
    mb = metrics_of(b)
    assert result.table[1]["class_f1"] == {"x": mb["f1_x"], "y": mb["f1_y"], "z": mb["f1_z"]}


def test_smallest_class_comes_from_the_first_run_with_train_counts(tmp_path: Path) -> None:
    labels = [0] * 20 + [1] * 4 + [2] * 10
    a = make_run(tmp_path / "a", name="no-counts", kind="baseline", names=["x", "y", "z"], train_before=[1, 1, 1],
                 test_labels=labels, seed=1, with_distribution=False)
    b = make_run(tmp_path / "b", name="counted", kind="balanced", names=["x", "y", "z"], train_before=[100, 50, 5],
                 test_labels=labels, seed=2)
    result = compare_runs([a, b])
    assert result.smallest_class == "z"  # from b's train counts, not a's smallest test support (y)
    assert result.smallest_class_basis == "5 train examples before balancing, from counted"


def test_differing_label_sets_and_bad_arguments_are_rejected(tmp_path: Path, runs: dict[str, Path]) -> None:
    other = make_run(tmp_path / "other", name="sms-run", kind="balanced", names=["ham", "spam"],
                     train_before=[3614, 514], test_labels=[0, 1] * 10, seed=4)
    with pytest.raises(ValueError, match=r"different label sets.*trec6-baseline.*sms-run"):
        compare_runs([runs["baseline"], other])
    with pytest.raises(TypeError, match="sequence"):
        compare_runs(runs["balanced"])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="at least one"):
        compare_runs([])


def test_nlp_balance_compare_cli(runs: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    """`nlp-balance compare` is the command line of compare_runs (reporting has no CLI of its own)."""
    from nlp_balance.cli.main import main

    assert main(["compare", str(runs["baseline"]), str(runs["balanced"]), "--no-baselines"]) == 0
    out = capsys.readouterr().out
    assert "trec6-baseline" in out and "trec6-balanced" in out and "trec6-balanced-baseline" not in out
    assert out.startswith(compare_runs([runs["baseline"], runs["balanced"]], include_baselines=False).to_text())
