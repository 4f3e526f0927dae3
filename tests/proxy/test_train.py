"""The proxy trainer: determinism, failure reporting, pruning, results and weights."""

from __future__ import annotations

import json

import pytest
import torch
from torch import nn

from nas.models import build_model
from nas.proxy import (
    ProxyResult,
    Pruned,
    evaluate,
    load_weights,
    metrics_from_confusion,
    save_weights,
    train,
)


def test_same_seed_same_numbers(small_arch, tiny_data, fast_schedule):
    tr, va = tiny_data
    a = train(small_arch, tr, va, fast_schedule, seed=3)
    b = train(small_arch, tr, va, fast_schedule, seed=3)
    assert a.status == b.status == "ok", (a.reason, b.reason)
    assert a.loss_curve == b.loss_curve and len(a.loss_curve) == 2
    assert a.epoch_miou == b.epoch_miou and a.miou == b.miou
    assert a.per_class_iou == b.per_class_iou and a.pixel_acc == b.pixel_acc
    assert a.epochs_run == 2 and a.steps == 2 * (24 // 8) and a.eval_epochs == [1, 2]
    assert a.num_classes == 6 and a.params and a.images_per_s and a.wall_s > 0
    c = train(small_arch, tr, va, fast_schedule, seed=4)
    assert c.loss_curve != a.loss_curve


def test_train_leaves_global_state_alone(small_arch, tiny_data, fast_schedule):
    torch.set_num_threads(2)  # the run uses 1 (the autouse fixture restores the original)
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    train(small_arch, *tiny_data, fast_schedule.replace(epochs=1, threads=1), seed=0)
    assert torch.equal(torch.rand(3), expected)  # the caller's RNG stream is untouched
    assert torch.get_num_threads() == 2
    assert not torch.are_deterministic_algorithms_enabled()


def test_result_to_dict_is_json(small_arch, tiny_data, fast_schedule):
    r = train(small_arch, *tiny_data, fast_schedule.replace(epochs=1), seed=0)
    d = json.loads(json.dumps(r.to_dict(), allow_nan=False))
    assert d["status"] == "ok" and d["schedule"]["epochs"] == 1 and "model" not in d
    assert len(d["per_class_iou"]) == 6 and d["class_names"][0] == "background"


class _NaNNet(nn.Module):
    def __init__(self, k=6):
        super().__init__()
        self.conv = nn.Conv2d(3, k, 1)

    def forward(self, x):
        return self.conv(x) * float("nan")


class _Boom(nn.Module):
    def __init__(self, exc):
        super().__init__()
        self.conv = nn.Conv2d(3, 6, 1)
        self.exc = exc

    def forward(self, x):
        raise self.exc


def test_nan_loss_is_failed_not_scored(tiny_data, fast_schedule):
    r = train(_NaNNet(), *tiny_data, fast_schedule, seed=0)
    assert r.status == "failed" and r.miou is None and r.per_class_iou == []
    assert "nan" in r.reason and "epoch 1, step 1" in r.reason


def test_exploding_lr_is_failed(small_arch, tiny_data, fast_schedule):
    sched = fast_schedule.replace(lr=1e30, epochs=3, warmup_epochs=0.0)
    r = train(small_arch, *tiny_data, sched, seed=0)
    assert r.status == "failed" and r.miou is None, r.to_dict()
    assert "nan" in r.reason or "inf" in r.reason


@pytest.mark.parametrize("exc", [
    RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB"),
    MemoryError(),
    ValueError("shapes do not match"),
])
def test_forward_error_is_failed(tiny_data, fast_schedule, exc):
    r = train(_Boom(exc), *tiny_data, fast_schedule, seed=0, keep_model=True)
    assert r.status == "failed" and r.miou is None and r.model is None
    assert type(exc).__name__ in r.reason
    if str(exc):
        assert str(exc)[:20] in r.reason


def test_build_error_is_failed(small_arch, tiny_data, fast_schedule, monkeypatch):
    import nas.models

    def broken(arch):
        raise RuntimeError("cannot build this one")

    monkeypatch.setattr(nas.models, "build_model", broken)
    r = train(small_arch, *tiny_data, fast_schedule, seed=0)
    assert r.status == "failed" and "cannot build this one" in r.reason and r.epochs_run == 0


def test_callback_sees_each_epoch_and_can_prune(small_arch, tiny_data, fast_schedule):
    seen = []

    def keep_going(epoch, miou):
        seen.append((epoch, miou))
        return True

    sched = fast_schedule.replace(epochs=3)
    r = train(small_arch, *tiny_data, sched, seed=0, callback=keep_going)
    assert r.status == "ok" and [e for e, _ in seen] == [1, 2, 3]
    assert [m for _, m in seen] == r.epoch_miou

    r = train(small_arch, *tiny_data, sched, seed=0, callback=lambda e, m: e < 1)
    assert r.status == "pruned" and r.epochs_run == 1 and r.miou == r.epoch_miou[-1]
    assert len(r.loss_curve) == 1 and "epoch 1" in r.reason

    def raise_pruned(epoch, miou):
        if epoch == 2:
            raise Pruned("low intermediate mIoU")
        return None  # None does not stop

    r = train(small_arch, *tiny_data, sched, seed=0, callback=raise_pruned)
    assert r.status == "pruned" and r.epochs_run == 2 and "low intermediate" in r.reason


def test_eval_every_and_on_step(small_arch, tiny_data, fast_schedule):
    steps = []
    sched = fast_schedule.replace(epochs=3, eval_every=2)
    r = train(small_arch, *tiny_data, sched, seed=0,
              on_step=lambda e, s, n, loss: steps.append((e, s, n)))
    assert r.eval_epochs == [2, 3] and len(r.epoch_miou) == 2
    assert steps[0] == (1, 1, 3) and steps[-1] == (3, 3, 3) and len(steps) == 9


def test_weights_round_trip(small_arch, tiny_data, fast_schedule, tmp_path):
    tr, va = tiny_data
    r = train(small_arch, tr, va, fast_schedule.replace(epochs=1), seed=0, keep_model=True)
    assert isinstance(r, ProxyResult) and r.model is not None
    path = save_weights(r.model, tmp_path / "w.safetensors", metadata={"arch": "x"})
    arch = small_arch.model_copy(update={"num_classes": 6})
    fresh = load_weights(build_model(arch), path)
    conf_a = evaluate(r.model, va, 6)
    conf_b = evaluate(fresh, va, 6)
    assert torch.equal(conf_a, conf_b)
    assert metrics_from_confusion(conf_a).miou == pytest.approx(r.miou)


def test_unstacked_validation_is_evaluated_per_image(small_arch, tiny_data, fast_schedule):
    from dataclasses import replace

    tr, va = tiny_data
    ragged = replace(va, images=[im for im in va.images], masks=[m for m in va.masks])
    model = build_model(small_arch.model_copy(update={"num_classes": 6}))
    assert torch.equal(evaluate(model, ragged, 6), evaluate(model, va, 6, batch_size=1))


def test_bf16_autocast_runs(small_arch, tiny_data, fast_schedule):
    r = train(small_arch, *tiny_data, fast_schedule.replace(epochs=1, bf16=True), seed=0)
    assert r.status == "ok" and r.miou is not None
