"""Search quality at equal compute: the default strategy (constrained, surrogate-assisted
evolution) against random search within the budget over several seeds, and Optuna's NSGA-II
and TPE at one seed.

    python benchmarks/search_quality.py [--data camvid:../shared/data/camvid_240x180]
        [--budget 5GFLOPs] [--input 512x512] [--trials 40] [--seeds 0,1,2]
        [--optuna-seed 0] [--threads 2] [--out results/search-quality] [--only LABEL]
        [--cache benchmarks/search_quality.json] [--epochs N --n-train N ...]

Protocol: the same data, budget, proxy schedule (the default one unless overridden; the
converged-reference issue chooses it) and pruning for every run; baselines off (they are the
same for all). Every run first trains --trials candidates. Then the runs of one seed (evolution
and random; nsga2 and tpe too at --optuna-seed) are brought to equal compute in GFLOP-epochs
(the sum over trained candidates of epochs run x GFLOPs at the deployment input; every candidate
trains on the same images at the same crop, so this is proportional to the training FLOPs and
does not depend on how busy the machine was): the seed's target is the largest compute any of
its runs spent on its first --trials candidates; every other run of the seed is resumed, a few
candidates at a time, until it reaches the target, and each run is cut at the trial with which
it first does. So every compared run has at least --trials trained candidates and the same
compute. A run that finishes later can raise its seed's target; the earlier runs of that seed
are then extended on the next invocation (their run folders resume; without them they are run
again from their seed).

Printed per run: hypervolume of the mIoU-GFLOPs front (one reference point for all runs: mIoU
0 at the FLOPs budget), best feasible mIoU, front size, trained candidates, proposals made and
in budget, duplicates skipped, over-budget trials stored, seconds in storage against seconds
training, the surrogate's held-out Kendall tau; then mean and standard deviation over seeds and
the paired hypervolume ratio evolution / random per seed.

Resumable: every run is a normal run folder under --out (rerunning resumes it), and each run's
per-trial rows are cached in --cache (a small JSON, committed, with the command that reproduces
them), from which the cut and the figures are computed; a run cached at the target is not run
again. --only LABEL (e.g. evolution-s1) does one run per invocation (and extends the cached runs
of its seed to the new target), so a long benchmark can be done in pieces.
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
    counts,
    hypervolume,
    make_storage,
    pareto_mask,
    read_run,
    run_search,
    storage_seconds,
)

STEP = 5  # candidates added at a time while a run catches up with its seed's target compute


def _rows(df: pd.DataFrame, run_dir: Path) -> list[dict]:
    """The run's non-baseline trials, in order, with what the figures need: whether the trial
    was trained (as the library counts it: ``nas.search.counts``), its cost and score, the
    draws its proposal took and the surrogate's prediction for it (made before it was
    trained)."""
    from optuna import load_study

    info = read_run(run_dir)
    study = load_study(study_name=info["name"], storage=make_storage(info["storage"]))
    by_number = {t.number: t for t in study.get_trials(deepcopy=False)}
    out = []
    for _, r in df[~df["baseline"]].sort_values("number").iterrows():
        t = by_number[int(r["number"])]
        draws, sur = t.user_attrs.get("draws") or {}, t.user_attrs.get("surrogate") or {}
        rec = {"number": t.number, "state": str(r["state"]),
               "feasible": bool(r["feasible"]), "trained": counts([t]).trained == 1,
               "miou": None if pd.isna(r["miou"]) else float(r["miou"]),
               "gflops": float(r["gflops"]),
               "epochs_run": 0 if pd.isna(r["epochs_run"]) else int(r["epochs_run"]),
               "train_s": 0.0 if pd.isna(r["train_s"]) else float(r["train_s"]),
               "proposed": int(draws.get("proposed", 0)),
               "in_budget": int(draws.get("in_budget", 0)),
               "duplicates": int(draws.get("duplicates", 0))}
        if "pred" in sur:
            rec["sur_pred"] = float(sur["pred"])
        out.append(rec)
    return out


def _spent(rows: pd.DataFrame) -> pd.Series:
    """Cumulative GFLOP-epochs over the trained trials, by trial order."""
    return (rows["epochs_run"] * rows["gflops"]).where(rows["trained"], 0.0).cumsum()


def _first_compute(rows: pd.DataFrame, trials: int) -> float:
    """GFLOP-epochs spent on the first ``trials`` trained candidates."""
    t = rows[rows["trained"]].head(trials)
    return float((t["epochs_run"] * t["gflops"]).sum())


def _cut(rows: pd.DataFrame, target: float) -> pd.DataFrame:
    """The run up to the trial with which its GFLOP-epochs first reach ``target``."""
    reached = rows.index[_spent(rows) >= target - 1e-9]
    return rows if len(reached) == 0 else rows.loc[: reached[0]]


def _figures(rows: pd.DataFrame, budget_g: float) -> dict:
    ok = rows[(rows["state"] == "COMPLETE") & rows["feasible"]]
    pts = ok[["miou", "gflops"]].to_numpy(dtype=float)
    hv = hypervolume(pts, ["maximize", "minimize"], [0.0, budget_g])
    trained = rows[rows["trained"]]
    scored = rows[rows["sur_pred"].notna() & rows["miou"].notna()
                  & rows["state"].isin(["COMPLETE", "PRUNED"])]
    from scipy.stats import kendalltau

    tau = (float(kendalltau(scored["sur_pred"], scored["miou"])[0]) if len(scored) >= 3
           else None)
    return {
        "hypervolume": hv,
        "best_miou": float(ok["miou"].max()) if len(ok) else float("nan"),
        "front": int(pareto_mask(pts, ["maximize", "minimize"]).sum()) if len(pts) else 0,
        "trained": len(trained),
        "pruned": int((rows["state"] == "PRUNED").sum()),
        "infeasible": int((rows["state"] == "INFEASIBLE").sum()),
        "proposed": int(rows["proposed"].sum()),
        "in_budget": int(rows["in_budget"].sum()),
        "duplicates": int(rows["duplicates"].sum()),
        "gflop_epochs": float((trained["epochs_run"] * trained["gflops"]).sum()),
        "train_s": float(trained["train_s"].sum()),
        "surrogate_tau": tau,
        "surrogate_n": len(scored),
    }


def _frame(run: dict) -> pd.DataFrame:
    df = pd.DataFrame(run["rows"])
    if "sur_pred" not in df:
        df["sur_pred"] = np.nan
    return df.reset_index(drop=True)


def _search(label: str, strategy: str, seed: int, trials: int, common: dict, out: Path
            ) -> tuple[list[dict], str, float]:
    """The run resumed to ``trials`` trained candidates: its rows, status and the seconds this
    call spent in storage. An interrupted run (Ctrl-C, SIGTERM) ends the benchmark here, with
    what is cached so far kept: rerun to resume it."""
    s = SearchSettings(name=label, out=out / label, strategy=strategy, seed=seed,
                       trials=trials, time_s=None, baselines=False, **common)
    t0 = storage_seconds()
    result = run_search(s, quiet=True)
    spent = storage_seconds() - t0
    if result.status == "interrupted":
        print(f"  {label}: interrupted; rerun the same command to resume it", flush=True)
        raise SystemExit(130)
    return _rows(result.trials, s.run_dir), result.status, spent


def _store(path: Path, key: str, label: str, run: dict) -> dict:
    """Merge one run into the cache file as it is now (another --only piece may have written
    meanwhile); returns the merged runs of ``key``."""
    disk = json.loads(path.read_text()) if path.exists() else {}
    disk.setdefault(key, {})[label] = run
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(disk, indent=1, sort_keys=True) + "\n")
    os.replace(tmp, path)
    return disk[key]


def _sd(x: pd.Series) -> float:
    return float(x.std(ddof=1)) if len(x) > 1 else 0.0


def _target(runs: dict, seed: int, trials: int) -> float | None:
    mine = [r for r in runs.values() if r["seed"] == seed]
    return max((_first_compute(_frame(r), trials) for r in mine), default=None)


def _report(runs: dict, seeds: list[int], trials: int, budget_g: float) -> None:
    figs = {}
    for label, run in runs.items():
        df, target = _frame(run), _target(runs, run["seed"], trials)
        cut = _cut(df, target)
        f = _figures(cut, budget_g)
        f["at_target"] = bool(f["gflop_epochs"] >= target - 1e-9)
        f["storage_share"] = run["storage_s"] / max(run["storage_s"] + df["train_s"].sum(), 1e-9)
        figs[label] = {**f, "strategy": run["strategy"], "seed": run["seed"],
                       "storage_s": run["storage_s"], "target": target}
    if not figs:
        return
    table = pd.DataFrame(figs).T
    cols = ["hypervolume", "best_miou", "front", "trained", "pruned", "proposed", "in_budget",
            "duplicates", "infeasible", "gflop_epochs", "at_target", "storage_s", "train_s",
            "surrogate_tau"]
    pd.set_option("display.width", 220)
    print()
    print(table[cols].to_string(float_format=lambda v: f"{v:.4f}"))
    done = table[table["at_target"].astype(bool)]
    for strategy in ("evolution", "random"):
        sub = done[done["strategy"] == strategy]
        if len(sub):
            hv, best = sub["hypervolume"].astype(float), sub["best_miou"].astype(float)
            print(f"{strategy:9s} over seeds {list(sub['seed'])}: hypervolume "
                  f"{hv.mean():.4f} +- {_sd(hv):.4f}, best mIoU {best.mean():.4f} +- "
                  f"{_sd(best):.4f} (mean +- sd over seeds)")
    ratios = []
    for s in seeds:
        e, r = f"evolution-s{s}", f"random-s{s}"
        if e in done.index and r in done.index and done.loc[r, "hypervolume"]:
            ratios.append(done.loc[e, "hypervolume"] / done.loc[r, "hypervolume"])
            print(f"seed {s}: hypervolume evolution / random = {ratios[-1]:.3f} at "
                  f"{done.loc[e, 'target']:.1f} GFLOP-epochs each")
    if ratios:
        print(f"paired ratio over {len(ratios)} seeds: mean {np.mean(ratios):.3f}, min "
              f"{min(ratios):.3f} (goal: >= 1.10 on the mean and on every seed)")
    for label, f in figs.items():
        print(f"{label}: storage {f['storage_s']:.1f} s vs training {f['train_s']:.1f} s "
              f"({f['storage_share']:.2%} of the run's storage + training); "
              f"{f['in_budget']}/{f['proposed']} proposals in budget")


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
    runs = cache.get(key, {})
    seeds = [int(x) for x in args.seeds.split(",") if x.strip()]
    plan = [(f"evolution-s{s}", "evolution", s) for s in seeds]
    plan += [(f"random-s{s}", "random", s) for s in seeds]
    plan += [(f"{n}-s{args.optuna_seed}", n, args.optuna_seed) for n in ("nsga2", "tpe")]
    strategy_of = {label: (strategy, seed) for label, strategy, seed in plan}
    command = " ".join([sys.executable.rsplit("/", 1)[-1], *sys.argv])
    print(f"# data {args.data}, budget {args.budget} at {args.input}, >= {args.trials} "
          f"trained candidates per run, schedule {schedule.epochs} epochs x "
          f"{schedule.n_train} images at {schedule.train_size}, pruning on, {args.threads} "
          "threads", flush=True)

    def run_to(label: str, n: int) -> dict:
        strategy, seed = strategy_of[label]
        rows, status, st = _search(label, strategy, seed, n, common, args.out)
        old = runs.get(label, {})
        return {"rows": rows, "status": status, "strategy": strategy, "seed": seed,
                "storage_s": float(old.get("storage_s", 0.0)) + st,
                "command": old.get("command", command)}

    for label, _strategy, seed in plan:
        if args.only and label != args.only:
            continue
        if label not in runs:
            runs = _store(args.cache, key, label, run_to(label, args.trials))
            print(f"  {label}: {args.trials} trained ({runs[label]['status']})", flush=True)
        target = _target(runs, seed, args.trials)
        for other in [lb for lb, r in runs.items() if r["seed"] == seed and lb in strategy_of]:
            while True:
                df = _frame(runs[other])
                spent = float(_spent(df).iloc[-1]) if len(df) else 0.0
                if spent >= target - 1e-9 or runs[other]["status"] != "finished":
                    break
                n = int(df["trained"].sum()) + STEP
                runs = _store(args.cache, key, other, run_to(other, n))
                new = _frame(runs[other])
                print(f"  {other}: extended to {int(new['trained'].sum())} trained, "
                      f"{float(_spent(new).iloc[-1]):.1f} of {target:.1f} GFLOP-epochs",
                      flush=True)
                if float(_spent(new).iloc[-1]) <= spent:  # nothing more was trained
                    break
    _report(runs, seeds, args.trials, budget_g)


if __name__ == "__main__":
    main()
