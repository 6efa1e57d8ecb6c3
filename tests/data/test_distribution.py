"""Class counts, and the check that a training split has more than one class."""

from __future__ import annotations

import datasets
import pytest

from nlp_balance import DataValidationError, load_text_dataset
from nlp_balance.data.distribution import class_distribution, require_classes


def _loaded(train_labels, test_labels=("a", "b")) -> datasets.DatasetDict:
    return load_text_dataset(
        datasets.DatasetDict(
            {
                "train": datasets.Dataset.from_dict({"text": ["x"] * len(train_labels), "label": list(train_labels)}),
                "test": datasets.Dataset.from_dict({"text": ["y"] * len(test_labels), "label": list(test_labels)}),
            }
        )
    )


def test_a_train_split_with_one_class_is_refused_naming_the_class_and_count():
    dd = _loaded(["a", "a", "a"])
    with pytest.raises(DataValidationError) as err:
        require_classes(dd, "label")
    assert str(err.value) == (
        "train: 1 class(es) have examples ('a' (3 row(s))) out of 2 ['a', 'b']; training needs at least 2 "
        "classes with examples"
    )
    require_classes(dd, "label", split="test")  # the test split has both classes


def test_require_classes_returns_the_counts_and_takes_a_minimum():
    dd = _loaded(["a", "b", "b"])
    dist = require_classes(dd["train"], split="train")
    assert dist.as_dict() == {"a": 1, "b": 2} == class_distribution(dd["train"]).as_dict()
    with pytest.raises(DataValidationError, match=r"train: 2 class\(es\) have examples .*at least 3 classes"):
        require_classes(dd, minimum=3)
    with pytest.raises(DataValidationError, match=r"split 'dev' not found; the dataset has splits \['train', 'test'\]"):
        require_classes(dd, split="dev")
