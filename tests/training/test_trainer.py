"""BalancedTrainer: exact gradient accumulation for every loss, class weights, sampler, DRW, option overrides."""

from __future__ import annotations

import copy
import gc

import numpy as np
import pytest
import torch
from datasets import Dataset
from sklearn.utils.class_weight import compute_class_weight
from torch import nn
from transformers import BertConfig, BertForSequenceClassification, TrainerCallback, TrainingArguments
from transformers.utils import logging as hf_logging

from nlp_balance.training.arguments import BalancedTrainingArguments
from nlp_balance.training.deferred_reweighting import DeferredReweightingCallback
from nlp_balance.training.losses import LOSSES, build_loss
from nlp_balance.training.trainer import BalancedTrainer

hf_logging.set_verbosity_error()


@pytest.fixture(scope="module", autouse=True)
def _fast_cpu():
    """One torch thread (the 2 cores are shared) and a frozen GC heap: Trainer.train() runs gc.collect()
    at every start, which costs ~0.5 s in a process holding many objects. Restored afterwards."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    gc.freeze()
    yield
    gc.unfreeze()
    torch.set_num_threads(threads)


VOCAB = 60
# Every registered loss, so that a new one is covered by the gradient-accumulation tests.
SINGLE_LOSSES = [name for name, spec in LOSSES.items() if not spec.multi_label]
MULTI_LOSSES = [name for name, spec in LOSSES.items() if spec.multi_label]
TAKES_WEIGHTS = {name for name, spec in LOSSES.items() if spec.takes_class_weights}


def tiny_bert(num_labels: int = 3, seed: int = 0, multi_label: bool = False) -> BertForSequenceClassification:
    cfg = BertConfig(
        vocab_size=VOCAB,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=32,
        num_labels=num_labels,
        hidden_dropout_prob=0.0,
        attention_probs_dropout_prob=0.0,
        classifier_dropout=0.0,
        problem_type="multi_label_classification" if multi_label else None,
    )
    torch.manual_seed(seed)
    return BertForSequenceClassification(cfg)


class NoKwargsWrapper(nn.Module):
    """A model whose forward has no **kwargs, so the Trainer sees model_accepts_loss_kwargs=False."""

    def __init__(self, inner: BertForSequenceClassification) -> None:
        super().__init__()
        self.inner = inner
        self.config = inner.config

    def forward(self, input_ids, attention_mask=None):
        return {"logits": self.inner(input_ids=input_ids, attention_mask=attention_mask).logits}


def single_label_data(n: int = 8, seed: int = 0, ignore: int = 1) -> Dataset:
    """Imbalanced 3-class toy data; the last ``ignore`` rows carry the label -100."""
    rng = np.random.default_rng(seed)
    labels = rng.choice(3, size=n, p=[0.6, 0.25, 0.15])
    labels[:3] = [0, 1, 2]  # every class present
    labels = labels.tolist()
    for i in range(ignore):
        labels[n - 1 - i] = -100
    return Dataset.from_dict({"input_ids": rng.integers(5, VOCAB, size=(n, 7)).tolist(), "labels": labels})


def multi_label_data(n: int = 8, seed: int = 0) -> Dataset:
    rng = np.random.default_rng(seed)
    labels = (rng.random((n, 3)) < [0.6, 0.3, 0.15]).astype(np.float32)
    labels[0] = [1, 1, 1]
    labels[1, 2] = -100.0  # one ignored element
    return Dataset.from_dict({"input_ids": rng.integers(5, VOCAB, size=(n, 7)).tolist(), "labels": labels.tolist()})


def make_args(tmp_path, per_device: int, ga: int, **extra) -> BalancedTrainingArguments:
    base = dict(
        output_dir=str(tmp_path),
        per_device_train_batch_size=per_device,
        gradient_accumulation_steps=ga,
        max_steps=1,
        learning_rate=0.5,
        optim="sgd",
        lr_scheduler_type="constant",
        weight_decay=0.0,
        max_grad_norm=0.0,
        report_to="none",
        save_strategy="no",
        use_cpu=True,
        seed=3,
        disable_tqdm=True,
        dataloader_num_workers=0,
    )
    base.update(extra)
    return BalancedTrainingArguments(**base)


def params_after_one_step(tmp_path, model, data, per_device, ga, **extra) -> dict[str, torch.Tensor]:
    trainer = BalancedTrainer(model=model, args=make_args(tmp_path, per_device, ga, **extra), train_dataset=data)
    trainer.train()
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def assert_same_step(reference: dict, other: dict, start: dict) -> None:
    moved = max((reference[k] - start[k]).abs().max().item() for k in start)
    assert moved > 1e-3, "the step barely moved the weights; the comparison would be vacuous"
    for k in start:
        torch.testing.assert_close(other[k], reference[k], atol=1e-5, rtol=0, msg=lambda m, k=k: f"{k}: {m}")


def _ga_cases():
    for loss in SINGLE_LOSSES:
        yield loss, None, None
        if loss in TAKES_WEIGHTS:
            yield loss, "balanced", None
    yield "focal", "inverse_sqrt", "weighted"
    yield "ldam", None, "sqrt"
    yield "ce", None, "weighted"


@pytest.mark.parametrize(("loss", "weighting", "sampler"), list(_ga_cases()))
def test_ga_4x2_equals_batch_8_single_label(tmp_path, loss, weighting, sampler):
    data = single_label_data()
    start = tiny_bert().state_dict()
    opts = dict(loss=loss, class_weighting=weighting, sampler=sampler)
    full = params_after_one_step(tmp_path / "a", tiny_bert(), data, 8, 1, **opts)
    accum = params_after_one_step(tmp_path / "b", tiny_bert(), data, 2, 4, **opts)
    assert_same_step(full, accum, start)


@pytest.mark.parametrize(
    ("loss", "weighting"),
    [(loss, w) for loss in MULTI_LOSSES for w in (None, "balanced") if w is None or loss in TAKES_WEIGHTS],
)
def test_ga_4x2_equals_batch_8_multi_label(tmp_path, loss, weighting):
    data = multi_label_data()
    start = tiny_bert(multi_label=True).state_dict()
    opts = dict(loss=loss, class_weighting=weighting)
    full = params_after_one_step(tmp_path / "a", tiny_bert(multi_label=True), data, 8, 1, **opts)
    accum = params_after_one_step(tmp_path / "b", tiny_bert(multi_label=True), data, 2, 4, **opts)
    assert_same_step(full, accum, start)


def test_ga_exact_for_model_without_kwargs(tmp_path):
    """A wrapper whose forward lacks **kwargs, with an ignored row: still exact."""
    data = single_label_data(ignore=2)
    start = tiny_bert().state_dict()
    wrapped_full = NoKwargsWrapper(tiny_bert())
    probe = BalancedTrainer(model=wrapped_full, args=make_args(tmp_path / "p", 2, 4), train_dataset=data)
    assert probe.model_accepts_loss_kwargs is False
    full = params_after_one_step(tmp_path / "a", wrapped_full, data, 8, 1, loss="focal", class_weighting="balanced")
    wrapped_accum = NoKwargsWrapper(tiny_bert())
    accum = params_after_one_step(tmp_path / "b", wrapped_accum, data, 2, 4, loss="focal", class_weighting="balanced")
    strip = {f"inner.{k}": v for k, v in start.items()}
    assert_same_step(full, accum, strip)


def varied_length_data(n: int = 24, seed: int = 0) -> Dataset:
    """Imbalanced 3-class toy data whose examples have 3 to 12 tokens, so length grouping matters."""
    rng = np.random.default_rng(seed)
    labels = rng.choice(3, size=n, p=[0.6, 0.25, 0.15])
    labels[:3] = [0, 1, 2]
    ids = [rng.integers(5, VOCAB, size=int(rng.integers(3, 13))).tolist() for _ in range(n)]
    return Dataset.from_dict({"input_ids": ids, "labels": labels.tolist()})


def pad_batch(features: list[dict]) -> dict[str, torch.Tensor]:
    """Pad ``input_ids`` with 0 to the batch's longest example, with the attention mask to match."""
    width = max(len(f["input_ids"]) for f in features)
    ids = torch.zeros((len(features), width), dtype=torch.long)
    mask = torch.zeros_like(ids)
    for row, f in enumerate(features):
        ids[row, : len(f["input_ids"])] = torch.tensor(f["input_ids"])
        mask[row, : len(f["input_ids"])] = 1
    return {"input_ids": ids, "attention_mask": mask, "labels": torch.tensor([f["labels"] for f in features])}


