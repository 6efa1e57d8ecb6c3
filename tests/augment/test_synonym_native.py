"""The compiled SynonymReplacement loop (``_synonym_native``) against the pure-Python loop.

The compiled loop must give the same text for the same seed, raise the same errors and neither
leak memory nor references. It is optional for users (no C compiler: the Python loop runs), but
the development install builds it, so a missing build fails here instead of hiding behind a skip.
"""

from __future__ import annotations

import gc
import json
import os
import random
import sys
import tracemalloc

import pytest
from conftest import BENCH_DATA as DATA
from hypothesis import given, settings
from hypothesis import strategies as st

from nlp_balance.augment import synonym
from nlp_balance.augment.base import example_rng
from nlp_balance.augment.synonym import SynonymReplacement
from nlp_balance.augment.text import tokenize

NATIVE = synonym._NATIVE

needs_native = pytest.mark.skipif(NATIVE is None, reason="see test_the_compiled_loop_is_built")


def texts(name: str, n: int) -> list[str]:
    with open(DATA / name / "train.jsonl", encoding="utf-8") as fh:
        return [json.loads(line)["text"] for _, line in zip(range(n), fh)]


def rngs(seed: int, n: int) -> list[random.Random]:
    return [example_rng(seed, i, 0) for i in range(n)]


def both(aug: SynonymReplacement, batch: list, seed: int) -> tuple[list, list]:
    """The batch through the compiled loop, then through the Python loop, with equal streams."""
    compiled = aug.augment_batch(batch, rngs(seed, len(batch)))
    synonym._NATIVE = None
    try:
        python = aug.augment_batch(batch, rngs(seed, len(batch)))
    finally:
        synonym._NATIVE = NATIVE
    return compiled, python


def same(compiled: list, python: list) -> bool:
    """Equal, and equally well-formed: a str built with the wrong storage kind can still compare
    equal, but its encoding (or ``isascii``) gives it away."""

    def form(out: list) -> list:
        return [o if o is None else (o.encode("utf-8", "surrogatepass"), o.isascii()) for o in out]

    return compiled == python and form(compiled) == form(python)


def give_candidates(aug: SynonymReplacement, text: str, candidates: tuple[str, ...]) -> list[str]:
    """Make every word of ``text`` replaceable by ``candidates``; returns the words."""
    tokens = tokenize(text)
    words = [tokens.word(i) for i in range(len(tokens.words))]
    for word in words:
        aug._candidates()[word] = candidates
    return words


def test_the_compiled_loop_is_built() -> None:
    """`pip install -e .` (scripts/setup.sh) compiles it; set NLP_BALANCE_ALLOW_PURE_PYTHON=1 to
    run the suite on an install made without a C compiler."""
    if os.environ.get("NLP_BALANCE_ALLOW_PURE_PYTHON") == "1":
        pytest.skip("pure-Python install allowed by NLP_BALANCE_ALLOW_PURE_PYTHON=1")
    assert NATIVE is not None, "nlp_balance.augment._synonym_native was not built: is a C compiler installed?"


CONFIGS = [
    {},
    {"aug_p": 0.5},
    {"aug_p": 0.3, "keep_proper_nouns": False},
    {"aug_p": 0.0, "aug_min": 2, "aug_max": 3},
    {"aug_p": 1.0},
    {"pos_filter": True, "aug_p": 0.2, "p": 0.6},
]


@needs_native
@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: ",".join(f"{k}={v}" for k, v in c.items()) or "defaults")
def test_same_text_as_the_python_loop_on_real_texts(config: dict) -> None:
    aug = SynonymReplacement(**config)
    batch = [*texts("trec6", 700), *texts("davidson_hate", 700), *texts("sms_spam", 700)]
    compiled, python = both(aug, batch, seed=3)
    assert same(compiled, python)
    assert sum(c is not None for c in compiled) > (0.4 if "p" in config else 0.7) * len(batch)


_CHARS = st.sampled_from(list("ab Cd EF  gh\n\t.,!?:;'\"([)-@#/1x\x00\u2019\u00e9\u201c\u2026\u01c5\u0130\U0001f600"))
_CHUNKS = st.sampled_from(
    ["dog", "Dogs", "HOUSE", "film", "Films", "happy", "car", "Paris", "www.x.org", "a@b.com", "3.5", ". ", "  "]
)


