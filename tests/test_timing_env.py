"""The environment latency timings run in (nas._timing_env): what the workers get, what the CLI
sets, and what a latency table records of it."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from nas._timing_env import (
    PARENT_SPINCOUNT,
    SET,
    UNSET,
    apply_timing_env,
    spins,
    timing_env,
    timing_env_info,
)
from nas.arch import load_arch
from nas.cost import LatencyTable, measure_latency
from nas.errors import NasError


def test_workers_get_huge_pages_spinning_threads_and_the_thread_count():
    base = {"OMP_WAIT_POLICY": "PASSIVE", "GOMP_SPINCOUNT": "0", "OMP_NUM_THREADS": "8",
            "PATH": "/bin", "THP_MEM_ALLOC_ENABLE": "0"}
    env = timing_env(2, base)
    assert env["OMP_NUM_THREADS"] == "2" and env["PATH"] == "/bin"
    assert env["THP_MEM_ALLOC_ENABLE"] == "1" and env["OMP_WAIT_POLICY"] == "ACTIVE"
    assert not set(UNSET) & set(env)
    assert base["OMP_WAIT_POLICY"] == "PASSIVE"  # the caller's mapping is not changed


def test_apply_sets_the_environment_before_torch_loads_only(monkeypatch):
    for name in SET:
        monkeypatch.delenv(name, raising=False)
    assert apply_timing_env() is False  # the test process has imported torch
    assert all(timing_env_info()[name] is None for name in SET)
    # in a fresh interpreter (as the CLI starts): the user's choice wins, spin=False leaves
    # OpenMP's wait policy alone
    code = ("import os, sys; from nas._timing_env import apply_timing_env; "
            "print(apply_timing_env(spin='spin' in sys.argv), os.environ.get('OMP_WAIT_POLICY'), "
            "os.environ.get('THP_MEM_ALLOC_ENABLE'))")
    env = {k: v for k, v in os.environ.items() if k not in SET}

    def run(*args: str, **extra: str) -> str:
        return subprocess.run([sys.executable, "-c", code, *args], env={**env, **extra},
                              capture_output=True, text=True, check=True).stdout.split()

    assert run("spin") == ["True", "ACTIVE", "1"]
    spins = code.replace("'THP_MEM_ALLOC_ENABLE'", "'GOMP_SPINCOUNT'")
    out = subprocess.run([sys.executable, "-c", spins, "spin"], env=env, capture_output=True,
                         text=True, check=True).stdout.split()
    assert out == ["True", "ACTIVE", PARENT_SPINCOUNT]  # idle threads sleep while workers run
    assert run() == ["True", "None", "1"]
    assert run("spin", OMP_WAIT_POLICY="PASSIVE") == ["True", "PASSIVE", "1"]


def test_the_profiling_environment_is_recorded_in_the_table(monkeypatch, tmp_path):
    monkeypatch.setenv("OMP_WAIT_POLICY", "PASSIVE")
    table = LatencyTable.new("cpu", 2, (64, 64), tmp_path / "t.json")
    assert table.meta["env"]["OMP_WAIT_POLICY"] == "PASSIVE"
    assert set(table.meta["env"]) == {*SET, *UNSET}


def test_env_changes_need_worker_processes():
    with pytest.raises(NasError, match="processes"):
        measure_latency(load_arch("afformer_tiny"), (64, 64), env={"OMP_WAIT_POLICY": "ACTIVE"})


def test_only_pytorch_on_the_cpu_spins():
    """On ort-cpu, torch's OpenMP threads (busy once, exporting the graph) would spin beside
    onnxruntime's own pool: the workers keep OpenMP's default policy there."""
    assert spins("cpu") and not spins("ort-cpu") and not spins("cuda:0")
    base = {"OMP_WAIT_POLICY": "PASSIVE"}
    assert timing_env(2, base, "cpu")["OMP_WAIT_POLICY"] == "ACTIVE"
    ort = timing_env(2, base, "ort-cpu")
    assert "OMP_WAIT_POLICY" not in ort and ort["THP_MEM_ALLOC_ENABLE"] == "1"


@pytest.mark.parametrize("args, expected", [
    (["search", "--trials", "0"], ["2", "None", "None", "1"]),  # trains: huge pages only
    (["profile", "--n", "-1"], ["2", "ACTIVE", PARENT_SPINCOUNT, "1"]),
    (["profile", "--device=cpu", "--n", "-1"], ["2", "ACTIVE", PARENT_SPINCOUNT, "1"]),
    (["profile", "--device", "ort-cpu", "--n", "-1"], ["2", "None", "None", "1"]),
])
def test_the_cli_sets_the_timing_environment_before_torch_loads(args, expected):
    """A fresh interpreter runs the CLI (bad input: it stops before any work) and reports the
    environment torch would have loaded under: only nas profile on cpu spins."""
    code = ("import os, sys; from nas.cli import main; rc = main(sys.argv[1:]); "
            "print(rc, *(os.environ.get(k) for k in "
            "('OMP_WAIT_POLICY', 'GOMP_SPINCOUNT', 'THP_MEM_ALLOC_ENABLE')))")
    env = {k: v for k, v in os.environ.items() if k not in (*SET, *UNSET)}
    out = subprocess.run([sys.executable, "-c", code, *args], env=env, capture_output=True,
                         text=True, check=True).stdout.split()
    assert out == expected
