"""Runner profiles (``runners/*.yaml``): which engine runs the trials and with what resources."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from nas.errors import NasError

__all__ = ["RunnerProfile", "load_runner", "runner_names"]


class RunnerProfile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["optuna", "ray"] = "optuna"
    workers: int = Field(1, ge=1)  # optuna: worker processes on this machine
    address: str | None = None  # ray: None starts a local runtime, "auto" joins a cluster
    max_concurrent: int = Field(1, ge=1)  # ray: trials at once
    resources_per_trial: dict[str, float] = Field(default_factory=lambda: {"cpu": 2})
    name: str = "local"


def _folder() -> Path:
    from nas._resources import data_dir

    return data_dir("runners")


def runner_names() -> list[str]:
    return sorted(p.stem for p in _folder().glob("*.yaml"))


def load_runner(spec: str) -> RunnerProfile:
    """A profile by name (``local``, ``ray-local``, ``ray-cluster``) or by path to a YAML file."""
    from nas._resources import find_file

    path = find_file(spec, _folder(), (".yaml", ".yml"), any_stem=True)
    if path is None:
        raise NasError(f"--runner {spec!r}: no such profile; use one of "
                       f"{', '.join(runner_names())} or a path to a YAML profile")
    try:
        data = yaml.safe_load(path.read_text()) or {}
        return RunnerProfile(**{"name": path.stem, **data})
    except (yaml.YAMLError, ValidationError, TypeError) as exc:
        first = str(exc).splitlines()
        raise NasError(f"runner profile {path}: {' '.join(first[:3])}") from None
