"""``SegData``: one decoded, in-memory split of a segmentation dataset."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import torch
import torch.nn.functional as F

__all__ = ["IGNORE_INDEX", "SegData", "resize_pair"]

IGNORE_INDEX = 255
"""The one ignore label used everywhere in nas: every dataset's void label is mapped to it."""


@dataclass(frozen=True, eq=False)
class SegData:
    """A decoded split: ``images`` uint8 (N, 3, H, W) and ``masks`` uint8 (N, H, W), or lists of
    per-sample tensors ((3, H, W) / (H, W)) when sizes differ. Labels are ``0 .. num_classes-1``
    and :data:`IGNORE_INDEX` (255) for void.

    Loaded splits are cached and shared: treat the tensors as read-only (every method here
    returns a new ``SegData`` and never writes into them).
    """

    name: str
    images: torch.Tensor | list[torch.Tensor]
    masks: torch.Tensor | list[torch.Tensor]
    num_classes: int
    class_names: tuple[str, ...]
    ignore_index: int = IGNORE_INDEX
    files: tuple[str, ...] = field(default=(), repr=False)

    def __post_init__(self) -> None:
        if len(self.images) != len(self.masks):
            raise ValueError(f"{len(self.images)} images but {len(self.masks)} masks")
        if len(self.class_names) != self.num_classes:
            raise ValueError(
                f"{len(self.class_names)} class names for {self.num_classes} classes"
            )

    def __len__(self) -> int:
        return len(self.images)

    def __repr__(self) -> str:
        size = "x".join(map(str, self.size)) if self.size else "mixed sizes"
        return f"SegData({self.name!r}, n={len(self)}, {size}, classes={self.num_classes})"

    @property
    def stacked(self) -> bool:
        """True when all samples share one size (images is one (N, 3, H, W) tensor)."""
        return isinstance(self.images, torch.Tensor)

    @property
    def size(self) -> tuple[int, int] | None:
        """(H, W) of every sample, or None when sizes differ."""
        if self.stacked:
            return int(self.images.shape[-2]), int(self.images.shape[-1])
        return None

    def subset(self, n: int | None) -> SegData:
        """``n`` samples evenly spaced over the split (deterministic; all when ``n`` is None or
        >= len). Evenly spaced rather than the first ``n``: consecutive files are often
        consecutive video frames."""
        if n is None or n >= len(self):
            return self
        if n < 1:
            raise ValueError(f"subset size must be >= 1, got {n}")
        idx = even_indices(len(self), n)
        return self.select(idx)

    def select(self, idx: Sequence[int]) -> SegData:
        """The samples at ``idx``, in that order."""
        idx = list(idx)
        if self.stacked:
            t = torch.as_tensor(idx, dtype=torch.long)
            images, masks = self.images[t], self.masks[t]
        else:
            images = [self.images[i] for i in idx]
            masks = [self.masks[i] for i in idx]
        files = tuple(self.files[i] for i in idx) if self.files else ()
        return replace(self, images=images, masks=masks, files=files)

    def resized(self, size: tuple[int, int] | None) -> SegData:
        """Every sample at ``size`` (H, W): images bilinear (antialiased), masks nearest. The
        result is stacked. ``None`` returns ``self``."""
        if size is None or self.size == tuple(size):
            return self
        pairs = [resize_pair(i, m, size) for i, m in zip(self.images, self.masks)]
        images = torch.stack([p[0] for p in pairs])
        masks = torch.stack([p[1] for p in pairs])
        return replace(self, images=images, masks=masks)

    def stack(self) -> SegData:
        """``self`` when stacked; otherwise raise (sizes differ: use :meth:`resized`)."""
        if self.stacked:
            return self
        sizes = {tuple(m.shape) for m in self.masks}
        if len(sizes) == 1:
            return replace(self, images=torch.stack(list(self.images)),
                           masks=torch.stack(list(self.masks)))
        raise ValueError(f"{self.name}: samples have {len(sizes)} different sizes; resize first")

    def class_pixel_counts(self) -> torch.Tensor:
        """Pixels per class (int64, length ``num_classes``); ignored pixels are not counted."""
        counts = torch.zeros(self.num_classes, dtype=torch.long)
        for m in self.masks if not self.stacked else [self.masks]:
            v = m.reshape(-1).long()
            v = v[v != self.ignore_index]
            counts += torch.bincount(v, minlength=self.num_classes)[: self.num_classes]
        return counts


def even_indices(total: int, n: int) -> list[int]:
    """``n`` distinct indices spread evenly over ``range(total)``."""
    return [(i * total) // n for i in range(n)]


def resize_pair(
    image: torch.Tensor, mask: torch.Tensor, size: tuple[int, int]
) -> tuple[torch.Tensor, torch.Tensor]:
    """One uint8 image (3, H, W) bilinear (antialiased) and its mask (H, W) nearest to ``size``."""
    size = (int(size[0]), int(size[1]))
    if tuple(mask.shape[-2:]) == size:
        return image, mask
    img = F.interpolate(image[None].float(), size=size, mode="bilinear", align_corners=False,
                        antialias=True)
    img = img.round_().clamp_(0, 255).to(torch.uint8)[0]
    msk = F.interpolate(mask[None, None].float(), size=size, mode="nearest-exact")
    return img, msk.to(mask.dtype)[0, 0]
