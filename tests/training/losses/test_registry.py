"""The loss registry: every name builds its class, build_loss routes weights and counts, errors name the cause."""

from __future__ import annotations

import dataclasses
import inspect

import pytest
import torch
import torch.nn.functional as F
from loss_references import COUNTS, WEIGHTS, C, make_batch, ref_cb_weights

from nlp_balance.training.class_weights import CLASS_WEIGHTING_SCHEMES
from nlp_balance.training.losses import LOSSES, LossSpec, build_loss, loss_spec


@pytest.mark.parametrize(
    "name", ["weighted_ce", "focal", "class_balanced", "logit_adjusted", "balanced_softmax", "ldam", "bce"]
)
def test_every_weighted_loss_has_set_class_weights(name):
    problem = "multi_label_classification" if name == "bce" else "single_label_classification"
    loss = build_loss(name, num_classes=C, class_counts=COUNTS, problem_type=problem)
    loss.set_class_weights(WEIGHTS)
    assert loss.weight.tolist() == pytest.approx(WEIGHTS)
    loss.set_class_weights({"a": 1.0, "b": 2.0, "c": 3.0, "d": 4.0}, label_names=["a", "b", "c", "d"])
    assert loss.weight.tolist() == [1.0, 2.0, 3.0, 4.0]


def test_build_loss_covers_every_name():
    for name, spec in LOSSES.items():
        loss = build_loss(name, num_classes=C, class_counts=COUNTS, problem_type=spec.problem_type)
        assert isinstance(loss, spec.cls) and spec.name == name


def test_build_loss_routes_class_weights_and_counts():
    z, t = make_batch(31)
    z = z.float()
    ce = build_loss("ce", num_classes=C, class_weights=WEIGHTS, reduction="none")
    torch.testing.assert_close(ce(z, t), torch.tensor(WEIGHTS)[t] * F.cross_entropy(z, t, reduction="none"))
    assert build_loss("ce", num_classes=C).weight is None
    focal = build_loss("focal", num_classes=C, class_weights=WEIGHTS, gamma=1.0)
    assert focal.alpha.tolist() == pytest.approx(WEIGHTS) and focal.gamma == 1.0
    names = ["a", "b", "c", "d"]
    by_name = build_loss(
        "ldam", num_classes=C, class_counts=COUNTS, label_names=names, class_weights=dict(zip(names, WEIGHTS))
    )
    assert by_name.weight.tolist() == pytest.approx(WEIGHTS)
    # weighted_ce without weights uses sklearn-style "balanced" weights of the counts
    wce = build_loss("weighted_ce", num_classes=C, class_counts=COUNTS)
    balanced = [sum(COUNTS) / (C * n) for n in COUNTS]
    assert wce.weight.tolist() == pytest.approx(balanced, rel=1e-6)
    cb = build_loss("class_balanced", num_classes=C, class_counts=COUNTS, base="focal", beta=0.99, gamma=0.5)
    assert cb.gamma == 0.5 and cb.weight.tolist() == pytest.approx(ref_cb_weights(COUNTS, 0.99), rel=1e-6)
    la = build_loss("logit_adjusted", num_classes=C, class_priors=[0.25] * 4)
    torch.testing.assert_close(la(z, t), F.cross_entropy(z, t))
    module = torch.nn.CrossEntropyLoss()
    assert build_loss(module, num_classes=C) is module


