"""What a run leaves on disk (see results/README.md): the trials table (parquet + csv), the
Pareto set as ArchConfig YAML, ``run.json``; all written atomically (a reader never sees half a
file, a kill never leaves one)."""

from __future__ import annotations

import json
import math
import os
import platform
import socket
import sys
from datetime import datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import optuna
import pandas as pd
from optuna.trial import TrialState

from nas.arch import ArchConfig
from nas.errors import NasError
from nas.metrics import pareto_mask
from nas.record import RUN_FILE, RunRecord
from nas.search._evaluate import (
    A_ARCH,
    A_BASELINE,
    A_CONSTRAINTS,
    A_COST,
    A_EPOCHS,
    A_INFEASIBLE,
    A_REASON,
    A_RESULT,
)
from nas.search._measured import measured_latency
from nas.search._settings import SearchSettings

__all__ = [
    "RUN_FILE",
    "TRIALS_FILE",
    "front_mask",
    "read_run",
    "trials_frame",
    "write_outputs",
    "write_run",
]

TRIALS_FILE = "trials.parquet"
_PACKAGES = ("nas", "torch", "optuna", "ray", "timm", "fvcore", "pandas", "numpy")


def trials_frame(study: optuna.Study, settings: SearchSettings) -> pd.DataFrame:
    """One row per trial, columns as documented in results/README.md."""
    limits = settings.budget.limits
    epochs = settings.schedule.epochs
    rows = []
    for t in study.get_trials(deepcopy=False):
        ua = t.user_attrs
        cost = ua.get(A_COST) or {}
        res = ua.get(A_RESULT) or {}
        ep = list(ua.get(A_EPOCHS) or [])
        state = "INFEASIBLE" if ua.get(A_INFEASIBLE) else t.state.name
        constraints = ua.get(A_CONSTRAINTS)
        row: dict[str, Any] = {
            "number": t.number,
            "state": state,
            "baseline": bool(ua.get(A_BASELINE)),
            "baseline_name": str(ua.get(A_BASELINE) or ""),
            "feasible": bool(constraints is not None and all(c <= 0 for c in constraints)),
            "violation": json.dumps({lim.metric: c for lim, c in zip(limits, constraints or [])}),
            "flops": cost.get("flops"),
            "gflops": _scaled(cost.get("flops"), 1e-9),
            "params": cost.get("params"),
            "mparams": _scaled(cost.get("params"), 1e-6),
            "latency_ms": _num(cost.get("latency_ms")),
            "miou": _num(res.get("miou")) if t.state == TrialState.COMPLETE and not ua.get(
                A_INFEASIBLE) else math.nan,
            "pixel_acc": _num(res.get("pixel_acc")),
            **{f"miou_e{e + 1}": _num(ep[e]) if e < len(ep) else math.nan
               for e in range(epochs)},
            "epochs_run": res.get("epochs_run", 0),
            "duration_s": _duration(t),
            "train_s": _num(res.get("train_s")),
            "images_per_s": _num(res.get("images_per_s")),
            "datetime_start": t.datetime_start,
            "datetime_complete": t.datetime_complete,
            "reason": str(ua.get(A_REASON) or ""),
            "arch_json": ua.get(A_ARCH, ""),
        }
        row.update({f"p.{k}": _cell(v) for k, v in t.params.items()})
        rows.append(row)
    df = pd.DataFrame(rows)
    if df.empty:
        return df
    df["flops"] = df["flops"].astype("Int64")
    df["params"] = df["params"].astype("Int64")
    df["pareto"] = front_mask(df, settings)
    measured = measured_latency(settings.run_dir)
    df["latency_measured_ms"] = df["number"].map(
        dict(zip(measured["number"], measured["latency_measured_ms"], strict=True))
    ).astype(float)
    return df.sort_values("number").reset_index(drop=True)


