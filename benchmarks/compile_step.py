"""Does ``torch.compile`` pay for itself inside one proxy run? (issue 15, item 3)

    flock /tmp/nas-heavy.lock env OMP_WAIT_POLICY=PASSIVE .venv/bin/python \\
        benchmarks/compile_step.py [--threads 2] [--steps 8] [--mode default] [NAME ...]

For each architecture (default: hrvit_b1, mpvit_tiny, afformer_base scaled into 5 GFLOPs at
512x512, as the search trains them) it times the proxy's training step (forward, cross-entropy,
backward, AdamW; batch and crop of ``DEFAULT_SCHEDULE``) eagerly and through
``torch.compile(model)`` (inductor), in the same process, on the same batch: the compiled
model's first step (which includes the compilation), then the median of ``--steps`` steps of
each, alternating eager and compiled so that load from other processes hits both alike.

Printed per architecture: eager and compiled median step (ms), the first compiled step (s),
the speed-up of a step, and the break-even: how many steps a candidate must train before the
compile has paid for itself, against the proxy's steps per candidate (epochs x n_train /
batch). A candidate is a new architecture, so a compile cannot be cached across candidates.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

import torch
import torch.nn.functional as F
from timm.optim import create_optimizer_v2

import nas
from nas.arch import ArchConfig
from nas.cost import scale_to_fit
from nas.proxy import DEFAULT_SCHEDULE

NAMES = ("hrvit_b1", "mpvit_tiny", "afformer_base")


def make_step(model, x, y):
    opt = create_optimizer_v2(model, opt="adamw", lr=1e-4, weight_decay=0.01, foreach=True)

    def step() -> float:
        t = time.perf_counter()
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return time.perf_counter() - t

    return step


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("names", nargs="*", default=list(NAMES))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=8)
    ap.add_argument("--mode", default="default", help="torch.compile mode")
    ap.add_argument("--budget", default="5GFLOPs")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    s = DEFAULT_SCHEDULE
    h, w = s.train_size
    per_candidate = s.epochs * s.n_train // s.batch_size
    print(f"# torch {torch.__version__}, {args.threads} threads, batch {s.batch_size}, "
          f"crop {h}x{w}, compile mode {args.mode!r}; the proxy trains {per_candidate} steps "
          "per candidate")
    print(f"{'arch':20s} {'eager ms':>9s} {'compiled ms':>11s} {'1st compiled s':>14s} "
          f"{'step speed-up':>13s} {'break-even steps':>16s}")
    for name in args.names:
        arch = scale_to_fit(nas.load_arch(name), args.budget)
        arch = ArchConfig.from_dict({**arch.to_dict(), "num_classes": 12})
        torch.manual_seed(0)
        x = torch.randn(s.batch_size, 3, h, w)
        y = torch.randint(0, 12, (s.batch_size, h, w))
        torch.manual_seed(0)
        eager = nas.build_model(arch).train()
        torch.manual_seed(0)
        compiled_model = nas.build_model(arch).train()
        step_e = make_step(eager, x, y)
        step_c = make_step(torch.compile(compiled_model, mode=args.mode), x, y)
        step_e()
        try:
            first = step_c()
            step_c()  # a second call can recompile (e.g. after the optimizer's first step)
        except Exception as exc:  # inductor needs a C++ compiler; say why it cannot run
            print(f"{arch.name:20s} compile failed: {type(exc).__name__}: "
                  f"{' '.join(str(exc).split())[:200]}")
            continue
        te, tc = [], []
        for _ in range(args.steps):
            te.append(step_e())
            tc.append(step_c())
        me, mc = statistics.median(te) * 1e3, statistics.median(tc) * 1e3
        gain = me - mc
        even = f"{first * 1e3 / gain:.0f}" if gain > 0 else "never"
        print(f"{arch.name:20s} {me:9.0f} {mc:11.0f} {first:14.1f} {me / mc:12.2f}x "
              f"{even:>16s}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
