"""How good is the analytic cost model? Against fvcore (the ground truth) over seeded samples of
the four spaces: FLOPs error (max, median), params mismatches, and the estimator's speed-up over
build + fvcore; then the latency predictor on in-budget samples of hybrid.yaml.

    python benchmarks/cost_model.py [--n 200] [--latency-n 50] [--threads 2]
                                    [--latency-state results/latency-bench]   # resumable

Sizes rotate over 512x512, 360x480, 100x75 and 1024x2048 (the last only for samples under
5 GFLOPs at 512, to keep the run short). Speed-up = (build + fvcore time) / estimate time, per
architecture, median over the samples, all measured in this run.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

import torch

from nas.cost import count_flops, count_params, estimate
from nas.models import build_model
from nas.space import load_space, space_names

SIZES = [(512, 512), (360, 480), (100, 75), (1024, 2048)]


def _timeit(fn, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def flops_part(n: int) -> None:
    per_space = max(1, n // len(space_names()))
    errors, mismatches, speedups, rows = [], 0, [], 0
    t_start = time.time()
    for sp_name in space_names():
        space = load_space(sp_name)
        for seed in range(per_space):
            arch = space.sample(seed)
            size = SIZES[seed % len(SIZES)]
            if size == SIZES[3] and estimate(arch, (512, 512)).flops > 5e9:
                size = SIZES[0]
            t_est = _timeit(lambda a=arch, s=size: estimate(a, s), 5)
            est = estimate(arch, size)
            t0 = time.perf_counter()
            model = build_model(arch).eval()
            flops = count_flops(model, size)
            t_truth = time.perf_counter() - t0
            params = count_params(model)
            errors.append(abs(est.flops - flops) / flops * 100)
            mismatches += est.params != params
            speedups.append(t_truth / t_est)
            rows += 1
            del model
    print(f"## analytic FLOPs/params vs fvcore: {rows} samples ({per_space} per space), "
          f"sizes {', '.join(f'{h}x{w}' for h, w in SIZES)}  [{time.time() - t_start:.0f} s]")
    print(f"FLOPs error: max {max(errors):.6f}%  median {statistics.median(errors):.6f}%  "
          f"exact {sum(e == 0 for e in errors)}/{rows}")
    print(f"params mismatches: {mismatches}")
    print(f"speed-up of estimate() over build + fvcore: median {statistics.median(speedups):,.0f}x"
          f"  min {min(speedups):,.0f}x")


def latency_part(n: int, threads: int, state: Path | None) -> None:
    """The latency predictor on ``n`` in-budget hybrid samples: benchmarks/latency_predictor.py
    (run here as a child process, so that its measurements see no other work of this one)."""
    script = Path(__file__).with_name("latency_predictor.py")
    cmd = [sys.executable, str(script), "--n", str(n), "--threads", str(threads), "--quiet"]
    if state is not None:
        cmd += ["--state", str(state)]
    print(f"## latency predictor: {' '.join(cmd[1:])}", flush=True)
    subprocess.run(cmd, check=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--latency-n", type=int, default=50)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--latency-state", type=Path, default=None,
                    help="keep the latency measurements here (resumable; default: temporary)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    print(f"# torch {torch.__version__}, {args.threads} threads")
    if args.n:
        flops_part(args.n)
    if args.latency_n:
        latency_part(args.latency_n, args.threads, args.latency_state)


if __name__ == "__main__":
    main()
