"""Augmenter throughput: nlp_balance against nlpaug and TextAttack, in sentences per second.

Run from the repository root with the main environment; the peer libraries run as a subprocess in
their own environment (see benchmarks/README.md), and both halves are merged into one table:

    .venv/bin/python benchmarks/augment_throughput.py --peer-python ../.venv-bench/bin/python

Every figure is the median of ``--repeats`` timed runs over the first ``--n`` texts of each dataset
(``data/benchmarks/<name>/train.jsonl``). Per-example random generators are built before the clock
starts; resources (WordNet tables, models) are loaded by an untimed warm-up call, except in the
``num_proc=2`` rows, where each fresh worker process loads its own and that cost is part of the
figure. The ratios against nlpaug come from paired rounds instead (:func:`run_paired`): the peer
environment stays open as a server and both sides take turns on the same blocks of texts, because
this machine's speed drifts too much between two measurements a minute apart. Results go to
docs/benchmarks/augment.md and augment.json.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from benchmarks.data import dataset_dir  # noqa: E402

DATASETS = ("davidson_hate", "trec6")
SEED = 0

# Pairs compared in the summary: (our augmenter, peer library, peer augmenter, target ratio or None).
COMPARISONS = [
    ("SynonymReplacement", "nlpaug", "SynonymAug (trivial POS tagger)", 20.0),
    ("SynonymReplacement", "textattack", "WordNetAugmenter", None),
    ("RandomSwap", "nlpaug", "RandomWordAug(swap)", None),
    ("RandomDeletion", "nlpaug", "RandomWordAug(delete)", None),
    ("EDA", "textattack", "EasyDataAugmenter", 10.0),
    ("EDA", "nlpaug", "RandomWordAug(swap)", None),
    ("BackTranslation (batched)", "loop", "one text per generate call", 5.0),
]


def load_texts(name: str, n: int) -> list[str]:
    """The first ``n`` texts of a benchmark dataset's train split."""
    path = dataset_dir(name) / "train.jsonl"
    texts: list[str] = []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            texts.append(json.loads(line)["text"])
            if len(texts) == n:
                break
    return texts


def timed(fn: Callable[[], Any], setup: Callable[[], Any] | None, repeats: int) -> list[float]:
    """Wall-clock seconds of ``repeats`` calls of ``fn(setup())`` (setup is not timed)."""
    times = []
    for _ in range(repeats):
        arg = setup() if setup is not None else None
        start = time.perf_counter()
        fn(arg) if setup is not None else fn()
        times.append(time.perf_counter() - start)
    return times


def row(dataset: str, library: str, augmenter: str, mode: str, n: int, times: list[float], **extra: Any) -> dict:
    median = statistics.median(times)
    return {
        "dataset": dataset,
        "library": library,
        "augmenter": augmenter,
        "mode": mode,
        "n": n,
        "times_s": [round(t, 4) for t in times],
        "median_s": round(median, 4),
        "sentences_per_s": round(n / median, 1) if median > 0 else None,
        **extra,
    }


# ------------------------------------------------------------------------------------------------
# nlp_balance (main environment)
# ------------------------------------------------------------------------------------------------
class MapFn:
    """A picklable ``datasets.map`` function: config-only augmenter, rngs from the example index."""

    def __init__(self, aug: Any, seed: int, torch_threads: int | None = None) -> None:
        self.aug, self.seed, self.torch_threads = aug, seed, torch_threads

    def __call__(self, batch: dict[str, list], indices: list[int]) -> dict[str, list]:
        from nlp_balance.augment.base import example_rng

        if self.torch_threads is not None:  # two workers on two cores: one thread each
            import torch

            torch.set_num_threads(self.torch_threads)
        rngs = [example_rng(self.seed, i, 0) for i in indices]
        return {"augmented": self.aug.augment_batch(batch["text"], rngs)}


