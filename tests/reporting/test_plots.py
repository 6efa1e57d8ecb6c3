"""Tests for nlp_balance.reporting.plots: real PNG files, drawn only when there is data for them."""

from __future__ import annotations

from pathlib import Path

from PIL import Image
from report_fixtures import make_run

from nlp_balance.data.distribution import ClassDistribution
from nlp_balance.reporting.plots import (
    _split_history,
    _use_log_scale,
    plot_class_distribution,
    plot_run_comparison,
    plot_run_confusion,
    plot_run_distribution,
    plot_run_per_class,
    plot_run_training,
)
from nlp_balance.reporting.run_folder import load_run

NAMES = ["ham", "spam", "scam"]


def _png_size(path: Path) -> tuple[int, int]:
    with Image.open(path) as im:
        im.verify()
    with Image.open(path) as im:
        assert im.format == "PNG"
        return im.size


def test_plot_class_distribution_writes_the_same_png_every_time(tmp_path: Path) -> None:
    dists = {"train": ClassDistribution("train", tuple(NAMES), (3000, 40, 500)),
             "test": ClassDistribution("test", tuple(NAMES), (300, 5, 50))}
    out = plot_class_distribution(dists, tmp_path / "deep" / "dist.png")
    assert out == tmp_path / "deep" / "dist.png"
    width, height = _png_size(out)
    assert width >= 500 and height >= 350
    first = out.read_bytes()
    plot_class_distribution(dists, out)
    assert out.read_bytes() == first  # no timestamp or version in the file
    assert [p.name for p in out.parent.iterdir()] == ["dist.png"]  # no temporary file left behind
    # One split, another format: the suffix decides.
    svg = plot_class_distribution(dists["train"], tmp_path / "dist.svg", title="train only", log_scale=False)
    assert svg.read_text(encoding="utf-8").lstrip().startswith("<?xml")


def test_run_plots_are_drawn_only_with_their_data(tmp_path: Path) -> None:
    labels = [0] * 20 + [1] * 6 + [2] * 4
    full = load_run(make_run(tmp_path / "full", name="full", kind="balanced", names=NAMES, train_before=[200, 30, 8],
                             train_after=[200, 200, 200], test_labels=labels, seed=1))
    bare = load_run(make_run(tmp_path / "bare", name="bare", kind="baseline", names=NAMES, train_before=[200, 30, 8],
                             test_labels=labels, seed=2, with_distribution=False, with_history=False,
                             with_confusion=False))
    (bare.path / "predictions.jsonl").unlink()
    bare = load_run(bare.path)  # no confusion matrix and no predictions to rebuild it from
    out = tmp_path / "plots"
    for path in (plot_run_distribution(full, out / "d.png"), plot_run_per_class(full, None, out / "p1.png"),
                 plot_run_confusion(full, out / "c.png"), plot_run_training(full, out / "t.png")):
        assert path is not None and _png_size(path)[0] >= 400
    # With a baseline the per-class figure gains a second panel: it is wider.
    wider = plot_run_per_class(full, bare, out / "p2.png")
    assert _png_size(wider)[0] > _png_size(out / "p1.png")[0]
    assert plot_run_distribution(bare, out / "none_d.png") is None
    assert plot_run_confusion(bare, out / "none_c.png") is None
    assert plot_run_training(bare, out / "none_t.png") is None
    assert not list(out.glob("none_*"))


def test_plot_run_comparison(tmp_path: Path) -> None:
    table = [{"name": f"run{i}", "kind": "balanced", "macro_f1": 0.5 + i / 10,
              "class_f1": {"ham": 0.9, "spam": 0.4 + i / 10, "scam": float("nan")}} for i in range(3)]
    path = plot_run_comparison(table, NAMES, "scam", tmp_path / "compare.png")
    assert _png_size(path)[0] >= 600


def test_log_scale_rule() -> None:
    assert _use_log_scale([84, 1245]) is False  # ratio 14.8
    assert _use_log_scale([100, 2001]) is True  # ratio 20.01
    assert _use_log_scale([500, 500], [10, 1000]) is True
    assert _use_log_scale([5, 0]) is True  # an empty class: infinite ratio
    assert _use_log_scale([]) is False


def test_history_after_training_is_not_part_of_the_curves() -> None:
    history = [{"loss": 1.0, "step": 10}, {"eval_loss": 0.9, "eval_macro_f1": 0.5, "step": 20},
               {"train_runtime": 3.0, "step": 20}, {"eval_loss": 0.95, "eval_macro_f1": 0.4, "step": 20}]
    assert _split_history(history) == (history[:2], history[3:])
    assert _split_history(history[:2]) == (history[:2], [])
