"""Contextual word replacement and insertion with any masked language model (nlpaug's ``ContextualWordEmbsAug``).

:class:`ContextualReplacement` masks whole words and puts in a word the model proposes in context;
:class:`ContextualInsertion` puts a mask between two words and inserts the model's word there. Both
work with any ``AutoModelForMaskedLM`` that has a fast tokenizer (BERT, RoBERTa, DistilBERT, ...).

How one batch runs:

1. Each text is split into words and protected spans (:mod:`.text`); the words it may change are
   chosen with its own ``rng`` (``ceil(aug_p * words)``, as in nlpaug), together with one uniform
   draw per choice, before the model runs, so the choices never depend on the batch.
2. Each chosen place becomes a mask token in place of all the tokens of the word (a whole word,
   never a piece of one) or between two words. The masks of one text share a *row* (its tokens
   with those masks) as long as no two of them are next to each other: every masked word keeps
   its neighbours, and a text costs one or two rows instead of one per place, as BERT was
   trained (15% of the tokens masked at once). ``max_masks_per_row=1`` gives each place a row of
   its own. Rows of every text in the batch are run together, longest first
   (:mod:`.contextual_model`).
3. The model's whole-word candidates at each mask (top-k, then top-p, at a temperature) lose the
   original word and its neighbours; the uniform draw picks one. Its case follows the original.

Results are stored in a content-addressed disk cache, one entry per text, keyed by the model's
files, the settings that change the candidates and the text, so a later copy of the same source
(or a rerun) runs the model only for rows not seen before.
"""

from __future__ import annotations

import math
import os
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from nlp_balance.utils.cache import DiskCache, content_key

from ._runtime import check_cache, check_dtype, check_unit, positive_int
from .backtranslate_keys import model_identity
from .base import register_augmenter
from .contextual_model import VOCABULARY_RULE, MaskedLM, masked_row, token_ranges
from .text import match_case, splice, tokenize
from .word_augmenter import WordAugmenter, aug_count

__all__ = ["DEFAULT_MASKED_LM", "ContextualInsertion", "ContextualReplacement", "pick_candidate"]

#: The default fill-mask model (nlpaug's default too); any ``AutoModelForMaskedLM`` works.
DEFAULT_MASKED_LM = "google-bert/bert-base-uncased"

_CACHE_NAMESPACE = "contextual"
_SPARE = 8  # candidates fetched beyond top_k, so that excluding the original word still leaves top_k
_MEMO_LIMIT = 50_000


@dataclass(frozen=True)
class _Site:
    """A place a text may change: the characters ``[start, end)`` (``start == end``: an insertion point),
    the tokens ``[a, b)`` a mask takes the place of (``a == b``: inserted before token ``a``), the index
    of its word, the words it must not become, and the case it takes (an original word, or ``"UPPER"``)."""

    start: int
    end: int
    tokens: tuple[int, int]
    word: int
    exclude: frozenset[str]
    template: str


def _rows_of(sites: list[_Site], limit: int | None) -> list[list[_Site]]:
    """Chosen sites (ascending) grouped into rows: no two neighbouring words in one row, at most ``limit``."""
    groups: list[list[_Site]] = []
    for site in sites:
        for group in groups:
            if group[-1].word < site.word - 1 and (limit is None or len(group) < limit):
                group.append(site)
                break
        else:
            groups.append([site])
    return groups


def _row_key(group: list[_Site]) -> str:
    return "|".join(f"{s.tokens[0]}:{s.tokens[1]}" for s in group)


