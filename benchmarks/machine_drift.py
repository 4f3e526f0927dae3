"""How steady this machine's speed is over minutes: a fixed workload timed again and again in one
process, with nothing of ours in between (no model building, no new processes).

    python benchmarks/machine_drift.py [--minutes 3] [--threads 2] [--size 768]

Every --every seconds, a probe: the median of --reps float32 matrix products (--size square, with
--threads torch threads). If the machine's speed drifts (other tenants of the host, frequency),
the probe drifts with it, whatever any latency method does. Prints the probes' spread
(p5-p95 and max/min against the median) and the share of probe pairs, over all time gaps, within
+-10% of each other: the repeatability a whole-model latency measured at two moments cannot beat
on this machine (benchmarks/latency_predictor.py's noise ceiling compares two moments about
ten minutes apart).
"""

from __future__ import annotations

import argparse
import itertools
import os
import statistics
import time

from nas._timing_env import apply_timing_env

apply_timing_env()  # noqa: E402 - as the latency benchmarks run

import torch  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=3.0)
    ap.add_argument("--every", type=float, default=2.0, help="seconds between probes")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--size", type=int, default=768)
    ap.add_argument("--reps", type=int, default=10)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    gen = torch.Generator().manual_seed(0)
    a = torch.randn(args.size, args.size, generator=gen)
    b = torch.randn(args.size, args.size, generator=gen)
    for _ in range(20):  # warm up
        a @ b
    print(f"# torch {torch.__version__}, {args.threads} threads, {args.size}^2 float32 matmul, "
          f"median of {args.reps} every {args.every:g} s for {args.minutes:g} min; load average "
          f"at start: {', '.join(f'{v:.2f}' for v in os.getloadavg())}")
    probes: list[tuple[float, float]] = []
    t_end = time.monotonic() + 60 * args.minutes
    while time.monotonic() < t_end:
        t0 = time.monotonic()
        times = []
        for _ in range(args.reps):
            s = time.perf_counter()
            a @ b
            times.append((time.perf_counter() - s) * 1e3)
        probes.append((t0, statistics.median(times)))
        if len(probes) % 10 == 0:
            print(f"  {len(probes)} probes, last {probes[-1][1]:.2f} ms", flush=True)
        time.sleep(max(0.0, args.every - (time.monotonic() - t0)))
    ms = [p for _, p in probes]
    med = statistics.median(ms)
    q = statistics.quantiles(ms, n=20)
    pairs = [abs(x / y - 1) <= 0.10 for x, y in itertools.combinations(ms, 2)]
    print(f"probes: {len(ms)}, median {med:.2f} ms, p5 {q[0]:.2f} ({100 * (q[0] / med - 1):+.1f}%)"
          f", p95 {q[-1]:.2f} ({100 * (q[-1] / med - 1):+.1f}%), min {min(ms):.2f}, max "
          f"{max(ms):.2f} (max/min {max(ms) / min(ms):.2f})")
    sd = 100 * statistics.stdev(ms) / statistics.mean(ms)
    print(f"probe pairs within +-10% of each other: {100 * sum(pairs) / len(pairs):.1f}% "
          f"({sum(pairs)}/{len(pairs)}); sd {sd:.1f}%")
    print(f"# load average at end: {', '.join(f'{v:.2f}' for v in os.getloadavg())}")


if __name__ == "__main__":
    main()
