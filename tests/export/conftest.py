"""Fixtures of the export tests: the hand-written run folder of tests/report/runfolder.py."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import pytest

RUNFOLDER = Path(__file__).resolve().parents[1] / "report" / "runfolder.py"


def _runfolder():
    spec = importlib.util.spec_from_file_location("nas_test_runfolder", RUNFOLDER)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="session")
def built_run(tmp_path_factory) -> Path:
    return _runfolder().build_run(tmp_path_factory.mktemp("runs"))


@pytest.fixture
def run_dir(built_run, tmp_path) -> Path:
    """A private copy (exports write into the run folder by default)."""
    return Path(shutil.copytree(built_run, tmp_path / built_run.name))


@pytest.fixture(scope="session")
def trained(built_run) -> list[int]:
    """Trial numbers on the front whose weights the run kept, cheapest first."""
    import pandas as pd

    df = pd.read_csv(built_run / "trials.csv")
    rows = df[df["pareto"] & df["number"].map(
        lambda n: (built_run / "weights" / f"trial-{n}.safetensors").is_file())]
    numbers = rows.sort_values("flops")["number"].astype(int).tolist()
    assert numbers, "the fixture run must keep weights for a front member"
    return numbers