@needs_native
@settings(max_examples=300, deadline=None)
@given(
    batch=st.lists(st.lists(_CHARS | _CHUNKS, max_size=40).map("".join), min_size=1, max_size=6),
    seed=st.integers(0, 2**32),
    keep=st.booleans(),
)
def test_same_text_as_the_python_loop_on_any_string(batch: list[str], seed: int, keep: bool) -> None:
    compiled, python = both(SynonymReplacement(aug_p=0.5, keep_proper_nouns=keep), batch, seed)
    assert same(compiled, python)


_LETTERS = st.text(
    st.characters(whitelist_categories=("Lu", "Ll", "Lt", "Lo")) | st.sampled_from(list("aAbB")), min_size=1, max_size=6
)
SEPARATORS = [" ", "  ", ". ", "? ", "! ", ": ", "\n", ' "', " (", "\u2026 ", ", ", " \u2018", "-", "\t"]
SEPARATORS += [". " + opening for opening in ("\u201c", "\u2018", '"', "'", "(", "[", "\t", "\u201d")]
_SEPARATORS = st.sampled_from(SEPARATORS)


@needs_native
@settings(max_examples=300, deadline=None)
@given(
    parts=st.lists(st.tuples(_LETTERS, _SEPARATORS), min_size=1, max_size=25),
    synonyms=st.lists(st.text(max_size=8).map("0".__add__), min_size=1, max_size=3),  # never equal to a word
    seed=st.integers(0, 2**32),
    aug_p=st.sampled_from([0.1, 0.5, 1.0]),
)
def test_every_word_with_candidates_any_case_any_script(
    parts: list[tuple[str, str]], synonyms: list[str], seed: int, aug_p: float
) -> None:
    """Give every word of the text candidates (any script, title-case letters, non-ASCII and
    multi-word synonyms), so the case rules, the name rule after each kind of separator and the
    non-ASCII join are all exercised on both loops."""
    text = "".join(word + sep for word, sep in parts)
    aug = SynonymReplacement(aug_p=aug_p)
    words = give_candidates(aug, text, tuple(synonyms))
    compiled, python = both(aug, [text], seed)
    assert same(compiled, python)
    if words:  # the first word is never a name, so at least one word was replaced
        assert compiled[0] is not None


@needs_native
@pytest.mark.parametrize("before", ["", "word", "WORD", "Word", "w\u00f6rd"])
@pytest.mark.parametrize("after", ["Paris", "PARIS", "paris", "\u01c5ungla", "P\u00e4ris", "P\u01c5RIS"])
def test_the_name_rule_after_every_separator(before: str, after: str) -> None:
    """A capitalised word is kept as a name unless it starts a sentence: check each separator."""
    separators = [*SEPARATORS, " -- ", ".\n ", " ...", "?!  "]
    batch = [f"{before} dog{sep}{after} went{sep}{after}".strip() for sep in separators]
    aug = SynonymReplacement(aug_p=1.0)
    for text in batch:
        give_candidates(aug, text, ("cat", "Big dog", "\u00e9t\u00e9"))
    for seed in range(3):
        compiled, python = both(aug, batch, seed)
        assert same(compiled, python)
        if after[0].islower():  # not a name: replaced wherever it stands
            assert all(out is not None and not out.endswith(after) for out in compiled)


@needs_native
def test_long_texts_and_many_replacements() -> None:
    """More than 64 pieces and more than 4 replacements take the heap-allocated buffers."""
    long_text = " ".join(["The happy dog watched a film, said Ann. \u00c9t\u00e9 Films!"] * 400)
    batch = [long_text, long_text.encode("ascii", "ignore").decode(), "happy " * 300, "", " ", "\x00 happy"]
    for config in ({"aug_p": 1.0}, {"aug_p": 0.3, "keep_proper_nouns": False}, {"aug_p": 0.0, "aug_min": 7}):
        compiled, python = both(SynonymReplacement(**config), batch, seed=11)
        assert same(compiled, python)
        assert compiled[0] is not None and compiled[0] != long_text


@needs_native
@pytest.mark.parametrize("second", [5, None, b"happy dog", ["happy"]], ids=["int", "None", "bytes", "list"])
def test_a_non_string_raises_the_same_type_error(second: object) -> None:
    aug = SynonymReplacement()
    errors = []
    for native in (NATIVE, None):
        synonym._NATIVE = native
        try:
            with pytest.raises(TypeError) as info:
                aug.augment_batch(["a happy dog", second], rngs(0, 2))
            errors.append(str(info.value))
        finally:
            synonym._NATIVE = NATIVE
    assert errors[0] == errors[1]
    assert errors[0].startswith(f"expected a str, got {type(second).__name__}")


