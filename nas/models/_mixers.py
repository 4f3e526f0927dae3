"""Token mixers on tokens (B, N, C) with the map size (H, W).

* :class:`CrossShapedAttention` and :class:`DiversityShortcut`: HRViT.
* :class:`FactorizedAttention`: MPViT's factorized attention ``q (softmax(k)^T v)``, plus the
  term given by a per-stack shared :class:`FrequencyFilter`: ``q * HP(v)`` (MPViT's
  convolutional relative position encoding) and, with low-pass groups, ``+ LP(v)`` (AFFormer's
  adaptive frequency filter).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from nas.arch import MixerConfig, des_factor
from nas.models._layers import to_map
from nas.models._tally import HW, Tally, bn, conv, einsum, linear

__all__ = [
    "CrossShapedAttention",
    "DiversityShortcut",
    "FactorizedAttention",
    "FrequencyFilter",
    "make_filter",
]

_PAD_LOGIT = -100.0  # HRViT's additive mask for zero-padded window positions


class CrossShapedAttention(nn.Module):
    """HRViT's cross-shaped window attention: half the channels attend within horizontal stripes
    of ``window`` rows, half within vertical stripes; key = value (one shared projection); a
    parallel Hardswish + 3x3 depthwise conv path on v; Hardswish, output projection and a
    zero-initialised BatchNorm. Sizes that are not a multiple of the window are zero-padded and
    the padded keys masked."""

    def __init__(self, width: int, heads: int, window: int):
        super().__init__()
        self.window = window
        half = width // 2
        dim_head = width // heads
        # HRViT: a half narrower than dim_head becomes one head of the half's width
        self.dim_head = half if half < dim_head else dim_head
        self.scale = self.dim_head**-0.5
        self.qv = nn.Linear(width, 2 * width)
        self.v_conv = nn.Sequential(
            nn.Hardswish(), nn.Conv2d(width, width, 3, padding=1, groups=width)
        )
        self.act = nn.Hardswish()
        self.proj = nn.Linear(width, width)
        self.bn = nn.BatchNorm1d(width)
        nn.init.zeros_(self.bn.weight)
        nn.init.zeros_(self.bn.bias)

    def forward(self, x: torch.Tensor, size: tuple[int, int], filt: None = None) -> torch.Tensor:
        h, w = size
        q, v = self.qv(x).chunk(2, dim=-1)
        v_local = self.v_conv(to_map(v, h, w)).flatten(2).transpose(1, 2)
        qh, qv = q.chunk(2, dim=-1)
        vh, vv = v.chunk(2, dim=-1)
        out = torch.cat(
            [self._stripes(qh, vh, h, w, True), self._stripes(qv, vv, h, w, False)], dim=-1
        )
        out = self.proj(self.act(out + v_local))
        return self.bn(out.flatten(0, 1)).view_as(out)

    @staticmethod
    def cost(width: int, heads: int, window: int, hw: HW) -> Tally:
        h, w = hw
        n = h * w
        half = width // 2
        # both halves: 2 matmuls (q k^T, attn v) of windows x L^2 x half, L = tokens per stripe
        stripes = sum(
            2 * (-(-length // window)) * (window * other) ** 2 * half
            for length, other in ((h, w), (w, h))
        )
        return (linear(width, 2 * width, n) + conv(width, width, 3, hw, groups=width)
                + Tally(stripes) + linear(width, width, n) + bn(width, n))

    def _stripes(self, q, v, h: int, w: int, horizontal: bool) -> torch.Tensor:
        b, _, c = q.shape
        ws, dh = self.window, self.dim_head
        length = h if horizontal else w
        padded = -(-length // ws) * ws
        if padded != length:
            pad = [0, 0, 0, padded - length] if horizontal else [0, padded - length, 0, 0]
            q = F.pad(to_map(q, h, w), pad).flatten(2).transpose(1, 2)
            v = F.pad(to_map(v, h, w), pad).flatten(2).transpose(1, 2)
        hp, wp = (padded, w) if horizontal else (h, padded)
        if horizontal:  # (B, windows, heads, ws*W, dh)
            q, v = (t.reshape(b, hp // ws, ws, w, c // dh, dh).permute(0, 1, 4, 2, 3, 5)
                    .flatten(3, 4) for t in (q, v))
        else:  # (B, windows, heads, ws*H, dh), tokens ordered column-major inside a stripe
            q, v = (t.reshape(b, h, wp // ws, ws, c // dh, dh).permute(0, 2, 4, 3, 1, 5)
                    .flatten(3, 4)
                    for t in (q, v))
        attn = q.matmul(v.transpose(-2, -1)).mul(self.scale)
        if padded != length:
            valid = torch.arange(ws, device=q.device) < (ws - (padded - length))
            # position p of the last stripe is (row/col offset p // other, ...): offset-major
            other = w if horizontal else h
            key_ok = valid.repeat_interleave(other)
            mask = torch.zeros(attn.shape[1], 1, 1, key_ok.numel(), device=q.device)
            mask[-1, 0, 0] = (~key_ok).to(attn.dtype) * _PAD_LOGIT
            attn = attn + mask.to(attn.dtype)
        out = attn.softmax(dim=-1).matmul(v)  # (B, windows, heads, ws*other, dh)
        nwin, heads = out.shape[1], out.shape[2]
        if horizontal:
            out = out.reshape(b, nwin, heads, ws, w, dh).permute(0, 1, 3, 4, 2, 5)
            out = out.reshape(b, hp, w, heads * dh)[:, :h]
        else:
            out = out.reshape(b, nwin, heads, ws, h, dh).permute(0, 4, 1, 3, 2, 5)
            out = out.reshape(b, h, wp, heads * dh)[:, :, :w]
        return out.flatten(1, 2)


class DiversityShortcut(nn.Module):
    """HRViT's diversity-enhanced shortcut: a Kronecker-factored channel projection
    (``C = k * p``: Linear(p, p), GELU, Linear(k, k))."""

    def __init__(self, width: int):
        super().__init__()
        self.p = des_factor(width)
        self.k = width // self.p
        self.right = nn.Linear(self.p, self.p)
        self.act = nn.GELU()
        self.left = nn.Linear(self.k, self.k)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        lead = x.shape[:-1]
        x = self.right(x.view(*lead, self.k, self.p)).transpose(-1, -2)
        return self.left(self.act(x)).transpose(-1, -2).flatten(-2, -1)

    @staticmethod
    def cost(width: int, tokens: int) -> Tally:
        p = des_factor(width)
        k = width // p
        return linear(p, p, tokens * k) + linear(k, k, tokens * p)


class FrequencyFilter(nn.Module):
    """Shared by the blocks of one stack. High-pass: depthwise convs of ``hp_kernels`` on groups
    of ``hp_heads`` heads of v, multiplied by q. Low-pass (when ``lp_sizes``): the channels of v
    split into equal groups, each adaptive-average-pooled to an s x s grid, upsampled back
    bilinearly, ReLU."""

    def __init__(self, width: int, cfg: MixerConfig):
        super().__init__()
        head_dim = width // cfg.heads
        assert cfg.hp_kernels is not None and cfg.hp_heads is not None
        self.splits = [n * head_dim for n in cfg.hp_heads]
        self.hp = nn.ModuleList(
            nn.Conv2d(c, c, k, padding=k // 2, groups=c)
            for c, k in zip(self.splits, cfg.hp_kernels)
        )
        self.lp_sizes = tuple(cfg.lp_sizes or ())

    def forward(self, q: torch.Tensor, v: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
        b, heads, n, ch = q.shape
        h, w = size
        v_img = v.transpose(-1, -2).reshape(b, heads * ch, h, w)
        hp = torch.cat([conv(t) for conv, t in zip(self.hp, v_img.split(self.splits, 1))], 1)
        out = q * hp.reshape(b, heads, ch, n).transpose(-1, -2)
        if self.lp_sizes:
            groups = v_img.chunk(len(self.lp_sizes), dim=1)
            lp = torch.cat(
                [
                    F.interpolate(F.adaptive_avg_pool2d(g, s), size=(h, w), mode="bilinear")
                    for g, s in zip(groups, self.lp_sizes)
                ],
                1,
            ).relu()
            out = out + lp.reshape(b, heads, ch, n).transpose(-1, -2)
        return out

    @staticmethod
    def cost(width: int, cfg: MixerConfig, hw: HW) -> Tally:
        """One application (the stack shares the parameters between its blocks)."""
        head_dim = width // cfg.heads
        assert cfg.hp_kernels is not None and cfg.hp_heads is not None
        total = Tally()
        for n_heads, k in zip(cfg.hp_heads, cfg.hp_kernels):
            total += conv(n_heads * head_dim, n_heads * head_dim, k, hw, groups=n_heads * head_dim)
        if cfg.lp_sizes:  # per group: pool (1 per input element) + bilinear (4 per output)
            total += Tally(5 * width * hw[0] * hw[1])
        return total


class FactorizedAttention(nn.Module):
    """``scale * q (softmax_N(k)^T v) + filter(q, v)``, then an output projection."""

    def __init__(self, width: int, heads: int):
        super().__init__()
        self.heads = heads
        self.scale = (width // heads) ** -0.5
        self.qkv = nn.Linear(width, 3 * width)
        self.proj = nn.Linear(width, width)

    def forward(
        self, x: torch.Tensor, size: tuple[int, int], filt: FrequencyFilter
    ) -> torch.Tensor:
        b, n, c = x.shape
        qkv = self.qkv(x).reshape(b, n, 3, self.heads, c // self.heads).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        kv = torch.einsum("b h n k, b h n v -> b h k v", k.softmax(dim=2), v)
        att = torch.einsum("b h n k, b h k v -> b h n v", q, kv)
        x = self.scale * att + filt(q, v, size)
        return self.proj(x.transpose(1, 2).reshape(b, n, c))

    @staticmethod
    def cost(width: int, heads: int, hw: HW) -> Tally:
        """Without the shared filter (see :meth:`FrequencyFilter.cost`)."""
        n = hw[0] * hw[1]
        einsum_kv = einsum(n * width * (width // heads))  # softmax(k)^T v, then q (k^T v)
        return linear(width, 3 * width, n) + einsum_kv + einsum_kv + linear(width, width, n)


def make_filter(cfg: MixerConfig, width: int) -> FrequencyFilter | None:
    return FrequencyFilter(width, cfg) if cfg.type in ("factorized", "freq") else None