def run_map(aug: Any, texts: list[str], num_proc: int, torch_threads: int | None = None) -> list:
    from datasets import Dataset

    ds = Dataset.from_dict({"text": texts})
    out = ds.map(
        MapFn(aug, SEED, torch_threads),
        batched=True,
        batch_size=max(1, len(texts) // (2 * num_proc)),
        with_indices=True,
        num_proc=num_proc if num_proc > 1 else None,
        load_from_cache_file=False,
        desc=None,
    )
    return out["augmented"]


def build_tiny_marian(out_dir: Path, corpus: list[str], seed: int) -> str:
    """A random MarianMT with a BPE tokenizer trained on ``corpus`` (FIELD-NOTES §8 recipe)."""
    import torch
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers
    from transformers import MarianConfig, MarianMTModel, PreTrainedTokenizerFast

    torch.manual_seed(seed)
    bpe = Tokenizer(models.BPE(unk_token="<unk>"))
    bpe.normalizer = normalizers.NFKC()
    bpe.pre_tokenizer = pre_tokenizers.Metaspace()
    bpe.decoder = decoders.Metaspace()
    trainer = trainers.BpeTrainer(vocab_size=1000, min_frequency=1, special_tokens=["<pad>", "</s>", "<unk>"])
    bpe.train_from_iterator(corpus, trainer)
    bpe.post_processor = processors.TemplateProcessing(
        single="$A </s>", pair="$A $B </s>", special_tokens=[("</s>", bpe.token_to_id("</s>"))]
    )
    tok = PreTrainedTokenizerFast(
        tokenizer_object=bpe, pad_token="<pad>", eos_token="</s>", unk_token="<unk>", model_max_length=128
    )
    cfg = MarianConfig(
        vocab_size=len(tok),
        d_model=64,
        encoder_layers=2,
        decoder_layers=2,
        encoder_attention_heads=4,
        decoder_attention_heads=4,
        encoder_ffn_dim=128,
        decoder_ffn_dim=128,
        max_position_embeddings=128,
        pad_token_id=tok.pad_token_id,
        eos_token_id=tok.eos_token_id,
        decoder_start_token_id=tok.pad_token_id,
        forced_eos_token_id=tok.eos_token_id,
    )
    MarianMTModel(cfg).save_pretrained(out_dir)
    tok.save_pretrained(out_dir)
    return str(out_dir)


def bench_backtranslation(dataset: str, texts: list[str], workdir: Path, args: argparse.Namespace) -> list[dict]:
    """Batched BackTranslation vs a one-text-per-generate loop over the same tiny models."""
    import torch
    from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

    from nlp_balance.augment.backtranslate import BackTranslation
    from nlp_balance.augment.base import example_rng

    texts = texts[: args.bt_n]
    dirs = [build_tiny_marian(workdir / f"{dataset}-m{i}", texts, seed=i) for i in range(2)]
    settings = {"num_beams": 1, "max_new_tokens": args.bt_max_new_tokens}
    aug = BackTranslation(dirs, batch_size=args.bt_batch_size, cache=False, **settings)
    aug.augment_batch(texts[:4], [example_rng(SEED, i, 0) for i in range(4)])  # warm-up: load models

    def rngs() -> list:
        return [example_rng(SEED, i, 0) for i in range(len(texts))]

    rows = []
    times = timed(lambda r: aug.augment_batch(texts, r), rngs, args.repeats)
    extra = {"settings": {**settings, "batch_size": args.bt_batch_size, "device": "cpu", "dtype": "float32"}}
    rows.append(row(dataset, "nlp_balance", "BackTranslation (batched)", "single process", len(texts), times, **extra))

    loaded = [(AutoTokenizer.from_pretrained(d), AutoModelForSeq2SeqLM.from_pretrained(d).eval()) for d in dirs]

    def loop(_: Any) -> list[str]:
        out = []
        with torch.inference_mode():
            for text in texts:
                current = text
                for tok, model in loaded:
                    enc = tok([current], return_tensors="pt", truncation=True)
                    ids = model.generate(**enc, do_sample=False, **settings)
                    current = tok.decode(ids[0], skip_special_tokens=True).strip()
                out.append(current)
        return out

    loop(None)  # warm-up
    times = timed(loop, lambda: None, args.repeats)
    rows.append(row(dataset, "loop", "one text per generate call", "single process", len(texts), times, **extra))
    if not args.skip_num_proc:
        times = timed(lambda: run_map(aug, texts, 2, torch_threads=1), None, args.repeats)
        rows.append(
            row(dataset, "nlp_balance", "BackTranslation (batched)", "datasets.map num_proc=2", len(texts), times)
        )
    return rows


def bench_ours(texts_by_ds: dict[str, list[str]], args: argparse.Namespace) -> list[dict]:
    from nlp_balance.augment.base import example_rng
    from nlp_balance.augment.eda import EDA, RandomDeletion, RandomInsertion, RandomSwap
    from nlp_balance.augment.noise import CharNoise
    from nlp_balance.augment.shuffle import SentenceShuffle
    from nlp_balance.augment.synonym import SynonymReplacement

    factories = [SynonymReplacement, RandomInsertion, RandomSwap, RandomDeletion, EDA, SentenceShuffle, CharNoise]
    rows: list[dict] = []
    for dataset, texts in texts_by_ds.items():
        for cls in factories:
            if args.only and cls.__name__ not in args.only:
                continue
            aug = cls()
            aug.augment_batch(texts[:20], [example_rng(SEED, i, 0) for i in range(20)])  # load resources

            def rngs(n: int = len(texts)) -> list:
                return [example_rng(SEED, i, 0) for i in range(n)]

            out = aug.augment_batch(texts, rngs())
            changed = sum(o is not None for o in out) / len(texts)
            times = timed(lambda r, a=aug, t=texts: a.augment_batch(t, r), rngs, args.repeats)
            cfg = aug.get_config()
            rows.append(
                row(
                    dataset,
                    "nlp_balance",
                    cls.__name__,
                    "single process",
                    len(texts),
                    times,
                    changed=round(changed, 3),
                    config=cfg,
                )
            )
            if not args.skip_num_proc:
                times = timed(lambda a=aug, t=texts: run_map(a, t, 2), None, args.repeats)
                rows.append(row(dataset, "nlp_balance", cls.__name__, "datasets.map num_proc=2", len(texts), times))
            print(
                f"  {dataset:14s} {cls.__name__:20s} {rows[-1 if args.skip_num_proc else -2]['sentences_per_s']:>10}/s",
                file=sys.stderr,
            )
        if not args.only or "BackTranslation" in args.only:
            with tempfile.TemporaryDirectory() as tmp:
                rows.extend(bench_backtranslation(dataset, texts, Path(tmp), args))
            print(f"  {dataset:14s} BackTranslation done", file=sys.stderr)
    return rows


# ------------------------------------------------------------------------------------------------
# Peers (separate environment, run as a subprocess of this script with --peer-worker)
# ------------------------------------------------------------------------------------------------
def build_peer_nltk_data(target: Path) -> Path:
    """NLTK_DATA for the peers: a copy of Debian's WordNet + lexnames, and our stopword list."""
    wn = target / "corpora" / "wordnet"
    if not (wn / "lexnames").is_file():
        src = Path("/usr/share/wordnet")
        if not src.is_dir():
            raise FileNotFoundError("/usr/share/wordnet missing: apt-get install wordnet-base wordnet-sense-index")
        wn.mkdir(parents=True, exist_ok=True)
        for f in src.iterdir():
            if f.is_file():
                shutil.copy(f, wn / f.name)  # copies: NLTK refuses links
        pos = {"noun": 1, "verb": 2, "adj": 3, "adv": 4}
        rows = []
        with gzip.open("/usr/share/man/man5/lexnames.5WN.gz", "rt") as fh:
            for line in fh:
                m = re.match(r"^(\d\d)\t(\w+\.\w+)\s", line)
                if m:
                    rows.append(f"{m[1]}\t{m[2]}\t{pos[m[2].split('.')[0]]}\n")
        (wn / "lexnames").write_text("".join(rows))
    stop = target / "corpora" / "stopwords" / "english"
    if not stop.is_file():
        stop.parent.mkdir(parents=True, exist_ok=True)
        ours = ROOT / "nlp_balance" / "augment" / "resources" / "stopwords_en.txt"
        words = [w.strip() for w in ours.read_text().splitlines() if w.strip() and not w.startswith("#")]
        stop.write_text("\n".join(words) + "\n")
    return target


def peer_worker(args: argparse.Namespace) -> None:
    """Runs in the peer environment: nlpaug and TextAttack, single process, JSON to --peer-out."""
    import random

    import nltk

    # Nothing can be downloaded here; TextAttack tries at import and would wait on each attempt.
    nltk.download = lambda *a, **k: False  # type: ignore[assignment]
    result: dict[str, Any] = {"rows": [], "errors": {}, "versions": {"python": platform.python_version()}}
    texts_by_ds = {name: load_texts(name, args.n) for name in args.datasets}
    result["versions"]["nltk"] = nltk.__version__

    try:
        import nlpaug

        result["versions"]["nlpaug"] = nlpaug.__version__
        # nlpaug's SynonymAug needs nltk.pos_tag, whose tagger cannot be downloaded here: replace it
        # with a trivial tagger (every token a noun). Its figure is thus a LOWER BOUND on its cost.
        nltk.pos_tag = lambda tokens, *a, **k: [(t, "NN") for t in tokens]  # type: ignore[assignment]
        peers = list(_nlpaug_peers().items())
        for dataset, texts in texts_by_ds.items():
            for name, make in peers:
                aug = make()
                aug.augment(texts[:20])  # warm-up: WordNet load

                def seed_all() -> None:
                    random.seed(SEED)
                    import numpy as np

                    np.random.seed(SEED)

                times = timed(lambda _, a=aug, t=texts: a.augment(t), seed_all, args.repeats)
                result["rows"].append(
                    row(dataset, "nlpaug", name, "single process", len(texts), times, config={"aug_p": 0.1})
                )
                print(
                    f"  {dataset:14s} nlpaug {name:32s} {result['rows'][-1]['sentences_per_s']:>10}/s", file=sys.stderr
                )
    except Exception as exc:  # record why, keep going with the other peer
        result["errors"]["nlpaug"] = f"{type(exc).__name__}: {exc}"

    try:
        start = time.perf_counter()
        import textattack
        from textattack.augmentation import EasyDataAugmenter, WordNetAugmenter

        result["textattack_import_s"] = round(time.perf_counter() - start, 1)
        result["versions"]["textattack"] = getattr(textattack, "__version__", None) or _dist_version("textattack")
        peers_ta = [
            ("WordNetAugmenter", lambda: WordNetAugmenter(pct_words_to_swap=0.1, transformations_per_example=1)),
            ("EasyDataAugmenter", lambda: EasyDataAugmenter(pct_words_to_swap=0.1, transformations_per_example=1)),
        ]
        for dataset, texts in texts_by_ds.items():
            subset = texts[: args.slow_peer_n]
            for name, make in peers_ta:
                aug = make()
                aug.augment(subset[0])  # warm-up

                def run(_: Any, a: Any = aug, t: list[str] = subset) -> list:
                    return [a.augment(x) for x in t]

                times = timed(run, lambda: random.seed(SEED), args.repeats)
                result["rows"].append(
                    row(
                        dataset,
                        "textattack",
                        name,
                        "single process",
                        len(subset),
                        times,
                        config={"pct_words_to_swap": 0.1, "transformations_per_example": 1},
                    )
                )
                print(
                    f"  {dataset:14s} textattack {name:28s} {result['rows'][-1]['sentences_per_s']:>10}/s",
                    file=sys.stderr,
                )
    except Exception as exc:
        result["errors"]["textattack"] = f"{type(exc).__name__}: {exc}"
    Path(args.peer_out).write_text(json.dumps(result, indent=1))


def _nlpaug_peers() -> dict[str, Callable[[], Any]]:
    """nlpaug augmenters by the names used in the tables (``nltk.pos_tag`` must already be patched)."""
    import nlpaug.augmenter.word as naw

    return {
        "SynonymAug (trivial POS tagger)": lambda: naw.SynonymAug(aug_src="wordnet", aug_p=0.1),
        "RandomWordAug(swap)": lambda: naw.RandomWordAug(action="swap", aug_p=0.1),
        "RandomWordAug(delete)": lambda: naw.RandomWordAug(action="delete", aug_p=0.1),
    }


def peer_server(args: argparse.Namespace) -> None:
    """Runs in the peer environment and times one pass per request, so that the main process can
    alternate peer and nlp_balance passes (paired rounds) instead of timing each side minutes apart.

    Protocol: one JSON object per line on stdin (``{"dataset": ..., "peer": ..., "start": ..., "stop": ...}``,
    a block of the texts), one JSON object per line on stdout (``{"seconds": ...}`` or ``{"error": ...}``).
    """
    import random

    import nltk

    nltk.download = lambda *a, **k: False  # type: ignore[assignment]
    nltk.pos_tag = lambda tokens, *a, **k: [(t, "NN") for t in tokens]  # type: ignore[assignment]
    makers = _nlpaug_peers()
    texts_by_ds = {name: load_texts(name, args.n) for name in args.datasets}
    ready: dict[tuple[str, str], Any] = {}
    for line in sys.stdin:
        request = json.loads(line)
        key = (request["dataset"], request["peer"])
        try:
            if key not in ready:
                ready[key] = makers[key[1]]()
                ready[key].augment(texts_by_ds[key[0]][:20])  # warm-up: WordNet load
            block = texts_by_ds[key[0]][request.get("start", 0) : request.get("stop")]
            random.seed(SEED)
            start = time.perf_counter()
            ready[key].augment(block)
            reply: dict[str, Any] = {"seconds": time.perf_counter() - start}
        except Exception as exc:  # reported, the main process records it
            reply = {"error": f"{type(exc).__name__}: {exc}"}
        print(json.dumps(reply), flush=True)


def _dist_version(name: str) -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(name)
    except PackageNotFoundError:
        return None


def run_peers(args: argparse.Namespace) -> dict[str, Any]:
    """Run :func:`peer_worker` in the peer environment; on failure, say why instead of a figure."""
    python = Path(args.peer_python)
    if not python.exists():
        return {"rows": [], "errors": {"all peers": f"peer interpreter {python} not found (see benchmarks/README.md)"}}
    nltk_data = build_peer_nltk_data(Path(args.peer_nltk_data))
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "peers.json"
        cmd = [
            str(python),
            str(Path(__file__).resolve()),
            "--peer-worker",
            "--peer-out",
            str(out),
            "--n",
            str(args.n),
            "--repeats",
            str(args.repeats),
            "--slow-peer-n",
            str(args.slow_peer_n),
            "--datasets",
            *args.datasets,
        ]
        env = {
            **os.environ,
            "NLTK_DATA": str(nltk_data),
            "HF_HUB_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1",
            "PYTHONPATH": "",
        }
        proc = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=None, text=True, cwd=tmp)
        if proc.returncode != 0 or not out.is_file():
            return {"rows": [], "errors": {"all peers": f"peer worker exited with {proc.returncode}"}}
        return json.loads(out.read_text())


