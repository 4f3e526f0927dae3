"""Default proxy wall time per candidate and ranking, old build against new, resumable.

    # one architecture per invocation (the next one missing for that build), under the lock:
    PYTHONPATH=/tmp/nas-old OMP_WAIT_POLICY=PASSIVE flock /tmp/nas-heavy.lock \\
        .venv/bin/python benchmarks/proxy_wall.py run --label old
    PYTHONPATH=. OMP_WAIT_POLICY=PASSIVE flock /tmp/nas-heavy.lock \\
        .venv/bin/python benchmarks/proxy_wall.py run --label new
    .venv/bin/python benchmarks/proxy_wall.py report

The old build is commit 388d121 checked out outside the repo (``git archive 388d121 | tar -x
-C /tmp/nas-old``); ``nas`` is whatever ``PYTHONPATH`` imports, and ``--label`` names it. The
architectures are those of ``benchmarks/proxy_fidelity.py`` (the ten references scaled into
5 GFLOPs at 512x512, plus two ``hybrid.yaml`` samples within 5 GFLOPs), fixed on the first
invocation and stored in the cache so that both builds train the same configs. Each run is
``nas.proxy.train`` with that build's ``DEFAULT_SCHEDULE``, seed 0, on the CamVid data, and
records the wall time per candidate (build, training and evaluation), the process CPU time
(less sensitive than wall to other jobs on a shared machine) and the mIoU. ``report`` prints
the median wall and CPU time per candidate of each build and Kendall's tau between the two
builds' mIoU rankings (same seed). The cache is ``benchmarks/proxy_wall.json`` (committed).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent
CACHE = ROOT / "proxy_wall.json"
DATA = ROOT.parent.parent / "shared" / "data" / "camvid_240x180"
BUDGET = "5GFLOPs"


def _load() -> dict:
    return json.loads(CACHE.read_text()) if CACHE.is_file() else {"runs": {}}


def _save(db: dict) -> None:
    tmp = CACHE.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(db, indent=1) + "\n")
    os.replace(tmp, CACHE)


def _architectures(db: dict) -> list[dict]:
    if "archs" not in db:
        import nas
        from nas.arch import ArchConfig, reference_names
        from nas.cost import scale_to_fit

        archs = [scale_to_fit(nas.load_arch(n), BUDGET) for n in reference_names()]
        space = nas.load_space("hybrid")
        for seed in range(2):
            a = space.sample_within(BUDGET, seed=seed)
            archs.append(ArchConfig.from_dict({**a.to_dict(), "name": f"hybrid_s{seed}"}))
        db["archs"] = [a.to_dict() for a in archs]
    return db["archs"]


def run(label: str, data: Path) -> None:
    if not data.is_dir():
        raise SystemExit(f"needs the CamVid data at {data}")
    db = _load()
    archs = _architectures(db)
    runs = db["runs"].setdefault(label, {})
    todo = [a for a in archs if a["name"] not in runs]
    if not todo:
        print(f"{label}: all {len(archs)} architectures done")
        return
    import torch

    import nas
    from nas.arch import ArchConfig
    from nas.proxy import DEFAULT_SCHEDULE, load_splits, train

    tr, va = load_splits(f"camvid:{data}", None, DEFAULT_SCHEDULE)
    arch = ArchConfig.from_dict(todo[0])
    c0 = time.process_time()
    res = train(arch, tr, va, DEFAULT_SCHEDULE, seed=0)
    cpu = time.process_time() - c0
    runs[arch.name] = {"status": res.status, "miou": res.miou, "wall_s": round(res.wall_s, 2),
                       "cpu_s": round(cpu, 2), "train_s": round(res.train_s, 2),
                       "images_per_s": res.images_per_s and round(res.images_per_s, 2)}
    db.setdefault("builds", {})[label] = {
        "nas": str(Path(nas.__file__).resolve().parent), "torch": torch.__version__,
        "machine": f"{platform.machine()} {platform.processor()}, "
                   f"{DEFAULT_SCHEDULE.threads} threads (shared with other jobs)"}
    db["command"] = ("PYTHONPATH=<tree> OMP_WAIT_POLICY=PASSIVE flock /tmp/nas-heavy.lock "
                     ".venv/bin/python benchmarks/proxy_wall.py run --label <old|new>")
    _save(db)
    print(f"{label} {arch.name}: {runs[arch.name]}")


def report() -> None:
    import pandas as pd

    db = _load()
    names = [a["name"] for a in db.get("archs", [])]
    runs = db.get("runs", {})
    labels = [x for x in ("old", "new") if x in runs] + sorted(set(runs) - {"old", "new"})
    print(f"{'arch':22s} " + " ".join(f"{lab + ' wall':>9s} {lab + ' cpu':>8s} {'mIoU':>6s}"
                                       for lab in labels))
    for n in names:
        cells = []
        for lab in labels:
            r = runs[lab].get(n)
            cells.append(f"{r['wall_s']:9.1f} {r['cpu_s']:8.1f} {r['miou'] or 0:6.3f}" if r
                         else f"{'-':>9s} {'-':>8s} {'-':>6s}")
        print(f"{n:22s} " + " ".join(cells))
    for lab in labels:
        done = list(runs[lab].values())
        if done:
            print(f"{lab}: median per candidate over {len(done)}/{len(names)} architectures: "
                  f"wall {statistics.median(r['wall_s'] for r in done):.1f} s, "
                  f"cpu {statistics.median(r['cpu_s'] for r in done):.1f} s")
    if "old" in runs and "new" in runs:
        both = [n for n in names if n in runs["old"] and n in runs["new"]]
        ow = statistics.median(runs["old"][n]["wall_s"] for n in both) if both else 0
        nw = statistics.median(runs["new"][n]["wall_s"] for n in both) if both else 0
        df = pd.DataFrame({"old": [runs["old"][n]["miou"] for n in both],
                           "new": [runs["new"][n]["miou"] for n in both]}).dropna()
        tau = float(df.corr(method="kendall").iloc[0, 1]) if len(df) > 1 else float("nan")
        print(f"on the {len(both)} architectures both builds ran: median wall old {ow:.1f} s, "
              f"new {nw:.1f} s (x{ow / nw if nw else float('nan'):.2f}); Kendall tau of the "
              f"mIoU rankings old vs new (seed 0): {tau:.3f} (target >= 0.9)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run", help="train the next architecture missing for --label")
    r.add_argument("--label", required=True)
    r.add_argument("--data", type=Path, default=DATA)
    sub.add_parser("report")
    args = ap.parse_args()
    if args.cmd == "run":
        run(args.label, args.data)
    else:
        report()


if __name__ == "__main__":
    sys.exit(main())
