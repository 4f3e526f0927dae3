"""``retrain_run(run_dir, ...)``: train chosen members of a run with the full schedule.

Each (trial, seed) trains into ``<run>/retrain/trial-<N>-seed-<S>/`` (weights, metrics, and a
checkpoint after every epoch while it runs), so a killed retrain resumes where it stopped and a
finished pair is never trained again. The results go to ``<run>/retrain.parquet`` and
``retrain.csv`` (one row per trial and seed, rewritten after every pair), which the report's
"after full training" section reads.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from nas.arch import ArchConfig
from nas.errors import NasError
from nas.proxy import (
    FULL_SCHEDULE,
    METRICS_FILE,
    FullSchedule,
    load_splits,
    load_test_split,
    train_to_dir,
)
from nas.report import RETRAIN_TABLE, RunData, load_run

__all__ = ["RETRAIN_DIR", "RetrainPlan", "plan_retrain", "retrain_run"]

RETRAIN_DIR = "retrain"


@dataclass(frozen=True)
class RetrainPlan:
    """What a retrain will train: trial numbers (in order) and seeds, on ``data``."""

    run: RunData
    numbers: tuple[int, ...]
    seeds: tuple[int, ...]
    data: str

    def pairs(self) -> list[tuple[int, int]]:
        """(trial, seed) in training order: every trial's first seed before any second seed."""
        return [(n, s) for s in self.seeds for n in self.numbers]

    def folder(self, number: int, seed: int) -> Path:
        """Where the pair trains: ``<run>/retrain/trial-<N>-seed-<S>/``."""
        return self.run.run_dir / RETRAIN_DIR / f"trial-{number}-seed-{seed}"

    def check(self, schedule: FullSchedule) -> None:
        """NasError when a finished pair was retrained with another schedule (results of two
        schedules are never mixed in one table)."""
        for number, seed in self.pairs():
            path = self.folder(number, seed) / METRICS_FILE
            if path.is_file() and json.loads(path.read_text()).get("schedule") != \
                    schedule.to_dict():
                raise NasError(f"trial {number} seed {seed} was retrained with another schedule "
                               f"(in {path.parent}); delete that folder to retrain it with this "
                               "one")


def plan_retrain(
    run_dir: str | Path, trials: Sequence[int] = (), *, pareto: bool = False,
    baselines: bool = False, seeds: Sequence[int] = (0,), data: str | None = None,
) -> RetrainPlan:
    """Check the request against the run folder (NasError, one line, for anything wrong)."""
    run = load_run(run_dir)
    if not (trials or pareto or baselines):
        raise NasError("nothing to retrain: give --trial N (repeatable), --pareto and/or "
                       "--baselines")
    if not seeds:
        raise NasError("--seeds: give at least one seed, e.g. --seeds 0,1")
    chosen: list[int] = []
    for n in trials:
        row = run.row(int(n))  # NasError naming the valid range
        if not isinstance(row.get("arch_json"), str) or not row["arch_json"]:
            raise NasError(f"trial {n} has no architecture in the trials table")
        chosen.append(int(n))
    t = run.trials
    if pareto:
        front = t[t["pareto"].astype(bool)]["number"].astype(int).tolist() \
            if "pareto" in t else []
        if not front:
            raise NasError(f"{run.run_dir}: the run has no Pareto front yet (no completed "
                           "feasible trial)")
        chosen += front
    if baselines:
        base = run.completed(baselines=True)
        base = base[base["baseline"]]["number"].astype(int).tolist()
        if not base:
            raise NasError(f"{run.run_dir}: the run has no completed baselines")
        chosen += base
    spec = data or run.info.get("data")
    if not spec:
        raise NasError(f"{run.run_dir}/run.json names no data; pass --data SPEC")
    return RetrainPlan(run, tuple(dict.fromkeys(chosen)), tuple(dict.fromkeys(seeds)), spec)


