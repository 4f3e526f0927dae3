"""Which architecture parameters mattered: Optuna's importance evaluator on the run's study.

Only scored search trials count (no baselines, no infeasible or pruned ones). They are copied
into an in-memory study so the evaluator sees exactly those. Optuna's default evaluator
(PED-ANOVA) handles conditional parameters, which a define-by-run space is full of. When the
study cannot be read or holds too few trials, the result carries the reason instead.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from nas.errors import NasError
from nas.record import study_storage

if TYPE_CHECKING:
    from nas.report._run import RunData

__all__ = ["MIN_TRIALS", "Importance", "load_study", "param_importance"]

MIN_TRIALS = 8


@dataclass
class Importance:
    """``targets``: target name -> {parameter: importance (sums to 1)}, most important first."""

    evaluator: str
    targets: dict[str, dict[str, float]]
    n_trials: int
    reason: str | None = None


def load_study(run: RunData) -> Any:
    """The run's Optuna study (``study.db``, else ``study.journal``); NasError-free: returns
    ``(study, None)`` or ``(None, reason)``."""
    import optuna

    name = run.info.get("study_name") or run.info.get("name") or run.name
    try:
        try:
            storage = study_storage(run.run_dir, final_first=True)
        except NasError as exc:
            return None, str(exc)
        names = optuna.study.get_all_study_names(storage=storage)
        if name not in names:
            if len(names) != 1:
                return None, f"no study named {name!r} in the storage (found {names})"
            name = names[0]
        return optuna.load_study(study_name=name, storage=storage), None
    except Exception as exc:  # a locked or corrupt database: say so, the report goes on
        return None, f"cannot read the study ({type(exc).__name__}: {exc})"


def param_importance(run: RunData, min_trials: int = MIN_TRIALS) -> Importance:
    """Importances for reaching the front (all objectives) and for each objective alone."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study, reason = load_study(run)
    if study is None:
        return Importance("", {}, 0, reason)
    baseline_numbers = set(run.baselines["number"].astype(int))
    trials = [t for t in study.get_trials(deepcopy=False)
              if t.state == optuna.trial.TrialState.COMPLETE and t.values is not None
              and t.number not in baseline_numbers and not t.user_attrs.get("baseline")
              and not t.user_attrs.get("infeasible") and t.params
              and all(v is not None and math.isfinite(v) for v in t.values)]
    n = len(trials)
    if n < min_trials:
        return Importance("", {}, n, f"only {n} scored search trials (needs {min_trials}); "
                          "run more trials to see which parameters matter")
    names = _objective_names(run, study)
    copy = optuna.create_study(directions=study.directions)
    copy.add_trials(trials)
    q = min(0.5, max(0.1, 2.5 / n))
    evaluator = optuna.importance.PedAnovaImportanceEvaluator(target_quantile=q)
    label = f"PED-ANOVA (Optuna), top {q:.0%} of {n} scored search trials"
    targets: dict[str, dict[str, float]] = {}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if len(study.directions) > 1:
                targets["front (all objectives)"] = _run(copy, evaluator, None)
            for i, (nm, d) in enumerate(zip(names, study.directions)):
                sign = -1.0 if d == optuna.study.StudyDirection.MAXIMIZE else 1.0
                targets[nm] = _run(copy, evaluator, lambda t, i=i, s=sign: s * t.values[i])
    except Exception as exc:
        return Importance(label, targets, n, f"the evaluator failed ({type(exc).__name__}: "
                          f"{exc})")
    targets = {k: v for k, v in targets.items() if v}
    if not targets:
        return Importance(label, {}, n, "every parameter was constant over the scored trials")
    return Importance(label, targets, n)


def _run(study: Any, evaluator: Any, target: Any) -> dict[str, float]:
    import optuna

    res = optuna.importance.get_param_importances(study, evaluator=evaluator, target=target)
    return {k: float(v) for k, v in res.items() if math.isfinite(v)}


def _objective_names(run: RunData, study: Any) -> list[str]:
    labels = {"miou": "mIoU", "flops": "FLOPs", "params": "params", "latency_ms": "latency",
              "latency": "latency"}
    metric = list(study.metric_names or [])
    if len(metric) == len(study.directions) and all(metric):
        return [labels.get(m, m) for m in metric]
    if len(run.objectives) == len(study.directions):
        return [labels.get(o.name, o.name) for o in run.objectives]
    return [f"objective {i}" for i in range(len(study.directions))]
