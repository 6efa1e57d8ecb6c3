"""The contextual benchmark's report wording: the load sentence follows the measured load and the
machine that measured, and the 10x verdict follows the ratios (no timing here)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "contextual_throughput.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("contextual_throughput", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _result(load_before: float, ratios: list[float], cores: int = 2) -> dict:
    return {"machine": f"x86_64, {cores} CPU cores, Python 3.11.7", "load_before": [load_before, 1.0, 1.0],
            "load_after": [2.0, 2.0, 2.0],
            "rows": [{"dataset": "trec6", "ours": {"default": {"ratios": ratios, "ratio_median": sorted(ratios)[1]}}}]}


def test_a_quiet_start_is_called_quiet_whatever_the_load_after(bench):
    words = bench._load_words(_result(0.7, [3.0, 3.4, 3.5]))
    assert words.startswith("a quiet machine") and "0.7 on 2 cores" in words


def test_a_busy_start_says_other_jobs_ran_on_the_cores_of_the_measuring_machine(bench):
    assert bench._load_words(_result(5.0, [3.0, 3.4, 3.5])).startswith("other jobs were running")
    # The same load on a 16-core machine is quiet: the cores come from the result, not from this machine.
    assert bench._load_words(_result(5.0, [3.0, 3.4, 3.5], cores=16)).startswith("a quiet machine")


@pytest.mark.parametrize(("ratios", "verdict"), [([3.0, 3.4, 3.5], "missed"), ([10.5, 11.0, 12.0], "met"),
                                                 ([9.0, 10.5, 11.0], "met at the median, not in every round")])
def test_the_verdict_follows_the_ratios(bench, ratios, verdict):
    line = bench._target_lines(_result(0.7, ratios))[0]
    assert f"same run): {verdict}.**" in line
