"""``Schedule``: every knob of one proxy training run, frozen and overridable."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, fields
from typing import Any

from nas.errors import NasError

__all__ = [
    "DEFAULT_SCHEDULE",
    "FULL_SCHEDULE",
    "SCHEDULES",
    "FullSchedule",
    "Schedule",
    "get_schedule",
]

Size = tuple[int, int]


@dataclass(frozen=True)
class Schedule:
    """How a candidate is trained and evaluated by the proxy.

    Sizes are (H, W). Training: ``epochs`` passes over ``n_train`` samples (evenly spaced over
    the split; all when None), batches of ``batch_size`` random ``train_size`` crops of the
    samples scaled by a factor drawn from ``scale_range`` (and flipped with probability 1/2 when
    ``flip``); AdamW (``lr``, ``weight_decay``; no decay on norms and biases) with a linear
    warm-up over ``warmup_epochs`` then a per-step cosine decay to ``lr * min_lr_ratio``;
    gradients clipped to norm ``grad_clip`` (None: off).

    Evaluation: ``n_val`` samples at ``eval_size`` (None: as stored when all samples share one
    size, else resized to ``train_size``), after every ``eval_every`` epochs and after the last.
    The training samples are stored at the same size before the random scaling, so
    ``eval_size`` is also the base scale of training.

    ``bf16``: bfloat16 autocast on CPU (off by default: measure before turning it on); on CUDA
    the trainer always uses autocast. ``threads``: torch intra-op threads during the run.

    Recipe options (off by default, see :mod:`nas.proxy._recipe`): ``bias_prior`` (classifier
    bias at the log class prior), ``head_lr_mult`` (the head's learning-rate factor),
    ``class_weight_power`` (loss weights frequency ** -power).
    """

    epochs: int = 4
    batch_size: int = 8
    train_size: Size = (96, 96)
    eval_size: Size | None = None
    n_train: int | None = 128
    n_val: int | None = 64
    lr: float = 2e-3
    weight_decay: float = 0.01
    warmup_epochs: float = 0.5
    min_lr_ratio: float = 0.01
    scale_range: tuple[float, float] = (0.75, 1.5)
    flip: bool = True
    grad_clip: float | None = 1.0
    eval_every: int = 1
    eval_batch_size: int = 16
    bf16: bool = False
    threads: int = 2
    # proxy-recipe options (nas.proxy._recipe), off by default; to_dict() leaves them out at
    # their defaults, so records and cache keys of runs without them stay as they were
    bias_prior: bool = False
    head_lr_mult: float = 1.0
    class_weight_power: float = 0.0

    def __post_init__(self) -> None:
        for name in ("train_size", "eval_size", "scale_range"):
            value = getattr(self, name)
            if isinstance(value, list):
                object.__setattr__(self, name, tuple(value))
        problem = self._problem()
        if problem:
            raise NasError(f"schedule: {problem}")

    def _problem(self) -> str | None:
        for name in ("epochs", "batch_size", "eval_every", "eval_batch_size", "threads"):
            if int(getattr(self, name)) < 1:
                return f"{name} must be >= 1, got {getattr(self, name)}"
        for name in ("n_train", "n_val"):
            v = getattr(self, name)
            if v is not None and v < 1:
                return f"{name} must be >= 1 or None (all), got {v}"
        for name in ("train_size", "eval_size"):
            v = getattr(self, name)
            if v is None and name == "eval_size":
                continue
            if not (isinstance(v, tuple) and len(v) == 2 and min(v) >= 32):
                return f"{name} must be (H, W) with both sides >= 32, got {v}"
        if not 0 < self.lr < math.inf:
            return f"lr must be finite and > 0, got {self.lr}"
        if not (0 <= self.weight_decay < math.inf and 0 <= self.warmup_epochs < math.inf
                and 0 <= self.min_lr_ratio <= 1):
            return "weight_decay and warmup_epochs must be >= 0 and min_lr_ratio in [0, 1]"
        lo, hi = self.scale_range
        if not 0 < lo <= hi < math.inf:
            return f"scale_range must be 0 < lo <= hi, got {self.scale_range}"
        if self.grad_clip is not None and not 0 < self.grad_clip < math.inf:
            return f"grad_clip must be > 0 or None, got {self.grad_clip}"
        if not 0 < self.head_lr_mult < math.inf or not 0 <= self.class_weight_power <= 1:
            return "head_lr_mult must be > 0 and class_weight_power in [0, 1]"
        return None

    def replace(self, **overrides: Any) -> Schedule:
        """A copy with ``overrides`` applied; ``None`` values are skipped (handy for CLI flags),
        so pass a field's None explicitly via :func:`dataclasses.replace` if you need it."""
        names = {f.name for f in fields(self)}
        unknown = sorted(set(overrides) - names)
        if unknown:
            raise NasError(f"schedule: unknown field(s) {unknown}; known: {sorted(names)}")
        return dataclasses.replace(self, **{k: v for k, v in overrides.items() if v is not None})

    def to_dict(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        for k, v in out.items():
            if isinstance(v, tuple):
                out[k] = list(v)
        for k, default in _RECIPE_DEFAULTS.items():
            if out.get(k) == default:
                del out[k]
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Schedule:
        names = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise NasError(f"schedule: unknown field(s) {unknown}; known: {sorted(names)}")
        return cls(**data)


_RECIPE_DEFAULTS = {"bias_prior": False, "head_lr_mult": 1.0, "class_weight_power": 0.0}

DEFAULT_SCHEDULE = Schedule()
"""The proxy's default: 4 epochs over 128 samples, 96x96 crops, batch 8 (64 steps), eval on 64.
Chosen by ``benchmarks/proxy_fidelity.py`` on camvid_240x180 (12 architectures within
5 GFLOPs@512): Kendall tau 0.667 against the mean of two 5.5x longer runs, as high as those long
runs agree with each other across seeds, and 15-63 s per architecture on 2 CPU cores; 2 epochs
over 256 samples (same work) reached 0.576. Every field can be overridden
(``DEFAULT_SCHEDULE.replace(epochs=8)``)."""


@dataclass(frozen=True)
class FullSchedule(Schedule):
    """A full training run (:func:`nas.proxy.train_full`): a :class:`Schedule` plus how it is
    scored and when it counts as converged.

    ``ema_decay``: the scored model is an exponential moving average of the weights (timm's
    ``ModelEmaV3`` with its warm-up, so the average starts short; None: the raw weights).
    Evaluated on the validation split: every ``eval_every``-th epoch and every epoch of the
    last ``plateau_fraction`` of the run. Score: the mean validation mIoU of the scored model
    over the last ``score_last`` evaluated epochs (steadier than the last epoch alone).
    Plateau: the run is marked ``plateaued`` when the last ``plateau_fraction`` of its epochs
    (from epoch ``round((1 - plateau_fraction) * epochs)`` to the last) added less than
    ``plateau_delta`` mIoU.
    ``test``: also score the final model on the data's test split when its layout has one.
    A checkpoint is written after every epoch, so a killed run resumes where it stopped.
    """

    ema_decay: float | None = 0.995
    score_last: int = 2
    plateau_fraction: float = 0.2
    plateau_delta: float = 0.01
    test: bool = True

    def _problem(self) -> str | None:
        problem = super()._problem()
        if problem:
            return problem
        if self.ema_decay is not None and not 0 < self.ema_decay < 1:
            return f"ema_decay must be in (0, 1) or None, got {self.ema_decay}"
        if self.score_last < 1:
            return f"score_last must be >= 1, got {self.score_last}"
        if not 0 < self.plateau_fraction < 1 or self.plateau_delta < 0:
            return "plateau_fraction must be in (0, 1) and plateau_delta >= 0"
        return None

    def plateau_epoch(self) -> int:
        """The epoch the plateau test compares the last one with (>= 1)."""
        return max(1, round((1 - self.plateau_fraction) * self.epochs))

    def eval_epochs(self) -> list[int]:
        """The epochs evaluated on the validation split: every ``eval_every``-th and every one
        from the plateau test's reference epoch to the last."""
        chosen = {e for e in range(1, self.epochs + 1) if e % self.eval_every == 0}
        return sorted(chosen | set(range(self.plateau_epoch(), self.epochs + 1)))


FULL_SCHEDULE = FullSchedule(
    epochs=20, batch_size=8, train_size=(128, 128), n_train=None, n_val=None, lr=2e-3,
    warmup_epochs=0.5, eval_every=4,
)
"""The full schedule (``nas train ARCH --schedule full``, ``nas retrain``): 20 epochs over every
training image (900 steps on CamVid's 367), 128x128 crops. 8 epochs did not plateau (afformer_base
gained +0.0103 mIoU over its last fifth, loss still falling). See README "Full training"."""

SCHEDULES: dict[str, Schedule] = {"proxy": DEFAULT_SCHEDULE, "full": FULL_SCHEDULE}
"""Named schedules: ``proxy`` (the search's short run) and ``full`` (train to a plateau)."""


def get_schedule(name: str) -> Schedule:
    """The schedule called ``name`` in :data:`SCHEDULES` (NasError naming the choices)."""
    if name not in SCHEDULES:
        raise NasError(f"unknown schedule {name!r}; use one of: {', '.join(SCHEDULES)}")
    return SCHEDULES[name]
