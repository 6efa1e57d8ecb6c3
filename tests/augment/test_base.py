"""The augmenter contract: the registry, and what every registered augmenter does with bad input and Ctrl-C."""

from __future__ import annotations

import random
from collections.abc import Callable

import pytest

from nlp_balance.augment import (
    AUGMENTERS,
    Augmenter,
    BackTranslation,
    CharNoise,
    Compose,
    OneOf,
    RandomSwap,
    SimilarityFilter,
    SomeOf,
    get_augmenter,
    register_augmenter,
)

# The registered augmenters that need constructor arguments; every other one is built with none.
# Nothing here loads a model: back-translation and the similarity filter fail or stop before that.
NEEDS_ARGUMENTS: dict[str, Callable[[], Augmenter]] = {
    "backtranslation": lambda: BackTranslation(models=["not/loaded-1", "not/loaded-2"], cache=False),
    "compose": lambda: Compose([RandomSwap()]),
    "one_of": lambda: OneOf([RandomSwap(), CharNoise()]),
    "some_of": lambda: SomeOf(1, [RandomSwap(), CharNoise()]),
    "similarity_filter": lambda: SimilarityFilter(augmenter=RandomSwap()),
}
# Every augmenter this package registers (tests elsewhere may register their own).
PACKAGE_AUGMENTERS = sorted(n for n, c in AUGMENTERS.items() if c.__module__.startswith("nlp_balance.augment."))
TEXT = "The happy dog watched a long film. It was good! Was it too long? Yes, said Ann."


def build(name: str) -> Augmenter:
    return NEEDS_ARGUMENTS[name]() if name in NEEDS_ARGUMENTS else AUGMENTERS[name]()


def test_every_augmenter_of_the_package_is_covered() -> None:
    assert len(PACKAGE_AUGMENTERS) >= 12 and set(NEEDS_ARGUMENTS) <= set(PACKAGE_AUGMENTERS)
    for name in PACKAGE_AUGMENTERS:
        assert build(name).name == name


# --- bad input to the convenience call ------------------------------------------------------------

BAD_INPUTS = [
    (None, "got NoneType"),
    (b"hello", "got bytes (decode it to str first)"),
    ([b"hello"], "got bytes at position 0 (decode it to str first)"),
    (["fine", 5], "got int at position 1"),
    ({"text": "a dict"}, "got dict"),
    (("fine", None), "got NoneType at position 1"),
    (iter(["a generator"]), "got list_iterator (convert it with list(...) first)"),
]


@pytest.mark.parametrize("name", PACKAGE_AUGMENTERS)
@pytest.mark.parametrize(("texts", "expected"), BAD_INPUTS, ids=lambda v: type(v).__name__)
def test_bad_input_is_one_type_error_naming_type_and_position(name: str, texts: object, expected: str) -> None:
    aug = build(name)
    with pytest.raises(TypeError) as info:
        aug(texts)  # type: ignore[call-overload]
    assert str(info.value) == f"{type(aug).__name__} expects a str or a list of str; {expected}"


def test_bad_input_is_refused_before_any_work(monkeypatch: pytest.MonkeyPatch) -> None:
    """No random stream is drawn and no resource is loaded for a call that is refused."""
    aug = RandomSwap()
    monkeypatch.setattr(aug, "augment_batch", lambda *a: pytest.fail("augment_batch ran"))
    with pytest.raises(TypeError, match="position 2"):
        aug(["a b c", "d e f", 7])
    assert "_resources" not in aug.__dict__


@pytest.mark.parametrize("name", ["random_swap", "char_noise", "sentence_shuffle", "synonym", "eda", "compose"])
def test_good_input_in_any_accepted_shape_gives_the_same_texts(name: str) -> None:
    aug = build(name)
    as_list = aug([TEXT, "two words", ""], seed=3)
    assert isinstance(as_list, list) and len(as_list) == 3
    assert aug((TEXT, "two words", ""), seed=3) == as_list
    assert aug(TEXT, seed=3) == as_list[0] and aug([], seed=3) == []
    assert as_list[0] != TEXT  # the text did change: the comparison is not between unchanged inputs


# --- Ctrl-C ---------------------------------------------------------------------------------------------


class InterruptingRandom(random.Random):
    """Raises KeyboardInterrupt (what Ctrl-C raises) on its n-th draw."""

    def __init__(self, fail_at: int) -> None:
        super().__init__(0)
        self.left = fail_at

    def _tick(self) -> None:
        self.left -= 1
        if self.left <= 0:
            raise KeyboardInterrupt

    def random(self) -> float:
        self._tick()
        return super().random()

    def getrandbits(self, k: int) -> int:
        self._tick()
        return super().getrandbits(k)


@pytest.mark.parametrize("name", PACKAGE_AUGMENTERS)
@pytest.mark.parametrize("fail_at", [1, 2])
def test_keyboard_interrupt_is_never_swallowed(name: str, fail_at: int, request: pytest.FixtureRequest) -> None:
    """Ctrl-C at the first draw (the ``p`` draw) or the next one reaches the caller unchanged."""
    # The masked-LM augmenters read the text with their tokenizer before the second draw: a local one.
    local_mlm = name.startswith("contextual_")
    aug = AUGMENTERS[name](str(request.getfixturevalue("tiny_mlm_dir")), cache=False) if local_mlm else build(name)
    with pytest.raises(KeyboardInterrupt):
        aug.augment_batch([TEXT], [InterruptingRandom(fail_at)])


# --- the registry ---------------------------------------------------------------------------------------


def test_registry_refuses_a_second_class_under_a_taken_name() -> None:
    class Impostor(Augmenter):
        name = "random_swap"

    with pytest.raises(ValueError, match="'random_swap' is already registered by RandomSwap"):
        register_augmenter(Impostor)
    assert AUGMENTERS["random_swap"] is RandomSwap


def test_unknown_name_suggests_the_closest() -> None:
    with pytest.raises(ValueError, match=r"unknown augmenter 'random_swp'.*Did you mean 'random_swap'"):
        get_augmenter("random_swp")
