"""What keeping freed memory (``nas.keep_freed_memory``) does to forward passes and training
steps: page faults and time per pass, with glibc's defaults (``NAS_MALLOC=default``) and kept,
each in fresh processes, alternating (default, kept, default, kept, ...) so that drift of a
shared machine hits both alike.

    OMP_WAIT_POLICY=PASSIVE .venv/bin/python benchmarks/allocator.py [--rounds 2]

Printed per model and mode: median ms and minor page faults per forward pass (batch 1, 512x512)
and per training step (batch 8, 128x128, AdamW), the medians over rounds; then the ratio
kept / default measured in the same run.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MODELS = ("afformer_base", "mpvit_tiny", "hrvit_b1")


def _child(name: str, what: str, threads: int, passes: int) -> dict:
    from nas._allocator import keep_freed_memory

    kept = keep_freed_memory()
    import resource
    import time

    import torch
    import torch.nn.functional as F

    from nas.arch import load_arch
    from nas.models import build_model

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    arch = load_arch(name)
    model = build_model(arch)
    if what == "forward":
        model.eval()
        x = torch.randn(1, 3, 512, 512)

        def step() -> None:
            with torch.inference_mode():
                model(x)
    else:
        opt = torch.optim.AdamW(model.parameters(), 1e-3)
        x = torch.randn(8, 3, 128, 128)
        y = torch.randint(0, arch.num_classes, (8, 128, 128))

        def step() -> None:
            loss = F.cross_entropy(model(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
    for _ in range(3):
        step()
    times, faults = [], []
    for _ in range(passes):
        f0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        t0 = time.perf_counter()
        step()
        times.append((time.perf_counter() - t0) * 1e3)
        faults.append(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - f0)
    return {"kept": kept, "ms": statistics.median(times), "faults": statistics.median(faults)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--passes", type=int, default=8)
    ap.add_argument("--models", default=",".join(MODELS))
    ap.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(_child(*args.child, args.threads, args.passes)))
        return
    print(f"# load average at start: {', '.join(f'{v:.2f}' for v in os.getloadavg())}; "
          f"{args.threads} threads, {args.passes} timed passes after 3, {args.rounds} rounds")
    print(f"{'model':<16} {'pass':<8} {'default ms':>10} {'faults':>8} {'kept ms':>9} "
          f"{'faults':>8} {'kept/default':>12}")
    for name in args.models.split(","):
        for what in ("forward", "train"):
            got: dict[str, list[dict]] = {"default": [], "kept": []}
            for _ in range(args.rounds):
                for mode in ("default", "kept"):
                    env = {**os.environ, "NAS_MALLOC": "default" if mode == "default" else ""}
                    env["PYTHONPATH"] = os.pathsep.join(
                        p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
                    out = subprocess.run(
                        [sys.executable, __file__, "--child", name, what, "--threads",
                         str(args.threads), "--passes", str(args.passes)],
                        capture_output=True, text=True, env=env, check=True)
                    got[mode].append(json.loads(out.stdout.strip().splitlines()[-1]))
            d = {m: statistics.median(r["ms"] for r in got[m]) for m in got}
            f = {m: statistics.median(r["faults"] for r in got[m]) for m in got}
            print(f"{name:<16} {what:<8} {d['default']:>10.1f} {f['default']:>8.0f} "
                  f"{d['kept']:>9.1f} {f['kept']:>8.0f} {d['kept'] / d['default']:>12.3f}",
                  flush=True)
    print(f"# load average at end: {', '.join(f'{v:.2f}' for v in os.getloadavg())}")


if __name__ == "__main__":
    main()
