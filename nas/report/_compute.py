"""What a report says, computed once from a run folder: plain dataclasses and DataFrames.

Fronts come from :func:`nas.metrics.pareto_mask`, hypervolumes from
:func:`nas.metrics.hypervolume`; metric names, units and scales from :data:`nas.metrics.METRICS`;
the renderers only draw what is computed here.
Fronts are over the scored trials (COMPLETE, feasible, with an mIoU), baselines included, like
the run's own ``pareto`` column; hypervolumes are over search trials only (the baselines' own
hypervolume is given beside), and every baseline is compared with the search at equal cost.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from nas.metrics import METRICS, Objective, hypervolume, pareto_mask
from nas.report._importance import Importance, param_importance
from nas.report._retrained import retrained_table
from nas.report._run import COST_METRICS, RunData, load_run

__all__ = ["SECTIONS", "Front", "Hypervolume", "ReportData", "arch_summary", "compute_report"]

SECTIONS = ("summary", "states", "pareto", "hypervolume", "importance", "front", "baselines",
            "diagrams")
# front-table column of each cost metric (display units)
_TABLE_COST = {m: METRICS[m].unit if m != "latency_ms" else "latency ms" for m in COST_METRICS}
MEASURED = "measured ms"  # beside "latency ms" (predicted): the front timed whole (nas.search)
KINDS = ("search", "front", "baseline", "pruned", "failed", "infeasible")


@dataclass
class Front:
    """mIoU against one cost metric: every trial with that cost as a point (``kind`` says what
    it is; ``y`` is NaN for a trial with no score, drawn on a rug), display units."""

    metric: str  # flops | params | latency_ms
    x_label: str
    points: pd.DataFrame  # number, kind, x, y, on_front, label
    budget: float | None  # the limit in display units (None: not limited)

    @property
    def front(self) -> pd.DataFrame:
        return self.points[self.points["on_front"]].sort_values("x")


@dataclass
class Hypervolume:
    """Hypervolume of the search's front after each trial and over wall time. Costs are divided
    by their reference (the budget, else 1.1 x the largest cost seen) and mIoU counts from 0, so
    the value is the share of the normalised objective box the front dominates."""

    by_trial: pd.DataFrame  # number, hypervolume
    by_time: pd.DataFrame  # seconds, hypervolume
    reference: dict[str, float]  # objective -> reference (table units)
    final: float
    baselines: float | None  # hypervolume of the baselines alone, same reference
    verdict: str


@dataclass
class ReportData:
    """Everything a report shows; ``sections`` lists what it has."""

    name: str
    run_dir: Path
    summary: dict[str, str]
    objectives: tuple[Objective, ...]
    budget: dict[str, float]
    counts: pd.DataFrame  # state, search, baseline, total
    fronts: list[Front]
    front_table: pd.DataFrame
    hypervolume: Hypervolume
    baselines: pd.DataFrame
    importance: Importance
    members: dict[int, Any]  # front member number -> ArchConfig
    findings: list[str] = field(default_factory=list)
    sections: tuple[str, ...] = SECTIONS
    retrained: pd.DataFrame = field(default_factory=pd.DataFrame)  # "after full training"


def compute_report(run: str | Path | RunData, importance: bool = True) -> ReportData:
    """Compute the report of a run folder (or of an already loaded :class:`RunData`)."""
    run = run if isinstance(run, RunData) else load_run(run)
    costs = [m for m in COST_METRICS if run.trials[m].notna().any()]
    fronts = [_front(run, m) for m in costs]
    table = _front_table(run)
    hv = _hypervolume(run)
    base = _baselines(run, costs)
    imp = param_importance(run) if importance else Importance("", {}, 0, "not computed")
    members = _members(run, [int(n) for n in table["trial"]])
    data = ReportData(run.name, run.run_dir, _summary(run), run.objectives, run.budget,
                      _counts(run), fronts, table, hv, base, imp, members)
    data.findings = _findings(data, run)
    data.retrained = retrained_table(run.run_dir)
    if len(data.retrained):
        at = data.sections.index("front") + 1
        data.sections = (*data.sections[:at], "retrained", *data.sections[at:])
    return data


# ---------------------------------------------------------------------------- pieces
def _counts(run: RunData) -> pd.DataFrame:
    t = run.trials
    rows = []
    for state in ("COMPLETE", "PRUNED", "INFEASIBLE", "FAIL", "RUNNING", "WAITING"):
        s = int(((t["state"] == state) & ~t["baseline"]).sum())
        b = int(((t["state"] == state) & t["baseline"]).sum())
        if s or b or state in ("COMPLETE", "PRUNED", "INFEASIBLE", "FAIL"):
            rows.append({"state": state, "search": s, "baseline": b, "total": s + b})
    rows.append({"state": "all", "search": int((~t["baseline"]).sum()),
                 "baseline": int(t["baseline"].sum()), "total": len(t)})
    return pd.DataFrame(rows)


def _kind(row: pd.Series) -> str:
    if row["baseline"]:
        return "baseline"
    state = row["state"]
    if state == "INFEASIBLE" or not row["feasible"]:
        return "infeasible"
    if state == "COMPLETE":
        return "search" if not math.isnan(row["miou"]) else "failed"
    return {"PRUNED": "pruned", "FAIL": "failed"}.get(state, "failed")


def _last_score(row: pd.Series, epochs: tuple[str, ...]) -> float:
    if not math.isnan(row["miou"]):
        return float(row["miou"])
    vals = [row[c] for c in epochs if not math.isnan(row[c])]
    return float(vals[-1]) if vals else math.nan


def _front(run: RunData, metric: str) -> Front:
    col, label, scale = metric, METRICS[metric].unit, METRICS[metric].scale
    t = run.trials[run.trials["state"].isin(["COMPLETE", "PRUNED", "FAIL", "INFEASIBLE"])]
    t = t[t[col].notna()]
    kinds = t.apply(_kind, axis=1) if len(t) else pd.Series([], dtype=str)
    ys = t.apply(lambda r: _last_score(r, run.epoch_columns), axis=1) if len(t) else []
    pts = pd.DataFrame({"number": t["number"].to_numpy(), "kind": np.asarray(kinds, dtype=object),
                        "x": t[col].to_numpy(dtype=float) * scale,
                        "y": np.asarray(ys, dtype=float),
                        "label": t["baseline_name"].to_numpy(dtype=object)})
    pts.loc[pts["kind"] == "infeasible", "y"] = math.nan  # never trained
    # the front of scored trials, baselines included (as the run's ``pareto`` column)
    scored = t["state"].eq("COMPLETE").to_numpy() & t["feasible"].to_numpy() & ~np.isnan(
        pts["y"].to_numpy()) & pts["kind"].isin(["search", "baseline"]).to_numpy()
    on = np.zeros(len(pts), dtype=bool)
    if scored.any():
        vals = pts.loc[scored, ["y", "x"]].to_numpy()
        on[scored] = pareto_mask(vals, ["maximize", "minimize"])
    pts["on_front"] = on
    pts.loc[pts["on_front"] & (pts["kind"] == "search"), "kind"] = "front"
    limit = run.budget.get(metric)
    return Front(metric, label, pts, None if limit is None else limit * scale)


def _joint_mask(run: RunData, df: pd.DataFrame) -> np.ndarray:
    cols = [o.name for o in run.objectives]
    if df.empty:
        return np.zeros(0, dtype=bool)
    return pareto_mask(df[cols].to_numpy(dtype=float), [o.direction for o in run.objectives])


def _front_table(run: RunData) -> pd.DataFrame:
    done = run.completed(baselines=True)
    front = done[_joint_mask(run, done)] if len(done) else done
    weights = run.run_dir / "weights"
    rows = []
    for _, r in front.iterrows():
        rows.append({
            "trial": int(r["number"]), "baseline": r["baseline_name"], "mIoU": r["miou"],
            **{_TABLE_COST[m]: METRICS[m].display(r[m]) for m in COST_METRICS},
            MEASURED: r.get("latency_measured_ms", math.nan),
            "pixel acc": r["pixel_acc"], "train s": r.get("train_s", math.nan),
            "architecture": arch_summary(_arch(r)),
            "weights": (weights / f"trial-{int(r['number'])}.safetensors").is_file(),
        })
    sort = next((_TABLE_COST[o.name] for o in run.objectives if o.name in _TABLE_COST), "GFLOPs")
    cols = ["trial", "baseline", "mIoU", *_TABLE_COST.values(), MEASURED, "pixel acc",
            "train s", "architecture", "weights"]
    out = pd.DataFrame(rows, columns=cols)
    if not out[MEASURED].notna().any():  # measured only at the end of a latency-budgeted run
        out = out.drop(columns=MEASURED)
    return out.sort_values(sort, kind="stable").reset_index(drop=True)


def _references(run: RunData) -> dict[str, float]:
    ref = {}
    pool = run.trials[run.trials["state"] == "COMPLETE"]
    for o in run.objectives:
        if o.direction == "maximize":
            ref[o.name] = 0.0 if o.name in ("miou", "pixel_acc") else float(pool[o.name].min())
        elif o.name in run.budget:
            ref[o.name] = float(run.budget[o.name])
        else:
            top = pool[o.name].max()
            ref[o.name] = float(top) * 1.1 if np.isfinite(top) and top > 0 else 1.0
    return ref


def _hv(run: RunData, df: pd.DataFrame, ref: dict[str, float]) -> float:
    if df.empty:
        return 0.0
    cols, dirs, refs, vals = [], [], [], []
    for o in run.objectives:
        v = df[o.name].to_numpy(dtype=float)
        r = ref[o.name]
        if o.direction == "minimize" and r > 0:
            v, r = v / r, 1.0
        cols.append(o.name), dirs.append(o.direction), refs.append(r), vals.append(v)
    return hypervolume(np.stack(vals, axis=1), dirs, refs)


def _hypervolume(run: RunData) -> Hypervolume:
    ref = _references(run)
    search = run.search
    done = run.completed()
    hv_trial = []
    for n in search["number"]:
        hv_trial.append({"number": int(n), "hypervolume": _hv(run, done[done["number"] <= n], ref)})
    by_trial = pd.DataFrame(hv_trial, columns=["number", "hypervolume"])
    by_time = pd.DataFrame(columns=["seconds", "hypervolume"])
    if {"datetime_start", "datetime_complete"} <= set(search.columns):
        t0 = search["datetime_start"].min()
        fin = done[done["datetime_complete"].notna()].sort_values("datetime_complete")
        if pd.notna(t0) and len(fin):
            rows = [{"seconds": 0.0, "hypervolume": 0.0}]
            for i in range(len(fin)):
                secs = (fin["datetime_complete"].iloc[i] - t0).total_seconds()
                rows.append({"seconds": secs, "hypervolume": _hv(run, fin.iloc[: i + 1], ref)})
            by_time = pd.DataFrame(rows)
    final = float(by_trial["hypervolume"].iloc[-1]) if len(by_trial) else 0.0
    base = run.completed(baselines=True)
    base = base[base["baseline"]]
    hv_base = _hv(run, base, ref) if len(base) else None
    return Hypervolume(by_trial, by_time, ref, final, hv_base, _verdict(by_trial, len(done)))


def _verdict(by_trial: pd.DataFrame, n_done: int) -> str:
    if n_done < 4 or len(by_trial) < 8:
        return (f"too few trials to judge the trend ({n_done} scored); run more trials "
                "(--resume) to see whether the front still moves")
    hv = by_trial["hypervolume"].to_numpy()
    cut = hv[int(len(hv) * 0.75) - 1]
    gain = (hv[-1] - cut) / hv[-1] if hv[-1] > 0 else 0.0
    last = int(by_trial["number"].iloc[-1])
    if gain > 0.02:
        return (f"still improving: the last quarter of the trials raised the hypervolume by "
                f"{gain:.1%} (up to trial {last}); more trials are likely to pay off")
    return (f"plateaued: the last quarter of the trials raised the hypervolume by {gain:.1%}; "
            "more trials of this strategy are unlikely to move the front much")


def _baselines(run: RunData, costs: list[str]) -> pd.DataFrame:
    done = run.completed()
    rows = []
    for _, b in run.baselines.iterrows():
        row: dict[str, Any] = {"baseline": b["baseline_name"] or f"trial {b['number']}",
                               "trial": int(b["number"]), "state": b["state"], "mIoU": b["miou"]}
        for m in costs:
            row[METRICS[m].unit] = METRICS[m].display(b[m])
        primary = next((o.name for o in run.objectives if o.name in costs), None)
        primary = primary or (costs[0] if costs else None)
        row.update({"search at equal cost": None, "its mIoU": math.nan, "delta mIoU": math.nan,
                    "beaten": None, "same mIoU for": None, "cost ratio": math.nan})
        if primary and b["state"] == "COMPLETE" and not math.isnan(b["miou"]) and len(done):
            col = primary
            cheaper = done[done[col] <= b[col]]
            if len(cheaper):
                best = cheaper.loc[cheaper["miou"].idxmax()]
                row.update({"search at equal cost": int(best["number"]),
                            "its mIoU": best["miou"], "delta mIoU": best["miou"] - b["miou"],
                            "beaten": bool(best["miou"] > b["miou"])})
            else:
                row["beaten"] = False
            good = done[done["miou"] >= b["miou"]]
            if len(good):
                cheap = good.loc[good[col].idxmin()]
                row.update({"same mIoU for": int(cheap["number"]),
                            "cost ratio": cheap[col] / b[col] if b[col] else math.nan})
        rows.append(row)
    return pd.DataFrame(rows)


def _arch(row: pd.Series) -> Any:
    from nas.arch import ArchConfig

    text = row.get("arch_json", "")
    if not text:
        return None
    try:
        return ArchConfig.from_json(text)
    except Exception:
        return None


def arch_summary(arch: Any) -> str:
    """A one-line sketch: per stage, cell type and width of each active branch."""
    if arch is None:
        return "?"
    parts = []
    for st in arch.stages:
        cells = "+".join(f"{b.cell}{b.output_width}x{sum(b.depths)}" for b in st.branches)
        parts.append(cells + ("~" if st.fusion else ""))
    return " | ".join(parts) + f" -> {arch.head.type}{arch.head.width}"


def _members(run: RunData, numbers: list[int]) -> dict[int, Any]:
    from nas.arch import load_arch

    out = {}
    for n in numbers:
        path = run.run_dir / "pareto" / f"trial-{n}.yaml"
        arch = None
        if path.is_file():
            try:
                arch = load_arch(path)
            except Exception:
                arch = None
        out[n] = arch if arch is not None else _arch(run.row(n))
    return out


def _summary(run: RunData) -> dict[str, str]:
    info = run.info
    out = {"run": run.name, "folder": str(run.run_dir)}
    for key in ("command", "status", "strategy", "seed", "data", "space", "space_hash"):
        if info.get(key) not in (None, ""):
            v = info[key]
            out[key] = " ".join(v) if isinstance(v, list) else str(v)
    out["objectives"] = ", ".join(f"{o.direction} {o.label}" for o in run.objectives)
    out["budget"] = _budget_text(run.budget) or "none"
    if run.input_size:
        out["input"] = f"{run.input_size[0]}x{run.input_size[1]}"
    return out


def _budget_text(budget: dict[str, float]) -> str:
    if not budget:
        return ""
    from nas.budget import Budget

    return str(Budget.from_dict(budget))


def _findings(data: ReportData, run: RunData) -> list[str]:
    out = []
    c = data.counts.set_index("state")["search"]
    out.append(f"{int(c.get('all', 0))} search trials: {int(c.get('COMPLETE', 0))} complete, "
               f"{int(c.get('PRUNED', 0))} pruned, {int(c.get('INFEASIBLE', 0))} infeasible "
               f"(never trained), {int(c.get('FAIL', 0))} failed; "
               f"{int(data.counts.set_index('state')['baseline'].get('all', 0))} baselines.")
    ft = data.front_table
    if len(ft):
        best = ft.loc[ft["mIoU"].idxmax()]
        cheap = ft.loc[ft["GFLOPs"].idxmin()]
        nb = int((ft["baseline"] != "").sum())
        extra = (f" ({nb} of them {'a baseline' if nb == 1 else 'baselines'})" if nb else "")
        out.append(f"The front has {len(ft)} architectures{extra}, from trial "
                   f"{int(cheap['trial'])} (mIoU {cheap['mIoU']:.4f} at {cheap['GFLOPs']:.3g} "
                   f"GFLOPs) to trial {int(best['trial'])} (mIoU {best['mIoU']:.4f} at "
                   f"{best['GFLOPs']:.3g} GFLOPs).")
    else:
        out.append("No search trial completed within the budget, so there is no front yet.")
    out.append(f"Hypervolume {data.hypervolume.final:.4f}"
               + (f" (baselines alone: {data.hypervolume.baselines:.4f})"
                  if data.hypervolume.baselines is not None else "")
               + f"; {data.hypervolume.verdict}.")
    for _, b in data.baselines.iterrows():
        if b["beaten"] is None:
            out.append(f"Baseline {b['baseline']} ({b['state']}): not compared (no score).")
        elif b["beaten"]:
            out.append(f"Baseline {b['baseline']} (mIoU {b['mIoU']:.4f}) is beaten at equal cost "
                       f"by trial {b['search at equal cost']} (mIoU {b['its mIoU']:.4f}, "
                       f"{b['delta mIoU']:+.4f}).")
        else:
            out.append(f"Baseline {b['baseline']} (mIoU {b['mIoU']:.4f}) is not beaten at equal "
                       "cost by any search trial.")
    if data.importance.reason:
        out.append(f"Parameter importance: {data.importance.reason}.")
    elif data.importance.targets:
        key = next(iter(data.importance.targets))
        top = list(data.importance.targets[key].items())[:3]
        out.append(f"Most important parameters ({key}): "
                   + ", ".join(f"{k} {v:.2f}" for k, v in top) + ".")
    return out
