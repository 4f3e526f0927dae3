"""The embedded procedural segmentation set: no downloads, deterministic by seed.

Every image is a cluttered background with 3-6 overlapping shapes of five classes. A single
pixel's colour does not tell the class:

* colour: each class has a mean colour, but instances jitter widely around it (the classes'
  colour distributions overlap) and the background is a smooth random colour field that covers
  the same range;
* texture: each class prefers one texture (stripes, checks, dots, radial gradient, noise), but
  draws another one 25% of the time; the background is textured too;
* shape: disk vs ring vs blob vs square vs triangle, at random sizes and rotations, occluding
  each other (later shapes on top);
* clutter: thin lines and small specks in class-like colours, labelled background, so size and
  shape matter as well as colour; plus pixel noise.

So a per-pixel classifier is far from a network that uses context (see the tests).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch

from nas.data._types import IGNORE_INDEX, SegData

__all__ = ["SYNTHETIC_CLASSES", "make_synthetic"]

SYNTHETIC_CLASSES = ("background", "disk", "square", "triangle", "ring", "blob")
_MEANS = torch.tensor([  # mean RGB in [0, 1] of each shape class (index 1..5)
    [0.75, 0.35, 0.30],
    [0.35, 0.70, 0.35],
    [0.30, 0.40, 0.75],
    [0.70, 0.65, 0.30],
    [0.60, 0.35, 0.70],
]) * 0.8 + 0.1  # pulled towards grey: the colour distributions overlap more
_COLOUR_SD = 0.18
_TEXTURES = ("smooth", "stripes", "checks", "dots", "noise")
_PREFERRED = {1: "smooth", 2: "checks", 3: "stripes", 4: "dots", 5: "noise"}
_SPLIT_OFFSET = {"train": 0, "val": 1 << 24, "test": 2 << 24}


def make_synthetic(
    n: int, split: str = "train", seed: int = 0, size: int = 96,
    indices: Sequence[int] | None = None,
) -> SegData:
    """``n`` images of ``size`` x ``size`` for ``split`` (train / val / test draw disjoint
    streams); image ``i`` depends only on (seed, split, i, size). ``indices``: make only those
    images of the ``n`` (what ``load_data(..., limit=)`` uses)."""
    if split not in _SPLIT_OFFSET:
        raise ValueError(f"synthetic split must be one of {sorted(_SPLIT_OFFSET)}, got {split!r}")
    if n < 1 or size < 32:
        raise ValueError(f"synthetic needs n >= 1 and size >= 32 (got n={n}, size={size})")
    which = list(range(n)) if indices is None else [int(i) for i in indices]
    if any(not 0 <= i < n for i in which):
        raise ValueError(f"synthetic indices must lie in 0..{n - 1}")
    images = torch.empty(len(which), 3, size, size, dtype=torch.uint8)
    masks = torch.empty(len(which), size, size, dtype=torch.uint8)
    yy, xx = torch.meshgrid(torch.arange(size, dtype=torch.float32) + 0.5,
                            torch.arange(size, dtype=torch.float32) + 0.5, indexing="ij")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny ops: extra threads only add overhead
    try:
        for j, i in enumerate(which):
            g = torch.Generator().manual_seed(seed * 1_000_003 + _SPLIT_OFFSET[split] + i)
            images[j], masks[j] = _one(g, size, yy, xx)
    finally:
        torch.set_num_threads(threads)
    files = tuple(f"synthetic/{split}/{seed}/{i:05d}" for i in which)
    return SegData(f"synthetic[{split}]", images, masks, len(SYNTHETIC_CLASSES),
                   SYNTHETIC_CLASSES, IGNORE_INDEX, files)


def _u(g: torch.Generator, lo: float = 0.0, hi: float = 1.0) -> float:
    return lo + (hi - lo) * float(torch.rand((), generator=g))


def _i(g: torch.Generator, lo: int, hi: int) -> int:
    """Uniform integer in [lo, hi]."""
    return int(torch.randint(lo, hi + 1, (), generator=g))


def _texture(kind: str, g: torch.Generator, u: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """A pattern in [-1, 1] over rotated coordinates ``u``, ``v`` (pixels)."""
    period = _u(g, 4.0, 8.0)
    phase = _u(g, 0, 2 * math.pi)
    if kind == "stripes":
        return torch.sin(2 * math.pi * u / period + phase)
    if kind == "checks":
        return torch.sign(torch.sin(2 * math.pi * u / period + phase)
                          * torch.sin(2 * math.pi * v / period + phase))
    if kind == "dots":
        d = torch.cos(2 * math.pi * u / period) * torch.cos(2 * math.pi * v / period)
        return (d > 0.5).float() * 2 - 1
    if kind == "noise":
        return torch.rand(u.shape, generator=g) * 2 - 1
    r = torch.sqrt(u * u + v * v)  # smooth: a radial gradient
    return 1 - 2 * (r / (r.max() + 1e-6))


def _rotated(yy, xx, cy, cx, theta):
    dy, dx = yy - cy, xx - cx
    c, s = math.cos(theta), math.sin(theta)
    return dx * c + dy * s, -dx * s + dy * c


def _shape(
    cls: int, g: torch.Generator, u: torch.Tensor, v: torch.Tensor, r: float
) -> torch.Tensor:
    d = torch.sqrt(u * u + v * v)
    if cls == 1:  # disk
        return d <= r
    if cls == 2:  # square
        h = 0.8 * r
        return (u.abs() <= h) & (v.abs() <= h)
    if cls == 3:  # triangle: circumradius r, three half-planes
        m = torch.ones_like(u, dtype=torch.bool)
        for k in range(3):
            a = 2 * math.pi * k / 3
            m &= (u * math.cos(a) + v * math.sin(a)) <= r / 2
        return m
    if cls == 4:  # ring
        return (d <= r) & (d >= _u(g, 0.45, 0.65) * r)
    # blob: an elongated, wobbly ellipse
    e = _u(g, 0.55, 0.8)
    phi = torch.atan2(v, u * e)
    wob = 1 + 0.18 * torch.sin(3 * phi + _u(g, 0, 6.3)) + 0.1 * torch.sin(5 * phi + _u(g, 0, 6.3))
    return torch.sqrt((u * e) ** 2 + v * v) <= r * e * wob


def _colour(g: torch.Generator, mean: torch.Tensor) -> torch.Tensor:
    return (mean + _COLOUR_SD * torch.randn(3, generator=g)).clamp(0.05, 0.95)


def _one(g: torch.Generator, size: int, yy: torch.Tensor, xx: torch.Tensor):
    # background: a smooth random colour field over the classes' colour range, textured
    field = torch.rand(1, 3, 3, 3, generator=g) * 0.7 + 0.15
    img = torch.nn.functional.interpolate(field, size=(size, size), mode="bicubic",
                                          align_corners=False)[0]
    u, v = _rotated(yy, xx, size / 2, size / 2, _u(g, 0, math.pi))
    tex = _texture(_TEXTURES[_i(g, 0, 4)], g, u, v)
    img = img + _u(g, 0.03, 0.12) * tex * (torch.rand(3, 1, 1, generator=g) * 2 - 1)
    label = torch.zeros(size, size, dtype=torch.uint8)
    # clutter: thin lines and small specks in shape-like colours, labelled background
    for _ in range(_i(g, 2, 5)):
        col = _colour(g, _MEANS[_i(g, 0, 4)])
        if _u(g) < 0.5:
            u, v = _rotated(yy, xx, _u(g, 0, size), _u(g, 0, size), _u(g, 0, math.pi))
            m = (v.abs() <= _u(g, 0.6, 1.4)) & (u.abs() <= _u(g, 0.2, 0.5) * size)
        else:
            m = ((yy - _u(g, 0, size)) ** 2 + (xx - _u(g, 0, size)) ** 2) <= _u(g, 1.5, 3.0) ** 2
        img = torch.where(m, col[:, None, None], img)
    # shapes, later ones on top
    for _ in range(_i(g, 3, 6)):
        cls = _i(g, 1, 5)
        r = _u(g, 0.12, 0.28) * size
        cy, cx = _u(g, 0.1, 0.9) * size, _u(g, 0.1, 0.9) * size
        u, v = _rotated(yy, xx, cy, cx, _u(g, 0, 2 * math.pi))
        m = _shape(cls, g, u, v, r)
        kind = _PREFERRED[cls] if _u(g) < 0.75 else _TEXTURES[_i(g, 0, 4)]
        tex = _texture(kind, g, u, v)
        direction = torch.rand(3, 1, 1, generator=g) * 0.6 + 0.4
        if _u(g) < 0.5:
            direction = -direction
        pix = _colour(g, _MEANS[cls - 1])[:, None, None] + _u(g, 0.12, 0.25) * tex * direction
        img = torch.where(m, pix, img)
        label[m] = cls
    img = img + 0.04 * torch.randn(img.shape, generator=g)
    return (img.clamp(0, 1) * 255).round().to(torch.uint8), label
