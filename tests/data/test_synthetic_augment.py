"""The synthetic set (deterministic, all classes present) and the batched augmentation."""

from __future__ import annotations

import pytest
import torch

from nas.data import (
    IGNORE_INDEX,
    SYNTHETIC_CLASSES,
    augment,
    load_data,
    make_synthetic,
    normalize,
)


def test_synthetic_default_and_options():
    train = load_data("synthetic", "train", limit=16)
    assert len(train) == 16 and train.images.shape == (16, 3, 96, 96)
    assert train.num_classes == 6 and train.class_names == SYNTHETIC_CLASSES
    small = load_data("synthetic:20,6,seed=3,size=48", "val")
    assert len(small) == 6 and small.size == (48, 48)
    assert len(load_data("synthetic:20,6,size=48", "train")) == 20


def test_synthetic_is_deterministic_by_seed():
    a = make_synthetic(6, "train", seed=1, size=48)
    b = make_synthetic(6, "train", seed=1, size=48)
    assert torch.equal(a.images, b.images) and torch.equal(a.masks, b.masks)
    c = make_synthetic(6, "train", seed=2, size=48)
    assert not torch.equal(a.images, c.images)
    v = make_synthetic(6, "val", seed=1, size=48)
    assert not torch.equal(a.images, v.images)  # disjoint streams per split
    # image i depends only on (seed, split, i): a longer set starts with the same images
    longer = make_synthetic(8, "train", seed=1, size=48)
    assert torch.equal(longer.images[:6], a.images)


def test_synthetic_labels_cover_every_class():
    data = make_synthetic(32, "train", seed=0, size=64)
    counts = data.class_pixel_counts()
    assert (counts > 0).all()
    assert counts[0] / counts.sum() < 0.85  # shapes are not a rounding error
    assert set(torch.unique(data.masks).tolist()) <= set(range(6))
    # colour alone does not give the class: the mean colours of the classes overlap widely
    img = data.images.float().permute(0, 2, 3, 1).reshape(-1, 3)
    lab = data.masks.reshape(-1).long()
    stds = torch.stack([img[lab == k].std(0) for k in range(1, 6)])
    means = torch.stack([img[lab == k].mean(0) for k in range(1, 6)])
    assert (stds.mean() > (means - means.mean(0)).abs().mean())


def _batch(n=4, h=20, w=30):
    g = torch.Generator().manual_seed(0)
    images = torch.randint(0, 256, (n, 3, h, w), dtype=torch.uint8, generator=g)
    masks = torch.randint(0, 5, (n, h, w), dtype=torch.uint8, generator=g)
    return images, masks


def test_augment_shapes_and_seed():
    images, masks = _batch()
    x1, y1 = augment(images, masks, (16, 24), torch.Generator().manual_seed(5))
    x2, y2 = augment(images, masks, (16, 24), torch.Generator().manual_seed(5))
    assert x1.shape == (4, 3, 16, 24) and y1.shape == (4, 16, 24)
    assert x1.dtype == torch.float32 and y1.dtype == torch.int64
    assert torch.equal(x1, x2) and torch.equal(y1, y2)
    x3, _ = augment(images, masks, (16, 24), torch.Generator().manual_seed(6))
    assert not torch.equal(x1, x3)
    assert set(torch.unique(y1).tolist()) <= set(range(5)) | {IGNORE_INDEX}


def test_augment_identity_and_flip_are_exact():
    images, masks = _batch()
    x, y = augment(images, masks, (20, 30), torch.Generator().manual_seed(0), scale=(1.0, 1.0),
                   flip=False)
    assert torch.equal(x.round().to(torch.uint8), images) and torch.equal(y, masks.long())
    images, masks = _batch(n=16)
    g = torch.Generator().manual_seed(0)
    x, y = augment(images, masks, (20, 30), g, scale=(1.0, 1.0), flip=True)
    kinds = []
    for i in range(len(images)):
        same = torch.equal(y[i], masks[i].long())
        flipped = torch.equal(y[i], masks[i].long().flip(-1))
        assert same != flipped  # random masks are never their own mirror image
        want = images[i].flip(-1) if flipped else images[i]
        assert torch.equal(x[i].round().to(torch.uint8), want)
        kinds.append(flipped)
    assert any(kinds) and not all(kinds)  # flipping happens, and not to every sample


def test_augment_pads_with_ignore_when_scaled_down():
    images, masks = _batch(h=32, w=32)
    _, y = augment(images, masks, (64, 64), torch.Generator().manual_seed(1), scale=(0.75, 0.75))
    assert ((y == IGNORE_INDEX).float().mean(dim=(1, 2)) > 0.5).all()  # 24x24 of 64x64 is real
    _, y = augment(images, masks, (16, 16), torch.Generator().manual_seed(1), scale=(1.5, 1.5))
    assert not (y == IGNORE_INDEX).any()  # a crop inside the image: never padding


def test_normalize():
    x = torch.full((1, 3, 2, 2), 255, dtype=torch.uint8)
    out = normalize(x)
    assert out.dtype == torch.float32
    assert out[0, 0, 0, 0] == pytest.approx((1 - 0.485) / 0.229)


def test_synthetic_limit_makes_the_same_images_as_subset():
    full = load_data("synthetic:20,4,size=48", "train")
    part = load_data("synthetic:20,4,size=48", "train", limit=5)
    sub = full.subset(5)
    assert torch.equal(part.images, sub.images) and part.files == sub.files
