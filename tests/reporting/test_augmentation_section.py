"""The "What augmentation wrote" section in report.md, report.html and the dataset card: escaped, only when due."""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

import datasets
import pytest
from report_fixtures import make_run, parse_html

from nlp_balance import Balancer, class_distribution
from nlp_balance.augment.base import Augmenter
from nlp_balance.reporting import render_report
from nlp_balance.reporting import run_folder as rf
from nlp_balance.reporting.hub_cards import dataset_card
from nlp_balance.resampling import ClassExamples, ExamplePair

TITLE = "What augmentation wrote"
NAMES = ["big", "small"]
EVIL = "a | b <script>alert(1)</script>\nsecond line"


def _pair(source: str, synthetic: str, index: int) -> ExamplePair:
    return ExamplePair(source_index=index, row=100 + index, source=source, synthetic=synthetic, augmentation="eda")


def _run(folder: Path) -> Path:
    return make_run(folder, name="toy", kind="balanced", names=NAMES, train_before=[30, 6], train_after=[30, 30],
                    test_labels=[0] * 12 + [1] * 4, seed=4)


def _md_rows(md: str) -> list[str]:
    """The body rows of the report's Markdown tables that hold the section's pairs."""
    section = md.split(f"## {TITLE}", 1)[1].split("\n## ", 1)[0]
    return [line for line in section.splitlines() if line.startswith("| ") and not line.startswith("| source")]


def test_report_shows_the_pairs_escaped(tmp_path: Path) -> None:
    run = _run(tmp_path / "run")
    pairs = (_pair("plain source", "plain synthetic", 0), _pair(EVIL, "rewritten | <b>bold</b>", 1))
    rf.write_augmentation_examples(run, [ClassExamples("small", added=24, synthetic=20, exact_copies=4, pairs=pairs)])
    assert json.loads((run / rf.AUGMENTATION_EXAMPLES_FILENAME).read_text())["classes"][0]["exact_copies"] == 4
    render_report(run)

    md = (run / "report.md").read_text(encoding="utf-8")
    assert f"## {TITLE}" in md
    assert "Class small: 24 rows added, 20 new texts by eda and 4 exact copies" in md
    rows = _md_rows(md)
    assert rows[0] == "| plain source | plain synthetic |"
    # '|' escaped (one column break per side), '<' as an entity, the newline gone from the table row.
    assert rows[1] == ("| a \\| b &lt;script&gt;alert(1)&lt;/script&gt; second line | "
                       "rewritten \\| &lt;b&gt;bold&lt;/b&gt; |")
    assert all(len(re.findall(r"(?<!\\)\|", r)) == 3 for r in rows)
    assert "<script>" not in md and "<b>" not in md

    html = (run / "report.html").read_text(encoding="utf-8")
    parsed = parse_html(html)
    assert parsed.tags["script"] == 0 and parsed.tags["b"] == 0
    assert TITLE in parsed.text
    assert "a | b <script>alert(1)</script> second line" in parsed.text  # shown literally, as text
    assert "rewritten | <b>bold</b>" in parsed.text and "plain synthetic" in parsed.text


def test_no_section_without_augmentation_or_without_the_file(tmp_path: Path) -> None:
    old = _run(tmp_path / "old")  # a run folder written before augmentation_examples.json existed
    render_report(old)
    assert rf.load_run(old).augmentation_examples == []
    assert TITLE not in (old / "report.md").read_text() and TITLE not in (old / "report.html").read_text()
    copies = _run(tmp_path / "copies")  # rows were only duplicated: nothing to show
    rf.write_augmentation_examples(copies, [ClassExamples("small", added=24, synthetic=0, exact_copies=24, pairs=())])
    render_report(copies)
    assert TITLE not in (copies / "report.md").read_text() and TITLE not in (copies / "report.html").read_text()


class Marked(Augmenter):
    """Deterministic: appends a tag with a pipe and a script element (a text the card must escape)."""

    name = "test_marked"

    def __init__(self, *, p: float = 1.0) -> None:
        super().__init__(p=p)

    def augment_one(self, text: str, rng: random.Random) -> str | None:
        return f"{text} | <script>x</script>"


def _split(texts: list[str], labels: list[int]) -> datasets.Dataset:
    features = datasets.Features({"text": datasets.Value("string"), "label": datasets.ClassLabel(names=NAMES)})
    return datasets.Dataset.from_dict({"text": texts, "label": labels}, features=features)


@pytest.mark.parametrize("augmenter", [Marked(), None])
def test_dataset_card_shows_the_section_only_when_augmented(augmenter: Augmenter | None) -> None:
    train = _split([f"big {i}" for i in range(6)] + ["small one", "small two", "small three"], [0] * 6 + [1] * 3)
    data = datasets.DatasetDict({"train": train, "test": _split(["t"], [0])})
    balancer = Balancer(augmenter, "auto", seed=1)
    balanced = balancer.fit_resample(data)
    card = dataset_card(balanced, source="toy", balancer=balancer, before=class_distribution(train)).text
    if augmenter is None:
        assert TITLE not in card
        return
    assert f"## {TITLE}" in card
    assert "Class small: 3 rows added, 3 new texts by test_marked and 0 exact copies" in card
    section = card.split(f"## {TITLE}", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| ") and not line.startswith("| source")]
    assert sorted(rows) == sorted(f"| {s} | {s} \\| &lt;script&gt;x&lt;/script&gt; |"
                                  for s in ("small one", "small two", "small three"))
    assert "<script>" not in card
