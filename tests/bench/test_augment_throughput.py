"""The augment benchmark's report logic: paired nlpaug ratios win over sequential ones, and the
floor and verdicts are written as measured (no timing here, only the bookkeeping)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "augment_throughput.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("augment_throughput", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _paired() -> list[dict]:
    """One paired SynonymReplacement comparison: median 8x over three rounds (repeated passes), 21x on the
    first pass, floor 22x, pure Python 4x."""
    return [
        {
            "dataset": "trec6",
            "ours": "SynonymReplacement",
            "peer": "nlpaug SynonymAug (trivial POS tagger)",
            "ratios": [7.0, 9.0, 8.0],
            "ratio_median": 8.0,
            "ours_sentences_per_s": 70_000.0,
            "peer_sentences_per_s": 8_750.0,
            "floor": {"ratios": [20.0, 24.0, 22.0], "ratio_median": 22.0, "sentences_per_s": 190_000.0},
            "compiled_loop": True,
            "pure_python": {"ratios": [3.0, 4.0, 5.0], "ratio_median": 4.0, "sentences_per_s": 35_000.0},
            "first_pass": {"ratios": [20.0, 21.0, 25.0], "ratio_median": 21.0, "sentences_per_s": 180_000.0},
        }
    ]


def _row(bench, library: str, augmenter: str, per_s: float) -> dict:
    return bench.row("trec6", library, augmenter, "single process", 1000, [1000 / per_s])


def test_paired_median_is_the_ratio_and_decides_the_target(bench) -> None:
    rows = [
        _row(bench, "nlp_balance", "SynonymReplacement", 100_000),
        _row(bench, "nlpaug", "SynonymAug (trivial POS tagger)", 4_000),  # sequential ratio: 25x
        _row(bench, "nlp_balance", "RandomSwap", 40_000),
        _row(bench, "nlpaug", "RandomWordAug(swap)", 10_000),  # no paired row: sequential 4x
    ]
    paired = _paired()
    by_key = {(r["dataset"], r["ours"], r["peer"]): r for r in bench.ratios(rows, ["trec6"], paired)}
    synonym = by_key[("trec6", "SynonymReplacement", "nlpaug SynonymAug (trivial POS tagger)")]
    assert synonym["ratio"] == 8.0 and synonym["paired_range"] == [7.0, 9.0]
    assert synonym["meets_target"] is False  # the sequential 25x must not decide it
    swap = by_key[("trec6", "RandomSwap", "nlpaug RandomWordAug(swap)")]
    assert swap["ratio"] == 4.0 and "paired_range" not in swap


def test_report_shows_the_paired_rounds_the_floor_and_the_pure_python_loop(bench, tmp_path: Path) -> None:
    rows = [
        _row(bench, "nlp_balance", "SynonymReplacement", 100_000),
        _row(bench, "nlpaug", "SynonymAug (trivial POS tagger)", 4_000),
    ]
    paired = _paired()
    result = {
        "args": {"repeats": 3, "n": 1000, "slow_peer_n": 100, "bt_n": 96, "torch_threads": 1,
                 "bt_max_new_tokens": 24, "bt_batch_size": 32, "paired_rounds": 3, "paired_block": 250,
                 "paired_passes": 5},
        "machine": {"cpu": "test", "logical_cpus": 2, "memory_gib": 1, "platform": "test"},
        "versions": {"ours": {"python": "3"}, "peers": {"nlpaug": "1.1.11"}},
        "load_before": [0, 0, 0],
        "load_after": [0, 0, 0],
        "wall_s": 1.0,
        "rows": rows,
        "errors": {},
        "paired": paired,
        "ratios": bench.ratios(rows, ["trec6"], paired),
    }
    md = tmp_path / "augment.md"
    bench.write_report(result, md)
    text = md.read_text()
    # Each ratio names the pass it measures; each has its own verdict against the 20x target.
    peer = "nlpaug SynonymAug (trivial POS tagger)"
    assert f"| trec6 | SynonymReplacement | repeated passes | {peer} | 8.0x (7.0-9.0) | >= 20x: NOT met" in text
    assert f"| trec6 | SynonymReplacement | first pass | {peer} | 21.0x (20.0-25.0) | >= 20x: met" in text
    assert "| trec6 | *floor: bare replacer* |" in text and "trec6 22.0x" in text
    assert "blocks of 250" in text
    assert "| trec6 | *SynonymReplacement, pure Python* | nlpaug SynonymAug (trivial POS tagger) | 35,000 |" in text
    assert "ran its compiled loop" in text and "trec6 yes" in text and "trec6 4.0x" in text


def test_bare_replacer_replaces_one_known_word(bench) -> None:
    import random

    run = bench.bare_replacer({"dog": ("hound",), "cat": ("feline",)})
    out = run(["the dog sat", "nothing here", "cat"], [random.Random(i) for i in range(3)])
    assert out == ["the hound sat", None, "feline"]
