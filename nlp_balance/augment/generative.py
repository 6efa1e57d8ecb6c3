"""Label-conditioned generation (LAMBADA, Anaby-Tavor et al. 2020): a language model writes new texts of a class.

For each source text the prompt names its class and shows a few real texts of that class (the
source among them, chosen and ordered by the example's ``rng``); a causal LM continues it,
or a seq2seq model answers it, ``num_candidates`` times. The candidates are de-duplicated against
the source, the prompt, every known text of the data and each other, and, when a ``classifier`` is
given, kept only if it assigns them to the class with probability ``>= min_confidence``. The most
confident survivor (without a classifier: the first) is the output.

**Which class?** In order: the ``labels`` passed to :meth:`GenerativeAugmenter.augment_batch`
(class names, or ids with ``label_names``); ``class_name`` (one class for every text); or the class
whose ``examples`` hold the source text. The :class:`~nlp_balance.Balancer` passes the class name of
each source row as ``labels`` (it reads its label column for any augmenter whose ``augment_batch``
takes ``labels``), so there the class is always known.

**Which examples?** Only ``examples`` (a mapping, or the path of the training data) give the prompt
real texts besides the source; without them the prompt shows the source text alone. Give them for
the few-shot prompt of the paper.

**De-duplication** is per source text (case and runs of spaces ignored): a candidate equal to the
source, to any text of ``examples`` or to an earlier candidate is dropped. Outputs of different
source texts are not compared here (that would tie a text's output to its batch); the Balancer
removes those duplicates across its whole output.

Generations are stored in a content-addressed disk cache keyed by the model's files, the sampling
settings, the prompt and the example's seed, as back-translation does.
"""

from __future__ import annotations

import os
import random
import string
from collections.abc import Mapping, Sequence
from typing import Any

from nlp_balance.utils.cache import DiskCache, content_key

from ._runtime import check_cache, check_dtype, check_unit, positive_int
from .backtranslate_keys import model_identity
from .base import Augmenter, get_augmenter, register_augmenter
from .class_filter import CentroidClassifier, ModelClassifier, class_probabilities, is_classifier
from .filters import DuplicateFilter, SimilarityFilter
from .generative_model import KINDS, LanguageModel, Sampling

__all__ = ["DEFAULT_GENERATOR", "DEFAULT_PROMPT", "GenerativeAugmenter"]

#: The default generator; any causal LM or seq2seq model works.
DEFAULT_GENERATOR = "openai-community/gpt2"
#: The default prompt: ``{label}`` is the class name, ``{examples}`` the real texts, one ``- text`` per line.
DEFAULT_PROMPT = 'Examples of texts labelled "{label}":\n{examples}\n- '

_CACHE_NAMESPACE = "generative"
_AMBIGUOUS = object()


def _check_template(template: Any) -> str:
    if not isinstance(template, str):
        raise ValueError(f"prompt_template must be a str, got {template!r}")
    try:
        fields = {f for _, f, _, _ in string.Formatter().parse(template) if f is not None}
    except ValueError as exc:
        raise ValueError(f"prompt_template {template!r} is not a valid format string: {exc}") from None
    if fields != {"label", "examples"}:
        raise ValueError(f"prompt_template must use exactly the fields {{label}} and {{examples}} "
                         f"(double other braces), got {sorted(fields)}")
    return template


