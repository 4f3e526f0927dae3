"""Fixtures of the report tests: a hand-written run folder (tests/report/runfolder.py) and a
working headless Chromium (skips with the reason when there is none)."""

from __future__ import annotations

import importlib.util
import os
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


def _missing(reason: str) -> None:
    """Skip on a developer's machine; in CI (``CI=true``, set by .ci/run) a browser that is
    missing or does not start is a failure, so the browser tests cannot silently turn to skips."""
    if os.environ.get("CI", "").lower() in ("true", "1", "yes"):
        pytest.fail(f"CI: {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def chromium() -> str:
    browser = load_helper("browser")
    binary = browser.find_chromium()
    if binary is None:
        _missing("needs a headless Chromium (Debian: apt-get install -y chromium; .ci/run "
                 "installs it)")
    if not browser.works(binary):
        _missing(f"{binary} is installed but does not start headless here")
    return binary
