"""A small document model rendered to Markdown and to self-contained HTML, so the two reports always agree.

A :class:`Document` is a title and a list of blocks (:class:`Heading`, :class:`Paragraph`,
:class:`BulletList`, :class:`Table`, :class:`Image`). All text is plain text: the Markdown renderer
escapes it (no raw HTML, no broken table columns) and the HTML renderer is a Jinja2 template with
autoescaping on. The HTML inlines every image as a base64 data URI and its CSS in a ``<style>``
element, so the one file is the whole report.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import jinja2

__all__ = [
    "Block",
    "BulletList",
    "Document",
    "Heading",
    "Image",
    "Paragraph",
    "Table",
    "markdown_inline",
    "markdown_table",
]


@dataclass(frozen=True)
class Heading:
    """A section heading (level 2; the document title is the only level 1)."""

    text: str


@dataclass(frozen=True)
class Paragraph:
    """A paragraph of plain text."""

    text: str


@dataclass(frozen=True)
class BulletList:
    """An unordered list of plain-text items."""

    items: tuple[str, ...]


@dataclass(frozen=True)
class Table:
    """A table of text cells; the first ``align_left`` columns are text, the rest numbers (right-aligned).

    ``bold_rows`` are highlighted (the smallest class, for instance) and ``bold_cols`` set in bold.
    """

    header: list[str]
    rows: list[list[str]]
    bold_rows: frozenset[int] = frozenset()
    bold_cols: frozenset[int] = frozenset()
    align_left: int = 1


@dataclass(frozen=True)
class Image:
    """A PNG: ``file`` is read and inlined into the HTML; Markdown links it by ``rel`` (relative to the report)."""

    file: Path
    rel: str
    alt: str


Block = Heading | Paragraph | BulletList | Table | Image


@dataclass
class Document:
    """A titled list of blocks, rendered by :meth:`to_markdown` and :meth:`to_html`."""

    title: str
    blocks: list[Block]

    def to_markdown(self) -> str:
        """The document as CommonMark with pipe tables; every text is escaped."""
        out = [f"# {markdown_inline(self.title)}", ""]
        for block in self.blocks:
            if isinstance(block, Table):
                out.append(markdown_table(block))
            elif isinstance(block, Image):
                out.append(f"![{markdown_inline(block.alt)}]({block.rel})")
            elif isinstance(block, Heading):
                out.append(f"## {markdown_inline(block.text)}")
            elif isinstance(block, Paragraph):
                out.append(markdown_inline(block.text))
            elif isinstance(block, BulletList):
                out.extend(f"- {markdown_inline(item)}" for item in block.items)
            else:
                raise TypeError(f"not a document block: {block!r}")
            out.append("")
        return "\n".join(out).rstrip() + "\n"

    def to_html(self) -> str:
        """The document as one HTML page with its CSS and images inlined (no external file, no script)."""
        views = [_html_view(block) for block in self.blocks]
        return _template().render(title=self.title, css=_CSS, blocks=views)


def markdown_inline(text: str) -> str:
    """Make ``text`` safe inside Markdown (and its table cells): no raw HTML, no column breaks."""
    text = str(text).replace("\r", " ").replace("\n", " ")
    text = text.replace("\\", "\\\\").replace("|", "\\|").replace("`", "\\`").replace("*", "\\*")
    # "_" inside a word (hate_speech) never starts emphasis in CommonMark; escape it only at word edges.
    text = re.sub(r"(?<![0-9A-Za-z])_|_(?![0-9A-Za-z])", r"\\_", text)
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def markdown_table(table: Table) -> str:
    """A pipe table; bold cells wrapped in ``**``, number columns right-aligned."""

    def cell(text: str, bold: bool) -> str:
        text = markdown_inline(text)
        return f"**{text}**" if bold and text else text

    lines = ["| " + " | ".join(cell(h, j in table.bold_cols) for j, h in enumerate(table.header)) + " |"]
    lines.append("|" + "|".join("---" if j < table.align_left else "---:" for j in range(len(table.header))) + "|")
    for i, row in enumerate(table.rows):
        cells = [cell(v, i in table.bold_rows or j in table.bold_cols) for j, v in enumerate(row)]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _html_view(block: Block) -> dict[str, Any]:
    """What the template needs of a block: its kind and plain values (the template escapes them)."""
    if isinstance(block, Table):

        def cells(row: list[str], bold_row: bool) -> list[dict[str, Any]]:
            return [{"text": v, "num": j >= block.align_left, "bold": bool(v) and (bold_row or j in block.bold_cols)}
                    for j, v in enumerate(row)]

        return {
            "kind": "table",
            "header": cells(block.header, False),
            "rows": [{"hl": i in block.bold_rows, "cells": cells(r, i in block.bold_rows)}
                     for i, r in enumerate(block.rows)],
        }
    if isinstance(block, Image):
        return {"kind": "img", "alt": block.alt, "data": base64.b64encode(block.file.read_bytes()).decode("ascii")}
    if isinstance(block, Heading):
        return {"kind": "h2", "text": block.text}
    if isinstance(block, Paragraph):
        return {"kind": "p", "text": block.text}
    if isinstance(block, BulletList):
        return {"kind": "ul", "items": list(block.items)}
    raise TypeError(f"not a document block: {block!r}")


@cache
def _template() -> jinja2.Template:
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True,
                             lstrip_blocks=True, keep_trailing_newline=True)
    return env.from_string(_TEMPLATE)


_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;max-width:1000px;margin:2em auto;
padding:0 1em;color:#1f2328;line-height:1.45}
h1{font-size:1.6em;border-bottom:1px solid #d0d7de;padding-bottom:.3em}
h2{font-size:1.25em;margin-top:1.6em;border-bottom:1px solid #eaeef2;padding-bottom:.2em}
table{border-collapse:collapse;margin:.6em 0;font-size:.92em}
th,td{border:1px solid #d0d7de;padding:.25em .6em}
th{background:#f6f8fa}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
tr.hl td{background:#fff8c5}
img{max-width:100%;height:auto;border:1px solid #eaeef2;margin:.4em 0}
""".strip()

_TEMPLATE = """\
{% macro cell(tag, c) %}<{{ tag }}{% if c.num %} class="num"{% endif %}>\
{% if c.bold %}<strong>{{ c.text }}</strong>{% else %}{{ c.text }}{% endif %}</{{ tag }}>{% endmacro %}
<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ title }}</title>
<style>
{{ css | safe }}
</style>
</head>
<body>
<h1>{{ title }}</h1>
{% for b in blocks %}
{% if b.kind == "h2" %}
<h2>{{ b.text }}</h2>
{% elif b.kind == "p" %}
<p>{{ b.text }}</p>
{% elif b.kind == "ul" %}
<ul>{% for item in b["items"] %}<li>{{ item }}</li>{% endfor %}</ul>
{% elif b.kind == "img" %}
<figure><img src="data:image/png;base64,{{ b.data }}" alt="{{ b.alt }}"></figure>
{% elif b.kind == "table" %}
<table>
<thead><tr>{% for c in b.header %}{{ cell("th", c) }}{% endfor %}</tr></thead>
<tbody>
{% for r in b.rows %}
<tr{% if r.hl %} class="hl"{% endif %}>{% for c in r.cells %}{{ cell("td", c) }}{% endfor %}</tr>
{% endfor %}
</tbody>
</table>
{% endif %}
{% endfor %}
</body>
</html>
"""
