"""The converged reference: architectures within 5 GFLOPs@512 trained with the full schedule.

    flock /tmp/nas-heavy.lock env OMP_WAIT_POLICY=PASSIVE .venv/bin/python \\
        benchmarks/converged_reference.py --max-runs 1        # one piece of work, then report
    .venv/bin/python benchmarks/converged_reference.py --max-runs 0   # report only

Architectures (fixed, in this order): the ten references scaled into 5 GFLOPs at 512x512 by
``nas.cost.scale_to_fit`` (the AFFormers fit as published), then ``--samples`` seeded samples
of ``hybrid.yaml`` within the budget (``nas.search.sample_within``, seeds 0, 1, ...). Each is
trained on ``--data`` with ``nas.proxy.FULL_SCHEDULE`` (train split; scored on val, also on
test) with the first of ``--seeds``; the later seeds train ``--multi-seed`` (8) of them, spread
over the FLOPs range, after every first-seed run.

Resumable in small pieces: one invocation trains at most ``--max-runs`` pieces, a piece being
one architecture-seed run for up to ``--piece-s`` seconds (then it checkpoints after the
current epoch, under ``results/converged_reference/``, and the next invocation continues it;
the result is the same as an uninterrupted run). Finished runs are cached in
``benchmarks/converged_reference.json`` (committed, with the command and schedule), keyed by a
hash of (arch config, schedule, seed, data); only missing runs are trained.

Printed: one line per finished run; per architecture the score (mean validation mIoU of the EMA
model over the last evaluated epochs), test mIoU, plateau gain; the share of runs that pass
the plateau rule; the reference's own seed-to-seed Kendall tau (the ceiling of any proxy
measured against one seed) with a bootstrap 90% interval over architectures; and FLOPs-only and
params-only tau against the seed-mean reference.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
import torch
from scipy.stats import kendalltau

from nas.arch import ArchConfig
from nas.cost import estimate
from nas.proxy import FULL_SCHEDULE, Paused, load_splits, load_test_split, train_full

ROOT = Path(__file__).resolve().parents[1]
JSON = ROOT / "benchmarks" / "converged_reference.json"
WORK = ROOT / "results" / "converged_reference"
BUDGET = "5GFLOPs"
# the same 16 architectures as benchmarks/proxy_fidelity.py (one definition, shared)
from proxy_fidelity import architectures  # noqa: E402  (a sibling script)

DEFAULT_DATA = "camvid:../shared/data/camvid_240x180"
COMMAND = ("flock /tmp/nas-heavy.lock env OMP_WAIT_POLICY=PASSIVE .venv/bin/python "
           "benchmarks/converged_reference.py --max-runs 1")




def run_key(arch: ArchConfig, schedule, seed: int, data: str) -> str:
    blob = json.dumps([arch.to_dict(), schedule.to_dict(), seed, data], sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def data_path(spec: str) -> str:
    kind, _, path = spec.partition(":")
    if path and not Path(path).is_absolute():  # relative to the repo root
        path = str((ROOT / path).resolve())
    return f"{kind}:{path}" if path else kind


def kendall_ci(a, b, reps: int = 2000, seed: int = 0) -> tuple[float, float, float, int]:
    """Kendall tau of two paired sequences (NaN pairs dropped) and a bootstrap 90% interval,
    resampling the pairs (architectures) with replacement; returns (tau, lo, hi, n)."""
    x, y = np.asarray(a, float), np.asarray(b, float)
    keep = np.isfinite(x) & np.isfinite(y)
    x, y = x[keep], y[keep]
    n = len(x)
    if n < 3:
        return float("nan"), float("nan"), float("nan"), n
    tau = float(kendalltau(x, y).statistic)
    rng = np.random.default_rng(seed)
    taus = []
    for _ in range(reps):
        idx = rng.integers(0, n, n)
        t = kendalltau(x[idx], y[idx]).statistic
        if np.isfinite(t):
            taus.append(t)
    lo, hi = np.percentile(taus, [5, 95]) if taus else (float("nan"), float("nan"))
    return tau, float(lo), float(hi), n


def fmt_tau(label: str, t: tuple[float, float, float, int]) -> str:
    tau, lo, hi, n = t
    return f"{label:<48} tau {tau:+.3f}  90% CI [{lo:+.3f}, {hi:+.3f}]  (n={n})"


def load_db() -> dict:
    return json.loads(JSON.read_text()).get("runs", {}) if JSON.is_file() else {}


def save_db(db: dict, args) -> None:
    obj = {
        "what": "converged reference: full-schedule runs of benchmarks/converged_reference.py",
        "command": COMMAND + (f" --data {args.data}" if args.data != DEFAULT_DATA else ""),
        "data": args.data, "budget": f"{BUDGET}@512x512",
        "schedule": FULL_SCHEDULE.to_dict(),
        "machine": f"{platform.machine()}, torch {torch.__version__}, "
                   f"{FULL_SCHEDULE.threads} threads (shared machine)",
        "runs": dict(sorted(db.items(), key=lambda kv: (kv[1]["order"], kv[1]["seed"]))),
    }
    tmp = JSON.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(obj, indent=1) + "\n")
    os.replace(tmp, JSON)


def record(arch: ArchConfig, order: int, seed: int, r) -> dict:
    cost = estimate(arch, (512, 512))
    d = r.to_dict()
    keep = ("status", "reason", "miou", "final_val_miou", "test_miou", "pixel_acc",
            "epoch_miou", "eval_epochs", "score_epochs", "plateau_gain", "plateaued", "steps",
            "params")
    out = {k: d[k] for k in keep}
    out["loss_curve"] = [None if x is None else round(x, 4) for x in d["loss_curve"]]
    out.update(name=arch.name, order=order, seed=seed, gflops_512=round(cost.flops / 1e9, 3),
               params_m=round(cost.params / 1e6, 3), wall_s=round(r.wall_s, 1),
               train_s=round(r.train_s, 1),
               images_per_s=d["images_per_s"] and round(d["images_per_s"], 2))
    return out


def plan(archs: list[ArchConfig], seeds: list[int], n_multi: int
         ) -> list[tuple[int, ArchConfig, int]]:
    """Every architecture with the first seed, then the later seeds for ``n_multi`` of them
    spread over the FLOPs range (every other one in FLOPs order)."""
    by_flops = sorted(range(len(archs)), key=lambda i: estimate(archs[i], (512, 512)).flops)
    multi = sorted(by_flops[::2][:n_multi] + by_flops[1::2][:max(0, n_multi - len(by_flops[::2]))])
    out = [(i, a, seeds[0]) for i, a in enumerate(archs)]
    return out + [(i, archs[i], s) for s in seeds[1:] for i in multi]


def train_piece(arch: ArchConfig, order: int, seed: int, data: str, work: Path,
                piece_s: float) -> dict | None:
    """Train ``arch`` with the full schedule for up to ``piece_s`` seconds, checkpointing under
    ``work``; its :func:`record` when the run finished, None when it paused (run again)."""
    key = run_key(arch, FULL_SCHEDULE, seed, data)
    spec = data_path(data)
    tr, va = load_splits(spec, None, FULL_SCHEDULE)
    te = load_test_split(spec, FULL_SCHEDULE)
    ckpt = work / f"{arch.name}-{seed}-{key}" / "checkpoint.pt"
    t0 = time.perf_counter()
    try:
        r = train_full(arch, tr, va, FULL_SCHEDULE, seed=seed, test_data=te, checkpoint=ckpt,
                       time_limit_s=piece_s)
    except Paused as exc:
        print(f"{arch.name} seed {seed}: {exc} ({time.perf_counter() - t0:.0f} s this piece)",
              flush=True)
        return None
    # the checkpoint stays until the caller has saved the record (work_piece): a kill in between
    # resumes from the last epoch instead of training the run again
    return {**record(arch, order, seed, r), "resumed_at": r.resumed_at, "_ckpt": str(ckpt)}


def work_piece(args, todo, db) -> bool:
    """Train (a piece of) the first missing run; True when something was done."""
    missing = [(i, a, s) for i, a, s in todo
               if run_key(a, FULL_SCHEDULE, s, args.data) not in db]
    if not missing:
        return False
    i, arch, seed = missing[0]
    key = run_key(arch, FULL_SCHEDULE, seed, args.data)
    rec = train_piece(arch, i, seed, args.data, WORK, args.piece_s)
    if rec is None:
        return True
    ckpt = Path(rec.pop("_ckpt"))
    db[key] = rec
    save_db(db, args)
    ckpt.unlink(missing_ok=True)
    print(f"{arch.name} seed {seed}: {rec['status']} score {rec['miou']} test {rec['test_miou']}"
          f" gain {rec['plateau_gain']} wall {rec['wall_s']} s (resumed at epoch "
          f"{rec['resumed_at']})",
          flush=True)
    return True


def report(archs, seeds, db, args) -> None:
    rows = {}
    todo = plan(archs, seeds, args.multi_seed)
    for i, a, s in todo:
        rec = db.get(run_key(a, FULL_SCHEDULE, s, args.data))
        if rec is not None:
            rows.setdefault(a.name, {"order": i, "arch": a})[s] = rec
    done = sum(len([k for k in r if isinstance(k, int)]) for r in rows.values())
    print(f"# converged reference: {done} of {len(todo)} runs finished "
          f"({len(archs)} architectures, seeds {seeds}: the later ones on {args.multi_seed}); "
          f"schedule: {FULL_SCHEDULE.epochs} "
          f"epochs x all train images, {FULL_SCHEDULE.train_size[0]}x{FULL_SCHEDULE.train_size[1]}"
          f" crops, batch {FULL_SCHEDULE.batch_size}, EMA {FULL_SCHEDULE.ema_decay}")
    print(f"{'architecture':<22} {'GFLOPs':>6} {'Mparams':>7} " + " ".join(
        f"{'s' + str(s) + ' score':>9} {'test':>6} {'gain':>6} {'wall':>5}" for s in seeds))
    wall, plateaued, total = [], 0, 0
    for name, r in sorted(rows.items(), key=lambda kv: kv[1]["order"]):
        any_rec = next(r[s] for s in seeds if s in r)
        cells = []
        for s in seeds:
            rec = r.get(s)
            if rec is None or rec["miou"] is None:
                cells.append(f"{'-' if rec is None else rec['status']:>9} {'':>6} {'':>6} "
                             f"{'':>5}")
                continue
            total += 1
            plateaued += bool(rec["plateaued"])
            wall.append(rec["wall_s"])
            gain = "n/a" if rec["plateau_gain"] is None else f"{rec['plateau_gain']:+.3f}"
            test = "n/a" if rec["test_miou"] is None else f"{rec['test_miou']:.3f}"
            cells.append(f"{rec['miou']:>9.4f} {test:>6} {gain:>6} {rec['wall_s']:>5.0f}")
        print(f"{name:<22} {any_rec['gflops_512']:>6.2f} {any_rec['params_m']:>7.2f} "
              + " ".join(cells))
    if wall:
        print(f"# wall time per run: median {np.median(wall):.0f} s, min {min(wall):.0f}, "
              f"max {max(wall):.0f} (2 threads, shared machine)")
        print(f"# plateau rule (last {FULL_SCHEDULE.plateau_fraction:.0%} of the epochs adds < "
              f"{FULL_SCHEDULE.plateau_delta * 100:.0f} mIoU point): {plateaued} of {total} "
              "runs pass")
    if len(seeds) >= 2:
        both = [r for r in rows.values() if all(s in r and r[s]["miou"] is not None
                                                for s in seeds[:2])]
        a = [r[seeds[0]]["miou"] for r in both]
        b = [r[seeds[1]]["miou"] for r in both]
        print(fmt_tau(f"seed {seeds[0]} vs seed {seeds[1]} (the reference's ceiling)",
                      kendall_ci(a, b)))
    ref, flops, params = [], [], []
    for r in rows.values():
        scores = [r[s]["miou"] for s in seeds if s in r and r[s]["miou"] is not None]
        if scores:
            ref.append(float(np.mean(scores)))
            any_rec = next(r[s] for s in seeds if s in r)
            flops.append(any_rec["gflops_512"])
            params.append(any_rec["params_m"])
    if ref:
        print(fmt_tau("FLOPs only vs the reference (mean of seeds)", kendall_ci(flops, ref)))
        print(fmt_tau("params only vs the reference (mean of seeds)", kendall_ci(params, ref)))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data", default=DEFAULT_DATA)
    p.add_argument("--samples", type=int, default=6, help="hybrid.yaml samples (default 6)")
    p.add_argument("--seeds", default="0,1")
    p.add_argument("--multi-seed", type=int, default=8,
                   help="architectures trained with the later seeds too (default 8)")
    p.add_argument("--max-runs", type=int, default=1,
                   help="pieces of training in this invocation (0: report only)")
    p.add_argument("--piece-s", type=float, default=180.0,
                   help="stop a run after the epoch that passes this many seconds")
    args = p.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    archs = architectures(args.samples)
    db = load_db()
    for _ in range(args.max_runs):
        if not work_piece(args, plan(archs, seeds, args.multi_seed), db):
            print("# every run is finished", flush=True)
            break
    report(archs, seeds, db, args)


if __name__ == "__main__":
    sys.exit(main())
