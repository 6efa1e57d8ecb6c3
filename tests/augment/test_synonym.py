"""SynonymReplacement: inflection and case kept, counts, names, real texts, and its two loops."""

from __future__ import annotations

import json
import math

import pytest
from conftest import BENCH_DATA as DATA
from hypothesis import given, settings
from hypothesis import strategies as st

from nlp_balance.augment.base import example_rng
from nlp_balance.augment.synonym import SynonymReplacement
from nlp_balance.augment.synonym_table import load_synonym_table
from nlp_balance.augment.text import tokenize
from nlp_balance.augment.word_augmenter import aug_count


@pytest.fixture(scope="module")
def table():
    return load_synonym_table()


def texts(name: str, n: int) -> list[str]:
    with open(DATA / name / "train.jsonl", encoding="utf-8") as fh:
        return [json.loads(line)["text"] for _, line in zip(range(n), fh)]


def test_films_becomes_a_plural_title_case_synonym(table) -> None:
    """The word's base synonyms come from the table; the output is each pluralised, in Title case."""
    film_synonyms = set(table.get("film", "n")) | set(table.get("film", "v"))
    seen = set()
    for seed in range(40):
        out = SynonymReplacement(aug_p=1.0, aug_max=1)("Films", seed=seed)
        assert out[0].isupper() and out[1:] == out[1:].lower()
        seen.add(out)
    bases = {s.rsplit(" ", 1)[-1] for s in film_synonyms}
    for out in seen:
        last = out.lower().rsplit(" ", 1)[-1]
        assert last.endswith("s") and (last[:-1] in bases or last[:-2] in bases or last[:-3] + "y" in bases)
    assert {"Movies", "Pictures"} & seen  # the common senses do show up


@pytest.mark.parametrize(
    ("word", "expected_any"),
    [("children", {"kids", "youngsters"}), ("stopped", {"halted", "discontinued"}), ("running", {"melting"}),
     ("says", {"tells"}), ("CARS", {"AUTOS", "AUTOMOBILES"}), ("Walks", {"Paths", "Walkways"})],
)
def test_inflection_and_case_are_kept(word: str, expected_any: set[str]) -> None:
    outs = {SynonymReplacement(aug_p=1.0)(word, seed=s) for s in range(60)}
    assert outs & expected_any, outs
    assert word not in outs or len(outs) == 1


def test_word_itself_never_chosen() -> None:
    aug = SynonymReplacement(aug_p=1.0)
    for text in texts("trec6", 100):
        out = aug(text, seed=1)
        toks_in, toks_out = tokenize(text).words, tokenize(out).words
        if len(toks_in) == len(toks_out):
            same = sum(text[a:b] == out[c:d] for (a, b), (c, d) in zip(toks_in, toks_out))
            assert same < len(toks_in) or out == text


@pytest.mark.parametrize(
    ("aug_p", "aug_min", "aug_max"), [(0.1, 1, None), (0.5, 1, None), (0.5, 1, 2), (0.0, 3, None)]
)
def test_number_of_replacements(aug_p: float, aug_min: int, aug_max: int | None) -> None:
    """Count changed words on a text whose every word has synonyms; "; " separates them unambiguously."""
    text = "happy; dog; big; house; fast; car; cold; night; old; film"
    aug = SynonymReplacement(aug_p=aug_p, aug_min=aug_min, aug_max=aug_max)
    n_words = 10
    expected = max(aug_min, math.ceil(aug_p * n_words))
    if aug_max is not None:
        expected = min(expected, aug_max)
    for seed in range(20):
        out = aug(text, seed=seed)
        pieces = out.split("; ")
        assert len(pieces) == n_words
        changed = [w for w, new in zip(text.split("; "), pieces) if w != new]
        assert len(changed) == expected, (out, changed)
    assert aug_count(10, aug_p, aug_min, aug_max) == expected


