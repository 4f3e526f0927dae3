"""Helpers for the data tests: the shared fixtures' paths and tiny layouts written with PIL."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

# ../shared/data relative to the repo root (this file is <root>/tests/data/conftest.py)
DATA = Path(__file__).resolve().parents[3] / "shared" / "data"


def shared(sub: str) -> Path:
    path = DATA / sub
    if not path.exists():
        pytest.skip(f"needs the shared data at {path} (absent on this machine)")
    return path


@pytest.fixture(autouse=True)
def _fresh_cache():
    from nas.data import clear_cache

    clear_cache()
    yield
    clear_cache()


def write_image(path: Path, h: int, w: int, seed: int = 0, ext: str | None = None) -> Path:
    rng = np.random.default_rng(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8)).save(path)
    return path


def write_mask(path: Path, labels: np.ndarray, palette: bool = False) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    im = Image.fromarray(labels.astype(np.uint8), mode="L")
    if palette:
        im = im.convert("P")
        im.putpalette([v for i in range(256) for v in (i, (i * 7) % 256, (i * 13) % 256)])
    im.save(path)
    return path


def labels(h: int, w: int, values: list[int], seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    out = rng.choice(values, size=(h, w))
    out.flat[: len(values)] = values  # every value occurs
    return out


def camvid_layout(root: Path, n: int = 2, h: int = 36, w: int = 48, split: str = "train") -> Path:
    for i in range(n):
        write_image(root / split / f"f{i}.png", h, w, seed=i)
        write_mask(root / f"{split}annot" / f"f{i}.png", labels(h, w, [0, 3, 10, 11], seed=i))
    return root


@pytest.fixture
def tiny():
    """The helpers above (conftest modules cannot be imported under --import-mode=importlib)."""
    from types import SimpleNamespace

    return SimpleNamespace(shared=shared, write_image=write_image, write_mask=write_mask,
                           labels=labels, camvid_layout=camvid_layout)
