"""Training layer: imbalance losses, class weights, the balanced batch sampler, :class:`BalancedTrainer`,
embedding-space synthesis (head inputs, and TMix inside the encoder), the head's own learning rate,
auxiliary heads, attention heads (``model.head``) and the EasyEnsemble estimator.

Each choice list has one registry here: :data:`LOSSES` (name -> :class:`LossSpec`),
:data:`CLASS_WEIGHTING_SCHEMES`, :data:`SAMPLER_MODES` and :data:`SYNTHESIS_METHODS`;
:func:`check_training_options` validates every imbalance option against them. EasyEnsemble's choices
are :data:`MEMBER_STEPS` and :data:`WARM_STARTS`.
"""

from nlp_balance.training.arguments import BalancedTrainingArguments
from nlp_balance.training.attention_heads import HEAD_TYPES, ModelWithAttentionHead, attention_head_classifier
from nlp_balance.training.batch_sampler import SAMPLER_MODES, BalancedSampler
from nlp_balance.training.class_weights import CLASS_WEIGHTING_SCHEMES, compute_class_weights
from nlp_balance.training.console import CompactPrinterCallback, CompactProgressCallback
from nlp_balance.training.deferred_reweighting import DeferredReweightingCallback
from nlp_balance.training.easy_ensemble import MEMBER_STEPS, WARM_STARTS, EasyEnsemble, full_run_steps
from nlp_balance.training.embedding_synthesis import SYNTHESIS_METHODS
from nlp_balance.training.heads import ModelWithAuxiliaryHead
from nlp_balance.training.hidden_mixup import HiddenStateMixup, default_tmix_layers, encoder_layers
from nlp_balance.training.imbalance_options import IMBALANCE_OPTIONS, check_training_options
from nlp_balance.training.losses import LOSSES, LossSpec, build_loss
from nlp_balance.training.optimizer_groups import head_parameters, set_head_learning_rate
from nlp_balance.training.trainer import BalancedTrainer

__all__ = [
    "CLASS_WEIGHTING_SCHEMES",
    "HEAD_TYPES",
    "IMBALANCE_OPTIONS",
    "LOSSES",
    "MEMBER_STEPS",
    "SAMPLER_MODES",
    "SYNTHESIS_METHODS",
    "WARM_STARTS",
    "BalancedSampler",
    "BalancedTrainer",
    "BalancedTrainingArguments",
    "CompactPrinterCallback",
    "CompactProgressCallback",
    "DeferredReweightingCallback",
    "EasyEnsemble",
    "HiddenStateMixup",
    "LossSpec",
    "ModelWithAttentionHead",
    "ModelWithAuxiliaryHead",
    "attention_head_classifier",
    "build_loss",
    "check_training_options",
    "compute_class_weights",
    "default_tmix_layers",
    "encoder_layers",
    "full_run_steps",
    "head_parameters",
    "set_head_learning_rate",
]