@pytest.mark.parametrize("sampler", [None, "weighted", "sqrt"])
def test_ga_4x2_equals_batch_8_grouped_by_length(tmp_path, sampler):
    """train_sampling_strategy="group_by_length", with the Trainer's own sampler or a balanced one:
    the accumulated step takes the same examples, and the same gradient, as one batch of 8."""
    from transformers.trainer_pt_utils import LengthGroupedSampler

    from nlp_balance.training.batch_sampler import LengthGroupedBalancedSampler

    data = varied_length_data()
    start = tiny_bert().state_dict()
    steps = {}
    for name, per_device, ga in (("full", 8, 1), ("accum", 2, 4)):
        model = tiny_bert()
        args = make_args(tmp_path / name, per_device, ga, loss="focal", class_weighting="balanced", sampler=sampler)
        trainer = BalancedTrainer(model=model, args=args, train_dataset=data, data_collator=pad_batch)
        trainer.args.train_sampling_strategy = "group_by_length"  # set after the options check at construction
        expected = LengthGroupedSampler if sampler is None else LengthGroupedBalancedSampler
        assert isinstance(trainer._get_train_sampler(), expected)
        trainer.train()
        steps[name] = {k: v.detach().clone() for k, v in model.state_dict().items()}
    assert_same_step(steps["full"], steps["accum"], start)


