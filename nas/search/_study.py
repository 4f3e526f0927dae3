"""The Optuna side of a search: storage, sampler, the trials queued before sampling (baselines
and a feasible first population), counts, and the cleanup of trials left by a killed process."""

from __future__ import annotations

import logging
import os
import socket
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import optuna
from optuna.trial import TrialState

from nas.errors import NasError
from nas.search._evaluate import (
    A_BASELINE,
    A_INFEASIBLE,
    A_REASON,
    A_TRAINED,
    A_TRAINING,
    A_WORKER,
)
from nas.search._settings import SearchSettings

if TYPE_CHECKING:
    from nas.space import SearchSpace

__all__ = [
    "Counts",
    "counts",
    "enqueue_random",
    "enqueue_start",
    "fail_stale_trials",
    "make_sampler",
    "make_storage",
    "open_study",
]

optuna.logging.set_verbosity(logging.WARNING)


def make_storage(url: str) -> Any:
    """An Optuna storage for ``url``: ``journal:PATH`` is a journal file (safe for several
    processes, with a file lock), anything else goes to Optuna as an RDB URL."""
    if url.startswith("journal:"):
        from optuna.storages import JournalStorage
        from optuna.storages.journal import JournalFileBackend, JournalFileOpenLock

        path = url.removeprefix("journal:")
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        return JournalStorage(JournalFileBackend(path, lock_obj=JournalFileOpenLock(path)))
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        # a generous timeout: a second process waits for the lock instead of failing
        return optuna.storages.RDBStorage(url, engine_kwargs={"connect_args": {"timeout": 60}})
    try:
        return optuna.storages.RDBStorage(url)
    except Exception as exc:  # noqa: BLE001 - a bad URL is the user's input
        raise NasError(f"--storage {url!r}: {exc.__class__.__name__}: {exc}; give a SQLAlchemy "
                       "URL (sqlite:///path.db, postgresql://...) or journal:PATH") from None


def make_sampler(settings: SearchSettings, worker: int = 0, n_existing: int = 0):
    """The strategy's sampler, seeded from the run's seed, the worker index and the number of
    trials already in the study, so that a resumed or parallel worker does not replay the
    suggestions of an earlier one (optuna#3255) and the same history gives the same run."""
    seed = (settings.seed * 1_000_003 + worker * 7919 + n_existing * 104_729) % (2**31 - 1)
    if settings.strategy == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    if settings.strategy == "tpe":
        return optuna.samplers.TPESampler(seed=seed,
                                          n_startup_trials=min(10, settings.population_size),
                                          multivariate=False)
    return optuna.samplers.NSGAIISampler(
        seed=seed, population_size=settings.population_size)


def open_study(settings: SearchSettings, storage: Any, worker: int = 0) -> optuna.Study:
    probe = optuna.load_study(study_name=settings.name, storage=storage) if _exists(
        settings.name, storage) else None
    n_existing = len(probe.get_trials(deepcopy=False)) if probe is not None else 0
    study = optuna.create_study(
        study_name=settings.name, storage=storage, directions=settings.directions,
        sampler=make_sampler(settings, worker, n_existing), load_if_exists=True)
    if list(study.directions) != [optuna.study.StudyDirection[d.upper()]
                                  for d in settings.directions]:
        raise NasError(f"study {settings.name!r} in {settings.storage_url} optimises other "
                       "objectives; use another --name or the same --objectives")
    if probe is None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            study.set_metric_names([o.name for o in settings.objective_list])
    return study


def _exists(name: str, storage: Any) -> bool:
    return any(s.study_name == name for s in optuna.get_all_study_summaries(storage))


def enqueue_start(study: optuna.Study, settings: SearchSettings, space: SearchSpace,
                  baselines: list[tuple[str, Any]], num_classes: int) -> int:
    """Queue, once per study, the baselines (fixed architectures) and candidates drawn inside
    the budget (``sample_within``): the learning strategies' first population (so that it is
    feasible instead of 4% of random draws), or for random search as many draws as baselines.
    The two are interleaved, a search candidate first, so that a run stopped early by --time
    holds both. Returns how many were queued."""
    if study.user_attrs.get("queued"):
        return 0
    seeded: list[dict[str, Any]] = []
    if settings.budget.limits:
        from nas.cost import BudgetInfeasibleError

        count = len(baselines) if settings.strategy == "random" else settings.population_size
        if settings.trials is not None:  # never queue more candidates than the target
            count = min(count, settings.trials)
        for i in range(count):
            try:
                arch = space.sample_within(settings.budget, seed=settings.seed * 10_007 + i,
                                           input_size=settings.input_size,
                                           num_classes=num_classes)
            except BudgetInfeasibleError:
                break  # the gate will say so on the first trial
            params = space.params(arch)
            if params is not None:
                seeded.append(params)
    base = [{A_BASELINE: name, "arch_json": arch.to_json(indent=None)}
            for name, arch in baselines]
    n = 0
    for i in range(max(len(seeded), len(base))):
        if i < len(seeded):
            study.enqueue_trial(seeded[i], user_attrs={"seeded": True})
            n += 1
        if i < len(base):
            study.enqueue_trial({}, user_attrs=base[i])
            n += 1
    study.set_user_attr("queued", n)
    return n


