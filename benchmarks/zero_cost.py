"""Training-free scores on samples of every space: are they finite, and what do they cost?

    flock /tmp/nas-heavy.lock env OMP_WAIT_POLICY=PASSIVE .venv/bin/python \\
        benchmarks/zero_cost.py [--samples 50] [--input 32x32] [--batch 2] [--threads 1]

For each space (hybrid, hrvit, mpvit, afformer): ``--samples`` seeded samples
(``space.sample(seed)``), each scored by ``nas.proxy.zero_cost_scores`` (synflow, ZiCo,
NASWOT; the score seed is the sample seed) on a seeded random batch at ``--input``. Printed per
space: how many of the samples gave a non-finite score (per score, with the seeds), and the
wall time per sample (median and max). The acceptance check of issue 12 is 0 non-finite on 50
samples of every space.
"""

from __future__ import annotations

import argparse
import math
import statistics
import time

import nas
from nas.cost import parse_size
from nas.proxy import ZERO_COST_SCORES, zero_cost_scores


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--samples", type=int, default=50)
    p.add_argument("--input", default="32x32")
    p.add_argument("--batch", type=int, default=2)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--spaces", default="hybrid,hrvit,mpvit,afformer")
    args = p.parse_args()
    size = parse_size(args.input)
    print(f"# {args.samples} samples per space, input {size}, batch {args.batch}, "
          f"{args.threads} thread(s)")
    for name in args.spaces.split(","):
        space = nas.load_space(name)
        bad = {k: [] for k in ZERO_COST_SCORES}
        times = []
        for seed in range(args.samples):
            t = time.perf_counter()
            scores = zero_cost_scores(space.sample(seed=seed), seed=seed, input_size=size,
                                      batch=args.batch, threads=args.threads)
            times.append(time.perf_counter() - t)
            for k, v in scores.items():
                if not math.isfinite(v):
                    bad[k].append(seed)
        shown = ", ".join(f"{k} {len(v)}" + (f" (seeds {v})" if v else "")
                          for k, v in bad.items())
        print(f"{name:<9} non-finite: {shown}; s/sample median "
              f"{statistics.median(times):.2f} max {max(times):.2f}", flush=True)


if __name__ == "__main__":
    main()
