"""Shared fixtures of the CLI tests."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

RUNFOLDER = Path(__file__).resolve().parents[1] / "report" / "runfolder.py"


@pytest.fixture(scope="module")
def built_run(tmp_path_factory) -> Path:
    """A synthetic run folder (tests/report/runfolder.py), built once per module; copy it
    before changing it."""
    spec = importlib.util.spec_from_file_location("nas_test_runfolder", RUNFOLDER)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.build_run(tmp_path_factory.mktemp("runs"), n_trained=0)
