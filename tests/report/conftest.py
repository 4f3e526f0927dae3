"""Fixtures of the report tests: a hand-written run folder (tests/report/runfolder.py) and a
working headless Chromium (skips with the reason when there is none)."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent


def load_helper(name: str):
    """tests/report/<name>.py as a module (tests/ has no packages to import from)."""
    spec = importlib.util.spec_from_file_location(f"nas_test_{name}", HERE / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="session")
def built_run(tmp_path_factory) -> Path:
    """The run folder, built once per test process; tests copy it before writing into it."""
    return load_helper("runfolder").build_run(tmp_path_factory.mktemp("runs"))


@pytest.fixture
def run_dir(built_run, tmp_path) -> Path:
    return Path(shutil.copytree(built_run, tmp_path / built_run.name))


@pytest.fixture(scope="session")
def chromium() -> str:
    browser = load_helper("browser")
    binary = browser.find_chromium()
    if binary is None:
        pytest.skip("needs a headless Chromium (Debian: apt-get install -y chromium; .ci/run "
                    "installs it)")
    if not browser.works(binary):
        pytest.skip(f"{binary} is installed but does not start headless here")
    return binary
