"""Shared fixtures. Tests run against the *installed* nas (CI installs the wheel)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

if os.environ.get("PYTEST_XDIST_WORKER"):
    torch.set_num_threads(1)  # one thread per xdist worker: no oversubscription


SHARED = Path(__file__).resolve().parents[2] / "shared"


@pytest.fixture
def camvid_dir() -> Path:
    path = SHARED / "data" / "camvid_240x180"
    if not path.is_dir():
        pytest.skip(f"needs the shared CamVid data at {path} (absent on this machine)")
    return path


def pytest_collection_modifyitems(config, items):
    """Tests marked ``gpu`` run only where CUDA is available; elsewhere they skip, saying so."""
    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="needs a CUDA device (marked gpu)")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)
