"""Whole-model timing in fresh Python processes (``measure_latency(..., processes=k)``).

A process that has profiled hundreds of units, trained a model or run a search carries state
into a timing: its allocator's free lists and heap size, its thread pool, its caches. Each
measurement here starts ``python -m nas.cost._worker SPEC OUT`` instead, in the environment of
:func:`nas._timing_env.timing_env` (huge pages for big tensors, OpenMP's threads spinning,
whatever the caller's environment says): the worker loads the
model (an ArchConfig as JSON, built with seed 0, or a module saved with ``torch.save``), pins
itself to ``affinity`` when given, times it with :func:`~nas.cost.time_model` and writes the
timings as JSON. The workers run one after the other, never side by side (they would share the
cores). A worker that fails raises NasError with the last line of its error output.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

from torch import nn

from nas._timing_env import timing_env
from nas.arch import ArchConfig
from nas.errors import NasError

__all__ = ["time_in_fresh_processes"]


def time_in_fresh_processes(model: nn.Module | ArchConfig, input_size: tuple[int, int],
                            device: str, threads: int, batch: int, warmup: int, runs: int,
                            processes: int, affinity: Sequence[int] | None = None,
                            env: Mapping[str, str | None] | None = None,
                            ) -> list[dict]:
    """One dict per fresh worker process: ``times`` (``runs`` timings, ms), ``faults`` (minor
    page faults over the timed passes, or None) and ``cpu_ms`` (process CPU time per timed pass,
    all threads). ``env``: changes to the workers' environment after
    :func:`~nas._timing_env.timing_env` (a None value removes the name)."""
    import torch

    with tempfile.TemporaryDirectory(prefix="nas-latency-") as tmp:
        spec: dict = {"input": list(input_size), "device": device, "threads": threads,
                      "batch": batch, "warmup": warmup, "runs": runs,
                      "affinity": list(affinity) if affinity else None}
        if isinstance(model, ArchConfig):
            spec["arch"] = model.to_json(indent=None)
        else:
            spec["module"] = str(Path(tmp) / "model.pt")
            torch.save(model, spec["module"])
        spec_path = Path(tmp) / "spec.json"
        spec_path.write_text(json.dumps(spec), encoding="utf-8")
        out: list[dict] = []
        for i in range(processes):
            result = Path(tmp) / f"times-{i}.json"
            proc = subprocess.run([sys.executable, "-m", "nas.cost._worker", str(spec_path),
                                   str(result)], capture_output=True, text=True,
                                  env=_env(threads, device, env))
            if proc.returncode != 0 or not result.is_file():
                lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
                last = lines[-1] if lines else f"exit {proc.returncode}"
                raise NasError(f"the latency worker failed ({last}); measure in this process "
                               "(processes=0) or pass an ArchConfig")
            out.append(json.loads(result.read_text(encoding="utf-8")))
    return out


def _env(threads: int, device: str, changes: Mapping[str, str | None] | None = None
         ) -> dict[str, str]:
    env = timing_env(threads, device=device)  # THP on, threads spinning on cpu (nas._timing_env)
    for name, value in (changes or {}).items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    here = str(Path(__file__).resolve().parents[2])  # a checkout that is not installed
    env["PYTHONPATH"] = os.pathsep.join(p for p in (here, env.get("PYTHONPATH")) if p)
    return env


def _main(spec_path: str, out_path: str) -> None:
    from nas._allocator import keep_freed_memory

    keep_freed_memory()  # first: everything the worker allocates comes from the kept heap
    import torch

    from nas.cost._latency import time_model

    spec = json.loads(Path(spec_path).read_text(encoding="utf-8"))
    if spec.get("affinity"):
        os.sched_setaffinity(0, spec["affinity"])
    if "arch" in spec:
        model: nn.Module | ArchConfig = ArchConfig.from_json(spec["arch"])
    else:
        model = torch.load(spec["module"], weights_only=False)
    faults: list[int] = []
    cpu: list[float] = []
    times = time_model(model, tuple(spec["input"]), spec["device"], spec["threads"],
                       spec["batch"], spec["warmup"], spec["runs"], faults=faults, cpu=cpu)
    Path(out_path).write_text(json.dumps({
        "times": times, "faults": faults[0] if faults else None,
        "cpu_ms": cpu[0] / len(times) if cpu else None}), encoding="utf-8")


if __name__ == "__main__":
    _main(sys.argv[1], sys.argv[2])
