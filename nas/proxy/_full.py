"""``train_full(arch, train, val, schedule, seed, test_data=..., checkpoint=...)``: full training.

The same recipe as the proxy (:func:`nas.proxy.train`: seeded init, batches and augmentation,
AdamW with warm-up and cosine decay, gradient clipping), run for a :class:`FullSchedule`: the
scored model is an EMA of the weights (timm ``ModelEmaV3``), the score is the mean validation
mIoU over the last evaluated epochs, the final model is also scored on the test split, and the
run records whether it plateaued. A checkpoint after every epoch (:mod:`nas.proxy._checkpoint`)
lets a killed or interrupted run resume with the same final numbers as an uninterrupted one.

Hand-written loop rather than a trainer library's: the proxy's own step (the same augmentation,
loss and failure handling) with per-epoch state capture, including the RNG streams that make a
resumed run bit-identical, which the trainer libraries (Lightning, Accelerate) do not restore.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from nas.data import SegData
from nas.proxy._checkpoint import fingerprint, load_checkpoint, save_checkpoint
from nas.proxy._metrics import metrics_from_confusion
from nas.proxy._recipe import apply_recipe
from nas.proxy._schedule import FULL_SCHEDULE, FullSchedule
from nas.proxy._train import (
    ProxyResult,
    Pruned,
    _at_size,
    _autocast,
    _describe,
    _Diverged,
    _fail,
    _is_prune,
    _make_model,
    _run_context,
    _train_epoch,
    evaluate,
    optimisation,
    prepare_data,
)

__all__ = ["FullResult", "Paused", "train_full"]


class Paused(Exception):
    """Raised by :func:`train_full` when its ``time_limit_s`` is used up: the last epoch's
    checkpoint is written, and calling again with the same checkpoint continues the run."""

    def __init__(self, epoch: int, epochs: int):
        super().__init__(f"paused after epoch {epoch} of {epochs}; run again to continue")
        self.epoch, self.epochs = epoch, epochs


@dataclass
class FullResult(ProxyResult):
    """A :class:`ProxyResult` of a full run. ``miou``: the score (mean validation mIoU of the
    scored model over ``score_epochs``); ``epoch_miou``: the scored model's validation mIoU at
    each of ``eval_epochs``; ``final_val_miou``: the last epoch's; ``test_*``: the final model
    on the test split (None without one); ``plateau_gain``: mIoU added by the last
    ``plateau_fraction`` of the epochs; ``resumed_at``: the epoch this invocation resumed after
    (0: started fresh)."""

    final_val_miou: float | None = None
    test_miou: float | None = None
    test_per_class_iou: list[float | None] = field(default_factory=list)
    test_pixel_acc: float | None = None
    score_epochs: list[int] = field(default_factory=list)
    plateau_gain: float | None = None
    plateaued: bool | None = None
    resumed_at: int = 0
    scored_model: str = "ema"


# the fields a checkpoint carries over (everything the final numbers depend on)
_CURVES = ("loss_curve", "epoch_miou", "eval_epochs", "epochs_run", "steps", "train_s",
           "per_class_iou", "pixel_acc")


def train_full(
    arch: Any,
    train_data: SegData,
    val_data: SegData,
    schedule: FullSchedule = FULL_SCHEDULE,
    seed: int = 0,
    *,
    test_data: SegData | None = None,
    checkpoint: str | Path | None = None,
    device: str | torch.device = "cpu",
    callback: Callable[[int, float | None], bool | None] | None = None,
    on_step: Callable[[int, int, int, float], None] | None = None,
    keep_model: bool = False,
    time_limit_s: float | None = None,
) -> FullResult:
    """Train ``arch`` with the full schedule and score it (see the module docstring).

    ``checkpoint``: a file written after every epoch; when it exists (from a killed run of the
    same architecture, schedule, seed and data) training resumes after its epoch, and the
    result is the one an uninterrupted run gives (timings aside). NasError when it belongs to
    another run. ``callback(epoch, miou)`` runs after each evaluated epoch, once its
    checkpoint is written (False or :class:`Pruned` stops the run as "pruned"); ``on_step`` as
    in :func:`nas.proxy.train`. ``keep_model`` puts the scored model on the result.
    A KeyboardInterrupt propagates; the last completed epoch's checkpoint is kept.
    ``time_limit_s`` (with a ``checkpoint``): once this call has run that long, it stops after
    the current epoch's checkpoint and raises :class:`Paused` (a long run in short pieces).
    """
    if time_limit_s is not None and checkpoint is None:
        raise ValueError("time_limit_s needs a checkpoint to continue from")
    t0 = time.perf_counter()
    device = torch.device(device)
    if not isinstance(schedule, FullSchedule):
        raise TypeError("train_full() takes a FullSchedule (nas.proxy.FULL_SCHEDULE.replace())")
    tr, va, k, names = prepare_data(train_data, val_data, schedule)
    result = FullResult(status="ok", seed=seed, device=str(device), num_classes=k,
                        class_names=list(names), schedule=schedule,
                        scored_model="ema" if schedule.ema_decay else "raw")
    arch_key = arch.to_dict() if hasattr(arch, "to_dict") else type(arch).__name__
    key = fingerprint(arch_key, schedule.to_dict(), seed, k, _data_key(tr), _data_key(va))
    state = load_checkpoint(checkpoint, key) if checkpoint is not None else None
    with _run_context(schedule, device):
        model = scored = None
        try:
            torch.manual_seed(seed)
            model = _make_model(arch, k).to(device)
            result.params = sum(p.numel() for p in model.parameters())
            deadline = None if time_limit_s is None else t0 + time_limit_s
            scored = _fit_full(model, tr, va, k, schedule, seed, device, key, checkpoint, state,
                               callback, on_step, result, deadline)
            if test_data is not None and schedule.test:
                conf = evaluate(scored, _at_size(test_data, schedule), k, device,
                                schedule.eval_batch_size, _autocast(schedule, device))
                m = metrics_from_confusion(conf)
                result.test_miou, result.test_per_class_iou = m.miou, m.per_class_iou
                result.test_pixel_acc = m.pixel_acc
        except _Diverged as exc:
            _fail(result, str(exc))
        except Paused:
            raise
        except Exception as exc:  # noqa: BLE001 - a candidate failure is a result, not a crash
            if _is_prune(exc):
                result.status = "pruned"
                result.reason = _describe(exc) if str(exc) else "pruned by the callback"
            else:
                _fail(result, _describe(exc))
        if keep_model and result.status != "failed":
            result.model = scored
    result.wall_s += time.perf_counter() - t0
    return result


def _data_key(data: SegData) -> list:
    return [data.name, len(data), list(data.images.shape[-2:]) if data.stacked else None]


def _fit_full(
    model: nn.Module, tr: SegData, va: SegData, k: int, schedule: FullSchedule, seed: int,
    device: torch.device, key: str, checkpoint, state, callback, on_step, result: FullResult,
    deadline: float | None,
) -> nn.Module:
    from timm.utils import ModelEmaV3

    n = len(tr)
    bs = min(schedule.batch_size, n)
    steps_per_epoch = n // bs
    total = steps_per_epoch * schedule.epochs
    warmup = min(int(round(schedule.warmup_epochs * steps_per_epoch)), total - 1)
    weights = apply_recipe(model, tr.masks, k, schedule, device)  # no-op unless asked
    optimizer, scheduler, scaler = optimisation(model, schedule, total, warmup, device)
    ema = ModelEmaV3(model, decay=schedule.ema_decay, use_warmup=True) \
        if schedule.ema_decay else None
    gen = torch.Generator().manual_seed(seed)
    update, start = 0, 1
    if state is not None:
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        if ema is not None:
            ema.module.load_state_dict(state["ema"])
        gen.set_state(state["generator"])
        torch.set_rng_state(state["torch_rng"])
        if device.type == "cuda" and state.get("cuda_rng") is not None:
            torch.cuda.set_rng_state(state["cuda_rng"], device)
        for name in _CURVES:
            setattr(result, name, copy.deepcopy(state["result"][name]))
        result.wall_s = state["result"]["wall_s"]
        update, start = state["update"], state["epoch"] + 1
        result.resumed_at = state["epoch"]
        scheduler.step_update(num_updates=update)
    scored = ema.module if ema is not None else model
    images, masks = tr.images.to(device), tr.masks.to(device)
    evaluated = set(schedule.eval_epochs())
    t_wall = time.perf_counter()
    for epoch in range(start, schedule.epochs + 1):
        t_epoch = time.perf_counter()
        losses, update = _train_epoch(model, optimizer, scheduler, scaler, ema, images, masks,
                                      schedule, gen, device, bs, steps_per_epoch, update, epoch,
                                      on_step, weights)
        result.train_s += time.perf_counter() - t_epoch
        result.loss_curve.append(sum(losses) / len(losses) if losses else float("nan"))
        result.epochs_run, result.steps = epoch, update
        result.images_per_s = update * bs / result.train_s if result.train_s > 0 else None
        miou = None
        if epoch in evaluated:
            conf = evaluate(scored, va, k, device, schedule.eval_batch_size,
                            _autocast(schedule, device))
            m = metrics_from_confusion(conf)
            miou = m.miou
            result.per_class_iou, result.pixel_acc = m.per_class_iou, m.pixel_acc
            result.epoch_miou.append(m.miou)
            result.eval_epochs.append(epoch)
        if checkpoint is not None:
            wall = result.wall_s + time.perf_counter() - t_wall
            save_checkpoint(checkpoint, {
                "fingerprint": key, "epoch": epoch, "update": update,
                "model": model.state_dict(), "optimizer": optimizer.state_dict(),
                "scheduler": scheduler.state_dict(),
                "ema": ema.module.state_dict() if ema is not None else None,
                "generator": gen.get_state(), "torch_rng": torch.get_rng_state(),
                "cuda_rng": torch.cuda.get_rng_state(device) if device.type == "cuda" else None,
                "result": {**{n: getattr(result, n) for n in _CURVES}, "wall_s": wall},
            })
        if miou is not None and callback is not None and callback(epoch, miou) is False:
            raise Pruned(f"pruned by the callback after epoch {epoch}")
        if deadline is not None and epoch < schedule.epochs and time.perf_counter() > deadline:
            raise Paused(epoch, schedule.epochs)
    _score(result, schedule)
    return scored


def _score(result: FullResult, schedule: FullSchedule) -> None:
    pairs = [(e, m) for e, m in zip(result.eval_epochs, result.epoch_miou, strict=True)
             if m is not None]
    if not pairs:
        result.miou = None
        return
    last = pairs[-schedule.score_last:]
    result.score_epochs = [e for e, _ in last]
    result.miou = sum(m for _, m in last) / len(last)
    result.final_val_miou = pairs[-1][1]
    ref = dict(pairs).get(schedule.plateau_epoch())
    if ref is not None and result.epochs_run == schedule.epochs:
        result.plateau_gain = pairs[-1][1] - ref
        result.plateaued = result.plateau_gain < schedule.plateau_delta
