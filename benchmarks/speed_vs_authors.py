"""Training throughput of our build beside the authors' module code, side by side in one run.

    OMP_WAIT_POLICY=PASSIVE flock /tmp/nas-heavy.lock .venv/bin/python \\
        benchmarks/speed_vs_authors.py [--threads 2] [--steps 6] [--seeds ../shared/seeds]
    .venv/bin/python benchmarks/speed_vs_authors.py --check-only   # weights and outputs only

For HRViT-b1, MPViT-tiny and AFFormer-base, at the published size and scaled into 5 GFLOPs at
512x512 (``nas.cost.scale_to_fit``: widths only; AFFormer-base already fits, so it has one
size), it times training steps of the backbone (ours: ``build_model(arch).backbone``; theirs:
the authors' ``HRViT.forward_features``, ``MPViT.forward_features``, ``AFFormer.forward``) on
the same random batch (8 x 3 x 96 x 96), the same loss (mean square of every returned feature
map), AdamW (timm, lr 1e-3, wd 0.01) and the same ``--threads`` (HRViT at 224x224: the
authors' code runs only where the 1/32 map is a multiple of its 7-wide window). Steps of the
two alternate in one process, so that other jobs on a shared machine slow both alike; the
printed figure is the median step time of each and the ratio of the medians.

The authors' code is the module code in the write-ups under ``--seeds`` (text with code,
never copied into this repo): it is extracted at run time into a temporary directory outside
the repo and imported from there, with minimal shims written beside it (a small
``einops.rearrange``; AFFormer's mmcv/mmseg names: ``BaseModule`` = ``nn.Module``, a no-op
``BACKBONES.register_module``; timm for ``DropPath``/``trunc_normal_``). Without the seeds the
"theirs" column is skipped with the reason.

Our weights are loaded into theirs (``benchmarks/authors_weights.py``: explicit name rules,
strict both ways; only their classifier, which our backbone lacks, keeps its own
initialisation), so the two compute the same function. Before any timing this is checked for
every network in eval mode: max |ours - theirs| / max |ours| over the feature maps both return,
first with every tensor perturbed (so that zero-initialised parts such as HRViT's attention
BatchNorm and the BatchNorm statistics take part), then with the initial weights that are
timed; both are printed, and a difference above ``--tol`` (1e-4) raises an error naming the
network. HRViT's one ``dim_head`` is chosen so that every branch has our head count.

GFLOP/s = 3 (forward + backward) x 2 (a multiply-add is 2 FLOPs) x fvcore FLOPs of our backbone
on one 96x96 image x images/s, beside the fp32 and bf16 2048^2 matmul peaks measured in the
same run (``benchmarks/proxy_speed.py``).
"""

from __future__ import annotations

import argparse
import importlib
import re
import statistics
import sys
import tempfile
import textwrap
import time
import warnings
from pathlib import Path

import torch

import nas
from nas.cost import count_flops, scale_to_fit

sys.path.insert(0, str(Path(__file__).resolve().parent))
from authors_weights import THEIRS_OWN, check_same_function, family  # noqa: E402
from proxy_speed import matmul_peak  # noqa: E402

SEEDS = Path(__file__).resolve().parents[2] / "shared" / "seeds"
NAMES = ("hrvit_b1", "mpvit_tiny", "afformer_base")

_EINOPS = '''
"""Minimal einops.rearrange for the authors' code: axis groups in parentheses, sizes as kwargs."""
import math
import re


def _groups(side):
    return [(a or b).split() for a, b in re.findall(r"\\(([^)]*)\\)|(\\S+)", side)]


def rearrange(x, pattern, **sizes):
    left, right = (_groups(s) for s in pattern.split("->"))
    for grp, dim in zip(left, x.shape):
        unknown = [a for a in grp if a not in sizes]
        if unknown:
            sizes[unknown[0]] = dim // math.prod(sizes[a] for a in grp if a in sizes)
    elem = [a for g in left for a in g]
    x = x.reshape([sizes[a] for a in elem]).permute([elem.index(a) for g in right for a in g])
    return x.reshape([math.prod(sizes[a] for a in g) for g in right])
'''

_AFFORMER_PRELUDE = '''
import math
from functools import partial

import numpy as np
import torch
import torch.nn.functional as F
from einops import rearrange
from timm.layers import DropPath, trunc_normal_
from torch import einsum, nn

BaseModule = nn.Module  # shim: mmcv's BaseModule


class _Registry:  # shim: mmseg's BACKBONES
    def register_module(self):
        return lambda cls: cls


BACKBONES = _Registry()


def get_root_logger():
    import logging
    return logging.getLogger("afformer")


def load_checkpoint(*args, **kwargs):
    raise RuntimeError("no checkpoints in this benchmark")
'''


