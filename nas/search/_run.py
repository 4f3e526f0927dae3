"""``run_search``: the search, on the runner its settings name (this machine, one or several
worker processes on one storage; or Ray, ``_ray``), with resume, clean stops on SIGINT/SIGTERM
and the run folder kept up to date. Both runners share :func:`prologue` (folder checks, the
budget's feasibility, run.json, stale trials, the first queue) and drive the same strategy
objects (``_strategy``)."""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import signal
import time
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import optuna
import pandas as pd
from optuna.trial import TrialState

from nas.errors import NasError
from nas.record import STUDY_DB
from nas.search._evaluate import (
    A_INFEASIBLE,
    A_REASON,
    A_TRAINED,
    Evaluator,
    Outcome,
    ScoreFn,
)
from nas.search._evolution import surrogate_summary
from nas.search._outputs import write_outputs, write_run
from nas.search._progress import Progress, Snapshot, make_progress
from nas.search._prologue import make_evaluator, prologue, strategy_context
from nas.search._settings import SearchSettings
from nas.search._signals import no_interrupts, threading_main
from nas.search._strategy import (
    A_DRAWS,
    A_DUPLICATE,
    A_HASH,
    A_SAMPLER,
    Strategy,
    make_strategy,
)
from nas.search._study import (
    Counts,
    counts,
    enqueue,
    make_storage,
    open_study,
    storage_seconds,
)

__all__ = ["SearchResult", "run_search"]

@dataclass
class SearchResult:
    run_dir: Path
    status: str  # finished | interrupted | stopped
    counts: Counts
    trials: pd.DataFrame


@dataclass
class _Context:
    settings: SearchSettings
    evaluator: Evaluator
    strategy: Strategy
    start: float
    worker: int = 0


def run_search(settings: SearchSettings, quiet: bool = False, score: ScoreFn | None = None
               ) -> SearchResult:
    """Run (or continue) the search described by ``settings`` on the runner it names
    (``settings.runner``: a local profile here, a Ray profile through Ray Tune); return what it
    left. ``score`` replaces proxy training by a function of the ArchConfig (see ``Evaluator``).
    """
    profile = settings.runner_profile
    if profile.kind == "ray":
        from nas.search._ray import run_search_ray

        return run_search_ray(settings, profile, quiet=quiet, score=score)
    status, procs = "interrupted", []
    progress: Progress | None = None
    storage0 = storage_seconds()
    try:
        with _term_as_interrupt():
            pro = prologue(settings, quiet, score=score)
            progress = pro.progress
            procs = [_spawn(settings, i) for i in range(1, settings.workers)]
            status = _work(_Context(settings, pro.evaluator, pro.strategy, time.monotonic()),
                           pro.study, progress)
    except KeyboardInterrupt:
        status = "interrupted"
        if progress is not None:
            progress.event("interrupted: finishing cleanly (the running trial is marked failed)")
    finally:
        for p in procs:
            if p.is_alive() and status == "interrupted":
                os.kill(p.pid, signal.SIGINT)
        for p in procs:
            p.join()
        if progress is not None:
            progress.close()
    if progress is None:  # interrupted before anything was written
        raise KeyboardInterrupt
    return _finish(settings, pro.space.hash, status, progress, storage0)


def _finish(settings: SearchSettings, space_hash: str, status: str, progress: Progress,
            storage0: float = 0.0) -> SearchResult:
    """Write the outputs and run.json (with the seconds this invocation's process spent in
    storage, the proposals' counters and the surrogate's held-out rank correlation)."""
    with no_interrupts():
        storage = make_storage(settings.storage_url)
        study = optuna.load_study(study_name=settings.name, storage=storage)
        df = write_outputs(study, settings, final=True)
        if settings.needs_latency and status != "interrupted" and df["pareto"].any():
            from nas.search._measured import measure_front

            def on_member(row: dict) -> None:
                progress.event(f"trial {row['number']}: measured {row['latency_measured_ms']:.2f}"
                               f" ms, predicted {row['latency_ms']:.2f} ms "
                               f"({100 * row['latency_error']:+.1f}%)")

            progress.event("measuring the front's latency (fresh processes)")
            measure_front(settings, df, on_member=on_member)
            df = write_outputs(study, settings, final=True)
        t0 = time.perf_counter()
        if settings.storage is None and settings.storage_url.startswith("journal:"):
            _snapshot_sqlite(settings, storage)
        storage0 -= time.perf_counter() - t0  # the SQLite copy counts as storage time
        trials = study.get_trials(deepcopy=False)
        c = counts(trials)
        extra = {"draws": draw_totals(trials), "surrogate": surrogate_summary(trials),
                 "storage_s": round(storage_seconds() - storage0, 3)}
        _write_json(settings.run_dir / "surrogate.json", extra["surrogate"])
        write_run(settings, space_hash, status, {"counts": c.__dict__, "finished": _now(),
                                                 **extra})
        progress.log.info(f"run status={status} " + " ".join(
            f"{k}={v}" for k, v in c.__dict__.items()) + " " + " ".join(
            f"{k}={v}" for k, v in extra["draws"].items()) + " surrogate_tau="
            + _fmt(extra["surrogate"]["kendall_tau"]))
    return SearchResult(settings.run_dir, status, c, df)