def test_grouped_balanced_batches_pad_less_and_keep_the_class_shares(tmp_path):
    """The balanced sampler grouped by length: batches hold similar lengths, classes keep their shares."""
    rng = np.random.default_rng(1)
    n = 2000
    labels = rng.choice(3, size=n, p=[0.8, 0.15, 0.05])
    ids = [rng.integers(5, VOCAB, size=int(rng.integers(2, 30))).tolist() for _ in range(n)]
    data = Dataset.from_dict({"input_ids": ids, "labels": labels.tolist()})
    batches = {}
    for strategy in ("random", "group_by_length"):
        args = make_args(tmp_path / strategy, 20, 1, sampler="weighted")
        trainer = BalancedTrainer(model=tiny_bert(), args=args, train_dataset=data, data_collator=pad_batch)
        trainer.args.train_sampling_strategy = strategy
        batches[strategy] = list(trainer.get_train_dataloader())

    def padded_share(loader: list) -> float:
        return sum(b["attention_mask"].numel() for b in loader) / sum(int(b["attention_mask"].sum()) for b in loader)

    assert padded_share(batches["random"]) > 1.5 and padded_share(batches["group_by_length"]) < 1.15
    seen = {k: np.concatenate([b["labels"].numpy() for b in v]) for k, v in batches.items()}
    assert sorted(seen["random"].tolist()) == sorted(seen["group_by_length"].tolist())  # the same draws
    np.testing.assert_allclose(np.bincount(seen["group_by_length"], minlength=3) / n, [1 / 3] * 3, atol=0.05)


def test_a_balanced_sampler_refuses_sequential_order(tmp_path):
    trainer = BalancedTrainer(model=tiny_bert(), args=make_args(tmp_path, 2, 1, sampler="weighted"),
                              train_dataset=single_label_data())
    trainer.args.train_sampling_strategy = "sequential"
    with pytest.raises(ValueError, match="train_sampling_strategy='sequential' cannot be used"):
        trainer._get_train_sampler()


def test_one_step_matches_hand_computed_sgd(tmp_path):
    """Independent reference: mean over labelled rows of weighted focal loss, plain autograd, one SGD step."""
    data = single_label_data(ignore=2)
    labels = np.array(data["labels"])
    kept = labels[labels != -100]
    weights = compute_class_weight("balanced", classes=np.arange(3), y=kept)

    model = tiny_bert()
    ref = copy.deepcopy(model)
    after = params_after_one_step(tmp_path, model, data, 2, 4, loss="focal", class_weighting="balanced")

    ids = torch.tensor(data["input_ids"])
    y = torch.tensor(labels)
    loss_fn = build_loss("focal", num_classes=3, class_weights=weights.tolist(), reduction="none")
    logits = ref(input_ids=ids).logits
    mask = y != -100
    loss = loss_fn(logits[mask], y[mask]).sum() / mask.sum()
    loss.backward()
    with torch.no_grad():
        expected = {n: p - 0.5 * p.grad for n, p in ref.named_parameters()}
    for name, value in expected.items():
        torch.testing.assert_close(after[name], value, atol=1e-5, rtol=0)


