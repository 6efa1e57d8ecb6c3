"""The back-translation cache after its writer is killed (SIGKILL, no cleanup): only complete, readable
entries remain, and a new process reads them as if nothing happened."""

from __future__ import annotations

import json
import sys
import textwrap

import pytest
from process_helpers import TESTS, child_env, kill_group, start, wait_for

_BT_CHILD = textwrap.dedent("""
    import sys
    from pathlib import Path
    sys.path.insert(0, sys.argv[3])
    from conftest import build_tiny_marian
    from nlp_balance.augment import BackTranslation

    models = [str(build_tiny_marian(Path(sys.argv[1]) / f"m{i}", seed=i)) for i in range(2)]
    Path(sys.argv[1], "ready").write_text("\\n".join(models))
    aug = BackTranslation(models, num_beams=1, batch_size=1, max_new_tokens=12, cache=sys.argv[2])
    texts = [f"message number {i} is about the weather and the train" for i in range(100000)]
    aug.variants(texts)
""")


@pytest.mark.slow
def test_backtranslation_cache_survives_a_killed_writer(tmp_path):
    from nlp_balance.augment import BackTranslation
    from nlp_balance.utils.cache import DiskCache

    script = tmp_path / "bt_child.py"
    script.write_text(_BT_CHILD, encoding="utf-8")
    models_dir, cache = tmp_path / "models", tmp_path / "btcache"
    models_dir.mkdir()
    log = tmp_path / "bt.log"
    proc = start([sys.executable, str(script), str(models_dir), str(cache), str(TESTS)], child_env(tmp_path), log)
    entries = cache / "backtranslation"
    wait_for(lambda: entries.is_dir() and sum(1 for _ in entries.rglob("*.json")) >= 20, proc, log)
    kill_group(proc)

    files = list(entries.rglob("*.json"))
    assert len(files) >= 20
    for f in files:  # every visible entry is complete JSON with its key (temp files are not entries)
        entry = json.loads(f.read_text(encoding="utf-8"))
        assert set(entry) == {"key", "value"} and entry["value"]
    assert len(DiskCache("backtranslation", root=cache)) == len(files)
    # A new process reads the cache as if nothing happened, and cached results equal fresh ones.
    models = (models_dir / "ready").read_text().splitlines()
    texts = [f"message number {i} is about the weather and the train" for i in range(5)]
    kwargs = {"num_beams": 1, "batch_size": 1, "max_new_tokens": 12}
    assert BackTranslation(models, cache=str(cache), **kwargs).variants(texts) == \
        BackTranslation(models, cache=False, **kwargs).variants(texts)
