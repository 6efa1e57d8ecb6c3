"""Tests for nlp_balance.reporting.document: one document, Markdown and self-contained HTML that agree."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import pytest
from report_fixtures import parse_html

from nlp_balance.reporting.document import (
    BulletList,
    Document,
    Heading,
    Image,
    Paragraph,
    Table,
    markdown_inline,
    markdown_table,
)

# A 1x1 PNG, written out byte for byte so the test owns its image.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)
EVIL = '<script>alert("x")</script> & | *bold* `code` _edge_ snake_case'


@pytest.fixture()
def document(tmp_path: Path) -> Document:
    png = tmp_path / "plots" / "dot.png"
    png.parent.mkdir()
    png.write_bytes(PNG)
    return Document(f"Report {EVIL}", [
        Heading("Section <one>"),
        Paragraph(EVIL),
        BulletList(("first item", "second <b>item</b>")),
        Table(["class", "count", "F1"], [["ham", "1,200", "0.9100"], ["spam|x", "30", "0.4200"]],
              bold_rows=frozenset({1})),
        Image(png, "plots/dot.png", 'a "dot"'),
    ])


def test_html_is_one_self_contained_page_with_escaped_text(document: Document) -> None:
    page = document.to_html()
    parsed = parse_html(page)  # every element closed, in order
    assert page.startswith("<!DOCTYPE html>")
    assert parsed.tags["script"] == 0 and parsed.tags["b"] == 0 and parsed.tags["link"] == 0
    assert parsed.tags["h1"] == 1 and parsed.tags["h2"] == 1 and parsed.tags["li"] == 2 and parsed.tags["style"] == 1
    assert parsed.tags["table"] == 1 and parsed.tags["tr"] == 3 and parsed.tags["th"] == 3 and parsed.tags["td"] == 6
    text = parsed.text
    assert f"Report {EVIL}" in text and EVIL in text and "second <b>item</b>" in text and "Section <one>" in text
    assert parsed.images == ["data:image/png;base64," + base64.b64encode(PNG).decode("ascii")]
    assert 'alt="a &#34;dot&#34;"' in page
    # The CSS is not escaped (its quoted font name must stay a CSS string).
    assert 'font-family:system-ui,-apple-system,"Segoe UI"' in page
    # Number columns right-aligned, the highlighted row marked and set in bold.
    assert '<th>class</th><th class="num">count</th>' in page
    assert '<tr class="hl"><td><strong>spam|x</strong></td><td class="num"><strong>30</strong></td>' in page
    assert '<tr><td>ham</td><td class="num">1,200</td>' in page


def test_markdown_escapes_text_and_keeps_table_columns(document: Document) -> None:
    md = document.to_markdown()
    lines = md.splitlines()
    assert lines[0].startswith("# Report ") and "<script>" not in md and "<b>" not in md
    assert "## Section &lt;one&gt;" in lines
    assert "- first item" in lines and "- second &lt;b&gt;item&lt;/b&gt;" in lines
    assert "![a \"dot\"](plots/dot.png)" in lines
    rows = [line for line in lines if line.startswith("|")]
    assert rows[1] == "|---|---:|---:|"
    assert rows[3] == "| **spam\\|x** | **30** | **0.4200** |"
    assert {len(re.findall(r"(?<!\\)\|", row)) for row in rows} == {4}
    assert md.endswith("\n") and not md.endswith("\n\n")


def test_markdown_inline_escapes_only_what_markdown_would_read() -> None:
    assert markdown_inline("a|b") == "a\\|b"
    assert markdown_inline("*x* `y`") == "\\*x\\* \\`y\\`"
    assert markdown_inline("hate_speech _lead trail_") == "hate_speech \\_lead trail\\_"
    assert markdown_inline("<i>&") == "&lt;i&gt;&amp;"
    assert markdown_inline("two\nlines\r") == "two lines "


def test_markdown_table_bold_columns_and_alignment() -> None:
    table = Table(["run", "kind", "F1 a", "F1 b"], [["r1", "x", "0.5", "0.6"]], bold_cols=frozenset({3}),
                  align_left=2)
    assert markdown_table(table).splitlines() == [
        "| run | kind | F1 a | **F1 b** |",
        "|---|---|---:|---:|",
        "| r1 | x | 0.5 | **0.6** |",
    ]


def test_rendering_is_deterministic_and_empty_cells_stay_plain(document: Document) -> None:
    assert document.to_html() == document.to_html()
    assert document.to_markdown() == document.to_markdown()
    table = Document("t", [Table(["a", "b"], [["", "1"]], bold_rows=frozenset({0}))])
    assert "<td></td>" in table.to_html()  # no empty <strong></strong>
    assert "|  | **1** |" in table.to_markdown()


def test_an_unknown_block_is_an_error() -> None:
    document = Document("t", ["just a string"])  # type: ignore[list-item]
    with pytest.raises(TypeError, match="not a document block"):
        document.to_html()
    with pytest.raises(TypeError, match="not a document block"):
        document.to_markdown()
