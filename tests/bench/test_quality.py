"""Unit tests of the quality benchmark's pieces: long-tail profile, splits, resume, renderer statistics."""

from __future__ import annotations

import json
import math
import statistics

import numpy as np
import pytest
from conftest import BENCH_DATA as DATA

from benchmarks.quality import render as R
from benchmarks.quality import run as runner
from benchmarks.quality.results_io import append_row, done_keys, read_rows, row_key
from benchmarks.quality.variants import long_tail_counts, stratified_split, subsample_long_tail

TREC6_COUNTS = [84, 1148, 1245, 1215, 823, 856]  # ABBR DESC ENTY HUM LOC NUM (shared trec6 train)


# ------------------------------------------------------------------------------- long-tail profile
@pytest.mark.parametrize("ratio", [1.0, 10.0, 100.0])
@pytest.mark.parametrize("counts", [TREC6_COUNTS, [500, 500, 500], [1000, 3, 400, 80]])
def test_long_tail_counts_follow_an_exponential_profile(counts, ratio):
    out = long_tail_counts(counts, ratio)
    counts = np.asarray(counts)
    k = len(counts)
    order = sorted(range(k), key=lambda c: (-counts[c], c))  # size order, independent of the code's argsort
    got = [int(out[c]) for c in order]
    assert all(1 <= g <= counts[c] for g, c in zip(got, order))
    assert got == sorted(got, reverse=True)
    # Independent reference: the largest n_max with n_max * ratio**(-i/(K-1)) <= available count for all i.
    n_max = min(counts[c] * ratio ** (i / (k - 1)) for i, c in enumerate(order))
    n_max = min(n_max, counts[order[0]])
    for i, g in enumerate(got):
        assert abs(g - n_max * ratio ** (-i / (k - 1))) < 1.0 + 1e-9 or g == 1
    if got[-1] > 1:
        assert got[0] / got[-1] == pytest.approx(ratio, rel=0.15)


def test_long_tail_counts_rejects_bad_input():
    with pytest.raises(ValueError, match="ratio"):
        long_tail_counts([10, 5], 0.5)
    with pytest.raises(ValueError, match="at least one"):
        long_tail_counts([10, 0], 10)
    with pytest.raises(ValueError, match="two class"):
        long_tail_counts([10], 10)


def test_subsample_long_tail_is_seeded_and_exact():
    rng = np.random.default_rng(123)
    labels = rng.permutation(np.repeat(np.arange(6), TREC6_COUNTS))
    idx = subsample_long_tail(labels, 100.0, seed=0)
    assert len(np.unique(idx)) == len(idx)
    assert np.bincount(labels[idx], minlength=6).tolist() == long_tail_counts(TREC6_COUNTS, 100.0).tolist()
    assert np.array_equal(idx, subsample_long_tail(labels, 100.0, seed=0))
    assert not np.array_equal(idx, subsample_long_tail(labels, 100.0, seed=1))


def test_stratified_split_keeps_class_shares_and_partitions():
    labels = np.repeat([0, 1, 2], [200, 40, 3])
    tr, va = stratified_split(labels, 0.15, seed=0)
    assert np.intersect1d(tr, va).size == 0
    assert np.array_equal(np.sort(np.concatenate([tr, va])), np.arange(labels.size))
    assert np.bincount(labels[va], minlength=3).tolist() == [30, 6, 1]  # at least one of a tiny class


@pytest.mark.skipif(not (DATA / "trec6" / "train.jsonl").exists(), reason="shared data not present")
def test_long_tail_variant_of_trec6_on_real_data():
    from benchmarks.quality.variants import load_variant

    full = load_variant("trec6")
    lt = load_variant("trec6_lt100")
    assert lt["test"]["text"] == full["test"]["text"]  # test unchanged
    counts = np.bincount(lt["train"]["label"]) + np.bincount(lt["validation"]["label"])
    assert counts.max() / counts.min() == pytest.approx(100.0, rel=0.15)
    assert not set(lt["validation"]["text"]) & set(full["test"]["text"]) - set(full["train"]["text"])


