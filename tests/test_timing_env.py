"""The environment latency timings run in (nas._timing_env): what the workers get, what the CLI
sets, and that the profiling process's OpenMP wait policy is part of the cpu fingerprint."""

from __future__ import annotations

import pytest

from nas._timing_env import SET, UNSET, apply_timing_env, timing_env, timing_env_info
from nas.arch import load_arch
from nas.cost import LatencyTable, device_fingerprint, device_info, measure_latency
from nas.errors import NasError


def test_workers_get_huge_pages_default_wait_policy_and_the_thread_count():
    base = {"OMP_WAIT_POLICY": "PASSIVE", "GOMP_SPINCOUNT": "0", "OMP_NUM_THREADS": "8",
            "PATH": "/bin", "THP_MEM_ALLOC_ENABLE": "0"}
    env = timing_env(2, base)
    assert env["OMP_NUM_THREADS"] == "2" and env["PATH"] == "/bin"
    assert env["THP_MEM_ALLOC_ENABLE"] == "1"
    assert not set(UNSET) & set(env)
    assert base["OMP_WAIT_POLICY"] == "PASSIVE"  # the caller's mapping is not changed


def test_apply_is_too_late_once_torch_is_loaded(monkeypatch):
    for name in SET:
        monkeypatch.delenv(name, raising=False)
    assert apply_timing_env() is False  # the test process has imported torch
    assert all(timing_env_info()[name] is None for name in SET)


def test_the_wait_policy_is_part_of_the_cpu_fingerprint(monkeypatch, tmp_path):
    monkeypatch.delenv("OMP_WAIT_POLICY", raising=False)
    plain = device_fingerprint("cpu", 2)
    assert device_info("cpu", 2)["omp_wait_policy"] == "default"
    monkeypatch.setenv("OMP_WAIT_POLICY", "PASSIVE")
    assert device_info("cpu", 2)["omp_wait_policy"] == "passive"
    assert device_fingerprint("cpu", 2) != plain
    table = LatencyTable.new("cpu", 2, (64, 64), tmp_path / "t.json")
    assert table.meta["env"]["OMP_WAIT_POLICY"] == "PASSIVE"
    monkeypatch.delenv("OMP_WAIT_POLICY")
    with pytest.raises(NasError, match="profile again"):
        table.check_machine()  # a table profiled under PASSIVE is not used without it


def test_env_changes_need_worker_processes():
    with pytest.raises(NasError, match="processes"):
        measure_latency(load_arch("afformer_tiny"), (64, 64), env={"OMP_WAIT_POLICY": "ACTIVE"})
