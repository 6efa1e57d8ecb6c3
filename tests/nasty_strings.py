"""Strings every component must survive: blank, huge, non-Latin, emoji, RTL, control characters, HTML.

Shared by the bad-input tests of data/, resampling/ and augment/ (docs/robustness.md lists them).
"""

from __future__ import annotations

NASTY = {
    "empty": "",
    "whitespace": " \t\n ",
    "long_100k": ("lorem ipsum dolor sit amet. " * 4000)[:100_000],
    "cjk": "你好世界。这是一个测试。再来一句！",
    "arabic_rtl": "مرحبا بالعالم. هذا اختبار بسيط.",
    "hebrew_rtl": "שלום עולם, זה מבחן.",
    "bidi_controls": "abc \u202edlrow\u202c \u200f end",
    "emoji": "I love it 😀🎉 👍🏽 family 👨\u200d👩\u200d👧 ok",
    "control_chars": "nul\x00 bell\x07 esc\x1b[31m red \x7f end",
    "html": "<p>Click <a href='http://x.y/z?a=1&b=2'>here</a> &amp; <b>win</b></p>",
    "lone_surrogate": "bad \ud800 surrogate",
    "crlf_tabs": "line one\r\nline\ttwo\rthree",
}


def valid_nasty_texts() -> list[str]:
    """The nasty strings a dataset may hold: non-blank, and encodable (no lone surrogate)."""
    return [t for t in NASTY.values() if t.strip() and "\ud800" not in t]
