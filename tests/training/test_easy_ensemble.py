"""EasyEnsemble: the member subset rule, training, averaging, and a save/load round trip."""

from __future__ import annotations

import gc
import json

import numpy as np
import pytest
import torch
from transformers.utils import logging as hf_logging

from nlp_balance.evaluation.classifier import ENSEMBLE_FILENAME, EnsembleClassifier, is_ensemble_dir, load_classifier
from nlp_balance.training.easy_ensemble import EasyEnsemble

hf_logging.set_verbosity_error()


@pytest.fixture(scope="module", autouse=True)
def _fast_cpu():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    gc.freeze()
    yield
    gc.unfreeze()
    torch.set_num_threads(threads)


def _check_easy_ensemble_rule(labels: np.ndarray, subsets: list[np.ndarray]) -> None:
    """Independent statement of the rule for sampling_strategy='auto'."""
    counts = np.bincount(labels)
    minority = int(np.argmin(counts))
    minority_rows = set(np.flatnonzero(labels == minority).tolist())
    for idx in subsets:
        assert len(set(idx.tolist())) == idx.size, "drawn without replacement"
        assert minority_rows <= set(idx.tolist()), "every minority example is in every member"
        assert np.bincount(labels[idx], minlength=counts.size).tolist() == [counts.min()] * counts.size
        assert (np.diff(idx) > 0).all(), "rows keep their original order"


def test_member_subsets_follow_the_rule_on_sms_spam(sms_spam):
    train = sms_spam["train"]
    labels = np.asarray(train["label"])
    ens = EasyEnsemble(n_members=4, seed=7)
    subsets = ens.member_indices(train)
    _check_easy_ensemble_rule(labels, subsets)
    majority = [frozenset(i for i in idx.tolist() if labels[i] == 0) for idx in subsets]
    assert len(set(majority)) == 4, "the majority subsets differ by member seed"
    assert len(set(ens.member_seeds)) == 4
    # deterministic from the user seed; a different seed gives different subsets
    again = EasyEnsemble(n_members=4, seed=7).member_indices(train)
    assert all((a == b).all() for a, b in zip(subsets, again))
    other = EasyEnsemble(n_members=4, seed=8).member_indices(train)
    assert not (subsets[0].size == other[0].size and (subsets[0] == other[0]).all())
    # growing the ensemble keeps the first members
    more = EasyEnsemble(n_members=6, seed=7).member_indices(train)
    assert all((a == b).all() for a, b in zip(subsets, more[:4]))