def _work(ctx: _Context, study: optuna.Study, progress: Progress) -> str:
    """Ask, evaluate and tell until the target count, the time limit or an interrupt."""
    s = ctx.settings
    since_write = 0
    while True:
        trials = study.get_trials(deepcopy=False)  # one read per step: counts and progress
        c = counts(trials)
        elapsed = time.monotonic() - ctx.start
        snap = _snapshot(trials, s, c, elapsed)
        progress.show(snap)
        if s.trials is not None and c.trained >= s.trials and c.baselines_left == 0:
            return "finished"
        if s.time_s is not None and elapsed >= s.time_s:
            progress.event(f"time limit reached ({s.time_s:.0f} s)")
            return "finished"
        if c.infeasible >= s.max_infeasible:
            progress.event(f"stopped: {c.infeasible} candidates over budget; the strategy "
                           "is not finding feasible ones (try --strategy random or a wider "
                           "budget)")
            return "stopped"
        if c.waiting == 0:
            ctx.strategy.observe(trials)
            prop = ctx.strategy.propose(study, trials)
            if prop is None:
                progress.event("stopped: the strategy found no new architecture within the "
                               "budget")
                return "stopped"
            enqueue(study, ctx.evaluator.space, prop, ctx.evaluator.num_classes)
        trial = study.ask()
        _sampler_attrs(trial)
        if _duplicate(study, trial):
            continue
        base = trial.user_attrs.get("baseline")
        progress.show(replace(snap, current=f"trial {trial.number}"
                              + (f" (baseline {base})" if base else "")))
        outcome = _evaluate(ctx, trial)
        _tell(study, trial, outcome)
        since_write += 1
        if outcome.state != "infeasible" or since_write >= 50:
            write_outputs(study, s)
            since_write = 0
        if outcome.state != "infeasible":
            progress.event(_describe(trial.number, outcome, s.objective_list))


def _sampler_attrs(trial: optuna.Trial) -> None:
    """A proposal's sampler bookkeeping (e.g. NSGA-II's generation) into the system attributes
    where the sampler reads it."""
    for key, value in (trial.user_attrs.get(A_SAMPLER) or {}).items():
        with no_interrupts():
            trial.storage.set_trial_system_attr(trial._trial_id, key, value)  # noqa: SLF001


def _duplicate(study: optuna.Study, trial: optuna.Trial) -> bool:
    """True (and the trial is dropped, never trained) when a lower-numbered trial holds the
    same architecture: two workers that proposed the same child at the same moment train it
    once (the lowest number keeps it)."""
    h = trial.user_attrs.get(A_HASH)
    if h is None:
        return False
    first = next((t.number for t in study.get_trials(deepcopy=False)
                  if t.number < trial.number and t.user_attrs.get(A_HASH) == h
                  and not t.user_attrs.get(A_DUPLICATE)), None)
    if first is None:
        return False
    with no_interrupts():
        trial.set_user_attr(A_DUPLICATE, first)
        trial.set_user_attr(A_REASON, f"duplicate of trial {first} (proposed by two workers)")
        study.tell(trial, state=TrialState.FAIL)
    return True


def draw_totals(trials: list[optuna.trial.FrozenTrial]) -> dict[str, int]:
    """Proposals made, in budget, duplicates skipped (summed over the proposals' records)."""
    out = {"proposed": 0, "in_budget": 0, "duplicates": 0}
    for t in trials:
        d = t.user_attrs.get(A_DRAWS) or {}
        for k in out:
            out[k] += int(d.get(k, 0))
    return out