@pytest.mark.parametrize(
    ("args", "kwargs", "match"),
    [
        (("focl",), {}, r"unknown loss 'focl'.*Did you mean 'focal'"),
        (("balanced_softmx",), {}, "Did you mean 'balanced_softmax'"),
        (("focal",), {"gamma": -2.0}, "gamma must be >= 0, got -2.0"),
        (("focal",), {"gama": 2.0}, r"does not take parameter\(s\) \['gama'\]"),
        (("class_balanced",), {"class_counts": COUNTS, "beta": 1.0}, "beta"),
        (("class_balanced",), {}, "needs class_counts"),
        (("ldam",), {"class_counts": COUNTS, "s": -1.0}, "s must be > 0"),
        (("logit_adjusted",), {"class_counts": COUNTS, "tau": -0.5}, "tau must be >= 0"),
        (("ce",), {"class_weights": [1.0, 2.0]}, "expected 4 class weights"),
        (("ce",), {"class_weights": [0.0] * 4}, "all zero"),
        (("ldam",), {"class_counts": [1, 2, 3]}, "one count per class"),
        (("dice",), {"class_weights": WEIGHTS}, "does not take class weights"),
        (("focal",), {"class_weights": WEIGHTS, "alpha": 0.5}, "not both"),
        (("weighted_ce",), {}, "needs class_weights or class_counts"),
        (("bce",), {}, "does not fit problem_type"),
        (("focal",), {"problem_type": "multi_label_classification"}, "use one of"),
        (("focal",), {"problem_type": "regression"}, "'regression'"),
        ((42,), {}, "42"),
    ],
)
def test_build_loss_errors(args, kwargs, match):
    kwargs.setdefault("num_classes", C)
    with pytest.raises(ValueError, match=match):
        build_loss(*args, **kwargs)


def test_build_loss_num_classes_checked_at_forward():
    loss = build_loss("dice", num_classes=3)
    with pytest.raises(ValueError, match="built for 3 classes"):
        loss(torch.zeros(2, C), torch.tensor([0, 1]))


def test_every_spec_matches_its_class():
    """A spec's declarations are the class's real constructor arguments and target kind."""
    for name, spec in LOSSES.items():
        params = inspect.signature(spec.cls.__init__).parameters
        assert spec.name == name
        assert spec.multi_label == spec.cls.multi_label, name
        assert spec.weight_arg is None or spec.weight_arg in params, name
        assert spec.needs_counts == ("class_counts" in params), name
        assert spec.counts_alternative is None or spec.counts_alternative in params, name
        assert spec.default_weighting is None or spec.default_weighting in CLASS_WEIGHTING_SCHEMES, name
        assert set(spec.parameters()) <= set(params) - {"self", "weight", "class_counts", "num_classes"}, name


def test_specs_say_which_losses_read_counts_and_take_weights():
    counting = {n for n, s in LOSSES.items() if s.uses_class_counts}
    assert counting == {"weighted_ce", "class_balanced", "logit_adjusted", "balanced_softmax", "ldam"}
    no_weights = {n for n, s in LOSSES.items() if not s.takes_class_weights}
    assert no_weights == {"class_balanced", "dice", "sigmoid_focal"}
    assert {n for n, s in LOSSES.items() if s.multi_label} == {"bce", "sigmoid_focal"}
    assert LOSSES["bce"].problem_type == "multi_label_classification"
    assert LOSSES["ldam"].problem_type == "single_label_classification"


def test_registry_and_specs_are_read_only():
    with pytest.raises(TypeError):
        LOSSES["mine"] = LOSSES["ce"]  # type: ignore[index]
    with pytest.raises(dataclasses.FrozenInstanceError):
        LOSSES["ce"].weight_arg = None  # type: ignore[misc]


def test_loss_spec_normalises_the_name_and_suggests_one():
    assert loss_spec(" Balanced-Softmax ") is LOSSES["balanced_softmax"]
    assert isinstance(loss_spec("focal"), LossSpec)
    with pytest.raises(ValueError, match=r"unknown loss 'ldma'.*Did you mean 'ldam'"):
        loss_spec("ldma")


def test_an_empty_class_is_named_by_its_label():
    names = ["big", "middle", "tiny"]
    for name in ("balanced_softmax", "ldam", "logit_adjusted"):
        with pytest.raises(ValueError, match=r"class\(es\) 2 \('tiny'\) have no examples"):
            build_loss(name, num_classes=3, class_counts=[50, 8, 0], label_names=names)
    with pytest.warns(UserWarning, match=r"class\(es\) 2 \('tiny'\) have no examples"):
        build_loss("class_balanced", num_classes=3, class_counts=[50, 8, 0], label_names=names)
    with pytest.warns(UserWarning, match=r"class\(es\) 2 \('tiny'\) have no examples"):
        build_loss("weighted_ce", num_classes=3, class_counts=[50, 8, 0], label_names=names)
