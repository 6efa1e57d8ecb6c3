"""Tests for ContextualReplacement and ContextualInsertion through the real from_pretrained path.

The masked LMs are tiny and random (a BERT sharing MiniLM's WordPiece tokenizer, a RoBERTa-style
model with a byte-level BPE tokenizer, a DistilBERT), so the words they propose are arbitrary:
these tests check the contract (seeding, batching, protected spans, whole words, case, cache).
"""

from __future__ import annotations

import itertools
import pickle
import random
import re
from pathlib import Path
from typing import Any

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from nlp_balance.augment.base import AUGMENTERS, example_rng, get_augmenter  # noqa: E402
from nlp_balance.augment.contextual import ContextualInsertion, ContextualReplacement  # noqa: E402
from nlp_balance.augment.contextual_model import MaskedLM  # noqa: E402
from nlp_balance.augment.text import default_stopwords, tokenize  # noqa: E402

TEXTS = [
    "The Cat sat on the mat with @user at http://example.com today!",
    "WHAT IS THE CAPITAL CITY OF FRANCE?",
    "I don't like well-known movies, I watched 42 of them.",
    "Call me when you get home please.",
    "short",
    "Free entry in a weekly competition to win cup final tickets",
]


@pytest.fixture(autouse=True)
def _quiet() -> None:
    transformers.utils.logging.set_verbosity_error()