def bare_replacer(synonyms: dict[str, tuple[str, ...]]) -> Callable[[list[str], list[Any]], list[str | None]]:
    """The floor for SynonymReplacement: split at spaces, replace one random piece found in a plain
    ``word -> synonyms`` dict, join. No word count, protected spans, case or inflection handling:
    timed beside the others only to show what a pure-Python replacer costs at the least."""

    def run(texts: list[str], rngs: list[Any]) -> list[str | None]:
        out: list[str | None] = []
        get = synonyms.get
        for text, rng in zip(texts, rngs):
            toks = text.split(" ")
            rand = rng.random
            result = None
            for _ in range(len(toks)):
                k = int(rand() * len(toks))
                cands = get(toks[k])
                if cands:
                    toks[k] = cands[int(rand() * len(cands))]
                    result = " ".join(toks)
                    break
            out.append(result)
        return out

    return run


def pure_python(run: Callable[[list[str], list[Any]], Any]) -> Callable[[list[str], list[Any]], Any]:
    """``run`` (SynonymReplacement.augment_batch) with the compiled loop switched off: the speed of
    an install made without a C compiler, timed in the same rounds."""
    from nlp_balance.augment import synonym

    def python_loop(texts: list[str], rngs: list[Any]) -> Any:
        native, synonym._NATIVE = synonym._NATIVE, None
        try:
            return run(texts, rngs)
        finally:
            synonym._NATIVE = native

    return python_loop


