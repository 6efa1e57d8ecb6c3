"""Reporting layer: the run-folder format, plots, ``report.md``/``report.html``, comparisons, and
dataset/model cards with pushes to the Hub."""

from nlp_balance.reporting.hub import (
    dataset_card,
    model_card,
    push_balanced_dataset,
    push_trained_model,
    write_dataset_card,
    write_model_card,
)
from nlp_balance.reporting.plots import plot_class_distribution
from nlp_balance.reporting.report import CompareResult, RunData, compare_runs, headline, load_run, render_report

__all__ = [
    "CompareResult",
    "RunData",
    "compare_runs",
    "dataset_card",
    "headline",
    "load_run",
    "model_card",
    "plot_class_distribution",
    "push_balanced_dataset",
    "push_trained_model",
    "render_report",
    "write_dataset_card",
    "write_model_card",
]
