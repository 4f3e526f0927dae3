"""Proxy fidelity: does the short proxy run rank architectures like a >= 5x longer run?

    OMP_WAIT_POLICY=PASSIVE .venv/bin/python benchmarks/proxy_fidelity.py \\
        [--data camvid:../shared/data/camvid_240x180] [--seed 0] [--long-seeds 0,1] \\
        [--samples 2] [--short KEY=VALUE,...] [--long KEY=VALUE,...] [--resume]

With no options it measures ``nas.proxy.DEFAULT_SCHEDULE`` as shipped (4 epochs over 128 train
images, 96x96 crops, batch 8) against the committed long runs in proxy_fidelity_long.json:
8 epochs over all 367 CamVid train images at batch 16 (5.5x the proxy's training work), seeds 0
and 1, the reference being their mean mIoU. ``--short`` measures another proxy schedule (e.g.
``epochs=2,n_train=256``) against the same reference.

Architectures (fixed): the ten references scaled into 5 GFLOPs at 512x512 by
``nas.cost.scale_to_fit`` (the AFFormers already fit and stay as published), plus ``--samples``
seeded samples of ``hybrid.yaml`` within 5 GFLOPs (``nas.search.sample_within``, seeds 0, 1, ...).
Each is trained on ``--data`` (its train split; scored on its val split, with the data's class
count) with the short schedule (seed ``--seed``) and with the long one (each of
``--long-seeds``); the long schedule must do >= 5x the short one's training work (images x
pixels per crop).

Printed: one line per architecture (cost, mIoUs, wall times); the reference's own noise (tau
between the long seeds: the ceiling any proxy can reach against one long seed); the ranking
table; Kendall tau and Spearman rho between the short and the long ranking by mIoU, the same for
the short run's intermediate epochs and for its last training loss; and the baselines to beat:
FLOPs-only and params-only tau against the long ranking. Statistics by pandas (no scipy).

Caching (resumable after a kill): every run's result is a small JSON record keyed by a hash of
(arch config, schedule, seed, data spec). Long runs live in ``benchmarks/proxy_fidelity_long.json``
(committed, with the command that reproduces them and their schedule, which is the long default
so that changing the proxy default never invalidates them; only missing runs are trained).
Short runs are recomputed by default and written to ``results/proxy_fidelity/``; ``--resume``
reuses those instead.
"""

from __future__ import annotations

import argparse
import ast
import dataclasses
import hashlib
import json
import os
import platform
import sys
import time
from pathlib import Path

import pandas as pd
import torch

import nas
from nas.arch import ArchConfig, reference_names
from nas.cost import estimate, scale_to_fit
from nas.proxy import DEFAULT_SCHEDULE, Schedule, load_splits, train
from nas.search import sample_within

ROOT = Path(__file__).resolve().parents[1]
LONG_JSON = ROOT / "benchmarks" / "proxy_fidelity_long.json"
CACHE = ROOT / "results" / "proxy_fidelity"
BUDGET = "5GFLOPs"
DEFAULT_DATA = "camvid:../shared/data/camvid_240x180"
# The proxy measured: DEFAULT_SCHEDULE as shipped
DEFAULT_SHORT = ""
# The long reference: every train image (CamVid: 367 -> 22 batches of 16) for 8 epochs, scored
# once on the whole val split (batches of 16 train about 1.6x more images per second on CPU)
DEFAULT_LONG = "epochs=8,batch_size=16,n_train=None,n_val=None,eval_every=8"


# ---------------------------------------------------------------------------- set-up
def parse_overrides(text: str) -> dict:
    """``epochs=6,n_train=None,train_size=(96,96)`` -> dict (values as Python literals)."""
    out: dict = {}
    depth, item, items = 0, "", []
    for ch in text:
        if ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
        if ch == "," and depth == 0:
            items.append(item)
            item = ""
        else:
            item += ch
    items.append(item)
    for it in filter(None, (i.strip() for i in items)):
        key, sep, value = it.partition("=")
        if not sep:
            raise SystemExit(f"override {it!r}: write KEY=VALUE")
        v = ast.literal_eval(value.strip()) if value.strip() not in ("all", "none") else None
        out[key.strip()] = tuple(v) if isinstance(v, list) else v
    return out