#: Texts after the first ``--n`` of a split that warm up each round's fresh first-pass augmenter.
WARM_UP_TEXTS = 200

#: Extra rows timed in the SynonymReplacement paired rounds: key -> (label in the report, description).
EXTRA_ROWS = {
    "first_pass": (
        "*SynonymReplacement, first pass*",
        f"a fresh augmenter per round, warmed up on {WARM_UP_TEXTS} other texts (the ones after the first n), "
        "augments each block once: texts it has never seen; its memo holds only the words of the warm-up "
        "texts and of the round's earlier blocks",
    ),
    "pure_python": (
        "*SynonymReplacement, pure Python*",
        "the same augmenter with the compiled loop switched off (an install without a C compiler); same output",
    ),
    "floor": (
        "*floor: bare replacer*",
        "bare replacer: split at spaces, one dict look-up per visited piece, join; "
        "no word count, protected spans, case or inflection",
    ),
}


def _mean_seconds(run: Callable[[list[str], list[Any]], Any], block: list[str], lo: int, passes: int) -> float:
    """Mean wall time of ``passes`` calls of ``run(block, rngs)``; the rngs are built off the clock."""
    from nlp_balance.augment.base import example_rng

    spent = 0.0
    for _ in range(passes):  # our pass is ~10x shorter than the peer's: average a few
        rngs = [example_rng(SEED, lo + i, 0) for i in range(len(block))]
        start = time.perf_counter()
        run(block, rngs)
        spent += time.perf_counter() - start
    return spent / passes


