"""The same search through Ray Tune: ``ray.tune.Tuner`` driven by the run's strategy object
(the one the local runner uses, wrapped as a Tune ``Searcher``), trials scheduled on a local
Ray runtime or a cluster (``runners/ray-*.yaml``), ASHA early stopping for single-objective runs
and our cost-band pruner (on the shared study) for multi-objective ones.

The searcher (in the driver) asks the strategy for a proposal, queues it in the study and asks
it; each Ray trial prices, gates and trains that candidate with the same :class:`Evaluator` as
the local runner and tells the shared study (a journal file in the run folder, or ``--storage``).
The run starts with the same prologue as the local runner (``nas.search._run.prologue``).
"""

from __future__ import annotations

import logging
from typing import Any

import optuna
from optuna.trial import TrialState

from nas.errors import NasError
from nas.search._evaluate import A_REASON, ScoreFn
from nas.search._progress import make_progress
from nas.search._prologue import make_evaluator, prologue
from nas.search._run import SearchResult, _finish, _sampler_attrs, _tell
from nas.search._runner import RunnerProfile
from nas.search._settings import SearchSettings
from nas.search._strategy import Strategy
from nas.search._study import counts, enqueue, make_storage, storage_seconds

__all__ = ["run_search_ray"]

_NUMBER = "trial_number"


def run_search_ray(settings: SearchSettings, profile: RunnerProfile, quiet: bool = False,
                   score: ScoreFn | None = None) -> SearchResult:
    """Run (or continue) the search on Ray; see :func:`nas.search.run_search` for the folder."""
    import ray
    from ray import tune

    if settings.storage is not None and settings.storage.startswith("sqlite"):
        raise NasError("the Ray runner needs a storage its workers can share: the default "
                       "journal file, or --storage postgresql://...")
    storage0 = storage_seconds()
    pro = prologue(settings, quiet, runner=profile.model_dump(), score=score)
    pro.progress.close()
    c = counts(pro.study)
    todo = max(0, (settings.trials or 10**6) - c.trained) + c.baselines_left
    logging.getLogger("ray.tune").setLevel(logging.ERROR)
    names = [o.name for o in settings.objective_list]
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
            tune.with_parameters(_ray_trial, settings=settings, score=score),
            {k_: v for k_, v in profile.resources_per_trial.items()})
        tuner = tune.Tuner(
            trainable,
            tune_config=tune.TuneConfig(
                search_alg=_searcher(settings, pro.strategy, pro.study), scheduler=scheduler,
                num_samples=todo, max_concurrent_trials=profile.max_concurrent,
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
    _close_orphans(settings)
    return _finish(settings, pro.space.hash, status,
                   make_progress(settings.run_dir, settings.name, quiet=True), storage0)


_LIVE: dict[str, tuple[Strategy, optuna.Study]] = {}  # the driver's objects, by searcher key


def _searcher(settings: SearchSettings, strategy: Strategy, study: optuna.Study) -> Any:
    """The strategy as a Ray Tune ``Searcher``: each ``suggest`` is one proposal, queued and
    asked in the study; the trial number is the whole config. Tune pickles its searcher with
    the experiment's state: the searcher holds only a key to the driver's strategy and study."""
    import uuid

    from ray.tune.search import Searcher

    key = f"{settings.name}-{uuid.uuid4().hex}"
    _LIVE[key] = (strategy, study)

    class StrategySearcher(Searcher):
        def __init__(self) -> None:
            super().__init__()
            self.key = key

        def set_search_properties(self, metric, mode, config, **spec) -> bool:
            return True  # the strategy reads the study, not Tune's metric

        def suggest(self, trial_id: str) -> dict[str, Any] | None:
            strategy, study = _LIVE[self.key]
            trials = study.get_trials(deepcopy=False)
            if counts(trials).waiting == 0:
                strategy.observe(trials)
                prop = strategy.propose(study, trials)
                if prop is None:
                    return Searcher.FINISHED
                enqueue(study, strategy.ctx.space, prop, strategy.ctx.num_classes)
            trial = study.ask()
            _sampler_attrs(trial)
            return {_NUMBER: trial.number}

        def on_trial_complete(self, trial_id: str, result: dict | None = None,
                              error: bool = False) -> None:
            """Nothing: the trial told the study itself."""

        def save(self, checkpoint_path: str) -> None:
            """Nothing to save: the study is the store."""

        def restore(self, checkpoint_path: str) -> None:
            """Nothing to restore: the study is the store."""

    return StrategySearcher()


def _ray_trial(config: dict[str, Any], settings: SearchSettings,
               score: ScoreFn | None = None) -> None:
    """One Ray trial: the Optuna trial the driver asked (by number) priced, gated, trained and
    told by the local runner's Evaluator against the shared study."""
    from ray import tune

    from nas.space import load_space

    storage = make_storage(settings.storage_url)
    study = optuna.load_study(study_name=settings.name, storage=storage)
    trial_id = storage.get_trial_id_from_study_id_trial_number(
        storage.get_study_id_from_name(settings.name), int(config[_NUMBER]))
    trial = optuna.Trial(study, trial_id)
    evaluator = make_evaluator(settings, load_space(settings.space), score)
    if len(settings.objective_list) == 1:  # ASHA sees the per-epoch score
        evaluator.on_epoch = lambda number, epoch, miou: tune.report(
            {"epoch_miou": float(miou or 0.0), "epoch": epoch})
    outcome = evaluator.evaluate(trial)
    _tell(study, trial, outcome)


def _close_orphans(settings: SearchSettings) -> None:
    """Trials Ray never finished (stopped by the time budget or an interrupt) are failed."""
    storage = make_storage(settings.storage_url)
    study = optuna.load_study(study_name=settings.name, storage=storage)
    for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        storage.set_trial_user_attr(t._trial_id, A_REASON,  # noqa: SLF001
                                    "interrupted: the Ray run stopped while it ran")
        storage.set_trial_state_values(t._trial_id, TrialState.FAIL)  # noqa: SLF001
