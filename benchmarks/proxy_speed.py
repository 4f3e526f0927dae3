"""Proxy training speed: images/s and achieved GFLOP/s beside this machine's matmul peak.

    OMP_WAIT_POLICY=PASSIVE .venv/bin/python benchmarks/proxy_speed.py \\
        [--data camvid:../shared/data/camvid_240x180] [--threads 2] [--steps 16] [NAME ...]

For each architecture (default: hrvit_b1, mpvit_tiny, afformer_base, each scaled into 5 GFLOPs
at 512x512 by ``nas.cost.scale_to_fit``, as the search would train them) it runs the real proxy
trainer (``nas.proxy.train``: augmentation, AdamW, deterministic algorithms, ``--threads``
threads) with ``DEFAULT_SCHEDULE``'s batch size and crop, for ``--steps`` steps, in fp32 and
with bf16 autocast, and prints training images/s (training time only) and achieved GFLOP/s
= 3 (forward + backward) x 2 (fvcore counts a multiply-add as one FLOP) x fvcore FLOPs of one
image at the proxy crop x images/s. The peak is measured in the same run: a 4096^2 fp32 and
bf16 matmul with the same threads (best of 5). Where bf16 matmul is slower than fp32 (a CPU
without AVX512-BF16/AMX emulates it) the bf16 rows and the %bf16 column are skipped, and the
better of the two peaks is the reference. Below 20% of that peak, or with ``--profile``, a
torch.profiler summary of one fp32 training step (top ops by self CPU time) shows where the time
goes. ``data ms`` is the data path alone per step (indexing, batched augmentation and
normalisation of the in-memory tensors) and ``%step`` its share of a training step.
Run it against another build with ``PYTHONPATH=/path/to/old/checkout`` (as a script, so that
path wins over the installed package) for a before/after.
"""

from __future__ import annotations

import argparse
import dataclasses
import platform
import sys
import time
from collections import defaultdict
from pathlib import Path

import torch
import torch.nn.functional as F

import nas
from nas.arch import ArchConfig
from nas.cost import count_flops, scale_to_fit
from nas.data import IGNORE_INDEX, augment, normalize
from nas.proxy import DEFAULT_SCHEDULE, load_splits, train

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = "camvid:../shared/data/camvid_240x180"
DEFAULT_NAMES = ("hrvit_b1", "mpvit_tiny", "afformer_base")


def matmul_peak(dtype: torch.dtype, n: int = 4096, reps: int = 5) -> float:
    """Best GFLOP/s (2 FLOPs per multiply-add) of an n x n matmul."""
    a = torch.randn(n, n).to(dtype)
    b = torch.randn(n, n).to(dtype)
    a @ b
    best = float("inf")
    for _ in range(reps):
        t = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - t)
    return 2 * n**3 / best / 1e9


