"""What the timing environment does to a whole-model latency and to its repeatability: one
in-budget hybrid architecture timed in fresh worker processes (``measure_latency(...,
processes=1)``) under the timing workers' environment (``nas._timing_env``: huge pages on,
OpenMP's threads spinning) and under each setting changed back, the configurations
interleaved round by round so that they see the same machine.

    python benchmarks/timing_env.py [--rounds 6] [--seed 100000] [--device cpu]

Prints, per configuration, the median of the per-process medians, their range and the spread
(max - min) / median and sd, and each configuration's median relative to the timing environment's.
The figures back the settings chosen in ``nas/_timing_env.py``.
"""

from __future__ import annotations

import argparse
import os
import statistics

from nas._timing_env import apply_timing_env

apply_timing_env()  # noqa: E402 - before torch loads (it reads the variables once)

import torch  # noqa: E402

from nas.cost import measure_latency, parse_size, sample_archs  # noqa: E402
from nas.space import load_space  # noqa: E402

CONFIGS = {
    "timing env (THP on, ACTIVE)": {},
    "OpenMP's default wait policy": {"OMP_WAIT_POLICY": None},
    "OMP_WAIT_POLICY=PASSIVE": {"OMP_WAIT_POLICY": "PASSIVE"},
    "THP off": {"THP_MEM_ALLOC_ENABLE": None},
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=6, help="fresh processes per configuration")
    ap.add_argument("--seed", type=int, default=100_000, help="first seed of the arch draw")
    ap.add_argument("--input", default="512x512")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=5)
    args = ap.parse_args()
    size = parse_size(args.input)
    seed, arch = sample_archs(load_space("hybrid"), 1, args.seed, size, 5e9)[0]
    print(f"# torch {torch.__version__}, {args.device}, {args.threads} threads, hybrid seed "
          f"{seed} at {size[0]}x{size[1]}, batch 1, median of {args.runs} after {args.warmup} "
          f"warm-up per process, {args.rounds} processes per configuration (interleaved)")
    print("# process medians (ms), one line per round: " + ", ".join(CONFIGS))
    print(f"# load average at start: {', '.join(f'{v:.2f}' for v in os.getloadavg())}")
    medians: dict[str, list[float]] = {name: [] for name in CONFIGS}
    for r in range(args.rounds):
        for name, env in CONFIGS.items():
            lat = measure_latency(arch, size, args.device, args.threads, warmup=args.warmup,
                                  runs=args.runs, processes=1, env=env)
            medians[name].append(lat.median_ms)
        print(f"  round {r + 1}/{args.rounds}: " + ", ".join(
            f"{m[-1]:.1f}" for m in medians.values()), flush=True)
    ref = statistics.median(medians[next(iter(CONFIGS))])
    for name, m in medians.items():
        med = statistics.median(m)
        print(f"{name:36s}: median {med:7.1f} ms (x{med / ref:.2f}), process medians "
              f"{min(m):.1f}-{max(m):.1f} ms, spread {100 * (max(m) - min(m)) / med:.1f}%, sd "
              f"{100 * statistics.stdev(m) / statistics.mean(m):.1f}%")
    print(f"# load average at end: {', '.join(f'{v:.2f}' for v in os.getloadavg())}")


if __name__ == "__main__":
    main()
