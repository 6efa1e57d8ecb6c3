"""Combining augmenters: all in sequence (:class:`Compose`), one (:class:`OneOf`) or some (:class:`SomeOf`).

Albumentations' convention: the container has its own ``p`` (apply the container at all), and each
step keeps its own ``p`` too. All randomness comes from the per-example generator, consumed in a
fixed order, so results stay independent of batching. Steps run batched, so a batched step (such
as back-translation) still sees whole batches. A container hands ``labels=`` (the class of each text,
as the Balancer passes them) on to the steps that take them, such as a label-conditioned generator.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from typing import Any

from .base import Augmenter, get_augmenter, register_augmenter, takes_labels

__all__ = ["Compose", "OneOf", "SomeOf"]


def _build_steps(augmenters: Sequence[Augmenter | Mapping[str, Any]], owner: str) -> tuple[Augmenter, ...]:
    if isinstance(augmenters, (Augmenter, Mapping, str)):
        raise TypeError(f"{owner} takes a list of augmenters, got {augmenters!r}")
    steps = []
    for i, item in enumerate(augmenters):
        if isinstance(item, Augmenter):
            steps.append(item)
        elif isinstance(item, Mapping) and "augmenter" in item:
            params = {k: v for k, v in item.items() if k != "augmenter"}
            steps.append(get_augmenter(item["augmenter"], **params))
        else:
            raise TypeError(
                f"{owner} step {i} must be an Augmenter or a mapping with an 'augmenter' key, got {item!r}"
            )
    if not steps:
        raise ValueError(f"{owner} needs at least one augmenter")
    return tuple(steps)


class _Container(Augmenter):
    steps: tuple[Augmenter, ...]

    def _plan(self, rng: random.Random) -> list[int]:
        """Indices of the steps to run for one example, in order (consumes ``rng``)."""
        raise NotImplementedError

    @property
    def uses_labels(self) -> bool:
        """Whether a step wants the class of each text (see :func:`~.base.takes_labels`)."""
        return any(takes_labels(step) for step in self.steps)

    def augment_one(self, text: str, rng: random.Random) -> str | None:
        """Augment a single text (see :meth:`augment_batch`)."""
        return self._run([text], [rng], None)[0]

    def augment_batch(self, texts: Sequence[str], rngs: Sequence[random.Random], *,
                      labels: Sequence[Any] | None = None) -> list[str | None]:
        """Run the planned steps, batched step by step; ``None`` where no step changed the text.

        ``labels`` (one per text) go, aligned, to the steps that take them; the others never see them.
        """
        if len(texts) != len(rngs):
            raise ValueError(f"got {len(texts)} texts but {len(rngs)} random generators")
        if labels is not None and len(labels) != len(texts):
            raise ValueError(f"got {len(texts)} texts but {len(labels)} labels")
        active = [i for i, rng in enumerate(rngs) if self._should_apply(rng)]
        results: list[str | None] = [None] * len(texts)
        done = self._run([texts[i] for i in active], [rngs[i] for i in active],
                         None if labels is None else [labels[i] for i in active])
        for i, out in zip(active, done):
            results[i] = None if out is None or out == texts[i] else out
        return results

    def _run(self, texts: Sequence[str], rngs: Sequence[random.Random],
             labels: Sequence[Any] | None) -> list[str | None]:
        plans = [self._plan(rng) for rng in rngs]
        current = list(texts)
        changed = [False] * len(texts)
        depth = max((len(p) for p in plans), default=0)
        for level in range(depth):
            # group the examples by the step they run at this level; one batched call per step
            groups: dict[int, list[int]] = {}
            for i, plan in enumerate(plans):
                if level < len(plan):
                    groups.setdefault(plan[level], []).append(i)
            for step_index in sorted(groups):
                idx = groups[step_index]
                step = self.steps[step_index]
                batch, batch_rngs = [current[i] for i in idx], [rngs[i] for i in idx]
                if labels is not None and takes_labels(step):
                    outs = step.augment_batch(batch, batch_rngs, labels=[labels[i] for i in idx])  # type: ignore[call-arg]
                else:
                    outs = step.augment_batch(batch, batch_rngs)
                for i, out in zip(idx, outs):
                    if out is not None:
                        current[i] = out
                        changed[i] = True
        return [c if ch else None for c, ch in zip(current, changed)]


@register_augmenter
class Compose(_Container):
    """Apply every augmenter in order, each with its own ``p``; ``None`` only if no step changed the text.

    Args:
        augmenters: the steps (augmenters, or ``{"augmenter": name, **params}`` mappings).
        p: probability of running the sequence at all.
    """

    name = "compose"
    version = "1"

    def __init__(self, augmenters: Sequence[Augmenter | Mapping[str, Any]], p: float = 1.0) -> None:
        super().__init__(p=p)
        self.steps = _build_steps(augmenters, "Compose")

    def _plan(self, rng: random.Random) -> list[int]:
        return list(range(len(self.steps)))


@register_augmenter
class OneOf(_Container):
    """Apply one augmenter, drawn by ``weights`` (default: uniform); it then applies with its own ``p``.

    Args:
        augmenters: the candidates (augmenters or ``{"augmenter": name, **params}`` mappings).
        weights: non-negative relative weights, one per augmenter (``None``: all equal).
        p: probability of applying anything at all.
    """

    name = "one_of"
    version = "1"

    def __init__(
        self,
        augmenters: Sequence[Augmenter | Mapping[str, Any]],
        weights: Sequence[float] | None = None,
        p: float = 1.0,
    ) -> None:
        super().__init__(p=p)
        self.steps = _build_steps(augmenters, "OneOf")
        if weights is None:
            w = [1.0] * len(self.steps)
        else:
            w = [float(x) for x in weights]
            if len(w) != len(self.steps):
                raise ValueError(f"OneOf got {len(w)} weights for {len(self.steps)} augmenters: {list(w)!r}")
            if any(x < 0 or x != x for x in w) or sum(w) <= 0:
                raise ValueError(f"OneOf weights must be >= 0 with a positive sum, got {list(weights)!r}")
        total = sum(w)
        acc, self._cumulative = 0.0, []
        for x in w:
            acc += x / total
            self._cumulative.append(acc)

    def _plan(self, rng: random.Random) -> list[int]:
        u = rng.random()
        for i, c in enumerate(self._cumulative):
            if u < c:
                return [i]
        return [len(self.steps) - 1]


@register_augmenter
class SomeOf(_Container):
    """Apply ``n`` augmenters drawn at random (in the order drawn), each with its own ``p``.

    Args:
        n: how many to draw; an integer, or a ``(low, high)`` pair for a number drawn uniformly in it.
        augmenters: the candidates (augmenters or ``{"augmenter": name, **params}`` mappings).
        replace: draw with replacement (the same augmenter may run twice).
        p: probability of applying anything at all.
    """

    name = "some_of"
    version = "1"

    def __init__(
        self,
        n: int | Sequence[int],
        augmenters: Sequence[Augmenter | Mapping[str, Any]],
        replace: bool = False,
        p: float = 1.0,
    ) -> None:
        super().__init__(p=p)
        if isinstance(augmenters, int) and not isinstance(n, int):
            raise TypeError(f"SomeOf takes (n, augmenters); got augmenters={augmenters!r} as the second argument "
                            "(did you swap them?)")
        self.steps = _build_steps(augmenters, "SomeOf")
        low, high = (n, n) if isinstance(n, int) else tuple(n)
        for v in (low, high):
            if not isinstance(v, int) or isinstance(v, bool) or v < 0:
                raise ValueError(f"SomeOf n must be an integer >= 0 or a (low, high) pair of them, got {n!r}")
        if low > high or (not replace and high > len(self.steps)):
            raise ValueError(
                f"SomeOf n={n!r} is impossible with {len(self.steps)} augmenters (replace={replace})"
            )
        self.n_range = (low, high)
        self.replace = bool(replace)

    def _plan(self, rng: random.Random) -> list[int]:
        low, high = self.n_range
        k = low if low == high else low + int(rng.random() * (high - low + 1))
        if self.replace:
            return [int(rng.random() * len(self.steps)) for _ in range(k)]
        return rng.sample(range(len(self.steps)), k)


def build_augmenter(specs: Sequence[tuple[str, Mapping[str, Any]]], combine: str = "compose") -> Augmenter | None:
    """The augmenter that recipes and the CLI describe by name: one, several in a ``Compose`` or a
    ``OneOf``, or ``None`` (duplicate examples) when ``specs`` is empty.

    Args:
        specs: ``(registered name, parameters)`` pairs, in order.
        combine: ``"compose"`` (apply every step, each with its ``p``) or ``"one_of"`` (pick one).

    A parameter an augmenter does not take is a ``ValueError`` that names the augmenter and the key.
    """
    if combine not in ("compose", "one_of"):
        raise ValueError(f"combine must be 'compose' or 'one_of', got {combine!r}")
    augmenters = []
    for name, params in specs:
        try:
            augmenters.append(get_augmenter(name, **dict(params)))
        except TypeError as err:  # an unknown or misspelt parameter
            raise ValueError(f"augmenter {name!r} does not take the parameters {sorted(params)}: {err}") from None
    if not augmenters:
        return None
    if len(augmenters) == 1:
        return augmenters[0]
    return Compose(augmenters) if combine == "compose" else OneOf(augmenters)
