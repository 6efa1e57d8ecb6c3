"""The augmenter contract: batched, seeded per example, configuration-only pickling.

Every augmenter in :mod:`nlp_balance.augment` subclasses :class:`Augmenter`. The contract is what
lets the :class:`~nlp_balance.Balancer` run any augmenter through ``datasets.map`` with
``num_proc > 1`` and still get byte-identical output and a stable cache fingerprint:

* **Configuration only.** An augmenter is described completely by the keyword arguments given to
  its ``__init__`` (recorded automatically in :meth:`Augmenter.get_config`). Pickling keeps only
  that configuration; heavy resources (WordNet, a translation model) are loaded lazily, once per
  process, through :meth:`Augmenter.resource`.
* **Seeded per example.** Randomness comes only from the :class:`random.Random` handed in for each
  text, which the caller derives from ``(seed, source example, copy number)`` with
  :func:`example_rng`. Results therefore do not depend on batch size, shard or process.
* **Strict about input.** The convenience call ``augmenter(texts)`` takes a str or a list (or
  tuple) of str; anything else (``None``, bytes, a dict, a list holding a number) is one
  ``TypeError`` naming the type and the position, raised here for every augmenter.
* **Honest about failure.** :meth:`Augmenter.augment_batch` returns ``None`` for a text it could
  not change (no word had a synonym, a single sentence to shuffle, ``p`` said "skip"), so the caller
  can try another source example instead of silently keeping a copy.
"""

from __future__ import annotations

import inspect
import random
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, ClassVar, TypeVar, overload

from nlp_balance.utils.seeding import example_rng

__all__ = ["AUGMENTERS", "Augmenter", "example_rng", "get_augmenter", "register_augmenter", "takes_labels"]

T = TypeVar("T")

#: Registry of augmenter classes by their stable :attr:`Augmenter.name` (used by the CLI and recipes).
AUGMENTERS: dict[str, type[Augmenter]] = {}


def register_augmenter(cls: type[T]) -> type[T]:
    """Class decorator that makes an augmenter available by name to the CLI and recipes."""
    name = getattr(cls, "name", None)
    if not name:
        raise TypeError(f"{cls.__name__} must define a class attribute `name` to be registered")
    if name in AUGMENTERS and AUGMENTERS[name] is not cls:
        raise ValueError(f"augmenter name {name!r} is already registered by {AUGMENTERS[name].__name__}")
    AUGMENTERS[name] = cls  # type: ignore[assignment]
    return cls


