"""benchmarks/balancer_overhead.py: the timed wrapper keeps the Balancer's view of the augmenter, the page section."""

from __future__ import annotations

import inspect

from benchmarks import balancer_overhead as bo


def test_timed_wrapper_adds_seconds_and_keeps_the_signature():
    clock = [0.0]

    def augment_batch(texts, rngs, copies=None):
        return list(texts)

    timed = bo._timed(augment_batch, clock)
    assert timed(["a"], [None]) == ["a"] and clock[0] > 0
    # the Balancer reads the signature to decide whether to pass copies=
    assert "copies" in inspect.signature(timed).parameters


def test_section_reports_both_ratios_and_replaces_only_its_markers(tmp_path):
    row = {"repeat": 0, "seed": 0, "train_rows": 19826, "loadavg_1m": 1.0, "new_rows": 26230,
           "fit_resample_s": 1.0, "augmenter_inside_s": 0.45, "balancer_rows_per_s": 26230.0,
           "augmenter_texts_per_s": 32787.5, "issue_ratio": 0.8, "inside_ratio": 0.45}
    run = {"machine": {"cpus": 2, "platform": "p", "python": "3", "datasets": "d", "pyarrow": "a"}, "rows": [row]}
    page = tmp_path / "scale.md"
    page.write_text(f"before\n{bo.BEGIN}\nSTALE-SECTION\n{bo.END}\nafter\n")
    bo.write_md(page, run)
    text = page.read_text()
    assert text.startswith("before\n") and text.endswith("\nafter\n") and "STALE-SECTION" not in text
    assert "**80%** of the augmenter's own texts/s" in text and "target >= 70%: **met**" in text
    assert "**45%** of `fit_resample`'s time (below 70%)" in text
