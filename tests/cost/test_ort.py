"""``ort-cpu``: the exported ONNX graph timed in onnxruntime, as a latency device next to PyTorch's
``cpu``: its fingerprint, unit and whole-model timings, and a latency table profiled and used for
prediction. No timing is asserted beyond "positive and finite": tables are filled at 64x64 with 2
runs on 1 thread, on AFFormer-tiny with one block per cell (the same operators, a graph that
exports in a fraction of the time)."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
import torch
from torch import nn

from nas.arch import ArchConfig, load_arch
from nas.cost import (
    LatencyTable,
    device_fingerprint,
    device_info,
    measure_latency,
    measure_unit,
    onnx_bytes,
    ort_session,
    predict_latency,
    profile_units,
    time_module,
)
from nas.cost._latency import check_timing
from nas.errors import NasError
from nas.models import build_model, units

SIZE = (64, 64)
THREADS = 1


def small_afformer() -> ArchConfig:
    """afformer_tiny with one block per cell."""
    d = load_arch("afformer_tiny").to_dict()
    for stage in d["stages"]:
        stage["modules"] = 1
        for br in stage["branches"]:
            br["depths"] = [min(1, br["depths"][0])]
    return type(load_arch("afformer_tiny")).from_dict(d)


@pytest.fixture(scope="module")
def ort_table(tmp_path_factory):
    """The small AFFormer's units at 64x64 profiled on ort-cpu (6 units, 6 keys)."""
    path = tmp_path_factory.mktemp("lat") / "t.json"
    table = LatencyTable.new("ort-cpu", THREADS, SIZE, path)
    added = profile_units(units(small_afformer(), SIZE), table, warmup=0, runs=2, verify=False)
    return table, added


def test_ort_fingerprint_names_onnxruntime_and_threads():
    import onnxruntime

    fp = device_fingerprint("ort-cpu", 2)
    assert fp == device_fingerprint("ort-cpu", 2)
    assert re.fullmatch(r"ort-cpu-[a-z0-9-]+-\d+c-2t-ort[0-9.]+-[0-9a-f]{8}", fp), fp
    assert f"-ort{onnxruntime.__version__}-" in fp
    assert fp != device_fingerprint("ort-cpu", 1)
    assert fp != device_fingerprint("cpu", 2) and fp.split("-")[-1] != \
        device_fingerprint("cpu", 2).split("-")[-1]
    info = device_info("ort-cpu", 3)
    assert (info["device"], info["threads"], info["onnxruntime"]) == (
        "ort-cpu", 3, onnxruntime.__version__)
    assert "onnxruntime" not in device_info("cpu", 3)
    for bad in ("ort", "ort-gpu", "tpu", "cpu:0"):
        with pytest.raises(NasError, match=r"use cpu, ort-cpu, cuda or cuda:N"):
            device_fingerprint(bad)
        with pytest.raises(NasError, match=r"use cpu, ort-cpu, cuda or cuda:N"):
            check_timing(0, 1, 1, bad)
    check_timing(0, 1, 1, "ort-cpu")


class _TwoInputs(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)

    def forward(self, a: torch.Tensor, b: torch.Tensor, unused: torch.Tensor) -> list:
        return [self.conv(a) + b, a.mean()]


def test_onnx_bytes_takes_several_inputs_named_x0_to_xn():
    torch.manual_seed(0)
    module = _TwoInputs().eval()
    xs = (torch.randn(1, 3, 8, 8), torch.randn(1, 4, 8, 8), torch.randn(2))
    sess = ort_session(onnx_bytes(module, xs), threads=1)
    names = [i.name for i in sess.get_inputs()]
    assert names[:2] == ["x0", "x1"] and set(names) <= {"x0", "x1", "x2"}
    assert [i.shape for i in sess.get_inputs()][:2] == [[1, 3, 8, 8], [1, 4, 8, 8]]  # static
    got = sess.run(None, {n: x.numpy() for n, x in zip(["x0", "x1", "x2"], xs) if n in names})
    with torch.no_grad():
        ref = module(*xs)
    assert all(np.allclose(g, r.numpy(), atol=1e-5) for g, r in zip(got, ref, strict=True))
    times = time_module(module.train(), xs, "ort-cpu", threads=1, warmup=1, runs=3)
    assert len(times) == 3 and all(math.isfinite(t) and t > 0 for t in times)
    assert module.training  # the caller's mode is restored
    with pytest.raises(NasError, match="ONNX export failed .*ort-cpu times the exported graph"):
        time_module(module, xs[:2], "ort-cpu", threads=1)  # a missing input: not traceable


