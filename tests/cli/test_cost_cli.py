"""``nas cost``: the analytic cost against fvcore, a latency measurement, one-line errors."""

from __future__ import annotations

import json

import pytest

from nas.arch import load_arch
from nas.cli import main
from nas.cost import estimate


def _run(capsys, *argv):
    code = main(["cost", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_cost_json_equals_the_estimate_and_fvcore(capsys):
    code, out, err = _run(capsys, "afformer_tiny", "--input", "96x128", "--json")
    assert code == 0, err
    data = json.loads(out)
    est = estimate(load_arch("afformer_tiny"), (96, 128))
    assert data["input"] == "96x128"
    assert (data["params"], data["flops"]) == (est.params, est.flops)
    assert data["fvcore_flops"] == est.flops  # the estimator is exact


def test_cost_table_and_measured_latency(capsys):
    code, out, err = _run(capsys, "afformer_tiny", "--input", "64x64", "--latency",
                          "--threads", "1", "--no-fvcore")
    assert code == 0, err
    assert "FLOPs (analytic)" in out and "latency (measured)" in out and "1 threads" in out
    assert "FLOPs (fvcore)" not in out


def test_cost_latency_on_ort_cpu_in_this_process(capsys):
    pytest.importorskip("onnxruntime")
    code, out, err = _run(capsys, "afformer_tiny", "--input", "64x64", "--latency", "--device",
                          "ort-cpu", "--threads", "1", "--processes", "0", "--no-fvcore",
                          "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["latency_device"] == "ort-cpu" and data["latency_ms"] > 0


def test_cost_refuses_a_table_of_another_device(capsys, tmp_path):
    from nas.cost import LatencyTable

    path = LatencyTable.new("cpu", 1, (64, 64)).save(tmp_path / "t.json")
    code, _, err = _run(capsys, "afformer_tiny", "--input", "64x64", "--latency", "--device",
                        "ort-cpu", "--table", str(path), "--no-fvcore")
    assert code == 2 and "profiled on cpu" in err and err.count("\n") == 1, err


@pytest.mark.parametrize("argv, fragment", [
    (["hrvit_b9"], "unknown architecture"),
    (["afformer_tiny", "--input", "8x8"], "give HxW"),
    (["afformer_tiny", "--threads", "0"], "--threads 0"),
    (["afformer_tiny", "--latency", "--device", "tpu"], "--device 'tpu'"),
    (["afformer_tiny", "--latency", "--processes", "-1"], "--processes -1"),
    (["afformer_tiny", "--no-fvcore", "--table", "no/such/table.json"], "no/such/table.json"),
])
def test_cost_bad_input_is_one_line(capsys, argv, fragment):
    code, _, err = _run(capsys, *argv)
    assert code == 2 and fragment in err and err.count("\n") == 1, err
    assert "Traceback" not in err