def pick_candidate(candidates: Sequence[tuple[str, float]], exclude: frozenset[str], top_k: int, top_p: float,
                   temperature: float, u: float) -> str | None:
    """The candidate that the uniform draw ``u`` picks after the exclusions, top-k and top-p.

    ``candidates`` are ``(word, logit)`` pairs, best first; ``exclude`` holds lower-case words.
    """
    kept = [(w, v) for w, v in candidates if w.lower() not in exclude][:top_k]
    if not kept:
        return None
    best = kept[0][1]
    weights = [math.exp((v - best) / temperature) for _, v in kept]
    total = sum(weights)
    if top_p < 1.0:
        cumulative = 0.0
        for n, w in enumerate(weights, start=1):
            cumulative += w / total
            if cumulative >= top_p:
                kept, weights = kept[:n], weights[:n]
                break
        total = sum(weights)
    target = u * total
    for (word, _), w in zip(kept, weights):
        target -= w
        if target < 0:
            return word
    return kept[-1][0]


class _Contextual(WordAugmenter):
    """Shared configuration and batching of the two contextual augmenters (not registered).

    Args:
        model: ``AutoModelForMaskedLM`` folder or Hub id (with a fast tokenizer).
        aug_p: share of the words to change (``ceil(aug_p * words)``, at least ``aug_min``, at most ``aug_max``).
        aug_min, aug_max: least and most changes per text (``aug_max=None``: no limit).
        stopwords: words never replaced and never inserted (default: the shipped English list; ``()``: none).
        protected_words, protected_patterns: extra spans never changed (see :class:`~.text.Protector`).
        top_k: the model's best whole words considered at each place.
        top_p: then the smallest set of them whose probability reaches ``top_p`` (``1.0``: all ``top_k``).
        temperature: divides the logits before the draw (below 1: sharper, above 1: flatter).
        max_masks_per_row: most masks in one row (``None``: every chosen place that has no chosen
            neighbour; ``1``: one place per row, each predicted from the rest of the text unmasked).
        batch_size: masked rows per forward pass (rows of several texts run together, longest first).
        max_length: tokens per text given to the model (words past it are left alone).
        device, dtype: ``None`` = CUDA with bfloat16 when available, else CPU with float32.
        revision, trust_remote_code: passed to ``from_pretrained``.
        cache: ``True`` = the private nlp_balance cache, a path = that directory, ``False`` = none.
        p: probability of augmenting a given text at all.
    """

    action: ClassVar[str] = "substitute"
    version = "1"

    def __init__(
        self,
        model: str | os.PathLike[str] = DEFAULT_MASKED_LM,
        *,
        aug_p: float = 0.15,
        aug_min: int = 1,
        aug_max: int | None = 10,
        stopwords: Sequence[str] | None = None,
        protected_words: Sequence[str] = (),
        protected_patterns: Sequence[Any] = (),
        top_k: int = 20,
        top_p: float = 1.0,
        temperature: float = 1.0,
        max_masks_per_row: int | None = None,
        batch_size: int = 64,
        max_length: int = 128,
        device: str | None = None,
        dtype: str | None = None,
        revision: str | None = None,
        trust_remote_code: bool = False,
        cache: bool | str | os.PathLike[str] = True,
        p: float = 1.0,
    ) -> None:
        super().__init__(p=p)
        self._setup_words(aug_p, aug_min, aug_max, stopwords, protected_words, protected_patterns)
        if not isinstance(model, (str, os.PathLike)) or not os.fspath(model):
            raise ValueError(f"model must be a masked language model folder or Hub id, got {model!r}")
        self.model = os.fspath(model)
        self.top_k = positive_int("top_k", top_k)
        self.top_p = check_unit("top_p", top_p)
        if isinstance(temperature, bool) or not isinstance(temperature, (int, float)) or not temperature > 0:
            raise ValueError(f"temperature must be a number > 0, got {temperature!r}")
        self.temperature = float(temperature)
        self.max_masks_per_row = None if max_masks_per_row is None else positive_int("max_masks_per_row",
                                                                                      max_masks_per_row)
        self.batch_size = positive_int("batch_size", batch_size)
        self.max_length = positive_int("max_length", max_length, minimum=8)
        self.device = None if device is None else str(device)
        self.dtype = check_dtype(dtype)
        self.revision = revision
        self.trust_remote_code = bool(trust_remote_code)
        self.cache = check_cache(cache)

    # --- lazily loaded, per-process resources -------------------------------------------------------
    def _lm(self) -> MaskedLM:
        return self.resource("lm", lambda: MaskedLM(self.model, revision=self.revision,
                                                     trust_remote_code=self.trust_remote_code,
                                                     device=self.device, dtype=self.dtype))

    def _disk_cache(self) -> DiskCache | None:
        if self.cache is False:
            return None
        root = None if self.cache is True else self.cache
        return self.resource("disk_cache", lambda: DiskCache(_CACHE_NAMESPACE, root=root))

    def _settings(self) -> dict[str, Any]:
        """Everything a text's cached candidates depend on besides the text itself."""

        def build() -> dict[str, Any]:
            import transformers

            lm = self._lm()
            cache = self._disk_cache()
            # The files' digest only matters for entries on disk; in memory the model is the loaded one.
            model = self.model if cache is None else model_identity(self.model, self.revision, cache)
            return {
                "model": model,
                "augmenter": self.name, "version": self.version, "vocabulary": VOCABULARY_RULE,
                "transformers": transformers.__version__, "device": lm.device.type, "dtype": str(lm.dtype),
                "candidates": self.top_k + _SPARE, "max_length": self.max_length,
            }

        return self.resource("settings", build)

    # --- the places a text may change ----------------------------------------------------------------
    def _sites(self, text: str, offsets: list[tuple[int, int]]) -> tuple[int, list[_Site]]:
        """The number of words of ``text`` and the places it may change (subclasses say where)."""
        raise NotImplementedError

    # --- augmentation -----------------------------------------------------------------------------------
    def augment_batch(self, texts: Sequence[str], rngs: Sequence[random.Random]) -> list[str | None]:
        """One augmented text per input (``None`` where ``p`` skipped it or nothing could change).

        Each ``rng`` gives, in order: the ``p`` draw, the places to change, one uniform per place.
        """
        if len(texts) != len(rngs):
            raise ValueError(f"got {len(texts)} texts but {len(rngs)} random generators")
        active = [i for i, rng in enumerate(rngs) if self._should_apply(rng)]
        out: list[str | None] = [None] * len(texts)
        if not active:
            return out
        all_ids, all_offsets = self._lm().encode([texts[i] for i in active], self.max_length - 1)
        work = []  # (text index, token ids, rows of chosen sites, one uniform per site)
        for i, ids, offsets in zip(active, all_ids, all_offsets):
            n_words, sites = self._sites(texts[i], offsets)
            n = min(aug_count(n_words, self.aug_p, self.aug_min, self.aug_max), len(sites))
            chosen = [sites[c] for c in sorted(rngs[i].sample(range(len(sites)), n))] if n > 0 else []
            draws = {id(site): rngs[i].random() for site in chosen}
            work.append((i, ids, _rows_of(chosen, self.max_masks_per_row), draws))
        found = self._candidates([(texts[i], ids, groups) for i, ids, groups, _ in work])
        for (i, _, groups, draws), per_group in zip(work, found):
            edits = []
            for group, per_site in zip(groups, per_group):
                for site, cands in zip(group, per_site):
                    u = draws[id(site)]
                    word = pick_candidate(cands, site.exclude, self.top_k, self.top_p, self.temperature, u)
                    if word is not None:
                        edits.append((site.start, site.end, self._written(site, word)))
            if edits:
                out[i] = splice(texts[i], edits)
        return out

    def _written(self, site: _Site, word: str) -> str:
        """What goes into the text for ``word`` at ``site``."""
        raise NotImplementedError

    def _candidates(
        self, work: list[tuple[str, list[int], list[list[_Site]]]]
    ) -> list[list[list[list[tuple[str, float]]]]]:
        """For every row of every text, the candidates at each of its masks: from memory, the disk
        cache, or one batched model run over all the rows missing."""
        memo: dict[str, dict[str, list[list[tuple[str, float]]]]] = self.resource("memo", dict)
        cache = self._disk_cache()
        settings = self._settings()
        keys = [content_key(settings, self.action, text) for text, _, _ in work]
        entries: dict[str, dict[str, list[list[tuple[str, float]]]]] = {}
        for key in keys:
            if key not in entries:
                entries[key] = dict(memo.get(key) or _stored_entry(cache, key))
        mask_id = self._lm().tokenizer.mask_token_id
        pending: dict[tuple[str, str], Any] = {}
        for key, (_, ids, groups) in zip(keys, work):
            for group in groups:
                row_key = _row_key(group)
                if row_key not in entries[key] and (key, row_key) not in pending:
                    pending[(key, row_key)] = masked_row(ids, [s.tokens for s in group], mask_id)
        if pending:
            found = self._lm().fill(list(pending.values()), self.top_k + _SPARE, self.batch_size)
            for (key, row_key), cands in zip(pending, found):
                entries[key][row_key] = cands
            if cache is not None:  # one write per text, holding every row of it seen so far
                for key in dict.fromkeys(k for k, _ in pending):
                    cache.set(key, entries[key])
        if len(memo) > _MEMO_LIMIT:
            memo.clear()
        memo.update(entries)
        return [[entries[key][_row_key(g)] for g in groups] for key, (_, _, groups) in zip(keys, work)]


