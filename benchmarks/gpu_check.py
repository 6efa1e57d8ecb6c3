"""GPU checks of training and back-translation, run as one script on a CUDA machine.

What it checks (each part is independent; a failure is recorded and the next part runs):

1. ``ga_exact_cuda``: one optimizer step of ``BalancedTrainer`` (focal loss, class weights, weighted
   sampler) with gradient accumulation 4 x batch 2 equals batch 8 on CUDA in float32.
2. ``bf16_training``: ``nlp_balance.runs.runner.run_recipe`` on the demo data with a MiniLM-shaped BERT
   (random weights: the pretrained checkpoint does not travel) picks bf16 on CUDA, trains with finite
   losses, and writes the run folder; plus BalancedTrainer vs stock Trainer steps/s in the same process.
3. ``backtranslation_cuda``: ``BackTranslation`` through two opus-mt-sized Marian models (random weights,
   tokenizer trained here) picks CUDA + bf16 by itself; batched generation vs a one-text-per-call loop.

Usage: ``python benchmarks/gpu_check.py --data DIR --tokenizer DIR --out FILE.json`` where ``DIR`` holds
``trec6/train.jsonl`` and the MiniLM tokenizer files. Results are summarised in docs/benchmarks/gpu.md.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
SMOKE = False  # --smoke: tiny sizes, for a CPU dry run of the script itself


def _sync() -> None:
    import torch

    if torch.cuda.is_available():
        torch.cuda.synchronize()


def _dev() -> str:
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def _env() -> dict[str, Any]:
    import torch
    import transformers

    return {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "cuda": torch.version.cuda,
        "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
    }


def _texts(data: Path, n: int) -> tuple[list[str], list[str]]:
    rows = [json.loads(line) for line in (data / "trec6" / "train.jsonl").read_text().splitlines()[:n]]
    return [r["text"] for r in rows], [r["label"] for r in rows]


def _tiny_bert(tokenizer_dir: Path, out: Path, *, hidden: int, layers: int, heads: int, ffn: int) -> Path:
    import torch
    from transformers import AutoTokenizer, BertConfig, BertModel

    tok = AutoTokenizer.from_pretrained(tokenizer_dir)
    torch.manual_seed(0)
    cfg = BertConfig(
        vocab_size=len(tok),
        hidden_size=hidden,
        num_hidden_layers=layers,
        num_attention_heads=heads,
        intermediate_size=ffn,
        hidden_dropout_prob=0.0,
        attention_probs_dropout_prob=0.0,
    )
    BertModel(cfg).save_pretrained(out)
    tok.save_pretrained(out)
    return out


def check_ga_exact(data: Path, tokenizer_dir: Path, work: Path) -> dict[str, Any]:
    import datasets
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer, DataCollatorWithPadding

    from nlp_balance import BalancedTrainer, BalancedTrainingArguments

    model_dir = _tiny_bert(tokenizer_dir, work / "ga-bert", hidden=64, layers=2, heads=2, ffn=128)
    texts, labels = _texts(data, 8)
    names = sorted(set(labels))  # only the classes present: LDAM needs every class to have examples
    tok = AutoTokenizer.from_pretrained(model_dir)
    ds = datasets.Dataset.from_dict({"text": texts[:8], "label": [names.index(x) for x in labels[:8]]})
    ds = ds.map(lambda b: tok(b["text"], truncation=True, max_length=24), batched=True, remove_columns=["text"])
    results = {}
    for loss in ("focal", "weighted_ce", "ldam"):
        params = {}
        for bs, ga in ((8, 1), (2, 4)):
            torch.manual_seed(0)
            model = AutoModelForSequenceClassification.from_pretrained(model_dir, num_labels=len(names)).to(_dev())
            args = BalancedTrainingArguments(
                output_dir=str(work / "ga-out"),
                per_device_train_batch_size=bs,
                gradient_accumulation_steps=ga,
                max_steps=1,
                learning_rate=0.5,
                optim="sgd",
                max_grad_norm=0.0,
                lr_scheduler_type="constant",
                report_to="none",
                save_strategy="no",
                loss=loss,
                class_weighting="balanced",
                sampler="weighted",
                seed=3,
                logging_steps=1,
                dataloader_pin_memory=False,
            )
            trainer = BalancedTrainer(
                model=model, args=args, train_dataset=ds, data_collator=DataCollatorWithPadding(tok)
            )
            trainer.train()
            params[(bs, ga)] = torch.cat([p.detach().float().flatten().cpu() for p in model.parameters()])
        diff = (params[(8, 1)] - params[(2, 4)]).abs().max().item()
        results[loss] = {"max_abs_param_diff": diff, "ok": diff < 1e-5}
    return results


def check_bf16_training(data: Path, tokenizer_dir: Path, work: Path) -> dict[str, Any]:
    import torch

    from nlp_balance.runs.recipe import recipe_from_dict
    from nlp_balance.runs.runner import run_recipe

    size = (
        {"hidden": 32, "layers": 1, "heads": 2, "ffn": 64}
        if SMOKE
        else {"hidden": 384, "layers": 6, "heads": 12, "ffn": 1536}
    )
    model_dir = _tiny_bert(tokenizer_dir, work / "minilm-shaped", **size)
    recipe = recipe_from_dict(
        {
            "name": "gpu-quickstart",
            "seed": 42,
            "dataset": {"source": str(REPO / "data" / "demo")},
            "balancing": {"sampling_strategy": {"security_fraud": 150}, "augmenters": [{"name": "random_swap"}]},
            "model": {"name_or_path": str(model_dir), "max_length": 64},
            "training": {
                "loss": "focal",
                "class_weighting": "inverse_sqrt",
                "num_train_epochs": 1 if SMOKE else 3,
                "learning_rate": 1e-4,
                "per_device_train_batch_size": 32,
            },
            "output": {"dir": str(work / "run"), "baseline": True},
        }
    )
    started = time.time()
    result = run_recipe(recipe)
    info = json.loads((result.run_dir / "run_info.json").read_text())
    history = json.loads((result.run_dir / "log_history.json").read_text())
    losses = [h["loss"] for h in history if "loss" in h]
    out = {
        "wall_s": round(time.time() - started, 1),
        "device": info["device"],
        "train_time_s": info["train_time_s"],
        "losses_finite": bool(losses) and all(torch.isfinite(torch.tensor(losses)).tolist()),
        "macro_f1": result.metrics.get("macro_f1"),
        "baseline_macro_f1": result.baseline.metrics.get("macro_f1"),
        "report_written": (result.run_dir / "report.html").is_file(),
    }
    out["mixed_precision"] = info.get("mixed_precision")  # chosen by the pipeline: the recipe does not set it
    out.update(_throughput(model_dir, data))
    return out


def _throughput(model_dir: Path, data: Path) -> dict[str, Any]:
    """BalancedTrainer (focal, class weights, weighted sampler) vs the stock Trainer, steps/s, interleaved."""
    import datasets
    import torch
    from transformers import (
        AutoModelForSequenceClassification,
        AutoTokenizer,
        DataCollatorWithPadding,
        Trainer,
        TrainingArguments,
    )

    from nlp_balance import BalancedTrainer, BalancedTrainingArguments

    texts, labels = _texts(data, 256 if SMOKE else 4096)
    names = sorted(set(labels))
    tok = AutoTokenizer.from_pretrained(model_dir)
    ds = datasets.Dataset.from_dict({"text": texts, "label": [names.index(x) for x in labels]})
    ds = ds.map(
        lambda b: tok(b["text"], truncation=True, max_length=64, padding="max_length"),
        batched=True,
        remove_columns=["text"],
    )
    common = {
        "output_dir": "/tmp/tp",
        "per_device_train_batch_size": 32,
        "max_steps": 2 if SMOKE else 200,
        "bf16": not SMOKE,
        "report_to": "none",
        "save_strategy": "no",
        "logging_strategy": "no",
        "dataloader_pin_memory": True,
        "disable_tqdm": True,
    }
    rates: dict[str, list[float]] = {"stock": [], "balanced": []}
    for _ in range(1 if SMOKE else 3):
        for kind in ("stock", "balanced"):
            torch.manual_seed(0)
            model = AutoModelForSequenceClassification.from_pretrained(model_dir, num_labels=len(names))
            if kind == "stock":
                trainer = Trainer(
                    model=model,
                    args=TrainingArguments(**common),
                    train_dataset=ds,
                    data_collator=DataCollatorWithPadding(tok),
                )
            else:
                args = BalancedTrainingArguments(**common, loss="focal", class_weighting="balanced", sampler="weighted")
                trainer = BalancedTrainer(
                    model=model, args=args, train_dataset=ds, data_collator=DataCollatorWithPadding(tok)
                )
            out = trainer.train()
            rates[kind].append(out.metrics["train_steps_per_second"])
    med = {k: sorted(v)[len(v) // 2] for k, v in rates.items()}
    return {"steps_per_s": rates, "median_ratio_balanced_over_stock": med["balanced"] / med["stock"]}


def _build_marian(out: Path, corpus: list[str], seed: int) -> Path:
    import torch
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers
    from transformers import MarianConfig, MarianMTModel, PreTrainedTokenizerFast

    torch.manual_seed(seed)
    bpe = Tokenizer(models.BPE(unk_token="<unk>"))
    bpe.normalizer, bpe.pre_tokenizer, bpe.decoder = (
        normalizers.NFKC(),
        pre_tokenizers.Metaspace(),
        decoders.Metaspace(),
    )
    bpe.train_from_iterator(corpus, trainers.BpeTrainer(vocab_size=4000, special_tokens=["<pad>", "</s>", "<unk>"]))
    eos = bpe.token_to_id("</s>")
    bpe.post_processor = processors.TemplateProcessing(
        single="$A </s>", pair="$A $B </s>", special_tokens=[("</s>", eos)]
    )
    tok = PreTrainedTokenizerFast(
        tokenizer_object=bpe, pad_token="<pad>", eos_token="</s>", unk_token="<unk>", model_max_length=256
    )
    d, layers, ffn = (32, 1, 64) if SMOKE else (512, 6, 2048)
    cfg = MarianConfig(
        vocab_size=len(tok),
        d_model=d,
        encoder_layers=layers,
        decoder_layers=layers,
        encoder_attention_heads=8,
        decoder_attention_heads=8,
        encoder_ffn_dim=ffn,
        decoder_ffn_dim=ffn,
        max_position_embeddings=256,
        pad_token_id=tok.pad_token_id,
        eos_token_id=tok.eos_token_id,
        decoder_start_token_id=tok.pad_token_id,
        forced_eos_token_id=tok.eos_token_id,
    )
    MarianMTModel(cfg).save_pretrained(out)
    tok.save_pretrained(out)
    return out


def check_backtranslation(data: Path, work: Path) -> dict[str, Any]:

    from nlp_balance.augment import BackTranslation, example_rng

    texts, _ = _texts(data, 2000)
    m1 = _build_marian(work / "m-en-xx", texts, 1)
    m2 = _build_marian(work / "m-xx-en", texts, 2)
    n = 32 if SMOKE else 512
    sample = texts[:n]
    batched = BackTranslation([str(m1), str(m2)], batch_size=64, num_beams=2, max_new_tokens=24, cache=False)
    device, dtype = batched._torch_device_and_dtype()
    rngs = [example_rng(0, i, 0) for i in range(n)]
    batched.augment_batch(sample[:64], rngs[:64])  # load + warm up
    _sync()
    t0 = time.perf_counter()
    out_batched = batched.augment_batch(sample, rngs)
    _sync()
    t_batched = time.perf_counter() - t0
    single = BackTranslation([str(m1), str(m2)], batch_size=1, num_beams=2, max_new_tokens=24, cache=False)
    single.augment_batch(sample[:4], rngs[:4])
    _sync()
    t0 = time.perf_counter()
    loop_n = min(128, n)
    for text, rng in zip(sample[:loop_n], rngs[:loop_n]):
        single.augment_batch([text], [rng])
    _sync()
    t_loop = (time.perf_counter() - t0) * n / loop_n
    return {
        "device": str(device),
        "dtype": str(dtype),
        "texts": n,
        "batched_texts_per_s": n / t_batched,
        "loop_texts_per_s": n / t_loop,
        "ratio": t_loop / t_batched,
        "outputs": sum(o is not None for o in out_batched),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--tokenizer", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--parts", default="ga,bt,bf16")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes: a CPU dry run of this script")
    args = parser.parse_args()
    global SMOKE
    SMOKE = args.smoke
    results: dict[str, Any] = {"env": _env()}
    work = Path(tempfile.mkdtemp(prefix="gpu-check-"))
    def throughput_only() -> dict[str, Any]:
        size = {"hidden": 32, "layers": 1, "heads": 2, "ffn": 64} if SMOKE else {
            "hidden": 384, "layers": 6, "heads": 12, "ffn": 1536}
        return _throughput(_tiny_bert(args.tokenizer, work / "tp-model", **size), args.data)

    parts = {
        "ga": ("ga_exact_cuda", lambda: check_ga_exact(args.data, args.tokenizer, work)),
        "bt": ("backtranslation_cuda", lambda: check_backtranslation(args.data, work)),
        "bf16": ("bf16_training", lambda: check_bf16_training(args.data, args.tokenizer, work)),
        "tp": ("trainer_throughput", throughput_only),
    }
    for key in args.parts.split(","):
        name, fn = parts[key]
        started = time.time()
        try:
            results[name] = fn()
        except Exception as err:
            results[name] = {"error": f"{type(err).__name__}: {err}", "traceback": traceback.format_exc()[-3000:]}
        results[name]["seconds"] = round(time.time() - started, 1)
        print(json.dumps({name: results[name]}, indent=1, default=str), flush=True)
        args.out.write_text(json.dumps(results, indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
