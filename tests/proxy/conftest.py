"""Fixtures for the proxy tests: a small real candidate, tiny synthetic splits, a fast schedule."""

from __future__ import annotations

from pathlib import Path

import pytest

from nas.arch import ArchConfig, load_arch

# ../shared/data relative to the repo root (this file is <root>/tests/proxy/conftest.py)
DATA = Path(__file__).resolve().parents[3] / "shared" / "data"


def small_afformer() -> ArchConfig:
    """afformer_tiny shrunk to ~0.3 M parameters, with the all-MLP head over every branch (the
    stride-4 skip included), so it learns within a few dozen steps at 48-64 px."""
    d = load_arch("afformer_tiny").to_dict()
    d["name"] = "afformer_small_test"
    d["stem"]["width"] = 16
    for stage, (w, o) in zip(d["stages"], [(16, 32), (32, 64), (64, 64), (64, 64)]):
        stage["branches"][0].update(width=w, out_width=o)
    d["head"] = {"type": "segformer", "width": 64}
    return ArchConfig.from_dict(d)


@pytest.fixture(scope="session")
def small_arch() -> ArchConfig:
    return small_afformer()


@pytest.fixture(scope="session")
def tiny_data():
    from nas.data import load_data

    spec = "synthetic:24,8,size=48"
    return load_data(spec, "train"), load_data(spec, "val")


@pytest.fixture(scope="session")
def fast_schedule():
    from nas.proxy import Schedule

    return Schedule(epochs=2, batch_size=8, train_size=(48, 48), n_train=None, n_val=None,
                    lr=4e-3, threads=1)


@pytest.fixture
def camvid_root() -> Path:
    path = DATA / "camvid_240x180"
    if not path.is_dir():
        pytest.skip(f"needs the shared CamVid data at {path} (absent on this machine)")
    return path


@pytest.fixture(autouse=True)
def _one_thread():
    """Evaluation outside train() runs on the global thread count: keep it at 1 (the test
    machine's cores are shared; the trainer itself sets its schedule's count)."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