class FailingRandom(random.Random):
    """Raises on the n-th draw, to check that errors inside the loop propagate and leak nothing."""

    def __init__(self, seed: int, fail_at: int) -> None:
        super().__init__(seed)
        self.left = fail_at

    def random(self) -> float:
        self.left -= 1
        if self.left < 0:
            raise RuntimeError("rng failed")
        return super().random()


@needs_native
def test_errors_inside_the_loop_propagate() -> None:
    aug = SynonymReplacement(aug_p=1.0)
    for fail_at in range(4):
        with pytest.raises(RuntimeError, match="rng failed"):
            aug.augment_batch(["The happy dog watched a good film ."], [FailingRandom(1, fail_at)])

    def broken_fill(word: str, memo: dict) -> tuple[str, ...]:
        raise KeyError(word)

    aug.__dict__["_fill"] = broken_fill  # instance attribute: augment_batch passes self._fill
    with pytest.raises(KeyError, match="zyzzyv\u00e4"):  # a non-ASCII word is looked up through _fill
        aug.augment_batch(["zyzzyv\u00e4"], rngs(0, 1))

    def broken_pieces(piece: str, pieces: dict) -> tuple:
        raise LookupError(piece)

    aug.__dict__["_piece_words"] = broken_pieces
    with pytest.raises(LookupError, match=r"ann@b\.com"):  # a piece that may hold an e-mail goes to Python
        aug.augment_batch(["hi ann@b.com there"], rngs(0, 1))
    with pytest.raises(ValueError, match="1 texts but 2"):
        SynonymReplacement().augment_batch(["a"], rngs(0, 2))


def _held(aug: SynonymReplacement) -> list[object]:
    """The candidate tuples and strings, the packed surface-table values and the piece spans the
    memos hold; not ``()`` or strings of one character, which the interpreter shares process-wide."""
    objects = [*aug._candidates().values(), *aug._packed().values(), *aug.resource("pieces", dict).values()]
    objects += [s for v in aug._candidates().values() for s in v]
    return [o for o in objects if len(o) > 1]


@needs_native
def test_no_leaked_memory_or_references() -> None:
    batch = [*texts("davidson_hate", 1000), *texts("trec6", 1000), "\u00c9t\u00e9 happy Films", "x " * 100]
    aug = SynonymReplacement(aug_p=0.3)
    failing = ["The happy dog watched a good film ."]
    for seed in range(2):  # fill the memos: the passes below visit the same words, so they stay put
        aug.augment_batch(batch, rngs(seed, len(batch)))
        aug.augment_batch(failing, [FailingRandom(seed, 99)])
    held = _held(aug)
    before = [sys.getrefcount(o) for o in held]
    gc.collect()
    tracemalloc.start()
    try:
        start, _ = tracemalloc.get_traced_memory()
        for seed in [0, 1] * 5:
            out = aug.augment_batch(batch, rngs(seed, len(batch)))
            del out
            for fail_at in (0, 1, 2, 3):  # error paths too
                with pytest.raises(RuntimeError):
                    aug.augment_batch(failing, [FailingRandom(seed, fail_at)])
        gc.collect()
        end, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(held) > 1000
    assert [sys.getrefcount(o) for o in held] == before
    # ten passes over 2,002 texts: leaking one small string per text would be about a megabyte
    assert end - start < 100_000, f"grew by {end - start} bytes"


@needs_native
@pytest.mark.parametrize("config", CONFIGS[:4], ids=lambda c: ",".join(f"{k}={v}" for k, v in c.items()) or "defaults")
def test_a_seed_draws_what_random_random_of_it_draws(config: dict) -> None:
    """An int in place of a generator is its seed: the compiled twister gives random.Random(seed)'s
    stream, so augment_seeded gives augment_batch's text, compiled or not."""
    batch = [*texts("trec6", 300), *texts("davidson_hate", 300)]
    seeds = [0, 1, 2**32 - 1, 2**32, 2**64 - 1, *range(12345, 12345 + len(batch) - 5)]
    aug = SynonymReplacement(**config)
    expected = aug.augment_batch(batch, [random.Random(s) for s in seeds])
    assert same(aug.augment_seeded(batch, seeds), expected)
    synonym._NATIVE = None
    try:
        assert same(aug.augment_seeded(batch, seeds), expected)
    finally:
        synonym._NATIVE = NATIVE
    with pytest.raises(ValueError, match=r"\[0, 2\*\*64\)"):
        aug.augment_seeded(["a happy dog"], [2**64])
    with pytest.raises(ValueError, match="1 texts but 2 seeds"):
        aug.augment_seeded(["a"], [1, 2])