def retrain_run(
    run_dir: str | Path, trials: Sequence[int] = (), *, pareto: bool = False,
    baselines: bool = False, seeds: Sequence[int] = (0,), data: str | None = None,
    schedule: FullSchedule = FULL_SCHEDULE, device: str = "cpu",
    on_start: Callable[[int, int, int, int], None] | None = None,
    on_step: Callable[[int, int, int, float], None] | None = None,
    plan: RetrainPlan | None = None,
) -> pd.DataFrame:
    """Retrain the chosen trials (see :func:`plan_retrain`) with ``schedule`` for each seed and
    return the retrain table (also written to the run folder). Pairs already finished (their
    ``metrics.json`` exists) are read, not trained; an unfinished one resumes from its
    checkpoint. ``on_start(index, total, trial, seed)`` runs before each pair is trained."""
    plan = plan or plan_retrain(run_dir, trials, pareto=pareto, baselines=baselines,
                                seeds=seeds, data=data)
    plan.check(schedule)
    run = plan.run
    base_dir = run.run_dir / RETRAIN_DIR
    todo = plan.pairs()
    splits = None
    for i, (number, seed) in enumerate(todo):
        out = plan.folder(number, seed)
        if (out / METRICS_FILE).is_file():
            continue
        if splits is None:  # loaded once, and only when something is left to train
            train, val = load_splits(plan.data, None, schedule)
            test = load_test_split(plan.data, schedule) if schedule.test else None
            splits = (train, val, test)
        if on_start is not None:
            on_start(i, len(todo), number, seed)
        arch = ArchConfig.from_dict(json.loads(run.row(number)["arch_json"]))
        train_to_dir(arch, splits, out, schedule=schedule, seed=seed, device=device,
                     on_step=on_step, notes={"trial": number, "data": plan.data})
        _write_table(run, base_dir, todo)
    return _write_table(run, base_dir, todo)


def _write_table(run: RunData, base_dir: Path, todo: list[tuple[int, int]]) -> pd.DataFrame:
    rows = []
    for number, seed in todo:
        path = base_dir / f"trial-{number}-seed-{seed}" / METRICS_FILE
        if not path.is_file():
            continue
        m = json.loads(path.read_text())
        row = run.row(number)
        rows.append({
            "number": number, "seed": seed, "status": m["status"],
            "baseline": bool(row["baseline"]), "baseline_name": row["baseline_name"],
            "gflops": float(row["gflops"]), "mparams": float(row["mparams"]),
            "miou_proxy": float(row["miou"]),
            "miou_full": _num(m.get("miou")), "test_miou_full": _num(m.get("test_miou")),
            "final_val_miou": _num(m.get("final_val_miou")),
            "plateau_gain": _num(m.get("plateau_gain")), "plateaued": m.get("plateaued"),
            "epochs": m.get("epochs_run"), "wall_s": _num(m.get("wall_s")),
            "reason": m.get("reason") or "",
        })
    # keep rows of earlier retrains of other trials or seeds
    old_path = run.run_dir / f"{RETRAIN_TABLE}.parquet"
    df = pd.DataFrame(rows)
    if old_path.is_file():
        old = pd.read_parquet(old_path)
        keys = {(r["number"], r["seed"]) for r in rows}
        old = old[[(int(a), int(b)) not in keys for a, b in zip(old["number"], old["seed"],
                                                                 strict=True)]]
        df = pd.concat([old, df], ignore_index=True) if len(old) else df
    if df.empty:
        return df
    df = df.sort_values(["number", "seed"], ignore_index=True)
    for suffix, write in (("parquet", df.to_parquet), ("csv", df.to_csv)):
        final = run.run_dir / f"{RETRAIN_TABLE}.{suffix}"
        tmp = final.with_name(f"{final.name}.{os.getpid()}.tmp")
        write(tmp, index=False)
        os.replace(tmp, final)
    return df


def _num(v) -> float:
    return float(v) if isinstance(v, (int, float)) and math.isfinite(v) else float("nan")
