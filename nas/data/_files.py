"""Real datasets on disk: listing image/mask pairs per layout, label maps, decoding, checks.

Each layout turns ``(root, split)`` into a :class:`Source`: the sorted image/mask pairs, a
256-entry label lookup table (raw mask value -> label, 255 = ignore, -1 = not allowed) and the
classes. :func:`decode` then reads every pair once (PIL, a few threads), checks it and stacks it.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from nas.data._types import IGNORE_INDEX, SegData, even_indices
from nas.errors import NasError

__all__ = ["LAYOUTS", "Source", "decode", "source_for"]

IMAGE_EXTS = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")
BAD = -1  # lookup-table entry for a raw value that is not a valid label

CAMVID_CLASSES = ("sky", "building", "pole", "road", "pavement", "tree", "sign_symbol", "fence",
                  "car", "pedestrian", "bicyclist")
CITYSCAPES_CLASSES = ("road", "sidewalk", "building", "wall", "fence", "pole", "traffic_light",
                      "traffic_sign", "vegetation", "terrain", "sky", "person", "rider", "car",
                      "truck", "bus", "train", "motorcycle", "bicycle")
# Cityscapes labelIds of the 19 evaluated classes, in train-id order (0..18); every other
# labelId (0..33) is void.
CITYSCAPES_EVAL_IDS = (7, 8, 11, 12, 13, 17, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 31, 32, 33)
VOC_CLASSES = ("background", "aeroplane", "bicycle", "bird", "boat", "bottle", "bus", "car", "cat",
               "chair", "cow", "diningtable", "dog", "horse", "motorbike", "person",
               "pottedplant", "sheep", "sofa", "train", "tvmonitor")


@dataclass(frozen=True)
class Source:
    """What to decode for one split: pairs, label table and classes (None: from the masks)."""

    name: str
    pairs: tuple[tuple[Path, Path], ...]
    lut: np.ndarray  # (256,) int16
    num_classes: int | None
    class_names: tuple[str, ...] | None

    def fingerprint(self) -> str:
        """A hash of the file list, sizes and modification times (changes when any file does)."""
        h = hashlib.sha256()
        h.update(self.name.encode())
        h.update(self.lut.tobytes())
        h.update(repr((self.num_classes, self.class_names)).encode())
        for img, msk in self.pairs:
            for p in (img, msk):
                st = p.stat()
                h.update(f"{p}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
        return h.hexdigest()[:24]

    def limited(self, limit: int | None) -> Source:
        if limit is None or limit >= len(self.pairs):
            return self
        if limit < 1:
            raise NasError(f"{self.name}: limit must be >= 1, got {limit}")
        pairs = tuple(self.pairs[i] for i in even_indices(len(self.pairs), limit))
        return Source(self.name, pairs, self.lut, self.num_classes, self.class_names)


# ---------------------------------------------------------------------------- helpers
def _dir(path: Path, what: str) -> Path:
    if not path.is_dir():
        raise NasError(f"{what}: folder {path} does not exist")
    return path


def _images_in(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir()
                  if p.is_file() and p.suffix.lower() in IMAGE_EXTS and not p.name.startswith("."))


def _empty(what: str, folder: Path) -> NasError:
    return NasError(f"{what}: no images in {folder} (empty split)")


def _missing_mask(what: str, image: Path, expected: Path | str) -> NasError:
    return NasError(f"{what}: no mask for image {image} (expected {expected})")


def _identity_lut(num_classes: int | None) -> np.ndarray:
    lut = np.arange(256, dtype=np.int16)
    if num_classes is not None:
        lut[num_classes:] = BAD
    lut[IGNORE_INDEX] = IGNORE_INDEX
    return lut


def _split_alias(split: str, names: dict[str, str], what: str) -> str:
    key = split.lower()
    if key not in names:
        raise NasError(f"{what}: unknown split {split!r}; use one of: {', '.join(sorted(names))}")
    return names[key]


# ---------------------------------------------------------------------------- layouts
def camvid(root: Path, split: str, num_classes: int | None = None) -> Source:
    """SegNet CamVid: ``<split>/*.png`` with masks of the same name in ``<split>annot/``; labels
    0..10, 11 = void."""
    what = f"camvid:{root}"
    split = _split_alias(split, {"train": "train", "val": "val", "test": "test",
                                 "validation": "val"}, what)
    img_dir = _dir(_dir(root, what) / split, what)
    ann_dir = _dir(root / f"{split}annot", what)
    images = _images_in(img_dir)
    if not images:
        raise _empty(what, img_dir)
    pairs = []
    for img in images:
        msk = ann_dir / img.name
        if not msk.is_file():
            alt = ann_dir / (img.stem + ".png")
            if not alt.is_file():
                raise _missing_mask(what, img, msk)
            msk = alt
        pairs.append((img, msk))
    lut = _identity_lut(11)
    lut[11] = IGNORE_INDEX
    names = CAMVID_CLASSES
    meta = root / "classes.json"
    if meta.is_file():
        try:
            classes = json.loads(meta.read_text())["classes"]
            names = tuple(classes[str(i)] for i in range(11))
        except (ValueError, KeyError, TypeError):
            pass
    return Source(what, tuple(pairs), lut, 11, names)


def _ade_root(root: Path) -> Path:
    sub = root / "ADEChallengeData2016"
    return sub if not (root / "images").is_dir() and sub.is_dir() else root


def ade20k(root: Path, split: str, num_classes: int | None = None) -> Source:
    """ADEChallengeData2016: ``images/<training|validation>/*.jpg`` and ``annotations/.../*.png``.
    Reduce-zero-label: 0 (other) -> ignore, k -> k - 1. Classes from ``objectInfo*.txt`` when
    present (150 for the real dataset), else ``num_classes``, else the largest label found."""
    what = f"ade20k:{root}"
    base = _ade_root(_dir(root, what))
    split = _split_alias(split, {"train": "training", "training": "training", "val": "validation",
                                 "validation": "validation"}, what)
    img_dir = _dir(base / "images" / split, what)
    ann_dir = _dir(base / "annotations" / split, what)
    images = _images_in(img_dir)
    if not images:
        raise _empty(what, img_dir)
    pairs = []
    for img in images:
        msk = ann_dir / (img.stem + ".png")
        if not msk.is_file():
            raise _missing_mask(what, img, msk)
        pairs.append((img, msk))
    names = _object_info(base)
    k = len(names) if names else num_classes
    lut = np.full(256, BAD, dtype=np.int16)
    lut[0] = IGNORE_INDEX
    lut[1:255] = np.arange(0, 254)
    lut[255] = IGNORE_INDEX
    if k is not None:
        lut[k + 1:255] = BAD
    return Source(what, tuple(pairs), lut, k, names)


def _object_info(base: Path) -> tuple[str, ...] | None:
    files = sorted(base.glob("objectInfo*.txt"))
    if not files:
        return None
    rows = []
    for line in files[0].read_text(errors="replace").splitlines()[1:]:
        cols = line.split("\t")
        if len(cols) >= 2 and cols[0].strip().isdigit():
            rows.append((int(cols[0]), cols[-1].split(",")[0].split(";")[0].strip()))
    if not rows:
        raise NasError(
            f"ade20k: {files[0]} lists no classes (expected 'Idx<TAB>...<TAB>Name' rows)"
        )
    rows.sort()
    if [i for i, _ in rows] != list(range(1, len(rows) + 1)):
        raise NasError(f"ade20k: {files[0]}: class indices must run 1..{len(rows)}")
    return tuple(name for _, name in rows)


def cityscapes(root: Path, split: str, num_classes: int | None = None) -> Source:
    """``leftImg8bit/<split>/<city>/*_leftImg8bit.png`` with
    ``gtFine/<split>/<city>/*_gtFine_labelIds.png``; labelIds -> the 19 train ids, others void."""
    what = f"cityscapes:{root}"
    split = _split_alias(split, {"train": "train", "val": "val", "test": "test",
                                 "validation": "val"}, what)
    img_root = _dir(_dir(root, what) / "leftImg8bit" / split, what)
    ann_root = _dir(root / "gtFine" / split, what)
    suffix = "_leftImg8bit"
    images = sorted(p for city in sorted(img_root.iterdir()) if city.is_dir()
                    for p in _images_in(city) if p.stem.endswith(suffix))
    if not images:
        raise _empty(what, img_root)
    pairs = []
    for img in images:
        stem = img.stem[: -len(suffix)]
        msk = ann_root / img.parent.name / f"{stem}_gtFine_labelIds.png"
        if not msk.is_file():
            raise _missing_mask(what, img, msk)
        pairs.append((img, msk))
    lut = np.full(256, BAD, dtype=np.int16)
    lut[:34] = IGNORE_INDEX
    for train_id, label_id in enumerate(CITYSCAPES_EVAL_IDS):
        lut[label_id] = train_id
    lut[255] = IGNORE_INDEX
    return Source(what, tuple(pairs), lut, 19, CITYSCAPES_CLASSES)


def voc(root: Path, split: str, num_classes: int | None = None) -> Source:
    """VOC2012: ``ImageSets/Segmentation/<split>.txt`` lists ids; ``JPEGImages/<id>.jpg`` and
    ``SegmentationClass/<id>.png`` (palette indices 0..20, 255 = border -> ignore)."""
    what = f"voc:{root}"
    base = _dir(root, what)
    if not (base / "JPEGImages").is_dir() and (base / "VOC2012").is_dir():
        base = base / "VOC2012"
    img_dir = _dir(base / "JPEGImages", what)
    ann_dir = _dir(base / "SegmentationClass", what)
    list_file = base / "ImageSets" / "Segmentation" / f"{split}.txt"
    if not list_file.is_file():
        _dir(list_file.parent, what)
        known = sorted(p.stem for p in list_file.parent.glob("*.txt"))
        raise NasError(
            f"{what}: no split file {list_file} (splits here: {', '.join(known) or 'none'})"
        )
    ids = [line.split()[0] for line in list_file.read_text().splitlines() if line.strip()]
    if not ids:
        raise NasError(f"{what}: {list_file} lists no images (empty split)")
    pairs = []
    for i in ids:
        img = img_dir / f"{i}.jpg"
        if not img.is_file():
            found = [p for p in img_dir.glob(f"{i}.*") if p.suffix.lower() in IMAGE_EXTS]
            if not found:
                raise NasError(f"{what}: image {img} listed in {list_file} does not exist")
            img = found[0]
        msk = ann_dir / f"{i}.png"
        if not msk.is_file():
            raise _missing_mask(what, img, msk)
        pairs.append((img, msk))
    return Source(what, tuple(pairs), _identity_lut(21), 21, VOC_CLASSES)


def folder(arg: str, split: str, num_classes: int | None = None) -> Source:
    """``folder:IMAGES,MASKS``: images and masks paired by file stem. When ``IMAGES/<split>``
    exists, ``IMAGES/<split>`` and ``MASKS/<split>`` are used; otherwise the two folders serve
    every split (pass a separate validation spec then). Labels as stored, 255 = ignore; classes
    ``num_classes`` when given, else the largest label + 1."""
    parts = arg.split(",")
    if len(parts) != 2 or not all(p.strip() for p in parts):
        raise NasError(f"folder spec needs two folders: folder:IMAGES,MASKS (got {arg!r})")
    img_root, ann_root = (Path(p.strip()).expanduser() for p in parts)
    what = f"folder:{arg}"
    _dir(img_root, what)
    _dir(ann_root, what)
    if (img_root / split).is_dir():
        img_root, ann_root = img_root / split, _dir(ann_root / split, what)
    images = _images_in(img_root)
    if not images:
        raise _empty(what, img_root)
    masks: dict[str, Path] = {}
    for p in _images_in(ann_root):
        masks.setdefault(p.stem, p)
    seen: dict[str, Path] = {}
    pairs = []
    for img in images:
        if img.stem in seen:
            raise NasError(
                f"{what}: two images with the stem {img.stem!r}: {seen[img.stem]} and {img}"
            )
        seen[img.stem] = img
        if img.stem not in masks:
            raise _missing_mask(what, img, ann_root / (img.stem + ".png"))
        pairs.append((img, masks[img.stem]))
    names = tuple(f"class_{i}" for i in range(num_classes)) if num_classes else None
    return Source(what, tuple(pairs), _identity_lut(num_classes), num_classes, names)


LAYOUTS: dict[str, Callable[..., Source]] = {
    "camvid": camvid, "ade20k": ade20k, "cityscapes": cityscapes, "voc": voc, "folder": folder,
}


def source_for(kind: str, arg: str, split: str, num_classes: int | None = None) -> Source:
    if not arg:
        raise NasError(f"data spec {kind!r} needs a path: {kind}:PATH")
    if kind == "folder":
        return folder(arg, split, num_classes)
    return LAYOUTS[kind](Path(arg).expanduser(), split, num_classes)


# ---------------------------------------------------------------------------- decoding
def _read(img_path: Path, msk_path: Path, lut: np.ndarray, what: str,
          size: tuple[int, int] | None) -> tuple[torch.Tensor, torch.Tensor, int]:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(img_path) as im:
            image = im.convert("RGB")
    except (OSError, UnidentifiedImageError, ValueError) as exc:
        raise NasError(f"{what}: cannot read image {img_path}: {exc}") from None
    try:
        with Image.open(msk_path) as mk:
            mode = mk.mode
            raw = np.array(mk)
    except (OSError, UnidentifiedImageError, ValueError) as exc:
        raise NasError(f"{what}: cannot read mask {msk_path}: {exc}") from None
    if mode in ("RGB", "RGBA", "CMYK", "YCbCr", "LA"):
        raise NasError(
            f"{what}: mask {msk_path} is a {mode} image; masks must be single-channel "
            "label images (mode L, P or I;16)"
        )
    if raw.ndim != 2:
        raise NasError(f"{what}: mask {msk_path} has shape {raw.shape}; expected a 2-D label image")
    if image.size != (raw.shape[1], raw.shape[0]):
        raise NasError(
            f"{what}: size mismatch: image {img_path} is {image.size[1]}x{image.size[0]} but mask "
            f"{msk_path} is {raw.shape[0]}x{raw.shape[1]} (HxW)"
        )
    if raw.dtype != np.uint8:
        top = int(raw.max()) if raw.size else 0
        if raw.min() < 0 or top > 255:
            raise NasError(f"{what}: mask {msk_path} has label value {top}, above 255")
        raw = raw.astype(np.uint8)
    mapped = lut[raw]
    if (mapped == BAD).any():
        values = sorted(int(v) for v in np.unique(raw[mapped == BAD]))
        allowed = np.nonzero(lut != BAD)[0]
        raise NasError(
            f"{what}: mask {msk_path} has label value(s) {values[:8]} outside the declared classes "
            f"(allowed raw values: {_ranges(allowed)})"
        )
    mask = mapped.astype(np.uint8)
    if size is not None and (image.size[1], image.size[0]) != tuple(size):
        image = image.resize((size[1], size[0]), Image.BILINEAR)
        mask = np.array(Image.fromarray(mask).resize((size[1], size[0]), Image.NEAREST))
    valid = mask[mask != IGNORE_INDEX]
    top = int(valid.max()) if valid.size else -1
    img_t = torch.from_numpy(np.array(image, dtype=np.uint8)).permute(2, 0, 1).contiguous()
    return img_t, torch.from_numpy(np.ascontiguousarray(mask)), top


def _ranges(values: np.ndarray) -> str:
    out, vals = [], [int(v) for v in values]
    i = 0
    while i < len(vals):
        j = i
        while j + 1 < len(vals) and vals[j + 1] == vals[j] + 1:
            j += 1
        out.append(str(vals[i]) if i == j else f"{vals[i]}..{vals[j]}")
        i = j + 1
    return ", ".join(out)


def decode(src: Source, split: str, size: tuple[int, int] | None) -> SegData:
    """Read every pair of ``src`` (checked), resized to ``size`` when given."""
    workers = max(1, min(4, os.cpu_count() or 1))
    with ThreadPoolExecutor(workers) as pool:
        results = list(pool.map(lambda p: _read(p[0], p[1], src.lut, src.name, size), src.pairs))
    images = [r[0] for r in results]
    masks = [r[1] for r in results]
    k = src.num_classes
    if k is None:
        k = max(r[2] for r in results) + 1
        if k < 1:
            raise NasError(f"{src.name}: every pixel of split {split!r} is ignore (255); no labels")
    names = src.class_names or tuple(f"class_{i}" for i in range(k))
    if len({tuple(m.shape) for m in masks}) == 1:
        images_out: torch.Tensor | list[torch.Tensor] = torch.stack(images)
        masks_out: torch.Tensor | list[torch.Tensor] = torch.stack(masks)
    else:
        images_out, masks_out = images, masks
    files = tuple(str(p[0]) for p in src.pairs)
    name = re.sub(r"\s+", " ", f"{src.name}[{split}]")
    return SegData(name, images_out, masks_out, k, names, IGNORE_INDEX, files)