def test_multiclass_counts_match_imbalanced_learn(trec6):
    """Per-class subset sizes equal imbalanced-learn's RandomUnderSampler for the same strategy."""
    from imblearn.under_sampling import RandomUnderSampler as ImbRUS

    train = trec6["train"]
    labels = np.asarray(train["label"])
    _check_easy_ensemble_rule(labels, EasyEnsemble(n_members=3, seed=1).member_indices(train))
    counts = np.bincount(labels)
    strategy = {int(np.argmax(counts)): int(counts.max() // 3)}
    subsets = EasyEnsemble(n_members=3, sampling_strategy=strategy, seed=1).member_indices(train)
    _, y_ref = ImbRUS(sampling_strategy=strategy, random_state=0).fit_resample(labels.reshape(-1, 1), labels)
    for idx in subsets:
        assert np.bincount(labels[idx], minlength=counts.size).tolist() == np.bincount(y_ref).tolist()


def test_plain_integer_labels_column():
    from datasets import Dataset

    data = Dataset.from_dict({"input_ids": [[5, 6]] * 10, "labels": [0] * 7 + [1] * 3})
    subsets = EasyEnsemble(n_members=2, seed=0, label_column="labels").member_indices(data)
    _check_easy_ensemble_rule(np.asarray(data["labels"]), subsets)


@pytest.mark.parametrize(("kwargs", "needle"), [({"n_members": 0}, "n_members"), ({"seed": -1}, "seed"),
                                                 ({"n_members": 2.5}, "n_members")])
def test_bad_arguments(kwargs, needle):
    with pytest.raises(ValueError, match=needle):
        EasyEnsemble(**kwargs)


def test_fit_average_save_and_load(tmp_path, tiny_bert_dir, sms_spam):
    from transformers import AutoModelForSequenceClassification, AutoTokenizer, DataCollatorWithPadding

    from nlp_balance.evaluation.classifier import load_classifier
    from nlp_balance.training.arguments import BalancedTrainingArguments

    tok = AutoTokenizer.from_pretrained(tiny_bert_dir)
    small = sms_spam["train"].select(range(80))
    texts = sms_spam["test"]["text"][:12]
    tokenized = small.map(lambda b: tok(b["text"], truncation=True, max_length=32), batched=True,
                          remove_columns=["text"])
    names = small.features["label"].names

    def model_init():
        return AutoModelForSequenceClassification.from_pretrained(
            tiny_bert_dir, num_labels=2, id2label=dict(enumerate(names)), label2id={n: i for i, n in enumerate(names)})

    args = BalancedTrainingArguments(output_dir=str(tmp_path / "ckpt"), per_device_train_batch_size=8, max_steps=3,
                                     learning_rate=1e-3, report_to="none", save_strategy="no", use_cpu=True,
                                     disable_tqdm=True, eval_strategy="no", metric_for_best_model=None)
    ens = EasyEnsemble(n_members=3, seed=5).fit(tokenized, model_init, args, processing_class=tok,
                                                data_collator=DataCollatorWithPadding(tok))
    assert len(ens.members) == 3
    labels = np.asarray(small["label"])
    assert ens.subset_sizes_ == [2 * int(np.bincount(labels).min())] * 3
    heads = [m.classifier.weight.detach() for m in ens.members]
    assert not torch.allclose(heads[0], heads[1]), "members differ (seed and subset)"

    probs = ens.predict_proba(texts, max_length=32)
    # independent average: each member's own softmax, computed directly
    enc = tok(list(texts), truncation=True, max_length=32, padding=True, return_tensors="pt")
    with torch.no_grad():
        ref = torch.stack([torch.softmax(m(**enc).logits.double(), -1) for m in ens.members]).mean(0).numpy()
    np.testing.assert_allclose(probs, ref, atol=1e-6)

    out = ens.save_pretrained(tmp_path / "ensemble")
    assert is_ensemble_dir(out)
    meta = json.loads((out / ENSEMBLE_FILENAME).read_text())
    assert meta["n_members"] == 3 and meta["member_seeds"] == ens.member_seeds
    loaded = EasyEnsemble.from_pretrained(out)
    np.testing.assert_allclose(loaded.predict_proba(texts, max_length=32), probs, atol=1e-6)

    clf = load_classifier(out, max_length=32)
    assert isinstance(clf, EnsembleClassifier)
    preds = clf.predict(texts)
    assert [p["label"] for p in preds] == [names[i] for i in probs.argmax(-1)]
    np.testing.assert_allclose([p["probabilities"][names[1]] for p in preds], probs[:, 1], atol=1e-5)
    metrics = clf.evaluate(sms_spam["test"].select(range(12)))
    assert 0.0 <= metrics["macro_f1"] <= 1.0


def test_loading_a_broken_folder_says_what_is_wrong(tmp_path):
    (tmp_path / ENSEMBLE_FILENAME).write_text(json.dumps({"format": "nlp_balance.easy_ensemble",
                                                          "format_version": 1, "n_members": 1,
                                                          "members": ["member_0"]}))
    with pytest.raises(ValueError, match="member_0"):
        EasyEnsemble.from_pretrained(tmp_path)
    with pytest.raises(FileNotFoundError, match=r"ensemble\.json"):
        EasyEnsemble.from_pretrained(tmp_path / "nothing")


def test_recipe_runs_an_ensemble_and_cli_predicts(tmp_path, tiny_bert_dir, shared_data):
    """`nlp-balance train` with method: easy_ensemble writes the run folder; predict/evaluate read it."""
    from nlp_balance.cli.main import main
    from nlp_balance.runs.methods import check_method_options
    from nlp_balance.runs.recipe import RecipeError, load_recipe

    run = tmp_path / "run"
    recipe = tmp_path / "ens.yaml"
    recipe.write_text("\n".join([
        "name: tiny-ens", "seed: 3", "method: easy_ensemble", "ensemble: {n_members: 2}",
        "dataset:", f"  source: {shared_data / 'sms_spam'}", "  max_train_samples: 200",
        "model:", f"  name_or_path: {tiny_bert_dir}", "  max_length: 24",
        "training: {num_train_epochs: 1, per_device_train_batch_size: 16, learning_rate: 0.001}",
        "output:", f"  dir: {run}", "",
    ]))
    assert main(["train", str(recipe)]) == 0
    for name in ("recipe.yaml", "run_info.json", "distribution.json", "metrics.json", "confusion_matrix.json",
                 "log_history.json", "predictions.jsonl", "report.md"):
        assert (run / name).is_file(), name
    assert is_ensemble_dir(run / "model") and not (run / "checkpoints").exists()
    info = json.loads((run / "run_info.json").read_text())
    assert info["method"] == "easy_ensemble" and len(info["ensemble"]["subset_sizes"]) == 2
    preds = [json.loads(line) for line in (run / "predictions.jsonl").read_text().splitlines()]
    clf = load_classifier(run, max_length=24)
    assert isinstance(clf, EnsembleClassifier)
    again = clf.predict([p["text"] for p in preds[:20]])
    assert [p["label"] for p in again] == [p["prediction"] for p in preds[:20]]
    recipe.write_text(recipe.read_text().replace("method: easy_ensemble", "method: bagging"))
    with pytest.raises(RecipeError, match="method"):  # refused by the pre-flight checks, before any work
        check_method_options(load_recipe(recipe))


def _tiny_setup(tiny_bert_dir, sms_spam, n_rows: int = 80):
    from transformers import AutoModelForSequenceClassification, AutoTokenizer, DataCollatorWithPadding

    tok = AutoTokenizer.from_pretrained(tiny_bert_dir)
    small = sms_spam["train"].select(range(n_rows))
    tokenized = small.map(lambda b: tok(b["text"], truncation=True, max_length=24), batched=True,
                          remove_columns=["text"])
    names = small.features["label"].names

    def model_init():
        return AutoModelForSequenceClassification.from_pretrained(
            tiny_bert_dir, num_labels=2, id2label=dict(enumerate(names)), label2id={n: i for i, n in enumerate(names)})

    return tok, tokenized, model_init, DataCollatorWithPadding(tok)


def _args(path, **extra):
    from nlp_balance.training.arguments import BalancedTrainingArguments

    base = dict(output_dir=str(path), per_device_train_batch_size=8, num_train_epochs=2, learning_rate=1e-3,
                report_to="none", save_strategy="no", use_cpu=True, disable_tqdm=True, eval_strategy="no",
                metric_for_best_model=None, dataloader_num_workers=0)
    base.update(extra)
    return BalancedTrainingArguments(**base)


def test_members_take_as_many_steps_as_a_full_run(tmp_path, tiny_bert_dir, sms_spam):
    """match_full: each member's optimizer steps equal those of a real BalancedTrainer run on the whole
    split; "per epoch" evaluation comes every full-split epoch's worth of steps; the costs are recorded."""
    from nlp_balance.training import full_run_steps
    from nlp_balance.training.trainer import BalancedTrainer

    tok, train, model_init, collator = _tiny_setup(tiny_bert_dir, sms_spam)
    evaluation = train.select(range(8))
    args = _args(tmp_path / "m", eval_strategy="epoch", logging_strategy="epoch")
    reference = BalancedTrainer(model=model_init(), args=_args(tmp_path / "ref"), train_dataset=train,
                                data_collator=collator)
    reference.train()
    full = reference.state.global_step
    assert full == 20 and full_run_steps(len(train), args) == (20, 10)  # 80 rows / 8 = 10 steps per epoch

    ens = EasyEnsemble(n_members=2, seed=5).fit(train, model_init, args, eval_dataset=evaluation,
                                                processing_class=tok, data_collator=collator)
    assert ens.member_steps == "match_full"
    subset = ens.subset_sizes_[0]
    assert subset < len(train) / 2
    for history, cost in zip(ens.histories_, ens.member_costs_):
        assert cost["optimizer_steps"] == full and cost["rows"] == subset and cost["train_seconds"] > 0
        assert [e["step"] for e in history if "eval_loss" in e] == [10, 20]
    summary = ens.cost_summary()
    assert summary["total_optimizer_steps"] == 2 * full and summary["optimizer_steps_vs_full_run"] == 2.0
    assert summary["shared"] is None and summary["full_run_optimizer_steps"] == full

    short = EasyEnsemble(n_members=1, seed=5, member_steps="subset").fit(train, model_init, _args(tmp_path / "s"),
                                                                         processing_class=tok, data_collator=collator)
    assert short.member_costs_[0]["optimizer_steps"] == 2 * -(-subset // 8)  # 2 epochs of the subset


def test_warm_start_begins_every_member_from_the_shared_fine_tune(tmp_path, tiny_bert_dir, sms_spam):
    from transformers import TrainerCallback

    class Snapshots(TrainerCallback):
        def __init__(self):
            self.begin, self.end = [], []

        def on_train_begin(self, args, state, control, model=None, **kwargs):
            self.begin.append({k: v.detach().clone() for k, v in model.state_dict().items()})

        def on_train_end(self, args, state, control, model=None, **kwargs):
            self.end.append({k: v.detach().clone() for k, v in model.state_dict().items()})

    tok, train, model_init, collator = _tiny_setup(tiny_bert_dir, sms_spam)
    snaps = Snapshots()
    ens = EasyEnsemble(n_members=2, seed=5, member_steps="subset", warm_start="shared")
    ens.fit(train, model_init, _args(tmp_path / "w", num_train_epochs=1), processing_class=tok,
            data_collator=collator, callbacks=[snaps])
    assert len(snaps.begin) == 3  # the shared fine-tune, then two members
    shared_end = snaps.end[0]
    assert any(not torch.equal(snaps.begin[0][k], shared_end[k]) for k in shared_end), "the shared run trained"
    for member_start in snaps.begin[1:]:
        for k in shared_end:
            assert torch.equal(member_start[k], shared_end[k]), k
    assert not torch.equal(ens.members[0].classifier.weight, ens.members[1].classifier.weight)
    assert ens.shared_cost_["optimizer_steps"] == 10 and ens.shared_cost_["rows"] == len(train)
    member_steps = [c["optimizer_steps"] for c in ens.member_costs_]
    assert member_steps == [-(-ens.subset_sizes_[0] // 8)] * 2
    assert ens.cost_summary()["total_optimizer_steps"] == 10 + sum(member_steps)

    texts = sms_spam["test"]["text"][:6]
    out = ens.save_pretrained(tmp_path / "ensemble")
    meta = json.loads((out / ENSEMBLE_FILENAME).read_text())
    assert meta["warm_start"] == "shared" and meta["cost"] == ens.cost_summary()
    loaded = EasyEnsemble.from_pretrained(out)
    assert loaded.warm_start == "shared" and loaded.member_steps == "subset"
    assert loaded.cost_summary() == ens.cost_summary()
    np.testing.assert_allclose(loaded.predict_proba(texts, max_length=24), ens.predict_proba(texts, max_length=24),
                               atol=1e-6)


@pytest.mark.parametrize(("kwargs", "needle"), [({"member_steps": "full"}, "member_steps='full'"),
                                                 ({"warm_start": "pretrained"}, "warm_start='pretrained'")])
def test_bad_budget_options(kwargs, needle):
    with pytest.raises(ValueError, match=needle):
        EasyEnsemble(**kwargs)
