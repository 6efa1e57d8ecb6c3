"""JSON rows that are not objects are refused before Arrow's JSON reader, which can crash on them."""

from __future__ import annotations

import datasets
import pytest

from nlp_balance import DataValidationError, load_text_dataset
from nlp_balance.data import json_rows
from nlp_balance.data.json_rows import check_json_rows

GOOD = '{"text": "a", "label": "x"}\n{"text": "b", "label": "y"}\n'


@pytest.fixture
def no_reader(monkeypatch):
    """Fail the test if datasets is asked to read the file at all."""

    def refuse(*args, **kwargs):
        raise AssertionError("datasets.load_dataset was called on a file that should have been refused")

    monkeypatch.setattr(datasets, "load_dataset", refuse)


@pytest.mark.parametrize(
    ("body", "line", "value"),
    [
        ("null", 1, "null"),  # pyarrow.json.read_json segfaults on this (intermittently)
        ("\n  null\n", 2, "null"),
        (GOOD + "null\n" + GOOD, 3, "null"),
        (GOOD + "42\n", 3, "42"),
        (GOOD + '"just a string"\n', 3, '"just a string"'),
        (GOOD + "[1, 2]", 3, "[1, 2]"),
    ],
)
def test_a_line_that_is_not_an_object_is_named_before_reading(tmp_path, no_reader, body, line, value):
    path = tmp_path / "rows.jsonl"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(DataValidationError) as err:
        load_text_dataset(path)
    assert str(err.value).startswith(f"{str(path)!r}: line {line} is not a JSON object ({value!r})")


def test_a_json_array_item_that_is_not_an_object_is_named(tmp_path, no_reader):
    path = tmp_path / "rows.json"
    path.write_text('[{"text": "a", "label": "x"}, null]', encoding="utf-8")
    with pytest.raises(DataValidationError, match=r"rows\.json': item 1 of the JSON array is null, not an object"):
        load_text_dataset(path)


def test_objects_arrays_of_objects_blank_lines_and_a_bom_pass(tmp_path):
    cases = {
        "lines.jsonl": GOOD.replace("\n", "\n\n  \r\n", 1),
        "array.json": '  [{"text": "a", "label": "x"}, {"text": "b", "label": "y"}]',
        "bom.jsonl": "\ufeff" + GOOD,
        "strings.json": '["a", "b"]',
    }
    for name, body in cases.items():
        (tmp_path / name).write_text(body, encoding="utf-8")
        check_json_rows(tmp_path / name)
    out = load_text_dataset(tmp_path / "lines.jsonl", split="train")
    assert out["text"] == ["a", "b"]


@pytest.mark.parametrize("chunk", [1, 5, 29, 64])
def test_lines_are_counted_across_chunks(tmp_path, monkeypatch, chunk):
    monkeypatch.setattr(json_rows, "_CHUNK", chunk)
    path = tmp_path / "rows.jsonl"
    path.write_text(GOOD * 3 + "  null\n" + GOOD, encoding="utf-8")
    with pytest.raises(DataValidationError, match=r"line 7 is not a JSON object \('null'\)"):
        check_json_rows(path, name="shown.jsonl")


def test_a_transcoded_file_is_named_by_its_original_path(tmp_path, monkeypatch):
    monkeypatch.setenv("NLP_BALANCE_CACHE", str(tmp_path / "cache"))
    path = tmp_path / "latin.jsonl"
    path.write_bytes((GOOD + "null\n").encode("latin-1"))
    with pytest.raises(DataValidationError) as err:
        load_text_dataset(path, encoding="latin-1")
    assert str(err.value).startswith(f"{str(path)!r}: line 3 is not a JSON object")