def enqueue_random(study: optuna.Study, settings: SearchSettings, space: SearchSpace,
                   num_classes: int, start: int, count: int = 1, worker: int = 0) -> int:
    """Random search within the budget: uniform draws of the space priced analytically and
    redrawn until they fit (``sample_within``, microseconds per draw), queued as the next
    trials, instead of thousands of over-budget Optuna trials. Seeds follow from the run's
    seed, ``start`` (trials so far) and ``worker``, so a resumed run draws new candidates."""
    from nas.cost import BudgetInfeasibleError

    n = 0
    for i in range(start, start + count):
        seed = (settings.seed * 1_000_003 + i * 7919 + worker * 104_729) % (2**31 - 1)
        try:
            arch = space.sample_within(settings.budget, seed, settings.input_size,
                                       num_classes=num_classes)
        except BudgetInfeasibleError:
            return n  # the first trial then shows the gate's verdict
        params = space.params(arch)
        if params is not None:
            study.enqueue_trial(params, user_attrs={"seeded": True})
            n += 1
    return n


@dataclass(frozen=True)
class Counts:
    trained: int = 0  # proxy-trained search candidates (complete, pruned or failed)
    complete: int = 0
    pruned: int = 0
    failed: int = 0
    infeasible: int = 0
    running: int = 0
    waiting: int = 0
    baselines_left: int = 0
    interrupted: int = 0

    @property
    def total(self) -> int:
        return self.complete + self.pruned + self.failed + self.infeasible


def counts(study: optuna.Study | Sequence[optuna.trial.FrozenTrial]) -> Counts:
    """Trial counts of a study (or of its trials, already read)."""
    trials = study.get_trials(deepcopy=False) if isinstance(study, optuna.Study) else study
    c: dict[str, int] = dict.fromkeys(Counts.__dataclass_fields__, 0)
    for t in trials:
        ua = t.user_attrs
        base = bool(ua.get(A_BASELINE))
        if t.state == TrialState.WAITING:
            c["waiting"] += 1
            c["baselines_left"] += base
            continue
        if t.state == TrialState.RUNNING:
            c["running"] += 1
            c["trained"] += bool(ua.get(A_TRAINING)) and not base
            c["baselines_left"] += base
            continue
        if ua.get(A_INFEASIBLE):
            c["infeasible"] += 1
            continue
        if str(ua.get(A_REASON, "")).startswith("interrupted"):
            c["interrupted"] += 1
            continue
        key = {TrialState.COMPLETE: "complete", TrialState.PRUNED: "pruned",
               TrialState.FAIL: "failed"}.get(t.state)
        if key:
            c[key] += 1
            c["trained"] += bool(ua.get(A_TRAINED)) and not base
    return Counts(**c)


def fail_stale_trials(study: optuna.Study) -> list[int]:
    """Mark RUNNING trials of dead processes on this host as failed ("interrupted") so that a
    resumed search neither counts nor repeats them. Trials of live processes (another worker)
    and of other hosts are left alone."""
    host, out = socket.gethostname(), []
    for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        worker = str(t.user_attrs.get(A_WORKER, ""))
        whost, _, pid = worker.rpartition(":")
        if worker and (whost != host or _alive(int(pid))):
            continue
        if not worker and t.datetime_start is not None and (
                datetime.now() - t.datetime_start).total_seconds() < 120:
            continue  # just asked by a live worker that has not written its id yet
        study._storage.set_trial_user_attr(  # noqa: SLF001 - no public API for a frozen trial
            t._trial_id, A_REASON, "interrupted: the process running it was killed")
        study._storage.set_trial_state_values(t._trial_id, TrialState.FAIL)  # noqa: SLF001
        out.append(t.number)
    return out


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
