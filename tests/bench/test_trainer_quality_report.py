"""The trainer benchmark's quality report: paired differences against 2 pooled standard deviations, and
the generated section replaced in place (bookkeeping only, no training)."""

from __future__ import annotations

from pathlib import Path

from benchmarks.trainer_overhead import QUALITY_BEGIN, QUALITY_END, quality_md, quality_report_main


def _report(gap: float) -> dict:
    scores = {0: 0.90, 1: 0.92, 2: 0.91}
    rows = [{"dataset": "trec6", "seed": s, "side": side, "test_macro_f1": v + (gap if side == "nlp-balance" else 0)}
            for s, v in scores.items() for side in ("stock", "nlp-balance")]
    rows.append({"dataset": "trec6", "seed": 3, "side": "stock", "test_macro_f1": 0.5})  # unpaired: left out
    return {"args": {"quality_steps": [], "json": "q.json"}, "torch": "t", "transformers": "x",
            "machine": "m", "loadavg_before": [1.0, 1.0, 1.0], "quality": rows}


def test_within_noise_is_judged_on_the_paired_seeds() -> None:
    close = quality_md(_report(0.005))
    assert "| trec6 | 1 epoch | 0, 1, 2 |" in close and "+0.0050 ± 0.0000 | 0.0100 | yes |" in close
    far = quality_md(_report(-0.05))
    assert "-0.0500 ± 0.0000 | 0.0100 | no |" in far


def test_the_section_is_replaced_not_appended(tmp_path: Path) -> None:
    import json

    src, md = tmp_path / "q.json", tmp_path / "trainer.md"
    src.write_text(json.dumps(_report(0.0)))
    md.write_text("# Trainer\n\nintro\n")
    quality_report_main(["--json", str(src), "--md", str(md)])
    quality_report_main(["--json", str(src), "--md", str(md)])
    text = md.read_text()
    assert text.startswith("# Trainer\n\nintro\n") and text.count(QUALITY_BEGIN) == 1 and text.count(QUALITY_END) == 1
