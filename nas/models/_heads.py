"""Segmentation heads. Both map the backbone's branch features to logits at the finest branch's
(SegFormer) or the last branch's (CLS) grid; the segmentor resizes them to the input."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from nas.arch import HeadConfig
from nas.models._layers import Pointwise
from nas.models._tally import HW, Tally, bn, conv, ln

__all__ = ["ClsHead", "SegFormerHead", "head_cost", "make_head"]


class SegFormerHead(nn.Module):
    """All-MLP head (HRViT's SegFormer variant): per-branch 1x1 conv to ``width``, bilinear resize
    to the finest branch, concat, 1x1 conv-BN-ReLU to ``width``, dropout, 1x1 conv to classes."""

    def __init__(self, channels: tuple[int, ...], cfg: HeadConfig, num_classes: int):
        super().__init__()
        w = cfg.width
        self.proj = nn.ModuleList(Pointwise(c, w) for c in channels)
        self.fuse = nn.Sequential(
            Pointwise(w * len(channels), w, bias=False), nn.BatchNorm2d(w), nn.ReLU()
        )
        self.dropout = nn.Dropout2d(cfg.dropout)
        self.classifier = Pointwise(w, num_classes)

    def forward(self, feats: list[torch.Tensor]) -> torch.Tensor:
        size = feats[0].shape[-2:]
        outs = [
            F.interpolate(proj(f), size=size, mode="bilinear", align_corners=False)
            for proj, f in zip(self.proj, feats)
        ]
        return self.classifier(self.dropout(self.fuse(torch.cat(outs, dim=1))))

    @staticmethod
    def cost(channels: tuple[int, ...], cfg: HeadConfig, num_classes: int, sizes: list[HW]
             ) -> Tally:
        w, hw0 = cfg.width, sizes[0]
        total = Tally()
        for c, hw in zip(channels, sizes):  # 1x1 conv, then bilinear resize (always called)
            total += conv(c, w, 1, hw) + Tally(4 * w * hw0[0] * hw0[1])
        return (total + conv(w * len(channels), w, 1, hw0, bias=False) + bn(w, hw0)
                + conv(w, num_classes, 1, hw0))


class ClsHead(nn.Module):
    """AFFormer's head-free CLS head (without its unused ``align`` module): on the last branch,
    1x1 conv-GN-ReLU to ``width``, dropout, 1x1 conv to classes."""

    def __init__(self, channels: tuple[int, ...], cfg: HeadConfig, num_classes: int):
        super().__init__()
        w = cfg.width
        self.squeeze = nn.Sequential(
            Pointwise(channels[-1], w, bias=False), nn.GroupNorm(cfg.gn_groups, w), nn.ReLU()
        )
        self.dropout = nn.Dropout2d(cfg.dropout)
        self.classifier = Pointwise(w, num_classes)

    def forward(self, feats: list[torch.Tensor]) -> torch.Tensor:
        return self.classifier(self.dropout(self.squeeze(feats[-1])))

    @staticmethod
    def cost(channels: tuple[int, ...], cfg: HeadConfig, num_classes: int, sizes: list[HW]
             ) -> Tally:
        w, hw = cfg.width, sizes[-1]
        return (conv(channels[-1], w, 1, hw, bias=False) + ln(w, hw[0] * hw[1])
                + conv(w, num_classes, 1, hw))


_HEADS = {"segformer": SegFormerHead, "cls": ClsHead}


def make_head(cfg: HeadConfig, channels: tuple[int, ...], num_classes: int) -> nn.Module:
    return _HEADS[cfg.type](channels, cfg, num_classes)


def head_cost(
    cfg: HeadConfig, channels: tuple[int, ...], num_classes: int, sizes: list[HW]
) -> Tally:
    return _HEADS[cfg.type].cost(channels, cfg, num_classes, sizes)