def _stored_entry(cache: DiskCache | None, key: str) -> dict[str, list[list[tuple[str, float]]]]:
    """A text's cached candidates (row -> per mask, ``(word, logit)`` pairs); ``{}`` when absent or malformed."""
    stored = cache.get(key) if cache is not None else None
    if not isinstance(stored, dict):
        return {}
    try:
        return {k: [[(str(w), float(v)) for w, v in per_mask] for per_mask in row] for k, row in stored.items()}
    except (TypeError, ValueError):
        return {}


@register_augmenter
class ContextualReplacement(_Contextual):
    """Replace whole words with words a masked language model proposes in their context.

    Stopwords and protected spans are never replaced; the original word and its neighbours are never
    proposed; the new word takes the case of the old one. See :class:`_Contextual` for the arguments.
    """

    name = "contextual_replacement"
    action = "substitute"

    def _sites(self, text: str, offsets: list[tuple[int, int]]) -> tuple[int, list[_Site]]:
        words = tokenize(text, self._protector).words
        lowered = [text[s:e].lower() for s, e in words]
        sites = []
        for w, ((s, e), tokens) in enumerate(zip(words, token_ranges(offsets, words))):
            if tokens is None or self._is_stopword(lowered[w]):
                continue
            sites.append(_Site(s, e, tokens, w, frozenset(lowered[max(0, w - 1) : w + 2]), text[s:e]))
        return len(words), sites

    def _written(self, site: _Site, word: str) -> str:
        return match_case(site.template, word)


