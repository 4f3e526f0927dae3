"""Feed-forward parts of a block, on tokens (B, N, C) with the map size (H, W)."""

from __future__ import annotations

import torch
from torch import nn

from nas.arch import FFNConfig
from nas.models._layers import to_map, to_tokens
from nas.models._tally import HW, Tally, conv, linear

__all__ = ["DwMlp", "Mlp", "MixCFN", "ffn_cost", "make_ffn"]


class Mlp(nn.Module):
    """Linear, GELU, Linear (MPViT)."""

    def __init__(self, width: int, hidden: int):
        super().__init__()
        self.fc1 = nn.Linear(width, hidden)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden, width)

    def forward(self, x: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
        return self.fc2(self.act(self.fc1(x)))

    @staticmethod
    def cost(width: int, hidden: int, hw: HW) -> Tally:
        n = hw[0] * hw[1]
        return linear(width, hidden, n) + linear(hidden, width, n)


class DwMlp(nn.Module):
    """Linear, GELU(x + 3x3 depthwise conv(x)), Linear (AFFormer)."""

    def __init__(self, width: int, hidden: int):
        super().__init__()
        self.fc1 = nn.Linear(width, hidden)
        self.dw = nn.Conv2d(hidden, hidden, 3, 1, 1, groups=hidden)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden, width)

    def forward(self, x: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
        x = self.fc1(x)
        x = self.act(x + to_tokens(self.dw(to_map(x, *size))))
        return self.fc2(x)

    @staticmethod
    def cost(width: int, hidden: int, hw: HW) -> Tally:
        return Mlp.cost(width, hidden, hw) + conv(hidden, hidden, 3, hw, groups=hidden)


class MixCFN(nn.Module):
    """Linear, 3x3 depthwise conv on one half and 5x5 on the other, GELU, Linear (HRViT)."""

    def __init__(self, width: int, hidden: int):
        super().__init__()
        half = hidden // 2
        self.fc1 = nn.Linear(width, hidden)
        self.conv3 = nn.Conv2d(half, half, 3, 1, 1, groups=half)
        self.conv5 = nn.Conv2d(hidden - half, hidden - half, 5, 1, 2, groups=hidden - half)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden, width)

    def forward(self, x: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
        x = to_map(self.fc1(x), *size)
        a, b = x.chunk(2, dim=1)
        x = torch.cat([self.conv3(a), self.conv5(b)], dim=1)
        return self.fc2(to_tokens(self.act(x)))

    @staticmethod
    def cost(width: int, hidden: int, hw: HW) -> Tally:
        half, rest = hidden // 2, hidden - hidden // 2
        return (Mlp.cost(width, hidden, hw) + conv(half, half, 3, hw, groups=half)
                + conv(rest, rest, 5, hw, groups=rest))


_FFNS = {"mlp": Mlp, "dwmlp": DwMlp, "mixcfn": MixCFN}


def make_ffn(cfg: FFNConfig, width: int) -> nn.Module:
    return _FFNS[cfg.type](width, cfg.hidden(width))


def ffn_cost(cfg: FFNConfig, width: int, hw: HW) -> Tally:
    return _FFNS[cfg.type].cost(width, cfg.hidden(width), hw)
