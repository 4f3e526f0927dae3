"""The end of a latency-budgeted search: its front members timed whole, beside the prediction.

The search priced every candidate with the latency predictor (unit table, correction, unit
model); the front is what a user will deploy, so each member is measured for real once the run
has finished: :func:`~nas.cost.measure_latency` in ``processes`` fresh worker processes on the
run's latency device (``latency_device``, default the training device) and thread count. The
figures go to ``latency_measured.csv`` (:data:`nas.record.MEASURED_LATENCY`) in the run folder,
one row per trial: ``number``, ``latency_ms`` (predicted), ``latency_measured_ms`` (median of
the process medians), ``latency_repeat_spread``, ``latency_error`` (predicted / measured - 1).
The trials table and the report read them from there.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from nas.arch import ArchConfig
from nas.record import MEASURED_LATENCY
from nas.search._settings import SearchSettings

__all__ = ["measure_front", "measured_latency"]

COLUMNS = ["number", "latency_ms", "latency_measured_ms", "latency_repeat_spread",
           "latency_error"]


def measure_front(settings: SearchSettings, df: pd.DataFrame, processes: int = 2,
                  warmup: int = 5, runs: int = 20, on_member=None) -> pd.DataFrame:
    """Time every front member of ``df`` (the trials table, ``pareto`` column) not measured
    yet, append it to the run's file and return the whole file's table."""
    from nas.cost import measure_latency

    have = measured_latency(settings.run_dir)
    done = set(have["number"]) if len(have) else set()
    front = df[df["pareto"] & df["latency_ms"].notna()]
    rows = []
    for _, r in front.iterrows():
        if int(r["number"]) in done or not r["arch_json"]:
            continue
        lat = measure_latency(ArchConfig.from_json(r["arch_json"]), settings.input_size,
                              settings.latency_on, settings.schedule.threads, warmup=warmup,
                              runs=runs, processes=processes)
        rows.append({"number": int(r["number"]), "latency_ms": float(r["latency_ms"]),
                     "latency_measured_ms": lat.median_ms,
                     "latency_repeat_spread": lat.repeat_spread,
                     "latency_error": float(r["latency_ms"]) / lat.median_ms - 1})
        if on_member is not None:
            on_member(rows[-1])
    out = pd.concat([have, pd.DataFrame(rows, columns=COLUMNS)], ignore_index=True) \
        if rows else have
    if rows:
        path = Path(settings.run_dir) / MEASURED_LATENCY
        tmp = path.with_name(path.name + ".tmp")
        out.to_csv(tmp, index=False)
        tmp.replace(path)
    return out


def measured_latency(run_dir: str | Path) -> pd.DataFrame:
    """The run's measured front latencies (empty, with the columns, when none)."""
    path = Path(run_dir) / MEASURED_LATENCY
    if not path.is_file():
        return pd.DataFrame(columns=COLUMNS)
    return pd.read_csv(path)