def extract_authors(seeds: Path, into: Path) -> None:
    """Write authors_{hrvit,mpvit,afformer}.py and the shims into ``into``."""
    found = set()
    for f in sorted(seeds.glob("*.txt")):
        text = f.read_text(encoding="utf-8")
        fenced = re.search(r"^~~~python\n(.*?)^~~~", text, re.S | re.M)
        if "class HRViTAttention" in text and fenced:
            code, name = fenced.group(1), "hrvit"
        elif "class MPViT(" in text and fenced:
            code, name = fenced.group(1), "mpvit"
        elif "class AFFormer(" in text and "class DWConv(" in text:
            start = text.index("class DWConv(")
            end = text.find("\n评论", start)
            code, name = _AFFORMER_PRELUDE + text[start:end if end > 0 else None], "afformer"
        else:
            continue
        code = code.split("\nif __name__ == '__main__':")[0]
        (into / f"authors_{name}.py").write_text(code, encoding="utf-8")
        found.add(name)
    missing = {"hrvit", "mpvit", "afformer"} - found
    if missing:
        raise FileNotFoundError(f"no authors' code for {sorted(missing)} in {seeds}")
    (into / "einops.py").write_text(textwrap.dedent(_EINOPS))


def their_backbone(name: str, arch, mods: dict) -> tuple[torch.nn.Module, callable]:
    """The authors' backbone with ``arch``'s widths, and its feature function."""
    widths = [[b.width for b in s.branches] for s in arch.stages]
    if name == "hrvit_b1":
        ch = [tuple(w) for w in widths]
        # HRViT's 6 stage entries: (b1), (b1, b2), (b1..b3) x 2, (b1..b4) x 2
        channel_list = (ch[0], ch[1], ch[2], ch[2], ch[3], ch[3])
        m = mods["hrvit"].HRViT(
            stride=4, channels=arch.stem.width, channel_list=channel_list,
            block_list=((1,), (1, 1), (1, 1, 6), (1, 1, 6), (1, 1, 6, 2), (1, 1, 2, 2)),
            dim_head=hrvit_dim_head(arch), ws_list=(1, 2, 7, 7), mlp_ratio_list=(4, 4, 4, 4),
            num_classes=10)
        return m, m.forward_features
    if name == "mpvit_tiny":
        m = mods["mpvit"].MPViT(
            num_stages=4, num_path=[2, 3, 3, 3], num_layers=[1, 2, 4, 1],
            embed_dims=[w[0] for w in widths], mlp_ratios=[2, 2, 2, 2], num_heads=[8] * 4,
            num_classes=10)
        return m, m.forward_features
    m = mods["afformer"].AFFormer(
        num_stages=4, num_path=[1, 1, 1, 1], num_layers=[1, 2, 6, 2],
        embed_dims=[w[0] for w in widths], mlp_ratios=[2, 2, 2, 2], num_heads=[8] * 4)
    return m, m.forward


