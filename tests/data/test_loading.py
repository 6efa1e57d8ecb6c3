"""load_text_dataset: every source kind, label encoding, and a clear error for each kind of bad input."""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile
from pathlib import Path

import datasets
import pytest
from conftest import shared_dataset_path
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nlp_balance import DataValidationError, load_text_dataset
from nlp_balance.data.label_checks import label_key
from nlp_balance.data.labels import encode_labels


@pytest.fixture(autouse=True)
def _private_cache(tmp_path_factory, monkeypatch):
    """Transcoded copies go to a private cache root of this test session, never the user's."""
    root = tmp_path_factory.getbasetemp() / "nlp_balance_cache"
    monkeypatch.setenv("NLP_BALANCE_CACHE", os.fspath(root))


def _rows(name: str, split: str = "train") -> list[dict]:
    with open(shared_dataset_path(name) / f"{split}.jsonl", encoding="utf-8") as fh:
        return [json.loads(line) for line in fh]


def test_loads_shared_folder_with_splits_and_sorted_label_order(trec6):
    assert list(trec6) == ["train", "test"]
    assert trec6["train"].num_rows == 5371 and trec6["test"].num_rows == 500
    feature = trec6["train"].features["label"]
    assert isinstance(feature, datasets.ClassLabel)
    assert feature.names == sorted({r["label"] for r in _rows("trec6")})
    # Ids follow the names: row 0's string label maps back exactly.
    first = _rows("trec6")[0]
    assert feature.int2str(trec6["train"][0]["label"]) == first["label"]
    assert trec6["train"][0]["text"] == first["text"]


def test_davidson_and_sms_counts_match_the_files(davidson, sms_spam):
    from collections import Counter

    for ds, name in ((davidson, "davidson_hate"), (sms_spam, "sms_spam")):
        expected = Counter(r["label"] for r in _rows(name))
        names = ds["train"].features["label"].names
        got = Counter(names[i] for i in ds["train"]["label"])
        assert got == expected


@pytest.mark.parametrize("fmt", ["csv", "tsv", "jsonl", "json", "parquet"])
def test_single_files_of_every_format(tmp_path, fmt):
    rows = _rows("sms_spam", "test")[:200]
    ds = datasets.Dataset.from_list(rows)
    path = tmp_path / f"data.{fmt}"
    if fmt == "csv":
        ds.to_csv(str(path), index=False)
    elif fmt == "tsv":
        ds.to_csv(str(path), index=False, sep="\t")
    elif fmt in ("jsonl", "json"):
        ds.to_json(str(path), lines=True)
    else:
        ds.to_parquet(str(path))
    out = load_text_dataset(path)
    assert list(out) == ["train"]
    train = out["train"]
    assert train["text"] == [r["text"] for r in rows]
    assert [train.features["label"].int2str(i) for i in train["label"]] == [r["label"] for r in rows]


def test_save_to_disk_folder_and_in_memory_objects_and_split(tmp_path, sms_spam):
    sms_spam.save_to_disk(str(tmp_path / "saved"))
    loaded = load_text_dataset(tmp_path / "saved")
    assert loaded["train"]["text"][:5] == sms_spam["train"]["text"][:5]
    assert loaded["train"].features == sms_spam["train"].features
    only_test = load_text_dataset(tmp_path / "saved", split="test")
    assert isinstance(only_test, datasets.Dataset) and only_test.num_rows == 1032
    same = load_text_dataset(sms_spam["train"])  # an existing ClassLabel is kept
    assert same.features["label"] == sms_spam["train"].features["label"]


def test_explicit_label_order_and_integer_labels():
    ds = datasets.Dataset.from_dict({"text": ["a", "b", "c"], "label": ["spam", "ham", "spam"]})
    out = load_text_dataset(ds, label_names=["spam", "ham"])
    assert out.features["label"].names == ["spam", "ham"]
    assert out["label"] == [0, 1, 0]
    ints = datasets.Dataset.from_dict({"text": ["a", "b", "c"], "label": [2, 0, 1]})
    out = load_text_dataset(ints)
    assert out.features["label"].names == ["0", "1", "2"] and out["label"] == [2, 0, 1]