def data_path_ms(tr, schedule, steps: int) -> float:
    """Median ms per step of the data path alone, as the trainer runs it (a seeded permutation,
    indexing the in-memory uint8 tensors, batched augmentation, normalisation): the part of a
    training step spent outside the model."""
    gen = torch.Generator().manual_seed(0)
    bs = schedule.batch_size
    steps = max(1, min(steps, len(tr.images) // bs))  # full batches of one epoch, as trained
    times = []
    for _ in range(3):
        order = torch.randperm(len(tr.images), generator=gen)
        t = time.perf_counter()
        for step in range(steps):
            idx = order[step * bs:(step + 1) * bs]
            x, y = augment(tr.images[idx], tr.masks[idx], schedule.train_size, gen,
                           schedule.scale_range, schedule.flip)
            normalize(x)
        times.append((time.perf_counter() - t) / steps * 1e3)
    return sorted(times)[1]


def resolve(spec: str) -> str:
    kind, _, path = spec.partition(":")
    if path and not Path(path).is_absolute():
        return f"{kind}:{(ROOT / path).resolve()}"
    return spec


def profile_step(arch: ArchConfig, tr, schedule, rows: int = 15) -> None:
    """Top ops by self CPU time over one fp32 training step (after two warm-up steps)."""
    from timm.optim import create_optimizer_v2
    from torch.profiler import ProfilerActivity, profile

    torch.manual_seed(0)
    model = nas.build_model(arch).train()
    opt = create_optimizer_v2(model, opt="adamw", lr=schedule.lr,
                              weight_decay=schedule.weight_decay)
    gen = torch.Generator().manual_seed(0)
    bs = schedule.batch_size

    def step():
        x, y = augment(tr.images[:bs], tr.masks[:bs], schedule.train_size, gen,
                       schedule.scale_range, schedule.flip)
        loss = F.cross_entropy(model(normalize(x)), y, ignore_index=IGNORE_INDEX)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), schedule.grad_clip or 1e9)
        opt.step()

    torch.use_deterministic_algorithms(True, warn_only=True)  # as the proxy trainer runs,
    torch.utils.deterministic.fill_uninitialized_memory = False  # with no NaN-fill of empty
    nas.keep_freed_memory()  # and with freed memory kept (no page faults per step)
    step()
    step()
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        t = time.perf_counter()
        step()
        wall = time.perf_counter() - t
    events = [e for e in prof.key_averages() if e.key.startswith("aten::")]
    total = sum(e.self_cpu_time_total for e in events)
    print(f"\nprofile of one fp32 training step of {arch.name} (batch {bs}, "
          f"{schedule.train_size[0]}x{schedule.train_size[1]}): {wall * 1e3:.0f} ms wall "
          f"(with the profiler), {total / 1e3:.0f} ms self CPU in aten ops, "
          f"{sum(e.count for e in events)} aten calls")
    print(f"{'op':40s} {'self ms':>8s} {'share':>6s} {'calls':>6s} {'us/call':>8s}")
    for e in sorted(events, key=lambda e: -e.self_cpu_time_total)[:rows]:
        us = e.self_cpu_time_total
        print(f"{e.key:40s} {us / 1e3:8.1f} {us / total:6.1%} {e.count:6d} {us / e.count:8.1f}")
    groups: dict[str, float] = defaultdict(float)
    for e in events:
        k = e.key
        g = ("convolution (fwd+bwd)" if "conv" in k else
             "matmul (mm/bmm/addmm/linear)" if any(m in k for m in ("mm", "linear", "matmul"))
             else "copies/layout (copy_, cat, to, clone, contiguous)"
             if any(m in k for m in ("copy", "cat", "_to_", "clone", "contiguous", "empty"))
             else "elementwise/norm/other")
        groups[g] += e.self_cpu_time_total
    print("by kind: " + "; ".join(f"{g} {v / total:.0%}" for g, v in
                                  sorted(groups.items(), key=lambda kv: -kv[1])))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("names", nargs="*", default=list(DEFAULT_NAMES))
    ap.add_argument("--data", default=DEFAULT_DATA)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=16, help="training steps per measurement")
    ap.add_argument("--budget", default="5GFLOPs", help="scale_to_fit budget at 512x512")
    ap.add_argument("--profile", action="store_true",
                    help="print the profile of one step of each architecture in any case")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    bs = DEFAULT_SCHEDULE.batch_size
    sched = dataclasses.replace(DEFAULT_SCHEDULE, n_train=bs * args.steps, n_val=8, epochs=1,
                                warmup_epochs=0.0, threads=args.threads)
    tr, va = load_splits(resolve(args.data), None, sched)
    peak32, peak16 = matmul_peak(torch.float32), matmul_peak(torch.bfloat16)
    h, w = sched.train_size
    print(f"# torch {torch.__version__}, {platform.machine()} {platform.processor()}, "
          f"{args.threads} threads, data {args.data}, batch {bs}, crop {h}x{w}, "
          f"{args.steps} steps per measurement")
    print(f"peak (4096^2 matmul, {args.threads} threads): fp32 {peak32:.1f} GFLOP/s, "
          f"bf16 {peak16:.1f} GFLOP/s")
    native_bf16 = peak16 >= peak32
    modes = (("fp32", False), ("bf16", True)) if native_bf16 else (("fp32", False),)
    if not native_bf16:
        print("# bf16 matmul is slower than fp32 on this CPU (no native bf16): bf16 rows and "
              "%bf16 skipped")
    peak = max(peak32, peak16)
    print(f"{'arch':20s} {'GFLOPs@512':>10s} {'fwd GF/img':>10s} {'mode':>5s} {'img/s':>7s} "
          f"{'GFLOP/s':>8s} {'%fp32':>6s} {'%bf16':>6s} {'data ms':>7s} {'%step':>6s}")
    data_ms = data_path_ms(tr, sched, args.steps)
    worst = None
    for name in args.names:
        arch = scale_to_fit(nas.load_arch(name), args.budget)
        arch = ArchConfig.from_dict({**arch.to_dict(), "num_classes": tr.num_classes})
        g512 = count_flops(arch, (512, 512)) / 1e9
        fwd = count_flops(arch, (h, w)) / 1e9
        for mode, bf16 in modes:
            res = train(arch, tr, va, dataclasses.replace(sched, bf16=bf16), seed=0)
            if res.status != "ok":
                print(f"{arch.name:20s} {mode}: {res.status}: {res.reason}")
                continue
            ips = res.images_per_s
            gfs = 3 * 2 * fwd * ips
            share16 = f"{gfs / peak16:6.1%}" if native_bf16 else f"{'-':>6s}"
            print(f"{arch.name:20s} {g512:10.2f} {fwd:10.3f} {mode:>5s} {ips:7.1f} {gfs:8.1f} "
                  f"{gfs / peak32:6.1%} {share16} "
                  f"{data_ms:7.1f} {data_ms / (1e3 * bs / ips):6.1%}", flush=True)
            if mode == "fp32" and (worst is None or gfs / peak < worst[0]):
                worst = (gfs / peak, arch)
    if worst is not None and (args.profile or worst[0] < 0.20):
        print(f"\nlowest share of the {'bf16' if native_bf16 else 'fp32'} peak: "
              f"{worst[1].name}, {worst[0]:.1%}")
        for name in args.names:
            arch = scale_to_fit(nas.load_arch(name), args.budget)
            profile_step(ArchConfig.from_dict({**arch.to_dict(), "num_classes": tr.num_classes}),
                         tr, sched)


if __name__ == "__main__":
    sys.exit(main())
