"""One trial of the search: ask the space (define-by-run), price the candidate, gate it against
the budget, proxy-train it if it fits. Everything a report needs is stored on the trial as user
attributes, so the study alone holds the whole run.

``score`` (a public hook, ``run_search(..., score=f)``) replaces the proxy training by any
function of the ArchConfig (e.g. a planted objective in tests): the rest of the trial is the
same.
"""

from __future__ import annotations

import json
import logging
import math
import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import optuna

from nas.arch import ArchConfig
from nas.cost import estimate
from nas.proxy import Pruned, save_weights, train
from nas.search._pruner import FrontPruner, History
from nas.search._settings import SearchSettings
from nas.search._signals import no_interrupts
from nas.search._strategy import A_HASH, CONSTRAINTS_KEY, arch_hash

logging.getLogger("timm.scheduler.cosine_lr").setLevel(logging.ERROR)  # tiny schedules warn

logging.getLogger("timm.scheduler.cosine_lr").setLevel(logging.ERROR)  # tiny schedules warn

if TYPE_CHECKING:
    from nas.cost import LatencyTable
    from nas.data import SegData
    from nas.space import SearchSpace

__all__ = ["Evaluator", "OptunaChooser", "Outcome", "ScoreFn", "weights_path"]

State = Literal["complete", "pruned", "failed", "infeasible"]

# user attribute names (the trials table reads them back)
A_ARCH, A_COST, A_CONSTRAINTS = "arch_json", "cost", "constraints"
A_BASELINE, A_INFEASIBLE, A_REASON = "baseline", "infeasible", "reason"
A_EPOCHS, A_TRAINED, A_TRAINING, A_WORKER = "epoch_miou", "trained", "training", "worker"
A_RESULT = "result"
# units a candidate brings that the latency table lacks are timed before it trains: 3 untimed and
# 10 timed passes each, plus profile_units' re-check (nas profile times 5 + 20)
ON_THE_FLY_WARMUP, ON_THE_FLY_RUNS = 3, 10

ScoreFn = Callable[[ArchConfig], float]


class OptunaChooser:
    """The space's questions as Optuna suggestions: ``choose(label, choices)`` ->
    ``trial.suggest_categorical(label, choices)`` (conditional dimensions are simply not asked)."""

    def __init__(self, trial: optuna.Trial) -> None:
        self.trial = trial

    def choose(self, label: str, choices: Any) -> Any:
        return self.trial.suggest_categorical(label, list(choices))


@dataclass
class Outcome:
    state: State
    values: list[float] | None = None
    reason: str = ""
    attrs: dict[str, Any] = field(default_factory=dict)


def weights_path(run_dir: Path, number: int) -> Path:
    return Path(run_dir) / "weights" / f"trial-{number}.safetensors"