def make_schedule(overrides: str) -> Schedule:
    return dataclasses.replace(DEFAULT_SCHEDULE, **parse_overrides(overrides))


def work(s: Schedule, n_available: int) -> int:
    """Training work of a schedule: images seen x pixels per crop."""
    n = min(s.n_train or n_available, n_available)
    bs = min(s.batch_size, n)
    return s.epochs * (n // bs) * bs * s.train_size[0] * s.train_size[1]


def architectures(samples: int) -> list[ArchConfig]:
    archs = [scale_to_fit(nas.load_arch(name), BUDGET) for name in reference_names()]
    space = nas.load_space("hybrid")
    for seed in range(samples):
        a = sample_within(space, BUDGET, seed=seed)
        archs.append(ArchConfig.from_dict({**a.to_dict(), "name": f"hybrid_s{seed}"}))
    return archs


def run_key(arch: ArchConfig, schedule: Schedule, seed: int, data: str) -> str:
    blob = json.dumps([arch.to_dict(), schedule.to_dict(), seed, data], sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def _write_json(path: Path, obj) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(obj, indent=1) + "\n")
    os.replace(tmp, path)


def record(arch: ArchConfig, result, key: str) -> dict:
    r = result.to_dict()
    return {"name": arch.name, "key": key, "status": r["status"], "reason": r["reason"],
            "miou": r["miou"], "pixel_acc": r["pixel_acc"], "epoch_miou": r["epoch_miou"],
            "loss_curve": [round(x, 4) if x is not None else None for x in r["loss_curve"]],
            "wall_s": round(r["wall_s"], 1), "train_s": round(r["train_s"], 1),
            "images_per_s": r["images_per_s"] and round(r["images_per_s"], 2),
            "steps": r["steps"], "params_trained": r["params"]}


# ---------------------------------------------------------------------------- runs
class Runner:
    def __init__(self, args, short: Schedule, long: Schedule):
        self.args, self.short, self.long = args, short, long
        self.splits: dict = {}
        self.long_path = Path(args.long_json)
        self.long_db = {}
        if self.long_path.is_file():
            self.long_db = json.loads(self.long_path.read_text()).get("runs", {})

    def data(self, schedule: Schedule):
        k = (schedule.n_train, schedule.n_val, schedule.eval_size)
        if k not in self.splits:
            spec = self.args.data
            kind, _, path = spec.partition(":")
            if path and not Path(path).is_absolute():  # relative to the repo root
                spec = f"{kind}:{(ROOT / path).resolve()}"
            self.splits[k] = load_splits(spec, None, schedule)
        return self.splits[k]

    def get(self, arch: ArchConfig, which: str, seed: int) -> tuple[dict, bool]:
        schedule = self.long if which == "long" else self.short
        key = run_key(arch, schedule, seed, self.args.data)
        cache_file = Path(self.args.cache) / f"{which}-{key}.json"
        if which == "long" and key in self.long_db:
            return self.long_db[key], True
        if which == "short" and self.args.resume and cache_file.is_file():
            return json.loads(cache_file.read_text()), True
        if which == "long" and self.args.no_train_long:
            raise SystemExit(f"long run of {arch.name} ({key}) is not in {self.long_path}; "
                             "drop --no-train-long to train it")
        tr, va = self.data(schedule)
        res = train(arch, tr, va, schedule, seed=seed)
        rec = {**record(arch, res, key), "seed": seed}
        _write_json(cache_file, rec)
        if which == "long":
            self.long_db[key] = rec
            self.save_long()
        return rec, False

    def save_long(self) -> None:
        seeds = ",".join(map(str, sorted({r["seed"] for r in self.long_db.values()})))
        cmd = ("OMP_WAIT_POLICY=PASSIVE .venv/bin/python benchmarks/proxy_fidelity.py "
               f"--data {self.args.data} --samples {self.args.samples} "
               f"--long-seeds {seeds} --only-long")
        _write_json(self.long_path, {
            "what": "long proxy runs of benchmarks/proxy_fidelity.py (the reference ranking)",
            "command": cmd, "data": self.args.data, "seeds": seeds,
            "schedule": self.long.to_dict(),
            "machine": f"{platform.machine()} {platform.processor()}, torch {torch.__version__}, "
                       f"{self.long.threads} threads",
            "runs": self.long_db,
        })


# ---------------------------------------------------------------------------- report
def tau_rho(a, b) -> tuple[float, float]:
    df = pd.DataFrame({"a": list(a), "b": list(b)}).dropna()
    return (float(df.corr(method="kendall").iloc[0, 1]),
            float(df.corr(method="spearman").iloc[0, 1]))


def long_schedule(args) -> Schedule:
    """``--long`` overrides of DEFAULT_SCHEDULE; without it, the schedule the committed long runs
    used (so changing the proxy's default never invalidates the reference)."""
    if args.long is not None:
        return make_schedule(args.long)
    path = Path(args.long_json)
    if path.is_file():
        return Schedule.from_dict(json.loads(path.read_text())["schedule"])
    return make_schedule(DEFAULT_LONG)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=DEFAULT_DATA)
    ap.add_argument("--seed", type=int, default=0, help="seed of the short (proxy) runs")
    ap.add_argument("--long-seeds", default="0,1",
                    help="seeds of the long runs; the reference is their mean mIoU")
    ap.add_argument("--samples", type=int, default=2, help="hybrid.yaml samples (>= 2: 12 archs)")
    ap.add_argument("--short", default=DEFAULT_SHORT,
                    help="overrides of DEFAULT_SCHEDULE for the proxy ('' = the default as is)")
    ap.add_argument("--long", default=None,
                    help=f"overrides for the long reference (default: the schedule stored in "
                         f"--long-json, else {DEFAULT_LONG!r})")
    ap.add_argument("--long-json", default=str(LONG_JSON))
    ap.add_argument("--cache", default=str(CACHE))
    ap.add_argument("--resume", action="store_true", help="reuse cached short runs")
    ap.add_argument("--only", default="", help="comma-separated arch names (a subset, for timing)")
    ap.add_argument("--only-long", action="store_true", help="train/collect long runs only")
    ap.add_argument("--no-train-long", action="store_true",
                    help="fail instead of training a long run missing from --long-json")
    args = ap.parse_args()
    seeds = [int(x) for x in args.long_seeds.split(",") if x.strip()]
    if not seeds:
        raise SystemExit("--long-seeds: give at least one seed, e.g. 0,1")

    short, long = make_schedule(args.short), long_schedule(args)
    archs = architectures(args.samples)
    if args.only:
        keep = set(args.only.split(","))
        archs = [a for a in archs if a.name in keep]
    runner = Runner(args, short, long)
    n_avail = len(runner.data(long)[0])
    ratio = work(long, n_avail) / work(short, n_avail)
    print(f"# torch {torch.__version__}, {platform.machine()}, threads {short.threads}, "
          f"data {args.data}, short seed {args.seed}, long seeds {seeds}, "
          f"{len(archs)} architectures")
    print(f"# short: {short.to_dict()}")
    print(f"# long : {long.to_dict()}")
    print(f"# long/short training work (images x crop pixels): {ratio:.2f}x")
    if ratio < 5:
        raise SystemExit("the long schedule must do >= 5x the short one's work")
    rows = []
    t0 = time.perf_counter()
    print(f"{'arch':22s} {'GFLOPs':>6s} {'Mpar':>5s} | {'short':>6s} {'wall s':>7s} | "
          + " | ".join(f"{'long' + str(sd):>6s} {'wall s':>7s}" for sd in seeds), flush=True)
    jobs = [("long", sd) for sd in seeds] + ([] if args.only_long else [("short", args.seed)])
    for arch in archs:
        cost = estimate(arch, (512, 512))
        row = {"arch": arch.name, "gflops": cost.flops / 1e9, "mparams": cost.params / 1e6}
        for which, sd in jobs:
            col = which if which == "short" else f"long{sd}"
            rec, cached = runner.get(arch, which, sd)
            ok = rec["status"] == "ok"
            row[col] = rec["miou"] if ok else None
            row[f"{col}_wall"] = rec["wall_s"]
            row[f"{col}_cached"] = cached
            if which == "short":
                row["short_epochs"] = rec["epoch_miou"]
                row["short_loss"] = rec["loss_curve"][-1] if ok else None
            if not ok:
                print(f"  {arch.name} {col}: {rec['status']}: {rec['reason']}", flush=True)
        rows.append(row)
        cells = []
        for col in ["short"] + [f"long{sd}" for sd in seeds]:
            if f"{col}_wall" not in row:
                cells.append(f"{'':6s} {'':7s}")
                continue
            v = "  -   " if row[col] is None else f"{row[col]:.4f}"
            cells.append(f"{v} {row[f'{col}_wall']:6.1f}{'*' if row[f'{col}_cached'] else ' '}")
        print(f"{arch.name:22s} {row['gflops']:6.2f} {row['mparams']:5.2f} | "
              + " | ".join(cells), flush=True)
    print(f"# (* = from cache; this invocation: {time.perf_counter() - t0:.0f} s)")
    df = pd.DataFrame(rows)
    long_cols = [f"long{sd}" for sd in seeds]
    df["long"] = df[long_cols].mean(axis=1, skipna=False)
    df["long_wall"] = df[[f"{c}_wall" for c in long_cols]].median(axis=1)
    noise(df, long_cols)
    if not args.only_long:
        report(df, short)


