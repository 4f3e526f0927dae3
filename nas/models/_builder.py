"""``build_model(arch)``: the segmentor for an :class:`~nas.arch.ArchConfig`."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from nas.arch import ArchConfig, StemConfig
from nas.models._cells import Fusion, make_cell
from nas.models._heads import make_head

__all__ = ["Backbone", "Segmentor", "Stem", "build_model"]


class Stem(nn.Sequential):
    """Two 3x3 stride-2 conv-BN-activation layers: 1/4 resolution, ``width`` channels."""

    def __init__(self, cfg: StemConfig, cin: int = 3):
        act = nn.ReLU if cfg.act == "relu" else nn.Hardswish
        mid = cfg.width // 2
        super().__init__(
            nn.Conv2d(cin, mid, 3, 2, 1, bias=cfg.bias), nn.BatchNorm2d(mid), act(),
            nn.Conv2d(mid, cfg.width, 3, 2, 1, bias=cfg.bias), nn.BatchNorm2d(cfg.width), act(),
        )


class _Module(nn.Module):
    """One module of a stage: optional fusion, then one cell per active branch."""

    def __init__(self, fusion: Fusion | None, cells: dict[int, nn.Module]):
        super().__init__()
        self.fusion = fusion
        self.branches = list(cells)
        self.cells = nn.ModuleList(cells.values())
        self._sources: dict[int, int] = {}

    def forward(self, feats: dict[int, torch.Tensor]) -> dict[int, torch.Tensor]:
        inputs = self.fusion(feats) if self.fusion is not None else feats
        out = dict(feats)
        for b, cell in zip(self.branches, self.cells):
            out[b] = cell(inputs[b] if b in inputs else inputs[b - 1])
        return out


class Backbone(nn.Module):
    """Stem and stages. ``forward`` returns one feature map per branch; ``feature_info`` gives
    their channels and strides (timm's convention)."""

    def __init__(self, arch: ArchConfig):
        super().__init__()
        self.stem = Stem(arch.stem)
        chans = {0: arch.stem.width}  # channels of each branch's current feature
        strides = {0: 4}
        modules: list[nn.Module] = []
        for s, stage in enumerate(arch.stages):
            first = stage.first_branch(s)
            active = list(range(first, s + 1))
            for m in range(stage.modules):
                opening = m == 0 and s not in chans
                fusion = None
                cin = dict(chans)
                if stage.fusion:
                    ins = [(b, chans[b], strides[b]) for b in active if b in chans]
                    outs = ins + ([(s, stage.branches[-1].width, stage.stride)] if opening else [])
                    fusion = Fusion(ins, outs)
                    cin.update({b: c for b, c, _ in outs})
                cells = {}
                for b, br in zip(active, stage.branches):
                    if b in cin:
                        cells[b] = make_cell(cin[b], br, br.depths[m], 1)
                    else:  # opened by a strided embedding of the previous branch
                        step = stage.stride // strides[s - 1]
                        cells[b] = make_cell(cin[s - 1], br, br.depths[m], step)
                modules.append(_Module(fusion, cells))
                for b, br in zip(active, stage.branches):
                    chans[b] = br.output_width
                strides[s] = stage.stride
        self.modules_ = nn.ModuleList(modules)
        self.feature_info = [
            {"num_chs": chans[b], "reduction": strides[b], "module": f"branch{b + 1}"}
            for b in range(len(arch.stages))
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
        return [feats[b] for b in range(len(self.feature_info))]


class Segmentor(nn.Module):
    """Backbone + head; ``forward`` maps (B, 3, H, W) to logits (B, num_classes, H, W)."""

    def __init__(self, arch: ArchConfig):
        super().__init__()
        self.arch = arch
        self.backbone = Backbone(arch)
        self.head = make_head(arch.head, self.backbone.out_channels, arch.num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        logits = self.head(self.backbone(x))
        return F.interpolate(logits, size=x.shape[-2:], mode="bilinear", align_corners=False)


def build_model(arch: ArchConfig) -> Segmentor:
    """Build the segmentor described by ``arch`` (weights freshly initialised)."""
    return Segmentor(arch)