def _evaluate(ctx: _Context, trial: optuna.Trial) -> Outcome:
    try:
        return ctx.evaluator.evaluate(trial)
    except KeyboardInterrupt:
        _tell(trial.study, trial, Outcome("failed", reason="interrupted: the search was "
                                          "stopped while it ran"))
        raise
    except NasError:
        _tell(trial.study, trial, Outcome("failed", reason="stopped by an input error"))
        raise
    except Exception as exc:  # noqa: BLE001 - a broken candidate must not stop the search
        # counted as a trained candidate: the search spent its effort on it
        return Outcome("failed", reason=f"{type(exc).__name__}: {exc}".splitlines()[0][:500],
                       attrs={A_TRAINED: True})


def _tell(study: optuna.Study, trial: optuna.Trial, outcome: Outcome) -> None:
    with no_interrupts():
        for key, value in outcome.attrs.items():
            trial.set_user_attr(key, value)
        if outcome.reason:
            trial.set_user_attr(A_REASON, outcome.reason)
        if outcome.state in ("complete", "infeasible"):
            study.tell(trial, outcome.values)
        elif outcome.state == "pruned":
            study.tell(trial, state=TrialState.PRUNED)
        else:
            study.tell(trial, state=TrialState.FAIL)


def _snapshot(trials: list[optuna.trial.FrozenTrial], s: SearchSettings, c: Counts,
              elapsed: float) -> Snapshot:
    done = [t for t in trials if t.state == TrialState.COMPLETE
            and not t.user_attrs.get(A_INFEASIBLE) and t.values]
    best = max((t.values[0] for t in done), default=None)
    front = 0
    if done:
        from nas.metrics import pareto_mask

        front = int(pareto_mask([t.values for t in done], s.directions).sum())
    tau = surrogate_summary(trials)["kendall_tau"]
    return Snapshot(c, s.trials, best, front, elapsed, s.time_s, draws=draw_totals(trials),
                    tau=tau)


def _describe(number: int, o: Outcome, objectives) -> str:
    """One logfmt line per finished trial."""
    res = o.attrs.get("result", {})
    pairs = {"trial": number, "state": o.state}
    if o.values:
        pairs.update({obj.column: f"{v:.4g}" for obj, v in
                      zip(objectives, o.values, strict=True)})
    if res.get("wall_s") is not None:
        pairs["wall_s"] = f"{res['wall_s']:.1f}"
    text = " ".join(f"{k}={v}" for k, v in pairs.items())
    return text + (f" reason={json.dumps(o.reason)}" if o.reason else "")


def _spawn(settings: SearchSettings, index: int) -> Any:
    proc = mp.get_context("spawn").Process(target=_worker_main, args=(settings, index),
                                           daemon=False)
    proc.start()
    return proc


def _worker_main(settings: SearchSettings, index: int) -> None:
    """A second (third, ...) worker process on the same storage."""
    from nas.space import load_space

    progress = make_progress(settings.run_dir, settings.name, quiet=True)
    try:
        with _term_as_interrupt():
            space = load_space(settings.space)
            evaluator = make_evaluator(settings, space)
            strategy = make_strategy(strategy_context(settings, evaluator, index))
            study = open_study(settings, make_storage(settings.storage_url), strategy)
            _work(_Context(settings, evaluator, strategy, time.monotonic(), index), study,
                  progress)
    except KeyboardInterrupt:
        progress.event(f"worker {index} interrupted")


def _snapshot_sqlite(settings: SearchSettings, storage: Any) -> None:
    """Copy a journal study into ``study.db`` (atomically) for tools that want SQLite."""
    final = settings.run_dir / STUDY_DB
    tmp = settings.run_dir / f".study.{os.getpid()}.db"
    tmp.unlink(missing_ok=True)
    optuna.copy_study(from_study_name=settings.name, from_storage=storage,
                      to_storage=f"sqlite:///{tmp.resolve()}")
    os.replace(tmp, final)


@contextmanager
def _term_as_interrupt():
    """SIGTERM behaves like Ctrl-C (KeyboardInterrupt) while the search runs."""
    if threading_main():
        old = signal.signal(signal.SIGTERM, signal.default_int_handler)
        try:
            yield
        finally:
            signal.signal(signal.SIGTERM, old)
    else:
        yield


def _write_json(path: Path, data: Any) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data, indent=2) + "\n")
    os.replace(tmp, path)


def _fmt(v: float | None) -> str:
    return "" if v is None else f"{v:.3f}"


def _now() -> str:
    from datetime import datetime

    return datetime.now().isoformat(timespec="seconds")