def test_compute_loss_without_num_items_is_batch_mean(tmp_path):
    data = single_label_data(ignore=2)
    trainer = BalancedTrainer(model=tiny_bert(), args=make_args(tmp_path, 8, 1), train_dataset=data, loss="focal")
    batch = {"input_ids": torch.tensor(data["input_ids"]), "labels": torch.tensor(data["labels"])}
    loss = trainer.compute_loss(trainer.model, dict(batch))
    assert trainer.loss_is_scaled_for_ga is False
    logits = trainer.model(input_ids=batch["input_ids"]).logits
    mask = batch["labels"] != -100
    expected = build_loss("focal", num_classes=3, reduction="none")(logits[mask], batch["labels"][mask]).mean()
    torch.testing.assert_close(loss, expected)
    loss2, outputs = trainer.compute_loss(trainer.model, dict(batch), return_outputs=True, num_items_in_batch=12)
    assert trainer.loss_is_scaled_for_ga is True
    torch.testing.assert_close(loss2, expected * mask.sum() / 12)
    assert outputs.logits.shape == (8, 3)


def test_class_weights_from_full_labels_and_keras_dict(tmp_path):
    data = single_label_data(n=40, seed=1, ignore=3)
    labels = np.array(data["labels"])
    trainer = BalancedTrainer(
        model=tiny_bert(), args=make_args(tmp_path, 4, 1, class_weighting="balanced"), train_dataset=data
    )
    expected = compute_class_weight("balanced", classes=np.arange(3), y=labels[labels != -100])
    np.testing.assert_allclose(trainer.class_weights_.numpy(), expected, rtol=1e-6)
    np.testing.assert_allclose(trainer.loss_fn.weight.numpy(), expected, rtol=1e-6)

    model = tiny_bert(num_labels=2)
    model.config.id2label = {0: "ham", 1: "spam"}
    model.config.label2id = {"ham": 0, "spam": 1}
    binary = Dataset.from_dict({"input_ids": [[5, 6]] * 4, "label": [0, 0, 0, 1]})
    keras = BalancedTrainer(
        model=model,
        args=make_args(tmp_path, 2, 1),
        train_dataset=binary,
        class_weights={"spam": 4.0, "ham": 1.0},
    )
    assert keras.class_weights_.tolist() == [1.0, 4.0]
    assert keras.class_counts_.tolist() == [3, 1]  # read from the "label" column


def test_default_metrics_and_model_selection(tmp_path):
    data = single_label_data(n=16, ignore=0)
    args = make_args(tmp_path, 4, 1, max_steps=2, eval_strategy="steps", eval_steps=1, per_device_eval_batch_size=8)
    assert args.metric_for_best_model == "macro_f1" and args.greater_is_better is True
    trainer = BalancedTrainer(model=tiny_bert(), args=args, train_dataset=data, eval_dataset=data, loss="focal")
    trainer.train()
    metrics = trainer.evaluate()
    for key in (
        "eval_macro_f1",
        "eval_balanced_accuracy",
        "eval_g_mean",
        "eval_f1_label_2",
        "eval_support_label_0",
    ):
        assert key in metrics
    assert trainer.state.best_metric is not None


def test_user_metrics_without_macro_f1_do_not_crash(tmp_path):
    data = single_label_data(n=16, ignore=0)
    args = make_args(tmp_path, 4, 1, max_steps=1, eval_strategy="steps", eval_steps=1)
    trainer = BalancedTrainer(
        model=tiny_bert(),
        args=args,
        train_dataset=data,
        eval_dataset=data,
        compute_metrics=lambda p: {"n": 1.0},
    )
    trainer.train()
    assert trainer.evaluate()["eval_n"] == 1.0


