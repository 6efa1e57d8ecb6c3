"""Training run launched by tests/training/test_trainer_ddp.py, once as one process and once under torchrun.

Usage: ``python tests/ddp_train_script.py OUT_DIR --per-device B --ga G`` (optionally via
``torchrun --nproc_per_node 2``). It fine-tunes a tiny random BERT with BalancedTrainer (focal loss,
"balanced" class weights, the weighted sampler) and writes, per rank, the example indices of every
micro-batch it consumed and its class weights; rank 0 also writes the final weights. With
``--synthesis smote|mixup`` the run also synthesises head inputs in embedding space, with
``--synthesis tmix`` it mixes hidden states at encoder layers 1 and 2; every rank then writes its
memory bank (``rank<r>_bank.pt``: tensors for smote/mixup, lists of token-id rows for tmix) and its
final weights, so the test can check that the banks were gathered and the ranks stayed in step.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from datasets import Dataset
from transformers import BertConfig, BertForSequenceClassification, default_data_collator
from transformers.utils import logging as hf_logging

from nlp_balance.training.arguments import BalancedTrainingArguments
from nlp_balance.training.trainer import BalancedTrainer
from nlp_balance.utils.distributed import finish_distributed

N = 32
OFFSET = 5  # token id of example i's first token is OFFSET + i, so batches reveal their indices


def make_data() -> Dataset:
    rng = np.random.default_rng(0)
    labels = rng.choice(3, size=N, p=[0.7, 0.2, 0.1])
    labels[:3] = [0, 1, 2]
    labels[-2:] = -100  # ignored rows: never sampled, never counted
    ids = rng.integers(OFFSET + N, 90, size=(N, 6))
    ids[:, 0] = OFFSET + np.arange(N)
    return Dataset.from_dict({"input_ids": ids.tolist(), "labels": labels.tolist()})


class RecordingCollator:
    """Default collation that remembers which examples each micro-batch held."""

    def __init__(self) -> None:
        self.batches: list[list[int]] = []

    def __call__(self, features):
        batch = default_data_collator(features)
        self.batches.append((batch["input_ids"][:, 0] - OFFSET).tolist())
        return batch


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--per-device", type=int, required=True)
    parser.add_argument("--ga", type=int, required=True)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--synthesis", choices=("smote", "mixup", "tmix"), default=None)
    opts = parser.parse_args()
    hf_logging.set_verbosity_error()
    torch.set_num_threads(1)

    world = int(os.environ.get("WORLD_SIZE", "1"))
    cfg = BertConfig(
        vocab_size=90,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=16,
        num_labels=3,
        hidden_dropout_prob=0.0,
        attention_probs_dropout_prob=0.0,
    )
    torch.manual_seed(0)
    model = BertForSequenceClassification(cfg)
    initial = {k: v.detach().clone() for k, v in model.state_dict().items()}
    args = BalancedTrainingArguments(
        output_dir=str(opts.out_dir / "run"),
        per_device_train_batch_size=opts.per_device,
        gradient_accumulation_steps=opts.ga,
        num_train_epochs=opts.epochs,
        learning_rate=0.1,
        optim="sgd",
        lr_scheduler_type="constant",
        weight_decay=0.0,
        max_grad_norm=0.0,
        loss="focal",
        class_weighting="balanced",
        sampler="weighted",
        seed=0,
        report_to="none",
        save_strategy="no",
        logging_steps=1000,
        use_cpu=True,
        disable_tqdm=True,
        dataloader_num_workers=0,
        ddp_backend="gloo" if world > 1 else None,
        ddp_find_unused_parameters=False if world > 1 else None,
        embedding_synthesis=opts.synthesis,
        tmix_layers=[1, 2] if opts.synthesis == "tmix" else None,
        memory_bank_size=256,
    )
    collator = RecordingCollator()
    trainer = BalancedTrainer(model=model, args=args, train_dataset=make_data(), data_collator=collator)
    trainer.train()
    rank = trainer.args.process_index
    opts.out_dir.mkdir(parents=True, exist_ok=True)
    record = {
        "world": trainer.accelerator.num_processes,
        "rank": rank,
        "batches": collator.batches,
        "class_weights": trainer.class_weights_.tolist(),
        "global_steps": trainer.state.global_step,
    }
    (opts.out_dir / f"rank{rank}.json").write_text(json.dumps(record))
    synth = trainer.embedding_synthesizer
    if synth is not None:
        bank = {int(c): [r["input_ids"].cpu() for r in t] if isinstance(t, list) else t.detach().cpu()
                for c, t in synth.bank.items()}
        final = {k: v.detach().cpu() for k, v in trainer.model.state_dict().items()}
        torch.save({"bank": bank, "synthesized": synth.synthesized_, "final": final},
                   opts.out_dir / f"rank{rank}_bank.pt")
    if rank == 0:
        final = {k: v.detach().cpu() for k, v in trainer.model.state_dict().items()}
        torch.save({"initial": initial, "final": final}, opts.out_dir / "weights.pt")
    # The DDP wrapper holds the process group too; release it first so that the group is destroyed
    # inside finish_distributed, after its barrier, and not later while the trainer is freed.
    del trainer, model, synth, collator
    finish_distributed()


if __name__ == "__main__":
    main()
