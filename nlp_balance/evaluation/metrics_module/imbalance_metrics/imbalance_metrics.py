"""Imbalance-aware classification metrics as an `evaluate` module that loads without the Hub.

Load it by path: `evaluate.load(nlp_balance.evaluation.metrics.METRIC_MODULE_PATH)` (single-label integer
classes) or with the config name "multilabel" (0/1 indicator rows). The figures are those of
`nlp_balance.evaluation.metrics.compute_imbalance_metrics`, computed with scikit-learn.
"""

import datasets
import evaluate
import numpy

from nlp_balance.evaluation.metrics import compute_imbalance_metrics, compute_multilabel_metrics

_DESCRIPTION = (
    "Accuracy, balanced accuracy, macro/weighted/micro F1, macro precision and recall, the geometric mean "
    "of the class recalls, and per-class F1, precision, recall and support."
)
_INPUTS = (
    "predictions: predicted class ids (or 0/1 rows for 'multilabel'); references: true class ids (or rows). "
    "Optional: label_names (list of str) naming the classes in id order; num_classes; average_prefix."
)


class ImbalanceMetrics(evaluate.Metric):
    """Every figure that matters when some classes are rare, in one module."""

    def _info(self):
        if self.config_name == "multilabel":
            features = datasets.Features(
                {
                    "predictions": datasets.Sequence(datasets.Value("int32")),
                    "references": datasets.Sequence(datasets.Value("int32")),
                }
            )
        elif self.config_name == "default":
            features = datasets.Features(
                {"predictions": datasets.Value("int32"), "references": datasets.Value("int32")}
            )
        else:
            raise ValueError(f"config_name must be 'default' or 'multilabel', got {self.config_name!r}")
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation="",
            inputs_description=_INPUTS,
            features=features,
            reference_urls=["https://scikit-learn.org/stable/modules/model_evaluation.html"],
        )

    def _compute(self, predictions, references, label_names=None, num_classes=None, average_prefix="", **_ignored):
        if self.config_name == "multilabel":
            result, _ = compute_multilabel_metrics(
                numpy.asarray(predictions), numpy.asarray(references), label_names, average_prefix
            )
        else:
            result, _ = compute_imbalance_metrics(predictions, references, label_names, num_classes, average_prefix)
        return result
