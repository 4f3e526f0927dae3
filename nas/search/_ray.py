"""The same search through Ray Tune: ``ray.tune.Tuner`` with ``OptunaSearch`` on our study (so
the run folder has the same layout whichever runner ran it), trials scheduled on a local Ray
runtime or a cluster (``runners/ray-*.yaml``), ASHA early stopping for single-objective runs
and our cost-band pruner (on the shared study) for multi-objective ones.

The define-by-run function (in the driver) only walks the space; each Ray trial prices, gates
and trains its candidate with the same :class:`Evaluator` as the local runner, writing into the
shared study (a journal file in the run folder, or ``--storage``).
"""

from __future__ import annotations

import logging
import time
from typing import Any

import optuna
from optuna.trial import TrialState

from nas.errors import NasError
from nas.search._evaluate import A_ARCH, A_REASON, OptunaChooser
from nas.search._outputs import read_run, write_run
from nas.search._progress import make_progress
from nas.search._run import SearchResult, _evaluator, _finish, _tell, check_run_dir
from nas.search._runner import RunnerProfile
from nas.search._settings import SearchSettings
from nas.search._study import (
    counts,
    enqueue_random,
    enqueue_start,
    fail_stale_trials,
    make_sampler,
    make_storage,
    open_study,
)

__all__ = ["run_search_ray"]

_NUMBER = "trial_number"


def run_search_ray(settings: SearchSettings, profile: RunnerProfile, quiet: bool = False
                   ) -> SearchResult:
    """Run (or continue) the search on Ray; see :func:`nas.search.run_search` for the folder."""
    import ray
    from ray import tune
    from ray.tune.search.optuna import OptunaSearch

    from nas.space import load_space

    if settings.storage is None and not settings.storage_url.startswith("journal:"):
        raise NasError("the Ray runner needs a storage its workers can share: the default "
                       "journal file, or --storage postgresql://...")
    space = load_space(settings.space)
    resumed = check_run_dir(settings, space.hash)
    settings.run_dir.mkdir(parents=True, exist_ok=True)
    progress = make_progress(settings.run_dir, settings.name, quiet)
    evaluator, k = _evaluator(settings, space)
    del evaluator  # the trials build their own; this one only checked the data
    old = read_run(settings.run_dir).get("invocations", []) if resumed else []
    write_run(settings, space.hash, "running", {"invocations": old + [{
        "command": settings.command, "started": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "runner": profile.model_dump()}]})
    storage = make_storage(settings.storage_url)
    study = open_study(settings, storage)
    fail_stale_trials(study)
    if not study.user_attrs.get("queued"):
        from nas.search._baselines import baseline_archs

        enqueue_start(study, settings, space, baseline_archs(settings, k)
                      if settings.baselines else [], k)
    c = counts(study)
    todo = max(0, (settings.trials or 10**6) - c.trained) + c.baselines_left
    if settings.strategy == "random" and settings.budget.limits and settings.trials:
        # random search within the budget, drawn up front (no over-budget Ray trials)
        enqueue_random(study, settings, space, k, c.total + c.waiting, todo - c.waiting)
    logging.getLogger("ray.tune.search.optuna.optuna_search").setLevel(logging.ERROR)

    names = [o.name for o in settings.objective_list]
    searcher = OptunaSearch(
        space=_Walk(settings.space, k), metric=names if len(names) > 1 else names[0],
        mode=[d[:3] for d in settings.directions] if len(names) > 1 else
        settings.directions[0][:3], sampler=make_sampler(settings, 0, len(study.trials)),
        study_name=settings.name, storage=storage)
    scheduler = None
    if len(names) == 1:
        from ray.tune.schedulers import ASHAScheduler

        scheduler = ASHAScheduler(metric="epoch_miou", mode="max", time_attr="epoch",
                                  max_t=settings.schedule.epochs, grace_period=1)
    status = "finished"
    started_here = False
    try:
        if not ray.is_initialized():
            kwargs: dict[str, Any] = {"address": profile.address} if profile.address else {
                "num_cpus": max(1, int(profile.resources_per_trial.get("cpu", 1))
                                * profile.max_concurrent)}
            ray.init(log_to_driver=not quiet, include_dashboard=False,
                     logging_level=logging.WARNING, **kwargs)
            started_here = True
        trainable = tune.with_resources(
            tune.with_parameters(_ray_trial, settings=settings),
            {k_: v for k_, v in profile.resources_per_trial.items()})
        tuner = tune.Tuner(
            trainable,
            tune_config=tune.TuneConfig(
                search_alg=searcher, scheduler=scheduler, num_samples=todo,
                max_concurrent_trials=profile.max_concurrent,
                time_budget_s=settings.time_s),
            run_config=tune.RunConfig(
                name=settings.name, storage_path=str((settings.run_dir / "ray").resolve()),
                verbose=0 if quiet else 1),
        )
        if todo:
            tuner.fit()
    except KeyboardInterrupt:
        status = "interrupted"
    finally:
        if started_here:
            ray.shutdown()
        progress.close()
    _close_orphans(settings)
    return _finish(settings, space.hash, status, progress)


class _Walk:
    """The define-by-run function (picklable: Ray checkpoints the searcher)."""

    def __init__(self, space: str, num_classes: int) -> None:
        self.space, self.num_classes = space, num_classes

    def __call__(self, trial: Any) -> dict[str, Any]:
        from nas.space import load_space

        if A_ARCH not in trial.user_attrs:  # a baseline's architecture is fixed
            load_space(self.space).build(OptunaChooser(trial), num_classes=self.num_classes)
        return {_NUMBER: trial.number}


def _ray_trial(config: dict[str, Any], settings: SearchSettings) -> dict[str, Any] | None:
    """One Ray trial: the Optuna trial the driver asked (by number) priced, gated and trained
    by the local runner's Evaluator against the shared study."""
    from ray import tune

    from nas.space import load_space

    storage = make_storage(settings.storage_url)
    study = optuna.load_study(study_name=settings.name, storage=storage)
    trial_id = storage.get_trial_id_from_study_id_trial_number(
        storage.get_study_id_from_name(settings.name), int(config[_NUMBER]))
    trial = optuna.Trial(study, trial_id)
    evaluator, _ = _evaluator(settings, load_space(settings.space))
    single = len(settings.objective_list) == 1
    if single:  # ASHA sees the per-epoch score
        evaluator.on_epoch = lambda number, epoch, miou: tune.report(
            {"epoch_miou": float(miou or 0.0), "epoch": epoch})
    outcome = evaluator.evaluate(trial)
    if outcome.state in ("complete", "infeasible"):
        for key, value in outcome.attrs.items():
            trial.set_user_attr(key, value)
        if outcome.reason:
            trial.set_user_attr(A_REASON, outcome.reason)
        names = [o.name for o in settings.objective_list]
        return tune.report(dict(zip(names, outcome.values or [], strict=True)))
    _tell(study, trial, outcome)  # pruned / failed: told here; the searcher's late tell is moot
    return None


def _close_orphans(settings: SearchSettings) -> None:
    """Trials Ray never finished (stopped by the time budget or an interrupt) are failed."""
    storage = make_storage(settings.storage_url)
    study = optuna.load_study(study_name=settings.name, storage=storage)
    for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        storage.set_trial_user_attr(t._trial_id, A_REASON,  # noqa: SLF001
                                    "interrupted: the Ray run stopped while it ran")
        storage.set_trial_state_values(t._trial_id, TrialState.FAIL)  # noqa: SLF001