class _WeightRecorder(TrainerCallback):
    def __init__(self, loss_fn):
        self.loss_fn, self.seen = loss_fn, []

    def on_step_end(self, args, state, control, **kwargs):
        self.seen.append((state.epoch, self.loss_fn.weight.tolist()))


def test_deferred_reweighting_switches_at_epoch(tmp_path):
    data = single_label_data(n=16, ignore=0)
    args = make_args(
        tmp_path,
        4,
        1,
        max_steps=-1,
        num_train_epochs=3,
        loss="weighted_ce",
        class_weighting="balanced",
        drw_epoch=2.0,
    )
    trainer = BalancedTrainer(model=tiny_bert(), args=args, train_dataset=data)
    assert any(isinstance(cb, DeferredReweightingCallback) for cb in trainer.callback_handler.callbacks)
    recorder = _WeightRecorder(trainer.loss_fn)
    trainer.add_callback(recorder)
    trainer.train()
    target = trainer.class_weights_.tolist()
    assert len(recorder.seen) == 12
    for epoch, weights in recorder.seen:
        # a step that ends at epoch <= 2 began before the switch
        expected = [1.0, 1.0, 1.0] if epoch <= 2.0 + 1e-9 else target
        np.testing.assert_allclose(weights, expected, rtol=1e-6)


def test_trainer_rejects_conflicting_options(tmp_path):
    data = single_label_data()
    with pytest.raises(ValueError, match="compute_loss_func"):
        BalancedTrainer(
            model=tiny_bert(),
            args=make_args(tmp_path, 2, 1),
            train_dataset=data,
            compute_loss_func=lambda *a, **k: 0,
        )
    with pytest.raises(ValueError, match="sampler"):
        BalancedTrainer(model=tiny_bert(), args=make_args(tmp_path, 2, 1), train_dataset=data, sampler="uniform")
    with pytest.raises(ValueError, match="train_sampling_strategy"):
        BalancedTrainer(
            model=tiny_bert(),
            args=make_args(tmp_path, 2, 1, sampler="sqrt", train_sampling_strategy="sequential"),
            train_dataset=data,
        )
    with pytest.raises(ValueError, match=r"^class_weighting='balanced' cannot be used with loss='dice'"):
        BalancedTrainer(model=tiny_bert(), args=make_args(tmp_path, 2, 1), train_dataset=data, loss="dice",
                        class_weighting="balanced")
    plain = TrainingArguments(output_dir=str(tmp_path), label_smoothing_factor=0.1, use_cpu=True, report_to="none")
    with pytest.raises(ValueError, match=r"^label_smoothing_factor=0\.1 is not supported"):
        BalancedTrainer(model=tiny_bert(), args=plain, train_dataset=data)
    no_labels = Dataset.from_dict({"input_ids": [[5, 6]] * 4})
    with pytest.raises(ValueError, match="class_weighting needs the training labels"):
        BalancedTrainer(
            model=tiny_bert(),
            args=make_args(tmp_path, 2, 1),
            train_dataset=no_labels,
            class_weighting="balanced",
        )


def test_sampler_draws_reach_the_batches(tmp_path):
    """With the weighted sampler, the rare class shows up in training batches about 1/3 of the time."""
    rng = np.random.default_rng(0)
    n = 1500
    labels = rng.choice(3, size=n, p=[0.8, 0.15, 0.05])
    data = Dataset.from_dict({"input_ids": rng.integers(5, VOCAB, size=(n, 4)).tolist(), "labels": labels.tolist()})
    trainer = BalancedTrainer(
        model=tiny_bert(), args=make_args(tmp_path, 100, 1, sampler="weighted"), train_dataset=data
    )
    loader = trainer.get_train_dataloader()
    seen = np.concatenate([b["labels"].numpy() for b in loader])
    assert len(seen) == n
    shares = np.bincount(seen, minlength=3) / len(seen)
    np.testing.assert_allclose(shares, [1 / 3] * 3, atol=0.05)


class _ListDataset(torch.utils.data.Dataset):
    """A plain map-style dataset (no columns): labels are read item by item, only when needed."""

    def __init__(self, rows):
        self.rows, self.reads = rows, 0

    def __len__(self):
        return len(self.rows)

    def __getitem__(self, i):
        self.reads += 1
        return self.rows[i]