def test_hub_id_goes_to_load_dataset(monkeypatch):
    seen = {}

    def fake_load_dataset(path, name=None, split=None, revision=None, **kwargs):
        seen.update(path=path, name=name, split=split, revision=revision, **kwargs)
        return datasets.DatasetDict({"train": datasets.Dataset.from_dict({"text": ["x", "y"], "label": ["a", "b"]})})

    monkeypatch.setattr(datasets, "load_dataset", fake_load_dataset)
    out = load_text_dataset("someone/some-dataset", name="cfg", revision="main")
    assert seen == {"path": "someone/some-dataset", "name": "cfg", "split": None, "revision": "main"}
    assert out["train"].features["label"].names == ["a", "b"]


def test_missing_local_path_is_not_sent_to_the_hub():
    with pytest.raises(FileNotFoundError, match="no such file"):
        load_text_dataset("./does/not/exist.jsonl")


@pytest.mark.parametrize(
    ("column", "match"),
    [
        ("text_column", r"text column 'body' not found; columns are \['text', 'label'\]"),
        ("label_column", r"label column 'y' not found"),
    ],
)
def test_missing_column_is_named(column, match):
    ds = datasets.Dataset.from_dict({"text": ["a"], "label": ["x"]})
    kwargs = {"text_column": "body"} if column == "text_column" else {"label_column": "y"}
    with pytest.raises(DataValidationError, match=match):
        load_text_dataset(ds, **kwargs)


@pytest.mark.parametrize(
    ("texts", "labels", "match"),
    [
        (["ok", None, "fine"], ["a", "b", "a"], r"row 1 has missing text in column 'text'"),
        (["ok", "fine", "   \n"], ["a", "b", "a"], r"row 2 has blank text in column 'text'"),
        (["ok", "fine", "x"], ["a", None, "a"], r"row 1 has missing label in column 'label'"),
    ],
)
def test_bad_rows_are_named_and_can_be_dropped(texts, labels, match):
    ds = datasets.DatasetDict({"train": datasets.Dataset.from_dict({"text": texts, "label": labels})})
    with pytest.raises(DataValidationError, match=match):
        load_text_dataset(ds)
    out, report = load_text_dataset(ds, drop_invalid=True, return_report=True)
    assert out["train"].num_rows == 2
    assert report.total_dropped == 1


def test_non_string_text_is_an_error():
    ds = datasets.Dataset.from_dict({"text": [1, 2], "label": ["a", "b"]})
    with pytest.raises(DataValidationError, match=r"text column 'text' must hold strings"):
        load_text_dataset(ds)


def test_labels_outside_the_class_label_are_named():
    ds = datasets.Dataset.from_dict({"text": ["a", "b", "c"], "label": ["x", "y", "z"]})
    with pytest.raises(DataValidationError, match=r"row 2 has label 'z' .* not among label_names \['x', 'y'\]"):
        load_text_dataset(ds, label_names=["x", "y"])
    ints = datasets.Dataset.from_dict({"text": ["a", "b", "c"], "label": [0, 5, 1]})
    with pytest.raises(DataValidationError, match=r"row 1 has label id 5 .* outside the 2 classes"):
        load_text_dataset(ints, label_names=["neg", "pos"])
    with pytest.raises(DataValidationError, match=r"row 0 has label id -1"):
        encode_labels(datasets.Dataset.from_dict({"text": ["a"], "label": [-1]}))


def test_splits_share_one_label_order_even_if_a_class_is_missing_in_one():
    dd = datasets.DatasetDict(
        {
            "train": datasets.Dataset.from_dict({"text": ["a", "b"], "label": ["x", "y"]}),
            "test": datasets.Dataset.from_dict({"text": ["c"], "label": ["z"]}),
        }
    )
    out = load_text_dataset(dd)
    assert out["train"].features["label"].names == ["x", "y", "z"] == out["test"].features["label"].names
    assert out["test"]["label"] == [2]


