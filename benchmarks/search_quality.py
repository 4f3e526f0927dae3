"""Search quality at equal compute: the default strategy (NSGA-II with the cost-band pruner)
against plain random search, against the published designs (baselines), and with pruning off.

    python benchmarks/search_quality.py [--data camvid:../shared/data/camvid_240x180]
        [--budget 5GFLOPs] [--input 512x512] [--trials 30] [--seed 0] [--threads 2]
        [--out results/search-quality] [--c-trials N] [--runs ABC]

Three searches on the same data, budget, proxy schedule and seed, each a normal run folder
under --out (rerunning the script resumes them; a finished one is read back):
  A  nsga2 + pruning (the default), --trials trained candidates, with the baselines;
  B  random search within the budget, no pruning, for the same compute as A's search trials
     (baselines excluded). Compute is counted in GFLOP-epochs: the sum over trained
     candidates of epochs run x GFLOPs at the deployment input (every candidate trains on the
     same images at the same crop, so this is proportional to the training FLOPs), which does
     not depend on how busy the machine was; wall time is printed beside it;
  C  nsga2 without pruning, --trials trained candidates (what pruning saves, what it costs).
Printed: hypervolume of the mIoU-GFLOPs front (reference: mIoU 0 at the FLOPs budget), best
feasible mIoU, trained/pruned/infeasible counts and compute of each; for every baseline, the
best search mIoU at no more FLOPs.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import pandas as pd

from nas.cost import parse_size
from nas.proxy import DEFAULT_SCHEDULE
from nas.search import SearchSettings, hypervolume, run_search


def _search_rows(df: pd.DataFrame) -> pd.DataFrame:
    return df[~df["baseline"]]


def _trained(df: pd.DataFrame) -> pd.DataFrame:
    rows = _search_rows(df)
    return rows[rows["state"].isin(["COMPLETE", "PRUNED", "FAIL"])
                & ~rows["reason"].str.startswith("interrupted")]


def _compute_s(df: pd.DataFrame) -> float:
    """Wall time of trained search trials (infeasible ones are priced in microseconds)."""
    return float(_trained(df)["duration_s"].fillna(0).sum())


def _gflop_epochs(df: pd.DataFrame) -> float:
    rows = _trained(df)
    return float((rows["epochs_run"].fillna(0) * rows["gflops"]).sum())


def _summary(label: str, df: pd.DataFrame, budget_g: float) -> dict:
    rows = _search_rows(df)
    ok = rows[(rows["state"] == "COMPLETE") & rows["feasible"]]
    hv = hypervolume(ok[["miou", "gflops"]].to_numpy(), ["maximize", "minimize"],
                     [0.0, budget_g])
    return {
        "run": label,
        "trained": len(_trained(df)),
        "complete": int((rows["state"] == "COMPLETE").sum()),
        "pruned": int((rows["state"] == "PRUNED").sum()),
        "failed": int(((rows["state"] == "FAIL")
                       & ~rows["reason"].str.startswith("interrupted")).sum()),
        "infeasible": int((rows["state"] == "INFEASIBLE").sum()),
        "gflop_epochs": _gflop_epochs(df),
        "wall_min": _compute_s(df) / 60,
        "hypervolume": hv,
        "best_miou": float(ok["miou"].max()) if len(ok) else float("nan"),
        "front": int((rows["pareto"]).sum()),
    }


def _equal_compute_prefix(df: pd.DataFrame, target: float) -> pd.DataFrame:
    """The trials of a run up to the one with which its GFLOP-epochs first reach ``target``
    (the same run stopped at equal compute)."""
    rows = _trained(df).sort_values("number")
    spent = (rows["epochs_run"].fillna(0) * rows["gflops"]).cumsum()
    reached = rows.loc[spent >= target, "number"]
    return df if reached.empty else df[df["number"] <= reached.iloc[0]]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default="camvid:../shared/data/camvid_240x180")
    ap.add_argument("--budget", default="5GFLOPs")
    ap.add_argument("--input", default="512x512")
    ap.add_argument("--trials", type=int, default=30)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", type=Path, default=Path("results/search-quality"))
    ap.add_argument("--c-trials", type=int, default=None,
                    help="candidates of run C (default --trials; fewer to save time: the "
                    "pruning comparison then uses A's first as many)")
    ap.add_argument("--runs", default="ABC", help="which runs to do/read (e.g. 'C' alone in a "
                    "second process; a finished run is only read back)")
    args = ap.parse_args()

    schedule = DEFAULT_SCHEDULE.replace(threads=args.threads)
    common = dict(space="hybrid", data=args.data, input_size=parse_size(args.input),
                  budgets=(args.budget,), seed=args.seed, schedule=schedule,
                  command="benchmarks/search_quality.py")
    budget_g = SearchSettings(**common).budget.get("flops").value / 1e9
    t0 = time.time()
    print(f"# data {args.data}, budget {args.budget} at {args.input}, {args.trials} trained "
          f"candidates, seed {args.seed}, schedule {schedule.epochs} epochs at "
          f"{schedule.train_size}, {schedule.n_train} images, {args.threads} threads")

    if "C" in args.runs:
        c = run_search(SearchSettings(name="C-nsga2-nopruning", out=args.out / "C-nopruning",
                                      strategy="nsga2", trials=args.c_trials or args.trials,
                                      time_s=None, baselines=False, pruning=False, **common),
                       quiet=True).trials
        if args.runs == "C":
            print(_summary("C nsga2, no pruning", c, budget_g))
            return
    a = run_search(SearchSettings(name="A-nsga2", out=args.out / "A-nsga2", strategy="nsga2",
                                  trials=args.trials, time_s=None, baselines=True, **common),
                   quiet=True).trials
    target = _gflop_epochs(a)
    n_b = len(_trained(a))
    while True:  # random search, one more candidate at a time until it has had A's compute
        b = run_search(SearchSettings(name="B-random", out=args.out / "B-random",
                                      strategy="random", trials=n_b, time_s=None,
                                      baselines=False, pruning=False, **common),
                       quiet=True).trials
        if _gflop_epochs(b) >= target:
            break
        n_b += 1
    b = _equal_compute_prefix(b, target)
    rows = [_summary("A nsga2 + pruning (default)", a, budget_g),
            _summary("B random, no pruning", b, budget_g)]
    if "C" in args.runs:
        n_c = len(_trained(c))
        if n_c < len(_trained(a)):  # C stopped early: compare with A's first n_c candidates
            last = _trained(a)["number"].sort_values().iloc[n_c - 1]
            rows.append(_summary(f"A' = A up to its {n_c}th candidate",
                                 a[a["number"] <= last], budget_g))
        rows.append(_summary("C nsga2, no pruning", c, budget_g))
    table = pd.DataFrame(rows).set_index("run")
    pd.set_option("display.width", 160)
    print()
    print(table.to_string(float_format=lambda v: f"{v:.4f}"))
    ha, hb = table.iloc[0]["hypervolume"], table.iloc[1]["hypervolume"]
    print(f"\nA vs B at equal compute ({target:.0f} vs {_gflop_epochs(b):.0f} GFLOP-epochs): "
          f"hypervolume "
          f"{ha:.4f} vs {hb:.4f} ({(ha / hb - 1) * 100 if hb else float('nan'):+.1f}%), best "
          f"mIoU {table.iloc[0]['best_miou']:.4f} vs {table.iloc[1]['best_miou']:.4f}")
    if len(table) > 2:
        cc = table.iloc[-1]
        aa = table.iloc[2] if len(table) == 4 else table.iloc[0]
        ha = aa["hypervolume"]
        print(f"pruning: {aa.name} used {aa['gflop_epochs']:.0f} GFLOP-epochs "
              f"({aa['wall_min']:.1f} min) for {int(aa['trained'])} candidates, "
              f"C {cc['gflop_epochs']:.0f} "
              f"({cc['wall_min']:.1f} min): "
              f"{(1 - aa['gflop_epochs'] / cc['gflop_epochs']) * 100:.0f}% of the compute "
              f"saved; hypervolume {ha:.4f} vs {cc['hypervolume']:.4f}, best mIoU "
              f"{aa['best_miou']:.4f} vs {cc['best_miou']:.4f}")

    base = a[a["baseline"] & (a["state"] == "COMPLETE")]
    search = pd.concat([_search_rows(a), _search_rows(b)])
    search = search[(search["state"] == "COMPLETE") & search["feasible"]]
    print("\nbaselines (same proxy schedule) against the best search candidate at no more "
          "FLOPs (runs A and B):")
    for r in base.sort_values("gflops").itertuples():
        cheaper = search[search["gflops"] <= r.gflops]
        best = cheaper["miou"].max() if len(cheaper) else float("nan")
        print(f"  {r.baseline_name:28s} {r.gflops:6.2f} GFLOPs  mIoU {r.miou:.4f}   search "
              f"best {best:.4f} ({'beaten' if best > r.miou else 'not beaten'})")
    print(f"\ntotal wall time of this invocation: {(time.time() - t0) / 60:.1f} min")


if __name__ == "__main__":
    main()
