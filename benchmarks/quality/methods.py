"""The methods of the quality benchmark, as plain data: name -> kind and parameters.

Kinds: ``loss`` (a ``build_loss`` name and its parameters), ``hand_weighted_ce`` (what a
practitioner writes by hand), ``sampler`` (``BalancedSampler`` + CE), ``ros`` (``RandomOverSampler``),
``augment`` (``Balancer`` with an augmenter to ``'not majority'``), ``posthoc`` (CE, then
``adjust_logits``), ``smote`` (``EmbeddingSMOTE`` on the embeddings), ``easy_ensemble`` (EasyEnsemble subsets, one
head each), ``combo`` (the augmenter and
the loss with the best mean *validation* macro-F1 on that dataset, resolved from the results file).
"""

from __future__ import annotations

from typing import Any

METHODS: dict[str, dict[str, Any]] = {
    "ce": {"kind": "loss", "loss": "ce"},
    "ce_weighted_by_hand": {"kind": "hand_weighted_ce"},
    "weighted_ce_balanced": {"kind": "loss", "loss": "weighted_ce", "weights": "balanced"},
    "weighted_ce_inverse_sqrt": {"kind": "loss", "loss": "weighted_ce", "weights": "inverse_sqrt"},
    "focal_g1": {"kind": "loss", "loss": "focal", "params": {"gamma": 1.0}},
    "focal_g2": {"kind": "loss", "loss": "focal", "params": {"gamma": 2.0}},
    "focal_g1_alpha": {"kind": "loss", "loss": "focal", "params": {"gamma": 1.0}, "weights": "balanced"},
    "focal_g2_alpha": {"kind": "loss", "loss": "focal", "params": {"gamma": 2.0}, "weights": "balanced"},
    "class_balanced_focal": {"kind": "loss", "loss": "class_balanced",
                             "params": {"base": "focal", "gamma": 2.0, "beta": 0.999}},
    "logit_adjusted": {"kind": "loss", "loss": "logit_adjusted", "params": {"tau": 1.0}},
    "balanced_softmax": {"kind": "loss", "loss": "balanced_softmax"},
    # LDAM on raw (not cosine) logits: a small scale s; DRW switches on effective-number weights
    # (beta 0.999, normalised per class as in Cao et al.) for the last quarter of the epochs.
    "ldam_drw": {"kind": "loss", "loss": "ldam", "params": {"max_m": 0.5, "s": 1.0},
                 "drw": {"weights": "effective_number", "beta": 0.999, "start_fraction": 0.75}},
    "dice": {"kind": "loss", "loss": "dice", "params": {"alpha": 1.0, "gamma": 1.0}},
    "ros": {"kind": "ros", "sampling_strategy": "not majority"},
    "sampler_weighted": {"kind": "sampler", "mode": "weighted"},
    "sampler_sqrt": {"kind": "sampler", "mode": "sqrt"},
    "synonym": {"kind": "augment", "augmenter": "synonym", "aug_params": {"aug_p": 0.1},
                "sampling_strategy": "not majority", "aug_seed": 0},
    "eda": {"kind": "augment", "augmenter": "eda", "aug_params": {},
            "sampling_strategy": "not majority", "aug_seed": 0},
    # "val_score": the row's validation macro-F1 is that of the adjusted logits (rows written before
    # this field scored the unadjusted head; the renderer keeps the newest row of each seed).
    "posthoc_la": {"kind": "posthoc", "tau": 1.0, "val_score": "adjusted"},
    "posthoc_la_tuned": {"kind": "posthoc", "tau": "val", "val_score": "adjusted"},
    "smote": {"kind": "smote", "sampling_strategy": "not majority", "k_neighbors": 5},
    # EasyEnsemble's subsets (nlp_balance.training.easy_ensemble.EasyEnsemble.member_indices: RandomUnderSampler per
    # member) with a linear head per member instead of a fine-tuned transformer; probabilities averaged.
    "easy_ensemble_heads": {"kind": "easy_ensemble", "n_members": 5, "sampling_strategy": "auto"},
    "aug_best_loss": {"kind": "combo"},
}

#: Methods that are part of the issue but could not run here, with the reason (rendered as "not run").
NOT_RUN: dict[str, str] = {
    "backtranslation": "no real translation model (opus-mt) is available offline on this machine; "
                       "only tiny random Marian models exist, which would produce noise, not paraphrases",
}

#: Losses eligible for ``aug_best_loss`` (chosen per dataset by mean validation macro-F1).
LOSS_METHODS = tuple(n for n, m in METHODS.items() if m["kind"] in ("loss", "hand_weighted_ce"))
AUG_METHODS = ("synonym", "eda")
#: Run last: they need the other rows (combo) or embed many new texts (augmentation).
LATE = ("synonym", "eda", "aug_best_loss")
