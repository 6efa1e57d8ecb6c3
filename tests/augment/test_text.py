"""Text safety for every text augmenter, plus the tokeniser, case matching and splicing helpers.

The property tests build texts from known pieces (words, separators, protected spans), so the
expected shape of an output is known from the generator, not from the code under test.
"""

from __future__ import annotations

import itertools
import json
import pickle
import re

import pytest
from conftest import BENCH_DATA as DATA
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nlp_balance.augment.base import example_rng
from nlp_balance.augment.compose import Compose, OneOf, SomeOf
from nlp_balance.augment.eda import EDA, RandomDeletion, RandomInsertion, RandomSwap
from nlp_balance.augment.noise import CharNoise
from nlp_balance.augment.shuffle import SentenceShuffle
from nlp_balance.augment.synonym import SynonymReplacement
from nlp_balance.augment.text import Protector, default_stopwords, match_case, resolve_stopwords, splice, tokenize


def load_texts(name: str, n: int = 200) -> list[str]:
    with open(DATA / name / "train.jsonl", encoding="utf-8") as fh:
        return [json.loads(line)["text"] for _, line in zip(range(n), fh)]


def all_augmenters() -> list:
    return [
        SynonymReplacement(aug_p=0.3),
        SynonymReplacement(aug_p=0.3, pos_filter=True),
        RandomInsertion(aug_p=0.2),
        RandomSwap(aug_p=0.2),
        RandomDeletion(aug_p=0.2),
        EDA(),
        SentenceShuffle(),
        CharNoise(char_p=0.1),
        Compose([SynonymReplacement(p=0.5), CharNoise(p=0.5)]),
        OneOf([RandomSwap(), RandomDeletion()]),
        SomeOf(1, [RandomSwap(), CharNoise()]),
    ]


AUGMENTERS = all_augmenters()
IDS = [f"{type(a).__name__}{i}" for i, a in enumerate(AUGMENTERS)]

# --- generated texts with known pieces --------------------------------------------------------------

WORDS = ["films", "Films", "FILMS", "good", "Good", "character", "ran", "children", "quickly", "house",
         "the", "What", "is", "don't", "well-known", "Russia", "big", "car", "walked", "I", "a"]
PROTECTED = ["https://example.com/a?b=1&c=2", "www.test.org/page", "bob.smith@mail.com", "@user_1",
             "#TBT", "3.14", "1,000", "42nd", "2019"]
SEPS = [" ", "  ", "\n", ", ", ". ", "! ", "\t", " (", ") ", " - ", "?\n\n"]
# separators that no synonym contains: with these, which output stretch replaced which word is unambiguous
MARKED_SEPS = [", ", "; ", "! ", "\n", " (", ") ", "?\n\n", " / "]


@st.composite
def pieced_text(draw: st.DrawFn, seps: list[str] = SEPS) -> tuple[str, list[tuple[str, str]]]:
    """A text and its pieces: ("w", word), ("s", separator), ("p", protected span)."""
    n = draw(st.integers(1, 12))
    pieces: list[tuple[str, str]] = []
    if draw(st.booleans()):
        pieces.append(("s", draw(st.sampled_from(seps))))
    for i in range(n):
        if draw(st.integers(0, 4)) == 0:
            pieces.append(("p", draw(st.sampled_from(PROTECTED))))
        else:
            pieces.append(("w", draw(st.sampled_from(WORDS))))
        if i < n - 1 or draw(st.booleans()):
            sep = draw(st.sampled_from(seps))
            pieces.append(("s", sep))
    # protected spans need whitespace around them to be recognised as such
    fixed: list[tuple[str, str]] = []
    for k, (kind, val) in enumerate(pieces):
        if kind == "p":
            if fixed and not fixed[-1][1][-1:].isspace():
                fixed.append(("s", " "))
            fixed.append((kind, val))
            if k + 1 < len(pieces) and not pieces[k + 1][1][:1].isspace():
                fixed.append(("s", " "))
        else:
            fixed.append((kind, val))
    return "".join(v for _, v in fixed), fixed


def protected_in(pieces: list[tuple[str, str]]) -> list[str]:
    return [v for k, v in pieces if k == "p"]


def non_letters(text: str) -> list[str]:
    """Characters that are neither letters, in-word apostrophes/hyphens, nor spaces, in order."""
    return [c for c in re.sub(r"[A-Za-z'-]+", "", text) if not c.isspace()]


FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.mark.parametrize("aug", AUGMENTERS, ids=IDS)
@FAST
@given(data=pieced_text(), seed=st.integers(0, 10**6))
def test_protected_spans_survive_verbatim(aug, data, seed) -> None:
    text, pieces = data
    out = aug(text, seed=seed)
    assert isinstance(out, str) and out
    for token in protected_in(pieces):
        assert out.count(token) >= text.count(token), (token, text, out)
    if not isinstance(aug, (SentenceShuffle, RandomInsertion, EDA, OneOf, SomeOf, Compose)):
        # these never move a protected span: their order is the same
        spans_in = [text[s:e] for s, e in Protector().spans(text)]
        spans_out = [out[s:e] for s, e in Protector().spans(out)]
        assert [t for t in spans_out if t in PROTECTED] == [t for t in spans_in if t in PROTECTED]


@pytest.mark.parametrize("aug", AUGMENTERS, ids=IDS)
@FAST
@given(text=st.text(max_size=80), seed=st.integers(0, 10**6))
def test_any_string_gives_a_string(aug, text, seed) -> None:
    out = aug(text, seed=seed)
    assert isinstance(out, str)
    if text:
        assert out != ""
    raw = aug.augment_batch([text], [example_rng(seed, 0, 0)])
    assert raw[0] is None or (isinstance(raw[0], str) and raw[0] != text and raw[0] != "")


@pytest.mark.parametrize("aug", [a for a in AUGMENTERS if not isinstance(a, SentenceShuffle)], ids=IDS[:6] + IDS[7:])
@FAST
@given(data=pieced_text(), seed=st.integers(0, 10**6))
def test_separators_punctuation_and_line_breaks_kept(aug, data, seed) -> None:
    """Word-level augmenters change words only: punctuation, digits and line breaks stay in order."""
    text, _ = data
    out = aug(text, seed=seed)
    assert out.count("\n") == text.count("\n")
    if not isinstance(aug, (SynonymReplacement, RandomInsertion, EDA, Compose)):  # synonyms may add - or '
        assert non_letters(out) == non_letters(text)


@FAST
@given(data=pieced_text(MARKED_SEPS), seed=st.integers(0, 10**6))
def test_synonym_output_matches_the_pieces(data, seed) -> None:
    """Oracle built from the generator: every gap is kept, each word is kept or replaced in its case."""
    text, pieces = data
    aug = SynonymReplacement(aug_p=0.5)
    out = aug(text, seed=seed)
    pattern = "".join(
        r"([A-Za-z][A-Za-z '.-]*?)" if kind == "w" else re.escape(val) for kind, val in pieces
    )
    m = re.fullmatch(pattern, out, flags=re.DOTALL)
    assert m, (text, out)
    words = [v for k, v in pieces if k == "w"]
    for original, new in zip(words, m.groups()):
        if new == original:
            continue
        assert original.lower() not in default_stopwords()
        if len(original) > 1 and original.isupper():
            assert new == new.upper()
        elif original[0].isupper():
            assert new[0].isupper()
        else:
            assert new == new.lower()


@FAST
@given(data=pieced_text(), seed=st.integers(0, 10**6))
def test_swap_is_a_permutation_in_place(data, seed) -> None:
    text, pieces = data
    out = RandomSwap(aug_p=0.5)(text, seed=seed)
    pattern = "".join(r"([A-Za-z'-]+)" if kind == "w" else re.escape(val) for kind, val in pieces)
    m = re.fullmatch(pattern, out, flags=re.DOTALL)
    assert m, (text, out)
    assert sorted(m.groups()) == sorted(v for k, v in pieces if k == "w")


# --- determinism on real texts -------------------------------------------------------------------


@pytest.mark.parametrize("aug", AUGMENTERS, ids=IDS)
def test_seeded_and_independent_of_batching(aug) -> None:
    texts = load_texts("trec6", 40) + load_texts("davidson_hate", 40)
    rngs = lambda seed: [example_rng(seed, i, 0) for i in range(len(texts))]  # noqa: E731
    full = aug.augment_batch(texts, rngs(7))
    assert aug.augment_batch(texts, rngs(7)) == full
    split_rngs = rngs(7)
    halves = aug.augment_batch(texts[:13], split_rngs[:13]) + aug.augment_batch(texts[13:], split_rngs[13:])
    assert halves == full
    one_by_one = [aug.augment_batch([t], [r])[0] for t, r in zip(texts, rngs(7))]
    assert one_by_one == full
    assert aug.augment_batch(texts, rngs(8)) != full
    assert sum(o is not None for o in full) > 5  # most trec6 questions are one sentence: few shuffles


@pytest.mark.parametrize("aug", AUGMENTERS, ids=IDS)
def test_pickle_keeps_config_only_and_gives_identical_output(aug) -> None:
    texts = load_texts("trec6", 20)
    before = aug(texts, seed=3)  # loads resources (synonym table) into the instance
    blob = pickle.dumps(aug)
    assert len(blob) < 5_000  # configuration only, no table or model inside
    clone = pickle.loads(blob)
    assert clone.describe() == aug.describe()
    assert "_resources" not in clone.__dict__
    assert clone(texts, seed=3) == before


