"""``train(arch, train_data, val_data, schedule, seed)``: the proxy trainer.

One short, seeded training run of a candidate on in-memory data, scored by mIoU on a fixed
validation subset. A candidate never raises: a build or forward that fails (out of memory
included) or a loss that turns NaN/inf gives ``status="failed"`` with the reason and no mIoU;
a ``callback`` that returns False (or raises :class:`Pruned`) stops the run as "pruned".
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

import torch
import torch.nn.functional as F
from torch import nn

from nas._allocator import keep_freed_memory
from nas.data import IGNORE_INDEX, SegData, augment, normalize
from nas.proxy._metrics import confusion_matrix, metrics_from_confusion
from nas.proxy._recipe import apply_recipe, params_for
from nas.proxy._schedule import DEFAULT_SCHEDULE, Schedule

__all__ = ["ProxyResult", "Pruned", "evaluate", "prepare_data", "train"]

Status = Literal["ok", "failed", "pruned"]


class Pruned(Exception):
    """Raised by a callback (or returned as False) to stop a run early."""


class _Diverged(Exception):
    pass


@dataclass
class ProxyResult:
    """The outcome of one proxy run. ``miou`` is None when the run failed (never a score for a
    broken candidate); for a pruned run it is the last intermediate value. ``epoch_miou`` holds
    the validation mIoU of each evaluated epoch (``eval_epochs`` says which), ``loss_curve`` the
    mean training loss of each epoch run. ``wall_s`` covers build, training and evaluation;
    ``images_per_s`` counts training images over training time only."""

    status: Status
    miou: float | None = None
    per_class_iou: list[float | None] = field(default_factory=list)
    pixel_acc: float | None = None
    loss_curve: list[float] = field(default_factory=list)
    epoch_miou: list[float | None] = field(default_factory=list)
    eval_epochs: list[int] = field(default_factory=list)
    epochs_run: int = 0
    steps: int = 0
    wall_s: float = 0.0
    train_s: float = 0.0
    images_per_s: float | None = None
    reason: str | None = None
    seed: int = 0
    device: str = "cpu"
    params: int | None = None
    num_classes: int = 0
    class_names: list[str] = field(default_factory=list)
    schedule: Schedule = DEFAULT_SCHEDULE
    model: nn.Module | None = field(default=None, repr=False, compare=False)

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def to_dict(self) -> dict[str, Any]:
        """JSON-able (no model; non-finite floats become None)."""
        skip = ("model", "schedule")
        out = {k: getattr(self, k) for k in self.__dataclass_fields__ if k not in skip}
        out["schedule"] = self.schedule.to_dict()
        return _jsonable(out)


def _jsonable(v: Any) -> Any:
    if isinstance(v, float):
        return v if math.isfinite(v) else None
    if isinstance(v, dict):
        return {k: _jsonable(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_jsonable(x) for x in v]
    return v


# ---------------------------------------------------------------------------- data
def prepare_data(
    train_data: SegData, val_data: SegData, schedule: Schedule
) -> tuple[SegData, SegData, int, tuple[str, ...]]:
    """The subsets the schedule trains and evaluates on, stored at the evaluation size, and the
    class count (the larger of the two splits')."""
    k = max(train_data.num_classes, val_data.num_classes)
    names = (train_data if train_data.num_classes >= val_data.num_classes else val_data).class_names
    tr = _at_size(train_data.subset(schedule.n_train), schedule)
    va = _at_size(val_data.subset(schedule.n_val), schedule)
    return tr, va, k, tuple(names)


def _at_size(data: SegData, schedule: Schedule) -> SegData:
    if schedule.eval_size is not None:
        return data.resized(schedule.eval_size)
    if data.stacked:
        return data
    return data.resized(schedule.train_size)


# ---------------------------------------------------------------------------- helpers
@contextlib.contextmanager
def _run_context(schedule: Schedule, device: torch.device) -> Iterator[None]:
    """Threads and determinism for the run, restored afterwards; the global RNG is forked so
    the caller's random state is untouched."""
    threads = torch.get_num_threads()
    det = torch.are_deterministic_algorithms_enabled()
    det_warn = torch.is_deterministic_algorithms_warn_only_enabled()
    fill = torch.utils.deterministic.fill_uninitialized_memory
    devices = [device.index or 0] if device.type == "cuda" else []
    try:
        torch.set_num_threads(schedule.threads)
        if device.type == "cpu":
            keep_freed_memory()  # no page faults per step (nas._allocator): 21-24% faster
            torch.use_deterministic_algorithms(True, warn_only=True)
            # deterministic mode also NaN-fills every torch.empty (a safety net for reading
            # uninitialised memory, which no op here does); it cost ~7% of a proxy step
            torch.utils.deterministic.fill_uninitialized_memory = False
        with torch.random.fork_rng(devices=devices):
            yield
    finally:
        torch.set_num_threads(threads)
        torch.use_deterministic_algorithms(det, warn_only=det_warn)
        torch.utils.deterministic.fill_uninitialized_memory = fill


def _autocast(schedule: Schedule, device: torch.device):
    if device.type == "cuda":
        dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        return torch.autocast("cuda", dtype=dtype)
    if schedule.bf16:
        return torch.autocast("cpu", dtype=torch.bfloat16)
    return contextlib.nullcontext()


def _make_model(arch: Any, num_classes: int) -> nn.Module:
    if isinstance(arch, nn.Module):
        return arch
    from nas.arch import ArchConfig
    from nas.models import build_model

    if not isinstance(arch, ArchConfig):
        raise TypeError(f"train() takes an ArchConfig or an nn.Module, got {type(arch).__name__}")
    if arch.num_classes != num_classes:
        arch = ArchConfig.from_dict({**arch.to_dict(), "num_classes": num_classes})
    return build_model(arch)


def _describe(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    if len(text) > 300:
        text = text[:297] + "..."
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _is_prune(exc: BaseException) -> bool:
    # optuna.TrialPruned raised from a callback counts too (matched by name: no optuna import)
    return isinstance(exc, Pruned) or type(exc).__name__ == "TrialPruned"


# ---------------------------------------------------------------------------- evaluation
@torch.no_grad()
def evaluate(
    model: nn.Module,
    data: SegData,
    num_classes: int | None = None,
    device: str | torch.device = "cpu",
    batch_size: int = 16,
    autocast: Any = None,
) -> torch.Tensor:
    """The (K, K) confusion matrix of ``model`` on ``data`` at the size the samples are stored
    at (whole images, one forward each; stacked data is batched). The model is put in eval
    mode and restored afterwards."""
    device = torch.device(device)
    k = num_classes or data.num_classes
    conf = torch.zeros(k, k, dtype=torch.long)
    was_training = model.training
    model.eval()
    ctx = autocast if autocast is not None else contextlib.nullcontext()
    try:
        if data.stacked:
            chunks = [(data.images[i:i + batch_size], data.masks[i:i + batch_size])
                      for i in range(0, len(data), batch_size)]
        else:
            chunks = [(im[None], m[None]) for im, m in zip(data.images, data.masks)]
        for images, masks in chunks:
            x = normalize(images.to(device))
            with ctx:
                logits = model(x)
            pred = logits.argmax(1)
            conf += confusion_matrix(pred, masks.to(device), k)
    finally:
        model.train(was_training)
    return conf


# ---------------------------------------------------------------------------- training
def train(
    arch: Any,
    train_data: SegData,
    val_data: SegData,
    schedule: Schedule = DEFAULT_SCHEDULE,
    seed: int = 0,
    device: str | torch.device = "cpu",
    callback: Callable[[int, float | None], bool | None] | None = None,
    on_step: Callable[[int, int, int, float], None] | None = None,
    keep_model: bool = False,
) -> ProxyResult:
    """Train ``arch`` (an :class:`~nas.arch.ArchConfig`, rebuilt with the data's class count,
    or an ``nn.Module`` used as given) on ``train_data`` and score it on ``val_data``.

    ``callback(epoch, miou)`` runs after each evaluated epoch (1-based, the last one included)
    with that epoch's validation mIoU; returning False or raising :class:`Pruned` stops the
    run and marks it "pruned" (``miou`` keeps the last value); optuna's ``TrialPruned`` raised
    there counts as :class:`Pruned`. ``on_step(epoch, step, steps_per_epoch, loss)`` runs
    after every optimiser step (progress bars). ``keep_model`` puts the trained model on the
    result (``result.model``; an ``nn.Module`` argument is trained in place either way).

    The data: ``n_train`` / ``n_val`` evenly spaced samples of each split, stored at the
    schedule's ``eval_size`` (see :func:`prepare_data`); the class count is the larger of the
    two splits'. Errors in the data are the caller's (NasError); errors of the candidate are
    the result's.

    Same seed, same data and schedule on CPU: the same numbers (weights initialised under
    ``torch.manual_seed(seed)``, batches and augmentation drawn from a generator seeded with
    ``seed``; the caller's global RNG state is left as it was).
    """
    t0 = time.perf_counter()
    device = torch.device(device)
    tr, va, k, names = prepare_data(train_data, val_data, schedule)
    result = ProxyResult(status="ok", seed=seed, device=str(device), num_classes=k,
                         class_names=list(names), schedule=schedule)
    with _run_context(schedule, device):
        model = None
        try:
            torch.manual_seed(seed)
            model = _make_model(arch, k).to(device)
            result.params = sum(p.numel() for p in model.parameters())
            _fit(model, tr, va, k, schedule, seed, device, callback, on_step, result)
        except _Diverged as exc:
            _fail(result, str(exc))
        except Exception as exc:  # noqa: BLE001 - any candidate failure is a result, not a crash
            if _is_prune(exc):
                result.status = "pruned"
                result.reason = _describe(exc) if str(exc) else "pruned by the callback"
            else:
                _fail(result, _describe(exc))
        if result.status == "failed" and device.type == "cuda":
            model = None
            torch.cuda.empty_cache()
        if keep_model and result.status != "failed":
            result.model = model
    result.wall_s = time.perf_counter() - t0
    return result


def _fail(result: ProxyResult, reason: str) -> None:
    result.status = "failed"
    result.reason = reason
    result.miou = None
    result.per_class_iou = []
    result.pixel_acc = None



def optimisation(model: nn.Module, schedule: Schedule, total: int, warmup: int,
                 device: torch.device) -> tuple[Any, Any, Any]:
    """The optimizer, LR scheduler and (fp16 CUDA only) grad scaler of a run, for the proxy and
    the full schedule alike: timm's AdamW (no decay on norms and biases; ``foreach``: one
    multi-tensor kernel per op instead of one per parameter, about 1/6 of a scaled HRViT-b1 step
    with its ~600 tensors), a linear warm-up over ``warmup`` steps, then a per-step cosine."""
    from timm.optim import create_optimizer_v2
    from timm.scheduler import CosineLRScheduler

    optimizer = create_optimizer_v2(params_for(model, schedule), opt="adamw", lr=schedule.lr,
                                    weight_decay=schedule.weight_decay, foreach=True)
    scheduler = CosineLRScheduler(
        optimizer, t_initial=max(1, total - warmup), lr_min=schedule.lr * schedule.min_lr_ratio,
        warmup_t=warmup, warmup_lr_init=schedule.lr * 1e-3, warmup_prefix=True,
        t_in_epochs=False,
    )
    scaler = None
    if device.type == "cuda" and not torch.cuda.is_bf16_supported():
        scaler = torch.amp.GradScaler("cuda")
    return optimizer, scheduler, scaler

def _fit(
    model: nn.Module, tr: SegData, va: SegData, k: int, schedule: Schedule, seed: int,
    device: torch.device, callback, on_step, result: ProxyResult,
) -> None:
    n = len(tr)
    bs = min(schedule.batch_size, n)
    steps_per_epoch = n // bs  # drop the last partial batch (BatchNorm and equal step sizes)
    total = steps_per_epoch * schedule.epochs
    warmup = min(int(round(schedule.warmup_epochs * steps_per_epoch)), total - 1)
    weights = apply_recipe(model, tr.masks, k, schedule, device)  # no-op unless asked
    optimizer, scheduler, scaler = optimisation(model, schedule, total, warmup, device)
    gen = torch.Generator().manual_seed(seed)
    images = tr.images.to(device)
    masks = tr.masks.to(device)
    train_s = 0.0
    update = 0
    for epoch in range(1, schedule.epochs + 1):
        t_epoch = time.perf_counter()
        losses, update = _train_epoch(model, optimizer, scheduler, scaler, None, images, masks,
                                      schedule, gen, device, bs, steps_per_epoch, update, epoch,
                                      on_step, weights)
        train_s += time.perf_counter() - t_epoch
        result.loss_curve.append(sum(losses) / len(losses) if losses else float("nan"))
        result.epochs_run = epoch
        result.steps = update
        result.train_s = train_s
        result.images_per_s = update * bs / train_s if train_s > 0 else None
        if epoch % schedule.eval_every and epoch != schedule.epochs:
            continue
        conf = evaluate(model, va, k, device, schedule.eval_batch_size, _autocast(schedule, device))
        m = metrics_from_confusion(conf)
        result.miou, result.per_class_iou, result.pixel_acc = m.miou, m.per_class_iou, m.pixel_acc
        result.epoch_miou.append(m.miou)
        result.eval_epochs.append(epoch)
        if callback is not None:
            if callback(epoch, m.miou) is False:
                raise Pruned(f"pruned by the callback after epoch {epoch}")


def _train_epoch(model, optimizer, scheduler, scaler, ema, images, masks, schedule, gen, device,
                 bs, steps_per_epoch, update, epoch, on_step, weights=None
                 ) -> tuple[list[float], int]:
    """One training epoch: a seeded permutation, then per batch augment, forward, loss, backward,
    clip, step and LR update (and the EMA update when ``ema`` is given); the proxy
    (:func:`train`) and the full schedule share it. Returns the step losses and the update count."""
    model.train()
    order = torch.randperm(len(images), generator=gen)
    losses: list[float] = []
    for step in range(steps_per_epoch):
        idx = order[step * bs:(step + 1) * bs].to(device)
        x, y = augment(images[idx], masks[idx], schedule.train_size, gen,
                       schedule.scale_range, schedule.flip)
        if not bool((y != IGNORE_INDEX).any()):
            continue
        with _autocast(schedule, device):
            logits = model(normalize(x))
        loss = F.cross_entropy(logits.float(), y, weight=weights, ignore_index=IGNORE_INDEX)
        value = float(loss.detach())
        if not math.isfinite(value):
            raise _Diverged(f"training loss became {value} at epoch {epoch}, step {step + 1}")
        optimizer.zero_grad(set_to_none=True)
        if scaler is not None:
            scaler.scale(loss).backward()
            scaler.unscale_(optimizer)
        else:
            loss.backward()
        if schedule.grad_clip is not None:
            norm = torch.nn.utils.clip_grad_norm_(model.parameters(), schedule.grad_clip,
                                                  foreach=True)
            if not math.isfinite(float(norm)) and scaler is None:
                raise _Diverged(f"gradient norm became {float(norm)} at epoch {epoch}, "
                                f"step {step + 1}")
        if scaler is not None:
            scaler.step(optimizer)
            scaler.update()
        else:
            optimizer.step()
        update += 1
        scheduler.step_update(num_updates=update)
        if ema is not None:
            ema.update(model, step=update)
        losses.append(value)
        if on_step is not None:
            on_step(epoch, step + 1, steps_per_epoch, value)
    return losses, update
