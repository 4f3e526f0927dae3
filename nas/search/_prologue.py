"""The start of a run, shared by both runners: the folder checks (continue or refuse), the
budget's feasibility (refused before anything is written), run.json's invocation record, the
study, stale trials of a killed process, and the first queue (baselines, first population)."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import optuna

from nas.errors import NasError
from nas.search._evaluate import Evaluator, ScoreFn
from nas.search._outputs import RUN_FILE, read_run, write_run
from nas.search._progress import Progress, make_progress
from nas.search._pruner import FrontPruner
from nas.search._settings import SearchSettings
from nas.search._strategy import SearchContext, Strategy, make_strategy
from nas.search._study import enqueue_start, fail_stale_trials, make_storage, open_study

__all__ = ["Prologue", "check_feasible", "check_run_dir", "make_evaluator", "prologue",
           "strategy_context"]

# settings that must match for a run folder to be continued
# (the proxy schedule too, threads aside: the scores of both parts must be comparable)
_SAME = ("space", "space_hash", "input", "budgets", "objectives", "data", "strategy", "schedule")


@dataclass
class Prologue:
    """What both runners start from."""

    space: Any
    resumed: bool
    progress: Progress
    evaluator: Evaluator
    strategy: Strategy
    study: optuna.Study


def check_run_dir(settings: SearchSettings, space_hash: str) -> bool:
    """True when the run folder holds an earlier run of the same search (to be continued);
    NasError when it holds something else, or when --resume finds nothing."""
    run_dir = settings.run_dir
    if not (run_dir / RUN_FILE).exists():
        if settings.resume:
            raise NasError(f"--resume: {run_dir} holds no search (no {RUN_FILE}); start it "
                           "without --resume")
        if run_dir.exists() and not run_dir.is_dir():
            raise NasError(f"--out {run_dir} exists and is not a folder; choose another --out")
        if run_dir.is_dir() and any(p.name != "search.log" for p in run_dir.iterdir()):
            raise NasError(f"{run_dir} is not empty and holds no search; choose another --name "
                           "or --out")
        return False
    old = read_run(run_dir)
    new = {"space": settings.space, "space_hash": space_hash, "input":
           list(settings.input_size), "budgets": list(settings.budgets),
           "objectives": [o.name for o in settings.objective_list], "data": settings.data,
           "strategy": settings.strategy, "schedule": _proxy_fields(settings.schedule.to_dict())}
    old_view = {**{k: old.get(k) for k in _SAME},
                "objectives": [o["name"] for o in old.get("objectives", [])],
                # folders written before run.json recorded the schedule are not checked for it
                "schedule": _proxy_fields(old["schedule"]) if "schedule" in old
                else new["schedule"]}
    diff = [k for k in _SAME if old_view.get(k) != new[k]]
    if diff:
        k = diff[0]
        raise NasError(f"{run_dir} holds a search with other settings ({k}: {old_view[k]!r}, "
                       f"now {new[k]!r}); repeat the same settings to continue it, or choose "
                       "another --name")
    return True


def _proxy_fields(schedule: dict) -> dict:
    """A stored schedule as it bears on the scores: the thread count does not."""
    return {k: v for k, v in json.loads(json.dumps(schedule)).items() if k != "threads"}


def prologue(settings: SearchSettings, quiet: bool, runner: dict[str, Any] | None = None,
             score: ScoreFn | None = None) -> Prologue:
    """The start of a run, for every runner: check the folder (continue or refuse), check that
    the budget can be met (refused before anything is written), then record the invocation in
    run.json, open the study, fail the trials a killed process left RUNNING, and queue the
    baselines and the first population once per study."""
    from nas.space import load_space

    space = load_space(settings.space)
    resumed = check_run_dir(settings, space.hash)
    evaluator = make_evaluator(settings, space, score)
    strategy = make_strategy(strategy_context(settings, evaluator))
    check_feasible(strategy.ctx)
    settings.run_dir.mkdir(parents=True, exist_ok=True)
    progress = make_progress(settings.run_dir, settings.name, quiet)
    old = read_run(settings.run_dir).get("invocations", []) if resumed else []
    write_run(settings, space.hash, "running", {"invocations": old + [{
        "command": settings.command or " ".join(sys.argv), "started": _now(),
        **({"runner": runner} if runner else {})}]})
    study = open_study(settings, make_storage(settings.storage_url), strategy)
    if evaluator.table is not None:
        _seed_latency_table(evaluator, progress)
    stale = fail_stale_trials(study)
    if stale:
        progress.event(f"marked {len(stale)} trial(s) of a killed run as failed: {stale}")
    if not study.user_attrs.get("queued"):
        from nas.search._baselines import baseline_archs

        base = baseline_archs(settings, evaluator.num_classes) if settings.baselines else []
        n = enqueue_start(study, settings, strategy, base)
        progress.event(f"queued {len(base)} baselines and {n - len(base)} seeded "
                       "in-budget candidates")
    progress.event(f"{'resuming' if resumed else 'starting'} {settings.name}: "
                   f"{settings.strategy} on {settings.space}, budget "
                   f"{', '.join(settings.budgets) or 'none'} at "
                   f"{settings.input_size[0]}x{settings.input_size[1]}, data "
                   f"{settings.data}, storage {settings.storage_url}")
    return Prologue(space, resumed, progress, evaluator, strategy, study)


def _seed_latency_table(evaluator: Evaluator, progress: Any) -> None:
    """Say which latency table the run prices with; a table too small for the unit model (a
    device used for the first time) is seeded with the units of the two smallest references
    (afformer_tiny, afformer_small), timed briefly (1 + 3 passes each), so that proposals are
    priced at once from the start; the units of the candidates that train are timed properly
    later."""
    from nas.arch import load_arch
    from nas.cost import UnitModel, profile_units
    from nas.models import units

    table, size = evaluator.table, evaluator.settings.input_size
    if UnitModel.fit(table) is None:
        progress.event(f"latency: no table for {table.fingerprint} at {size[0]}x{size[1]} yet; "
                       "timing the units of afformer_tiny and afformer_small (once per machine)")
        parts = [u for name in ("afformer_tiny", "afformer_small") for u in units(
            load_arch(name).model_copy(update={"num_classes": evaluator.num_classes}), size)]
        profile_units(parts, table, warmup=1, runs=3, verify=False)
        table.save()
    progress.event(f"latency: {len(table)} units in {table.path}; a candidate's new units are "
                   "estimated by the unit model when proposed and timed before it trains")


def check_feasible(ctx: SearchContext) -> None:
    """NasError (one line, the cheapest architecture's cost) when no architecture of the space
    meets the budget's FLOPs/params limits."""
    from nas.cost import BudgetInfeasibleError

    if not ctx.static_budget().limits:
        return
    try:
        ctx.draw_within(ctx.settings.seed)
    except BudgetInfeasibleError as exc:
        raise NasError(f"--budget {', '.join(ctx.settings.budgets)}: {exc}") from None


def strategy_context(settings: SearchSettings, evaluator: Evaluator, worker: int = 0
                      ) -> SearchContext:
    return SearchContext(settings, evaluator.space, evaluator.num_classes, evaluator.price,
                         worker)


def make_evaluator(settings: SearchSettings, space: Any, score: ScoreFn | None = None
               ) -> Evaluator:
    from nas.proxy import load_splits

    train_data, val_data = load_splits(settings.data, settings.val_data, settings.schedule)
    k = max(train_data.num_classes, val_data.num_classes)
    table = None
    if settings.needs_latency:
        from nas.cost import LatencyTable

        table = LatencyTable.open(settings.latency_dir, settings.latency_on,
                                  settings.schedule.threads, settings.input_size)
    pruner = FrontPruner() if settings.pruning else None
    return Evaluator(settings, space, train_data, val_data, k, table, pruner, score=score)




def _now() -> str:
    return datetime.now().isoformat(timespec="seconds")
