"""Reporting layer: the run-folder format, plots, ``report.md``/``report.html``, comparisons, and
dataset/model cards with pushes to the Hub.

Modules, one job each: ``run_folder`` (the run folder's layout, reader and writers), ``document``
(Markdown/HTML document model), ``plots``, ``report`` (render_report, headline), ``compare``
(compare_runs), ``hub_cards`` (dataset and model cards), ``hub_push`` (uploads to the Hub).
"""

from nlp_balance.reporting.compare import COMPARE_MD_FILENAME, COMPARE_PNG_FILENAME, CompareResult, compare_runs
from nlp_balance.reporting.hub_cards import (
    dataset_card,
    model_card,
    size_category,
    write_dataset_card,
    write_model_card,
)
from nlp_balance.reporting.hub_push import push_balanced_dataset, push_trained_model
from nlp_balance.reporting.plots import plot_class_distribution
from nlp_balance.reporting.report import headline, render_report
from nlp_balance.reporting.run_folder import (
    BASELINE_DIRNAME,
    CHECKPOINTS_DIRNAME,
    CONFUSION_MATRIX_FILENAME,
    DISTRIBUTION_FILENAME,
    LOG_HISTORY_FILENAME,
    METRICS_FILENAME,
    MODEL_DIRNAME,
    PLOT_FILES,
    PLOTS_DIRNAME,
    PREDICTIONS_FILENAME,
    RECIPE_FILENAME,
    REPORT_HTML_FILENAME,
    REPORT_MD_FILENAME,
    RUN_INFO_FILENAME,
    RunData,
    load_run,
    write_confusion_matrix,
    write_distribution,
    write_log_history,
    write_metrics,
    write_predictions,
    write_recipe,
    write_run_info,
)

__all__ = [
    "BASELINE_DIRNAME",
    "CHECKPOINTS_DIRNAME",
    "COMPARE_MD_FILENAME",
    "COMPARE_PNG_FILENAME",
    "CONFUSION_MATRIX_FILENAME",
    "DISTRIBUTION_FILENAME",
    "LOG_HISTORY_FILENAME",
    "METRICS_FILENAME",
    "MODEL_DIRNAME",
    "PLOTS_DIRNAME",
    "PLOT_FILES",
    "PREDICTIONS_FILENAME",
    "RECIPE_FILENAME",
    "REPORT_HTML_FILENAME",
    "REPORT_MD_FILENAME",
    "RUN_INFO_FILENAME",
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
    "size_category",
    "write_confusion_matrix",
    "write_dataset_card",
    "write_distribution",
    "write_log_history",
    "write_metrics",
    "write_model_card",
    "write_predictions",
    "write_recipe",
    "write_run_info",
]
