"""What a cached translation is keyed by: model files, decoding options, versions, device and dtype."""

from __future__ import annotations

import dataclasses
import hashlib
import os
from pathlib import Path

import pytest

from nlp_balance.augment.backtranslate_generate import Decoding
from nlp_balance.augment.backtranslate_keys import generation_settings, model_identity, sha256_file
from nlp_balance.utils.cache import DiskCache, content_key

BEAM = Decoding(num_beams=4, do_sample=False, top_k=50, top_p=1.0, temperature=1.0, max_new_tokens=None)
SAMPLE = Decoding(num_beams=1, do_sample=True, top_k=10, top_p=0.9, temperature=1.3, max_new_tokens=20)


def _model_folder(root: Path) -> Path:
    (root / "sub").mkdir(parents=True)
    (root / "config.json").write_text('{"d_model": 32}')
    (root / "model.safetensors").write_bytes(b"\x00weights" * 100)
    (root / "sub" / "tokenizer.json").write_text("{}")
    return root


def test_sha256_file_is_memoised_by_path_size_and_mtime(tmp_path: Path) -> None:
    path = tmp_path / "weights.bin"
    path.write_bytes(b"abc" * 1000)
    memo = DiskCache("file-digests", root=tmp_path / "cache")
    assert sha256_file(path, memo) == hashlib.sha256(b"abc" * 1000).hexdigest() == sha256_file(path, None)
    assert len(memo) == 1  # the digest was stored
    # The memo answers while the file is unchanged: plant a marker to see it served.
    st = path.stat()
    memo.set(content_key("file-sha256", str(path.resolve()), st.st_size, st.st_mtime_ns, st.st_ino), "marker")
    assert sha256_file(path, memo) == "marker"
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))  # touched: hashed again
    assert sha256_file(path, memo) == hashlib.sha256(b"abc" * 1000).hexdigest()


def test_local_model_identity_follows_file_contents(tmp_path: Path) -> None:
    folder = _model_folder(tmp_path / "model")
    first = model_identity(str(folder), None, None)
    assert first["path"] == str(folder.resolve()) and set(first) == {"path", "files"}
    (folder / ".cache-note").write_text("hidden files do not count")
    assert model_identity(str(folder), None, None) == first
    (folder / "sub" / "tokenizer.json").write_text('{"changed": true}')
    assert model_identity(str(folder), None, None) != first


def test_generation_settings_hold_only_what_changes_the_output() -> None:
    import transformers

    beam = generation_settings(BEAM, 2, augmenter_version="1", device_type="cpu", dtype="torch.float32")
    assert beam == {
        "augmenter_version": "1", "transformers": transformers.__version__, "device": "cpu",
        "dtype": "torch.float32", "num_return_sequences": 2, "max_new_tokens": "auto", "do_sample": False,
        "num_beams": 4,
    }
    sample = generation_settings(SAMPLE, 1, augmenter_version="1", device_type="cuda", dtype="torch.bfloat16")
    assert sample == {
        "augmenter_version": "1", "transformers": transformers.__version__, "device": "cuda",
        "dtype": "torch.bfloat16", "num_return_sequences": 1, "max_new_tokens": 20, "do_sample": True,
        "top_k": 10, "top_p": 0.9, "temperature": 1.3,
    }
    # Sampling options do not split the cache of beam search, and the other way round.
    other_top_k = dataclasses.replace(BEAM, top_k=3)
    assert generation_settings(other_top_k, 2, augmenter_version="1", device_type="cpu", dtype="torch.float32") == beam


def test_back_translation_keys_its_cache_with_these_settings() -> None:
    pytest.importorskip("torch")
    from nlp_balance.augment import BackTranslation

    aug = BackTranslation(["a", "b"], num_beams=4, device="cpu", dtype="float32", cache=False)
    assert aug._generation_key(2) == generation_settings(
        BEAM, 2, augmenter_version=aug.version, device_type="cpu", dtype="torch.float32"
    )