def run_paired(args: argparse.Namespace, texts_by_ds: dict[str, list[str]]) -> tuple[list[dict], dict[str, str]]:
    """Alternate nlpaug and nlp_balance passes over the same texts and return per-round ratios.

    On a shared machine the speed drifts by tens of percent within minutes, so two sides timed a
    minute apart can be compared only loosely. A round walks through the texts in blocks of
    ``--paired-block``: the peer augments a block (in the peer environment, through
    :func:`peer_server`), then ours augments it ``--paired-passes`` times (mean taken), and for
    SynonymReplacement so does :func:`bare_replacer`. A round's ratio is the peer's total over ours;
    round 0 is a warm-up for both and is dropped, and the median over the rounds is reported.

    Those passes repeat texts ours has augmented before, so SynonymReplacement finds their words in
    its per-word memo (*repeated passes*, as Balancer makes them). For the *first pass* each round
    also builds a fresh SynonymReplacement, warms it up on ``WARM_UP_TEXTS`` other texts (after the
    first ``--n`` of the split; this loads the shared WordNet surface table), and times its single
    pass over each block, right after the peer's.
    """
    from nlp_balance.augment import synonym as synonym_module
    from nlp_balance.augment.base import example_rng
    from nlp_balance.augment.eda import EDA, RandomDeletion, RandomSwap
    from nlp_balance.augment.synonym import SynonymReplacement
    from nlp_balance.augment.synonym_lookup import SEPARATOR

    python = Path(args.peer_python)
    if not python.exists():
        return [], {"paired rounds": f"peer interpreter {python} not found (see benchmarks/README.md)"}
    ours_by_name = {c.__name__: c for c in (SynonymReplacement, RandomSwap, RandomDeletion, EDA)}
    pairs = [(o, n) for o, lib, n, _ in COMPARISONS if lib == "nlpaug" and (not args.only or o in args.only)]
    if not pairs:
        return [], {}
    nltk_data = build_peer_nltk_data(Path(args.peer_nltk_data))
    env = {**os.environ, "NLTK_DATA": str(nltk_data), "PYTHONPATH": ""}
    cmd = [str(python), str(Path(__file__).resolve()), "--peer-server", "--n", str(args.n), "--datasets"]
    rows: list[dict] = []
    with tempfile.TemporaryDirectory() as tmp:
        proc = subprocess.Popen(
            cmd + list(args.datasets), stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env, cwd=tmp
        )
        assert proc.stdin is not None and proc.stdout is not None
        try:
            for dataset, texts in texts_by_ds.items():
                for ours_name, peer_name in pairs:
                    aug = ours_by_name[ours_name]()
                    aug.augment_batch(texts, [example_rng(SEED, i, 0) for i in range(len(texts))])  # warm-up
                    extras: dict[str, Callable[[list[str], list[Any]], Any]] = {}
                    if ours_name == "SynonymReplacement":  # its memos now hold every word of these texts
                        known = {w: tuple(v.split(SEPARATOR)) for w, v in aug._packed().items() if v}
                        known.update((w, c) for w, c in aug._candidates().items() if c)
                        extras["floor"] = bare_replacer(known)
                        if synonym_module._NATIVE is not None:
                            extras["pure_python"] = pure_python(aug.augment_batch)
                    first_pass = ours_name == "SynonymReplacement"
                    others = load_texts(dataset, len(texts) + WARM_UP_TEXTS)[len(texts) :] if first_pass else []
                    peer_s: list[float] = []
                    ours_s: list[float] = []
                    extra_s: dict[str, list[float]] = {name: [] for name in extras}
                    if first_pass:
                        extra_s["first_pass"] = []
                    for rnd in range(args.paired_rounds + 1):
                        # blocks of texts, peer then ours on each: both sides see the machine within
                        # a fraction of a second of each other
                        round_peer = round_ours = 0.0
                        round_extra = dict.fromkeys(extra_s, 0.0)
                        if first_pass:  # a fresh memo: these texts are new to it
                            fresh = SynonymReplacement()
                            fresh.augment_batch(others, [example_rng(SEED + 1, i, 0) for i in range(len(others))])
                        for lo in range(0, len(texts), args.paired_block):
                            block = texts[lo : lo + args.paired_block]
                            request = {"dataset": dataset, "peer": peer_name, "start": lo, "stop": lo + len(block)}
                            proc.stdin.write(json.dumps(request) + "\n")
                            proc.stdin.flush()
                            reply = json.loads(proc.stdout.readline() or '{"error": "peer server exited"}')
                            if "error" in reply:
                                return rows, {"paired rounds": f"nlpaug {peer_name}: {reply['error']}"}
                            round_peer += reply["seconds"]
                            if first_pass:
                                round_extra["first_pass"] += _mean_seconds(fresh.augment_batch, block, lo, 1)
                            round_ours += _mean_seconds(aug.augment_batch, block, lo, args.paired_passes)
                            for name, run in extras.items():
                                round_extra[name] += _mean_seconds(run, block, lo, args.paired_passes)
                        if rnd:  # round 0 warms both sides up
                            peer_s.append(round_peer)
                            ours_s.append(round_ours)
                            for name in extra_s:
                                extra_s[name].append(round_extra[name])
                    per_round = [p / o for p, o in zip(peer_s, ours_s)]
                    rows.append(
                        {
                            "dataset": dataset,
                            "ours": ours_name,
                            "peer": f"nlpaug {peer_name}",
                            "n": len(texts),
                            "rounds": len(per_round),
                            "ours_times_s": [round(t, 4) for t in ours_s],
                            "peer_times_s": [round(t, 4) for t in peer_s],
                            "ours_sentences_per_s": round(len(texts) / statistics.median(ours_s), 1),
                            "peer_sentences_per_s": round(len(texts) / statistics.median(peer_s), 1),
                            "ratios": [round(r, 2) for r in per_round],
                            "ratio_median": round(statistics.median(per_round), 2),
                        }
                    )
                    if ours_name == "SynonymReplacement":
                        rows[-1]["compiled_loop"] = synonym_module._NATIVE is not None
                        rows[-1]["warm_up_texts"] = len(others)
                    for name, times in extra_s.items():
                        extra_ratios = [p / f for p, f in zip(peer_s, times)]
                        rows[-1][name] = {
                            "what": EXTRA_ROWS[name][1],
                            "times_s": [round(t, 4) for t in times],
                            "sentences_per_s": round(len(texts) / statistics.median(times), 1),
                            "ratios": [round(r, 2) for r in extra_ratios],
                            "ratio_median": round(statistics.median(extra_ratios), 2),
                        }
                    print(
                        f"  {dataset:14s} paired {ours_name} / nlpaug {peer_name}: "
                        f"{rows[-1]['ratio_median']}x (rounds {min(per_round):.1f}-{max(per_round):.1f})"
                        + (f", first pass {rows[-1]['first_pass']['ratio_median']}x" if first_pass else ""),
                        file=sys.stderr,
                    )
        finally:
            proc.stdin.close()
            proc.wait(timeout=120)
    return rows, {}


