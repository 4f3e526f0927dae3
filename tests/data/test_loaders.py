"""Each real layout on its fixture: counts, sizes, label mapping and ignore handling."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
import torch
from PIL import Image

from nas.data import IGNORE_INDEX, SegData, clear_cache, load_data


def _raw(path) -> np.ndarray:
    return np.array(Image.open(path))


def test_camvid_subset_maps_void_to_ignore(tiny):
    root = tiny.shared("camvid_240x180")
    data = load_data(f"camvid:{root}", "train", limit=8)
    assert isinstance(data, SegData) and len(data) == 8 and data.stacked
    assert data.images.dtype == torch.uint8 and data.images.shape == (8, 3, 180, 240)
    assert data.masks.shape == (8, 180, 240)
    assert data.num_classes == 11 and data.ignore_index == IGNORE_INDEX
    names = json.loads((root / "classes.json").read_text())["classes"]
    assert data.class_names == tuple(names[str(i)] for i in range(11))
    # evenly spaced over the 367 sorted files, not the first 8 frames of one sequence
    files = sorted(p.name for p in (root / "train").glob("*.png"))
    picked = [os.path.basename(f) for f in data.files]
    assert picked == [files[i * len(files) // 8] for i in range(8)]
    for i in (0, 5):
        raw = _raw(root / "trainannot" / os.path.basename(data.files[i]))
        want = np.where(raw == 11, IGNORE_INDEX, raw)
        assert np.array_equal(data.masks[i].numpy(), want)
        img = np.array(Image.open(data.files[i]).convert("RGB"))
        assert np.array_equal(data.images[i].permute(1, 2, 0).numpy(), img)
    assert set(torch.unique(data.masks).tolist()) <= set(range(11)) | {IGNORE_INDEX}
    assert (data.masks == IGNORE_INDEX).any()  # CamVid has void pixels


def test_camvid_resize_and_splits(tiny):
    root = tiny.shared("camvid_240x180")
    val = load_data(f"camvid:{root}", "val", limit=4, size=(60, 80))
    assert val.images.shape == (4, 3, 60, 80) and val.masks.shape == (4, 60, 80)
    assert set(torch.unique(val.masks).tolist()) <= set(range(11)) | {IGNORE_INDEX}
    full = load_data(f"camvid:{root}", "val", limit=4)
    assert full.resized((60, 80)).images.shape == (4, 3, 60, 80)


def test_ade_layout_reduce_zero_label(tiny):
    root = tiny.shared("fixtures/ade_layout")
    train = load_data(f"ade20k:{root}", "train")
    val = load_data(f"ade20k:{root}", "val")
    assert len(train) == 8 and len(val) == 4
    assert train.num_classes == val.num_classes == 11  # from objectInfo11.txt
    assert train.class_names[0] == "sky" and train.class_names[-1] == "bicyclist"
    base = root / "ADEChallengeData2016" / "annotations" / "training"
    for i, f in enumerate(train.files):
        raw = _raw(base / (os.path.splitext(os.path.basename(f))[0] + ".png")).astype(np.int64)
        want = np.where(raw == 0, IGNORE_INDEX, raw - 1)
        assert np.array_equal(train.masks[i].numpy(), want)
    # "validation"/"training" are accepted as split names too
    assert len(load_data(f"ade20k:{root / 'ADEChallengeData2016'}", "validation")) == 4


def test_ade_without_object_info_counts_from_masks(tmp_path, tiny):
    base = tmp_path / "ADEChallengeData2016"
    for i in range(2):
        tiny.write_image(base / "images" / "training" / f"ADE_train_{i}.jpg", 20, 30, seed=i)
        tiny.write_mask(base / "annotations" / "training" / f"ADE_train_{i}.png",
                        tiny.labels(20, 30, [0, 1, 4 + i], seed=i))
    data = load_data(f"ade20k:{tmp_path}", "train")
    assert data.num_classes == 5  # largest raw label 5 -> label 4 -> 5 classes
    assert set(torch.unique(data.masks).tolist()) == {0, 3, 4, IGNORE_INDEX}


def test_cityscapes_label_ids_to_train_ids(tiny):
    root = tiny.shared("fixtures/cityscapes_layout")
    data = load_data(f"cityscapes:{root}", "val")
    assert len(data) == 1 and data.num_classes == 19
    assert data.images.shape == (1, 3, 128, 256)
    assert data.class_names[0] == "road" and data.class_names[-1] == "bicycle"
    gt = root / "gtFine" / "val" / "frankfurt"
    ids = _raw(gt / "frankfurt_000000_000294_gtFine_labelIds.png")
    got = data.masks[0].numpy()
    table = {7: 0, 8: 1, 11: 2, 13: 4, 17: 5, 20: 7, 21: 8, 23: 10, 24: 11, 26: 13}
    for label_id in np.unique(ids):
        want = table.get(int(label_id), IGNORE_INDEX)  # ids 1-4 (ego vehicle etc.) are void
        assert (got[ids == label_id] == want).all(), label_id
    # the fixture's labelTrainIds file was resized on its own, so it agrees on ~all pixels
    official = _raw(gt / "frankfurt_000000_000294_gtFine_labelTrainIds.png")
    assert (got == official).mean() > 0.99


def test_voc_palette_and_border(tmp_path, tiny):
    root = tmp_path / "VOC2012"
    ids = {"train": ["2007_000001", "2007_000002"], "val": ["2007_000003"]}
    for split, names in ids.items():
        for j, name in enumerate(names):
            tiny.write_image(root / "JPEGImages" / f"{name}.jpg", 24, 32, seed=j)
            tiny.write_mask(root / "SegmentationClass" / f"{name}.png",
                            tiny.labels(24, 32, [0, 15, 20, 255], seed=j), palette=True)
        (root / "ImageSets" / "Segmentation").mkdir(parents=True, exist_ok=True)
        (root / "ImageSets" / "Segmentation" / f"{split}.txt").write_text("\n".join(names) + "\n")
    train = load_data(f"voc:{tmp_path}", "train")  # the VOC2012 sub-folder is found
    assert len(train) == 2 and train.num_classes == 21
    assert train.class_names[15] == "person"
    assert set(torch.unique(train.masks).tolist()) == {0, 15, 20, IGNORE_INDEX}
    assert len(load_data(f"voc:{root}", "val")) == 1


def test_folder_pairs_by_stem(tmp_path, tiny):
    img, msk = tmp_path / "img", tmp_path / "msk"
    tiny.write_image(img / "a.jpg", 20, 30)
    tiny.write_image(img / "b.png", 40, 30, seed=1)
    tiny.write_mask(msk / "a.png", tiny.labels(20, 30, [0, 2, 255]))
    tiny.write_mask(msk / "b.png", tiny.labels(40, 30, [1, 6], seed=1))
    (msk / "c.png").write_bytes((msk / "a.png").read_bytes())  # a mask without image: ignored
    data = load_data(f"folder:{img},{msk}", "train")
    assert len(data) == 2 and not data.stacked and data.size is None
    assert data.num_classes == 7  # largest label + 1
    assert [m.shape for m in data.masks] == [(20, 30), (40, 30)]
    stacked = data.resized((32, 32))
    assert stacked.stacked and stacked.images.shape == (2, 3, 32, 32)
    assert set(torch.unique(stacked.masks).tolist()) <= {0, 1, 2, 6, IGNORE_INDEX}
    declared = load_data(f"folder:{img},{msk}", "val", num_classes=10, size=(16, 16))
    assert declared.num_classes == 10 and declared.masks.shape == (2, 16, 16)


def test_folder_split_subfolders(tmp_path, tiny):
    img, msk = tmp_path / "img", tmp_path / "msk"
    for split, n in (("train", 3), ("val", 1)):
        for i in range(n):
            tiny.write_image(img / split / f"{split}{i}.png", 16, 16, seed=i)
            tiny.write_mask(msk / split / f"{split}{i}.png", tiny.labels(16, 16, [0, 1]))
    assert len(load_data(f"folder:{img},{msk}", "train")) == 3
    assert len(load_data(f"folder:{img},{msk}", "val")) == 1


def test_cache_returns_same_object_until_files_change(tmp_path, tiny):
    root = tiny.camvid_layout(tmp_path / "cv")
    spec = f"camvid:{root}"
    a = load_data(spec, "train")
    assert load_data(spec, "train") is a
    assert load_data(spec, "train", size=(20, 20)) is not a
    mask = root / "trainannot" / "f0.png"
    tiny.write_mask(mask, np.full((36, 48), 3))
    os.utime(mask, ns=(1, 1))  # a different mtime, whatever the clock resolution
    b = load_data(spec, "train")
    assert b is not a and int(b.masks[0].max()) == 3
    assert load_data(spec, "train", cache=False) is not b


def test_disk_cache_round_trip(tmp_path, tiny):
    root = tiny.camvid_layout(tmp_path / "cv")
    cache = tmp_path / "cache"
    a = load_data(f"camvid:{root}", "train", cache_dir=cache)
    files = list(cache.rglob("*.pt"))
    assert len(files) == 1
    clear_cache()
    b = load_data(f"camvid:{root}", "train", cache_dir=cache)
    assert b is not a and torch.equal(a.images, b.images) and torch.equal(a.masks, b.masks)
    assert b.class_names == a.class_names and b.files == a.files


def test_subset_and_class_counts(tmp_path, tiny):
    data = load_data(f"camvid:{tiny.camvid_layout(tmp_path / 'cv', n=5)}", "train")
    sub = data.subset(2)
    assert len(sub) == 2 and sub.files == (data.files[0], data.files[2])
    counts = data.class_pixel_counts()
    assert counts.shape == (11,)
    assert int(counts.sum()) == int((data.masks != IGNORE_INDEX).sum())
    with pytest.raises(ValueError):
        data.subset(0)
