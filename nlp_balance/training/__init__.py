"""Training layer: imbalance losses, class weights, the balanced batch sampler, :class:`BalancedTrainer`,
embedding-space synthesis, auxiliary heads and the EasyEnsemble estimator."""

from nlp_balance.training.batch_sampler import BalancedSampler
from nlp_balance.training.class_weights import compute_class_weights
from nlp_balance.training.console import CompactProgressCallback
from nlp_balance.training.easy_ensemble import EasyEnsemble
from nlp_balance.training.heads import ModelWithAuxiliaryHead
from nlp_balance.training.losses import LOSSES, build_loss
from nlp_balance.training.trainer import BalancedTrainer, BalancedTrainingArguments, DeferredReweightingCallback

__all__ = [
    "LOSSES",
    "BalancedSampler",
    "BalancedTrainer",
    "BalancedTrainingArguments",
    "CompactProgressCallback",
    "DeferredReweightingCallback",
    "EasyEnsemble",
    "ModelWithAuxiliaryHead",
    "build_loss",
    "compute_class_weights",
]
