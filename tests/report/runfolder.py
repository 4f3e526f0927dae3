"""A run folder written by hand in the documented layout (results/README.md), for the report and
export tests: ~24 hybrid-space candidates priced by the analytic cost model, a few of them
really proxy-trained (tiny schedule, synthetic data) with weights, the rest scored by a fixed
formula, plus infeasible, pruned and failed trials and two baselines; an Optuna study.db holding
the same trials. Loaded by the tests with ``load_helper()`` (no package __init__ in tests/)."""

from __future__ import annotations

import json
import math
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pandas as pd

BUDGET_FLOPS = 30e9
INPUT = (512, 512)
DATA = "synthetic:24,8,size=48"
N_SEARCH = 24
N_TRAINED = 3  # the cheapest feasible candidates are really trained (weights written)


def _schedule():
    from nas.proxy import Schedule

    return Schedule(epochs=1, batch_size=8, train_size=(48, 48), n_train=None, n_val=None,
                    lr=4e-3, threads=1)


def build_run(root: Path, name: str = "fixture", n_search: int = N_SEARCH,
              n_trained: int = N_TRAINED) -> Path:
    """Write ``root/name`` and return it."""
    import optuna
    from optuna.distributions import CategoricalDistribution

    from nas.arch import load_arch
    from nas.cost import estimate
    from nas.data import load_data
    from nas.proxy import save_weights, train
    from nas.space import load_space

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    run = root / name
    (run / "pareto").mkdir(parents=True)
    (run / "weights").mkdir()
    space = load_space("hybrid")
    tr, va = load_data(DATA, "train"), load_data(DATA, "val")
    k = tr.num_classes
    cands = [space.sample(seed=i, num_classes=k) for i in range(n_search)]
    costs = [estimate(a, INPUT) for a in cands]
    feasible = [c.flops <= BUDGET_FLOPS for c in costs]
    order = sorted((i for i in range(n_search) if feasible[i]), key=lambda i: costs[i].flops)
    trained = set(order[:n_trained])
    t0 = datetime(2025, 1, 1, 12, 0, tzinfo=timezone.utc)
    storage = f"sqlite:///{(run / 'study.db').resolve()}"
    study = optuna.create_study(study_name=name, storage=storage,
                                directions=["maximize", "minimize"])
    rows, clock = [], t0
    for i, (arch, cost) in enumerate(zip(cands, costs)):
        params = space.params(arch)
        dists = {lab: CategoricalDistribution(space.dimensions[lab].choices) for lab in params}
        g = cost.flops / 1e9
        state, miou, reason, epochs, dur = "COMPLETE", math.nan, "", [], 0.0
        if not feasible[i]:
            state, reason = "INFEASIBLE", f"flops {cost.flops - BUDGET_FLOPS:+.3g} over budget"
        elif i in trained:
            t = time.perf_counter()
            res = train(arch, tr, va, _schedule(), seed=0, keep_model=True)
            dur = time.perf_counter() - t
            miou, epochs = res.miou, list(res.epoch_miou)
            meta = {"arch_json": arch.to_json(indent=None)}  # as nas.search writes it
            save_weights(res.model, run / "weights" / f"trial-{i}.safetensors", metadata=meta)
        elif i % 5 == 2:
            state, reason, epochs = "PRUNED", "pruned at epoch 1", [0.05]
        elif i % 11 == 5:
            state, reason = "FAIL", "RuntimeError: out of memory"
        else:  # a fixed score: grows with log FLOPs, with a seeded wiggle
            miou = 0.1 + 0.05 * math.log1p(g) + 0.02 * math.sin(3.0 * i)
            epochs = [miou * 0.7, miou]
        dur = dur or (5.0 + g)
        start, clock = clock, clock + timedelta(seconds=dur)
        rows.append(_row(i, state, arch, cost, miou, epochs, reason, start, clock, params,
                         feasible[i], "", dur))
        values = [miou, float(cost.flops)] if state == "COMPLETE" else None
        ostate = {"COMPLETE": "COMPLETE", "FAIL": "FAIL"}.get(state, "PRUNED")
        attrs = {"infeasible": True} if state == "INFEASIBLE" else {}
        study.add_trial(optuna.trial.create_trial(
            state=optuna.trial.TrialState[ostate], values=values, params=params,
            distributions=dists, user_attrs=attrs))
    for j, (bname, state) in enumerate([("afformer_tiny", "COMPLETE"), ("hrvit_b1", "FAIL")]):
        arch = load_arch(bname)
        arch = type(arch).from_dict({**arch.to_dict(), "num_classes": k})
        cost = estimate(arch, INPUT)
        miou = 0.2 if state == "COMPLETE" else math.nan
        n = n_search + j
        start, clock = clock, clock + timedelta(seconds=30)
        rows.append(_row(n, state, arch, cost, miou, [miou] if state == "COMPLETE" else [],
                         "" if state == "COMPLETE" else "NaN loss", start, clock, {},
                         cost.flops <= BUDGET_FLOPS, bname, 30.0))
        study.add_trial(optuna.trial.create_trial(
            state=optuna.trial.TrialState[state],
            values=[miou, float(cost.flops)] if state == "COMPLETE" else None,
            user_attrs={"baseline": True, "baseline_name": bname}))
    df = pd.DataFrame(rows)
    _mark_front(df)
    for n in df.loc[df["pareto"], "number"]:
        (run / "pareto" / f"trial-{n}.yaml").write_text(
            load_arch_json(df.loc[df["number"] == n, "arch_json"].iloc[0]).to_yaml())
    df.to_csv(run / "trials.csv", index=False)
    df.to_parquet(run / "trials.parquet", index=False)
    # run.json as the search writes it (nas.search.write_run, the one writer)
    from nas.search import SearchSettings, write_run

    settings = SearchSettings(name=name, out=run, space="hybrid", data=DATA, input_size=INPUT,
                              budgets=("30GFLOPs",), schedule=_schedule(), strategy="nsga2",
                              command=f"nas search --budget 30GFLOPs --name {name}")
    write_run(settings, space.hash, "finished")
    return run


