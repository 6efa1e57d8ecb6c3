"""Every CLI failure is one ``error:`` line and exit 2 naming the culprit; Ctrl-C is one line and 130."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from conftest import BENCH_DATA

from nlp_balance.augment.base import AUGMENTERS, Augmenter, register_augmenter
from nlp_balance.cli.main import main


def _write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def _recipe(path: Path, body: str) -> str:
    path.write_text(body, encoding="utf-8")
    return str(path)


@pytest.fixture
def bad_inputs(tmp_path, shared_data, tiny_bert_dir, monkeypatch):
    """(argv, pattern) rows: each argv must fail with one error line matching the pattern."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    blank = _write_jsonl(tmp_path / "blank.jsonl", [{"text": "a", "label": "x"}, {"text": "", "label": "y"}])
    bad_json = tmp_path / "bad.jsonl"
    bad_json.write_text("{oops\n", encoding="utf-8")
    latin1 = tmp_path / "latin1.jsonl"
    latin1.write_bytes('{"text": "caf\u00e9", "label": "a"}\n{"text": "b", "label": "b"}\n'.encode("latin-1"))
    header_only = tmp_path / "empty.csv"
    header_only.write_text("text,label\n", encoding="utf-8")
    one_class = _write_jsonl(tmp_path / "one" / "train.jsonl", [{"text": f"t {i}", "label": "a"} for i in range(8)])
    a_file = tmp_path / "a_file.txt"
    a_file.write_text("x", encoding="utf-8")
    out = str(tmp_path / "o.jsonl")
    trec = str(shared_data / "trec6")
    copy = tmp_path / "data" / "trec6"  # inputs the refusals are tested on: a copy, never the real data
    copy.mkdir(parents=True)
    for name in ("train.jsonl", "test.jsonl"):
        (copy / name).write_bytes((shared_data / "trec6" / name).read_bytes())
    demo = str(Path(__file__).resolve().parents[2] / "data" / "demo")
    run_without_model = tmp_path / "run_no_model"
    run_without_model.mkdir()
    (run_without_model / "run_info.json").write_text("{}", encoding="utf-8")

    def recipe(name: str, **parts: str) -> str:
        body = {"name": "bad", "dataset": f"{{source: {demo}}}", "model": f"{{name_or_path: {tiny_bert_dir}}}",
                "output": f"{{dir: {tmp_path / 'runs' / name}}}", **parts}
        return _recipe(tmp_path / f"{name}.yaml", "".join(f"{k}: {v}\n" for k, v in body.items()))

    return [
        (["inspect", str(blank)], r"row 1 has blank text in column 'text'"),
        (["inspect", str(bad_json)], r"could not read"),
        (["inspect", str(tmp_path / "missing.jsonl")], r"no such file"),
        (["inspect", str(latin1)], r"latin1\.jsonl'?: line 1 .*not valid UTF-8"),
        (["inspect", str(header_only)], r"empty\.csv'?: the file holds no rows"),
        (["balance", trec, "--augmenter", "random_swap", "--aug-param", "bogus=1", "--out", out],
         r"augmenter 'random_swap' does not take the parameters \['bogus'\]"),
        (["balance", trec, "--augmenter", "nope", "--out", out], r"unknown augmenter 'nope'"),
        (["balance", trec, "--aug-param", "aug_p=0.2", "--out", out], r"--aug-param given without --augmenter"),
        (["balance", trec, "--shard", "4/4", "--out", out], r"0 <= INDEX < COUNT|0 <= index < count"),
        (["balance", trec, "--sampling-strategy", "{NOPE: 3}", "--out", out], r"class 'NOPE'"),
        (["balance", trec, "--label-column", "lab", "--out", out], r"label column 'lab' not found"),
        (["balance", str(copy), "--out", str(copy / "train.jsonl")], r"is, holds or lies inside the input"),
        (["balance", str(copy / "train.jsonl"), "--out", str(copy / "train.jsonl")], r"is, holds or lies inside"),
        (["balance", str(copy), "--out", str(copy.parent)], r"is, holds or lies inside the input"),
        (["balance", str(copy), "--out", str(copy / "new.jsonl")], r"is, holds or lies inside the input"),
        (["balance", trec, "--out", str(a_file / "x.jsonl")], r"is a file, not a folder"),
        (["balance", trec, "--push-to-hub", "me/data", "--out", out], r"--push-to-hub needs the network"),
        (["balance", str(one_class.parent), "--out", out], r"at least 2 classes"),
        (["predict", str(tmp_path / "no" / "model"), "hi"], r"model folder not found"),
        (["predict", str(run_without_model), "hi"], r"has no model/ folder"),
        (["predict", str(a_file), "hi"], r"is a file"),
        (["compare", str(run_without_model), "--out", str(a_file)], r"--out .* is a file"),
        (["train", recipe("dup", seed="1\nseed: 2")], r"key 'seed' is given twice \(lines \d and \d\)"),
        (["train", recipe("aug", balancing="{sampling_strategy: not majority, augmenters: [nope]}"), "--dry-run"],
         r"balancing.augmenters: unknown augmenter 'nope'"),
        (["train", recipe("augp", balancing="{sampling_strategy: not majority, augmenters: "
                                           "[{name: synonym, params: {aug_p: 5}}]}"), "--dry-run"],
         r"balancing.augmenters: .*aug_p"),
        (["train", recipe("cls", balancing="{sampling_strategy: {NOPE: 900}}"), "--dry-run"],
         r"balancing.sampling_strategy: .*'NOPE'"),
        (["train", recipe("flt", balancing="{sampling_strategy: 0.5}"), "--dry-run"],
         r"balancing.sampling_strategy: .*(binary|two classes|2 classes)"),
        (["train", recipe("file", output=f"{{dir: {a_file}}}"), "--dry-run"], r"output.dir .* is a file"),
        (["train", recipe("into", output=f"{{dir: {demo}}}"), "--dry-run"], r"output.dir .* is, holds or lies inside"),
        (["train", recipe("in", output=f"{{dir: {Path(demo) / 'runs'}}}"), "--dry-run"], r"lies inside the data"),
        (["train", recipe("nomodel", model=f"{{name_or_path: {tmp_path / 'nowhere'}}}"), "--dry-run"],
         r"model.name_or_path .* does not exist"),
        (["train", recipe("hub", model="{name_or_path: someone/some-model}"), "--dry-run"],
         r"HF_HUB_OFFLINE=1 and it is not in the local Hugging Face cache"),
        (["train", recipe("one", dataset=f"{{source: {one_class.parent}}}"), "--dry-run"], r"at least 2 classes"),
        (["train", recipe("enc", dataset=f"{{source: {demo}, encoding: latin-99}}"), "--dry-run"],
         r"dataset.encoding: unknown encoding 'latin-99'"),
        (["train", recipe("ens", method="easy_ensemble", model=f"{{name_or_path: {tiny_bert_dir}, aux_head: {{}}}}"),
          "--dry-run"], r"model.aux_head cannot be used with method: easy_ensemble"),
        (["train", recipe("bl", output=f"{{dir: {tmp_path / 'runs' / 'bl'}, baseline: true}}",
                          balancing="{sampling_strategy: {NOPE: 9}}")], r"balancing.sampling_strategy"),
    ]


