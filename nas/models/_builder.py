"""``build_model(arch)``: the segmentor for an :class:`~nas.arch.ArchConfig`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial

import torch
import torch.nn.functional as F
from torch import nn

from nas.arch import ArchConfig, ModulePlan, StemConfig, plan
from nas.models._cells import Fusion, cell_cost, make_cell
from nas.models._heads import head_cost, make_head
from nas.models._tally import HW, Tally, bn, conv, down

__all__ = ["Backbone", "Segmentor", "Stem", "Unit", "analytic_cost", "build_model", "units"]


class Stem(nn.Sequential):
    """Two 3x3 stride-2 conv-BN-activation layers: 1/4 resolution, ``width`` channels."""

    def __init__(self, cfg: StemConfig, cin: int = 3):
        act = nn.ReLU if cfg.act == "relu" else nn.Hardswish
        mid = cfg.width // 2
        super().__init__(
            nn.Conv2d(cin, mid, 3, 2, 1, bias=cfg.bias), nn.BatchNorm2d(mid), act(),
            nn.Conv2d(mid, cfg.width, 3, 2, 1, bias=cfg.bias), nn.BatchNorm2d(cfg.width), act(),
        )

    @staticmethod
    def cost(cfg: StemConfig, hw: HW, cin: int = 3) -> tuple[Tally, HW]:
        mid, h1 = cfg.width // 2, down(hw, 2)
        h2 = down(h1, 2)
        total = (conv(cin, mid, 3, h1, bias=cfg.bias) + bn(mid, h1)
                 + conv(mid, cfg.width, 3, h2, bias=cfg.bias) + bn(cfg.width, h2))
        return total, h2


class _Module(nn.Module):
    """One module of a stage: optional fusion, then one cell per active branch."""

    def __init__(self, mp: ModulePlan):
        super().__init__()
        f = mp.fusion
        self.fusion = Fusion(list(f.inputs), list(f.outputs)) if f is not None else None
        self.wiring = [(c.branch, c.source) for c in mp.cells]
        self.cells = nn.ModuleList(make_cell(c.cin, c.cfg, c.depth, c.stride) for c in mp.cells)

    def forward(self, feats: dict[int, torch.Tensor]) -> dict[int, torch.Tensor]:
        inputs = self.fusion(feats) if self.fusion is not None else feats
        out = dict(feats)
        for (branch, source), cell in zip(self.wiring, self.cells):
            out[branch] = cell(inputs[source])
        return out


class Backbone(nn.Module):
    """Stem and stages. ``forward`` returns one feature map per branch; ``feature_info`` gives
    their channels and strides (timm's convention)."""

    def __init__(self, arch: ArchConfig, outputs: tuple[int, ...] | None = None):
        """``outputs``: the branches to return (0-based); default: those the head reads. Only
        the modules these outputs need are built."""
        super().__init__()
        p = plan(arch, outputs)
        self.outputs = p.outputs
        self.stem = Stem(arch.stem)
        self.modules_ = nn.ModuleList(_Module(mp) for mp in p.modules)
        # timm's convention: "module" names the submodule whose output is the feature map
        last = {c.branch: f"modules_.{k}.cells.{j}" for k, mp in enumerate(p.modules)
                for j, c in enumerate(mp.cells)}
        self.feature_info = [
            {"num_chs": p.channels[b], "reduction": p.strides[b], "module": last.get(b, "stem")}
            for b in p.outputs
        ]

    @property
    def out_channels(self) -> tuple[int, ...]:
        return tuple(f["num_chs"] for f in self.feature_info)

    @property
    def strides(self) -> tuple[int, ...]:
        return tuple(f["reduction"] for f in self.feature_info)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        feats = {0: self.stem(x)}
        for module in self.modules_:
            feats = module(feats)
        return [feats[b] for b in self.outputs]


class Segmentor(nn.Module):
    """Backbone + head; ``forward`` maps (B, 3, H, W) to logits (B, num_classes, H, W)."""

    def __init__(self, arch: ArchConfig):
        super().__init__()
        self.arch = arch
        self.backbone = Backbone(arch)
        self.head = make_head(arch.head, self.backbone.out_channels, arch.num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # channels-last throughout: 1x1 convs are matmuls on the free (B, H, W, C) view, the
        # token <-> map reshapes are views, and oneDNN's depthwise convs are faster on it
        logits = self.head(self.backbone(x.contiguous(memory_format=torch.channels_last)))
        return F.interpolate(logits, size=x.shape[-2:], mode="bilinear", align_corners=False)


def build_model(arch: ArchConfig) -> Segmentor:
    """Build the segmentor described by ``arch`` (weights freshly initialised)."""
    return Segmentor(arch)


@dataclass(frozen=True)
class Unit:
    """One separately buildable and measurable piece of a segmentor at a fixed input size: the
    stem, a fusion, a cell, or the head with the final resize. ``key`` identifies it (same key,
    same computation), ``make`` builds it, and ``inputs`` are its input shapes (batch 1)."""

    kind: str
    key: str
    inputs: tuple[tuple[int, ...], ...]
    cost: Tally
    make: Callable[[], nn.Module] = field(compare=False, repr=False)


def units(arch: ArchConfig, input_size: HW) -> list[Unit]:
    """The segmentor as a list of units, each with its analytic cost, without building any."""
    p = plan(arch)
    out: list[Unit] = []
    t, hw = Stem.cost(arch.stem, input_size)
    out.append(Unit("stem", _key("stem", arch.stem, input_size), ((1, 3, *input_size),), t,
                    partial(Stem, arch.stem)))
    sizes: dict[int, HW] = {0: hw}
    chans: dict[int, int] = {0: arch.stem.width}
    for mp in p.modules:  # only the modules the head needs (see nas.arch.plan)
        inputs, in_chans = sizes, chans
        if (f := mp.fusion) is not None:
            t, fused = Fusion.cost(list(f.inputs), list(f.outputs), sizes)
            shapes = tuple((1, c, *sizes[b]) for b, c, _ in f.inputs)
            out.append(Unit("fusion", _key("fusion", f, shapes), shapes, t,
                            partial(_FusionUnit, list(f.inputs), list(f.outputs))))
            inputs = {**sizes, **fused}
            in_chans = {**chans, **{b: c for b, c, _ in f.outputs}}
        new, new_chans = dict(sizes), dict(chans)
        for c in mp.cells:
            t, new[c.branch] = cell_cost(c.cin, c.cfg, c.depth, c.stride, inputs[c.source])
            shape = (1, in_chans[c.source], *inputs[c.source])
            key = _key(c.cfg.cell, (c.cfg, c.depth, c.stride), (shape,))
            out.append(Unit(f"cell:{c.cfg.cell}", key, (shape,), t,
                            partial(make_cell, c.cin, c.cfg, c.depth, c.stride)))
            new_chans[c.branch] = c.cfg.output_width
        sizes, chans = new, new_chans
    feats = tuple((1, p.channels[b], *sizes[b]) for b in p.outputs)
    t = head_cost(arch.head, p.output_channels, arch.num_classes, [f[2:] for f in feats])
    t += Tally(4 * arch.num_classes * input_size[0] * input_size[1])  # final resize
    out.append(Unit("head", _key("head", (arch.head, arch.num_classes, input_size), feats),
                    feats, t, partial(_HeadUnit, arch, p.output_channels, input_size)))
    return out


def analytic_cost(arch: ArchConfig, input_size: HW) -> tuple[Tally, Tally]:
    """(backbone, segmentor) FLOPs and params of ``build_model(arch)`` at ``input_size``, from the
    modules' formulas, without building anything. Equal to fvcore's count and ``numel``."""
    parts = units(arch, input_size)
    backbone = sum((u.cost for u in parts if u.kind != "head"), Tally())
    return backbone, backbone + parts[-1].cost


def _key(kind: str, cfg: object, shapes: object) -> str:
    return f"{kind}|{cfg!r}|{shapes!r}"


class _FusionUnit(nn.Module):
    """A fusion as a unit: positional input tensors in, a list out."""

    def __init__(self, inputs: list, outputs: list):
        super().__init__()
        self.branches = [b for b, _, _ in inputs]
        self.fusion = Fusion(inputs, outputs)

    def forward(self, *xs: torch.Tensor) -> list[torch.Tensor]:
        return list(self.fusion(dict(zip(self.branches, xs))).values())


class _HeadUnit(nn.Module):
    """The head and the final resize, on positional branch features."""

    def __init__(self, arch: ArchConfig, channels: tuple[int, ...], size: HW):
        super().__init__()
        self.size = size
        self.head = make_head(arch.head, channels, arch.num_classes)

    def forward(self, *feats: torch.Tensor) -> torch.Tensor:
        y = self.head(list(feats))
        return F.interpolate(y, size=self.size, mode="bilinear", align_corners=False)