def test_header_only_csv_names_the_file(tmp_path):
    path = tmp_path / "only_header.csv"
    path.write_text("text,label\n", encoding="utf-8")
    with pytest.raises(DataValidationError) as err:
        load_text_dataset(path)
    assert str(err.value) == f"{str(path)!r}: the file holds no rows"


def test_an_empty_file_in_a_folder_is_named(tmp_path):
    (tmp_path / "train.csv").write_text("text,label\na,x\nb,y\n", encoding="utf-8")
    (tmp_path / "test.csv").write_text("text,label\n", encoding="utf-8")
    with pytest.raises(DataValidationError, match=r"'.*test\.csv': the file holds no rows$"):
        load_text_dataset(tmp_path)
    (tmp_path / "test.csv").write_text("  \n\n", encoding="utf-8")  # whitespace only: refused before reading
    with pytest.raises(DataValidationError, match=r"'.*test\.csv': the file holds no rows$"):
        load_text_dataset(tmp_path)


def test_a_malformed_file_in_a_folder_is_named(tmp_path):
    (tmp_path / "train.jsonl").write_text('{"text": "a", "label": "x"}\n{"text": "b", "label": "y"}\n')
    (tmp_path / "test.jsonl").write_text('{"text": "a", "label": "x"}\n{broken\n')
    with pytest.raises(DataValidationError, match=r"could not read '.*test\.jsonl' as a dataset \(ArrowInvalid"):
        load_text_dataset(tmp_path, cache_dir=str(tmp_path / "hf"))


def test_errors_about_rows_name_the_file(tmp_path):
    path = tmp_path / "rows.jsonl"
    path.write_text('{"text": "a", "label": "x"}\n{"text": " ", "label": "y"}\n', encoding="utf-8")
    with pytest.raises(DataValidationError) as err:
        load_text_dataset(path)
    assert str(err.value).startswith(f"train ({str(path)!r}): row 1 has blank text")


# ---------------------------------------------------------------------------------------------------
# Fuzzing: any bytes in a local file load, or fail with one error that says what is wrong; never a
# crash (a native one would end the test process) and never another exception type.
# NLP_BALANCE_FUZZ_EXAMPLES raises the number of examples for a deeper run (the default takes ~10 s).
# ---------------------------------------------------------------------------------------------------
_FUZZ_EXAMPLES = int(os.environ.get("NLP_BALANCE_FUZZ_EXAMPLES", "160"))
_ENCODINGS = ["utf-8", "latin-1", "cp1252", "utf-16", "shift_jis", "utf-8-sig"]
_JSON_PIECES = [
    '{"text": ',
    '"a"',
    '"b b"',
    ", ",
    '"label": ',
    "1",
    "0",
    "1.5",
    "-1",
    "}",
    "{",
    "[",
    "]",
    "null",
    "NaN",
    '"\\ud800"',
    '"\\u0000"',
    "true",
    '""',
    '" "',
    "\n",
    "\r\n",
    '"x\\"y"',
    "1e400",
    '{"text": "t", "label": "a"}\n',
]
_texts = st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=12)
_values = st.one_of(
    _texts,
    st.integers(-3, 5),
    st.integers(),
    st.floats(allow_nan=True),
    st.none(),
    st.booleans(),
    st.lists(st.integers(), max_size=2),
    st.sampled_from(["a", "a ", " a", "", "b", "1.5"]),
)
_rows_st = st.one_of(
    st.fixed_dictionaries(
        {"text": st.one_of(_texts, _values), "label": st.one_of(st.sampled_from(["a", "b", "a ", ""]), _values)}
    ),
    st.dictionaries(st.sampled_from(["text", "label", "extra"]), _values, max_size=3),
)


@st.composite
def _json_file(draw):
    rows = draw(st.lists(_rows_st, min_size=1, max_size=6))
    body = "".join(json.dumps(r, ensure_ascii=draw(st.booleans())) + "\n" for r in rows)
    return draw(st.sampled_from([".jsonl", ".json"])), body.encode("utf-8")