def test_text_without_synonyms_is_reported_as_none() -> None:
    aug = SynonymReplacement()
    batch = ["the of and is", "", "https://x.org 42 @me"]
    assert aug.augment_batch(batch, [example_rng(0, i) for i in range(3)]) == [None, None, None]
    assert aug("xqzt brrr") == "xqzt brrr"  # the convenience call returns unchanged texts as they were


def test_bad_parameters_name_the_value() -> None:
    with pytest.raises(ValueError, match=r"aug_p .* 1\.5"):
        SynonymReplacement(aug_p=1.5)
    with pytest.raises(ValueError, match="aug_min"):
        SynonymReplacement(aug_min=-1)
    with pytest.raises(ValueError, match=r"aug_max \(1\) must not be smaller than aug_min \(2\)"):
        SynonymReplacement(aug_min=2, aug_max=1)
    with pytest.raises(TypeError, match="stopwords"):
        SynonymReplacement(stopwords="the")


def test_real_texts_change_and_keep_length_roughly() -> None:
    aug = SynonymReplacement(aug_p=0.2)
    for name in ("trec6", "davidson_hate"):
        batch = texts(name, 300)
        outs = aug.augment_batch(batch, [example_rng(5, i, 0) for i in range(len(batch))])
        changed = [o for o in outs if o is not None]
        assert len(changed) > 0.8 * len(batch)
        for src, out in zip(batch, outs):
            if out is not None:
                assert abs(len(tokenize(out).words) - len(tokenize(src).words)) <= 3 * math.ceil(0.2 * 40)


def test_capitalised_words_inside_a_sentence_are_kept_as_names() -> None:
    text = "Where did Lord Shy walk ? Dogs bark.\nHouses stand"
    keep = SynonymReplacement(aug_p=1.0)
    changed_after_stop = 0
    for seed in range(30):
        out = keep(text, seed=seed)
        assert "Lord Shy" in out  # mid-sentence capitals: probable names
        changed_after_stop += "? Dogs" not in out or "\nHouses" not in out
    assert changed_after_stop > 0  # sentence-initial capitals (after ? . or a line break) may change
    free = SynonymReplacement(aug_p=1.0, keep_proper_nouns=False)
    assert any("Lord Shy" not in free(text, seed=s) for s in range(30))


# --- the fast path (memoised space-separated pieces) against the whole-text path -------------------
def _both_paths(aug: SynonymReplacement, text: str, seed: int) -> tuple[str | None, str | None]:
    memo = aug._candidates()
    whole = aug._replace(text, example_rng(seed, 0, 0), memo)
    fast = aug._replace_by_pieces(text, example_rng(seed, 0, 0), aug._pieces(), memo)
    return whole, fast


FAST_PATH_CONFIGS = [
    {},
    {"aug_p": 0.5},
    {"aug_p": 0.3, "keep_proper_nouns": False},
    {"aug_p": 0.0, "aug_min": 2, "aug_max": 3},
    {"pos_filter": True, "aug_p": 0.2},
]


@pytest.mark.parametrize(
    "config", FAST_PATH_CONFIGS, ids=lambda c: ",".join(f"{k}={v}" for k, v in c.items()) or "defaults"
)
def test_fast_path_equals_the_general_path(config: dict) -> None:
    """Same words, same draws, same text: the pieces path must reproduce the whole-text path exactly."""
    aug = SynonymReplacement(**config)
    checked = changed = 0
    for name in ("trec6", "davidson_hate", "sms_spam"):
        for i, text in enumerate(texts(name, 700)):
            whole, fast = _both_paths(aug, text, i)
            assert whole == fast, (name, i, text)
            checked += 1
            changed += whole is not None and whole != text
    assert changed > 0.7 * checked  # the comparison is not between two Nones


_CHARS = st.sampled_from(list("ab Cd EF  gh\n\t.,!?:;'\"()-@#/1x\x00\u2019\u00e9"))
_CHUNKS = st.sampled_from(
    ["dog", "Dogs", "HOUSE", "film", "Films", "happy", "car", "www.x.org", "a@b.com", "3.5", ". "]
)