@pytest.fixture(scope="module")
def roberta_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny random RoBERTa masked LM with a byte-level BPE tokenizer (``Ġ`` word starts, ``<mask>``)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast, RobertaConfig, RobertaForMaskedLM

    out = tmp_path_factory.mktemp("tiny-roberta")
    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    specials = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]
    corpus = [t.lower() for t in TEXTS] * 3 + ["the dog ran home with the cat and the mouse today"] * 3
    bpe.train_from_iterator(corpus, trainers.BpeTrainer(vocab_size=400, special_tokens=specials,
                                                        initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    sep, cls = ("</s>", bpe.token_to_id("</s>")), ("<s>", bpe.token_to_id("<s>"))
    bpe.post_processor = processors.RobertaProcessing(sep, cls, trim_offsets=True, add_prefix_space=False)
    tok = PreTrainedTokenizerFast(tokenizer_object=bpe, bos_token="<s>", eos_token="</s>", pad_token="<pad>",
                                  unk_token="<unk>", mask_token="<mask>", model_max_length=128)
    torch.manual_seed(0)
    cfg = RobertaConfig(vocab_size=len(tok), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=64, max_position_embeddings=140, pad_token_id=tok.pad_token_id,
                        initializer_range=0.5)
    RobertaForMaskedLM(cfg).save_pretrained(out)
    tok.save_pretrained(out)
    return out


@pytest.fixture(scope="module")
def distilbert_dir(tmp_path_factory: pytest.TempPathFactory, tiny_mlm_dir: Path) -> Path:
    """A tiny random DistilBERT masked LM (several head modules: the full-forward path)."""
    from transformers import AutoTokenizer, DistilBertConfig, DistilBertForMaskedLM

    out = tmp_path_factory.mktemp("tiny-distilbert")
    tok = AutoTokenizer.from_pretrained(tiny_mlm_dir)
    torch.manual_seed(1)
    cfg = DistilBertConfig(vocab_size=len(tok), dim=32, n_layers=1, n_heads=2, hidden_dim=64, initializer_range=0.5)
    DistilBertForMaskedLM(cfg).save_pretrained(out)
    tok.save_pretrained(out)
    return out


def _rep(path: Path, **kwargs: Any) -> ContextualReplacement:
    kwargs.setdefault("cache", False)
    return ContextualReplacement(str(path), **kwargs)


def _ins(path: Path, **kwargs: Any) -> ContextualInsertion:
    kwargs.setdefault("cache", False)
    return ContextualInsertion(str(path), **kwargs)


def _whole_words(path: Path) -> set[str]:
    lm = MaskedLM(str(path), revision=None, trust_remote_code=False, device="cpu", dtype=None)
    return {w for w in lm.words if w is not None}


def test_registered_and_config_roundtrip(tiny_mlm_dir: Path) -> None:
    assert AUGMENTERS["contextual_replacement"] is ContextualReplacement
    assert AUGMENTERS["contextual_insertion"] is ContextualInsertion
    aug = get_augmenter("contextual_replacement", model=str(tiny_mlm_dir), aug_p=0.3, top_k=5, cache=False)
    cfg = aug.get_config()
    assert cfg["model"] == str(tiny_mlm_dir) and cfg["top_k"] == 5 and cfg["aug_p"] == 0.3
    assert ContextualReplacement(**cfg) == aug
    assert ContextualInsertion(**cfg) != aug  # another class, same settings


@pytest.mark.parametrize("cls", [ContextualReplacement, ContextualInsertion])
def test_seeded_per_example_whatever_the_batch(tiny_mlm_dir: Path, cls: type) -> None:
    by64 = cls(str(tiny_mlm_dir), aug_p=0.4, batch_size=64, cache=False)
    by1 = cls(str(tiny_mlm_dir), aug_p=0.4, batch_size=1, cache=False)
    first = by64(TEXTS, seed=3)
    assert by64(TEXTS, seed=3) == first
    assert by64(TEXTS, seed=4) != first
    assert by1(TEXTS, seed=3) == first  # rows padded differently, same words
    # One text alone, with the rng the whole batch gave it: the same output.
    alone = by64.augment_batch(TEXTS[2:3], [example_rng(3, 2, 0)])
    assert alone == [first[2] if first[2] != TEXTS[2] else None]
    assert sum(a != t for a, t in zip(first, TEXTS)) >= 5


@pytest.mark.parametrize("cls", [ContextualReplacement, ContextualInsertion])
def test_datasets_map_num_proc_2_matches_single_process(tiny_mlm_dir: Path, cls: type) -> None:
    from datasets import Dataset

    aug = cls(str(tiny_mlm_dir), aug_p=0.3, batch_size=5, cache=False)

    def fn(batch: dict[str, list[str]], indices: list[int]) -> dict[str, list[str | None]]:
        return {"aug": aug.augment_batch(batch["text"], [example_rng(7, i, 0) for i in indices])}

    ds = Dataset.from_dict({"text": TEXTS * 2})
    one = ds.map(fn, batched=True, batch_size=4, with_indices=True)["aug"]
    two = ds.map(fn, batched=True, batch_size=3, with_indices=True, num_proc=2)["aug"]
    assert one == two
    assert one[:6] != one[6:]  # same texts, different example seeds


def test_rows_span_texts_and_places_longest_first(tiny_mlm_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[list[int]] = []
    masks: list[int] = []
    original = MaskedLM._logits_at

    def spy(self: MaskedLM, ids: Any, mask: Any, rows: Any, positions: Any) -> Any:
        seen.append(mask.sum(1).tolist())
        masks.append(len(positions))
        assert (ids[rows, positions] == self.tokenizer.mask_token_id).all()
        return original(self, ids, mask, rows, positions)

    monkeypatch.setattr(MaskedLM, "_logits_at", spy)
    _rep(tiny_mlm_dir, aug_p=0.5, batch_size=2)(TEXTS[:4], seed=0)
    lengths = [n for batch in seen for n in batch]
    assert all(len(b) == 2 for b in seen[:-1])
    assert lengths == sorted(lengths, reverse=True)  # one order across all batches: longest first
    shared = sum(masks)
    assert shared > len(lengths)  # rows hold several masks
    # One mask per row: one row per place, several texts' rows in a batch.
    seen.clear()
    masks.clear()
    _rep(tiny_mlm_dir, aug_p=0.5, batch_size=4, max_masks_per_row=1)(TEXTS[:4], seed=0)
    assert set(masks[:-1]) == {4} and sum(masks) == sum(len(b) for b in seen) == shared


def test_masks_sharing_a_row_are_never_neighbours(tiny_mlm_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rows: list[Any] = []
    original = MaskedLM.fill

    def spy(self: MaskedLM, batch: Any, n: int, batch_size: int) -> Any:
        rows.extend(batch)
        return original(self, batch, n, batch_size)

    monkeypatch.setattr(MaskedLM, "fill", spy)
    text = "alpha beta gamma delta epsilon zeta eta theta iota kappa"
    aug = _rep(tiny_mlm_dir, aug_p=1.0, aug_max=None, stopwords=())
    aug(text, seed=0)
    assert len(rows) == 2  # every word chosen: odd and even words in two rows
    for _, positions in rows:
        assert all(b - a >= 2 for a, b in itertools.pairwise(positions))
    assert sum(len(p) for _, p in rows) == len(text.split())


def test_only_mask_positions_reach_the_head(tiny_mlm_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    aug = _rep(tiny_mlm_dir, aug_p=0.5)
    lm = aug._lm()
    shapes: list[tuple[int, ...]] = []
    lm._head.register_forward_pre_hook(lambda module, args: shapes.append(tuple(args[0].shape)))
    with_head = aug(TEXTS, seed=5)
    assert shapes and all(len(s) == 2 for s in shapes)  # [masks, hidden], never [rows, tokens, hidden]
    # The full forward pass (the path for models with several head modules) picks the same words.
    monkeypatch.setattr(lm, "_head", None)
    assert aug(TEXTS, seed=5) == with_head


@pytest.mark.parametrize("fixture", ["tiny_mlm_dir", "roberta_dir", "distilbert_dir"])
def test_any_masked_lm_writes_whole_words_only(fixture: str, request: pytest.FixtureRequest) -> None:
    path = request.getfixturevalue(fixture)
    vocab = {w.lower() for w in _whole_words(path)}
    assert vocab and not any(w.startswith(("##", "\u0120", "\u2581")) for w in vocab)
    for cls in (ContextualReplacement, ContextualInsertion):
        aug = cls(str(path), aug_p=1.0, aug_max=None, stopwords=(), cache=False)
        for seed in range(3):
            for before, after in zip(TEXTS, aug(TEXTS, seed=seed)):
                new = _new_words(before, after)
                assert all(w.lower() in vocab for w in new), (before, after, new)
                assert not re.search(r"##|\u0120|\u2581|\[MASK\]|<mask>|\[UNK\]|<unk>|\[PAD\]", after)
                if cls is ContextualInsertion:  # insertion only adds " word" after a word
                    assert _is_insertion_of(after, before), (before, after)


def _new_words(before: str, after: str) -> list[str]:
    old = [before[s:e] for s, e in tokenize(before).words]
    now = [after[s:e] for s, e in tokenize(after).words]
    pool = list(old)
    new = []
    for w in now:
        if w in pool:
            pool.remove(w)
        else:
            new.append(w)
    return new


def _is_insertion_of(after: str, before: str) -> bool:
    """Whether ``after`` is ``before`` with pieces ``" word"`` (a space, then a word that a space or the
    end follows) put in; a search over both strings, so a piece that is a prefix of a word is no match."""
    import functools

    @functools.cache
    def reduces(i: int, j: int) -> bool:
        if j == len(after):
            return i == len(before)
        piece = re.match(r" \S+(?=\s|$)", after[j:])
        if piece is not None and reduces(i, j + piece.end()):
            return True
        return i < len(before) and after[j] == before[i] and reduces(i + 1, j + 1)

    return reduces(0, 0)


def test_protected_spans_survive(tiny_mlm_dir: Path) -> None:
    text = "Email bob@mail.com or visit https://x.org/a?b=1 #deal @Ann 3.5 kg Paris, Paris!"
    spans = ["bob@mail.com", "https://x.org/a?b=1", "#deal", "@Ann", "3.5", "Paris, Paris!"]
    for cls in (ContextualReplacement, ContextualInsertion):
        aug = cls(str(tiny_mlm_dir), aug_p=1.0, aug_max=None, stopwords=(), protected_words=["paris"], cache=False)
        outs = [aug(text, seed=s) for s in range(6)]
        assert any(o != text for o in outs)
        for out in outs:
            kept = out
            for span in spans[:-1]:
                assert out.count(span) == text.count(span), (span, out)
            assert kept.count("Paris") == 2


def test_case_and_stopwords(tiny_mlm_dir: Path) -> None:
    upper = "WHAT A GREAT MOVIE TONIGHT"
    title = "Hello Dear Friend Again"
    aug = _rep(tiny_mlm_dir, aug_p=1.0, aug_max=None)
    for seed in range(4):
        out = aug(upper, seed=seed)
        assert out != upper and out == out.upper()
        assert all(w[0].isupper() and w[1:] == w[1:].lower() for w in aug(title, seed=seed).split())
    # Default stopwords are never replaced; with stopwords=() they may be.
    stop_text = "the and of to in is it"
    assert all(w in default_stopwords() for w in stop_text.split())
    assert aug(stop_text, seed=0) == stop_text
    assert _rep(tiny_mlm_dir, aug_p=1.0, aug_max=None, stopwords=())(stop_text, seed=0) != stop_text


def test_original_word_and_neighbours_are_never_proposed(tiny_mlm_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def fake_fill(self: MaskedLM, rows: Any, n: int, batch_size: int) -> list[list[list[tuple[str, float]]]]:
        return [[[("movie", 9.0), ("great", 8.0), ("tonight", 7.5), ("film", 1.0)] for _ in pos] for _, pos in rows]

    monkeypatch.setattr(MaskedLM, "fill", fake_fill)
    aug = _rep(tiny_mlm_dir, aug_p=1.0, aug_max=None, top_k=1)
    # Each place skips its own word and the words next to it, and takes the best one left:
    # great -> (not great, movie) tonight; movie -> (not great, movie, tonight) film; tonight -> great.
    assert aug("great movie tonight", seed=0) == "tonight film great"
    # Insertion skips the words on both sides of the gap: after "great", "tonight"; at the end, "great".
    ins = _ins(tiny_mlm_dir, aug_min=1, aug_max=1, aug_p=0.0, top_k=1)
    assert ins("great movie", seed=0) in {"great tonight movie", "great movie great"}


def test_top_k_top_p_and_temperature(tiny_mlm_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from nlp_balance.augment.contextual import pick_candidate

    cands = [("alpha", 5.0), ("beta", 4.0), ("gamma", 0.0), ("delta", -3.0)]
    none: frozenset[str] = frozenset()
    assert {pick_candidate(cands, none, 1, 1.0, 1.0, u / 10) for u in range(10)} == {"alpha"}
    assert {pick_candidate(cands, none, 2, 1.0, 1.0, u / 10) for u in range(10)} == {"alpha", "beta"}
    # top_p=0.7: alpha alone holds ~72% of the mass, so it is the whole nucleus.
    assert {pick_candidate(cands, none, 4, 0.7, 1.0, u / 10) for u in range(10)} == {"alpha"}
    # A high temperature flattens the distribution: every candidate gets drawn.
    flat = {pick_candidate(cands, none, 4, 1.0, 100.0, u / 10) for u in range(10)}
    assert flat == {"alpha", "beta", "gamma", "delta"}
    assert pick_candidate(cands, frozenset({"alpha", "beta"}), 1, 1.0, 1.0, 0.99) == "gamma"
    assert pick_candidate(cands, frozenset({"alpha", "beta", "gamma", "delta"}), 4, 1.0, 1.0, 0.5) is None


def test_cache_means_no_second_model_run(tiny_mlm_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    original = MaskedLM.fill

    def counting(self: MaskedLM, rows: Any, n: int, batch_size: int) -> Any:
        calls.append(len(rows))
        return original(self, rows, n, batch_size)

    monkeypatch.setattr(MaskedLM, "fill", counting)
    kwargs: dict[str, Any] = {"aug_p": 0.5, "cache": str(tmp_path / "cache")}
    first = ContextualReplacement(str(tiny_mlm_dir), **kwargs)(TEXTS, seed=1)
    assert calls
    calls.clear()
    again = ContextualReplacement(str(tiny_mlm_dir), **kwargs)  # a fresh object, as in a new process
    assert again(TEXTS, seed=1) == first
    assert calls == []
    # Another seed picks other places of the same texts: only those go through the model.
    again(TEXTS, seed=2)
    rows_seed2 = sum(calls)
    assert 0 < rows_seed2
    calls.clear()
    assert again(TEXTS, seed=1) == first and calls == []
    # The uncached run agrees with the cached one.
    assert _rep(tiny_mlm_dir, aug_p=0.5)(TEXTS, seed=1) == first
    # Settings that change the candidates are other entries.
    ContextualReplacement(str(tiny_mlm_dir), **{**kwargs, "top_k": 3})(TEXTS, seed=1)
    assert calls


def test_pickles_config_only_and_loads_lazily(tiny_mlm_dir: Path) -> None:
    from datasets.fingerprint import Hasher

    aug = _rep(tiny_mlm_dir, aug_p=0.3)
    before_bytes, before_hash = pickle.dumps(aug), Hasher.hash(aug)
    result = aug(TEXTS, seed=0)
    assert "lm" in aug.__dict__["_resources"]
    assert len(pickle.dumps(aug)) == len(before_bytes) < 2000
    assert Hasher.hash(aug) == before_hash
    clone = pickle.loads(pickle.dumps(aug))
    assert "_resources" not in clone.__dict__ and clone == aug
    assert clone(TEXTS, seed=0) == result


def test_device_and_dtype(tiny_mlm_dir: Path) -> None:
    auto = _rep(tiny_mlm_dir)
    lm = auto._lm()
    want_cuda = torch.cuda.is_available()
    assert lm.device.type == ("cuda" if want_cuda else "cpu")
    assert lm.model.dtype == (torch.bfloat16 if want_cuda and torch.cuda.is_bf16_supported() else torch.float32)
    forced = _rep(tiny_mlm_dir, device="cpu", dtype="bfloat16", aug_p=0.5)
    assert forced._lm().model.dtype == torch.bfloat16
    assert len(forced(TEXTS, seed=0)) == len(TEXTS)


def test_p_and_unchangeable_texts(tiny_mlm_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    aug = _rep(tiny_mlm_dir, p=0.0)
    monkeypatch.setattr(MaskedLM, "fill", lambda *a: pytest.fail("the model ran"))
    assert aug.augment_batch(TEXTS, [random.Random(i) for i in range(len(TEXTS))]) == [None] * len(TEXTS)
    # Nothing but protected spans and stopwords: no place to change, no model run.
    assert _rep(tiny_mlm_dir).augment_batch(["@a the 42 http://b.c", ""], [random.Random(0)] * 2) == [None, None]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"top_k": 0}, "top_k"),
        ({"top_p": 0.0}, "top_p"),
        ({"temperature": 0}, "temperature"),
        ({"batch_size": 0}, "batch_size"),
        ({"max_length": 4}, "max_length"),
        ({"dtype": "int8"}, "int8"),
        ({"aug_p": 2}, "aug_p"),
        ({"cache": 3}, "cache"),
        ({"model": ""}, "model"),
        ({"p": 1.5}, "1.5"),
    ],
)
def test_bad_arguments_name_the_value(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ContextualReplacement(**{"model": "some/model", **kwargs})


def test_refuses_a_model_without_a_mask_token(tiny_gpt2_dir: Path) -> None:
    with pytest.raises(ValueError, match="mask token"):
        ContextualReplacement(str(tiny_gpt2_dir), cache=False)("a text to change", seed=0)