# ------------------------------------------------------------------------------------------------
# Report
# ------------------------------------------------------------------------------------------------
def machine_info() -> dict[str, Any]:
    info: dict[str, Any] = {"platform": platform.platform(), "logical_cpus": os.cpu_count()}
    try:
        cpuinfo = Path("/proc/cpuinfo").read_text()
        models = re.findall(r"^model name\s*:\s*(.+)$", cpuinfo, flags=re.M)
        info["cpu"] = models[0] if models else None
        meminfo = Path("/proc/meminfo").read_text()
        m = re.search(r"^MemTotal:\s*(\d+) kB", meminfo, flags=re.M)
        info["memory_gib"] = round(int(m[1]) / 2**20, 1) if m else None
    except OSError:
        pass
    return info


def our_versions() -> dict[str, Any]:
    import datasets
    import nltk
    import torch
    import transformers

    return {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "datasets": datasets.__version__,
        "nltk": nltk.__version__,
        "nlp_balance": _dist_version("nlp_balance") or "source tree",
    }


def find(rows: list[dict], dataset: str, library: str, augmenter: str, mode: str = "single process") -> dict | None:
    for r in rows:
        if (r["dataset"], r["library"], r["augmenter"], r["mode"]) == (dataset, library, augmenter, mode):
            return r
    return None


def ratios(rows: list[dict], datasets: list[str], paired: list[dict] | None = None) -> list[dict]:
    """One entry per comparison and dataset: the paired-round median where there is one, else the
    ratio of the two sides' medians from the table of all figures."""
    by_pair = {(p["dataset"], p["ours"], p["peer"]): p for p in paired or []}
    out = []
    for ours_name, peer_lib, peer_name, target in COMPARISONS:
        for ds in datasets:
            ours = find(rows, ds, "nlp_balance", ours_name)
            peer = find(rows, ds, peer_lib, peer_name)
            entry = {"dataset": ds, "ours": ours_name, "peer": f"{peer_lib} {peer_name}", "target": target}
            pair = by_pair.get((ds, ours_name, entry["peer"]))
            entry["pass"] = "median of runs" if pair is None else "repeated passes"
            if pair is not None and pair.get("first_pass"):
                first = pair["first_pass"]
                out.append(
                    {
                        **entry,
                        "pass": "first pass",
                        "ratio": first["ratio_median"],
                        "paired_range": [min(first["ratios"]), max(first["ratios"])],
                        "meets_target": None if target is None else first["ratio_median"] >= target,
                    }
                )
            if pair is not None:
                entry["ratio"] = pair["ratio_median"]
                entry["paired_range"] = [min(pair["ratios"]), max(pair["ratios"])]
                entry["meets_target"] = None if target is None else entry["ratio"] >= target
            elif ours and peer and ours["sentences_per_s"] and peer["sentences_per_s"]:
                entry["ratio"] = round(ours["sentences_per_s"] / peer["sentences_per_s"], 2)
                entry["meets_target"] = None if target is None else entry["ratio"] >= target
            else:
                entry["ratio"] = None
            out.append(entry)
    return out


