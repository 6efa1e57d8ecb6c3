"""Hypothesis strategies shared by the Balancer and sharding property tests: labelled data, augmenters."""

from __future__ import annotations

import datasets
from hypothesis import strategies as st

from nlp_balance.augment import CharNoise, Compose, RandomSwap

words = st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=2, max_size=8)

#: The augmenters the properties run with (None: duplication only).
AUGMENTERS = {
    "random_swap": lambda: RandomSwap(aug_p=0.5),
    "char_noise": lambda: CharNoise(char_p=0.2),
    "compose": lambda: Compose([RandomSwap(aug_p=0.5), CharNoise(char_p=0.1)]),
}
augmenter_names = st.sampled_from([None, "random_swap", "char_noise", "compose"])


def make_augmenter(name):
    return None if name is None else AUGMENTERS[name]()


@st.composite
def labelled_data(draw):
    """A ClassLabel dataset of 2-4 classes with 1-12 rows each, distinct texts, in a drawn order."""
    n_classes = draw(st.integers(2, 4))
    counts = draw(st.lists(st.integers(1, 12), min_size=n_classes, max_size=n_classes))
    texts, labels = [], []
    for c, n in enumerate(counts):
        for i in range(n):
            n_words = draw(st.integers(1, 5))
            texts.append(" ".join(draw(st.lists(words, min_size=n_words, max_size=n_words))) + f" c{c}r{i}")
            labels.append(c)
    order = draw(st.permutations(range(len(texts))))
    feats = datasets.Features({"text": datasets.Value("string"),
                               "label": datasets.ClassLabel(names=[f"k{c}" for c in range(n_classes)])})
    return datasets.Dataset.from_dict({"text": [texts[i] for i in order], "label": [labels[i] for i in order]},
                                      features=feats)