# ------------------------------------------------------------------------------------------- resume
def _row(method="ce", seed=0, **kw):
    return {"protocol": "fast", "dataset": "trec6", "method": method, "seed": seed, "params": {"kind": "loss"},
            "macro_f1": 0.5, **kw}


def test_results_file_survives_a_torn_last_line(tmp_path):
    path = tmp_path / "r.jsonl"
    append_row(path, _row(seed=0))
    with path.open("a") as fh:
        fh.write('{"protocol": "fast", "datas')  # a run killed mid-write
    assert [r["seed"] for r in read_rows(path)] == [0]
    append_row(path, _row(seed=1))
    assert [r["seed"] for r in read_rows(path)] == [0, 1]
    assert row_key(_row(seed=1)) in done_keys(read_rows(path))
    assert row_key(_row(seed=1)) != row_key({**_row(seed=1), "params": {"kind": "loss", "gamma": 2}})


def test_runner_skips_rows_already_present(tmp_path, monkeypatch):
    calls = []

    def fake_run(sess, prep, method, params, seed):
        calls.append((prep, method, seed))
        return {"dataset": prep, "method": method, "params": params, "seed": seed, "macro_f1": 0.1,
                "smallest_class_f1": 0.0, "best_epoch": 1}

    monkeypatch.setattr(runner, "run_fast_one", fake_run)
    monkeypatch.setattr(runner, "versions", lambda: {})
    out = tmp_path / "fast.jsonl"
    sess = runner.Session("fast", out)
    monkeypatch.setattr(sess, "prepare", lambda name, embed=True: name)
    runner.run_phase(sess, ["trec6"], ["ce", "focal_g2"], [0, 1])
    assert len(calls) == 4
    # A new session over the same file (a restarted run) does nothing more, then only the new seed.
    sess2 = runner.Session("fast", out)
    monkeypatch.setattr(sess2, "prepare", lambda name, embed=True: name)
    runner.run_phase(sess2, ["trec6"], ["ce", "focal_g2"], [0, 1])
    assert len(calls) == 4
    runner.run_phase(sess2, ["trec6"], ["ce", "focal_g2"], [0, 1, 2])
    assert calls[4:] == [("trec6", "ce", 2), ("trec6", "focal_g2", 2)]
    assert len(read_rows(out)) == 6


# ------------------------------------------------------------------------------- renderer statistics
def test_mean_std_and_pooled_std_match_the_statistics_module():
    a, b = [0.71, 0.74, 0.69, 0.73], [0.60, 0.66, 0.61]
    assert R.mean_std(a) == pytest.approx((statistics.mean(a), statistics.stdev(a)))
    ss = statistics.variance(a) * (len(a) - 1) + statistics.variance(b) * (len(b) - 1)
    assert R.pooled_std(a, b) == pytest.approx(math.sqrt(ss / (len(a) + len(b) - 2)))
    assert math.isnan(R.pooled_std([0.5], [0.6]))


def test_compare_marks_only_differences_beyond_two_pooled_std():
    base = [0.50, 0.52, 0.48, 0.51, 0.49]  # std 0.0158
    delta, marked = R.compare([x + 0.05 for x in base], base)
    assert delta == pytest.approx(0.05) and marked
    delta, marked = R.compare([x + 0.02 for x in base], base)
    assert delta == pytest.approx(0.02) and not marked  # 0.02 < 2 * 0.0158
    assert R.compare([0.9], [0.5]) == (pytest.approx(0.4), False)  # one seed each: no spread, no mark


def test_render_writes_tables_plots_and_marks(tmp_path):
    rows = []
    for seed in range(3):
        for method, shift in (("ce", 0.0), ("ce_weighted_by_hand", 0.01), ("focal_g2", 0.2)):
            f1 = 0.5 + shift + 0.01 * seed
            rows.append({"protocol": "fast", "dataset": "trec6", "method": method, "seed": seed,
                         "params": {"kind": "loss"}, "macro_f1": f1, "smallest_class_f1": f1 - 0.1,
                         "balanced_accuracy": f1, "val_macro_f1": f1, "best_epoch": 10, "train_seconds": 1.0,
                         "per_class_f1": {"a": f1, "b": f1 - 0.1}, "smallest_class": "b",
                         "original_train_counts": [90, 10], "session": "s1", "session_elapsed_s": 60.0,
                         "loadavg_1m": 2.0, "cpu_count": 2, "versions": {"torch": "x"}})
    doc = tmp_path / "quality.md"
    text = R.render(rows, doc, "# Title\n")
    assert "**+0.200**" in text  # focal_g2 vs CE, far beyond 2 pooled std
    assert "+0.010" in text and "**+0.010**" not in text
    assert (tmp_path / "quality" / "fast_trec6.png").stat().st_size > 1000
    assert "| focal_g2 | 3 | 0.710 ± 0.010 |" in text
    assert json.dumps(rows[0])  # rows stay JSON-serialisable


