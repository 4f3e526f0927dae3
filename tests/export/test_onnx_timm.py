"""ONNX at the deployment resolution with a dynamic batch (onnxruntime within 1e-4), the two
exporter gaps closed, and exported architectures through timm.create_model."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import nas
from nas.arch import head_inputs, load_arch
from nas.export import export, register_timm
from nas.export._onnx import _adaptive_avg_pool2d, _exportable
from nas.models import build_model
from nas.proxy import load_weights

pytestmark = pytest.mark.slow


def test_onnx_matches_pytorch_with_any_batch(run_dir, trained, tmp_path) -> None:
    import onnxruntime as ort

    n = trained[0]
    (res,) = export(run_dir, trial=n, fmt="onnx", weights=True, out=tmp_path)
    assert res.onnx_max_abs_diff is not None and res.onnx_max_abs_diff < 1e-4
    assert {"config", "card", "weights", "onnx"} == set(res.files)
    assert "max abs difference to PyTorch" in res.files["card"].read_text()
    model = load_weights(build_model(load_arch(res.files["config"])), res.files["weights"]).eval()
    sess = ort.InferenceSession(str(res.files["onnx"]), providers=["CPUExecutionProvider"])
    (inp,) = sess.get_inputs()
    assert inp.name == "image" and inp.shape[1:] == [3, 512, 512]
    assert not isinstance(inp.shape[0], int)  # dynamic batch
    x = torch.randn(3, 3, 512, 512)
    with torch.no_grad():
        ref = model(x).numpy()
    got = sess.run(None, {"image": x.numpy()})[0]
    assert np.abs(got - ref).max() < 1e-4


@pytest.mark.parametrize("hw,s", [((16, 16), 3), ((16, 20), 6), ((5, 7), 3), ((4, 4), 6),
                                  ((9, 9), 1)])
def test_pooling_replacement_equals_torch(hw, s) -> None:
    x = torch.randn(2, 4, *hw)
    ref = torch.nn.functional.adaptive_avg_pool2d(x, s)
    assert torch.allclose(_adaptive_avg_pool2d(x, s), ref, atol=1e-6)


def test_exporter_patches_are_undone() -> None:
    before = torch.nn.functional.adaptive_avg_pool2d
    with _exportable():
        assert torch.nn.functional.adaptive_avg_pool2d is not before
    assert torch.nn.functional.adaptive_avg_pool2d is before


@pytest.mark.parametrize("name", ["afformer_tiny", "hrvit_b1"])
def test_onnx_of_references_at_odd_sizes(name, tmp_path) -> None:
    """AFFormer's low-pass grids (3, 6) do not divide 1/32 of 96x160, and HRViT's windows pad:
    the two cases torch's exporter gets wrong on its own."""
    from nas.export._onnx import export_onnx

    d = load_arch(name).to_dict()
    d["num_classes"] = 4
    for stage in d["stages"]:  # one block per cell: the same operators, a smaller graph
        stage["modules"] = 1
        for br in stage["branches"]:
            br["depths"] = [min(1, br["depths"][0])]
    model = build_model(type(load_arch(name)).from_dict(d))
    diff = export_onnx(model, tmp_path / "m.onnx", (96, 160))
    assert diff < 1e-4 and (tmp_path / "m.onnx").stat().st_size > 1000


def test_timm_create_model(run_dir, trained, tmp_path) -> None:
    import timm

    n = trained[0]
    export(run_dir, trial=n, weights=True, out=tmp_path)
    export(run_dir, best=True, out=tmp_path, force=True)
    names = nas.register_timm(tmp_path)
    name = f"nas_fixture_trial{n}"
    assert name in names and name in timm.list_models("nas_*")
    x = torch.randn(1, 3, 64, 96)
    own = load_weights(build_model(load_arch(tmp_path / f"fixture_trial{n}.yaml")),
                       tmp_path / f"fixture_trial{n}.safetensors").eval()
    pre = timm.create_model(name, pretrained=True).eval()
    with torch.no_grad():
        assert torch.equal(pre(x), own(x))
    k = timm.create_model(name, num_classes=3, pretrained=True).eval()
    assert k(x).shape == (1, 3, 64, 96) and k.num_classes == 3
    mine, theirs = own.state_dict(), k.state_dict()
    assert all(torch.equal(v, mine[key]) for key, v in theirs.items()
               if not key.startswith("head.classifier."))
    assert theirs["head.classifier.weight"].shape[0] == 3
    arch = load_arch(tmp_path / f"fixture_trial{n}.yaml")
    feats = timm.create_model(name, features_only=True).eval()
    assert feats.feature_info.channels() == list(arch.feature_channels)
    assert feats.feature_info.reduction() == list(arch.feature_strides)
    assert all(feats.get_submodule(m) is not None for m in feats.feature_info.module_name())
    with torch.no_grad():
        assert [m.shape[1] for m in feats(x)] == list(arch.feature_channels)
    trained = timm.create_model(name, features_only=True, pretrained=True).eval()
    reads = list(head_inputs(arch))  # what the weights cover
    assert trained.feature_info.channels() == [arch.feature_channels[i] for i in reads]
    with torch.no_grad():
        maps = trained(x)
        assert all(torch.equal(a, b) for a, b in zip(maps, own.backbone(x), strict=True))
    last = timm.create_model(name, features_only=True, out_indices=(len(arch.stages) - 1,))
    assert len(last(x)) == 1 and last.feature_info.channels() == [arch.feature_channels[-1]]
    assert register_timm(tmp_path / f"fixture_trial{n}.yaml") == [name]  # again: no error


def test_register_timm_errors(tmp_path) -> None:
    from nas.errors import NasError

    with pytest.raises(NasError, match="does not exist"):
        register_timm(tmp_path / "nope.yaml")
    with pytest.raises(NasError, match="holds no exported architecture"):
        register_timm(tmp_path)
    (tmp_path / "a.yaml").write_text(load_arch("afformer_tiny").to_yaml())
    import timm

    (name,) = register_timm(tmp_path)
    assert name == "nas_afformer_tiny"
    with pytest.raises(RuntimeError, match="no weights exported"):
        timm.create_model(name, pretrained=True)


def test_failed_or_inexact_onnx_is_an_error_and_writes_nothing(monkeypatch, tmp_path) -> None:
    import contextlib

    import nas.export._onnx as onnx_mod
    from nas.errors import NasError

    d = load_arch("afformer_tiny").to_dict()
    d["num_classes"] = 4
    model = build_model(type(load_arch("afformer_tiny")).from_dict(d))
    out = tmp_path / "m.onnx"
    with monkeypatch.context() as m:  # torch's exporter alone cannot pool to 3x3 from 3x5
        m.setattr(onnx_mod, "_exportable", contextlib.nullcontext)
        with pytest.raises(NasError, match="ONNX export failed") as err:
            onnx_mod.export_onnx(model, out, (96, 160))
    assert "\n" not in str(err.value) and not out.exists()
    monkeypatch.setattr(onnx_mod, "ONNX_TOL", -1.0)  # no difference is small enough
    with pytest.raises(NasError, match="over the -1 tolerance; the file was not written"):
        onnx_mod.export_onnx(model, out, (64, 64))
    assert not out.exists()