@needs_native
def test_first_look_ups_fill_the_memo_as_fill_does() -> None:
    """The compiled first look-up (lower case, stopwords, surface table) memoises the packed form of
    what _fill stores; words that are not ASCII go through _fill into the tuple memo."""
    batch = [*texts("davidson_hate", 400), *texts("sms_spam", 400), "Caf\u00e9 Films \u00e9t\u00e9"]
    compiled, python = SynonymReplacement(aug_p=1.0), SynonymReplacement(aug_p=1.0)
    compiled.augment_batch(batch, rngs(5, len(batch)))
    packed = compiled._packed()
    assert len(packed) > 1000 and any(w[:1].isupper() for w in packed) and any(not v for v in packed.values())
    assert all(w.isascii() for w in packed) and any(v.count("|") > 5 for v in packed.values())
    for word, value in packed.items():
        assert (tuple(value.split("|")) if value else ()) == python._fill(word, {}), word
    memo = compiled._candidates()
    assert memo and all(not w.isascii() for w in memo)
    for word, found in memo.items():
        assert found == python._fill(word, {}), word


def _with_surface(surface: dict[str, object]) -> SynonymReplacement:
    """An augmenter (every word replaced) whose surface table is ``surface``, on both loops."""
    from nlp_balance.augment.synonym_lookup import SynonymLookup
    from nlp_balance.augment.synonym_table import load_synonym_table

    aug = SynonymReplacement(aug_p=1.0)
    lookup = SynonymLookup(load_synonym_table(), surface=surface)  # type: ignore[arg-type]
    aug.resource("synonyms", lambda: lookup)
    return aug


@needs_native
def test_packed_values_with_other_scripts_are_cut_like_the_split_tuple() -> None:
    """A surface-table value that is not ASCII (WordNet's are) goes through the general cut, which
    must pick the candidate the Python loop's split tuple picks, first, middle and last alike."""
    surface = {"film": "movie|caf\u00e9|na\u00efve|\u00e9t\u00e9", "dog": "hound|cur", "cat": "caf\u00e9"}
    batch = ["the film and a Dog, a cat film", "Film of a dog", "a CAT and a film"] * 40
    seen: set[str] = set()
    for seed in range(5):
        aug = _with_surface(surface)
        compiled, python = both(aug, batch, seed)
        assert same(compiled, python)
        seen.update(w for out in compiled if out for w in out.lower().replace(",", "").split())
    assert {"movie", "caf\u00e9", "na\u00efve", "\u00e9t\u00e9", "hound", "cur"} <= seen


@needs_native
def test_a_surface_value_that_is_not_a_str_is_a_clear_error() -> None:
    with pytest.raises(TypeError, match="surface-table value must be a str"):
        _with_surface({"film": ("movie",)}).augment_batch(["a film"], rngs(0, 1))


_TWEET_PIECES = st.lists(
    st.sampled_from([*"aB'-_.,:;/+@#0129&!?\"", "lol", "RT", "www.", "://", "&#8220;", "@ann", "#tag", "3.5"]),
    max_size=12,
).map("".join)


@needs_native
@settings(max_examples=400, deadline=None)
@given(pieces=st.lists(_TWEET_PIECES, min_size=1, max_size=8), seed=st.integers(0, 2**32))
def test_pieces_with_protected_spans_split_into_the_same_words(pieces: list[str], seed: int) -> None:
    """ASCII pieces with mentions, hashtags, numbers, e-mail and URL triggers: the compiled analysis
    (or its hand-over to Python) finds the words the Python tokenizer finds. Every such word gets
    candidates, so a word found by one loop only changes the text."""
    text = " ".join(pieces)
    aug = SynonymReplacement(aug_p=1.0, keep_proper_nouns=False)
    give_candidates(aug, text, ("X",))
    compiled, python = both(aug, [text], seed)
    assert same(compiled, python)
