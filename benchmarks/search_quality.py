"""Search quality at equal compute: the default strategy (constrained, surrogate-assisted
evolution) against random search within the budget over several seeds, and Optuna's NSGA-II
and TPE at one seed.

    python benchmarks/search_quality.py [--data camvid:../shared/data/camvid_240x180]
        [--budget 5GFLOPs] [--input 512x512] [--trials 40] [--seeds 0,1,2]
        [--optuna-seed 0] [--threads 2] [--out results/search-quality] [--only LABEL]
        [--cache benchmarks/search_quality.json] [--epochs N --n-train N ...]

Protocol: the same data, budget, proxy schedule (the default one unless overridden; the
converged-reference issue chooses it) and pruning for every run. Each seed's evolution run
trains --trials candidates; every other run of that seed (random; nsga2 and tpe at
--optuna-seed) trains at least as many and then continues, a few candidates at a time, until
its compute reaches the evolution run's, and is cut there: equal compute in GFLOP-epochs (the
sum over trained candidates of epochs run x GFLOPs at the deployment input; every candidate
trains on the same images at the same crop, so this is proportional to the training FLOPs and
does not depend on how busy the machine was). Baselines are off (they are the same for all).
Known limit: the cut at equal compute can leave the compared run with fewer trained candidates
than --trials when its candidates cost more than the evolution run's (the evolution run is not
extended to match); the table prints both counts.

Printed per run: hypervolume of the mIoU-GFLOPs front (one reference point for all runs: mIoU
0 at the FLOPs budget), best feasible mIoU, front size, trained candidates, proposals made and
in budget, duplicates skipped, over-budget trials stored, seconds in storage against seconds
training, the surrogate's held-out Kendall tau; then mean and standard deviation over seeds and
the paired hypervolume ratio evolution / random per seed.

Resumable: every run is a normal run folder under --out (rerunning resumes it), and each
finished run's figures are cached in --cache (a small JSON, committed, with the command that
reproduces them); a cached run is not run again. --only LABEL (e.g. evolution-s1) does one run
per invocation, so a long benchmark can be done in pieces.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from nas.cost import parse_size
from nas.proxy import DEFAULT_SCHEDULE
from nas.search import (
    SearchSettings,
    hypervolume,
    pareto_mask,
    read_run,
    run_search,
    storage_seconds,
)

STEP = 5  # candidates added at a time while a run catches up with the evolution run's compute


def _trained(df: pd.DataFrame) -> pd.DataFrame:
    rows = df[~df["baseline"]]
    return rows[rows["state"].isin(["COMPLETE", "PRUNED", "FAIL"])
                & ~rows["reason"].str.startswith("interrupted")
                & ~rows["reason"].str.startswith("duplicate")]


def _gflop_epochs(df: pd.DataFrame) -> float:
    rows = _trained(df)
    return float((rows["epochs_run"].fillna(0) * rows["gflops"]).sum())


def _cut(df: pd.DataFrame, target: float) -> pd.DataFrame:
    """The run up to the trial with which its GFLOP-epochs first reach ``target``."""
    rows = _trained(df).sort_values("number")
    spent = (rows["epochs_run"].fillna(0) * rows["gflops"]).cumsum()
    reached = rows.loc[spent >= target, "number"]
    return df if reached.empty else df[df["number"] <= reached.iloc[0]]


def _figures(df: pd.DataFrame, run_dir: Path, budget_g: float, storage_s: float) -> dict:
    rows = df[~df["baseline"]]
    ok = rows[(rows["state"] == "COMPLETE") & rows["feasible"]]
    pts = ok[["miou", "gflops"]].to_numpy()
    hv = hypervolume(pts, ["maximize", "minimize"], [0.0, budget_g])
    info = read_run(run_dir)
    trained = _trained(df)
    draws = {"proposed": 0, "in_budget": 0, "duplicates": 0}
    from optuna import load_study

    from nas.search import make_storage

    study = load_study(study_name=info["name"], storage=make_storage(info["storage"]))
    kept = set(df["number"])
    taus = []
    for t in study.get_trials(deepcopy=False):
        if t.number not in kept:
            continue
        for k in draws:
            draws[k] += int((t.user_attrs.get("draws") or {}).get(k, 0))
        sur = t.user_attrs.get("surrogate") or {}
        if "pred" in sur and t.values and not t.user_attrs.get("infeasible"):
            taus.append((sur["pred"], t.values[0]))
    from scipy.stats import kendalltau

    tau = float(kendalltau(*np.array(taus).T)[0]) if len(taus) >= 3 else None
    return {
        "hypervolume": hv,
        "best_miou": float(ok["miou"].max()) if len(ok) else float("nan"),
        # recomputed on the kept trials: a cut run's front is not the whole run's
        "front": int(pareto_mask(pts, ["maximize", "minimize"]).sum()) if len(pts) else 0,
        "trained": len(trained),
        "pruned": int((rows["state"] == "PRUNED").sum()),
        "infeasible": int((rows["state"] == "INFEASIBLE").sum()),
        "proposed": draws["proposed"],
        "in_budget": draws["in_budget"],
        "duplicates": draws["duplicates"],
        "gflop_epochs": _gflop_epochs(df),
        "train_s": float(trained["train_s"].fillna(0).sum()),
        "storage_s": storage_s,
        "surrogate_tau": tau,
        "surrogate_n": len(taus),
    }


_STORAGE: dict[str, float] = {}


def _search(label: str, strategy: str, seed: int, trials: int, common: dict, out: Path
            ) -> tuple[pd.DataFrame, Path, str]:
    """The run (resumed to ``trials``) and its status; the seconds it spent in storage are
    added up. An interrupted run (Ctrl-C, SIGTERM) ends the benchmark here, uncached: rerun
    to resume it."""
    s = SearchSettings(name=label, out=out / label, strategy=strategy, seed=seed,
                       trials=trials, time_s=None, baselines=False, **common)
    t0 = storage_seconds()
    result = run_search(s, quiet=True)
    _STORAGE[label] = _STORAGE.get(label, 0.0) + storage_seconds() - t0
    if result.status == "interrupted":
        print(f"  {label}: interrupted; rerun the same command to resume it", flush=True)
        raise SystemExit(130)
    return result.trials, s.run_dir, result.status


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default="camvid:../shared/data/camvid_240x180")
    ap.add_argument("--budget", default="5GFLOPs")
    ap.add_argument("--input", default="512x512")
    ap.add_argument("--trials", type=int, default=40)
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--optuna-seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", type=Path, default=Path("results/search-quality"))
    ap.add_argument("--cache", type=Path, default=Path(__file__).with_suffix(".json"))
    ap.add_argument("--only", default=None, help="do (or read) this run only, e.g. random-s1")
    for flag in ("--epochs", "--n-train", "--n-val", "--batch-size"):
        ap.add_argument(flag, type=int, default=None, help="proxy schedule override")
    ap.add_argument("--train-size", default=None, help="proxy crop HxW override")
    args = ap.parse_args()

    schedule = DEFAULT_SCHEDULE.replace(
        threads=args.threads, epochs=args.epochs, n_train=args.n_train, n_val=args.n_val,
        batch_size=args.batch_size,
        train_size=parse_size(args.train_size) if args.train_size else None)
    # one population size for every run, also while a run catches up with more --trials
    common = dict(space="hybrid", data=args.data, input_size=parse_size(args.input),
                  budgets=(args.budget,), schedule=schedule, pruning=True,
                  population=max(4, min(50, args.trials // 4)),
                  command="benchmarks/search_quality.py")
    budget_g = SearchSettings(**common).budget.get("flops").value / 1e9
    key = json.dumps({k: (v.to_dict() if hasattr(v, "to_dict") else v)
                      for k, v in common.items() | {"trials": args.trials}.items()},
                     sort_keys=True, default=str)
    cache = json.loads(args.cache.read_text()) if args.cache.exists() else {}
    runs = cache.setdefault(key, {})
    seeds = [int(x) for x in args.seeds.split(",") if x.strip()]
    plan = [(f"evolution-s{s}", "evolution", s) for s in seeds]
    plan += [(f"random-s{s}", "random", s) for s in seeds]
    plan += [(f"{n}-s{args.optuna_seed}", n, args.optuna_seed) for n in ("nsga2", "tpe")]
    print(f"# data {args.data}, budget {args.budget} at {args.input}, >= {args.trials} "
          f"trained candidates per run, schedule {schedule.epochs} epochs x "
          f"{schedule.n_train} images at {schedule.train_size}, pruning on, {args.threads} "
          "threads")
    for label, strategy, seed in plan:
        if args.only and label != args.only or label in runs:
            continue
        ref = f"evolution-s{seed}"
        if strategy != "evolution" and ref not in runs:
            print(f"  {label}: waiting for {ref}")
            continue
        n = args.trials
        df, run_dir, status = _search(label, strategy, seed, n, common, args.out)
        if strategy != "evolution":  # catch up with the evolution run's compute
            target = runs[ref]["gflop_epochs"]
            while _gflop_epochs(df) < target and status == "finished":
                spent = _gflop_epochs(df)
                n = len(_trained(df)) + STEP
                df, run_dir, status = _search(label, strategy, seed, n, common, args.out)
                if _gflop_epochs(df) <= spent:  # nothing more was trained
                    break
            df = _cut(df, target)
        runs[label] = {**_figures(df, run_dir, budget_g, _STORAGE[label]),
                       "strategy": strategy, "seed": seed, "status": status,
                       "command": " ".join([sys.executable.rsplit("/", 1)[-1], *sys.argv])}
        # merged into the file as it is now (another --only piece may have written meanwhile)
        disk = json.loads(args.cache.read_text()) if args.cache.exists() else {}
        disk.setdefault(key, {})[label] = runs[label]
        runs = {**disk[key], **runs}
        tmp = args.cache.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(disk, indent=1, sort_keys=True) + "\n")
        os.replace(tmp, args.cache)
        print(f"  {label}: done ({status})")

    if not runs:
        return
    table = pd.DataFrame(runs).T
    cols = ["hypervolume", "best_miou", "front", "trained", "pruned", "proposed", "in_budget",
            "duplicates", "infeasible", "gflop_epochs", "storage_s", "train_s", "surrogate_tau"]
    pd.set_option("display.width", 200)
    print()
    print(table[cols].to_string(float_format=lambda v: f"{v:.4f}"))
    for strategy in ("evolution", "random"):
        sub = table[table["strategy"] == strategy]
        if len(sub):
            hv = sub["hypervolume"].astype(float)
            best = sub["best_miou"].astype(float)
            print(f"{strategy:9s} over seeds {list(sub['seed'])}: hypervolume "
                  f"{hv.mean():.4f} +- {hv.std(ddof=1) if len(hv) > 1 else 0:.4f}, best mIoU "
                  f"{best.mean():.4f} +- {best.std(ddof=1) if len(best) > 1 else 0:.4f}")
    ratios = []
    for s in seeds:
        e, r = runs.get(f"evolution-s{s}"), runs.get(f"random-s{s}")
        if e and r and r["hypervolume"]:
            ratios.append(e["hypervolume"] / r["hypervolume"])
            print(f"seed {s}: hypervolume evolution / random = {ratios[-1]:.3f}")
    if ratios:
        print(f"paired ratio: mean {np.mean(ratios):.3f}, min {min(ratios):.3f} "
              f"(goal: >= 1.10 on the mean and on every seed)")
    for label, r in runs.items():
        share = r["storage_s"] / max(r["train_s"] + r["storage_s"], 1e-9)
        print(f"{label}: storage {r['storage_s']:.1f} s vs training {r['train_s']:.1f} s "
              f"({share:.1%}); {r['in_budget']}/{r['proposed']} proposals in budget")


if __name__ == "__main__":
    main()
