"""``nlp-balance balance``: label names in flat files, atomic folder output, the input never overwritten."""

from __future__ import annotations

import functools
import json
import operator
import shutil
from pathlib import Path

import datasets
import pytest

from nlp_balance.cli.main import main
from nlp_balance.data import load_text_dataset, write_split
from nlp_balance.utils.atomic import TMP_PREFIX

DEMO = Path(__file__).resolve().parents[2] / "data" / "demo"


@pytest.mark.parametrize("suffix", [".jsonl", ".csv"])
def test_a_balanced_file_reads_back_beside_its_test_file_as_the_same_dataset(tmp_path, suffix, capsys):
    out = tmp_path / "balanced"
    out.mkdir()
    assert main(["balance", str(DEMO), "--sampling-strategy", "not majority", "--out",
                 str(out / f"train{suffix}")]) == 0
    if suffix == ".jsonl":
        shutil.copy(DEMO / "test.jsonl", out / "test.jsonl")
    else:  # one format per folder: the original test split, as csv
        write_split(load_text_dataset(str(DEMO), split="test"), out / "test.csv")
    original = load_text_dataset(str(DEMO))
    again = load_text_dataset(str(out))
    assert again["train"].features["label"].names == original["train"].features["label"].names
    assert again["test"]["label"] == original["test"]["label"] and again["test"]["text"] == original["test"]["text"]
    assert len(again["train"]) > len(original["train"])


def test_an_interrupted_folder_write_keeps_the_previous_output(tmp_path, monkeypatch, capsys):
    out = tmp_path / "balanced"
    assert main(["balance", str(DEMO), "--sampling-strategy", "not majority", "--out", str(out)]) == 0
    before = datasets.load_from_disk(str(out))
    rows = {k: len(v) for k, v in before.items()}

    real_save = datasets.DatasetDict.save_to_disk

    def save_then_interrupt(self, path, *args, **kwargs):
        real_save(self, path, *args, **kwargs)  # every file written to the staging folder...
        raise KeyboardInterrupt  # ...then Ctrl-C before it is renamed into place

    monkeypatch.setattr(datasets.DatasetDict, "save_to_disk", save_then_interrupt)
    assert main(["balance", str(DEMO), "--sampling-strategy", "all", "--out", str(out)]) == 130
    after = datasets.load_from_disk(str(out))
    assert {k: len(v) for k, v in after.items()} == rows
    assert after["train"]["text"] == before["train"]["text"]
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(TMP_PREFIX)] == []


def test_cli_shards_add_up(tmp_path, shared_data, capsys):
    src = tmp_path / "data.jsonl"
    lines = (shared_data / "sms_spam" / "train.jsonl").read_text(encoding="utf-8").splitlines()[:400]
    src.write_text("\n".join(lines) + "\n", encoding="utf-8")
    common = [str(src), "--augmenter", "random_swap", "--seed", "2"]
    assert main(["balance", *common, "--plan", "per-source", "--out", str(tmp_path / "all.jsonl")]) == 0
    for i in range(3):
        assert main(["balance", *common, "--shard", f"{i}/3", "--out", str(tmp_path / f"s{i}.jsonl")]) == 0
    capsys.readouterr()

    def read(path):
        return sorted(json.dumps(json.loads(line), sort_keys=True) for line in path.read_text().splitlines())

    union = sorted(functools.reduce(operator.iadd, (read(tmp_path / f"s{i}.jsonl") for i in range(3)), []))
    assert union == read(tmp_path / "all.jsonl")
