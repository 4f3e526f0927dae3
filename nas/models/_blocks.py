"""A transformer block and a stack of them on one path."""

from __future__ import annotations

import torch
from torch import nn

from nas.arch import FFNConfig, MixerConfig
from nas.models._ffn import ffn_cost, make_ffn
from nas.models._layers import to_map, to_tokens
from nas.models._mixers import (
    CrossShapedAttention,
    DiversityShortcut,
    FactorizedAttention,
    FrequencyFilter,
    make_filter,
)
from nas.models._tally import HW, Tally, conv, ln

__all__ = ["Block", "Stack"]


class Block(nn.Module):
    """``x + mixer(LN(x)) [+ DES(x)]``, then ``x + ffn(LN(x))``. The diversity-enhanced shortcut
    comes with the cswin mixer, as in HRViT's block."""

    def __init__(self, width: int, mixer: MixerConfig, ffn: FFNConfig, eps: float):
        super().__init__()
        self.norm1 = nn.LayerNorm(width, eps=eps)
        if mixer.type == "cswin":
            assert mixer.window is not None
            self.mixer: nn.Module = CrossShapedAttention(width, mixer.heads, mixer.window)
            self.shortcut: nn.Module | None = DiversityShortcut(width)
        else:
            self.mixer = FactorizedAttention(width, mixer.heads)
            self.shortcut = None
        self.norm2 = nn.LayerNorm(width, eps=eps)
        self.ffn = make_ffn(ffn, width)

    def forward(self, x: torch.Tensor, size: tuple[int, int], filt=None) -> torch.Tensor:
        y = self.mixer(self.norm1(x), size, filt)
        if self.shortcut is not None:
            y = y + self.shortcut(x)
        x = x + y
        return x + self.ffn(self.norm2(x), size)

    @staticmethod
    def cost(width: int, mixer: MixerConfig, ffn: FFNConfig, hw: HW) -> Tally:
        n = hw[0] * hw[1]
        if mixer.type == "cswin":
            assert mixer.window is not None
            mix = (CrossShapedAttention.cost(width, mixer.heads, mixer.window, hw)
                   + DiversityShortcut.cost(width, n))
        else:
            mix = FactorizedAttention.cost(width, mixer.heads, hw)
        return ln(width, n) + mix + ln(width, n) + ffn_cost(ffn, width, hw)


class ConvPosEnc(nn.Module):
    """3x3 depthwise conv plus identity on the token map (MPViT/AFFormer), shared by a stack."""

    def __init__(self, width: int):
        super().__init__()
        self.proj = nn.Conv2d(width, width, 3, 1, 1, groups=width)

    def forward(self, x: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
        feat = to_map(x, *size)
        return to_tokens(self.proj(feat) + feat)

    @staticmethod
    def cost(width: int, hw: HW) -> Tally:
        return conv(width, width, 3, hw, groups=width)


class Stack(nn.Module):
    """``depth`` blocks on one path, on a (B, C, H, W) map. The frequency filter (high/low-pass
    convs) and, with ``pos_enc``, a convolutional position encoding applied before every block
    are shared by the whole stack, as in MPViT's and AFFormer's encoders."""

    def __init__(
        self, width: int, depth: int, mixer: MixerConfig | None, ffn: FFNConfig | None,
        pos_enc: bool, eps: float,
    ):
        super().__init__()
        self.depth = depth
        if depth == 0:
            return
        assert mixer is not None and ffn is not None
        self.pos_enc = ConvPosEnc(width) if pos_enc else None
        self.filter = make_filter(mixer, width)
        self.blocks = nn.ModuleList(Block(width, mixer, ffn, eps) for _ in range(depth))

    def forward_tokens(self, x: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
        for block in self.blocks if self.depth else ():
            if self.pos_enc is not None:
                x = self.pos_enc(x, size)
            x = block(x, size, self.filter)
        return x

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.depth == 0:
            return x
        h, w = x.shape[-2:]
        return to_map(self.forward_tokens(to_tokens(x), (h, w)), h, w)

    @staticmethod
    def cost(
        width: int, depth: int, mixer: MixerConfig | None, ffn: FFNConfig | None, pos_enc: bool,
        hw: HW,
    ) -> Tally:
        if depth == 0:
            return Tally()
        assert mixer is not None and ffn is not None
        block = Block.cost(width, mixer, ffn, hw)
        total = Tally(block.flops * depth, block.params * depth)
        if pos_enc:
            total += ConvPosEnc.cost(width, hw).times(depth)
        if mixer.type in ("factorized", "freq"):
            total += FrequencyFilter.cost(width, mixer, hw).times(depth)
        return total