@register_augmenter
class GenerativeAugmenter(Augmenter):
    """Write new texts of a class with a language model prompted by the class name and real examples.

    Args:
        model: a causal LM or seq2seq model folder or Hub id (with its tokenizer).
        kind: ``"auto"`` (from ``config.is_encoder_decoder``), ``"causal"`` or ``"seq2seq"``.
        class_name: the class of every text (one augmenter per class; ``labels`` passed to
            :meth:`augment_batch`, as the Balancer passes them, take precedence).
        label_names: class names in id order, for integer ``labels``.
        examples: real texts per class (class name -> texts), or the path (or Hub id) of a dataset
            whose ``examples_split`` gives them; they fill the prompts, name the class of a source
            text found among them, and are never returned as outputs.
        text_column, label_column, examples_split: where to read ``examples`` given as a path.
        num_examples: real texts in each prompt, the source included.
        prompt_template: a format string with ``{label}`` and ``{examples}``.
        num_candidates: samples drawn per source text.
        max_new_tokens: generation limit per sample. max_prompt_tokens: longer prompts are cut.
        top_k, top_p, temperature: sampling settings (``top_k=0`` and ``top_p=1`` disable).
        batch_size: prompts per ``generate`` call.
        classifier: keeps only candidates it assigns to the class: a model or run folder (or Hub id),
            a :class:`~.filters.SimilarityFilter` (nearest class centroid of ``examples`` in its
            encoder's space) or a mapping that builds one, or any object with ``label_names`` and
            ``predict_proba`` (such an object is pickled whole: a path keeps the fingerprint stable).
        min_confidence: least probability of the class for a candidate to be kept; the class must
            also be the classifier's most probable one (so ``0`` still drops candidates it assigns elsewhere).
        device, dtype: ``None`` = CUDA with bfloat16 when available, else CPU with float32.
        revision, trust_remote_code: passed to ``from_pretrained``.
        cache: ``True`` = the private nlp_balance cache, a path = that directory, ``False`` = none.
        p: probability of augmenting a given text at all.
    """

    name = "generative"
    version = "1"

    def __init__(
        self,
        model: str | os.PathLike[str] = DEFAULT_GENERATOR,
        *,
        kind: str = "auto",
        class_name: str | None = None,
        label_names: Sequence[str] | None = None,
        examples: Mapping[str, Sequence[str]] | str | os.PathLike[str] | None = None,
        text_column: str = "text",
        label_column: str = "label",
        examples_split: str = "train",
        num_examples: int = 3,
        prompt_template: str = DEFAULT_PROMPT,
        num_candidates: int = 4,
        max_new_tokens: int = 48,
        max_prompt_tokens: int = 512,
        top_k: int = 50,
        top_p: float = 0.95,
        temperature: float = 1.0,
        batch_size: int = 8,
        classifier: Any = None,
        min_confidence: float = 0.5,
        device: str | None = None,
        dtype: str | None = None,
        revision: str | None = None,
        trust_remote_code: bool = False,
        cache: bool | str | os.PathLike[str] = True,
        p: float = 1.0,
    ) -> None:
        super().__init__(p=p)
        if not isinstance(model, (str, os.PathLike)) or not os.fspath(model):
            raise ValueError(f"model must be a language model folder or Hub id, got {model!r}")
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
        self.model, self.kind = os.fspath(model), kind
        if class_name is not None and not isinstance(class_name, str):
            raise ValueError(f"class_name must be a str or None, got {class_name!r}")
        self.class_name = class_name
        if label_names is not None and (isinstance(label_names, str) or not all(map(_is_str, label_names))):
            raise ValueError(f"label_names must be a list of str, got {label_names!r}")
        self.label_names = None if label_names is None else list(label_names)
        self.examples = _check_examples(examples)
        for pname, value in (("text_column", text_column), ("label_column", label_column),
                             ("examples_split", examples_split)):
            if not isinstance(value, str) or not value:
                raise ValueError(f"{pname} must be a non-empty str, got {value!r}")
        self.text_column, self.label_column, self.examples_split = text_column, label_column, examples_split
        self.num_examples = positive_int("num_examples", num_examples)
        self.prompt_template = _check_template(prompt_template)
        self.num_candidates = positive_int("num_candidates", num_candidates)
        self.sampling = Sampling(top_k=positive_int("top_k", top_k, minimum=0), top_p=check_unit("top_p", top_p),
                                 temperature=_positive_float("temperature", temperature),
                                 max_new_tokens=positive_int("max_new_tokens", max_new_tokens))
        self.max_prompt_tokens = positive_int("max_prompt_tokens", max_prompt_tokens, minimum=8)
        self.batch_size = positive_int("batch_size", batch_size)
        self.classifier = _check_classifier(classifier)
        if isinstance(self.classifier, SimilarityFilter) and self.examples is None:
            raise ValueError("classifier=SimilarityFilter(...) judges by class centroids of real texts: give "
                             "examples= (texts per class, or the training data's path) too")
        self.min_confidence = check_unit("min_confidence", min_confidence, open_low=False)
        self.device = None if device is None else str(device)
        self.dtype = check_dtype(dtype)
        self.revision, self.trust_remote_code = revision, bool(trust_remote_code)
        self.cache = check_cache(cache)

    # --- lazily loaded, per-process resources -------------------------------------------------------
    def _lm(self) -> LanguageModel:
        return self.resource("lm", lambda: LanguageModel(self.model, kind=self.kind, revision=self.revision,
                                                         trust_remote_code=self.trust_remote_code,
                                                         device=self.device, dtype=self.dtype))

    def _disk_cache(self) -> DiskCache | None:
        if self.cache is False:
            return None
        root = None if self.cache is True else self.cache
        return self.resource("disk_cache", lambda: DiskCache(_CACHE_NAMESPACE, root=root))

    def _examples(self) -> dict[str, list[str]]:
        """Real texts per class: the mapping given, or read from the dataset given as a path."""
        return self.resource("examples", lambda: _load_examples(self))

    def _known(self) -> tuple[dict[str, Any], set[str]]:
        """Source text -> its class (or ambiguous), and the normalised form of every known text."""

        def build() -> tuple[dict[str, Any], set[str]]:
            owner: dict[str, Any] = {}
            for cls, texts in self._examples().items():
                for t in texts:
                    owner[t] = cls if owner.get(t, cls) == cls else _AMBIGUOUS
            dedupe = DuplicateFilter()
            return owner, {dedupe.key(t) for t in owner}

        return self.resource("known", build)

    def _judge(self) -> Any:
        """The classifier as an object with ``label_names`` and ``predict_proba`` (``None`` without one)."""

        def build() -> Any:
            spec = self.classifier
            if isinstance(spec, SimilarityFilter):
                return CentroidClassifier(self._examples(), spec)
            if isinstance(spec, str):
                return ModelClassifier(spec)
            return spec

        return None if self.classifier is None else self.resource("judge", build)

    def _settings(self) -> dict[str, Any]:
        def build() -> dict[str, Any]:
            import transformers

            lm = self._lm()
            return {"model": model_identity(self.model, self.revision, self._disk_cache()), "kind": lm.kind,
                    "augmenter": self.name, "version": self.version, "transformers": transformers.__version__,
                    "device": lm.device.type, "dtype": str(lm.dtype), "n": self.num_candidates,
                    "sampling": vars(self.sampling), "max_prompt_tokens": self.max_prompt_tokens}

        return self.resource("settings", build)

    # --- prompts and classes ------------------------------------------------------------------------
    def _classes(self, texts: Sequence[str], labels: Sequence[Any] | None) -> list[str | None]:
        """The class of each text (``None`` where it cannot be told), see the module docs."""
        if labels is not None:
            if len(labels) != len(texts):
                raise ValueError(f"got {len(texts)} texts but {len(labels)} labels")
            return [self._label_name(v) for v in labels]
        if self.class_name is not None:
            return [self.class_name] * len(texts)
        if self.examples is None:
            raise ValueError("GenerativeAugmenter needs the class of each text: pass labels=, or build it with "
                             "class_name= (one class) or examples= (texts per class, or the training data's path)")
        owner, _ = self._known()
        return [c if isinstance(c, str) else None for c in (owner.get(t) for t in texts)]

    def _label_name(self, value: Any) -> str:
        if isinstance(value, str):
            return value
        names = self.label_names or _dataset_label_names(self)
        if names is None or not 0 <= int(value) < len(names):
            raise ValueError(f"label {value!r} is an id, but label_names does not name it (label_names={names})")
        return names[int(value)]

    def prompt(self, text: str, label: str, rng: random.Random) -> tuple[str, list[str]]:
        """The prompt for source ``text`` of class ``label`` and the real texts it shows (draws from ``rng``)."""
        pool = [t for t in self._examples().get(label, []) if t != text] if self.examples is not None else []
        shown = [text, *rng.sample(pool, min(len(pool), self.num_examples - 1))]
        rng.shuffle(shown)
        lines = "\n".join("- " + " ".join(t.split()) for t in shown)
        return self.prompt_template.format(label=label, examples=lines), shown

    # --- augmentation -----------------------------------------------------------------------------------
    def augment_batch(self, texts: Sequence[str], rngs: Sequence[random.Random], *,
                      labels: Sequence[Any] | None = None) -> list[str | None]:
        """One generated text per source (``None`` where ``p`` skipped it, its class is unknown, or no
        candidate survived). Each ``rng`` gives, in order: the ``p`` draw, the sampling seed, the
        prompt's examples and their order.

        Args:
            texts: the source texts. rngs: one generator per text (see :func:`~.base.example_rng`).
            labels: the class of each text, a name (or an id named by ``label_names``); the
                :class:`~nlp_balance.Balancer` passes them. ``None``: ``class_name`` or ``examples`` tell.

        Raises:
            ValueError: the lengths differ, a label id has no name, or nothing tells the class.
        """
        if len(texts) != len(rngs):
            raise ValueError(f"got {len(texts)} texts but {len(rngs)} random generators")
        if labels is not None and len(labels) != len(texts):
            raise ValueError(f"got {len(texts)} texts but {len(labels)} labels")
        active = [i for i, rng in enumerate(rngs) if self._should_apply(rng)]
        seeds = {i: rngs[i].getrandbits(63) for i in active}
        out: list[str | None] = [None] * len(texts)
        classes = self._classes([texts[i] for i in active], None if labels is None else [labels[i] for i in active])
        jobs = []  # (text index, class, prompt, texts shown, seed)
        for i, label in zip(active, classes):
            if label is None:
                continue
            prompt, shown = self.prompt(texts[i], label, rngs[i])
            jobs.append((i, label, prompt, shown, seeds[i]))
        if not jobs:
            return out
        samples = self._generate([j[2] for j in jobs], [j[4] for j in jobs])
        dedupe = DuplicateFilter()
        _, known = self._known() if self.examples is not None else ({}, set())
        pools = []
        for (_, _, _, shown, _), cands in zip(jobs, samples):
            seen = known | {dedupe.key(t) for t in shown}
            pool = []
            for c in cands:
                k = dedupe.key(c)
                if c and k not in seen:
                    seen.add(k)
                    pool.append(c)
            pools.append(pool)
        scores = self._confidences(pools, [j[1] for j in jobs])
        for (i, *_), pool, conf in zip(jobs, pools, scores):
            kept = [(c, s) for c, s in zip(pool, conf) if s is not None and s >= self.min_confidence]
            if kept:  # max keeps the first of equals: without a classifier, the first survivor
                out[i] = max(kept, key=lambda cs: cs[1])[0]
        return out

    def _confidences(self, pools: list[list[str]], classes: list[str]) -> list[list[float | None]]:
        """For each candidate, the classifier's probability of its source's class when that is also
        its most probable class, else ``None`` (assigned elsewhere); all 1.0 without a classifier."""
        if self.classifier is None:
            return [[1.0] * len(pool) for pool in pools]
        judge = self._judge()
        names = [str(n) for n in judge.label_names]
        missing = sorted({c for c in classes if c not in names})
        if missing:
            raise ValueError(f"the classifier does not know the class(es) {missing}; its classes are {names}")
        flat = [c for pool in pools for c in pool]
        probs = class_probabilities(judge, flat)
        out: list[list[float | None]] = []
        row = 0
        for pool, cls in zip(pools, classes):
            col = names.index(cls)
            conf: list[float | None] = []
            for _ in pool:
                conf.append(float(probs[row, col]) if int(probs[row].argmax()) == col else None)
                row += 1
            out.append(conf)
        return out

    def _generate(self, prompts: list[str], seeds: list[int]) -> list[list[str]]:
        """``num_candidates`` samples per prompt: from the disk cache where present, else batched."""
        cache = self._disk_cache()
        keys = [content_key(self._settings(), p, s) for p, s in zip(prompts, seeds)]
        results: dict[str, list[str]] = {}
        todo: dict[str, tuple[str, int]] = {}
        for key, prompt, seed in zip(keys, prompts, seeds):
            if key in results or key in todo:
                continue
            hit = cache.get(key) if cache is not None else None
            if isinstance(hit, list) and len(hit) == self.num_candidates and all(isinstance(h, str) for h in hit):
                results[key] = hit
            else:
                todo[key] = (prompt, seed)
        pending = list(todo.items())
        pending.sort(key=lambda kv: (-len(kv[1][0]), kv[0]))
        for start in range(0, len(pending), self.batch_size):
            batch = pending[start : start + self.batch_size]
            outs = self._lm().generate([p for _, (p, _) in batch], [s for _, (_, s) in batch], self.num_candidates,
                                       self.sampling, self.max_prompt_tokens)
            for (key, _), samples in zip(batch, outs):
                results[key] = samples
                if cache is not None:
                    cache.set(key, samples)
        return [results[k] for k in keys]