def hrvit_dim_head(arch) -> int:
    """HRViT's one ``dim_head`` for all branches that gives every branch our head count: theirs
    builds ``width // dim_head`` heads per branch (published: 32 -> 1, 2, 4, 8 heads, as ours)."""
    heads = {(b.width, b.mixer.heads) for s in arch.stages for b in s.branches}
    for d in range(max(w for w, _ in heads), 0, -1):
        if all(w // d == h for w, h in heads):
            return d
    raise ValueError(f"{arch.name}: no single HRViT dim_head gives the head counts {heads}")


def _params(model: torch.nn.Module, skip: tuple[str, ...] = ()) -> int:
    return sum(p.numel() for n, p in model.named_parameters() if not n.startswith(skip))


def make_step(forward, model, x):
    from timm.optim import create_optimizer_v2

    opt = create_optimizer_v2(model, opt="adamw", lr=1e-3, weight_decay=0.01)

    def step() -> None:
        out = forward(x)
        feats = out if isinstance(out, (list, tuple)) else [out]
        loss = sum(f.float().pow(2).mean() for f in feats)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    return step


def time_alternating(steps: dict, n: int) -> dict:
    for f in steps.values():  # two warm-up steps each
        f()
        f()
    times: dict = {k: [] for k in steps}
    for _ in range(n):
        for k, f in steps.items():
            t = time.perf_counter()
            f()
            times[k].append(time.perf_counter() - t)
    return {k: statistics.median(v) for k, v in times.items()}


def load_authors(seeds: Path, into: str) -> tuple[dict, str | None]:
    """The authors' modules imported from ``into``, or ({}, the reason they are unavailable)."""
    try:
        extract_authors(seeds, Path(into))
        sys.path.insert(0, into)
        return {k: importlib.import_module(f"authors_{k}")
                for k in ("hrvit", "mpvit", "afformer")}, None
    except (FileNotFoundError, OSError, ImportError, SyntaxError) as exc:
        return {}, f"authors' code unavailable ({type(exc).__name__}: {exc})"


def build_pairs(names, mods: dict, crop: int, batch: int, tol: float) -> list[dict]:
    """Ours and (with ``mods``) theirs for each network at both sizes, our weights loaded into
    theirs and checked to compute the same function; prints one line per network and raises
    ``WeightMappingError`` naming the network where they differ."""
    pairs = []
    if mods:
        print(f"# same function (eval mode, batch 2, our weights loaded into theirs, strict): "
              f"max|ours - theirs| / max|ours| over the feature maps both return, tolerance "
              f"{tol:g}; first with every tensor perturbed, then with the initial weights timed")
    for name in names:
        # the authors' HRViT reshapes every branch into whole 7-wide windows: it runs only
        # where the 1/32 map is a multiple of 7 (224x224), so HRViT is compared there
        c = 224 if name == "hrvit_b1" and mods and crop % 224 else crop
        x = torch.randn(batch, 3, c, c, generator=torch.Generator().manual_seed(0))
        published = nas.load_arch(name)
        scaled = scale_to_fit(published, "5GFLOPs")
        if scaled is published:
            print(f"# {name} is already within 5GFLOPs at 512x512: one size")
        for arch in (published,) if scaled is published else (published, scaled):
            torch.manual_seed(0)
            ours = nas.build_model(arch).backbone.train()
            pair = {"label": f"{arch.name}@{c}", "x": x, "ours": ours}
            if mods:
                theirs, fwd = their_backbone(name, arch, mods)
                d_pert, d_init = check_same_function(name, arch, ours, theirs, fwd, x[:2], tol)
                print(f"# {pair['label']:18s} perturbed {d_pert:.2e}  initial {d_init:.2e}  "
                      f"(theirs' own, unused: {', '.join(THEIRS_OWN[family(name)]) or 'none'})",
                      flush=True)
                pair.update(theirs=theirs.train(), fwd=fwd)
            pairs.append(pair)
    return pairs


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("names", nargs="*", default=list(NAMES))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=6, help="timed steps of each build")
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--crop", type=int, default=96)
    ap.add_argument("--seeds", type=Path, default=SEEDS)
    ap.add_argument("--tol", type=float, default=1e-4,
                    help="largest max|ours - theirs| / max|ours| accepted")
    ap.add_argument("--check-only", action="store_true",
                    help="only load our weights into theirs and check the outputs; no timing")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    warnings.simplefilter("ignore")
    tmp = tempfile.TemporaryDirectory(prefix="nas-authors-")
    mods, why = load_authors(args.seeds, tmp.name)
    b, c = args.batch, args.crop
    print(f"# torch {torch.__version__}, {args.threads} threads, batch {b}, crop {c}x{c}")
    if why:
        print(f"# theirs skipped: {why}")
    pairs = build_pairs(args.names, mods, c, b, args.tol)
    if args.check_only:
        tmp.cleanup()
        return
    peak32, peak16 = (matmul_peak(d, n=2048, reps=3) for d in (torch.float32, torch.bfloat16))
    print(f"# AdamW, {args.steps} alternating steps, shared machine; peaks (2048^2 matmul): fp32 "
          f"{peak32:.1f} GFLOP/s, bf16 {peak16:.1f} GFLOP/s")
    if peak16 < peak32:  # e.g. a CPU without AVX512-BF16/AMX: bf16 is emulated, no peak to share
        print("# bf16 matmul is slower than fp32 on this CPU (no native bf16): %bf16 not shown")
    print(f"{'arch':18s} {'params':>9s} {'theirs':>9s} {'ours img/s':>10s} {'theirs':>7s} "
          f"{'ratio':>6s} {'GFLOP/s':>8s} {'%fp32':>6s} {'%bf16':>6s}")
    for pair in pairs:
        ours, x = pair["ours"], pair["x"]
        steps = {"ours": make_step(ours, ours, x)}
        tp = None
        if "theirs" in pair:
            tp = _params(pair["theirs"], ("head", "cls_head"))
            steps["theirs"] = make_step(pair["fwd"], pair["theirs"], x)
        med = time_alternating(steps, args.steps)
        ips = {k: b / v for k, v in med.items()}
        gfs = 6 * count_flops(ours, tuple(x.shape[-2:])) / 1e9 * ips["ours"]
        th = f"{ips['theirs']:7.1f} {ips['ours'] / ips['theirs']:6.2f}" if tp else \
            f"{'-':>7s} {'-':>6s}"
        print(f"{pair['label']:18s} {_params(ours):9d} {tp or '-':>9} {ips['ours']:10.1f} {th} "
              f"{gfs:8.1f} {gfs / peak32:6.1%} "
              f"{format(gfs / peak16, '6.1%') if peak16 >= peak32 else '-':>6s}", flush=True)
    tmp.cleanup()


if __name__ == "__main__":
    sys.exit(main())
