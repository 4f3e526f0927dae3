"""The ten reference models: our params and fvcore FLOPs at 512x512 beside figures.md, and CPU
latency (batch 1, 2 threads, median of 20 after 5 warm-up runs).

    python benchmarks/references.py [--input 512x512] [--threads 2] [--runs 20] [NAME ...]

Targets: backbone params/FLOPs from figures.md Table 2; segmentor params/GFLOPs from Table 3
(HRViT and AFFormer, 150 classes; AFFormer without the unused `align`). MPViT's segmentor uses
our SegFormer-style head (no published figure).
"""

from __future__ import annotations

import argparse
import platform

import torch

from nas.arch import load_arch, reference_names
from nas.cost import count_flops, count_params, measure_latency, parse_size
from nas.models import build_model

FIG_BACKBONE = {  # name: (params, fvcore FLOPs @512)
    "hrvit_b1": (7_758_008, 10_745_806_848), "hrvit_b2": (20_310_944, 25_087_721_472),
    "hrvit_b3": (25_507_960, 28_727_050_240), "mpvit_tiny": (5_626_736, 8_640_987_232),
    "mpvit_xsmall": (10_316_448, 15_522_679_504), "mpvit_small": (22_603_400, 25_074_136_128),
    "mpvit_base": (74_364_976, 85_915_845_680), "afformer_tiny": (2_032_948, 2_747_264_000),
    "afformer_small": (2_228_748, 3_003_394_048), "afformer_base": (2_843_548, 4_025_428_496),
}
FIG_SEGMENTOR = {  # name: (params, fvcore GFLOPs @512, latency ms @512 from Table 5)
    "afformer_tiny": (2_127_306, 3.294, 154.2), "afformer_small": (2_323_106, 3.550, 159.0),
    "afformer_base": (2_937_906, 4.572, 192.7), "hrvit_b1": (8_183_118, 16.154, 585.6),
    "hrvit_b2": (20_809_782, 30.635, 812.3), "hrvit_b3": (28_724_494, 71.163, 1439.1),
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("names", nargs="*", default=reference_names())
    ap.add_argument("--input", default="512x512")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--runs", type=int, default=20)
    args = ap.parse_args()
    size = parse_size(args.input)
    print(f"# torch {torch.__version__}, {platform.processor() or platform.machine()}, "
          f"{args.threads} threads, input {size[0]}x{size[1]}, batch 1")
    head = (f"{'model':15s} {'bb params':>11s} {'fig':>11s} {'bb GFLOPs':>14s} {'fig':>14s} "
            f"{'seg params':>11s} {'fig':>11s} {'seg GFLOPs':>10s} {'fig':>7s} "
            f"{'ms (IQR)':>15s} {'fig ms':>7s}")
    print(head)
    print("-" * len(head))
    for name in args.names:
        torch.manual_seed(0)
        model = build_model(load_arch(name)).eval()
        bp, bf = count_params(model.backbone), count_flops(model.backbone, size)
        sp, sf = count_params(model), count_flops(model, size)
        lat = measure_latency(model, size, threads=args.threads, runs=args.runs)
        fbp, fbf = FIG_BACKBONE.get(name, (None, None)) if size == (512, 512) else (None, None)
        fsp, fsf, fms = FIG_SEGMENTOR.get(name, (None, None, None))
        if size != (512, 512):
            fsf = fms = None
        print(
            f"{name:15s} {bp:>11,} {_f(fbp):>11s} {bf / 1e9:>14.9f} {_g(fbf):>14s} "
            f"{sp:>11,} {_f(fsp):>11s} {sf / 1e9:>10.3f} {_g3(fsf):>7s} "
            f"{lat.median_ms:>7.1f} ({lat.spread_ms:>4.1f}) {_g3(fms, 1):>7s}",
            flush=True,
        )


def _f(v):
    return "-" if v is None else f"{v:,}"


def _g(v):
    return "-" if v is None else f"{v / 1e9:.9f}"


def _g3(v, digits=3):
    return "-" if v is None else f"{v:.{digits}f}"


if __name__ == "__main__":
    main()