@settings(max_examples=300, deadline=None)
@given(
    text=st.lists(_CHARS | _CHUNKS, max_size=40).map("".join),
    seed=st.integers(0, 2**32),
    keep=st.booleans(),
)
def test_fast_path_equals_the_general_path_on_any_string(text: str, seed: int, keep: bool) -> None:
    aug = SynonymReplacement(aug_p=0.5, keep_proper_nouns=keep)
    whole, fast = _both_paths(aug, text, seed)
    assert whole == fast


@settings(max_examples=100, deadline=None)
@given(
    words=st.lists(
        st.sampled_from(["dog", "Dogs", "film", "happy", "car", "the", ".", "?", "Paris", "", "x\x00y", "@me", "\n"]),
        max_size=25,
    ),
    seed=st.integers(0, 2**32),
)
def test_fast_path_equals_the_general_path_on_word_soup(words: list[str], seed: int) -> None:
    """Capitalised words after wordless pieces, empty pieces (double spaces), NUL characters."""
    text = " ".join(words)
    whole, fast = _both_paths(SynonymReplacement(aug_p=0.4), text, seed)
    assert whole == fast


def test_batch_equals_one_text_at_a_time_and_the_whole_text_path() -> None:
    """A long text, NUL characters, empty texts and runs of spaces between real texts."""
    long_text = " ".join(["The happy dog watched a film, said Ann."] * 1000)
    odd = [long_text, "a \x00 happy \x00 dog", "\x00", "", "  films  ", " \n Dogs\tbark "]
    batch = [*texts("trec6", 150), *odd, *texts("davidson_hate", 150)]
    aug = SynonymReplacement(aug_p=0.3)
    together = aug.augment_batch(batch, [example_rng(4, i, 0) for i in range(len(batch))])
    for i, text in enumerate(batch):
        rng = example_rng(4, i, 0)
        rng.random()  # the p draw of augment_batch
        whole = aug._replace(text, rng, aug._candidates())
        assert together[i] == (None if whole is None or whole == text else whole), (i, text[:80])
    assert together[150] is not None and together[150] != long_text


def test_piece_memo_is_bounded_and_clearing_it_changes_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    from nlp_balance.augment import synonym

    batch = texts("davidson_hate", 300)
    rngs = lambda: [example_rng(1, i, 0) for i in range(len(batch))]  # noqa: E731
    expected = SynonymReplacement().augment_batch(batch, rngs())
    monkeypatch.setattr(synonym, "_MAX_PIECES", 50)
    small = SynonymReplacement()
    outs = [small.augment_batch(batch[i : i + 10], rngs()[i : i + 10]) for i in range(0, len(batch), 10)]
    assert [o for chunk in outs for o in chunk] == expected
    assert 0 < len(small.resource("pieces", dict)) < 50 + 10 * 40  # cleared at the start of a batch once past the bound


def test_long_pieces_are_not_memoised() -> None:
    """Text without spaces (e.g. Chinese, or a long URL) must not fill the memo with whole texts."""
    aug = SynonymReplacement()
    unspaced = [f"\u4e2d\u6587{chr(0x4E00 + i)}\u672c,happy,dog;" * 5 for i in range(200)]
    outs = aug.augment_batch(unspaced, [example_rng(0, i, 0) for i in range(len(unspaced))])
    assert sum(o is not None for o in outs) > 150
    assert not any(len(k) > 64 for k in aug.resource("pieces", dict))


def test_user_patterns_take_the_whole_text_path() -> None:
    """A user pattern may span a space ("New York"), which the pieces path could not see."""
    aug = SynonymReplacement(aug_p=1.0, protected_patterns=[r"happy dog"])
    for seed in range(20):
        assert "happy dog" in aug("a happy dog and a happy cat", seed=seed)


def test_non_string_input_names_its_type_on_both_paths() -> None:
    for aug in (SynonymReplacement(), SynonymReplacement(protected_words=["x"])):
        with pytest.raises(TypeError, match="expected a str, got int"):
            aug.augment_batch(["a happy dog", 5], [example_rng(0, i, 0) for i in range(2)])
