"""``feature_info`` names real modules: the submodule named for each feature map outputs it."""

from __future__ import annotations

import pytest
import torch

from nas.arch import load_arch
from nas.models import Backbone


@pytest.mark.parametrize("name", ["hrvit_b1", "afformer_tiny"])
def test_feature_info_modules_output_the_features(name):
    arch = load_arch(name)
    backbone = Backbone(arch, tuple(range(len(arch.stages)))).eval()
    seen = {}
    for info in backbone.feature_info:
        module = backbone.get_submodule(info["module"])  # raises if there is no such module
        module.register_forward_hook(
            lambda m, i, out, key=info["module"]: seen.__setitem__(key, out))
    with torch.no_grad():
        feats = backbone(torch.randn(1, 3, 64, 64))
    assert len(feats) == len(backbone.feature_info)
    for info, f in zip(backbone.feature_info, feats, strict=True):
        assert f.shape[1] == info["num_chs"] and seen[info["module"]] is f
