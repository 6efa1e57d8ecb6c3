"""Compose / OneOf / SomeOf: probabilities over many draws, order, batching, configuration."""

from __future__ import annotations

import pickle
import random
from collections import Counter
from collections.abc import Sequence

import pytest

from nlp_balance.augment.base import Augmenter, example_rng
from nlp_balance.augment.compose import Compose, OneOf, SomeOf
from nlp_balance.augment.eda import RandomSwap

N = 2000


class Tag(Augmenter):
    """Appends a tag (test helper, not registered); records the batch sizes it was called with."""

    name = "tag_test"

    def __init__(self, tag: str = "x", p: float = 1.0) -> None:
        super().__init__(p=p)
        self.tag = tag
        self.batches: list[int] = []

    def augment_one(self, text: str, rng: random.Random) -> str | None:
        return text + self.tag

    def augment_batch(self, texts: Sequence[str], rngs: Sequence[random.Random]) -> list[str | None]:
        self.batches.append(len(texts))
        return super().augment_batch(texts, rngs)


def run(aug: Augmenter, n: int = N) -> list[str | None]:
    return aug.augment_batch(["s"] * n, [example_rng(11, i, 0) for i in range(n)])


def assert_rate(count: int, p: float, n: int = N) -> None:
    sigma = (p * (1 - p) / n) ** 0.5
    assert abs(count / n - p) <= 3 * sigma, (count / n, p, 3 * sigma)


@pytest.mark.parametrize("p", [0.1, 0.3, 0.5, 0.9])
def test_compose_container_p(p: float) -> None:
    outs = run(Compose([Tag("a")], p=p))
    assert_rate(sum(o is not None for o in outs), p)


def test_compose_steps_have_their_own_p_and_are_independent() -> None:
    outs = run(Compose([Tag("a", p=0.5), Tag("b", p=0.3)]))
    counts = Counter(o for o in outs)
    assert set(counts) <= {None, "sa", "sb", "sab"}  # order kept: a before b
    assert_rate(counts["sa"] + counts["sab"], 0.5)
    assert_rate(counts["sb"] + counts["sab"], 0.3)
    assert_rate(counts["sab"], 0.15)
    assert_rate(counts[None], 0.35)  # None only when no step changed the text


def test_one_of_weights_and_child_p() -> None:
    outs = run(OneOf([Tag("a"), Tag("b")], weights=[1, 3]))
    counts = Counter(outs)
    assert set(counts) == {"sa", "sb"}
    assert_rate(counts["sa"], 0.25)
    outs = run(OneOf([Tag("a", p=0.5), Tag("b", p=0.5), Tag("c", p=0.5)], p=0.8))
    counts = Counter(outs)
    for tag in "abc":
        assert_rate(counts["s" + tag], 0.8 / 3 * 0.5)
    assert_rate(counts[None], 1 - 0.8 * 0.5)


def test_some_of_without_and_with_replacement() -> None:
    outs = run(SomeOf(2, [Tag("a"), Tag("b"), Tag("c")]))
    for o in outs:
        assert o is not None and len(o) == 3 and len(set(o[1:])) == 2
    for tag in "abc":
        assert_rate(sum(tag in o for o in outs), 2 / 3)
    orders = Counter(o[1:] for o in outs)
    assert_rate(orders["ab"], 1 / 6)  # each ordered pair equally likely: applied in the order drawn
    outs = run(SomeOf(2, [Tag("a"), Tag("b")], replace=True))
    assert_rate(sum(o in ("saa", "sbb") for o in outs), 0.5)
    outs = run(SomeOf((0, 2), [Tag("a"), Tag("b")]))
    lengths = Counter(0 if o is None else len(o) - 1 for o in outs)
    for k in (0, 1, 2):
        assert_rate(lengths[k], 1 / 3)


def test_steps_run_batched() -> None:
    a, b = Tag("a"), Tag("b")
    aug = OneOf([a, b])
    run(aug, 100)
    assert len(a.batches) == 1 and len(b.batches) == 1 and a.batches[0] + b.batches[0] == 100
    c = Tag("c", p=0.5)
    run(Compose([c, Tag("d")]), 64)
    assert c.batches == [64]


def test_nested_containers_and_determinism() -> None:
    aug = Compose([OneOf([Tag("a"), Tag("b")], p=0.5), SomeOf(1, [Tag("c"), Tag("d")], p=0.5)])
    first = run(aug, 300)
    assert run(aug, 300) == first
    split = aug.augment_batch(["s"] * 100, [example_rng(11, i, 0) for i in range(100)]) + aug.augment_batch(
        ["s"] * 200, [example_rng(11, i, 0) for i in range(100, 300)])
    assert split == first


