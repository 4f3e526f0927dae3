"""Pruning for multi-objective searches: stop a candidate only when cheaper-or-equal candidates
already beat it clearly at the same epoch.

Optuna's pruners and Ray's schedulers rank trials by one number (optuna#3450, ray#8018); with
mIoU against cost, that would kill every cheap candidate because an expensive one learns faster.
:class:`FrontPruner` compares a candidate at epoch ``e`` only with earlier trials that cost no
more in every cost objective (FLOPs, params, latency: whichever the search minimises) and prunes
it when at least ``min_dominators`` of them had a validation mIoU at epoch ``e`` higher by more
than ``margin``, i.e. when it is dominated at that epoch by a clear margin, several times over.
A cheap candidate can therefore only be pruned by candidates at least as cheap.

A candidate whose score is still at the trivial solution (``trivial``: the mIoU of predicting the
majority class everywhere, :func:`nas.proxy.constant_miou`; within ``trivial_margin`` of it) is
not judged at all: many networks sit there for the first epochs and then leave it, so pruning
them then would rank how fast a network leaves the constant prediction, not how good it becomes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

__all__ = ["FrontPruner", "History"]


@dataclass(frozen=True)
class History:
    """What the pruner knows of an earlier trial: its costs (same order as the candidate's) and
    its validation mIoU after each epoch (``None`` where not evaluated)."""

    costs: tuple[float, ...]
    epoch_miou: tuple[float | None, ...]


@dataclass(frozen=True)
class FrontPruner:
    margin: float = 0.02  # mIoU points (0..1 scale) a dominator must be ahead by
    min_dominators: int = 2  # how many cheaper-or-equal trials must be ahead
    min_history: int = 6  # no pruning before this many trials reached the epoch
    warmup_epochs: int = 1  # never prune at or before this epoch
    trivial_margin: float = 0.01  # a score within this of the trivial one is not judged

    def should_prune(
        self, epoch: int, miou: float | None, costs: Sequence[float], history: Iterable[History],
        last_epoch: int, trivial: float | None = None,
    ) -> str | None:
        """The reason to prune the candidate now, or None to let it go on. Never prunes at the
        last epoch (the run is finished then anyway), during the warm-up epochs, or while the
        candidate's mIoU is at most ``trivial + trivial_margin`` (not started learning yet)."""
        if miou is None or epoch <= self.warmup_epochs or epoch >= last_epoch:
            return None
        if trivial is not None and miou <= trivial + self.trivial_margin:
            return None
        reached = [h for h in history
                   if len(h.epoch_miou) >= epoch and h.epoch_miou[epoch - 1] is not None]
        if len(reached) < self.min_history:
            return None
        ahead = [h for h in reached
                 if all(c <= own for c, own in zip(h.costs, costs, strict=True))
                 and h.epoch_miou[epoch - 1] > miou + self.margin]  # type: ignore[operator]
        if len(ahead) < self.min_dominators:
            return None
        best = max(h.epoch_miou[epoch - 1] for h in ahead)  # type: ignore[type-var]
        return (f"pruned at epoch {epoch}: mIoU {miou:.3f}, while {len(ahead)} earlier trials "
                f"at no higher cost reached up to {best:.3f} by then")
