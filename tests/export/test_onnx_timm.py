"""ONNX at the deployment resolution with a dynamic batch (onnxruntime within 1e-4), and exported
architectures through timm.create_model. The exporter itself (its two patches, its errors) is
tested with the cost model, which owns it: tests/cost/test_onnx.py."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import nas
from nas.arch import head_inputs, load_arch
from nas.export import export, register_timm
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