def front_mask(df: pd.DataFrame, settings: SearchSettings) -> np.ndarray:
    """COMPLETE, feasible, trained trials (baselines included) on the front of the run's
    objectives."""
    cols = [o.column for o in settings.objective_list]
    ok = (df["state"] == "COMPLETE") & df["feasible"] & df["miou"].notna()
    mask = np.zeros(len(df), dtype=bool)
    if ok.any():
        values = df.loc[ok, cols].to_numpy(dtype=float)
        mask[np.flatnonzero(ok.to_numpy())] = pareto_mask(values, settings.directions)
    return mask


def write_outputs(study: optuna.Study, settings: SearchSettings, final: bool = False
                  ) -> pd.DataFrame:
    """Rewrite trials.parquet/csv and pareto/*.yaml; when ``final``, also drop the weights of
    trials that are not on the front."""
    run_dir = settings.run_dir
    df = trials_frame(study, settings)
    if df.empty:
        return df
    _atomic(run_dir / TRIALS_FILE, lambda p: df.to_parquet(p, index=False))
    _atomic(run_dir / "trials.csv", lambda p: df.to_csv(p, index=False))
    front = df[df["pareto"]]
    pareto_dir = run_dir / "pareto"
    pareto_dir.mkdir(parents=True, exist_ok=True)
    keep = set()
    for row in front.itertuples():
        path = pareto_dir / f"trial-{row.number}.yaml"
        keep.add(path.name)
        if not path.exists():
            arch = ArchConfig.from_json(row.arch_json)
            _atomic(path, lambda p, a=arch: Path(p).write_text(a.to_yaml()))
    for old in pareto_dir.glob("trial-*.yaml"):
        if old.name not in keep:
            old.unlink()
    if final:
        front_numbers = set(front["number"])
        for w in (run_dir / "weights").glob("trial-*.safetensors"):
            if int(w.stem.split("-")[1]) not in front_numbers:
                w.unlink()
    return df


def write_run(settings: SearchSettings, space_hash: str, status: str,
              extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """Create or update ``run.json`` (the first write sets ``started``)."""
    old = read_run(settings.run_dir) if (settings.run_dir / RUN_FILE).exists() else {}
    data = {
        **old,
        "name": settings.name,
        "command": settings.command or " ".join(sys.argv),
        "seed": settings.seed,
        "space": settings.space,
        "space_hash": space_hash,
        "input": list(settings.input_size),
        "budgets": list(settings.budgets),
        "budget": {lim.metric: lim.value for lim in settings.budget.limits},
        "objectives": settings.objective_list,
        "strategy": settings.strategy,
        "runner": settings.runner_profile.name,
        "data": settings.data,
        "schedule": settings.schedule.to_dict(),
        "storage": settings.storage_url,
        "settings": _jsonable(settings.to_dict()),
        "versions": {p: _version(p) for p in _PACKAGES} | {"python": platform.python_version()},
        "machine": {"host": socket.gethostname(), "platform": platform.platform(),
                    "processor": platform.processor() or platform.machine(),
                    "cpus": os.cpu_count()},
        "status": status,
        "updated": datetime.now().isoformat(timespec="seconds"),
    }
    data["started"] = old.get("started") or data["updated"]
    data.setdefault("invocations", [])
    if extra:
        data.update(_jsonable(extra))
    record = RunRecord.from_dict(data)
    record.write(settings.run_dir)
    return record.to_dict()


def read_run(run_dir: str | Path) -> dict[str, Any]:
    """``run.json`` of ``run_dir`` as a dict (the :class:`~nas.record.RunRecord` form);
    NasError when it is missing or damaged."""
    record = RunRecord.read(run_dir)
    if record is None:
        raise NasError(f"{Path(run_dir) / RUN_FILE} is missing: is {run_dir} a run folder?")
    return record.to_dict()


def _atomic(path: Path, write) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    write(tmp)
    os.replace(tmp, path)


def _num(v: Any) -> float:
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else math.nan


def _scaled(v: Any, scale: float) -> float:
    return _num(v) * scale


def _cell(v: Any) -> Any:
    return v if isinstance(v, str) else json.dumps(v)


def _duration(t: optuna.trial.FrozenTrial) -> float:
    if t.datetime_start and t.datetime_complete:
        return (t.datetime_complete - t.datetime_start).total_seconds()
    return math.nan


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))

