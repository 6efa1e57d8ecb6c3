"""Text encodings: strict UTF-8 by default, a named encoding transcoded, every bad byte named by file and line."""

from __future__ import annotations

import json
import re
from pathlib import Path

import datasets
import pytest

from nlp_balance import DataValidationError, load_text_dataset
from nlp_balance.data import encoding as encoding_module
from nlp_balance.data.encoding import check_encoding, resolve_encoding

ROWS = [
    {"text": "plain ascii", "label": "a"},
    {"text": "naïve café", "label": "b"},
    {"text": "déjà vu", "label": "a"},
]


@pytest.fixture(autouse=True)
def _private_cache(tmp_path, monkeypatch):
    """Transcoded copies go under this test's own cache root."""
    monkeypatch.setenv("NLP_BALANCE_CACHE", str(tmp_path / "nlp_balance_cache"))


def _jsonl(rows: list[dict]) -> str:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)


def test_a_latin1_file_is_refused_naming_file_line_and_byte(tmp_path):
    path = tmp_path / "latin.jsonl"
    path.write_bytes(_jsonl(ROWS).encode("latin-1"))
    expected_offset = len(_jsonl(ROWS[:1]).encode("latin-1")) + len('{"text": "na'.encode("latin-1"))
    with pytest.raises(DataValidationError) as err:
        load_text_dataset(path)
    message = str(err.value)
    assert message.startswith(f"{str(path)!r}: line 2 (byte offset {expected_offset}) is not valid UTF-8")
    assert r"b'\xef'" in message and "encoding= (CLI --encoding, recipe dataset.encoding)" in message


@pytest.mark.parametrize("chunk", [1, 2, 3, 7, 64])
def test_line_and_offset_are_exact_across_chunk_boundaries(tmp_path, monkeypatch, chunk):
    # Multi-byte characters (é, 😀) straddle the chunk boundaries; the bad byte is on line 4.
    good = "ok\n€uro é\n😀 emoji\n"
    path = tmp_path / "chunks.csv"
    path.write_bytes(("text,label\n" + good).encode("utf-8") + b"bad \xff byte,x\n")
    monkeypatch.setattr(encoding_module, "_CHUNK", chunk)
    offset = len(("text,label\n" + good).encode("utf-8")) + 4
    with pytest.raises(DataValidationError, match=rf"line 5 \(byte offset {offset}\) is not valid UTF-8"):
        check_encoding(path)


def test_a_named_encoding_is_transcoded_and_leaves_no_copy_behind(tmp_path):
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "train.jsonl").write_bytes(_jsonl(ROWS).encode("latin-1"))
    (folder / "test.jsonl").write_bytes(_jsonl([{"text": "€ price", "label": "b"}]).encode("cp1252"))
    hf_cache = tmp_path / "hf"
    with pytest.raises(DataValidationError, match=r"train\.jsonl': line 2 \(byte offset \d+\) is not valid ascii"):
        load_text_dataset(folder, encoding="ascii", cache_dir=str(hf_cache))
    out = load_text_dataset(folder, encoding="cp1252", cache_dir=str(hf_cache))
    assert out["train"]["text"] == [r["text"] for r in ROWS]
    assert out["test"]["text"] == ["€ price"]
    transcoded = tmp_path / "nlp_balance_cache" / "transcoded"
    assert [p.name for p in transcoded.iterdir() if p.is_dir()] == []  # the UTF-8 copies are gone
    files = [f["filename"] for split in out.values() for f in split.cache_files]
    assert files and all(str(transcoded) not in f for f in files)  # the Dataset reads the Arrow cache only
    upper = out["train"].map(lambda b: {"text": [t.upper() for t in b["text"]]}, batched=True)
    assert upper["text"][1] == "NAÏVE CAFÉ"  # map still caches next to the Arrow files
    again = load_text_dataset(folder, encoding="cp1252", cache_dir=str(hf_cache))
    assert [f["filename"] for f in again["train"].cache_files] == [f["filename"] for f in out["train"].cache_files]
    json_dirs = {p.name for p in (hf_cache / "json").iterdir()}
    assert len(json_dirs) == 1  # loading the same file again added no second copy of the data


def test_utf8_spellings_and_a_byte_order_mark_load(tmp_path):
    path = tmp_path / "bom.csv"
    path.write_bytes("\ufefftext,label\nnaïve,a\nb,b\n".encode("utf-8"))
    for name in (None, "utf8", "UTF-8", "utf-8-sig"):
        out = load_text_dataset(path, encoding=name, split="train", cache_dir=str(tmp_path / "hf"))
        assert out["text"] == ["naïve", "b"], name


@pytest.mark.parametrize(
    ("name", "match"),
    [
        ("latin-99", r"^unknown encoding 'latin-99'; name a Python codec"),
        ("rot13", r"^encoding 'rot13' is not a text encoding"),
        ("", r"^unknown encoding ''"),
    ],
)
def test_an_unknown_encoding_is_one_error_naming_it(tmp_path, name, match):
    path = tmp_path / "x.jsonl"
    path.write_text(_jsonl(ROWS), encoding="utf-8")
    with pytest.raises(ValueError, match=match):
        load_text_dataset(path, encoding=name)
    with pytest.raises(ValueError, match=match):
        resolve_encoding(name)


def test_undecodable_bytes_in_a_named_encoding_are_named(tmp_path):
    path = tmp_path / "x.csv"
    path.write_bytes(b"text,label\na,b\n\x81 undefined in cp1252,a\n")
    with pytest.raises(DataValidationError, match=r"'.*x\.csv': line 3 \(byte offset 15\) is not valid cp1252"):
        load_text_dataset(path, encoding="cp1252")
    path.write_bytes("text,label\na,b\n".encode("utf-16-le"))  # no byte-order mark: utf-16 cannot tell
    with pytest.raises(DataValidationError, match=r"'.*x\.csv': line 1 .*not valid utf-16"):
        load_text_dataset(path, encoding="utf-16")


def test_utf16_with_a_byte_order_mark_loads(tmp_path):
    path = tmp_path / "x.tsv"
    path.write_bytes("text\tlabel\nnaïve\ta\nb\tb\n".encode("utf-16"))
    out = load_text_dataset(path, encoding="utf-16", split="train", cache_dir=str(tmp_path / "hf"))
    assert out["text"] == ["naïve", "b"]


def test_whitespace_only_files_have_no_content(tmp_path):
    path = tmp_path / "blank.jsonl"
    path.write_bytes(b" \n\t\r\n")
    assert check_encoding(path) is False
    path.write_bytes(b'{"a": 1}\n')
    assert check_encoding(path) is True
    blank_csv = tmp_path / "blank.csv"
    blank_csv.write_bytes(b"  \n")
    with pytest.raises(DataValidationError, match=re.escape(f"{str(blank_csv)!r}: the file holds no rows")):
        load_text_dataset(blank_csv, encoding="latin-1")


def test_parquet_is_not_decoded_and_an_encoding_for_it_is_harmless(tmp_path):
    path = tmp_path / "x.parquet"
    datasets.Dataset.from_list(ROWS).to_parquet(str(path))
    out = load_text_dataset(path, encoding="latin-1", split="train")
    assert out["text"] == [r["text"] for r in ROWS]
    transcoded = Path(tmp_path / "nlp_balance_cache" / "transcoded")
    assert not transcoded.exists() or not any(p.is_dir() for p in transcoded.iterdir())