def test_every_bad_input_is_one_error_line_and_exit_2(bad_inputs, capsys, tmp_path):
    for argv, pattern in bad_inputs:
        code = main(argv)
        err = capsys.readouterr().err
        lines = [ln for ln in err.splitlines() if ln.startswith("error:")]
        assert code == 2, (argv, err[-800:])
        assert "Traceback" not in err, argv
        assert len(lines) == 1 and re.search(pattern, lines[0]), (argv, pattern, err[-800:])
    # the checks ran before any work: no run folder, no output file, no baseline trained, inputs unchanged
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").rglob("metrics.json"))
    assert not (tmp_path / "o.jsonl").exists()
    copy = tmp_path / "data" / "trec6"
    assert sorted(p.name for p in copy.iterdir()) == ["test.jsonl", "train.jsonl"]
    assert (copy / "train.jsonl").read_bytes() == (BENCH_DATA / "trec6" / "train.jsonl").read_bytes()


def test_the_error_line_folds_a_multi_line_message():
    from nlp_balance.cli.main import describe_error

    assert describe_error(ValueError("first\n  second\n")) == "first second"
    assert describe_error(KeyError("a key")) == "a key"
    assert describe_error(RuntimeError("boom")) == "RuntimeError: boom"


class _Interrupting(Augmenter):
    """Raises KeyboardInterrupt when asked to augment, as a Ctrl-C in the middle of the work does."""

    name = "test_interrupting"

    def augment_one(self, text, rng):
        raise KeyboardInterrupt


@pytest.fixture
def interrupting_augmenter():
    register_augmenter(_Interrupting)
    yield _Interrupting.name
    AUGMENTERS.pop(_Interrupting.name, None)


def test_ctrl_c_during_augmentation_is_one_line_and_leaves_no_output(tmp_path, capsys, shared_data,
                                                                     interrupting_augmenter):
    out = tmp_path / "balanced"
    code = main(["balance", str(shared_data / "trec6"), "--augmenter", interrupting_augmenter, "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 130
    assert "Traceback" not in err and [ln for ln in err.splitlines() if ln.startswith("error:")] == [
        "error: interrupted; no output was left half-written"]
    assert not out.exists() and not list(tmp_path.glob(".tmp-*"))


def test_verbose_shows_the_traceback(tmp_path):
    with pytest.raises(FileNotFoundError):
        main(["-v", "inspect", str(tmp_path / "missing.jsonl")])