def test_full_protocol_keeps_the_epoch_with_the_best_validation_score():
    """The full protocol's callback restores the weights of the best validation epoch, not the last."""
    import torch

    from benchmarks.quality.full import _keep_best_callback

    class State:
        epoch = 0.0

    model = torch.nn.Linear(2, 2)
    cb = _keep_best_callback()
    state = State()
    for epoch, score in ((1.0, 0.5), (2.0, 0.8), (3.0, 0.6)):
        with torch.no_grad():
            model.weight.fill_(epoch)
        state.epoch = epoch
        cb.on_evaluate(None, state, None, metrics={"eval_macro_f1": score}, model=model)
    cb.on_train_end(None, state, None, model=model)
    assert cb.best_epoch == 2.0 and cb.history == [(1.0, 0.5), (2.0, 0.8), (3.0, 0.6)]
    assert torch.all(model.weight == 2.0)


def test_the_hand_weighted_bar_is_cross_entropy_with_balanced_weights(tmp_path):
    """Both fine-tuning protocols share this bar: its loss is CrossEntropyLoss(weight=balanced weights)."""
    import numpy as np
    import torch
    from sklearn.utils.class_weight import compute_class_weight
    from transformers import TrainingArguments
    from transformers.modeling_outputs import SequenceClassifierOutput

    from benchmarks.quality.full import hand_weighted_trainer

    class Logits(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.w = torch.nn.Linear(2, 3)

        def forward(self, x, **_):
            return SequenceClassifierOutput(logits=self.w(x))

    labels = np.array([0, 0, 0, 0, 1, 1, 2])
    model = Logits()
    args = TrainingArguments(output_dir=str(tmp_path), use_cpu=True, report_to="none")
    trainer = hand_weighted_trainer(labels, 3)(model=model, args=args)
    x, y = torch.randn(7, 2), torch.tensor(labels)
    loss = trainer.compute_loss(model, {"x": x, "labels": y.clone()})
    w = torch.tensor(compute_class_weight("balanced", classes=np.arange(3), y=labels), dtype=torch.float32)
    torch.testing.assert_close(loss, torch.nn.functional.cross_entropy(model(x).logits, y, weight=w))
    assert not torch.allclose(loss, torch.nn.functional.cross_entropy(model(x).logits, y))


def test_boundary_cells_pair_ce_with_the_weighted_bars_newest_row_per_seed(tmp_path):
    from benchmarks.quality import boundary

    def row(protocol, method, seed, f1, **extra):
        return {"protocol": protocol, "dataset": "trec6", "method": method, "seed": seed, "macro_f1": f1,
                "smallest_class_f1": f1 / 2, "original_train_counts": [10, 100, 200], "params": {"epochs": 2},
                **extra}

    rows = [row("full", "ce", s, 0.80 + 0.01 * s) for s in range(3)]
    rows += [row("full", "ce_weighted_by_hand", s, 0.90 + 0.01 * s) for s in range(3)]
    rows.append(row("full", "ce", 0, 0.10))  # a newer row of seed 0 replaces the first
    rows += [row("fast", "ce", s, 0.7) for s in range(2)]  # no weighted bar: no cell
    cells = boundary.cells(rows)
    assert len(cells) == 1
    cell = cells[0]
    assert cell["ratio"] == 20.0 and cell["ce"] == pytest.approx([0.10, 0.81, 0.82])
    assert cell["weighted"]["ce_weighted_by_hand"]["f1"] == pytest.approx([0.90, 0.91, 0.92])
    assert "weighted_ce_balanced" not in cell["weighted"]
    page = boundary.render(cells)
    assert "| full | trec6 | 20.0 | fine-tune 2 epoch(s), best epoch on validation |" in page
    assert "within noise" in page  # the 0.10 seed makes CE's spread wide


def test_converged_auto_recipe_holds_auto_to_the_protocols_budget(tmp_path):
    """Every auto candidate gets the bars' budget: the same maximum epochs, patience, lr and batch."""
    from benchmarks.quality.converged import MAX_EPOCHS, PATIENCE, converged_params
    from benchmarks.quality.converged_auto import auto_recipe
    from nlp_balance.runs import recipe_from_dict

    params = converged_params("trec6_lt100", "auto")
    recipe = recipe_from_dict(auto_recipe(str(tmp_path / "data"), str(tmp_path / "run"), params, seed=3))
    assert recipe.method == "auto" and recipe.seed == 3
    assert recipe.auto.epochs_per_trial == recipe.training["num_train_epochs"] == MAX_EPOCHS["trec6_lt100"]
    assert recipe.training["early_stopping_patience"] == PATIENCE
    assert recipe.training["learning_rate"] == params["lr"] and recipe.model.max_length == params["max_length"]
    assert recipe.output.posthoc is None  # the protocol's auto_class_offsets row fits the rule
    assert converged_params("trec6_lt100", "auto_class_offsets")["base_params"] == params


def test_converged_page_lists_what_auto_tried_and_its_cost_over_ce():
    from benchmarks.quality.converged_render import render

    common = {"dataset": "d", "seed": 0, "smallest_class_f1": 0.5, "balanced_accuracy": 0.7, "val_macro_f1": 0.8,
              "best_epoch": 3.0, "params": {"max_epochs": 12}, "original_train_counts": [10, 100],
              "smallest_class": "a"}
    auto = {"winner": {"data": "original", "candidate": "ldam_drw", "validation": 0.81},
            "candidates": [{"data": "original", "candidate": "ce", "validation": 0.79, "seconds": 100.0},
                           {"data": "original", "candidate": "ldam_drw", "validation": 0.81, "seconds": 300.0}]}
    page = render([{**common, "method": "ce", "macro_f1": 0.70, "train_seconds": 100.0},
                   {**common, "method": "auto", "macro_f1": 0.75, "train_seconds": 400.0, "auto": auto}])
    row = next(line for line in page.splitlines() if line.startswith("| auto |"))
    assert row.endswith("| 400 | 4.0 |") and "+0.0500" in row
    assert "original/ce 0.7900 (100 s); original/ldam_drw 0.8100 (300 s); kept original/ldam_drw" in page


def test_converged_setfit_keeps_setfits_own_lr_and_the_protocols_budget():
    from benchmarks.quality.converged import MAX_EPOCHS, METHODS, PATIENCE, converged_params

    params = converged_params("trec6", "setfit")
    assert "setfit" in METHODS and params["setfit"] is True
    assert params["max_epochs"] == MAX_EPOCHS["trec6"] and params["patience"] == PATIENCE
    assert "lr" not in params and "loss" not in params  # SetFit's own defaults, not the bars' optimiser


def _small_lt100(n_train: int, n_eval: int):
    """A slice of the real trec6_lt100 variant (from the repo's data) shaped like the protocol's ``prep``."""
    from types import SimpleNamespace

    import datasets

    from benchmarks.quality.variants import load_variant

    dd = load_variant("trec6_lt100", DATA)
    sizes = {"train": n_train, "validation": n_eval, "test": n_eval}
    small = datasets.DatasetDict({s: dd[s].shuffle(seed=0).select(range(n)) for s, n in sizes.items()})
    return SimpleNamespace(dd=small, name="trec6_lt100", names=small["train"].features["label"].names, smallest=0)


@pytest.mark.slow
def test_converged_setfit_keeps_its_best_validation_epoch_on_real_data():
    """SetFit with MiniLM on a slice of trec6_lt100: one validation per epoch, the best one's logits."""
    from benchmarks.quality.converged import converged_params
    from benchmarks.quality.converged_setfit import setfit_logits
    from benchmarks.quality.metrics import scores

    prep = _small_lt100(96, 40)
    params = {**converged_params("trec6_lt100", "setfit"), "max_epochs": 2, "patience": 5}
    out = setfit_logits(prep, params, seed=0)
    assert [e for e, _ in out["val_history"]] == [1.0, 2.0]
    best_epoch, best = max(out["val_history"], key=lambda h: h[1])
    assert out["best_epoch"] == best_epoch and out["val_macro_f1"] == best
    assert out["val_logits"].shape == (40, 6) and out["test_logits"].shape == (40, 6)
    assert np.isfinite(out["test_logits"]).all()
    # the kept logits are the kept epoch's: they reproduce its validation score
    y_val = np.asarray(prep.dd["validation"]["label"])
    assert scores(y_val, out["val_logits"].argmax(1), prep.names, 0)["macro_f1"] == pytest.approx(best)


@pytest.mark.slow
def test_converged_auto_runs_the_librarys_method_auto_on_real_data():
    """method: auto through the runner on a slice of trec6_lt100; logits in the split's own order."""
    from benchmarks.quality.converged import converged_params
    from benchmarks.quality.converged_auto import auto_logits

    prep = _small_lt100(120, 40)
    params = {**converged_params("trec6_lt100", "auto"), "max_epochs": 1, "portfolio": ["ce"], "floor": 10}
    out = auto_logits(prep, params, seed=0)
    tried = out["auto"]["candidates"]
    assert {(c["data"], c["candidate"]) for c in tried} == {("original", "ce"), ("augment_floor", "ce")}
    winner = max(c["validation"] for c in tried)
    assert out["val_macro_f1"] == pytest.approx(winner)
    assert out["val_logits"].shape == (40, 6) and out["test_logits"].shape == (40, 6)
    # row i of the logits is row i of the split: they reproduce the score the search kept
    from benchmarks.quality.metrics import scores

    y_val = np.asarray(prep.dd["validation"]["label"])
    assert scores(y_val, out["val_logits"].argmax(1), prep.names, 0)["macro_f1"] == pytest.approx(winner, abs=1e-6)
    # the same search's pick under the other selection rule comes back with its own logits
    other = out["other_select"]
    assert other["select"] == "one_standard_error" and other["meta"]["auto"]["select"] == "one_standard_error"
    pick = out["auto"]["within_one_standard_error"]
    assert other["meta"]["auto"]["winner"] == pick and out["auto"]["standard_error"] >= 0
    assert other["val_logits"].shape == (40, 6) and other["test_logits"].shape == (40, 6)
    assert scores(y_val, other["val_logits"].argmax(1), prep.names, 0)["macro_f1"] == pytest.approx(
        pick["validation"], abs=1e-6)


def test_one_auto_search_fills_the_cache_of_both_selection_rules(tmp_path, monkeypatch):
    """``auto`` and ``auto_one_se`` are two picks from one search: the second row needs no training."""
    from types import SimpleNamespace

    import benchmarks.quality.converged as converged

    monkeypatch.setattr(converged, "CACHE", tmp_path)
    prep = SimpleNamespace(name="trec6_lt100")
    logits = {"val_logits": np.zeros((2, 2), np.float32), "test_logits": np.ones((2, 2), np.float32)}
    other = {"select": "one_standard_error", "val_logits": np.full((2, 2), 2, np.float32),
             "test_logits": np.full((2, 2), 3, np.float32), "meta": {"val_macro_f1": 0.5, "order": "dataset"}}
    calls = []

    def fake_auto(prep, params, seed):
        calls.append(params.get("auto_select", "best"))
        return {**logits, "val_macro_f1": 0.6, "order": "dataset", "other_select": other}

    monkeypatch.setattr("benchmarks.quality.converged_auto.auto_logits", fake_auto)
    first = converged.cached_logits(prep, "auto", 0)
    second = converged.cached_logits(prep, "auto_one_se", 0)
    assert calls == ["best"]
    assert "other_select" not in first and second["val_macro_f1"] == 0.5
    assert (second["test_logits"] == 3).all() and (second["val_logits"] == 2).all()
