"""validate_text_dataset through load_text_dataset: each kind of bad row is named, or dropped and counted.

docs/robustness.md lists each input, the behaviour and the test here that checks it.
"""

from __future__ import annotations

import json
from pathlib import Path

import datasets
import pytest
from nasty_strings import valid_nasty_texts

from nlp_balance import load_text_dataset
from nlp_balance.data.validation import DataValidationError


def _ds(texts, labels) -> datasets.Dataset:
    return datasets.Dataset.from_dict({"text": texts, "label": labels})


def _write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("texts", "labels", "pattern"),
    [
        (["ok", ""], ["a", "b"], r"row 1 has blank text in column 'text'"),
        (["ok", " \t\n"], ["a", "b"], r"row 1 has blank text in column 'text'"),
        (["ok", None], ["a", "b"], r"row 1 has missing text in column 'text'"),
        (["ok", "fine"], ["a", None], r"row 1 has missing label in column 'label'"),
        ([1, 2], ["a", "b"], r"text column 'text' must hold strings.*row 0"),
        (["ok", "fine"], [0.5, 1.0], r"row 0 has label 0.5 in column 'label'"),
        (["ok", "fine"], [0, -1], r"row 1 has label id -1 in column 'label'"),
    ],
    ids=["empty", "whitespace", "none_text", "none_label", "int_text", "float_label", "negative_label"],
)
def test_bad_rows_are_named(texts, labels, pattern):
    with pytest.raises(DataValidationError, match=pattern):
        load_text_dataset(_ds(texts, labels))


def test_drop_invalid_skips_and_counts_every_reason():
    ds = _ds(["", None, "keep me", "  ", "and me", "no label"], ["a", "b", "a", "b", "b", None])
    out, report = load_text_dataset(ds, drop_invalid=True, return_report=True)
    assert out["text"] == ["keep me", "and me"]
    assert report.dropped == {"train": {"missing text": 1, "blank text": 2, "missing label": 1}}
    assert report.total_dropped == 4


def test_mixed_type_json_names_the_bad_row(tmp_path):
    path = _write_jsonl(tmp_path / "t.jsonl", [{"text": "fine", "label": "a"}, {"text": "ok", "label": "b"},
                                               {"text": ["a", "list"], "label": "a"}])
    with pytest.raises(DataValidationError, match=r"row 2: \['a', 'list'\]"):
        load_text_dataset(path)
    path = _write_jsonl(tmp_path / "l.jsonl", [{"text": "fine", "label": "a"}, {"text": "ok", "label": 3}])
    with pytest.raises(DataValidationError, match=r"row 1 has label 3 .*all be strings or all be integers"):
        load_text_dataset(path)


def test_missing_label_key_in_json_is_a_missing_label(tmp_path):
    path = _write_jsonl(tmp_path / "m.jsonl", [{"text": "a", "label": "x"}, {"text": "b"}])
    with pytest.raises(DataValidationError, match=r"row 1 has missing label"):
        load_text_dataset(path)


def test_empty_dataset_and_all_rows_dropped_are_errors():
    feat = datasets.Features({"text": datasets.Value("string"), "label": datasets.Value("string")})
    with pytest.raises(DataValidationError, match=r"train: the split has no rows"):
        load_text_dataset(datasets.Dataset.from_dict({"text": [], "label": []}, features=feat))
    with pytest.raises(DataValidationError, match=r"no rows after dropping every row"):
        load_text_dataset(_ds(["", " "], ["a", "b"]), drop_invalid=True)


def test_nasty_but_valid_texts_load_unchanged(tmp_path):
    texts = valid_nasty_texts()
    labels = ["a", "b"] * (len(texts) // 2) + ["a"] * (len(texts) % 2)
    path = tmp_path / "nasty.jsonl"
    with open(path, "w", encoding="utf-8") as fh:
        for t, lab in zip(texts, labels):
            fh.write(json.dumps({"text": t, "label": lab}, ensure_ascii=False) + "\n")
    ds = load_text_dataset(path, split="train")
    assert ds["text"] == texts  # byte for byte: nothing stripped, normalised or re-encoded