def write_report(result: dict[str, Any], md_path: Path) -> None:
    lines = [
        "# Augmenter throughput",
        "",
        "Generated by `benchmarks/augment_throughput.py` (see `benchmarks/README.md` to rerun). "
        "Sentences per second, median of "
        f"{result['args']['repeats']} runs, seed {SEED}; higher is better. Raw figures: `augment.json`.",
        "",
        "## Machine and versions",
        "",
        f"- CPU: {result['machine'].get('cpu')} ({result['machine'].get('logical_cpus')} logical CPUs), "
        f"{result['machine'].get('memory_gib')} GiB RAM; {result['machine'].get('platform')}",
        f"- Load average before / after the run: {result['load_before']} / {result['load_after']} "
        "(other jobs shared the machine when the load is above the CPU count; figures are then pessimistic "
        "for both sides alike).",
        f"- nlp_balance environment: {', '.join(f'{k} {v}' for k, v in result['versions']['ours'].items())}",
        f"- Peer environment: {', '.join(f'{k} {v}' for k, v in result['versions'].get('peers', {}).items()) or 'n/a'}",
        f"- Texts: the first {result['args']['n']} of each train split; TextAttack on the first "
        f"{result['args']['slow_peer_n']} (it manages only tens of sentences per second); "
        "BackTranslation and its loop on the first "
        f"{result['args']['bt_n']}.",
        f"- Total run time: {result['wall_s']:.0f} s. torch intra-op threads: {result['args']['torch_threads']} "
        "(with 2 threads on a loaded 2-core machine, OpenMP spin-waiting made every `generate` call 25-45x "
        "slower, on both sides).",
        "",
        "## Ratios (ours / peer)",
        "",
        "Ratios against nlpaug are the median of "
        f"{result['args'].get('paired_rounds', 0)} paired rounds. A round goes through the texts in blocks of "
        f"{result['args'].get('paired_block')}: nlpaug augments a block, then nlp_balance augments the same block "
        f"{result['args'].get('paired_passes', 1)} times (mean taken), so both sides see the machine within a "
        "fraction of a second of each other; a round's ratio is the peer's total over ours. The range over "
        "the rounds is in brackets. The other ratios divide the medians in the table of all figures below.",
        "",
        "The *pass* column says what ours was timed on. **first pass**: a fresh SynonymReplacement per round, "
        f"warmed up on {WARM_UP_TEXTS} other texts (so the WordNet surface table is loaded), augments each block "
        "once: texts it has never seen in this process. **repeated passes**: an augmenter that has already "
        f"augmented all {result['args']['n']:,} texts augments each block {result['args'].get('paired_passes', 1)} "
        "more times, so every word is in its per-word memo; this is what Balancer does, which augments each "
        "minority text many times. *median of runs*: the ratio of the medians in the table of all figures "
        f"({result['args']['repeats']} runs over the same texts after a 20-text warm-up).",
        "",
        "| dataset | ours | pass | peer | ratio | target |",
        "|---|---|---|---|---:|---|",
    ]
    for r in result["ratios"]:
        ratio = "n/a" if r["ratio"] is None else f"{r['ratio']:,.1f}x"
        if r.get("paired_range"):
            ratio += f" ({r['paired_range'][0]:,.1f}-{r['paired_range'][1]:,.1f})"
        if r["target"] is None:
            target = "-"
        elif r["ratio"] is None:
            target = f">= {r['target']:.0f}x: not measured"
        else:
            target = f">= {r['target']:.0f}x: {'met' if r['meets_target'] else 'NOT met'}"
        lines.append(f"| {r['dataset']} | {r['ours']} | {r.get('pass', '-')} | {r['peer']} | {ratio} | {target} |")
    lines += [
        "",
        "nlpaug `SynonymAug` runs with `nltk.pos_tag` replaced by a trivial tagger (every token a noun), "
        "because NLTK's tagger model cannot be downloaded here. Real tagging costs more, so its figure is a "
        "**lower bound on its cost** and the SynonymReplacement ratio against it is a **lower bound on our "
        "speed-up**.",
        "",
        "## All figures",
        "",
        "| dataset | library | augmenter | mode | texts | sentences/s | median s | changed |",
        "|---|---|---|---|---:|---:|---:|---:|",
    ]
    for r in result["rows"]:
        changed = "" if r.get("changed") is None else f"{r['changed']:.0%}"
        lines.append(
            f"| {r['dataset']} | {r['library']} | {r['augmenter']} | {r['mode']} | {r['n']:,} | "
            f"{r['sentences_per_s']:,.0f} | {r['median_s']:.3f} | {changed} |"
        )
    if result.get("paired"):
        lines += [
            "",
            "## Paired rounds (nlpaug)",
            "",
            "| dataset | ours | peer | ours sentences/s | peer sentences/s | per-round ratios |",
            "|---|---|---|---:|---:|---|",
        ]
        for r in result["paired"]:
            lines.append(
                f"| {r['dataset']} | {r['ours']} | {r['peer']} | {r['ours_sentences_per_s']:,.0f} | "
                f"{r['peer_sentences_per_s']:,.0f} | {', '.join(f'{x:.1f}' for x in r['ratios'])} |"
            )
            for key, (label, _) in EXTRA_ROWS.items():
                if r.get(key):
                    f = r[key]
                    lines.append(
                        f"| {r['dataset']} | {label} | {r['peer']} | {f['sentences_per_s']:,.0f} | "
                        f"{r['peer_sentences_per_s']:,.0f} | {', '.join(f'{x:.1f}' for x in f['ratios'])} |"
                    )
        compiled = [r for r in result["paired"] if r.get("compiled_loop") is not None]
        if compiled:
            lines += [
                "",
                "SynonymReplacement ran its compiled loop (`nlp_balance/augment/_synonym_native.c`, built by "
                "`pip install` when a C compiler is present): "
                + "; ".join(f"{r['dataset']} {'yes' if r['compiled_loop'] else 'NO'}" for r in compiled)
                + ". The *pure Python* rows time the same augmenter, in the same rounds, with the compiled loop "
                "switched off, which is what an install without a C compiler runs; both give the same text for "
                "the same seed (`tests/augment/test_synonym_native.py`).",
            ]
            pure = [r for r in compiled if r.get("pure_python")]
            if pure:
                lines[-1] += (
                    " Median ratio of the pure-Python loop against nlpaug: "
                    + "; ".join(f"{r['dataset']} {r['pure_python']['ratio_median']:.1f}x" for r in pure)
                    + "."
                )
        floors = [r for r in result["paired"] if r.get("floor")]
        if floors:
            lines += [
                "",
                "*floor* rows time, in the same rounds, the least a pure-Python synonym replacer does: split at "
                "spaces, look visited pieces up in a plain `word -> synonyms` dict until one is found, replace it, "
                "join. It keeps none of SynonymReplacement's guarantees (word count rule, protected spans, case, "
                "inflection, names) and is no candidate for the library; it shows how far below nlpaug's cost "
                "Python can go at all. Median ratio against nlpaug: "
                + "; ".join(f"{r['dataset']} {r['floor']['ratio_median']:.1f}x" for r in floors)
                + ".",
            ]
    if result["errors"]:
        lines += ["", "## Peers that could not run", ""]
        lines += [f"- **{k}**: {v}" for k, v in result["errors"].items()]
    lines += [
        "",
        "## Method",
        "",
        "- nlp_balance augmenters: default settings, `augment_batch(texts, rngs)` with "
        "`rngs = [example_rng(seed, i, 0) ...]` built before the clock starts; one untimed warm-up call "
        "loads WordNet tables. `changed` is the share of texts the augmenter could change (the rest return "
        "`None`).",
        "- `datasets.map num_proc=2`: `Dataset.from_dict` + `map(batched=True, with_indices=True, num_proc=2)`"
        " with a config-only callable; each run starts fresh workers, which load their own resources, so "
        "start-up is included. On a 2-core machine this shows the overhead, not a speed-up, at 5,000 texts.",
        "- Peers: `aug_p=0.1` / `pct_words_to_swap=0.1` to match our defaults, one output per text "
        "(`transformations_per_example=1`); nlpaug's `augment(list)` is a loop over texts. TextAttack's "
        "EasyDataAugmenter still runs all four EDA operations per text and samples one result: that is its "
        "design, timed as is. Peers import with `nltk.download` stubbed out (no network), with WordNet and "
        "our stopword list under `NLTK_DATA`.",
        "- BackTranslation: two random MarianMT models (d_model 64, 2+2 layers, BPE vocab 1,000 trained on "
        "the same texts) built in a temporary folder, CPU float32, greedy decoding, a fixed "
        f"`max_new_tokens={result['args']['bt_max_new_tokens']}` (random weights never stop early, so both "
        f"sides generate the same number of tokens), `batch_size={result['args']['bt_batch_size']}`, cache "
        "off. The loop loads the same folders and calls `generate` once per text per hop.",
    ]
    md_path.write_text("\n".join(lines) + "\n")


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--n", type=int, default=5000, help="texts per dataset (default 5000)")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--datasets", nargs="+", default=list(DATASETS))
    p.add_argument("--bt-n", type=int, default=96, help="texts for BackTranslation and its loop")
    p.add_argument("--bt-batch-size", type=int, default=32)
    p.add_argument("--bt-max-new-tokens", type=int, default=24)
    p.add_argument("--slow-peer-n", type=int, default=100, help="texts for TextAttack (slow)")
    p.add_argument(
        "--torch-threads",
        type=int,
        default=1,
        help="torch intra-op threads for BackTranslation and its loop (1: robust on a shared machine)",
    )
    p.add_argument("--peer-python", default=str(ROOT.parent / ".venv-bench" / "bin" / "python"))
    p.add_argument("--peer-nltk-data", default=str(Path(tempfile.gettempdir()) / "nlp_balance_bench_nltk_data"))
    p.add_argument("--skip-peers", action="store_true")
    p.add_argument("--skip-num-proc", action="store_true")
    p.add_argument("--only", nargs="*", help="only these nlp_balance augmenters (class names)")
    p.add_argument("--out", default=str(ROOT / "docs" / "benchmarks" / "augment.md"))
    p.add_argument("--report-from", help="only rewrite the Markdown report from this saved augment.json")
    p.add_argument(
        "--paired-rounds",
        type=int,
        default=7,
        help="alternating nlpaug / nlp_balance rounds behind the nlpaug ratios (plus one warm-up round)",
    )
    p.add_argument(
        "--paired-passes",
        type=int,
        default=5,
        help="nlp_balance passes per block of a paired round, averaged (ours takes ~1/10 of the peer's time)",
    )
    p.add_argument("--paired-block", type=int, default=250, help="texts per block inside a paired round")
    p.add_argument("--peer-worker", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--peer-server", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--peer-out", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.peer_worker:
        peer_worker(args)
        return
    if args.peer_server:
        peer_server(args)
        return
    if args.report_from:
        write_report(json.loads(Path(args.report_from).read_text()), Path(args.out))
        return

    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    import torch
    import transformers

    torch.set_num_threads(args.torch_threads)
    transformers.utils.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()
    import datasets

    datasets.disable_progress_bars()
    start = time.perf_counter()
    load_before = [round(x, 2) for x in os.getloadavg()]
    texts_by_ds = {name: load_texts(name, args.n) for name in args.datasets}
    print("nlp_balance augmenters ...", file=sys.stderr)
    rows = bench_ours(texts_by_ds, args)
    peers: dict[str, Any] = {"rows": [], "errors": {"all peers": "skipped (--skip-peers)"}}
    paired: list[dict] = []
    if not args.skip_peers:
        print("peers (separate environment) ...", file=sys.stderr)
        peers = run_peers(args)
        print("paired rounds: nlpaug and nlp_balance alternating ...", file=sys.stderr)
        paired, paired_errors = run_paired(args, texts_by_ds)
        peers.setdefault("errors", {}).update(paired_errors)
    rows += peers["rows"]
    result = {
        "args": {k: v for k, v in vars(args).items() if not k.startswith("peer_w") and k != "peer_out"},
        "seed": SEED,
        "machine": machine_info(),
        "versions": {"ours": our_versions(), "peers": peers.get("versions", {})},
        "load_before": load_before,
        "load_after": [round(x, 2) for x in os.getloadavg()],
        "wall_s": round(time.perf_counter() - start, 1),
        "rows": rows,
        "errors": peers.get("errors", {}),
        "textattack_import_s": peers.get("textattack_import_s"),
        "paired": paired,
        "ratios": ratios(rows, args.datasets, paired),
    }
    md = Path(args.out)
    md.parent.mkdir(parents=True, exist_ok=True)
    md.with_suffix(".json").write_text(json.dumps(result, indent=1) + "\n")
    write_report(result, md)
    print(md.read_text())


if __name__ == "__main__":
    main()
