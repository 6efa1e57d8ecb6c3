"""A readable training console: one line per evaluation and a short table at the end.

:class:`CompactProgressCallback` replaces transformers' ``ProgressCallback`` in
:class:`~nlp_balance.BalancedTrainer`. It keeps the progress bars but, instead of printing every
log dictionary (about 40 keys per evaluation), writes one line per evaluation with the figures that
matter for imbalanced data, and a table of all evaluations when training ends. The full metrics stay
in ``trainer.state.log_history`` (and in a run folder's ``log_history.json``).
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from typing import Any

from transformers.trainer_callback import ProgressCallback, TrainerCallback

__all__ = ["CompactPrinterCallback", "CompactProgressCallback", "EvaluationLine"]


class EvaluationLine:
    """The figures of one evaluation that the console shows."""

    def __init__(self, epoch: float | None, train_loss: float | None, logs: dict[str, Any],
                 smallest_key: str | None, metric_key: str) -> None:
        self.epoch = epoch
        self.train_loss = train_loss
        self.macro_f1 = _number(logs.get("eval_macro_f1"))
        self.balanced_accuracy = _number(logs.get("eval_balanced_accuracy"))
        self.smallest_f1 = _number(logs.get(f"eval_f1_{smallest_key}")) if smallest_key else None
        self.metric = _number(logs.get(metric_key))

    def text(self, smallest_name: str | None) -> str:
        """``epoch 2.00 | train loss 0.4121 | val macro-F1 0.8123 | bal. acc. 0.8012 | <class> F1 0.6667``."""
        parts = [f"epoch {self.epoch:.2f}" if self.epoch is not None else "evaluation"]
        if self.train_loss is not None:
            parts.append(f"train loss {self.train_loss:.4f}")
        if self.macro_f1 is not None:
            parts.append(f"val macro-F1 {self.macro_f1:.4f}")
        if self.balanced_accuracy is not None:
            parts.append(f"bal. acc. {self.balanced_accuracy:.4f}")
        if self.smallest_f1 is not None:
            parts.append(f"smallest class {smallest_name!r} F1 {self.smallest_f1:.4f}")
        return " | ".join(parts)


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    return float(value)


class _EvaluationLog:
    """Collects one :class:`EvaluationLine` per evaluation log and prints the final table (rank 0)."""

    def __init__(self, smallest_class: str | None, smallest_key: str | None) -> None:
        self.smallest_class = smallest_class
        self.smallest_key = smallest_key
        self.rows: list[EvaluationLine] = []
        self._train_loss: float | None = None

    def reset(self) -> None:
        self.rows = []
        self._train_loss = None

    def line(self, args: Any, state: Any, logs: dict[str, Any] | None) -> str | None:
        """The line to show for this log, or ``None`` (step logs and the train summary are not shown)."""
        if not logs or not state.is_world_process_zero:
            return None
        if "loss" in logs:
            self._train_loss = _number(logs["loss"])
        if not any(k.startswith("eval_") for k in logs):
            return None
        metric = args.metric_for_best_model or "loss"
        key = metric if metric.startswith("eval_") else f"eval_{metric}"
        row = EvaluationLine(logs.get("epoch", state.epoch), self._train_loss, logs, self.smallest_key, key)
        self.rows.append(row)
        return row.text(self.smallest_class)

    def finish(self, state: Any) -> None:
        if state.is_world_process_zero and len(self.rows) > 1:
            print(render_table(self.rows, self.smallest_class, best=state.best_metric))


class _ShowsEvaluationLog:
    """What both compact callbacks expose of their :class:`_EvaluationLog`."""

    log: _EvaluationLog

    @property
    def rows(self) -> list[EvaluationLine]:
        return self.log.rows

    @property
    def smallest_class(self) -> str | None:
        return self.log.smallest_class


class CompactProgressCallback(_ShowsEvaluationLog, ProgressCallback):
    """Progress bars, one compact line per evaluation, and a final table (rank 0 only).

    Args:
        smallest_class: name of the class with the fewest training examples (its F1 is shown).
        smallest_key: the key fragment of that class in the metric names (``eval_f1_<key>``).
    """

    def __init__(self, smallest_class: str | None = None, smallest_key: str | None = None) -> None:
        super().__init__()
        self.log = _EvaluationLog(smallest_class, smallest_key)

    def on_train_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        self.log.reset()
        super().on_train_begin(args, state, control, **kwargs)

    def on_log(self, args: Any, state: Any, control: Any, logs: dict[str, Any] | None = None,
               **kwargs: Any) -> None:
        if self.training_bar is None:  # evaluate() outside training: keep only the train loss
            self.log.line(args, state, {k: v for k, v in (logs or {}).items() if k == "loss"})
            return
        text = self.log.line(args, state, logs)
        if text is not None:
            self.training_bar.write(text)

    def on_train_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        super().on_train_end(args, state, control, **kwargs)
        self.log.finish(state)


class CompactPrinterCallback(_ShowsEvaluationLog, TrainerCallback):
    """Without progress bars: one compact line per evaluation, and a final table (rank 0 only).

    Replaces transformers' ``PrinterCallback``, which prints every log dictionary. Same arguments
    as :class:`CompactProgressCallback`.
    """

    def __init__(self, smallest_class: str | None = None, smallest_key: str | None = None) -> None:
        self.log = _EvaluationLog(smallest_class, smallest_key)

    def on_train_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        self.log.reset()

    def on_log(self, args: Any, state: Any, control: Any, logs: dict[str, Any] | None = None,
               **kwargs: Any) -> None:
        text = self.log.line(args, state, logs)
        if text is not None:
            print(text, flush=True)

    def on_train_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        self.log.finish(state)


def render_table(rows: Sequence[EvaluationLine], smallest_name: str | None, *, best: float | None) -> str:
    """The evaluations as a small rich table, the kept checkpoint marked with ``*``."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title="validation per evaluation (* = the checkpoint kept)", title_justify="left")
    for name in ("epoch", "train loss", "macro-F1", "bal. acc.", f"{smallest_name} F1" if smallest_name else None):
        if name is not None:
            table.add_column(name, justify="right")
    for row in rows:
        mark = "*" if best is not None and row.metric is not None and math.isclose(row.metric, best) else " "
        cells = [f"{row.epoch:.2f}{mark}" if row.epoch is not None else mark]
        for value in (row.train_loss, row.macro_f1, row.balanced_accuracy):
            cells.append("-" if value is None else f"{value:.4f}")
        if smallest_name:
            cells.append("-" if row.smallest_f1 is None else f"{row.smallest_f1:.4f}")
        table.add_row(*cells)
    buffer = io.StringIO()
    Console(file=buffer, width=100, color_system=None).print(table)
    return buffer.getvalue().rstrip("\n")