def test_ort_unit_measurement_is_positive_and_finite():
    fusion = next(u for u in units(load_arch("hrvit_b1"), SIZE)
                  if u.kind == "fusion" and len(u.inputs) > 1)
    before = torch.get_rng_state(), torch.get_num_threads()
    for unit in (fusion, units(small_afformer(), SIZE)[0]):
        e = measure_unit(unit, "ort-cpu", THREADS, warmup=0, runs=2)
        assert math.isfinite(e.median_ms) and 0 < e.q1_ms <= e.median_ms <= e.q3_ms
        assert e.runs == 2
    assert torch.equal(before[0], torch.get_rng_state()) and before[1] == torch.get_num_threads()


def test_ort_whole_model_latency_keeps_the_callers_state():
    model = build_model(small_afformer())
    torch.manual_seed(5)
    before = torch.get_rng_state(), torch.get_num_threads()
    lat = measure_latency(model, SIZE, device="ort-cpu", threads=THREADS, warmup=0, runs=2)
    assert (lat.device, lat.threads, lat.batch, lat.runs) == ("ort-cpu", THREADS, 1, 2)
    assert math.isfinite(lat.median_ms) and lat.median_ms > 0
    assert torch.equal(before[0], torch.get_rng_state()) and before[1] == torch.get_num_threads()
    assert model.training  # build_model's mode, restored


def test_ort_table_profiles_and_predicts(ort_table):
    table, added = ort_table
    arch = small_afformer()
    parts = units(arch, SIZE)
    assert added == len({u.key for u in parts}) == len(table)
    assert all(math.isfinite(e.median_ms) and e.median_ms > 0 for e in table.entries.values())
    back = LatencyTable.load(table.path)
    assert (back.device, back.threads, back.fingerprint) == (
        "ort-cpu", THREADS, device_fingerprint("ort-cpu", THREADS))
    total = sum(table[u.key].median_ms for u in parts)
    assert predict_latency(arch, back) == pytest.approx(total)
    assert profile_units(parts, back, warmup=0, runs=2) == 0  # nothing left to measure


def test_ort_table_refuses_another_setting(ort_table):
    table, _ = ort_table
    arch = small_afformer()
    with pytest.raises(NasError, match="measured on ort-cpu with 1 threads, not cpu with 1"):
        predict_latency(arch, table, extend=True, device="cpu")
    with pytest.raises(NasError, match="measured on ort-cpu with 1 threads, not ort-cpu with 2"):
        predict_latency(arch, table, extend=True, threads=2)
    cpu = LatencyTable.new("cpu", THREADS, SIZE)
    cpu.entries.update(table.entries)
    cpu.meta["fingerprint"] = table.fingerprint  # entries and fingerprint of ort-cpu, cpu's label
    with pytest.raises(NasError, match=rf"measured on fingerprint {table.fingerprint}, this "
                       rf"machine is {device_fingerprint('cpu', THREADS)}; profile again"):
        predict_latency(arch, cpu)


def test_ort_profiling_exports_each_unit_once(tmp_path, monkeypatch):
    """The verify pass (and a full retime) reuse the graph exported for the first timing."""
    import nas.cost._latency_table as lt
    import nas.cost._runtime as rt

    exported: list[int] = []
    real = rt.ort_graph

    def counting(module, inputs):
        exported.append(1)
        return real(module, inputs)

    monkeypatch.setattr(lt, "ort_graph", counting)  # measure_unit's export
    monkeypatch.setattr(rt, "ort_graph", counting)  # time_module's, when given no graph
    parts = units(small_afformer(), SIZE)
    table = LatencyTable.new("ort-cpu", THREADS, SIZE, tmp_path / "t.json")
    added = profile_units(parts, table, warmup=0, runs=2, verify=True)
    assert added == len({u.key for u in parts}) == len(exported)
    assert not list(tmp_path.glob("nas-graphs-*"))  # nothing left behind beside the table
    # without the cache every measurement would export again
    measure_unit(parts[0], "ort-cpu", THREADS, warmup=0, runs=1)
    assert len(exported) == added + 1
