"""Batched augmentation and normalisation on in-memory uint8 tensors.

:func:`augment` does random scale, random crop (or pad) and horizontal flip for a whole batch in
one ``grid_sample`` call per tensor: each output pixel is mapped back to a source coordinate
through a per-sample scale, offset and flip. Images are sampled bilinearly, masks with nearest
neighbour; pixels that fall outside the scaled image (when it is smaller than the crop) take
the ImageNet mean colour in the image (0 after normalisation) and ignore (255) in the mask.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from nas.data._types import IGNORE_INDEX

__all__ = ["IMAGENET_MEAN", "IMAGENET_STD", "augment", "normalize"]

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def normalize(images: torch.Tensor) -> torch.Tensor:
    """uint8 / 0..255 float (B, 3, H, W) -> float32 normalised with the ImageNet mean and std."""
    x = images.float().div_(255.0) if images.dtype == torch.uint8 else images / 255.0
    mean = torch.tensor(IMAGENET_MEAN, device=x.device).view(1, 3, 1, 1)
    std = torch.tensor(IMAGENET_STD, device=x.device).view(1, 3, 1, 1)
    return (x - mean) / std


def augment(
    images: torch.Tensor,
    masks: torch.Tensor,
    out_size: tuple[int, int],
    generator: torch.Generator,
    scale: tuple[float, float] = (0.75, 1.5),
    flip: bool = True,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Randomly scaled, cropped and flipped copies of a stacked batch.

    ``images`` uint8 (B, 3, H, W), ``masks`` uint8/int (B, H, W). Per sample: a scale ``s`` drawn
    uniformly from ``scale``, the image conceptually resized to (s*H, s*W), a random ``out_size``
    window of it (a random placement with padding when the resized image is smaller), and a
    flip with probability 1/2. The random numbers come from ``generator`` (CPU) only, so a seed
    fixes the result. Returns float32 images (0..255, not normalised) and int64 masks (255 =
    ignore), on the device of ``images``.
    """
    b, _, h, w = images.shape
    oh, ow = int(out_size[0]), int(out_size[1])
    device = images.device
    r = torch.rand(b, 4, generator=generator, dtype=torch.float64)
    s = scale[0] + (scale[1] - scale[0]) * r[:, 0]
    sh, sw = s * h, s * w
    # offset of the window in the scaled image: uniform between min(0, sH - oh) and max(0, ...)
    lo_y, hi_y = torch.clamp(sh - oh, max=0), torch.clamp(sh - oh, min=0)
    lo_x, hi_x = torch.clamp(sw - ow, max=0), torch.clamp(sw - ow, min=0)
    oy = lo_y + (hi_y - lo_y) * r[:, 1]
    ox = lo_x + (hi_x - lo_x) * r[:, 2]
    flipped = (r[:, 3] < 0.5) if flip else torch.zeros(b, dtype=torch.bool)
    # source coordinate (continuous, 0..H) of each output pixel centre, then grid_sample's [-1, 1]
    ys = (oy[:, None] + torch.arange(oh, dtype=torch.float64) + 0.5) / s[:, None]
    xs = (ox[:, None] + torch.arange(ow, dtype=torch.float64) + 0.5) / s[:, None]
    xs = torch.where(flipped[:, None], w - xs, xs)
    gy = (2 * ys / h - 1).float()
    gx = (2 * xs / w - 1).float()
    grid = torch.stack(torch.broadcast_tensors(gx[:, None, :], gy[:, :, None]), dim=-1)
    grid = grid.to(device)
    mean = torch.tensor(IMAGENET_MEAN, device=device).view(1, 3, 1, 1) * 255.0
    img = F.grid_sample(images.float() - mean, grid, mode="bilinear", padding_mode="zeros",
                        align_corners=False) + mean
    # masks: shift by one so that zero padding reads as "outside" -> ignore
    m = F.grid_sample((masks.float() + 1)[:, None], grid, mode="nearest", padding_mode="zeros",
                      align_corners=False)[:, 0]
    m = m.long() - 1
    m[m < 0] = IGNORE_INDEX
    return img, m
