"""Cells (what a stage runs on one branch) and HRViT's cross-resolution fusion."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from nas.arch import BranchConfig
from nas.models._blocks import Stack
from nas.models._layers import ConvBN, ConvPath, DWConvBN, Pointwise, to_map, to_tokens
from nas.models._tally import HW, Tally, bn, conv, down, ln

__all__ = ["AFCell", "Fusion", "HRCell", "MPCell", "cell_cost", "make_cell"]


class HRCell(nn.Module):
    """HRViT: patch embedding (1x1 conv, 3x3 depthwise conv with ``stride``, LN), the block
    stack, LN."""

    def __init__(self, cin: int, cfg: BranchConfig, depth: int, stride: int):
        super().__init__()
        c = cfg.width
        self.embed = nn.Sequential(
            Pointwise(cin, c), nn.Conv2d(c, c, 3, stride, 1, groups=c)
        )
        self.embed_norm = nn.LayerNorm(c)
        self.stack = Stack(c, depth, cfg.mixer, cfg.ffn, pos_enc=False, eps=1e-5)
        self.norm = nn.LayerNorm(c)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.embed(x)
        h, w = x.shape[-2:]
        t = self.embed_norm(to_tokens(x))
        t = self.stack.forward_tokens(t, (h, w))
        return to_map(self.norm(t), h, w)

    @staticmethod
    def cost(cin: int, cfg: BranchConfig, depth: int, stride: int, hw: HW) -> tuple[Tally, HW]:
        c, out = cfg.width, down(hw, stride)
        n = out[0] * out[1]
        total = (conv(cin, c, 1, hw) + conv(c, c, 3, out, groups=c) + ln(c, n) + ln(c, n)
                 + Stack.cost(c, depth, cfg.mixer, cfg.ffn, False, out))
        return total, out


class MPCell(nn.Module):
    """MPViT: a chain of ``paths`` depthwise-separable embeddings (the first strided), one stack
    per path, an inverted-residual conv path on the first embedding, concat and a 1x1
    conv-BN-Hardswish to ``out_width``."""

    def __init__(self, cin: int, cfg: BranchConfig, depth: int, stride: int):
        super().__init__()
        c = cfg.width
        self.embeds = nn.ModuleList(
            DWConvBN(cin if i == 0 else c, c, stride if i == 0 else 1) for i in range(cfg.paths)
        )
        self.conv_path = ConvPath(c, int(c * cfg.conv_ratio))
        self.stacks = nn.ModuleList(
            Stack(c, depth, cfg.mixer, cfg.ffn, pos_enc=True, eps=1e-6) for _ in range(cfg.paths)
        )
        self.aggregate = ConvBN((cfg.paths + 1) * c, cfg.output_width, act=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        embeds = []
        for embed in self.embeds:
            x = embed(x)
            embeds.append(x)
        outs = [self.conv_path(embeds[0])]
        outs += [stack(e) for stack, e in zip(self.stacks, embeds)]
        return self.aggregate(torch.cat(outs, dim=1))

    @staticmethod
    def cost(cin: int, cfg: BranchConfig, depth: int, stride: int, hw: HW) -> tuple[Tally, HW]:
        c, p, out = cfg.width, cfg.paths, down(hw, stride)
        total = DWConvBN.cost(cin, c, out) + ConvPath.cost(c, int(c * cfg.conv_ratio), out)
        for _ in range(p - 1):
            total += DWConvBN.cost(c, c, out)
        for _ in range(p):
            total += Stack.cost(c, depth, cfg.mixer, cfg.ffn, True, out)
        return total + ConvBN.cost((p + 1) * c, cfg.output_width, 1, out), out


class AFCell(nn.Module):
    """AFFormer: embeddings ``e0`` (strided when opening a branch) and ``e1..eP`` (``e1`` strided
    by ``proto_stride``) in a chain; a pixel path ``ConvPath(e0)`` plus each prototype stack's
    output, resized bilinearly (align_corners) to ``e0``'s grid; then a 1x1 conv-BN-Hardswish
    to ``out_width``. Without blocks: ``ConvPath(e0 + ... + eP)``."""

    def __init__(self, cin: int, cfg: BranchConfig, depth: int, stride: int):
        super().__init__()
        c = cfg.width
        strides = [stride, cfg.proto_stride] + [1] * (cfg.paths - 1)
        self.embeds = nn.ModuleList(
            DWConvBN(cin if i == 0 else c, c, s) for i, s in enumerate(strides)
        )
        self.pixel = ConvPath(c, int(c * cfg.conv_ratio))
        self.depth = depth
        self.stacks = nn.ModuleList(
            Stack(c, depth, cfg.mixer, cfg.ffn, pos_enc=True, eps=1e-6)
            for _ in range(cfg.paths if depth else 0)
        )
        self.aggregate = ConvBN(c, cfg.output_width, act=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        embeds = []
        for embed in self.embeds:
            x = embed(x)
            embeds.append(x)
        if not self.depth:
            return self.aggregate(self.pixel(sum(embeds[1:], embeds[0])))
        out = self.pixel(embeds[0])
        for stack, e in zip(self.stacks, embeds[1:]):
            y = stack(e)
            if y.shape[-2:] != out.shape[-2:]:
                y = F.interpolate(y, size=out.shape[-2:], mode="bilinear", align_corners=True)
            out = out + y
        return self.aggregate(out)

    @staticmethod
    def cost(cin: int, cfg: BranchConfig, depth: int, stride: int, hw: HW) -> tuple[Tally, HW]:
        c, p = cfg.width, cfg.paths
        pixel = down(hw, stride)
        proto = down(pixel, cfg.proto_stride)
        total = DWConvBN.cost(cin, c, pixel) + ConvPath.cost(c, int(c * cfg.conv_ratio), pixel)
        for _ in range(p):
            total += DWConvBN.cost(c, c, proto)
        if depth:
            for _ in range(p):
                total += Stack.cost(c, depth, cfg.mixer, cfg.ffn, True, proto)
                if proto != pixel:  # bilinear resize back to the pixel grid
                    total += Tally(4 * c * pixel[0] * pixel[1])
        return total + ConvBN.cost(c, cfg.output_width, 1, pixel), pixel


_CELLS = {"hr": HRCell, "mp": MPCell, "af": AFCell}


def make_cell(cin: int, cfg: BranchConfig, depth: int, stride: int) -> nn.Module:
    return _CELLS[cfg.cell](cin, cfg, depth, stride)


def cell_cost(cin: int, cfg: BranchConfig, depth: int, stride: int, hw: HW) -> tuple[Tally, HW]:
    """Cost of a cell on an ``hw`` input, and its output size."""
    return _CELLS[cfg.cell].cost(cin, cfg, depth, stride, hw)


class Fusion(nn.Module):
    """HRViT's cross-resolution fusion: output ``i`` = GELU(sum over inputs ``j``), where input
    ``j`` passes as is (``j == i``), through a strided depthwise conv (kernel r+1, stride r),
    BN, 1x1 conv, BN when it is r times finer, or through a 1x1 conv, BN and a nearest resize
    to output ``i``'s grid when it is coarser (or equally fine but another branch)."""

    def __init__(
        self, inputs: list[tuple[int, int, int]], outputs: list[tuple[int, int, int]]
    ):
        """``inputs``/``outputs``: (branch, channels, stride) triples, in branch order."""
        super().__init__()
        self.in_branches = [b for b, _, _ in inputs]
        self.out_branches = [b for b, _, _ in outputs]
        self.paths = nn.ModuleList()
        for bo, co, so in outputs:
            row = nn.ModuleList()
            for bi, ci, si in inputs:
                if bi == bo:
                    row.append(nn.Identity())
                elif si < so:
                    r = so // si
                    row.append(nn.Sequential(
                        nn.Conv2d(ci, ci, r + 1, r, r // 2, groups=ci, bias=False),
                        nn.BatchNorm2d(ci), Pointwise(ci, co), nn.BatchNorm2d(co),
                    ))
                else:
                    row.append(nn.Sequential(Pointwise(ci, co), nn.BatchNorm2d(co)))
            self.paths.append(row)
        self.act = nn.GELU()

    def forward(self, feats: dict[int, torch.Tensor]) -> dict[int, torch.Tensor]:
        out: dict[int, torch.Tensor] = {}
        for bo, row in zip(self.out_branches, self.paths):
            target = feats[bo].shape[-2:] if bo in feats else None
            total = None
            for bi, path in zip(self.in_branches, row):
                y = path(feats[bi])
                if target is not None and y.shape[-2:] != target:
                    y = F.interpolate(y, size=target, mode="nearest")
                total = y if total is None else total + y
            out[bo] = self.act(total)
        return out

    @staticmethod
    def cost(
        inputs: list[tuple[int, int, int]], outputs: list[tuple[int, int, int]],
        sizes: dict[int, HW],
    ) -> tuple[Tally, dict[int, HW]]:
        """Cost given the input branches' sizes; also returns every output's size."""
        total = Tally()
        out_sizes: dict[int, HW] = {}
        for bo, co, so in outputs:
            target = sizes.get(bo)
            for bi, ci, si in inputs:
                hw = sizes[bi]
                if bi == bo:
                    y = hw
                elif si < so:
                    r = so // si
                    y = down(hw, r)
                    total += (conv(ci, ci, r + 1, y, groups=ci, bias=False) + bn(ci, y)
                              + conv(ci, co, 1, y) + bn(co, y))
                else:
                    y = hw
                    total += conv(ci, co, 1, hw) + bn(co, hw)
                if target is None:
                    target = y
                elif y != target:  # nearest resize to the output's grid
                    total += Tally(co * target[0] * target[1])
            assert target is not None
            out_sizes[bo] = target
        return total, out_sizes
