"""Small convolutional pieces shared by every family: conv-BN, depthwise-separable embedding,
the inverted-residual conv path, and token <-> map reshapes."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from nas.models._tally import HW, Tally, bn, conv

__all__ = ["ConvBN", "ConvPath", "DWConvBN", "Pointwise", "to_map", "to_tokens"]


def to_tokens(x: torch.Tensor) -> torch.Tensor:
    """(B, C, H, W) -> (B, H*W, C)."""
    return x.flatten(2).transpose(1, 2)


def to_map(x: torch.Tensor, h: int, w: int) -> torch.Tensor:
    """(B, H*W, C) -> (B, C, H, W)."""
    return x.transpose(1, 2).reshape(x.shape[0], -1, h, w)


class Pointwise(nn.Conv2d):
    """A 1x1 convolution (same parameters, init and state-dict names as ``nn.Conv2d(cin, cout,
    1)``) computed as one matmul over the channels: ``linear`` on the (B, H, W, C) view. On a
    channels-last map that view is free, and the output is channels-last again; on 2 CPU
    threads a oneDNN 1x1 convolution (and its backward) on the small maps of a proxy step costs
    several times the matmul. fvcore counts ``linear`` as the conv's multiply-adds, so FLOPs
    are unchanged."""

    def __init__(self, cin: int, cout: int, bias: bool = True):
        super().__init__(cin, cout, 1, bias=bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.linear(x.permute(0, 2, 3, 1), self.weight.flatten(1), self.bias)
        return y.permute(0, 3, 1, 2)

    @staticmethod
    def cost(cin: int, cout: int, out: HW, bias: bool = True) -> Tally:
        """The 1x1 convolution's params and multiply-adds (fvcore counts the ``linear`` alike)."""
        return conv(cin, cout, 1, out, bias=bias)


class ConvBN(nn.Sequential):
    """Conv (no bias) + BatchNorm + optional Hardswish: MPViT's ``Conv2d_BN``."""

    def __init__(self, cin: int, cout: int, kernel: int = 1, stride: int = 1, act: bool = False):
        super().__init__(
            Pointwise(cin, cout, bias=False) if kernel == 1 and stride == 1
            else nn.Conv2d(cin, cout, kernel, stride, kernel // 2, bias=False),
            nn.BatchNorm2d(cout),
            nn.Hardswish() if act else nn.Identity(),
        )

    @staticmethod
    def cost(cin: int, cout: int, kernel: int, out: HW) -> Tally:
        return conv(cin, cout, kernel, out, bias=False) + bn(cout, out)


class DWConvBN(nn.Module):
    """3x3 depthwise conv (optionally strided) + 1x1 conv + BN + Hardswish: one patch embedding
    of MPViT's multi-scale chain. With ``cin == cout`` it is MPViT's ``DWConv2d_BN`` exactly."""

    def __init__(self, cin: int, cout: int, stride: int = 1):
        super().__init__()
        self.dw = nn.Conv2d(cin, cin, 3, stride, 1, groups=cin, bias=False)
        self.pw = Pointwise(cin, cout, bias=False)
        self.bn = nn.BatchNorm2d(cout)
        self.act = nn.Hardswish()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.bn(self.pw(self.dw(x))))

    @staticmethod
    def cost(cin: int, cout: int, out: HW) -> Tally:
        return (conv(cin, cin, 3, out, groups=cin, bias=False) + conv(cin, cout, 1, out, bias=False)
                + bn(cout, out))


class ConvPath(nn.Module):
    """Inverted-residual conv block: 1x1 conv-BN-Hardswish to ``hidden``, 3x3 depthwise conv, BN,
    Hardswish, 1x1 conv-BN back, plus the input. MPViT's ``ResBlock`` (hidden = width) and
    AFFormer's ``Restore`` pixel descriptor (hidden = width / 2)."""

    def __init__(self, width: int, hidden: int):
        super().__init__()
        self.expand = ConvBN(width, hidden, act=True)
        self.dw = nn.Conv2d(hidden, hidden, 3, 1, 1, groups=hidden, bias=False)
        self.bn = nn.BatchNorm2d(hidden)
        self.act = nn.Hardswish()
        self.project = ConvBN(hidden, width)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.project(self.act(self.bn(self.dw(self.expand(x)))))

    @staticmethod
    def cost(width: int, hidden: int, hw: HW) -> Tally:
        return (ConvBN.cost(width, hidden, 1, hw) + bn(hidden, hw)
                + ConvBN.cost(hidden, width, 1, hw)
                + conv(hidden, hidden, 3, hw, groups=hidden, bias=False))
