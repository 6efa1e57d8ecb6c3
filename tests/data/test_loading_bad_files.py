"""load_text_dataset on a single file it cannot read, or one with no rows: the error names the file."""

from __future__ import annotations

import pytest

from nlp_balance import load_text_dataset
from nlp_balance.data.validation import DataValidationError


def test_unreadable_and_empty_files_name_the_file(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "a", "label": "x"}\n{not json\n', encoding="utf-8")
    with pytest.raises(DataValidationError, match=r"could not read '.*bad\.jsonl'"):
        load_text_dataset(bad)
    empty = tmp_path / "empty.jsonl"
    empty.write_text("", encoding="utf-8")
    with pytest.raises(DataValidationError, match=r"empty\.jsonl.*no rows"):
        load_text_dataset(empty)