def test_plain_torch_dataset_labels_read_only_when_needed(tmp_path):
    data = single_label_data(n=12, ignore=1)
    rows = [{"input_ids": ids, "labels": y} for ids, y in zip(data["input_ids"], data["labels"])]
    lazy = _ListDataset(rows)
    BalancedTrainer(model=tiny_bert(), args=make_args(tmp_path, 4, 1), train_dataset=lazy, loss="focal")
    assert lazy.reads == 0
    eager = _ListDataset(rows)
    trainer = BalancedTrainer(
        model=tiny_bert(), args=make_args(tmp_path, 4, 1, class_weighting="balanced"), train_dataset=eager
    )
    kept = np.array([r["labels"] for r in rows if r["labels"] != -100])
    expected = compute_class_weight("balanced", classes=np.arange(3), y=kept)
    np.testing.assert_allclose(trainer.class_weights_.numpy(), expected, rtol=1e-6)
    trainer.train()


def test_overrides_take_precedence_over_args_and_are_normalised(tmp_path):
    data = single_label_data(n=12)
    args = make_args(tmp_path, 4, 1, loss="ldam", class_weighting="balanced", drw_epoch=1.0)
    trainer = BalancedTrainer(
        model=tiny_bert(), args=args, train_dataset=data, loss="Focal", loss_params='{"gamma": 0.5}'
    )
    assert type(trainer.loss_fn).__name__ == "FocalLoss" and trainer.loss_fn.gamma == 0.5
    assert trainer.loss_params == {"gamma": 0.5} and trainer.drw_epoch == 1.0
    assert trainer.class_weighting == "balanced"  # not overridden: read from args


def _named_model(multi_label: bool = False) -> BertForSequenceClassification:
    model = tiny_bert(multi_label=multi_label)
    model.config.id2label = {0: "big", 1: "middle", 2: "tiny"}
    model.config.label2id = {"big": 0, "middle": 1, "tiny": 2}
    return model


def test_a_class_missing_from_the_train_split_is_named_by_its_label(tmp_path):
    data = Dataset.from_dict({"input_ids": [[5, 6]] * 6, "labels": [0, 0, 0, 1, 1, 0]})
    named = r"class\(es\) 2 \('tiny'\) have no examples"
    with pytest.warns(UserWarning, match=named + "; their class weight is set to 0"):
        trainer = BalancedTrainer(
            model=_named_model(), args=make_args(tmp_path, 2, 1, class_weighting="balanced"), train_dataset=data
        )
    assert trainer.class_weights_.tolist()[2] == 0.0
    with pytest.raises(ValueError, match=named):
        BalancedTrainer(model=_named_model(), args=make_args(tmp_path, 2, 1), train_dataset=data, loss="ldam")
    rows = [[1.0, 0.0, 0.0], [1.0, 1.0, 0.0], [0.0, 1.0, 0.0], [1.0, 0.0, 0.0]]
    multi = Dataset.from_dict({"input_ids": [[5, 6]] * 4, "labels": rows})
    with pytest.warns(UserWarning, match=named):
        BalancedTrainer(
            model=_named_model(multi_label=True),
            args=make_args(tmp_path, 2, 1, loss="bce", class_weighting="inverse"),
            train_dataset=multi,
        )


def test_predict_keeps_the_dataset_order_when_training_is_grouped_by_length(tmp_path):
    """group_by_length groups training batches only: predictions[i] is row i (the stock Trainer would
    group evaluation batches too, in a seeded random order, and predictions would not match the rows)."""
    data = varied_length_data(n=200, seed=4)
    args = make_args(tmp_path, 8, 1, train_sampling_strategy="group_by_length", per_device_eval_batch_size=8)
    trainer = BalancedTrainer(model=tiny_bert(), args=args, train_dataset=data, data_collator=pad_batch)
    out = trainer.predict(data)
    assert out.label_ids.tolist() == data["labels"]
    one_by_one = [trainer.predict(data.select([i])).predictions[0] for i in (0, 57, 199)]
    np.testing.assert_allclose(out.predictions[[0, 57, 199]], np.stack(one_by_one), atol=1e-5)
    assert trainer.args.train_sampling_strategy == "group_by_length"  # training still groups