# --- helpers ------------------------------------------------------------------------------------------


def test_tokenize_offsets_and_protected_spans() -> None:
    text = "RT @bob: see https://t.co/x1, mail a.b@c.org!  Won 3.5 times #win\nDon't well-known"
    toks = tokenize(text)
    words = [text[s:e] for s, e in toks.words]
    prot = [text[s:e] for s, e in toks.protected]
    assert words == ["RT", "see", "mail", "Won", "times", "Don't", "well-known"]
    assert prot == ["@bob", "https://t.co/x1", "a.b@c.org", "3.5", "#win"]
    spans = sorted(toks.words + toks.protected)
    assert all(e1 <= s2 for (_, e1), (s2, _) in itertools.pairwise(spans))  # no overlaps


def test_user_protected_words_and_patterns() -> None:
    p = Protector(protected_words=["New York", "apple"], protected_patterns=[r"\bID-\w+"])
    text = "new york has an Apple pie and ID-77x; pineapple stays"
    got = [text[s:e] for s, e in p.spans(text)]
    assert got == ["new york", "Apple", "ID-77x"]
    aug = SynonymReplacement(aug_p=1.0, protected_words=["house", "car"], protected_patterns=[r"big\w*"])
    for seed in range(10):
        out = aug("The house and the car are bigger", seed=seed)
        assert "house" in out and "car" in out and "bigger" in out
    with pytest.raises(ValueError, match=r"\[unclosed"):
        Protector(protected_patterns=["[unclosed"])
    with pytest.raises(TypeError, match="list of words"):
        SynonymReplacement(protected_words="house")


@pytest.mark.parametrize(
    ("template", "word", "expected"),
    [("films", "movies", "movies"), ("Films", "movies", "Movies"), ("FILMS", "motion pictures", "MOTION PICTURES"),
     ("I", "one", "One"), ("iPhone", "phone", "phone"), ("Films", "motion picture", "Motion picture")],
)
def test_match_case(template: str, word: str, expected: str) -> None:
    assert match_case(template, word) == expected


def test_splice_keeps_everything_outside_edits() -> None:
    text = "a  b\nc, d"
    assert splice(text, [(3, 4, "BB"), (5, 6, "C C")]) == "a  BB\nC C, d"
    assert splice(text, [(1, 1, " x"), (1, 1, " y")]) == "a x y  b\nc, d"
    with pytest.raises(ValueError, match="overlapping"):
        splice(text, [(0, 4, ""), (3, 5, "")])


def test_stopwords_default_and_replaceable() -> None:
    sw = default_stopwords()
    assert {"the", "is", "don't", "of"} <= sw and "film" not in sw
    assert resolve_stopwords(["The", "Film"]) == {"the", "film"}
    assert resolve_stopwords(()) == frozenset()
    text = "the film is good"
    for seed in range(5):  # with "film" a stopword and aug_min 1, only "good" can change
        out = SynonymReplacement(aug_p=1.0, stopwords=["film", "the", "is"])(text, seed=seed)
        assert out.startswith("the film is ") and out != text


def _reference_spans(text: str) -> list[tuple[int, int]]:
    """The declared built-in patterns run one by one over the whole text, their matches merged."""
    from nlp_balance.augment.text import DEFAULT_PROTECTED_PATTERNS

    found = sorted(m.span() for _, pat in DEFAULT_PROTECTED_PATTERNS for m in re.finditer(pat, text))
    merged: list[tuple[int, int]] = []
    for s, e in found:
        if merged and s < merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], e))
        else:
            merged.append((s, e))
    return merged


@pytest.mark.parametrize("name", ["davidson_hate", "sms_spam", "trec6"])
def test_builtin_spans_equal_the_declared_patterns_on_real_texts(name: str) -> None:
    # Protector finds mentions, hashtags and numbers from their literal characters (speed); the result
    # must be the union of what DEFAULT_PROTECTED_PATTERNS match, which is what the docs promise.
    protector = Protector()
    texts = load_texts(name, 3000)
    assert sum(bool(_reference_spans(t)) for t in texts) > 100  # the data does exercise the patterns
    for text in texts:
        assert protector.spans(text) == _reference_spans(text), text


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet="ab1٣é_@#.:/-+ w\n'\"<>", max_size=40))
def test_builtin_spans_equal_the_declared_patterns_on_any_string(text: str) -> None:
    assert Protector().spans(text) == _reference_spans(text)
