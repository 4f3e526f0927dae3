"""``nas profile --device ort-cpu``: the exported ONNX graph's units profiled into the ort-cpu
table and used by ``nas cost --table``; bad devices, and ort-cpu where PyTorch must run, are
one-line errors with exit code 2. The space is a one-block AFFormer (5 units at 64x64)."""

from __future__ import annotations

import json

import pytest
import torch

from nas.cli import main
from nas.cost import LatencyTable, device_fingerprint
from nas.models import units
from nas.space import load_space

TINY_SPACE = """\
schema_version: 1
name: tiny-af
description: a one-block AFFormer, for the ort-cpu CLI test
stem: {width: [16], act: hardswish, bias: false}
stages:
  - {modules: 1}
  - {stride: double, branches: 1}
  - {stride: keep, branches: 1}
  - {stride: keep, branches: 1}
branches:
  - width: [16]
  - width: [32]
  - width: [64]
  - width: [64]
slots: {cell: af, paths: [1], conv_ratio: [0.5], mixer: freq, hp: ["3:2,5:2"], lp: ["1,2"],
        ffn: dwmlp, ratio: [2]}
overrides:
  - {stage: 1, depth: 0}
  - {stage: 2, depth: 1, proto_stride: 1}
  - {stage: 3, depth: 1, proto_stride: 2}
  - {stage: 4, depth: 1, proto_stride: 2}
head: {type: cls, width: [64]}
"""


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_profile_ort_cpu_then_predict_with_nas_cost(capsys, tmp_path):
    space_file = tmp_path / "tiny.yaml"
    space_file.write_text(TINY_SPACE)
    argv = ["profile", "--device", "ort-cpu", "--threads", "1", "--space", str(space_file),
            "--n", "1", "--no-refs", "--input", "64x64", "--runs", "2", "--warmup", "0",
            "--out", str(tmp_path / "lat")]
    code, out, err = run(capsys, *argv)
    assert code == 0, err
    fp = device_fingerprint("ort-cpu", 1)
    path = LatencyTable.path_for(tmp_path / "lat", fp, (64, 64))
    assert fp.startswith("ort-cpu-") and f"fingerprint:   {fp}" in out and str(path) in out
    table = LatencyTable.load(path)
    arch = load_space(space_file).sample(0)
    keys = {u.key for u in units(arch, (64, 64))}
    assert set(table.entries) == keys and f"{len(keys)} entries added" in out
    (tmp_path / "arch.yaml").write_text(arch.to_yaml())
    code, out, err = run(capsys, "cost", str(tmp_path / "arch.yaml"), "--input", "64x64",
                         "--no-fvcore", "--table", str(path), "--json")
    assert code == 0, err
    expected = sum(table[u.key].median_ms for u in units(arch, (64, 64)))  # no correction
    assert expected > 0 and json.loads(out)["predicted_latency_ms"] == pytest.approx(expected)
    # the same table under another machine's fingerprint: refused, in one line
    data = json.loads(path.read_text())
    data["meta"]["fingerprint"] = "ort-cpu-elsewhere-64c-1t-ort1.0.0-00000000"
    moved = tmp_path / "moved.json"
    moved.write_text(json.dumps(data))
    code, _, err = run(capsys, "cost", str(tmp_path / "arch.yaml"), "--input", "64x64",
                       "--no-fvcore", "--table", str(moved))
    assert code == 2 and err.count("\n") == 1, err
    assert f"this machine is {fp}; profile again with nas profile" in err


NO_GPU = pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a CUDA GPU")
_NO_CUDA = "CUDA is not available on this machine; use cpu"


@pytest.mark.parametrize("device, message", [
    *((d, f"--device {d!r}: use cpu, ort-cpu, cuda or cuda:N")
      for d in ("bogus", "ort", "ort-gpu", "cuda:x")),
    *(pytest.param(d, f"--device {d}: {_NO_CUDA}", marks=NO_GPU) for d in ("cuda", "cuda:0")),
])
def test_profile_bad_or_missing_device_is_one_line(capsys, tmp_path, device, message):
    code, out, err = run(capsys, "profile", "--device", device, "--no-refs", "--n", "1",
                         "--out", str(tmp_path))
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err, err
    assert message in err
    assert not any(tmp_path.iterdir())


def test_search_does_not_train_on_ort_cpu(capsys, tmp_path, monkeypatch):
    """ort-cpu is a latency device only: the search trains with PyTorch."""
    monkeypatch.chdir(tmp_path)
    code, _, err = run(capsys, "search", "--quiet", "--device", "ort-cpu")
    assert code == 2 and err.count("\n") == 1, err
    assert "--device 'ort-cpu': use cpu, cuda or cuda:N" in err
