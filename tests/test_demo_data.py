"""The committed demo dataset (data/demo) is reproducible, well-formed and imbalanced as documented."""

from __future__ import annotations

import ast
import importlib.util
import json
import re
import sys
from collections import Counter
from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parents[1] / "data"
GENERATOR = DATA / "make_demo_dataset.py"
SPLITS = ("train", "test")


def _load_generator():
    spec = importlib.util.spec_from_file_location("make_demo_dataset", GENERATOR)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def gen():
    return _load_generator()


@pytest.fixture(scope="module")
def rows() -> dict[str, list[dict]]:
    out = {}
    for split in SPLITS:
        lines = (DATA / "demo" / f"{split}.jsonl").read_text(encoding="utf-8").splitlines()
        out[split] = [json.loads(line) for line in lines]
    return out


def _norm(text: str) -> str:
    return " ".join(re.findall(r"[a-z0-9]+", text.lower()))


def test_regenerating_gives_byte_identical_files(gen, tmp_path):
    paths = gen.write(tmp_path)
    for split in SPLITS:
        committed = (DATA / "demo" / f"{split}.jsonl").read_bytes()
        assert paths[split].read_bytes() == committed, f"{split}.jsonl differs from a fresh generation"


def test_other_seed_gives_other_data(gen):
    a, b = gen.generate(1), gen.generate(2)
    assert [r["text"] for r in a["train"]] != [r["text"] for r in b["train"]]
    assert gen.generate(1) == a


def test_schema_is_exact(rows):
    for split, items in rows.items():
        for i, row in enumerate(items):
            assert set(row) == {"text", "label"}, (split, i, row)
            assert isinstance(row["text"], str) and isinstance(row["label"], str), (split, i, row)
            assert row["text"] == row["text"].strip() and "\n" not in row["text"], (split, i, row)
    raw = (DATA / "demo" / "train.jsonl").read_bytes()
    assert raw.endswith(b"\n") and b"\r" not in raw


def test_sizes_classes_and_imbalance_ratio(rows):
    train, test = Counter(r["label"] for r in rows["train"]), Counter(r["label"] for r in rows["test"])
    assert sum(train.values()) >= 1000 and sum(test.values()) >= 300
    assert len(train) >= 4 and set(train) == set(test)
    assert max(train.values()) / min(train.values()) >= 15
    n_train, n_test = sum(train.values()), sum(test.values())
    for label in train:  # same class proportions in both splits (within rounding of a few examples)
        assert abs(train[label] / n_train - test[label] / n_test) < 0.01, label


def test_no_duplicates_within_or_across_splits(rows):
    for split, items in rows.items():
        texts = [r["text"] for r in items]
        assert len(set(texts)) == len(texts), split
        normed = [_norm(t) for t in texts]
        assert len(set(normed)) == len(normed), f"{split}: texts equal up to case/punctuation"
    train = {_norm(r["text"]) for r in rows["train"]}
    assert not train & {_norm(r["text"]) for r in rows["test"]}


def test_lengths_and_registers_vary(rows):
    texts = [r["text"] for items in rows.values() for r in items]
    words = [len(t.split()) for t in texts]
    assert min(words) >= 3 and max(words) <= 60
    assert sum(w <= 6 for w in words) > 0.05 * len(words)  # terse messages
    assert sum(w >= 35 for w in words) > 0.05 * len(words)  # long, multi-sentence ones
    assert sum(t == t.lower() for t in texts) > 0.1 * len(texts)  # all lower case
    assert any(ord(c) > 0x2000 for t in texts for c in t)  # emoji
    assert len({t.split()[0].lower() for t in texts}) > 100  # openings are not a handful of templates


def test_unknown_label_is_rejected(gen):
    with pytest.raises(ValueError, match="complaint"):
        gen.generate(0, {"complaint": (5, 1)})


def test_generator_imports_only_the_standard_library():
    tree = ast.parse(GENERATOR.read_text(encoding="utf-8"))
    top = set()
    for node in tree.body:  # module level only: the optional --baseline imports sklearn lazily
        if isinstance(node, ast.Import):
            top |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            top.add(node.module.split(".")[0])
    assert top <= set(sys.stdlib_module_names) | {"__future__"}, top - set(sys.stdlib_module_names)


def test_unweighted_baseline_neglects_the_small_classes(rows):
    """The point of the dataset: plain training is clearly worse on the rare classes; weighting helps."""
    pytest.importorskip("sklearn")
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import accuracy_score, f1_score
    from threadpoolctl import threadpool_limits

    train, test = rows["train"], rows["test"]
    counts = Counter(r["label"] for r in train)
    largest, smallest = counts.most_common()[0][0], counts.most_common()[-1][0]
    vec = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)
    x_train, x_test = vec.fit_transform([r["text"] for r in train]), vec.transform([r["text"] for r in test])
    y_train, y_test = [r["label"] for r in train], [r["label"] for r in test]
    scores = {}
    for weight in (None, "balanced"):
        with threadpool_limits(1):  # many BLAS threads make this 10x slower on a busy 2-core machine
            model = LogisticRegression(C=10, max_iter=3000, class_weight=weight).fit(x_train, y_train)
        pred = model.predict(x_test)
        f1 = dict(zip([largest, smallest], f1_score(y_test, pred, labels=[largest, smallest], average=None)))
        scores[weight] = (f1, f1_score(y_test, pred, average="macro"), accuracy_score(y_test, pred))
    (f1_plain, macro_plain, acc_plain), (f1_bal, _, _) = scores[None], scores["balanced"]
    chance = counts[smallest] / sum(counts.values())
    assert chance < f1_plain[smallest] < 0.6  # learnable, but poorly without balancing
    assert f1_plain[largest] - f1_plain[smallest] > 0.2
    assert macro_plain < acc_plain - 0.03
    assert f1_bal[smallest] > f1_plain[smallest]
