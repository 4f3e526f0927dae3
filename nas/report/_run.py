"""Reading a run folder (``results/<name>/``, layout in ``results/README.md``) into one object.

:func:`load_run` reads ``trials.parquet`` (or ``trials.csv``) and ``run.json`` and normalises
them (states upper-case, flags as booleans, numbers as floats), so the report and the exporter
never parse files themselves. ``run.json`` is read through :class:`nas.record.RunRecord`, the
model the search writes it with (one form of objectives, budgets and input size); without one,
the defaults apply (maximise mIoU, minimise FLOPs, no budget). Strict about what it cannot do
without (a trials table).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from nas.budget import METRICS as COST_METRICS
from nas.errors import NasError
from nas.metrics import Objective
from nas.record import RunRecord

__all__ = ["COST_METRICS", "Objective", "RunData", "load_run"]

STATES = ("COMPLETE", "PRUNED", "FAIL", "INFEASIBLE", "RUNNING", "WAITING")
_NUMERIC = ("flops", "gflops", "params", "mparams", "latency_ms", "miou", "pixel_acc",
            "epochs_run", "duration_s", "train_s", "images_per_s")


@dataclass
class RunData:
    """A run folder, read: ``trials`` has one row per trial, sorted by ``number``."""

    run_dir: Path
    name: str
    info: dict[str, Any]
    trials: pd.DataFrame
    objectives: tuple[Objective, ...]
    budget: dict[str, float]  # metric -> limit (flops, params, latency_ms)
    input_size: tuple[int, int] | None
    epoch_columns: tuple[str, ...] = field(default=())

    @property
    def search(self) -> pd.DataFrame:
        """Search trials only (no baselines)."""
        return self.trials[~self.trials["baseline"]]

    @property
    def baselines(self) -> pd.DataFrame:
        return self.trials[self.trials["baseline"]]

    def completed(self, baselines: bool = False) -> pd.DataFrame:
        """COMPLETE, feasible trials with a score (search trials only unless ``baselines``)."""
        t = self.trials
        ok = (t["state"] == "COMPLETE") & t["feasible"] & t["miou"].notna()
        if not baselines:
            ok &= ~t["baseline"]
        return t[ok]

    def row(self, number: int) -> pd.Series:
        """The row of trial ``number``; NasError naming the valid range when there is none."""
        hit = self.trials[self.trials["number"] == number]
        if hit.empty:
            nums = self.trials["number"]
            raise NasError(f"{self.run_dir}: no trial {number} (trials are numbered "
                           f"{nums.min()}..{nums.max()}); see trials.csv for the numbers")
        return hit.iloc[0]


def load_run(run_dir: str | Path) -> RunData:
    """Read the run folder ``run_dir``. NasError when it is missing, empty or has no trials."""
    run_dir = Path(run_dir)
    if not run_dir.exists():
        raise NasError(f"run folder {run_dir} does not exist; give a folder written by "
                       "'nas search' (results/<name>)")
    if not run_dir.is_dir():
        raise NasError(f"{run_dir} is not a folder; give a run folder (results/<name>)")
    if not any(run_dir.iterdir()):
        raise NasError(f"run folder {run_dir} is empty: run 'nas search --out {run_dir}' first")
    record = RunRecord.read(run_dir) or RunRecord()
    trials = _read_trials(run_dir)
    name = record.name or run_dir.resolve().name
    epochs = tuple(sorted((c for c in trials.columns if c.startswith("miou_e")),
                          key=lambda c: int(c[6:]) if c[6:].isdigit() else 0))
    return RunData(run_dir, name, record.to_dict(), trials, record.objectives, record.budget,
                   record.input, epochs)


# ---------------------------------------------------------------------------- trials table
def _read_trials(run_dir: Path) -> pd.DataFrame:
    pq, csv = run_dir / "trials.parquet", run_dir / "trials.csv"
    try:
        if pq.is_file():
            df = pd.read_parquet(pq)
        elif csv.is_file():
            df = pd.read_csv(csv, keep_default_na=True)
        else:
            raise NasError(f"{run_dir} has no trials.parquet or trials.csv: is it a run folder "
                           "written by 'nas search'? (a search that has not finished a trial "
                           "writes none yet)")
    except NasError:
        raise
    except Exception as exc:  # pyarrow / parser errors: one line
        raise NasError(f"{run_dir}: cannot read the trials table ({type(exc).__name__}: "
                       f"{exc}); re-run 'nas search --resume' to rewrite it") from None
    if df.empty or "number" not in df.columns:
        raise NasError(f"{run_dir}: the trials table is empty (no trial finished yet); wait for "
                       "the search or run it with more --trials")
    return _normalise(df)


def _normalise(df: pd.DataFrame) -> pd.DataFrame:
    df = df.copy()
    df["number"] = df["number"].astype(int)
    states = df["state"] if "state" in df.columns else pd.Series("COMPLETE", index=df.index)
    df["state"] = states.astype(str).str.upper().str.replace("TRIALSTATE.", "", regex=False)
    df["baseline"] = _bools(df.get("baseline"), len(df))
    names = df.get("baseline_name", pd.Series([""] * len(df), index=df.index))
    df["baseline_name"] = names.fillna("").astype(str).replace("nan", "")
    for col in _NUMERIC + tuple(c for c in df.columns if c.startswith("miou_e")):
        if col in df.columns:
            df[col] = pd.to_numeric(df[col], errors="coerce").astype(float)  # Int64 NA -> NaN
        elif col in ("miou", "pixel_acc", "latency_ms", "flops", "params"):
            df[col] = math.nan
    if "feasible" in df.columns:
        df["feasible"] = _bools(df["feasible"], len(df), default=True)
    else:
        df["feasible"] = True
    df.loc[df["state"] == "INFEASIBLE", "feasible"] = False
    df["pareto"] = _bools(df.get("pareto"), len(df))
    for col in ("datetime_start", "datetime_complete"):
        if col in df.columns:
            df[col] = pd.to_datetime(df[col], errors="coerce", utc=True)
    for col in ("reason", "arch_json"):
        df[col] = df[col].fillna("").astype(str) if col in df.columns else ""
    return df.sort_values("number").reset_index(drop=True)


def _bools(col: Any, n: int, default: bool = False) -> Any:
    if col is None:
        return [default] * n
    s = pd.Series(col)

    def one(v: Any) -> bool:
        if isinstance(v, str):
            return v.strip().lower() in ("true", "1", "yes")
        if v is None or (isinstance(v, float) and math.isnan(v)):
            return default
        return bool(v)

    return s.map(one).astype(bool).to_numpy()
