"""The Optuna side of a search: storage, the study, the trials queued (baselines, the first
population, each proposal), counts, and the cleanup of trials left by a killed process."""

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
from optuna.distributions import CategoricalDistribution
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
from nas.search._signals import no_interrupts
from nas.search._strategy import A_DUPLICATE, A_HASH, Proposal, Strategy, arch_hash, seen_hashes
from nas.space import FixedChooser

if TYPE_CHECKING:
    from nas.space import SearchSpace

__all__ = [
    "Counts",
    "counts",
    "enqueue",
    "enqueue_start",
    "fail_stale_trials",
    "make_storage",
    "open_study",
    "storage_seconds",
]

optuna.logging.set_verbosity(logging.WARNING)


_STORAGE_S = [0.0]  # seconds this process spent in storage calls (``storage_seconds``)


def storage_seconds() -> float:
    """Seconds this process has spent inside the storages made by :func:`make_storage`."""
    return _STORAGE_S[0]


def _timed(storage: Any) -> Any:
    """Count the time of every public storage call (instance attributes shadow the methods)."""
    import time
    from functools import wraps

    def wrap(fn):
        @wraps(fn)
        def call(*args, **kwargs):
            t0 = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                _STORAGE_S[0] += time.perf_counter() - t0
        return call

    for name in dir(optuna.storages.BaseStorage):
        if not name.startswith("_") and callable(getattr(storage, name, None)):
            setattr(storage, name, wrap(getattr(storage, name)))
    return storage


def make_storage(url: str) -> Any:
    """An Optuna storage for ``url``: ``journal:PATH`` is a journal file (safe for several
    processes, with a file lock), anything else goes to Optuna as an RDB URL. Its calls are
    timed (:func:`storage_seconds`)."""
    return _timed(_make_storage(url))


def _make_storage(url: str) -> Any:
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


def open_study(settings: SearchSettings, storage: Any, strategy: Strategy) -> optuna.Study:
    """The run's study; its sampler only replays the fixed parameters of the proposals (the
    strategy proposes), seeded from the number of trials so far (optuna#3255)."""
    probe = optuna.load_study(study_name=settings.name, storage=storage) if _exists(
        settings.name, storage) else None
    n_existing = len(probe.get_trials(deepcopy=False)) if probe is not None else 0
    study = optuna.create_study(
        study_name=settings.name, storage=storage, directions=settings.directions,
        sampler=strategy.sampler(n_existing), load_if_exists=True)
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


def enqueue(study: optuna.Study, space: SearchSpace, prop: Proposal,
            num_classes: int) -> None:
    """Queue a proposal as a WAITING trial that already holds its parameters (one storage
    write; asking it then needs no per-parameter write)."""
    choices: dict[str, list[Any]] = {}

    class _Record:
        def choose(self, label: str, offered: Any) -> Any:
            choices[label] = list(offered)
            return FixedChooser(prop.params).choose(label, offered)

    space.build(_Record(), num_classes=num_classes)
    template = optuna.trial.create_trial(
        state=TrialState.WAITING, params={k: prop.params[k] for k in choices},
        distributions={k: CategoricalDistribution(v) for k, v in choices.items()},
        user_attrs=prop.attrs)
    with no_interrupts():
        study._storage.create_new_trial(study._study_id, template_trial=template)  # noqa: SLF001


def enqueue_start(study: optuna.Study, settings: SearchSettings, strategy: Strategy,
                  baselines: list[tuple[str, Any]]) -> int:
    """Queue, once per study, the baselines (fixed architectures: with their parameters when
    they are points of the space, so the strategies see them as such) and the strategy's first
    population drawn inside the budget (for random search, as many draws as baselines). The two
    are interleaved, a search candidate first, so that a run stopped early by --time holds both.
    Returns how many were queued."""
    if study.user_attrs.get("queued"):
        return 0
    ctx = strategy.ctx
    seen = seen_hashes(study.get_trials(deepcopy=False))
    count = len(baselines) if settings.strategy == "random" else settings.population_size
    if settings.trials is not None:  # never queue more candidates than the target
        count = min(count, settings.trials)
    seeded = strategy.first(count, seen)
    base: list[Proposal | dict[str, Any]] = []
    for name, arch in baselines:
        params = ctx.space.params(arch)
        if params is not None:
            base.append(Proposal(params, {A_BASELINE: name, A_HASH: arch_hash(arch)}))
        else:
            base.append({A_BASELINE: name, "arch_json": arch.to_json(indent=None),
                         A_HASH: arch_hash(arch)})
    n = 0
    for i in range(max(len(seeded), len(base))):
        for items in (seeded, base):
            if i < len(items):
                item = items[i]
                if isinstance(item, Proposal):
                    enqueue(study, ctx.space, item, ctx.num_classes)
                else:
                    study.enqueue_trial({}, user_attrs=item)
                n += 1
    study.set_user_attr("queued", n)
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
        if ua.get(A_DUPLICATE) is not None:
            continue  # dropped before training: another worker had proposed the same network
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