@st.composite
def _csv_file(draw):
    suffix, delimiter = draw(st.sampled_from([(".csv", ","), (".tsv", "\t")]))
    buf = io.StringIO()
    quoting = draw(st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL, csv.QUOTE_NONNUMERIC]))
    writer = csv.writer(buf, delimiter=delimiter, quoting=quoting, lineterminator=draw(st.sampled_from(["\n", "\r\n"])))
    writer.writerow(draw(st.sampled_from([["text", "label"], ["label", "text"], ["text"], ["text", "label", "x"]])))
    for _ in range(draw(st.integers(0, 6))):
        label = draw(st.one_of(st.integers(-1, 3), st.sampled_from(["a", "a ", "", "b", "1.5", "nan"]), _texts))
        writer.writerow([draw(st.one_of(_texts, st.sampled_from(["", " ", "x"]))), label])
    return suffix, buf.getvalue().encode(draw(st.sampled_from(["utf-8", "utf-8", "latin-1"])), errors="replace")


@st.composite
def _raw_file(draw):
    suffix = draw(st.sampled_from([".csv", ".tsv", ".jsonl", ".json"]))
    body = draw(
        st.one_of(
            st.binary(max_size=200),
            st.tuples(_texts, st.sampled_from(_ENCODINGS)).map(lambda t: t[0].encode(t[1], errors="replace")),
            st.lists(st.sampled_from(_JSON_PIECES), max_size=14).map(lambda ps: "".join(ps).encode("utf-8")),
            st.tuples(st.lists(_texts, max_size=8), st.sampled_from([",", "\t", ";", '"', "'", "\r"])).map(
                lambda t: ("text,label\n" + t[1].join(t[0])).encode("utf-8")
            ),
        )
    )
    return suffix, body


def _parquet_bytes() -> bytes:
    buf = io.BytesIO()
    datasets.Dataset.from_dict({"text": ["hello", "naïve café", "x"], "label": ["a", "b", "a"]}).to_parquet(buf)
    return buf.getvalue()


_PARQUET = _parquet_bytes()


@st.composite
def _damaged_parquet(draw):
    """A real parquet file with a few bytes overwritten (header, data pages or footer)."""
    body = bytearray(_PARQUET)
    for _ in range(draw(st.integers(1, 4))):
        body[draw(st.integers(0, len(body) - 1))] = draw(st.integers(0, 255))
    return ".parquet", bytes(body)


@settings(max_examples=_FUZZ_EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(
    file=st.one_of(_json_file(), _csv_file(), _raw_file(), _damaged_parquet()),
    encoding=st.sampled_from([None, None, None, "latin-1", "cp1252", "utf-16"]),
)
def test_fuzzed_files_load_or_fail_with_one_named_error(file, encoding):
    suffix, body = file
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"data{suffix}"
        path.write_bytes(body)
        try:
            out = load_text_dataset(path, encoding=encoding, cache_dir=str(Path(tmp) / "hf"))
        except (DataValidationError, FileNotFoundError, ValueError) as err:
            message = str(err)
            assert message.strip() and "Traceback" not in message
            # A message about the file names the file (never the transcoded copy).
            assert "transcoded" not in message
            return
        texts = out["train"]["text"]
        assert texts and all(isinstance(t, str) and t.strip() for t in texts)
        names = out["train"].features["label"].names
        assert all(isinstance(n, str) and n.strip() for n in names)
        assert len({label_key(n) for n in names}) == len(names)  # no class split by whitespace


def test_row_errors_in_a_save_to_disk_folder_name_the_folder(tmp_path):
    dd = datasets.DatasetDict({"train": datasets.Dataset.from_dict({"text": ["a", ""], "label": ["x", "y"]})})
    dd.save_to_disk(str(tmp_path / "saved"))
    with pytest.raises(DataValidationError) as err:
        load_text_dataset(tmp_path / "saved")
    assert str(err.value).startswith(f"train ({str(tmp_path / 'saved')!r}): row 1 has blank text")
