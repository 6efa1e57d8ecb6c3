"""Tests for BackTranslation through the real from_pretrained + generate path on tiny random Marian models.

The models are random, so outputs are gibberish: these tests check plumbing (counts, batching,
seeding, caching, chaining, splitting, pickling) against independent one-text-at-a-time references.
"""

from __future__ import annotations

import functools
import pickle
import random
from pathlib import Path
from typing import Any

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from conftest import build_tiny_marian  # noqa: E402
from transformers import AutoModelForSeq2SeqLM, AutoTokenizer, MarianMTModel  # noqa: E402

from nlp_balance.augment.backtranslate import BackTranslation  # noqa: E402
from nlp_balance.augment.base import AUGMENTERS, example_rng, get_augmenter  # noqa: E402

TEXTS = [
    "the cat sat on the mat",
    "how many people live in france ?",
    "free tickets to win",
    "call me please",
    "the quick fox",
    "what a great movie",
]


@pytest.fixture(scope="module")
def marian_dirs(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """Three independent tiny 'translation' models: use them as en->xx, xx->yy, yy->en."""
    transformers.utils.logging.set_verbosity_error()
    root = tmp_path_factory.mktemp("marian")
    return [str(build_tiny_marian(root / f"m{i}", seed=i)) for i in range(3)]


@pytest.fixture
def cache_dir(tmp_path: Path) -> Path:
    return tmp_path / "cache"


class GenerateCounter:
    """Counts MarianMTModel.generate calls and generated rows, per model folder."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls: list[tuple[str, int]] = []
        self.io: list[tuple[str, Any, Any]] = []  # (model, source lengths, generated ids)
        original = MarianMTModel.generate

        def counting(model: Any, *args: Any, **kwargs: Any) -> Any:
            rows = kwargs["input_ids"].shape[0] if "input_ids" in kwargs else args[0].shape[0]
            self.calls.append((model.name_or_path, rows))
            out = original(model, *args, **kwargs)
            self.io.append((model.name_or_path, kwargs["attention_mask"].sum(1), out))
            return out

        monkeypatch.setattr(MarianMTModel, "generate", counting)

    @property
    def rows(self) -> int:
        return sum(r for _, r in self.calls)


def _bt(models: list[str], **kwargs: Any) -> BackTranslation:
    """BackTranslation with a short generation limit: random models never stop on their own."""
    kwargs.setdefault("max_new_tokens", 12)
    return BackTranslation(models, **kwargs)


@functools.cache
def _load(path: str) -> tuple[Any, Any]:
    return AutoTokenizer.from_pretrained(path), AutoModelForSeq2SeqLM.from_pretrained(path).eval()


def _reference_translate(path: str, text: str, num_beams: int, n: int, max_new: int = 12) -> list[str]:
    """One text at a time, straight through from_pretrained + generate (no batching, no cache)."""
    tok, model = _load(path)
    enc = tok([text], return_tensors="pt")
    with torch.inference_mode():
        out = model.generate(
            **enc, num_beams=num_beams, num_return_sequences=n, do_sample=False, max_new_tokens=max_new
        )
    return [s.strip() for s in tok.batch_decode(out, skip_special_tokens=True)]


def test_registered_and_config_roundtrip(marian_dirs: list[str], cache_dir: Path) -> None:
    assert AUGMENTERS["backtranslation"] is BackTranslation
    aug = get_augmenter("backtranslation", models=marian_dirs[:2], num_beams=2, cache=str(cache_dir))
    cfg = aug.get_config()
    assert cfg["models"] == marian_dirs[:2] and cfg["num_beams"] == 2 and cfg["trust_remote_code"] is False
    assert BackTranslation(**cfg) == aug


def test_variant_pools_match_one_by_one_reference(marian_dirs: list[str], cache_dir: Path) -> None:
    """Batched, length-sorted beam search gives what translating each text alone gives."""
    aug = _bt(
        marian_dirs[:2],
        num_beams=3,
        num_return_sequences=2,
        batch_size=4,
        cache=str(cache_dir),
    )
    pools = aug.variants(TEXTS)
    assert len(pools) == len(TEXTS)
    for text, pool in zip(TEXTS, pools):
        pivots = list(dict.fromkeys(_reference_translate(marian_dirs[0], text, 3, 2)))
        back = [_reference_translate(marian_dirs[1], pivot, 3, 1)[0] for pivot in pivots]
        expected = [v for v in dict.fromkeys(back) if v and v != text]
        assert pool == expected
        assert len(pool) == len(set(pool)) <= 2 and text not in pool


def test_augment_batch_shapes_and_copy_selection(marian_dirs: list[str], cache_dir: Path) -> None:
    aug = _bt(marian_dirs[:2], num_beams=3, num_return_sequences=3, cache=str(cache_dir))
    pools = aug.variants(TEXTS)
    rngs = [example_rng(0, i, 0) for i in range(len(TEXTS))]
    out = aug.augment_batch(TEXTS, rngs)
    assert len(out) == len(TEXTS)
    for text, pool, o in zip(TEXTS, pools, out):
        assert (o is None) == (not pool)
        assert o is None or (o in pool and o != text)
    # Beam search: copy k gets the k-th distinct variant, then None once the pool is exhausted.
    for k in range(4):
        got = aug.augment_batch(TEXTS, [example_rng(0, i, k) for i in range(len(TEXTS))], copies=[k] * 6)
        assert got == [pool[k] if k < len(pool) else None for pool in pools]
    assert aug(TEXTS[0], copy=0) == (pools[0][0] if pools[0] else TEXTS[0])
    # The convenience call on a list: copy k of every text, unchanged where its pool has no k-th variant.
    assert aug(TEXTS, copy=1) == [pool[1] if len(pool) > 1 else text for text, pool in zip(TEXTS, pools)]
    with pytest.raises(ValueError, match="copy numbers"):
        aug.augment_batch(TEXTS[:1], rngs[:1], copies=[-1])
    with pytest.raises(ValueError, match="2 random generators"):
        aug.augment_batch(TEXTS[:1], rngs[:2])


def test_generate_batches_are_sorted_by_length_inside_each_call(
    marian_dirs: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The texts of one call (one datasets.map batch: the window) go to generate longest first, in
    batches of batch_size, and the outputs come back in input order."""
    counter = GenerateCounter(monkeypatch)
    texts = [" ".join(["word"] * n) + f" {i}" for i, n in enumerate([3, 11, 1, 7, 5, 9, 2, 6])]
    aug = _bt(marian_dirs[:2], num_beams=1, num_return_sequences=1, batch_size=3, cache=False)
    out = aug.variants(texts)
    first_hop = [lengths.tolist() for model, lengths, _ in counter.io if model == marian_dirs[0]]
    assert [len(batch) for batch in first_hop] == [3, 3, 2]
    flat = [n for batch in first_hop for n in batch]
    assert flat == sorted(flat, reverse=True) and len(set(flat)) == len(texts)
    assert out == [aug.variants([t])[0] for t in texts]


def test_p_zero_translates_nothing(marian_dirs: list[str], cache_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    counter = GenerateCounter(monkeypatch)
    aug = _bt(marian_dirs[:2], p=0.0, cache=str(cache_dir))
    assert aug.augment_batch(TEXTS, [random.Random(i) for i in range(6)]) == [None] * 6
    assert counter.calls == []


def test_round_trip_equal_to_source_gives_none(
    marian_dirs: list[str], cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When the chain hands the source text back (modulo outer spaces), there is nothing to return."""
    aug = _bt(marian_dirs[:2], num_beams=1, cache=False)
    monkeypatch.setattr(aug, "_generate", lambda hop, texts, seeds, n: [[t] * n for t in texts])
    assert aug.augment_batch([" same text ", "other"], [random.Random(0), random.Random(1)]) == [None, None]
    assert aug.variants(["same text"]) == [[]]


def test_sampling_is_seeded_per_example(marian_dirs: list[str]) -> None:
    settings: dict[str, Any] = {"num_beams": 1, "do_sample": True, "top_k": 20, "top_p": 0.95}
    by4 = _bt(marian_dirs[:2], temperature=1.3, num_return_sequences=2, batch_size=4, cache=False, **settings)
    by1 = _bt(marian_dirs[:2], temperature=1.3, num_return_sequences=2, batch_size=1, cache=False, **settings)

    def run(aug: BackTranslation, texts: list[str], seed: int, offset: int = 0) -> list[list[str]]:
        return aug.variants(texts, [example_rng(seed, offset + i, 0) for i in range(len(texts))])

    first = run(by4, TEXTS, seed=7)
    assert run(by4, TEXTS, seed=7) == first
    assert run(by4, TEXTS, seed=8) != first
    # Per-row generators: a text's samples do not depend on its batch neighbours or the batch size.
    assert run(by1, TEXTS, seed=7) == first
    assert run(by4, TEXTS[2:3], seed=7, offset=2) == first[2:3]
    assert all(len(pool) <= 2 for pool in first)
    assert sum(len(pool) for pool in first) > len(TEXTS)  # random models do produce distinct samples


def test_auto_generation_limit_is_per_text(marian_dirs: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """With max_new_tokens=None each text gets its own limit, whatever it shares a batch with."""
    counter = GenerateCounter(monkeypatch)
    big = BackTranslation(marian_dirs[:2], num_beams=1, batch_size=4, cache=False)
    texts = [*TEXTS[2:5], "the cat sat on the mat and looked at the dog"]
    pools = big.variants(texts)
    assert pools == BackTranslation(marian_dirs[:2], num_beams=1, batch_size=1, cache=False).variants(texts)
    # Each source is translated once per instance (4 rows for batch_size=4, 4 for batch_size=1).
    first_hop_rows = [rows for name, rows in counter.calls if name == marian_dirs[0]]
    assert sum(first_hop_rows) == 2 * len(texts)
    # And no text generated more than its own limit of 2 x its source length + 16 tokens.
    tok = AutoTokenizer.from_pretrained(marian_dirs[0])
    for _, source_lengths, out in counter.io:
        ended = (out[:, 1:] == tok.eos_token_id) | (out[:, 1:] == tok.pad_token_id)  # 1: = after start
        assert ended.any(1).all()
        generated = ended.int().argmax(1) + 1  # tokens up to and including the first </s>
        assert (generated <= 2 * source_lengths + 16).all(), (generated, source_lengths)


def test_cache_means_no_second_translation(
    marian_dirs: list[str], cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    counter = GenerateCounter(monkeypatch)
    kwargs: dict[str, Any] = {
        "num_beams": 2,
        "num_return_sequences": 2,
        "batch_size": 2,
        "cache": str(cache_dir),
    }
    first = _bt(marian_dirs[:2], **kwargs).variants(TEXTS[:3])
    assert counter.calls and {name for name, _ in counter.calls} == set(marian_dirs[:2])
    assert sum(r for name, r in counter.calls if name == marian_dirs[0]) == 3  # each source once
    counter.calls.clear()
    # A fresh object (as in a new process): everything comes from disk, generate is never called.
    again = _bt(marian_dirs[:2], **kwargs)
    assert again.variants(TEXTS[:3]) == first
    assert counter.calls == []
    assert "model:0" not in again.__dict__.get("_resources", {})  # the model was not even loaded
    # Only new inputs are translated; duplicates inside a call are translated once.
    assert again.variants(TEXTS[:4] + TEXTS[3:4])[:3] == first
    assert sum(r for name, r in counter.calls if name == marian_dirs[0]) == 1
    # Different generation settings are different cache entries.
    counter.calls.clear()
    _bt(marian_dirs[:2], **{**kwargs, "num_beams": 3}).variants(TEXTS[:1])
    assert counter.calls


def test_cache_survives_a_crash(marian_dirs: list[str], cache_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    counter = GenerateCounter(monkeypatch)
    aug = _bt(marian_dirs[:2], num_beams=1, batch_size=2, cache=str(cache_dir))
    original = BackTranslation._generate
    calls = {"n": 0}

    def crash_on_second_batch(self: BackTranslation, *args: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt("simulated crash")
        return original(self, *args)

    monkeypatch.setattr(BackTranslation, "_generate", crash_on_second_batch)
    with pytest.raises(KeyboardInterrupt):
        aug.variants(TEXTS[:4])
    monkeypatch.setattr(BackTranslation, "_generate", original)
    counter.calls.clear()
    result = _bt(marian_dirs[:2], num_beams=1, batch_size=2, cache=str(cache_dir)).variants(TEXTS[:4])
    # The first batch (2 texts) was stored before the crash: only 2 sources are translated again.
    assert sum(r for name, r in counter.calls if name == marian_dirs[0]) == 2
    assert result == _bt(marian_dirs[:2], num_beams=1, cache=False).variants(TEXTS[:4])


def test_chain_through_two_pivots(marian_dirs: list[str], cache_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    counter = GenerateCounter(monkeypatch)
    aug = _bt(marian_dirs, num_beams=2, cache=str(cache_dir))
    pools = aug.variants(TEXTS[:3])
    assert [name for name, _ in counter.calls] == marian_dirs  # one batch per hop, in chain order
    for text, pool in zip(TEXTS[:3], pools):
        hop = text
        for path in marian_dirs:
            hop = _reference_translate(path, hop, 2, 1)[0]
        assert pool == ([hop] if hop and hop != text else [])
    assert pools != _bt(marian_dirs[:2], num_beams=2, cache=False).variants(TEXTS[:3])


def test_long_text_is_split_by_sentence_and_rejoined(marian_dirs: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    counter = GenerateCounter(monkeypatch)
    sentences = ["The cat sat on the mat.", "Dr. Smith called me at home!", "What is the capital of France?"]
    long_text = " ".join(sentences)
    tok = AutoTokenizer.from_pretrained(marian_dirs[0])
    limit = max(len(tok(s)["input_ids"]) for s in sentences) + 1
    assert len(tok(long_text)["input_ids"]) > limit  # the text really is over the limit
    aug = _bt(marian_dirs[:2], num_beams=1, max_source_tokens=limit, cache=False)
    chunks = aug._chunks([long_text, "short one"])
    assert chunks[1] == ["short one"]
    assert " ".join(chunks[0]) == long_text and len(chunks[0]) >= 2
    assert all(len(tok(c)["input_ids"]) <= limit for c in chunks[0])
    # Each sentence boundary from nupunkt is kept ("Dr." is not a boundary).
    assert all(any(c.startswith(s) for c in chunks[0]) for s in sentences if s.startswith(("The", "What")))
    pool = aug.variants([long_text])[0]
    expected = " ".join(
        _reference_translate(marian_dirs[1], _reference_translate(marian_dirs[0], c, 1, 1)[0], 1, 1)[0]
        for c in chunks[0]
    )
    assert pool == [expected]
    assert counter.calls[0] == (marian_dirs[0], len(chunks[0]))  # chunks, not the whole text, were sent
    # An over-long single sentence is cut between words.
    words = " ".join(["cat"] * 80)
    pieces = aug._chunks([words])[0]
    assert len(pieces) > 1 and " ".join(pieces) == words
    assert all(len(tok(p)["input_ids"]) <= limit for p in pieces)


def test_pickles_config_only_and_loads_lazily(marian_dirs: list[str], cache_dir: Path) -> None:
    from datasets.fingerprint import Hasher

    aug = _bt(marian_dirs[:2], num_beams=2, cache=str(cache_dir))
    before_bytes, before_hash = pickle.dumps(aug), Hasher.hash(aug)
    result = aug.variants(TEXTS[:2])
    assert "model:0" in aug.__dict__["_resources"]  # loaded by use
    assert len(pickle.dumps(aug)) == len(before_bytes) < 2000  # the model never travels
    assert Hasher.hash(aug) == before_hash  # stable datasets fingerprint after use
    clone = pickle.loads(pickle.dumps(aug))
    assert "_resources" not in clone.__dict__ and clone == aug
    assert clone.variants(TEXTS[:2]) == result


def test_device_dtype_and_loading_options(marian_dirs: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[dict[str, Any]] = []
    original = AutoModelForSeq2SeqLM.from_pretrained.__func__  # type: ignore[attr-defined]

    def spy(cls: Any, *args: Any, **kwargs: Any) -> Any:
        seen.append(kwargs)
        return original(cls, *args, **kwargs)

    monkeypatch.setattr(AutoModelForSeq2SeqLM, "from_pretrained", classmethod(spy))
    auto = _bt(marian_dirs[:2], num_beams=1, cache=False)
    auto.variants(TEXTS[:1])
    want_cuda = torch.cuda.is_available()
    model = auto._model(0)
    assert model.device.type == ("cuda" if want_cuda else "cpu")
    assert model.dtype == (torch.bfloat16 if want_cuda and torch.cuda.is_bf16_supported() else torch.float32)
    assert all(kw["trust_remote_code"] is False for kw in seen)
    forced = _bt(marian_dirs[:2], num_beams=1, device="cpu", dtype="bfloat16", cache=False)
    assert len(forced.variants(TEXTS[:2])) == 2
    assert forced._model(0).dtype == torch.bfloat16 and forced._model(0).device.type == "cpu"
    trusting = _bt(marian_dirs[:2], trust_remote_code=True, cache=False)
    trusting._model(0)
    assert seen[-1]["trust_remote_code"] is True


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"models": ["only-one"]}, "at least two"),
        ({"models": "a-string"}, "at least two"),
        ({"batch_size": 0}, "batch_size"),
        ({"num_beams": 2, "num_return_sequences": 3}, "num_return_sequences=3"),
        ({"do_sample": True, "num_beams": 4}, "num_beams=1"),
        ({"top_p": 0.0, "num_beams": 1}, "top_p"),
        ({"temperature": 0, "num_beams": 1}, "temperature"),
        ({"dtype": "int8"}, "int8"),
        ({"revision": ["main"]}, "one per model"),
        ({"max_new_tokens": 0}, "max_new_tokens"),
        ({"p": 1.5}, "1.5"),
    ],
)
def test_bad_arguments_name_the_value(kwargs: dict[str, Any], message: str) -> None:
    params = {"models": ["a", "b"], **kwargs}
    with pytest.raises(ValueError, match=message):
        BackTranslation(**params)


def test_datasets_map_num_proc_2_matches_single_process(marian_dirs: list[str], cache_dir: Path) -> None:
    """Through datasets.map: same output for num_proc=1 and 2 (sampling, seeded per example)."""
    from datasets import Dataset

    aug = _bt(marian_dirs[:2], num_beams=1, do_sample=True, cache=str(cache_dir))

    def fn(batch: dict[str, list[str]], indices: list[int]) -> dict[str, list[str | None]]:
        return {"aug": aug.augment_batch(batch["text"], [example_rng(3, i, 0) for i in indices])}

    ds = Dataset.from_dict({"text": TEXTS * 2})
    one = ds.map(fn, batched=True, batch_size=4, with_indices=True)["aug"]
    two = ds.map(fn, batched=True, batch_size=4, with_indices=True, num_proc=2)["aug"]
    assert one == two
    assert one[:6] != one[6:]  # same texts, different example seeds
