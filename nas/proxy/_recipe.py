"""Optional proxy-recipe knobs (all off by default, so the default proxy is unchanged), and
score variants computed from a finished run's curves.

Recipe (``Schedule`` fields): ``bias_prior`` starts the classifier's bias at the log class
prior of the training masks, so a network does not have to carry the prior in its features to
leave the constant prediction; ``head_lr_mult`` scales the head's learning rate (timm's
``lr_scale`` param-group key, honoured by its schedulers); ``class_weight_power`` weights the
loss by class frequency ** -power (normalised to mean 1 over the classes present; 0: off,
0.25-0.5: mild).

Scores (:func:`curve_score`): ``final`` (the last evaluated mIoU), ``mean_last2``, ``auc``
(mean mIoU over the evaluated epochs: the area under the early curve), ``neg_loss`` (minus the
last epoch's training loss), ``extrapolated`` (the asymptote ``a`` of a least-squares fit
``miou = a - b / epoch`` over the evaluated epochs; the final mIoU with fewer than 2 points).
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn

from nas.data import IGNORE_INDEX

__all__ = [
    "SCORE_KINDS",
    "apply_recipe",
    "class_weights",
    "curve_score",
    "init_bias_prior",
    "optimizer_params",
    "params_for",
]

SCORE_KINDS = ("final", "mean_last2", "auc", "neg_loss", "extrapolated")


def _frequencies(masks: torch.Tensor, k: int) -> torch.Tensor:
    m = masks.reshape(-1).long()
    m = m[m != IGNORE_INDEX]
    counts = torch.bincount(m, minlength=k)[:k].double()
    return counts / counts.sum().clamp_min(1)


def init_bias_prior(model: nn.Module, masks: torch.Tensor, k: int) -> bool:
    """Set ``model.head.classifier.bias`` to the log class prior of ``masks`` (classes never
    seen get the smallest seen log-prior). False (nothing done) without such a bias."""
    cls = getattr(getattr(model, "head", None), "classifier", None)
    if cls is None or getattr(cls, "bias", None) is None or cls.bias.numel() != k:
        return False
    freq = _frequencies(masks, k)
    seen = freq > 0
    logp = torch.where(seen, freq.clamp_min(1e-12).log(), freq[seen].log().min())
    with torch.no_grad():
        cls.bias.copy_((logp - logp.mean()).to(cls.bias))
    return True


def class_weights(masks: torch.Tensor, k: int, power: float) -> torch.Tensor | None:
    """Loss weights frequency ** -power, mean 1 over the classes present (None when power 0)."""
    if not power:
        return None
    freq = _frequencies(masks, k)
    w = torch.where(freq > 0, freq.clamp_min(1e-12) ** -power, torch.zeros_like(freq))
    return (w / w[freq > 0].mean()).float()


def optimizer_params(model: nn.Module, weight_decay: float, head_lr_mult: float) -> Any:
    """What to hand timm's ``create_optimizer_v2``: the model itself (its own weight-decay
    grouping) when ``head_lr_mult`` is 1, else the same grouping for the backbone and the head
    with ``lr_scale`` = ``head_lr_mult`` on the head's groups."""
    head = getattr(model, "head", None)
    if head_lr_mult == 1.0 or head is None:
        return model
    from timm.optim import param_groups_weight_decay

    groups = param_groups_weight_decay(model.backbone, weight_decay)
    for g in param_groups_weight_decay(head, weight_decay):
        groups.append({**g, "lr_scale": head_lr_mult})
    return [g for g in groups if g["params"]]


def apply_recipe(model: nn.Module, masks: torch.Tensor, k: int, schedule: Any,
                 device: Any = "cpu") -> torch.Tensor | None:
    """Apply the schedule's recipe options to a fresh ``model`` (the bias prior) and return the
    loss's class weights on ``device`` (None: unweighted)."""
    if schedule.bias_prior:
        init_bias_prior(model, masks, k)
    w = class_weights(masks, k, schedule.class_weight_power)
    return None if w is None else w.to(device)


def params_for(model: nn.Module, schedule: Any) -> Any:
    """:func:`optimizer_params` with the schedule's weight decay and head LR factor."""
    return optimizer_params(model, schedule.weight_decay, schedule.head_lr_mult)


def curve_score(record: Any, kind: str = "final") -> float | None:
    """A score of a finished run (a ProxyResult or its ``to_dict()``) by ``kind``."""
    get = record.get if isinstance(record, dict) else lambda k: getattr(record, k)
    if kind not in SCORE_KINDS:
        raise ValueError(f"unknown score {kind!r}; use one of {SCORE_KINDS}")
    pts = [(e, m) for e, m in zip(get("eval_epochs") or [], get("epoch_miou") or [],
                                  strict=False) if m is not None]
    if kind == "neg_loss":
        losses = [x for x in (get("loss_curve") or []) if x is not None and math.isfinite(x)]
        return -losses[-1] if losses else None
    if not pts:
        return None
    if kind == "final":
        return pts[-1][1]
    if kind == "mean_last2":
        return sum(m for _, m in pts[-2:]) / len(pts[-2:])
    if kind == "auc":
        return sum(m for _, m in pts) / len(pts)
    if len(pts) < 2:
        return pts[-1][1]
    x = [1.0 / e for e, _ in pts]
    y = [m for _, m in pts]
    mx, my = sum(x) / len(x), sum(y) / len(y)
    sxx = sum((a - mx) ** 2 for a in x)
    slope = sum((a - mx) * (b - my) for a, b in zip(x, y, strict=True)) / sxx if sxx else 0.0
    return my - slope * mx  # the intercept at 1/epoch = 0