def load_arch_json(text: str):
    from nas.arch import ArchConfig

    return ArchConfig.from_json(text)


def _row(n, state, arch, cost, miou, epochs, reason, start, end, params, feasible, bname, dur):
    row = {"number": n, "state": state, "baseline": bool(bname), "baseline_name": bname,
           "feasible": bool(feasible),
           "violation": json.dumps({"flops": cost.flops - BUDGET_FLOPS}),
           "flops": int(cost.flops), "gflops": cost.flops / 1e9, "params": int(cost.params),
           "mparams": cost.params / 1e6, "latency_ms": math.nan, "miou": miou,
           "pixel_acc": miou + 0.3 if not math.isnan(miou) else math.nan}
    for e in range(2):
        row[f"miou_e{e + 1}"] = epochs[e] if e < len(epochs) else math.nan
    row.update({"epochs_run": len(epochs), "duration_s": dur, "train_s": dur,
                "images_per_s": 24.0 / dur if dur else math.nan,
                "datetime_start": start.isoformat(), "datetime_complete": end.isoformat(),
                "reason": reason, "arch_json": arch.to_json(indent=None)})
    row.update({f"p.{k}": str(v) for k, v in params.items()})
    return row


def _mark_front(df: pd.DataFrame) -> None:
    from nas.metrics import pareto_mask

    ok = (df["state"] == "COMPLETE") & df["feasible"] & df["miou"].notna()  # baselines too
    mask = pareto_mask(df.loc[ok, ["miou", "flops"]].to_numpy(float), ["maximize", "minimize"])
    df["pareto"] = False
    df.loc[df.index[ok][mask], "pareto"] = True
