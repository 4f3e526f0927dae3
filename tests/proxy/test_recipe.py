"""Proxy-recipe options (off by default: the default schedule's record is unchanged) and the
score variants computed from a run's curves."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from nas.arch import ArchConfig
from nas.models import build_model
from nas.proxy import DEFAULT_SCHEDULE, SCORE_KINDS, curve_score, train
from nas.proxy._recipe import class_weights, init_bias_prior, optimizer_params

ROOT = Path(__file__).resolve().parents[2]


def test_defaults_leave_the_record_and_cache_keys_unchanged():
    d = DEFAULT_SCHEDULE.to_dict()
    assert not {"bias_prior", "head_lr_mult", "class_weight_power"} & set(d)
    long = json.loads((ROOT / "benchmarks" / "proxy_fidelity_long.json").read_text())
    assert set(long["schedule"]) == set(d)  # the committed long runs' keys still match
    on = DEFAULT_SCHEDULE.replace(bias_prior=True, head_lr_mult=5.0)
    assert on.to_dict()["head_lr_mult"] == 5.0 and type(on).from_dict(on.to_dict()) == on


def test_bias_prior_and_class_weights(small_arch):
    masks = torch.tensor([0] * 60 + [1] * 30 + [2] * 10 + [255] * 5).reshape(1, -1)
    model = build_model(ArchConfig.from_dict({**small_arch.to_dict(), "num_classes": 6}))
    assert not init_bias_prior(build_model(small_arch), masks, 6)  # 150 classes: not this data
    assert init_bias_prior(model, masks, 6)
    b = model.head.classifier.bias.detach()
    prior = torch.tensor([0.6, 0.3, 0.1]).log()
    assert torch.allclose(b[:3] - b[0], (prior - prior[0]).float(), atol=1e-5)
    assert (b[3:] == b[2]).all()  # unseen classes: at the smallest seen prior
    assert torch.softmax(b, 0).argmax() == 0
    w = class_weights(masks, 6, 0.5)
    assert w[0] < w[1] < w[2] and w[:3].mean() == pytest.approx(1.0) and (w[3:] == 0).all()
    assert class_weights(masks, 6, 0.0) is None


def test_head_lr_multiplier_reaches_the_optimizer(small_arch):
    from timm.optim import create_optimizer_v2
    from timm.scheduler import CosineLRScheduler

    model = build_model(small_arch)
    opt = create_optimizer_v2(optimizer_params(model, 0.01, 10.0), opt="adamw", lr=1e-3,
                              weight_decay=0.01)
    sched = CosineLRScheduler(opt, t_initial=10, t_in_epochs=False)
    sched.step_update(3)
    head = {id(p) for p in model.head.parameters()}
    lrs = {("head" if id(g["params"][0]) in head else "body"): g["lr"] for g in opt.param_groups}
    assert lrs["head"] == pytest.approx(10 * lrs["body"])
    assert optimizer_params(model, 0.01, 1.0) is model


def test_recipe_options_train_and_change_the_run(small_arch, tiny_data, fast_schedule):
    tr, va = tiny_data
    base = train(small_arch, tr, va, fast_schedule, seed=0)
    on = train(small_arch, tr, va, fast_schedule.replace(
        bias_prior=True, head_lr_mult=3.0, class_weight_power=0.25), seed=0)
    assert base.ok and on.ok and on.loss_curve != base.loss_curve
    assert on.schedule.to_dict()["class_weight_power"] == 0.25


def test_curve_scores():
    rec = {"eval_epochs": [1, 2, 4], "epoch_miou": [0.5 - 0.4 / e for e in (1, 2, 4)],
           "loss_curve": [2.0, 1.5, 1.2, 1.1]}
    assert set(SCORE_KINDS) == {"final", "mean_last2", "auc", "neg_loss", "extrapolated"}
    assert curve_score(rec, "final") == pytest.approx(0.4)
    assert curve_score(rec, "mean_last2") == pytest.approx((0.3 + 0.4) / 2)
    assert curve_score(rec, "auc") == pytest.approx((0.1 + 0.3 + 0.4) / 3)
    assert curve_score(rec, "neg_loss") == -1.1
    assert curve_score(rec, "extrapolated") == pytest.approx(0.5)  # exact for a - b / epoch
    assert curve_score({"eval_epochs": [], "epoch_miou": [], "loss_curve": []}) is None
    with pytest.raises(ValueError, match="unknown score"):
        curve_score(rec, "best")