def test_mapping_steps_config_and_pickle() -> None:
    aug = Compose([{"augmenter": "random_swap", "aug_p": 0.5}, OneOf([RandomSwap(p=0.3)])], p=0.9)
    assert isinstance(aug.steps[0], RandomSwap) and aug.steps[0].aug_p == 0.5
    cfg = aug.get_config()
    assert cfg["p"] == 0.9 and cfg["augmenters"][1]["augmenters"][0] == {"augmenter": "random_swap", **RandomSwap(
        p=0.3).get_config()}
    clone = pickle.loads(pickle.dumps(aug))
    texts = ["one two three four five", "alpha beta gamma delta"]
    assert clone(texts, seed=4) == aug(texts, seed=4) and clone.describe() == aug.describe()


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="2 weights for 3 augmenters"):
        OneOf([Tag(), Tag(), Tag()], weights=[1, 2])
    with pytest.raises(ValueError, match="weights must be >= 0"):
        OneOf([Tag(), Tag()], weights=[1, -1])
    with pytest.raises(ValueError, match="n=3 is impossible with 2 augmenters"):
        SomeOf(3, [Tag(), Tag()])
    with pytest.raises(TypeError, match="step 1 must be an Augmenter"):
        Compose([Tag(), "synonym"])
    with pytest.raises(ValueError, match="at least one augmenter"):
        Compose([])
    with pytest.raises(ValueError, match="unknown augmenter 'nope'"):
        Compose([{"augmenter": "nope"}])


# --- labels: handed on to the steps that take them ----------------------------------------------------


class ClassTag(Augmenter):
    """Prefixes each text with its class (test helper): stands in for a label-conditioned generator."""

    name = "class_tag_test"

    def augment_batch(self, texts: Sequence[str], rngs: Sequence[random.Random], *,
                      labels: Sequence[str] | None = None) -> list[str | None]:
        assert labels is not None and len(labels) == len(texts)
        return [f"{y}: {t}" if self._should_apply(r) else None for t, r, y in zip(texts, rngs, labels)]


def test_containers_hand_labels_to_the_steps_that_take_them() -> None:
    texts = [f"t{i}" for i in range(40)]
    labels = ["spam" if i % 3 else "ham" for i in range(40)]
    rngs = lambda: [example_rng(5, i, 0) for i in range(40)]  # noqa: E731
    out = Compose([Tag("!"), ClassTag()]).augment_batch(texts, rngs(), labels=labels)
    assert out == [f"{y}: {t}!" for t, y in zip(texts, labels)]
    picked = OneOf([Tag("!"), ClassTag()]).augment_batch(texts, rngs(), labels=labels)
    tagged = [o for o in picked if o is not None and ":" in o]
    assert 5 < len(tagged) < 35  # both steps were drawn; each tagged text carries its own class
    assert all(o == f"{y}: {t}" for o, t, y in zip(picked, texts, labels) if o is not None and ":" in o)
    nested = SomeOf(1, [Compose([ClassTag()])], p=1.0)
    assert nested.augment_batch(texts[:3], rngs()[:3], labels=labels[:3]) == [f"{y}: {t}" for t, y in
                                                                              zip(texts[:3], labels[:3])]


def test_a_container_wants_labels_only_when_a_step_does() -> None:
    from nlp_balance.augment.base import takes_labels

    assert not takes_labels(Compose([Tag("a"), Tag("b")])) and not takes_labels(Tag())
    assert takes_labels(ClassTag()) and takes_labels(OneOf([Tag(), Compose([ClassTag()])]))
    with pytest.raises(ValueError, match="2 texts but 1 labels"):
        Compose([ClassTag()]).augment_batch(["a", "b"], [example_rng(0, i, 0) for i in range(2)], labels=["x"])


def test_balancer_hands_labels_through_a_compose() -> None:
    import datasets

    from nlp_balance import Balancer
    from nlp_balance.resampling.provenance import SOURCE_INDEX_COLUMN

    features = datasets.Features({"text": datasets.Value("string"),
                                  "label": datasets.ClassLabel(names=["ham", "spam"])})
    ds = datasets.Dataset.from_dict({"text": [f"ham {i}" for i in range(4)] + ["spam a", "spam b"],
                                     "label": [0] * 4 + [1] * 2}, features=features)
    out = Balancer(Compose([Tag("!"), ClassTag()]), "auto", seed=2).fit_resample(ds)
    new = out.select(range(len(ds), len(out)))
    assert sorted(new["text"]) == ["spam: spam a!", "spam: spam b!"]
    assert all(r["text"] == f"spam: {ds[r[SOURCE_INDEX_COLUMN]]['text']}!" for r in new)
    plain = Balancer(Compose([Tag("!"), Tag("?")]), "auto", seed=2).fit_resample(ds)  # no label step: as before
    assert sorted(plain.select(range(len(ds), len(plain)))["text"]) == ["spam a!?", "spam b!?"]
