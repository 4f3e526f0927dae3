"""The ten published models are exact points: params and fvcore FLOPs equal figures.md."""

from __future__ import annotations

import pytest
import torch

from nas.arch import load_arch, reference_names
from nas.cost import count_flops, count_params
from nas.models import build_model

# Figures from ../shared/reference/figures.md (Tables 2 and 3), the targets our builds must hit.
BACKBONE_PARAMS = {
    "hrvit_b1": 7_758_008, "hrvit_b2": 20_310_944, "hrvit_b3": 25_507_960,
    "mpvit_tiny": 5_626_736, "mpvit_xsmall": 10_316_448, "mpvit_small": 22_603_400,
    "mpvit_base": 74_364_976, "afformer_tiny": 2_032_948, "afformer_small": 2_228_748,
    "afformer_base": 2_843_548,
}
SEGMENTOR_PARAMS = {  # 150 classes; AFFormer without the unused `align`
    "afformer_tiny": 2_127_306, "afformer_small": 2_323_106, "afformer_base": 2_937_906,
    "hrvit_b1": 8_183_118, "hrvit_b2": 20_809_782, "hrvit_b3": 28_724_494,
}
BACKBONE_FLOPS_512 = {
    "hrvit_b1": 10_745_806_848, "hrvit_b2": 25_087_721_472, "hrvit_b3": 28_727_050_240,
    "mpvit_tiny": 8_640_987_232, "mpvit_xsmall": 15_522_679_504, "mpvit_small": 25_074_136_128,
    "mpvit_base": 85_915_845_680, "afformer_tiny": 2_747_264_000,
    "afformer_small": 3_003_394_048, "afformer_base": 4_025_428_496,
}
SEGMENTOR_GFLOPS_512 = {  # published to 3 decimals
    "afformer_tiny": 3.294, "afformer_small": 3.550, "afformer_base": 4.572,
    "hrvit_b1": 16.154, "hrvit_b2": 30.635, "hrvit_b3": 71.163,
}


@pytest.mark.parametrize("name", reference_names())
def test_backbone_params_exact(name):
    model = build_model(load_arch(name))
    assert count_params(model.backbone) == BACKBONE_PARAMS[name]


@pytest.mark.parametrize("name", sorted(SEGMENTOR_PARAMS))
def test_segmentor_params_exact(name):
    assert count_params(build_model(load_arch(name))) == SEGMENTOR_PARAMS[name]


@pytest.mark.slow
@pytest.mark.parametrize("name", reference_names())
def test_fvcore_flops_at_512_equal_figures(name):
    model = build_model(load_arch(name)).eval()
    assert count_flops(model.backbone, (512, 512)) == BACKBONE_FLOPS_512[name]
    if name in SEGMENTOR_GFLOPS_512:
        assert round(count_flops(model, (512, 512)) / 1e9, 3) == SEGMENTOR_GFLOPS_512[name]


@pytest.mark.parametrize("name", ["hrvit_b1", "mpvit_tiny", "afformer_tiny"])
def test_feature_info_matches_features(name):
    arch = load_arch(name)
    model = build_model(arch).eval()
    x = torch.zeros(1, 3, 96, 128)
    with torch.no_grad():
        feats = model.backbone(x)
    expected = [arch.feature_channels[b] for b in model.backbone.outputs]
    assert [f["num_chs"] for f in model.backbone.feature_info] == expected
    for info, f in zip(model.backbone.feature_info, feats):
        assert f.shape[1] == info["num_chs"]
        assert f.shape[-2:] == (-(-96 // info["reduction"]), -(-128 // info["reduction"]))


@pytest.mark.parametrize("size", [(240, 240), (100, 75), (33, 47)])
def test_hrvit_runs_where_the_original_crashes(size):
    """The original HRViT needs H, W multiples of 32; ours resizes fusion outputs exactly."""
    model = build_model(load_arch("hrvit_b1")).eval()
    with torch.no_grad():
        y = model(torch.randn(1, 3, *size))
    assert y.shape == (1, 150, *size)
    assert torch.isfinite(y).all()


def test_cls_head_backbone_returns_only_what_it_reads():
    """AFFormer's CLS head reads the last branch; a full backbone returns all four (Table 2)."""
    from nas.models import Backbone

    arch = load_arch("afformer_tiny")
    assert build_model(arch).backbone.outputs == (3,)
    full = Backbone(arch, outputs=(0, 1, 2, 3)).eval()
    with torch.no_grad():
        feats = full(torch.zeros(1, 3, 512, 512))
    assert [tuple(f.shape[1:]) for f in feats] == [
        (64, 128, 128), (160, 64, 64), (216, 64, 64), (216, 64, 64)]
    assert count_params(full) == BACKBONE_PARAMS["afformer_tiny"]
