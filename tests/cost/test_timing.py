"""Timing and measuring leave the caller's process state as they found it (RNG, threads), on
CPU and, marked ``gpu``, on CUDA."""

from __future__ import annotations

import pytest
import torch

from nas.arch import load_arch
from nas.cost import measure, measure_latency, measure_unit
from nas.errors import NasError
from nas.models import build_model, units


def _states():
    cuda = torch.cuda.get_rng_state_all() if torch.cuda.is_available() else []
    return torch.get_rng_state(), cuda, torch.get_num_threads()


def _same(a, b) -> bool:
    return (torch.equal(a[0], b[0]) and len(a[1]) == len(b[1])
            and all(torch.equal(x, y) for x, y in zip(a[1], b[1])) and a[2] == b[2])


def test_measuring_keeps_the_callers_rng_and_threads():
    arch = load_arch("afformer_tiny")
    model, unit = build_model(arch), units(arch, (64, 64))[0]
    torch.manual_seed(123)
    before = _states()
    measure(arch, (64, 64))
    entry = measure_unit(unit, "cpu", threads=1, warmup=0, runs=2)
    lat = measure_latency(model, (64, 64), threads=1, warmup=0, runs=2)
    assert _same(before, _states())
    assert entry.median_ms > 0 and lat.median_ms > 0
    after = torch.rand(1)
    torch.manual_seed(123)
    assert torch.equal(after, torch.rand(1))  # the caller's stream continues where it was


def test_unit_timing_is_seeded_the_same_each_time():
    """The unit is built under seed 0 inside the call: the caller's draws do not change it."""
    unit = units(load_arch("afformer_tiny"), (64, 64))[0]
    torch.manual_seed(1)
    a = torch.rand(3)
    measure_unit(unit, "cpu", threads=1, warmup=0, runs=1)
    b = torch.rand(3)
    torch.manual_seed(1)
    assert torch.equal(torch.rand(3), a) and torch.equal(torch.rand(3), b)


@pytest.mark.gpu
def test_cuda_latency_synchronises_and_keeps_the_cuda_rng():
    model = build_model(load_arch("afformer_tiny"))
    before = _states()
    lat = measure_latency(model, (64, 64), device="cuda",
                          warmup=1, runs=3)
    assert lat.device == "cuda" and lat.median_ms > 0 and lat.q1_ms <= lat.q3_ms
    assert _same(before, _states())


def test_fresh_process_repeats_agree():
    """Three fresh worker processes time the same small model (1 thread). Tolerances: the two
    closest process medians within 15% of each other, all three within a factor 1.6. Wide,
    because CI runs two test processes on two cores (a timing may share its core with another
    test for a while, which is why the third process is let off the tight bound); the
    quiet-machine figure (target: repeats within +-10% 98% of the time) is measured by
    benchmarks/latency_predictor.py. Before the allocator fix, repeats of one model differed by
    a median 21.6% on a quiet machine, and by up to 2x under load."""
    lat = measure_latency(load_arch("afformer_tiny"), (96, 96), threads=1, warmup=5, runs=15,
                          processes=3)
    assert len(lat.process_medians) == 3 and lat.runs == 45
    assert lat.median_ms == sorted(lat.process_medians)[1]
    assert lat.q1_ms <= lat.median_ms <= lat.q3_ms
    a, b, c = sorted(lat.process_medians)
    assert min(b / a, c / b) <= 1.15, lat.process_medians
    assert c / a <= 1.6 and lat.repeat_spread <= 0.6, lat.process_medians


def test_workers_keep_freed_memory(monkeypatch):
    """The allocator setting (nas.keep_freed_memory) is what removes the per-pass page faults
    that made repeats disagree: counted, not timed, so load does not change the verdict."""
    arch = load_arch("afformer_tiny")
    kept = measure_latency(arch, (256, 256), threads=1, warmup=5, runs=10, processes=1)
    monkeypatch.setenv("NAS_MALLOC", "default")
    default = measure_latency(arch, (256, 256), threads=1, warmup=5, runs=10, processes=1)
    # measured: ~10k faults every pass with glibc's defaults; 0 on most passes once the heap
    # is kept, with an occasional burst while it still grows
    assert default.faults_per_pass > 3000, default.faults_per_pass
    assert kept.faults_per_pass < default.faults_per_pass / 5, (kept, default)


def test_a_module_is_timed_in_a_fresh_process_too():
    model = build_model(load_arch("afformer_tiny"))
    lat = measure_latency(model, (64, 64), threads=1, warmup=1, runs=2, processes=1)
    assert len(lat.process_medians) == 1 and lat.median_ms > 0 and lat.repeat_spread == 0


def test_bad_process_count_is_refused():
    with pytest.raises(NasError, match="processes"):
        measure_latency(load_arch("afformer_tiny"), (64, 64), processes=-1)
