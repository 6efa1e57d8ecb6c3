"""--drop-invalid on the CLI: invalid rows are skipped and their count is reported on stderr, exit 0.

(The CLI's bad inputs, each one error line and exit 2, are the table in test_main.py.)
"""

from __future__ import annotations

import json
from pathlib import Path

from nlp_balance.cli.main import main


def _write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_cli_drop_invalid_reports_the_count(tmp_path, capsys):
    data = _write_jsonl(tmp_path / "d.jsonl", [{"text": "a b", "label": "x"}, {"text": " ", "label": "y"},
                                                {"text": "c d", "label": "y"}, {"text": "e f", "label": "x"}])
    assert main(["inspect", str(data), "--drop-invalid"]) == 0
    assert "dropped 1 invalid row(s)" in capsys.readouterr().err
