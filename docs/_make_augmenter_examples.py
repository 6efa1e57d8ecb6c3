"""Regenerate the before/after example tables in docs/augmenters.md (seeded, so reruns are stable).

Usage: ``python docs/_make_augmenter_examples.py`` from the repository root (WordNet installed, see
``python -m nlp_balance.augment.wordnet``). Each table sits between ``<!-- BEGIN EXAMPLES key -->``
and ``<!-- END EXAMPLES key -->`` markers in docs/augmenters.md; only those blocks are rewritten.

Texts come from data/benchmarks (trec6 and davidson_hate). davidson_hate is a hate-speech corpus:
only rows labelled "neither" that contain no word from a small profanity/slur list are used.
"""

from __future__ import annotations

import json
import random
import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.data import DATA_ROOT as DATA  # noqa: E402
from nlp_balance.augment.base import example_rng  # noqa: E402
from nlp_balance.augment.compose import Compose, OneOf  # noqa: E402
from nlp_balance.augment.eda import EDA, RandomDeletion, RandomInsertion, RandomSwap  # noqa: E402
from nlp_balance.augment.noise import CharNoise  # noqa: E402
from nlp_balance.augment.shuffle import SentenceShuffle  # noqa: E402
from nlp_balance.augment.synonym import SynonymReplacement  # noqa: E402

DOC = REPO / "docs" / "augmenters.md"
SEED = 2024
PER_DATASET = 5
# Stems of words that make a row unsuitable for documentation (matched case-insensitively).
_BLOCK = re.compile(
    r"(?i)(fuck|shit|bitch|hoe|nigg|fag|cunt|dick|pussy|ass\b|asses|whore|slut|retard|twat|bastard|"
    r"damn|hell\b|kill|trash|ghetto|dyke|queer|tranny|coon|spic|chink|wetback|cracker|sex|porn|"
    r"stupid|idiot|ugly|hate|gay|bird|monkey|yankee|colored|brownie|oreo)"
)

AUGMENTERS = {
    "synonym": SynonymReplacement(aug_p=0.2),
    "synonym_pos": SynonymReplacement(aug_p=0.2, pos_filter=True),
    "random_insertion": RandomInsertion(aug_p=0.1),
    "random_swap": RandomSwap(aug_p=0.1),
    "random_deletion": RandomDeletion(aug_p=0.15),
    "eda": EDA(),
    "sentence_shuffle": SentenceShuffle(),
    "char_noise": CharNoise(char_p=0.04),
    "compose": Compose([SynonymReplacement(aug_p=0.15), OneOf([CharNoise(char_p=0.03), RandomSwap()], p=0.5)]),
}


def load(name: str) -> list[str]:
    rows = []
    with open(DATA / name / "train.jsonl", encoding="utf-8") as fh:
        for line in fh:
            row = json.loads(line)
            if name == "davidson_hate" and (row["label"] != "neither" or _BLOCK.search(row["text"])):
                continue
            rows.append(row["text"])
    return rows


def cell(text: str) -> str:
    text = text.replace("|", "\\|").replace("\n", " ↵ ").replace("&amp;", "&")
    return text.strip()


def table(aug, pools: dict[str, list[str]]) -> str:
    lines = ["| data | before | after |", "|---|---|---|"]
    for name, texts in pools.items():
        order = list(range(len(texts)))
        random.Random(SEED).shuffle(order)
        shown = 0
        for i in order:
            text = texts[i]
            if len(text) > 160:
                continue
            out = aug.augment_batch([text], [example_rng(SEED, i, 0)])[0]
            if out is None:
                continue
            lines.append(f"| {name} | {cell(text)} | {cell(out)} |")
            shown += 1
            if shown == PER_DATASET:
                break
    return "\n".join(lines)


def main() -> int:
    pools = {"trec6": load("trec6"), "davidson_hate": load("davidson_hate")}
    doc = DOC.read_text(encoding="utf-8")
    for key, aug in AUGMENTERS.items():
        pattern = re.compile(rf"(<!-- BEGIN EXAMPLES {key} -->\n).*?(<!-- END EXAMPLES {key} -->)", re.DOTALL)
        if not pattern.search(doc):
            print(f"no marker for {key!r} in {DOC}", file=sys.stderr)
            return 1
        block = table(aug, pools)
        doc = pattern.sub(lambda m, block=block: m.group(1) + block + "\n" + m.group(2), doc)
    DOC.write_text(doc, encoding="utf-8")
    print(f"updated {DOC}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