def noise(df: pd.DataFrame, long_cols: list[str]) -> None:
    """How well the long runs agree with themselves: the ceiling for any proxy."""
    for i, a in enumerate(long_cols):
        for b in long_cols[i + 1:]:
            t, r = tau_rho(df[a], df[b])
            gap = (df[a] - df[b]).abs()
            print(f"reference noise, {a} vs {b}: Kendall tau {t:+.3f}   Spearman {r:+.3f}   "
                  f"|mIoU gap| median {gap.median():.4f} max {gap.max():.4f}")


def report(df: pd.DataFrame, short: Schedule) -> None:
    ok = df.dropna(subset=["short", "long"])
    print(f"\n{len(ok)} of {len(df)} architectures scored by both runs "
          "(long = mean mIoU over the long seeds)")
    df = df.assign(short_rank=df["short"].rank(ascending=False).astype("Int64"),
                   long_rank=df["long"].rank(ascending=False).astype("Int64"))
    cols = ["arch", "gflops", "short", "short_rank", "long", "long_rank", "short_wall",
            "long_wall"]
    fmt = {"short": "{:.4f}".format, "long": "{:.4f}".format, "gflops": "{:.2f}".format,
           "short_wall": "{:.1f}".format, "long_wall": "{:.1f}".format}
    print(df[cols].sort_values("long_rank").to_string(index=False, formatters=fmt))
    tau, rho = tau_rho(ok["short"], ok["long"])
    print(f"\nshort vs long   : Kendall tau {tau:+.3f}   Spearman {rho:+.3f}")
    for e in range(len(ok["short_epochs"].iloc[0]) - 1):
        t_e, r_e = tau_rho(ok["short_epochs"].map(lambda x, e=e: x[e]), ok["long"])
        print(f"  short, epoch {e + 1} of {short.epochs}: Kendall tau {t_e:+.3f}   "
              f"Spearman {r_e:+.3f}")
    t_l, r_l = tau_rho(-ok["short_loss"], ok["long"])
    print(f"  short, -last train loss: Kendall tau {t_l:+.3f}   Spearman {r_l:+.3f}")
    for col, label in (("gflops", "FLOPs-only"), ("mparams", "params-only")):
        t_b, r_b = tau_rho(ok[col], ok["long"])
        print(f"{label:16s}: Kendall tau {t_b:+.3f}   Spearman {r_b:+.3f}   (vs long)")
    sw = df["short_wall"]
    slowest = df.loc[sw.idxmax(), "arch"]
    print(f"short wall s: median {sw.median():.1f}, max {sw.max():.1f} ({slowest})"
          f"; long wall s: median {df['long_wall'].median():.1f}, max {df['long_wall'].max():.1f}")


if __name__ == "__main__":
    sys.exit(main())