@register_augmenter
class ContextualInsertion(_Contextual):
    """Insert words a masked language model proposes between two words of the text.

    A word is inserted (after a space) right after a word that a space or the end of the text
    follows, so protected spans and joined forms (``don't``, ``e-mail``) are never split. Stopwords,
    and the two words around the gap, are never inserted. See :class:`_Contextual` for the arguments.
    """

    name = "contextual_insertion"
    action = "insert"

    def _sites(self, text: str, offsets: list[tuple[int, int]]) -> tuple[int, list[_Site]]:
        words = tokenize(text, self._protector).words
        lowered = [text[s:e].lower() for s, e in words]
        sites = []
        for w, ((_, e), tokens) in enumerate(zip(words, token_ranges(offsets, words))):
            if tokens is None or (e < len(text) and not text[e].isspace()):
                continue
            exclude = frozenset(lowered[w : w + 2]) | self._stop
            both_upper = all(len(text[s_:e_]) > 1 and text[s_:e_].isupper() for s_, e_ in words[w : w + 2])
            sites.append(_Site(e, e, (tokens[1], tokens[1]), w, exclude, "UPPER" if both_upper else ""))
        return len(words), sites

    def _written(self, site: _Site, word: str) -> str:
        return " " + (word.upper() if site.template == "UPPER" else word)