class Evaluator:
    """Prices, gates and trains the candidates of one worker process."""

    def __init__(
        self, settings: SearchSettings, space: SearchSpace, train_data: SegData,
        val_data: SegData, num_classes: int, latency_table: LatencyTable | None = None,
        pruner: FrontPruner | None = None,
        on_epoch: Callable[[int, int, float | None], None] | None = None,
        score: ScoreFn | None = None,
    ) -> None:
        self.settings, self.space = settings, space
        self.train_data, self.val_data, self.num_classes = train_data, val_data, num_classes
        self.table, self.pruner, self.on_epoch = latency_table, pruner, on_epoch
        self.budget = settings.budget
        self.objectives = settings.objective_list
        self.score = score
        self._trivial: float | None = None

    @property
    def trivial_miou(self) -> float:
        """The validation mIoU of the constant prediction (the training split's majority
        class everywhere): the pruner does not judge candidates still at it."""
        if self._trivial is None:
            from nas.proxy import constant_miou

            self._trivial = constant_miou(self.train_data.masks, self.val_data.masks,
                                          self.num_classes)
        return self._trivial

    # ------------------------------------------------------------------ the trial
    def arch_of(self, trial: optuna.Trial) -> ArchConfig:
        """A baseline's fixed architecture, or the space walked with the trial's suggestions."""
        if A_ARCH in trial.user_attrs:
            return ArchConfig.from_json(trial.user_attrs[A_ARCH])
        return self.space.build(OptunaChooser(trial), num_classes=self.num_classes)

    def price(self, arch: ArchConfig, exact: bool = False) -> dict[str, float]:
        """FLOPs and params (analytic, exact) and, with a latency table, the predicted latency.
        Proposals price at once: units the table lacks are estimated by its unit model.
        ``exact`` (the gate before training) times those units first and adds them to the
        table (a short timing: the table grows during the search without stalling it)."""
        cost = estimate(arch, self.settings.input_size)
        metrics: dict[str, float] = {"flops": cost.flops, "params": cost.params}
        if self.table is not None:
            from nas.cost import predict_latency

            before = len(self.table)
            metrics["latency_ms"] = predict_latency(
                arch, self.table, missing="measure" if exact else "model",
                warmup=ON_THE_FLY_WARMUP, runs=ON_THE_FLY_RUNS)
            if len(self.table) != before:
                self.table.save()
        return metrics

    def evaluate(self, trial: optuna.Trial) -> Outcome:
        t0 = time.time()
        with no_interrupts():
            trial.set_user_attr(A_WORKER, f"{socket.gethostname()}:{os.getpid()}")
        arch = self.arch_of(trial)
        metrics = self.price(arch, exact=True)
        constraints = list(self.budget.constraints(metrics)) if self.budget.limits else [0.0]
        with no_interrupts():
            trial.set_user_attr(A_ARCH, arch.to_json(indent=None))
            trial.set_user_attr(A_COST, metrics)
            trial.set_user_attr(A_CONSTRAINTS, constraints)
            if A_HASH not in trial.user_attrs:
                trial.set_user_attr(A_HASH, arch_hash(arch))
            # one write, in the list form that Optuna's samplers and optuna-dashboard both read
            trial.storage.set_trial_system_attr(
                trial._trial_id, CONSTRAINTS_KEY, tuple(constraints))  # noqa: SLF001
        if any(c > 0 for c in constraints):
            over = ", ".join(f"{lim.metric} {metrics[lim.metric]:.4g} > {lim.value:.4g}"
                             for lim, c in zip(self.budget.limits, constraints, strict=True)
                             if c > 0)
            # never trained: mIoU 0 and the constraint values, so that Optuna (constrained
            # domination, best_trials) and optuna-dashboard treat it as infeasible
            return Outcome("infeasible", self._values(0.0, metrics), f"over budget: {over}",
                           {A_INFEASIBLE: True})
        with no_interrupts():
            trial.set_user_attr(A_TRAINING, True)
        outcome = (self._train(trial, arch, metrics) if self.score is None
                   else self._planted(trial, arch, metrics))
        outcome.attrs[A_TRAINED] = True
        outcome.attrs["duration_s"] = time.time() - t0
        return outcome

    # ------------------------------------------------------------------ training
    def _train(self, trial: optuna.Trial, arch: ArchConfig, metrics: dict[str, float]) -> Outcome:
        epochs: list[float | None] = []
        costs = tuple(self._values(0.0, metrics)[1:])
        last = self.settings.schedule.epochs

        def callback(epoch: int, miou: float | None) -> None:
            epochs.append(miou)
            with no_interrupts():
                trial.set_user_attr(A_EPOCHS, list(epochs))
            if self.on_epoch is not None:
                self.on_epoch(trial.number, epoch, miou)
            if self.pruner is not None and not trial.user_attrs.get(A_BASELINE):
                reason = self.pruner.should_prune(epoch, miou, costs, self._history(trial),
                                                  last, trivial=self.trivial_miou)
                if reason:
                    raise Pruned(reason)

        result = train(arch, self.train_data, self.val_data, self.settings.schedule,
                       seed=self.settings.seed + trial.number, device=self.settings.device,
                       callback=callback, keep_model=True)
        summary = {k: v for k, v in result.to_dict().items()
                   if k in ("miou", "pixel_acc", "per_class_iou", "loss_curve", "epochs_run",
                            "steps", "train_s", "wall_s", "images_per_s", "status")}
        attrs: dict[str, Any] = {A_RESULT: _finite(summary), A_EPOCHS: _finite(epochs)}
        if result.status == "failed":
            return Outcome("failed", None, result.reason or "failed", attrs)
        if result.status == "pruned":
            return Outcome("pruned", None, result.reason or "pruned", attrs)
        if result.model is not None:
            save_weights(result.model, weights_path(self.settings.run_dir, trial.number),
                         metadata={"arch_json": arch.to_json(indent=None)})
        return Outcome("complete", self._values(float(result.miou), metrics), "", attrs)

    def _planted(self, trial: optuna.Trial, arch: ArchConfig, metrics: dict[str, float]
                 ) -> Outcome:
        """The ``score`` hook instead of proxy training (one "epoch": the score)."""
        value = float(self.score(arch))  # type: ignore[misc]
        attrs = {A_RESULT: {"miou": value, "epochs_run": 1, "status": "complete"},
                 A_EPOCHS: [value]}
        return Outcome("complete", self._values(value, metrics), "", attrs)

    def _history(self, trial: optuna.Trial) -> list[History]:
        done = trial.study.get_trials(
            deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,
                                    optuna.trial.TrialState.PRUNED))
        out = []
        for t in done:
            ep, cost = t.user_attrs.get(A_EPOCHS), t.user_attrs.get(A_COST)
            if ep and cost and t.user_attrs.get(A_TRAINED):
                out.append(History(tuple(self._values(0.0, cost)[1:]), tuple(ep)))
        return out

    def _values(self, miou: float, metrics: dict[str, float]) -> list[float]:
        """Objective values in the study's units: mIoU, GFLOPs, M params, ms."""
        return [miou if o.name == "miou" else o.display(float(metrics[o.name]))
                for o in self.objectives]


def _finite(value: Any) -> Any:
    """JSON-safe (no NaN/inf: Optuna stores user attributes as JSON)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return json.loads(json.dumps(value, default=str)) if not isinstance(
        value, (int, float, str, bool, type(None))) else value
