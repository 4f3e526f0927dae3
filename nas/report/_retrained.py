"""The "after full training" section: a run's retrained members (``nas retrain``) beside their
proxy scores, read from ``retrain.parquet`` (or ``retrain.csv``) in the run folder."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

__all__ = ["RETRAIN_TABLE", "retrained_table"]

RETRAIN_TABLE = "retrain"
"""Stem of the retrain table in a run folder: ``retrain.parquet`` and ``retrain.csv``, one row
per (trial ``number``, ``seed``)."""


def retrained_table(run_dir: str | Path) -> pd.DataFrame:
    """One row per retrained trial: the proxy's mIoU, the full-training validation score (mean
    over the seeds, and each seed's) and test mIoU, GFLOPs, params; best first. Empty when the
    run has no retrain table."""
    run_dir = Path(run_dir)
    path = run_dir / f"{RETRAIN_TABLE}.parquet"
    if path.is_file():
        df = pd.read_parquet(path)
    elif (run_dir / f"{RETRAIN_TABLE}.csv").is_file():
        df = pd.read_csv(run_dir / f"{RETRAIN_TABLE}.csv")
    else:
        return pd.DataFrame()
    df = df[df["status"] == "ok"]
    if df.empty:
        return pd.DataFrame()
    rows = []
    for number, g in df.sort_values("seed").groupby("number"):
        first = g.iloc[0]
        rows.append({
            "trial": int(number),
            "baseline": first["baseline_name"] or "",
            "GFLOPs": round(float(first["gflops"]), 3),
            "M params": round(float(first["mparams"]), 3),
            "proxy mIoU": round(float(first["miou_proxy"]), 4),
            "full mIoU (mean)": round(float(g["miou_full"].mean()), 4),
            "per seed": ", ".join(f"{s}: {m:.4f}" for s, m in zip(g["seed"], g["miou_full"],
                                                                   strict=True)),
            "test mIoU": round(float(g["test_miou_full"].mean()), 4)
            if g["test_miou_full"].notna().any() else float("nan"),
            "plateaued": f"{int(g['plateaued'].fillna(False).sum())}/{len(g)}",
        })
    return pd.DataFrame(rows).sort_values("full mIoU (mean)", ascending=False,
                                          ignore_index=True)
