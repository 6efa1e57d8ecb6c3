"""The built wheel works on its own: installed outside the checkout, it finds its packaged demo data."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def _run(cmd: list[str], cwd: Path, timeout: int = 600) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["HF_HUB_OFFLINE"] = "1"
    done = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{' '.join(cmd)} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done


@pytest.mark.slow
def test_wheel_installs_into_a_fresh_venv_and_inspects_the_packaged_demo_data(tmp_path):
    wheels = tmp_path / "wheels"
    _run([sys.executable, "-m", "pip", "wheel", str(REPO), "--no-deps", "--no-build-isolation", "-w", str(wheels),
          "-q", "--disable-pip-version-check"], cwd=tmp_path)
    (wheel,) = wheels.glob("nlp_balance-*.whl")

    # A fresh venv that sees this environment's third-party packages (torch & co. are not installed
    # again) through a path entry, but not its editable nlp_balance, whose finder that entry skips.
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    py = env_dir / "bin" / "python"
    site = Path(subprocess.check_output([str(py), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                                        text=True).strip())
    (site / "_deps.pth").write_text(sysconfig.get_path("purelib") + "\n", encoding="utf-8")
    _run([str(py), "-m", "pip", "install", "--no-deps", "-q", "--disable-pip-version-check", str(wheel)],
         cwd=tmp_path)

    outside = tmp_path / "elsewhere"
    outside.mkdir()
    where = _run([str(py), "-c", "import nlp_balance, nlp_balance.cli.demo as d; print(nlp_balance.__file__); "
                  "print(d.DEMO_ASSETS)"], cwd=outside).stdout.split()
    assert Path(where[0]).is_relative_to(env_dir), f"nlp_balance was imported from {where[0]}, not the wheel"
    assets = Path(where[1])
    assert sorted(p.name for p in assets.iterdir()) == ["quickstart.yaml", "test.jsonl", "train.jsonl"]

    cli = env_dir / "bin" / "nlp-balance"
    shown = json.loads(_run([str(cli), "inspect", str(assets), "--json"], cwd=outside).stdout)
    counts = {s["split"]: s["rows"] for s in shown["splits"]}
    assert counts == {"train": 1600, "test": 400}
    # `nlp-balance demo` checks the packaged recipe from there, with the packaged data as its source
    dry = _run([str(cli), "demo", "--dry-run"], cwd=outside).stdout
    assert "security_fraud" in dry
    assert f"source: {assets}" in dry
