"""Bad input: every case has a defined behaviour (an error naming row and column, or a counted skip).

The table in docs/robustness.md lists each input, the behaviour and the test here that checks it.
Also: numerics of the losses at extreme logits under fp16/bf16 autocast and degenerate class
weights (what tests/test_losses.py does not already cover), and the safety checks (safe YAML,
trust_remote_code off by default, private caches).
"""

from __future__ import annotations

import json
import os
import random
import stat
from pathlib import Path

import datasets
import numpy as np
import pytest
import torch

from nlp_balance import Balancer, RandomOverSampler, RandomUnderSampler, load_text_dataset
from nlp_balance.augment import (
    EDA,
    CharNoise,
    Compose,
    OneOf,
    RandomDeletion,
    RandomInsertion,
    RandomSwap,
    SentenceShuffle,
    SomeOf,
    SynonymReplacement,
    example_rng,
)
from nlp_balance.cli.main import main
from nlp_balance.data.validation import DataValidationError
from nlp_balance.training.batch_sampler import BalancedSampler

REPO = Path(__file__).resolve().parents[1]

#: Strings every component must survive: blank, huge, non-Latin, emoji, RTL, control characters, HTML.
NASTY = {
    "empty": "",
    "whitespace": " \t\n ",
    "long_100k": ("lorem ipsum dolor sit amet. " * 4000)[:100_000],
    "cjk": "你好世界。这是一个测试。再来一句！",
    "arabic_rtl": "مرحبا بالعالم. هذا اختبار بسيط.",
    "hebrew_rtl": "שלום עולם, זה מבחן.",
    "bidi_controls": "abc \u202edlrow\u202c \u200f end",
    "emoji": "I love it 😀🎉 👍🏽 family 👨\u200d👩\u200d👧 ok",
    "control_chars": "nul\x00 bell\x07 esc\x1b[31m red \x7f end",
    "html": "<p>Click <a href='http://x.y/z?a=1&b=2'>here</a> &amp; <b>win</b></p>",
    "lone_surrogate": "bad \ud800 surrogate",
    "crlf_tabs": "line one\r\nline\ttwo\rthree",
}


def _ds(texts, labels) -> datasets.Dataset:
    return datasets.Dataset.from_dict({"text": texts, "label": labels})


def _write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


# ---------------------------------------------------------------------------------------------------
# load_text_dataset
# ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("texts", "labels", "pattern"),
    [
        (["ok", ""], ["a", "b"], r"row 1 has blank text in column 'text'"),
        (["ok", " \t\n"], ["a", "b"], r"row 1 has blank text in column 'text'"),
        (["ok", None], ["a", "b"], r"row 1 has missing text in column 'text'"),
        (["ok", "fine"], ["a", None], r"row 1 has missing label in column 'label'"),
        ([1, 2], ["a", "b"], r"text column 'text' must hold strings.*row 0"),
        (["ok", "fine"], [0.5, 1.0], r"row 0 has label 0.5 in column 'label'"),
        (["ok", "fine"], [0, -1], r"row 1 has label id -1 in column 'label'"),
    ],
    ids=["empty", "whitespace", "none_text", "none_label", "int_text", "float_label", "negative_label"],
)
def test_bad_rows_are_named(texts, labels, pattern):
    with pytest.raises(DataValidationError, match=pattern):
        load_text_dataset(_ds(texts, labels))


def test_drop_invalid_skips_and_counts_every_reason():
    ds = _ds(["", None, "keep me", "  ", "and me", "no label"], ["a", "b", "a", "b", "b", None])
    out, report = load_text_dataset(ds, drop_invalid=True, return_report=True)
    assert out["text"] == ["keep me", "and me"]
    assert report.dropped == {"train": {"missing text": 1, "blank text": 2, "missing label": 1}}
    assert report.total_dropped == 4


def test_labels_outside_the_class_label_are_named():
    with pytest.raises(DataValidationError, match=r"row 2 has label 'zzz'.*not among label_names"):
        load_text_dataset(_ds(["a", "b", "c"], ["x", "y", "zzz"]), label_names=["x", "y"])
    feat = datasets.Features({"text": datasets.Value("string"), "label": datasets.Value("int64")})
    bad = datasets.Dataset.from_dict({"text": ["a", "b"], "label": [0, 5]}, features=feat)
    with pytest.raises(DataValidationError, match=r"row 1 has label id 5.*outside the 2 classes"):
        load_text_dataset(bad, label_names=["x", "y"])


