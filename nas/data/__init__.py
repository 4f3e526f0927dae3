"""Segmentation data: one in-memory split type (:class:`SegData`), one loader (:func:`load_data`)
for the embedded synthetic set and the real layouts (CamVid, ADE20K, Cityscapes, VOC, a pair
of folders), and batched tensor augmentation (:func:`augment`).

>>> train = load_data("synthetic", "train")              # 512 x 96x96, six classes
>>> val = load_data("camvid:../shared/data/camvid_240x180", "val", size=(120, 160))

Labels are ``0 .. num_classes-1``; every dataset's void label becomes 255 (:data:`IGNORE_INDEX`).
"""

from nas.data._augment import IMAGENET_MEAN, IMAGENET_STD, augment, normalize
from nas.data._load import DATA_KINDS, clear_cache, load_data, set_disk_cache
from nas.data._synthetic import SYNTHETIC_CLASSES, make_synthetic
from nas.data._types import IGNORE_INDEX, SegData

__all__ = [
    "DATA_KINDS",
    "IGNORE_INDEX",
    "IMAGENET_MEAN",
    "IMAGENET_STD",
    "SYNTHETIC_CLASSES",
    "SegData",
    "augment",
    "clear_cache",
    "load_data",
    "make_synthetic",
    "normalize",
    "set_disk_cache",
]
