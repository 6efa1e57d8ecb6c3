"""``nlp-balance balance --out FOLDER``: a folder that holds something other than a saved dataset is
refused before any work, and left as it was (a saved dataset there would be replaced atomically)."""

from __future__ import annotations

from pathlib import Path

from nlp_balance.cli.main import main

DEMO = Path(__file__).resolve().parents[2] / "data" / "demo"


def test_an_out_folder_that_is_not_a_saved_dataset_is_refused(tmp_path, capsys):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("keep me", encoding="utf-8")
    assert main(["balance", str(DEMO), "--out", str(out)]) == 2
    lines = [ln for ln in capsys.readouterr().err.splitlines() if ln.startswith("error:")]
    assert len(lines) == 1 and "holds something other than a saved dataset" in lines[0]
    assert [p.name for p in out.iterdir()] == ["notes.txt"]
    assert (out / "notes.txt").read_text(encoding="utf-8") == "keep me"