def get_augmenter(name: str, **params: Any) -> Augmenter:
    """Build a registered augmenter from its name and parameters (as recipes and the CLI do)."""
    if name not in AUGMENTERS:
        import difflib

        close = difflib.get_close_matches(name, AUGMENTERS, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ValueError(f"unknown augmenter {name!r}; known: {sorted(AUGMENTERS)}.{hint}")
    return AUGMENTERS[name](**params)


def _check_probability(name: str, value: float) -> float:
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not 0.0 <= float(value) <= 1.0:
        raise ValueError(f"{name} must be a number in [0, 1], got {value!r}")
    return float(value)


class Augmenter:
    """Base class of every text augmenter.

    Subclasses set :attr:`name` (stable, used in provenance columns and the registry), bump
    :attr:`version` whenever their output for the same configuration changes (code is not part of
    the ``datasets`` fingerprint), and implement :meth:`augment_one`, or :meth:`augment_batch` when
    they gain from real batching (back-translation).

    Args:
        p: probability of applying the augmenter to a given text at all (albumentations' ``p``).
    """

    name: ClassVar[str] = "augmenter"
    version: ClassVar[str] = "1"

    def __init__(self, *, p: float = 1.0) -> None:
        self.p = _check_probability("p", p)

    # --- configuration ------------------------------------------------------------------------
    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        original_init = cls.__dict__.get("__init__")
        if original_init is None:
            return

        def recording_init(self: Augmenter, *args: Any, __orig: Callable = original_init, **kw: Any) -> None:
            # Record the outermost call's bound arguments (defaults applied): that is the config.
            if not hasattr(self, "_config_owner"):
                object.__setattr__(self, "_config_owner", type(self))
                sig = inspect.signature(__orig)
                bound = sig.bind(self, *args, **kw)
                bound.apply_defaults()
                cfg = dict(bound.arguments)
                cfg.pop("self", None)
                for pname, param in sig.parameters.items():
                    if param.kind is inspect.Parameter.VAR_KEYWORD and pname in cfg:
                        cfg.update(cfg.pop(pname))
                object.__setattr__(self, "_config", cfg)
            __orig(self, *args, **kw)

        recording_init.__signature__ = inspect.signature(original_init)  # type: ignore[attr-defined]
        recording_init.__doc__ = original_init.__doc__
        recording_init.__wrapped__ = original_init  # type: ignore[attr-defined]
        cls.__init__ = recording_init  # type: ignore[method-assign]

    def get_config(self) -> dict[str, Any]:
        """The keyword arguments that rebuild this augmenter (nested augmenters as their configs)."""
        cfg = dict(getattr(self, "_config", {}))
        out: dict[str, Any] = {}
        for key, value in cfg.items():
            out[key] = _config_value(value)
        return out

    def describe(self) -> dict[str, Any]:
        """Name, version and configuration: what provenance columns and dataset cards record."""
        return {"name": self.name, "version": self.version, "config": self.get_config()}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and self.describe() == other.describe()  # type: ignore[union-attr]

    def __hash__(self) -> int:
        return hash(repr(self.describe()))

    # --- pickling: configuration only -------------------------------------------------------------
    def __getstate__(self) -> dict[str, Any]:
        return {"__config__": getattr(self, "_config", {}), "__version__": self.version}

    def __setstate__(self, state: dict[str, Any]) -> None:
        config = state["__config__"]
        type(self).__init__(self, **config)

    # --- lazily loaded resources ------------------------------------------------------------------
    def resource(self, key: str, loader: Callable[[], T]) -> T:
        """Return a heavy resource, loading it on first use in this process (never pickled)."""
        cache = self.__dict__.setdefault("_resources", {})
        if key not in cache:
            cache[key] = loader()
        return cache[key]

    # --- augmentation -------------------------------------------------------------------------------
    def augment_one(self, text: str, rng: random.Random) -> str | None:
        """Return an augmented version of ``text``, or ``None`` when it cannot be changed."""
        raise NotImplementedError(f"{type(self).__name__} must implement augment_one or augment_batch")

    def augment_batch(self, texts: Sequence[str], rngs: Sequence[random.Random]) -> list[str | None]:
        """Augment a batch: one output per input, ``None`` where the text was not changed.

        The ``p`` draw is the first number taken from each example's ``rng``, so the decision to
        apply is itself reproducible per example.
        """
        if len(texts) != len(rngs):
            raise ValueError(f"got {len(texts)} texts but {len(rngs)} random generators")
        out: list[str | None] = []
        for text, rng in zip(texts, rngs):
            if not self._should_apply(rng):
                out.append(None)
                continue
            result = self.augment_one(text, rng)
            out.append(None if result is None or result == text else result)
        return out

    def _should_apply(self, rng: random.Random) -> bool:
        """Draw against ``p``; always consumes exactly one number so streams stay aligned."""
        return rng.random() < self.p

    @overload
    def __call__(self, texts: str, *, seed: int = 0, copy: int = 0) -> str: ...

    @overload
    def __call__(self, texts: list[str] | tuple[str, ...], *, seed: int = 0, copy: int = 0) -> list[str]: ...

    def __call__(self, texts: str | list[str] | tuple[str, ...], *, seed: int = 0, copy: int = 0) -> str | list[str]:
        """Convenience: augment one text or a list; unchanged texts come back as they were.

        Example ``i`` of the list uses ``example_rng(seed, i, copy)``, the same stream the
        :class:`~nlp_balance.Balancer` uses for source example ``i``.

        Raises:
            TypeError: ``texts`` is neither a str nor a list or tuple of str (the message names the
                type and, for an item, its position).
        """
        batch = _text_batch(type(self).__name__, texts)
        rngs = [example_rng(seed, i, copy) for i in range(len(batch))]
        results = self._augment_copy(batch, rngs, copy)
        merged = [orig if new is None else new for orig, new in zip(batch, results)]
        return merged[0] if isinstance(texts, str) else merged

    def _augment_copy(self, texts: list[str], rngs: list[random.Random], copy: int) -> list[str | None]:
        """:meth:`augment_batch` for copy number ``copy`` of each text; an augmenter whose output
        depends on the copy number beyond the ``rng`` (back-translation's variant pool) overrides it."""
        return self.augment_batch(texts, rngs)


def takes_labels(augmenter: Augmenter) -> bool:
    """Whether ``augmenter.augment_batch`` wants ``labels=`` (the class of each text), as a label-conditioned
    generator does; the Balancer then hands it the class of each source row.

    A container (``Compose``, ``OneOf``, ``SomeOf``) says so through its ``uses_labels`` property: it takes
    ``labels=`` always, and wants them only when one of its steps does.
    """
    flag = getattr(augmenter, "uses_labels", None)
    if isinstance(flag, bool):
        return flag
    return "labels" in inspect.signature(augmenter.augment_batch).parameters


def _text_batch(owner: str, texts: object) -> list[str]:
    """``texts`` as a list of str, or a TypeError naming what was given instead and where.

    One ``isinstance`` per text: the check is not measurable next to any augmentation.
    """
    if isinstance(texts, str):
        return [texts]
    if not isinstance(texts, (list, tuple)):
        raise TypeError(_not_text_message(owner, texts, None))
    for i, text in enumerate(texts):
        if not isinstance(text, str):
            raise TypeError(_not_text_message(owner, text, i))
    return list(texts)


def _not_text_message(owner: str, value: object, position: int | None) -> str:
    where = "" if position is None else f" at position {position}"
    if isinstance(value, (bytes, bytearray, memoryview)):
        hint = " (decode it to str first)"
    elif position is None and isinstance(value, Iterable) and not isinstance(value, Mapping):
        hint = " (convert it with list(...) first)"
    else:
        hint = ""
    return f"{owner} expects a str or a list of str; got {type(value).__name__}{where}{hint}"


def _config_value(value: Any) -> Any:
    if isinstance(value, Augmenter):
        return {"augmenter": value.name, **value.get_config()}
    if isinstance(value, (list, tuple)):
        return [_config_value(v) for v in value]
    if isinstance(value, (set, frozenset)):
        return sorted(_config_value(v) for v in value)
    if isinstance(value, dict):
        return {k: _config_value(v) for k, v in value.items()}
    return value
