"""Several runs side by side on the test split (``nlp-balance compare``).

:func:`compare_runs` reads run folders (and, by default, their nested baselines) and returns a
:class:`CompareResult` that prints as a plain-text or Markdown table; with ``out`` it also writes
``compare.md`` and a ``compare.png`` of per-class F1. The smallest class's column is marked, so the
number this toolkit is about is the one a reader finds first.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nlp_balance.reporting.document import Table, markdown_inline, markdown_table
from nlp_balance.reporting.formatting import fmt, fmt_seconds, num
from nlp_balance.reporting.plots import plot_run_comparison
from nlp_balance.reporting.run_folder import RunData, baseline_run_dir, check_same_labels, load_run
from nlp_balance.utils.atomic import atomic_write_text

__all__ = ["COMPARE_MD_FILENAME", "COMPARE_PNG_FILENAME", "CompareResult", "compare_runs"]

#: Files that :func:`compare_runs` writes into its ``out`` folder.
COMPARE_MD_FILENAME = "compare.md"
COMPARE_PNG_FILENAME = "compare.png"


@dataclass
class CompareResult:
    """Several runs side by side on the test split; ``table`` holds one dict per run.

    Each row has ``name, kind, path, macro_f1, balanced_accuracy, accuracy, class_f1`` (a dict in
    ``label_names`` order) and ``train_time_s``. ``smallest_class`` is highlighted in the outputs.
    """

    table: list[dict[str, Any]]
    label_names: list[str]
    smallest_class: str
    smallest_class_basis: str

    def _cells(self) -> tuple[list[str], list[list[str]], int]:
        header = ["run", "kind", "macro-F1", "balanced acc", "accuracy"]
        header += [f"F1 {n}" for n in self.label_names] + ["train time"]
        rows = []
        for row in self.table:
            cells = [row["name"], row["kind"], fmt(row["macro_f1"]), fmt(row["balanced_accuracy"]),
                     fmt(row["accuracy"])]
            cells += [fmt(row["class_f1"][n]) for n in self.label_names]
            cells.append(fmt_seconds(row["train_time_s"]))
            rows.append(cells)
        return header, rows, 5 + self.label_names.index(self.smallest_class)

    def note(self) -> str:
        """Which class is the smallest and why (train counts, or test support when none were recorded)."""
        return f"smallest class: {self.smallest_class} ({self.smallest_class_basis})"

    def to_markdown(self) -> str:
        """A Markdown table; the smallest class's column is in bold and named in a note below."""
        header, rows, col = self._cells()
        table = markdown_table(Table(header, rows, bold_cols=frozenset({col}), align_left=2))
        return table + "\n\n" + markdown_inline(f"Bold column = {self.note()}.") + "\n"

    def to_text(self) -> str:
        """An aligned plain-text table; the smallest class's column is marked with ``*``."""
        header, rows, col = self._cells()
        header = [h + "*" if j == col else h for j, h in enumerate(header)]
        rows = [[v + "*" if j == col else v for j, v in enumerate(r)] for r in rows]
        widths = [max(len(r[j]) for r in [header, *rows]) for j in range(len(header))]

        def line(cells: list[str]) -> str:
            return "  ".join(c.ljust(w) if j < 2 else c.rjust(w) for j, (c, w) in enumerate(zip(cells, widths)))

        out = [line(header), "  ".join("-" * w for w in widths), *(line(r) for r in rows)]
        return "\n".join(out) + f"\n* {self.note()}\n"

    def __str__(self) -> str:
        return self.to_text()


def _expand(run_dirs: Sequence[str | Path], include_baselines: bool) -> list[RunData]:
    """Load each folder once, each nested baseline right after its run when ``include_baselines``."""
    runs: list[RunData] = []
    seen: set[Path] = set()
    for run_dir in run_dirs:
        paths = [Path(run_dir)]
        nested = baseline_run_dir(run_dir) if include_baselines else None
        if nested is not None:
            paths.append(nested)
        for path in paths:
            key = path.resolve()
            if key not in seen:
                seen.add(key)
                runs.append(load_run(path))
    return runs


def _row(run: RunData, names: Sequence[str]) -> dict[str, Any]:
    return {
        "name": run.name,
        "kind": run.kind,
        "path": str(run.path),
        "macro_f1": num(run.test.get("macro_f1")),
        "balanced_accuracy": num(run.test.get("balanced_accuracy")),
        "accuracy": num(run.test.get("accuracy")),
        "class_f1": {n: run.class_metric("f1", n) for n in names},
        "train_time_s": num(run.info.get("train_time_s")),
    }


def compare_runs(
    run_dirs: Sequence[str | Path],
    *,
    out: str | Path | None = None,
    include_baselines: bool = True,
) -> CompareResult:
    """Put runs side by side (test split); with ``out`` also write ``out/compare.md`` and ``out/compare.png``.

    Columns follow the first run's label order; every run must have the same label set. With
    ``include_baselines`` a run folder with a ``baseline/`` subfolder contributes both runs (each
    folder only once). The smallest class is the first run's class with the fewest train examples
    before balancing.
    """
    if isinstance(run_dirs, (str, Path)):
        raise TypeError("compare_runs takes a sequence of run folders, not a single path")
    if not run_dirs:
        raise ValueError("compare_runs needs at least one run folder")
    runs = _expand(run_dirs, include_baselines)
    check_same_labels(runs)
    names = runs[0].label_names
    basis_run = next((r for r in runs if r.train_counts("before") is not None), runs[0])
    smallest, basis = basis_run.smallest_class()
    if basis_run is not runs[0]:
        basis += f", from {basis_run.name}"
    result = CompareResult(table=[_row(run, names) for run in runs], label_names=list(names),
                           smallest_class=smallest, smallest_class_basis=basis)
    if out is not None:
        out_dir = Path(out)
        out_dir.mkdir(parents=True, exist_ok=True)
        plot_run_comparison(result.table, result.label_names, result.smallest_class, out_dir / COMPARE_PNG_FILENAME)
        text = (f"# Run comparison (test split)\n\n{result.to_markdown()}\n"
                f"![Per-class F1 per run]({COMPARE_PNG_FILENAME})\n")
        atomic_write_text(out_dir / COMPARE_MD_FILENAME, text)
    return result