def _is_str(value: Any) -> bool:
    return isinstance(value, str)


def _positive_float(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise ValueError(f"{name} must be a number > 0, got {value!r}")
    return float(value)


def _check_examples(examples: Any) -> dict[str, list[str]] | str | None:
    if examples is None:
        return None
    if isinstance(examples, (str, os.PathLike)):
        return os.fspath(examples)
    if not isinstance(examples, Mapping):
        raise ValueError(f"examples must be a mapping of class name -> texts, or a dataset path, got {examples!r}")
    out = {}
    for cls, texts in examples.items():
        if isinstance(texts, str) or not all(isinstance(t, str) for t in texts):
            raise ValueError(f"examples[{cls!r}] must be a list of str, got {texts!r}")
        out[str(cls)] = list(texts)
    return out


def _check_classifier(classifier: Any) -> Any:
    if classifier is None or isinstance(classifier, (SimilarityFilter, str)):
        return classifier
    if isinstance(classifier, os.PathLike):
        return os.fspath(classifier)
    if isinstance(classifier, Mapping) and classifier.get("augmenter") == SimilarityFilter.name:
        return get_augmenter(SimilarityFilter.name, **{k: v for k, v in classifier.items() if k != "augmenter"})
    if is_classifier(classifier):
        return classifier
    raise ValueError("classifier must be a model or run folder, a SimilarityFilter (or a mapping with "
                     "augmenter: similarity_filter), or an object with label_names and predict_proba; "
                     f"got {classifier!r}")


def _read_dataset(aug: GenerativeAugmenter) -> Any:
    from nlp_balance.data.loading import load_text_dataset

    return aug.resource("examples_dataset", lambda: load_text_dataset(
        aug.examples, aug.text_column, aug.label_column, split=aug.examples_split))


def _dataset_label_names(aug: GenerativeAugmenter) -> list[str] | None:
    """The class names of the examples dataset (``None`` when ``examples`` is not a path)."""
    if not isinstance(aug.examples, str):
        return None
    from nlp_balance.data.labels import get_class_label

    return list(get_class_label(_read_dataset(aug), aug.label_column).names)


def _load_examples(aug: GenerativeAugmenter) -> dict[str, list[str]]:
    if aug.examples is None or isinstance(aug.examples, dict):
        return dict(aug.examples or {})
    from nlp_balance.data.labels import label_array

    ds = _read_dataset(aug)
    names = _dataset_label_names(aug) or []
    out: dict[str, list[str]] = {n: [] for n in names}
    for text, y in zip(ds[aug.text_column], label_array(ds, aug.label_column)):
        out[names[int(y)]].append(text)
    return out
