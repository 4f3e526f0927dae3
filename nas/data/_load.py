"""``load_data(spec, split)``: one entry point for every dataset, decoded once and cached."""

from __future__ import annotations

import hashlib
import os
import threading
from collections import OrderedDict
from pathlib import Path

import torch

from nas.data._files import LAYOUTS, decode, source_for
from nas.data._synthetic import make_synthetic
from nas.data._types import SegData, even_indices
from nas.errors import NasError

__all__ = ["DATA_KINDS", "SyntheticSpec", "clear_cache", "load_data", "parse_synthetic",
           "set_disk_cache"]

DATA_KINDS = ("synthetic", *LAYOUTS)
_SPEC_HELP = (
    "synthetic[:N_TRAIN[,N_VAL][,seed=S][,size=PX]], camvid:PATH, ade20k:PATH, cityscapes:PATH, "
    "voc:PATH, folder:IMAGES,MASKS"
)
_CACHE_VERSION = 1
_LRU_SIZE = 8
_lru: OrderedDict[tuple, SegData] = OrderedDict()
_lock = threading.Lock()


class SyntheticSpec:
    """Options of the ``synthetic`` spec: ``synthetic:512,128,seed=0,size=96``."""

    def __init__(self, n_train: int = 512, n_val: int = 128, seed: int = 0, size: int = 96):
        self.n_train, self.n_val, self.seed, self.size = n_train, n_val, seed, size

    def key(self) -> tuple[int, int, int, int]:
        return self.n_train, self.n_val, self.seed, self.size


def parse_synthetic(arg: str) -> SyntheticSpec:
    """Parse the part after ``synthetic:`` (may be empty)."""
    out = SyntheticSpec()
    positional = ["n_train", "n_val"]
    aliases = {"n": "n_train", "train": "n_train", "n_train": "n_train", "val": "n_val",
               "n_val": "n_val", "seed": "seed", "size": "size"}
    for item in filter(None, (p.strip() for p in arg.split(","))):
        key, _, value = item.rpartition("=")
        if key:
            if key.strip() not in aliases:
                raise NasError(f"synthetic: unknown option {key!r}; use n_train, n_val, seed, size")
            name = aliases[key.strip()]
        else:
            if not positional:
                raise NasError(f"synthetic: too many values in {arg!r}; give N_TRAIN,N_VAL")
            name = positional.pop(0)
        try:
            number = int(value)
        except ValueError:
            raise NasError(f"synthetic: {name} must be an integer, got {value!r}") from None
        if (name == "size" and number < 32) or (name != "seed" and number < 1):
            raise NasError(f"synthetic: {name} {number} is too small (n >= 1, size >= 32)")
        setattr(out, name, number)
    return out


def _split_spec(spec: str) -> tuple[str, str]:
    text = spec.strip()
    kind, sep, arg = text.partition(":")
    kind = kind.strip().lower()
    if kind not in DATA_KINDS:
        raise NasError(f"unknown data spec {spec!r}; use one of: {_SPEC_HELP}")
    return kind, arg.strip() if sep else ""


def clear_cache() -> None:
    """Forget every split decoded in this process."""
    with _lock:
        _lru.clear()


_disk_cache: str | Path | None = None


def set_disk_cache(folder: str | Path | None) -> str | Path | None:
    """The on-disk cache folder :func:`load_data` uses when it is given no ``cache_dir``
    (None: no disk cache, the default). Returns the previous setting, so a caller can restore
    it. The library never reads the environment; the ``nas`` command passes
    ``NAS_DATA_CACHE`` here."""
    global _disk_cache
    previous, _disk_cache = _disk_cache, folder
    return previous


def load_data(
    spec: str,
    split: str = "train",
    *,
    size: tuple[int, int] | None = None,
    limit: int | None = None,
    num_classes: int | None = None,
    cache: bool = True,
    cache_dir: str | Path | None = None,
) -> SegData:
    """Load split ``split`` ("train", "val", "test" where the layout has it) of ``spec``.

    ``spec``: ``synthetic`` (default set: 512 train / 128 val images of 96x96, six classes),
    ``synthetic:N_TRAIN,N_VAL,seed=S,size=PX``, ``camvid:PATH``, ``ade20k:PATH``,
    ``cityscapes:PATH``, ``voc:PATH`` or ``folder:IMAGES,MASKS``. Labels come back as
    ``0 .. num_classes-1`` with every void label mapped to 255.

    ``size`` (H, W) stores every sample at that size (images bilinear, masks nearest), so the
    split stacks into one tensor; ``limit`` keeps that many samples evenly spaced over the
    sorted files (decoding only those); ``num_classes`` declares the class count where the
    layout does not fix it (``folder``, ADE without ``objectInfo*.txt``).

    Cached: in this process (the last few splits, keyed by the arguments and a fingerprint of
    the file list with sizes and mtimes), and on disk under ``cache_dir`` when given (or the
    folder set with :func:`set_disk_cache`; the ``nas`` command sets it from the
    ``NAS_DATA_CACHE`` environment variable). The result is shared: do not modify
    its tensors in place. Bad input raises :class:`~nas.errors.NasError` naming the file.
    """
    kind, arg = _split_spec(spec)
    if size is not None:
        size = (int(size[0]), int(size[1]))
        if min(size) < 1:
            raise NasError(f"data size {size} must be positive")
    if limit is not None and limit < 1:
        raise NasError(f"limit must be >= 1, got {limit}")
    if kind == "synthetic":
        syn = parse_synthetic(arg)
        if split not in ("train", "val", "test"):
            raise NasError(f"synthetic: unknown split {split!r}; use train, val or test")
        key = ("synthetic", syn.key(), split, size, limit)
        fingerprint = None
    else:
        src = source_for(kind, arg, split, num_classes).limited(limit)
        fingerprint = src.fingerprint()
        key = (kind, fingerprint, split, size)
    if cache:
        with _lock:
            hit = _lru.get(key)
            if hit is not None:
                _lru.move_to_end(key)
                return hit
    if kind == "synthetic":
        n = syn.n_train if split == "train" else syn.n_val
        idx = even_indices(n, limit) if limit is not None and limit < n else None
        data = make_synthetic(n, split, syn.seed, syn.size, indices=idx).resized(size)
    else:
        data = _disk_cached(src, split, size, fingerprint, cache_dir if cache else None)
    if cache:
        with _lock:
            _lru[key] = data
            while len(_lru) > _LRU_SIZE:
                _lru.popitem(last=False)
    return data


def _disk_cached(src, split: str, size, fingerprint: str, cache_dir) -> SegData:
    folder = cache_dir if cache_dir is not None else _disk_cache
    if not folder:
        return decode(src, split, size)
    tag = hashlib.sha256(repr((_CACHE_VERSION, fingerprint, split, size)).encode()).hexdigest()
    path = Path(folder).expanduser() / "data" / f"{tag[:32]}.pt"
    if path.is_file():
        try:
            blob = torch.load(path, map_location="cpu", weights_only=True)
            return SegData(blob["name"], blob["images"], blob["masks"], blob["num_classes"],
                           tuple(blob["class_names"]), blob["ignore_index"], tuple(blob["files"]))
        except Exception:  # a damaged or foreign cache file: decode again and overwrite it
            pass
    data = decode(src, split, size)
    blob = {"name": data.name, "images": data.images, "masks": data.masks,
            "num_classes": data.num_classes, "class_names": list(data.class_names),
            "ignore_index": data.ignore_index, "files": list(data.files)}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")
        torch.save(blob, tmp)
        os.replace(tmp, path)
    except OSError:
        pass  # the cache is an optimisation only
    return data