def test_mixed_type_json_names_the_bad_row(tmp_path):
    path = _write_jsonl(tmp_path / "t.jsonl", [{"text": "fine", "label": "a"}, {"text": "ok", "label": "b"},
                                               {"text": ["a", "list"], "label": "a"}])
    with pytest.raises(DataValidationError, match=r"row 2: \['a', 'list'\]"):
        load_text_dataset(path)
    path = _write_jsonl(tmp_path / "l.jsonl", [{"text": "fine", "label": "a"}, {"text": "ok", "label": 3}])
    with pytest.raises(DataValidationError, match=r"row 1 has label 3 .*all be strings or all be integers"):
        load_text_dataset(path)


def test_missing_label_key_in_json_is_a_missing_label(tmp_path):
    path = _write_jsonl(tmp_path / "m.jsonl", [{"text": "a", "label": "x"}, {"text": "b"}])
    with pytest.raises(DataValidationError, match=r"row 1 has missing label"):
        load_text_dataset(path)


def test_unreadable_and_empty_files_name_the_file(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "a", "label": "x"}\n{not json\n', encoding="utf-8")
    with pytest.raises(DataValidationError, match=r"could not read '.*bad\.jsonl'"):
        load_text_dataset(bad)
    empty = tmp_path / "empty.jsonl"
    empty.write_text("", encoding="utf-8")
    with pytest.raises(DataValidationError, match=r"empty\.jsonl.*no rows"):
        load_text_dataset(empty)


def test_empty_dataset_and_all_rows_dropped_are_errors():
    feat = datasets.Features({"text": datasets.Value("string"), "label": datasets.Value("string")})
    with pytest.raises(DataValidationError, match=r"train: the split has no rows"):
        load_text_dataset(datasets.Dataset.from_dict({"text": [], "label": []}, features=feat))
    with pytest.raises(DataValidationError, match=r"no rows after dropping every row"):
        load_text_dataset(_ds(["", " "], ["a", "b"]), drop_invalid=True)


def test_nasty_but_valid_texts_load_unchanged(tmp_path):
    texts = [t for t in NASTY.values() if t.strip() and "\ud800" not in t]
    labels = ["a", "b"] * (len(texts) // 2) + ["a"] * (len(texts) % 2)
    path = tmp_path / "nasty.jsonl"
    with open(path, "w", encoding="utf-8") as fh:
        for t, lab in zip(texts, labels):
            fh.write(json.dumps({"text": t, "label": lab}, ensure_ascii=False) + "\n")
    ds = load_text_dataset(path, split="train")
    assert ds["text"] == texts  # byte for byte: nothing stripped, normalised or re-encoded


# ---------------------------------------------------------------------------------------------------
# Balancer and samplers
# ---------------------------------------------------------------------------------------------------
def _encoded(texts, labels):
    return load_text_dataset(_ds(texts, labels), split="train")


def test_class_with_one_example_reaches_its_target():
    ds = _encoded(["a b c", "d e f", "g h i", "only one here"], ["big", "big", "big", "tiny"])
    for aug in (None, RandomSwap()):
        out = Balancer(aug, seed=1).fit_resample(ds)
        assert out["label"].count(1) == 3 and out["label"].count(0) == 3
        assert set(np.asarray(out["source_index"])[np.asarray(out["label"]) == 1]) == {3}


@pytest.mark.parametrize("sampler", [Balancer(), RandomOverSampler(), RandomUnderSampler()],
                         ids=["Balancer", "RandomOverSampler", "RandomUnderSampler"])
def test_one_class_is_a_clear_error(sampler):
    ds = _encoded(["a", "b"], ["x", "x"])
    with pytest.raises(ValueError, match=r"at least 2 classes.*found 1"):
        sampler.fit_resample(ds)


def test_empty_dataset_is_a_clear_error():
    feat = datasets.Features({"text": datasets.Value("string"), "label": datasets.ClassLabel(names=["x", "y"])})
    empty = datasets.Dataset.from_dict({"text": [], "label": []}, features=feat)
    with pytest.raises(ValueError, match=r"empty dataset"):
        Balancer().fit_resample(empty)
    for sampler in (RandomOverSampler(), RandomUnderSampler()):
        with pytest.raises(ValueError, match=r"found 0"):
            sampler.fit_resample(empty)


def test_balancer_needs_class_labels_and_plain_columns():
    with pytest.raises(DataValidationError, match=r"not a ClassLabel"):
        Balancer().fit_resample(_ds(["a", "b"], ["x", "y"]))
    with pytest.raises(TypeError, match=r"map-style Dataset"):
        Balancer().fit_resample(_ds(["a", "b"], [0, 1]).to_iterable_dataset())


def test_nasty_texts_pass_through_the_balancer_intact():
    texts = [t for t in NASTY.values() if t.strip() and "\ud800" not in t]
    labels = ["big"] * (len(texts) - 2) + ["small"] * 2
    ds = _encoded(texts, labels)
    out = Balancer(Compose([RandomSwap(), CharNoise()]), seed=0).fit_resample(ds)
    assert out.select(range(len(ds)))["text"] == texts  # originals untouched
    assert all(isinstance(t, str) and t.strip() for t in out["text"])
    assert out["label"].count(1) == out["label"].count(0)


@pytest.mark.parametrize(
    ("labels", "pattern"),
    [([], r"empty label list"), ([[0, 1], [1, 0]], r"1-D array"), ([0.5, 1.0], r"integer class ids"),
     ([-100, -100], r"every label is negative")],
)
def test_balanced_sampler_bad_labels(labels, pattern):
    with pytest.raises(ValueError, match=pattern):
        BalancedSampler(labels)


# ---------------------------------------------------------------------------------------------------
# every augmenter on every nasty string
# ---------------------------------------------------------------------------------------------------
AUGMENTERS = {
    "synonym": lambda: SynonymReplacement(),
    "random_insertion": lambda: RandomInsertion(),
    "random_swap": lambda: RandomSwap(),
    "random_deletion": lambda: RandomDeletion(),
    "eda": lambda: EDA(),
    "sentence_shuffle": lambda: SentenceShuffle(),
    "char_noise": lambda: CharNoise(),
    "compose": lambda: Compose([RandomSwap(), CharNoise()]),
    "one_of": lambda: OneOf([RandomDeletion(), CharNoise()]),
    "some_of": lambda: SomeOf(2, [RandomSwap(), CharNoise(), RandomInsertion()]),
}


@pytest.fixture(scope="module", params=sorted(AUGMENTERS))
def augmenter(request):
    return AUGMENTERS[request.param]()


def test_every_augmenter_survives_every_nasty_string(augmenter):
    texts = list(NASTY.values())
    rngs = [example_rng(0, i, 0) for i in range(len(texts))]
    out = augmenter.augment_batch(texts, rngs)
    assert len(out) == len(texts)
    for name, result in zip(NASTY, out):
        assert result is None or isinstance(result, str), name
        if name == "html" and result is not None:
            assert "http://x.y/z?a=1&b=2" in result  # URLs are protected spans
    again = augmenter.augment_batch(texts, [example_rng(0, i, 0) for i in range(len(texts))])
    assert again == out  # seeded: nasty input does not make output depend on anything else


def test_augmenters_leave_right_to_left_and_emoji_characters_whole(augmenter):
    """Word-level operations never split a grapheme's code points apart or drop RTL marks in kept words."""
    if augmenter.name in ("char_noise", "compose", "one_of", "some_of"):
        pytest.skip("character noise edits characters by design")
    for seed in range(5):
        (result,) = augmenter.augment_batch([NASTY["emoji"]], [example_rng(seed, 0, 0)])
        if result is not None:
            for piece in ("👨\u200d👩\u200d👧", "👍🏽"):
                assert piece in result or piece[0] not in result


def test_wrong_constructor_arguments_name_the_value():
    with pytest.raises(ValueError, match=r"must be a number in \[0, 1\], got 2"):
        RandomSwap(aug_p=2)
    with pytest.raises(ValueError, match=r"p must be a number in \[0, 1\], got -0.1"):
        CharNoise(p=-0.1)


# ---------------------------------------------------------------------------------------------------
# CLI: exit code 2 and a one-line message, never a traceback
# ---------------------------------------------------------------------------------------------------
def _cli(argv, capsys):
    code = main(argv)
    err = capsys.readouterr().err
    return code, err


def test_cli_bad_inputs_exit_2_with_a_message(tmp_path, capsys, shared_data):
    blank = _write_jsonl(tmp_path / "blank.jsonl", [{"text": "a", "label": "x"}, {"text": "", "label": "y"}])
    bad_json = tmp_path / "bad.jsonl"
    bad_json.write_text("{oops\n", encoding="utf-8")
    out = str(tmp_path / "o.jsonl")
    trec = str(shared_data / "trec6")
    cases = [
        (["inspect", str(blank)], r"row 1 has blank text in column 'text'"),
        (["inspect", str(bad_json)], r"could not read"),
        (["inspect", str(tmp_path / "missing.jsonl")], r"no such file"),
        (["balance", trec, "--augmenter", "random_swap", "--aug-param", "bogus=1", "--out", out],
         r"augmenter 'random_swap' does not take the parameters \['bogus'\]"),
        (["balance", trec, "--augmenter", "nope", "--out", out], r"unknown augmenter 'nope'"),
        (["balance", trec, "--shard", "4/4", "--out", out], r"0 <= INDEX < COUNT|0 <= index < count"),
        (["balance", trec, "--sampling-strategy", "{NOPE: 3}", "--out", out], r"class 'NOPE'"),
        (["balance", trec, "--label-column", "lab", "--out", out], r"label column 'lab' not found"),
    ]
    for argv, pattern in cases:
        code, err = _cli(argv, capsys)
        assert code == 2, argv
        assert "Traceback" not in err
        lines = [ln for ln in err.splitlines() if ln.startswith("error:")]
        assert lines and __import__("re").search(pattern, lines[-1]), (argv, err[-500:])


def test_cli_drop_invalid_reports_the_count(tmp_path, capsys):
    data = _write_jsonl(tmp_path / "d.jsonl", [{"text": "a b", "label": "x"}, {"text": " ", "label": "y"},
                                                {"text": "c d", "label": "y"}, {"text": "e f", "label": "x"}])
    assert main(["inspect", str(data), "--drop-invalid"]) == 0
    assert "dropped 1 invalid row(s)" in capsys.readouterr().err


# ---------------------------------------------------------------------------------------------------
# recipes: errors name the key path
# ---------------------------------------------------------------------------------------------------
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
    from nlp_balance.runs.recipe import RecipeError, load_recipe

    path = tmp_path / "r.yaml"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(RecipeError, match=pattern):
        load_recipe(path)


def test_class_weights_of_the_wrong_length_fail_before_training(tmp_path, capsys, tiny_bert_dir, shared_data):
    """Only the data knows the class count: the trainer rejects the list before any step is taken."""
    recipe = tmp_path / "w.yaml"
    recipe.write_text("\n".join([
        "name: w", "seed: 1", "dataset:", f"  source: {shared_data / 'sms_spam'}", "  max_train_samples: 60",
        "model:", f"  name_or_path: {tiny_bert_dir}", "  max_length: 16",
        "training: {class_weights: [1.0, 2.0, 3.0], num_train_epochs: 1}",
        "output:", f"  dir: {tmp_path / 'run'}",
    ]) + "\n", encoding="utf-8")
    code, err = _cli(["train", str(recipe)], capsys)
    assert code == 2
    assert "training.class_weights has 3 entries but the data has 2 classes ['ham', 'spam']" in err
    assert not (tmp_path / "run" / "metrics.json").exists()


# ---------------------------------------------------------------------------------------------------
# numerics (beyond tests/test_losses.py): 1e4 logits under fp16/bf16 autocast, degenerate weights
# ---------------------------------------------------------------------------------------------------
SINGLE_LABEL = ["ce", "weighted_ce", "focal", "class_balanced", "logit_adjusted", "balanced_softmax", "ldam",
                "dice"]


def _loss(name, weights=None):
    from nlp_balance.training.losses import build_loss

    return build_loss(name, num_classes=3, class_weights=weights, class_counts=[50, 20, 3])


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
@pytest.mark.parametrize("name", SINGLE_LABEL)
def test_huge_logits_under_autocast_stay_finite(name, dtype):
    gen = torch.Generator().manual_seed(0)
    z = (torch.randn(16, 3, generator=gen) * 1e4).to(dtype).requires_grad_(True)
    t = torch.randint(0, 3, (16,), generator=gen)
    with torch.autocast("cpu", dtype=dtype):
        loss = _loss(name)(z, t)
    loss.backward()
    assert torch.isfinite(loss), (name, loss)
    assert torch.isfinite(z.grad).all()
    # the same loss on the same (rounded) logits in float32 without autocast: autocast must not change it
    ref = _loss(name)(z.detach().float(), t)
    torch.testing.assert_close(loss.detach().float(), ref, rtol=1e-4, atol=1e-2)


@pytest.mark.parametrize("name", ["ce", "weighted_ce", "focal", "logit_adjusted", "balanced_softmax", "ldam"])
def test_all_zero_class_weights_are_rejected(name):
    with pytest.raises(ValueError, match=r"all zero"):
        _loss(name, [0.0, 0.0, 0.0])


@pytest.mark.parametrize("name", ["ce", "weighted_ce", "focal", "logit_adjusted", "balanced_softmax", "ldam"])
def test_all_one_class_weights_equal_no_weights(name):
    gen = torch.Generator().manual_seed(1)
    z, t = torch.randn(12, 3, generator=gen) * 5, torch.randint(0, 3, (12,), generator=gen)
    # weighted_ce without weights derives them from the class counts; its unweighted twin is plain ce
    plain = _loss("ce" if name == "weighted_ce" else name)
    torch.testing.assert_close(_loss(name, [1.0, 1.0, 1.0])(z, t), plain(z, t))


@pytest.mark.parametrize("name", ["ce", "weighted_ce", "focal", "logit_adjusted", "balanced_softmax", "ldam"])
def test_zero_weight_class_alone_in_a_batch_is_finite_per_example(name):
    """The trainer's path (per-example losses / item count) gives 0, not NaN, for a batch of a 0-weight class."""
    from nlp_balance.training.losses import build_loss

    loss = build_loss(name, num_classes=3, class_weights=[0.0, 1.0, 1.0], class_counts=[50, 20, 3],
                      reduction="none")
    per_example = loss(torch.randn(4, 3), torch.zeros(4, dtype=torch.long))
    assert torch.isfinite(per_example).all() and float(per_example.sum()) == 0.0


def test_zero_weight_class_alone_in_a_batch_mean_is_finite():
    # PyTorch's weighted mean would be 0/0 = NaN here; the loss defines it as 0.
    loss = _loss("weighted_ce", [0.0, 1.0, 1.0])
    logits = torch.randn(4, 3, requires_grad=True)
    value = loss(logits, torch.zeros(4, dtype=torch.long))
    value.backward()
    assert float(value) == 0.0 and torch.isfinite(logits.grad).all()


# ---------------------------------------------------------------------------------------------------
# safety
# ---------------------------------------------------------------------------------------------------
def test_recipes_and_cli_values_use_safe_yaml_only():
    for path in (REPO / "nlp_balance").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert "yaml.load(" not in text and "yaml.unsafe_load" not in text and "UnsafeLoader" not in text, path
        assert "pickle.load" not in text, f"{path} unpickles data"


def test_trust_remote_code_is_off_unless_asked():
    import inspect

    from nlp_balance.augment.backtranslate import BackTranslation
    from nlp_balance.runs.recipe import ModelConfig

    assert ModelConfig().trust_remote_code is False
    from nlp_balance.evaluation.classifier import load_classifier

    assert inspect.signature(load_text_dataset).parameters["trust_remote_code"].default is False
    assert inspect.signature(load_classifier).parameters["trust_remote_code"].default is False
    params = inspect.signature(BackTranslation.__init__).parameters
    if "trust_remote_code" in params:
        assert params["trust_remote_code"].default is False
    for path in (REPO / "nlp_balance").rglob("*.py"):
        assert "trust_remote_code=True" not in path.read_text(encoding="utf-8"), path


@pytest.mark.skipif(not hasattr(os, "getuid"), reason="POSIX permissions")
def test_caches_are_private_and_shared_ones_are_refused(tmp_path, monkeypatch):
    from nlp_balance.utils.cache import DiskCache

    root = tmp_path / "cache"
    cache = DiskCache("backtranslation", root=root)
    cache.set("k", ["v"])
    for path in (root, cache.path):
        assert stat.S_IMODE(path.stat().st_mode) == 0o700
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)
    with pytest.raises(PermissionError, match=r"writable by other users"):
        DiskCache("backtranslation", root=shared)


@pytest.mark.skipif(not hasattr(os, "getuid"), reason="POSIX permissions")
def test_cache_root_from_the_environment_must_be_private(tmp_path, monkeypatch):
    """WordNet's synonym table and back-translation both cache through DiskCache under $NLP_BALANCE_CACHE."""
    from nlp_balance.utils.cache import DiskCache

    shared = tmp_path / "wn"
    shared.mkdir()
    shared.chmod(0o777)
    monkeypatch.setenv("NLP_BALANCE_CACHE", str(shared))
    with pytest.raises(PermissionError, match=r"writable by other users"):
        DiskCache("wordnet-synonyms")
    for module in ("wordnet.py", "backtranslate.py"):
        text = (REPO / "nlp_balance" / "augment" / module).read_text(encoding="utf-8")
        assert "DiskCache(" in text and "import pickle" not in text and "dill" not in text


def test_random_module_state_is_not_used(monkeypatch):
    """Every random choice flows from the seed: reseeding Python's global RNG changes nothing."""
    ds = _encoded(["a b c", "d e f", "g h i j", "k l m"], ["x", "x", "x", "y"])
    random.seed(1)
    first = Balancer(RandomSwap(), seed=5).fit_resample(ds)["text"]
    random.seed(2)
    np.random.seed(2)
    assert Balancer(RandomSwap(), seed=5).fit_resample(ds)["text"] == first
